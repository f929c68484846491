"""Output files that hold provisional passwords (letters, credentials), and progress lines.

Such a file is private (mode 0600) and appears whole, and only once the database has committed:
it is written beside its destination under a temporary name while the transaction is open, then
renamed into place; if anything fails first, the temporary file is removed and nothing is left.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from idp.provisioning.accounts import ProvisioningError


def writable(path: Path | None) -> Path | None:
    """Check, before any work, that the file can be written where asked."""
    if path is None:
        return None
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ProvisioningError(f"cannot write {path}: no folder {folder}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ProvisioningError(f"cannot write {path}: permission denied")
    return path


class Staging:
    """Files written now, put in place by publish() or removed by discard()."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []

    def write(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.pending.append((temporary, path))
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)

    def publish(self) -> None:
        for temporary, path in self.pending:
            os.replace(temporary, path)
        self.pending.clear()

    def discard(self) -> None:
        for temporary, _ in self.pending:
            temporary.unlink(missing_ok=True)
        self.pending.clear()


@contextmanager
def staged() -> Iterator[Staging]:
    """Files staged inside the block are published if it ends well, removed if it raises."""
    staging = Staging()
    try:
        yield staging
    except BaseException:
        staging.discard()
        raise
    staging.publish()


class StderrProgress:
    """Progress of the long steps on stderr (never stdout, which may carry the JSON).

    On a terminal, one line that updates itself; otherwise, for 1,000 items and more, a line
    every tenth of the way (every 1,000 items at least), which a log file can keep.
    """

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.next_line: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.live:
            click.echo(f"\r{phase}: {done}/{total}", err=True, nl=done == total)
        elif total >= 1000 and (done >= self.next_line.get(phase, 0) or done == total):
            click.echo(f"{phase}: {done}/{total}", err=True)
            self.next_line[phase] = done + max(1000, total // 10)
