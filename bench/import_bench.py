"""`make bench`: import synthetic school exports into a fresh SQLite database, with letters.

Prints, for each size, the wall time of the real command (`idp families import FILE --letters
OUT.pdf --credentials OUT.csv`, a new process, as an operator runs it), the families per second,
and that time as a ratio to two baselines measured in the same run on the same machine: reading
and checking the CSV alone, and bcrypt-hashing the same number of provisional passwords on one
core (what a plain loop would spend on hashing alone; measured on a sample, scaled).

The exports are generated with a fixed seed: the same families every run. 500 families always;
100,000 too with BENCH_LARGE=1 (several minutes). The issue's targets: 500 families with letters
in under 30 s, 100,000 in under 15 minutes, on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from names import FAMILY_NAMES, GIVEN_NAMES

from idp.passwords import hash_password, provisional_password
from idp.provisioning.export import COLUMNS, read_export

SEED = 20260901
TARGETS = {500: 30.0, 100_000: 15 * 60.0}
CLASSES = {2020: "CP", 2019: "CE1", 2018: "CE2", 2017: "CM1", 2016: "CM2", 2015: "CM2"}


def _birthdate(rng: random.Random) -> tuple[int, str]:
    year = rng.randint(2015, 2020)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    if year == 2016 and rng.random() < 0.01:
        month, day = 2, 29
    iso = rng.random() < 0.5
    return year, (f"{year}-{month:02d}-{day:02d}" if iso else f"{day:02d}/{month:02d}/{year}")


def _family_name(rng: random.Random) -> str:
    name = rng.choice(FAMILY_NAMES)
    return f"{name}-{rng.choice(FAMILY_NAMES)}" if rng.random() < 0.15 else name


def export_rows(families: int, seed: int = SEED) -> list[list[str]]:
    """One row per parent-child link: 1 or 2 parents, 1 to 3 children, ~250 families a school."""
    rng = random.Random(seed)
    rows = []
    for number in range(families):
        school = number // 250
        uai = f"{750000 + school:07d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[school % 23]}"
        school_name = f"École élémentaire n° {school + 1}"
        family = _family_name(rng)
        parents = [(f"P{number:06d}A", family, rng.choice(GIVEN_NAMES))]
        if rng.random() < 0.6:
            other = family if rng.random() < 0.6 else _family_name(rng)
            parents.append((f"P{number:06d}B", other, rng.choice(GIVEN_NAMES)))
        for child in range(rng.choices((1, 2, 3), (40, 40, 20))[0]):
            year, born = _birthdate(rng)
            pupil = (f"E{number:06d}{child}", family, rng.choice(GIVEN_NAMES), born)
            for parent in parents:
                rows.append([*parent, *pupil, uai, school_name, CLASSES[year]])
    return rows


def write_export(path: Path, families: int) -> None:
    """As real exports come: UTF-8 with a BOM, semicolons, CRLF."""
    lines = [";".join(COLUMNS)] + [";".join(row) for row in export_rows(families)]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))


def _hash_baseline(count: int, rounds: int, sample: int = 300) -> float:
    """Seconds to hash `count` passwords one after another on one core (from a sample)."""
    passwords = [provisional_password() for _ in range(min(sample, count))]
    started = time.perf_counter()
    for password in passwords:
        hash_password(password, rounds)
    return (time.perf_counter() - started) / len(passwords) * count


def _idp(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script in `folder`'s installation; its progress shows on stderr."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IDP_")},
        "IDP_DATABASE_URL": f"sqlite:///{folder / 'idp.sqlite3'}",
        "IDP_KEYS_DIR": str(folder / "keys"),
        "IDP_SECRET_KEY": "bench secret key, not for production",
    }
    idp = Path(sys.executable).parent / "idp"
    return subprocess.run(  # noqa: S603 (our own console script)
        [str(idp), *args],
        cwd=folder,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )


def run(families: int, rounds: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="idp-bench-") as name:
        folder = Path(name)
        export = folder / f"export-{families}.csv"
        write_export(export, families)
        started = time.perf_counter()
        checked = read_export(export.read_bytes(), export.name)
        parse_seconds = time.perf_counter() - started
        accounts = len(checked.parents)
        _idp(folder, "init")
        started = time.perf_counter()
        _idp(
            folder,
            "families",
            "import",
            str(export),
            "--letters",
            "letters.pdf",
            "--credentials",
            "credentials.csv",
        )
        seconds = time.perf_counter() - started
        letters_mb = (folder / "letters.pdf").stat().st_size / 1e6
        hash_seconds = _hash_baseline(accounts, rounds)
    target = TARGETS.get(families)
    verdict = "" if target is None else (" OK" if seconds < target else " TOO SLOW")
    print(
        f"{families:>7} families ({checked.rows} rows, {accounts} parent accounts, "
        f"{letters_mb:.1f} MB of letters)\n"
        f"        import with letters: {seconds:8.1f} s   {families / seconds:7.0f} families/s"
        f"{f'   target < {target:.0f} s{verdict}' if target else ''}\n"
        f"        baseline, reading the CSV: {parse_seconds:6.1f} s   (import = "
        f"{seconds / parse_seconds:.0f} x)\n"
        f"        baseline, bcrypt cost {rounds} on one core, {accounts} passwords: "
        f"{hash_seconds:6.1f} s   (import = {seconds / hash_seconds:.2f} x)",
        flush=True,
    )
    return not verdict.endswith("SLOW")


def _load() -> str:
    """Other work on the machine slows the run down: say how much there was."""
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="numbers of families")
    arguments = parser.parse_args()
    sizes = arguments.sizes or [500] + ([100_000] if os.environ.get("BENCH_LARGE") else [])
    rounds = int(os.environ.get("IDP_PROVISIONAL_BCRYPT_ROUNDS", "6"))
    print(f"{os.cpu_count()} CPUs, {_load()}, bcrypt cost {rounds}, seed {SEED}", flush=True)
    results = [run(families, rounds) for families in sizes]
    print(f"at the end, {_load()}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
