"""Each CLI test gets its own installation: a copy of one made by `idp init` once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.harness import Cli, initialised_template


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return initialised_template(tmp_path_factory.mktemp("cli-template"))


@pytest.fixture
def cli(template: Cli, tmp_path: Path) -> Cli:
    """An installation right after `idp init`, its own copy."""
    return template.copy_to(tmp_path)


@pytest.fixture
def fresh(tmp_path: Path) -> Cli:
    """An installation before anything: no database file, no keys folder."""
    return Cli(tmp_path)
