"""The `idp` command line as an operator's script runs it, for tests/cli/.

`Cli` is one provider installation: its own SQLite file and keys folder under a temporary
directory, and the IDP_* environment that points at them (every other IDP_* variable of the test
process removed, IDP_TEST_* kept). It runs the real console script in a subprocess (`cli(...)`),
or, for the many cheap variations, `idp.cli.main` in-process through click's CliRunner
(`cli.invoke(...)`), and opens the same database in-process (`cli.app()`) to check what a command
really wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import func, select

from idp import create_app
from idp.cli import main
from idp.extensions import db

IDP = Path(sys.executable).parent / "idp"
SECRET_KEY = "cli test secret key, not for production"


def _foreign_idp_variables() -> list[str]:
    """IDP_* variables of the test process that must not leak into the commands."""
    return [
        name for name in os.environ if name.startswith("IDP_") and not name.startswith("IDP_TEST_")
    ]


class Cli:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.database = root / "idp.sqlite3"
        self.keys_dir = root / "keys"
        self.settings = {
            "DATABASE_URL": f"sqlite:///{self.database}",
            "KEYS_DIR": str(self.keys_dir),
            "SECRET_KEY": SECRET_KEY,
            "BCRYPT_ROUNDS": 4,
        }

    @property
    def idp_variables(self) -> dict[str, str]:
        return {f"IDP_{name}": str(value) for name, value in self.settings.items()}

    @property
    def env(self) -> dict[str, str]:
        """The whole environment of a subprocess: the test process's, with our IDP_* only."""
        foreign = set(_foreign_idp_variables())
        inherited = {name: value for name, value in os.environ.items() if name not in foreign}
        return {**inherited, **self.idp_variables}

    # Running the command line.

    def __call__(self, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
        """Run the real console script; `variables` are extra environment variables."""
        return subprocess.run(
            [str(IDP), *args],
            env={**self.env, **variables},
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def json(self, *args: str) -> Any:
        """Run `idp ARGS --json`, expect success, return the one JSON document it printed."""
        return self.loads(self(*args, "--json"))

    @staticmethod
    def loads(done: subprocess.CompletedProcess[str]) -> Any:
        """A successful run's stdout, which must be exactly one JSON document."""
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        return json.loads(done.stdout)

    def invoke(self, *args: str, **variables: str) -> Result:
        """Run `idp.cli.main` in-process; stdout and stderr stay apart (click 8.2+)."""
        env: dict[str, str | None] = {name: None for name in _foreign_idp_variables()}
        env.update(self.idp_variables)
        env.update(variables)
        return CliRunner(env=env, catch_exceptions=False).invoke(main, list(args))

    def invoke_json(self, *args: str) -> Any:
        result = self.invoke(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    # Looking at what the commands did.

    @contextmanager
    def app(self) -> Iterator[Flask]:
        """The provider built on the same settings, inside an application context."""
        with patch.dict(os.environ):
            for name in _foreign_idp_variables():
                del os.environ[name]
            app = create_app(dict(self.settings))
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()

    def count(self, model: type) -> int:
        with self.app():
            return db.session.scalar(select(func.count()).select_from(model))

    def key_files(self) -> list[Path]:
        return sorted(self.keys_dir.glob("*.pem")) if self.keys_dir.is_dir() else []

    def copy_to(self, root: Path) -> Cli:
        """A second installation in the same state (a copy of the database and keys)."""
        copy = Cli(root)
        shutil.copy2(self.database, copy.database)
        shutil.copytree(self.keys_dir, copy.keys_dir)
        return copy


def initialised_template(root: Path) -> Cli:
    """An installation after `idp init`, to be copied by each test (cheaper than a new init)."""
    template = Cli(root)
    result = template.invoke("init")
    assert result.exit_code == 0, result.stderr
    return template


def assert_one_line_failure(outcome: subprocess.CompletedProcess[str] | Result) -> str:
    """Exit non-zero, nothing on stdout, one `idp: …` line on stderr, no traceback."""
    if isinstance(outcome, subprocess.CompletedProcess):
        assert outcome.returncode != 0
    else:
        assert outcome.exit_code != 0
    assert outcome.stdout == ""
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("idp: "), outcome.stderr
    return lines[0]
