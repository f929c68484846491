"""`make bench`: the provider under load, beside baselines measured in the same run.

Starts the provider under gunicorn on a free port (SQLite, or PostgreSQL with BENCH_DB=postgres),
seeds parents and a teleservice (bench/seed.py), drives it with bench/loadgen.py, then measures
the baselines on the same machine in the same run: the ceiling (bench/stub.py, a bare WSGI stub
on the provider's database), a Flask "hello" under the same gunicorn settings, raw
bcrypt.checkpw at the same cost and process count, and with BENCH_NODE=1 node-oidc-provider
(bench/node/, installed with npm into a scratch folder). Prints one table and writes
bench/results.json. Settings (environment): BENCH_SECONDS per phase (10), BENCH_WARMUP (1),
BENCH_CONNECTIONS (16), BENCH_WORKERS (2), BENCH_ACCOUNTS (1000; "1000,1000000" runs the provider
at each size and compares), BENCH_DATABASE_URL (PostgreSQL database, dropped and created again;
default idp_bench on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import procs
import report
from loadgen import Phase, Target, get_rate, measure

HERE = Path(__file__).resolve().parent
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "1"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
# The parents seeded; several sizes ("1000,1000000") also compare the figures between them.
SIZES = [int(size) for size in os.environ.get("BENCH_ACCOUNTS", "1000").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
ROUNDS = 12
POSTGRES = os.environ.get("BENCH_DB", "sqlite") == "postgres"
NODE = os.environ.get("BENCH_NODE") == "1"
PG_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/idp_bench"
)


def _idp_environment(scratch: Path, port: int, accounts: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDP_")}
    database = PG_URL if POSTGRES else f"sqlite:///{scratch / f'bench-{accounts}.sqlite3'}"
    env.update(
        IDP_DATABASE_URL=database,
        IDP_ISSUER=f"http://127.0.0.1:{port}",
        IDP_KEYS_DIR=str(scratch / "keys"),
        IDP_SECRET_KEY="bench secret key, not for production",
        IDP_BCRYPT_ROUNDS=str(ROUNDS),
    )
    return env


def _phases(target: Target, names: list[str], pids=None) -> dict[str, Phase]:
    results = asyncio.run(measure(target, CONNECTIONS, SECONDS, WARMUP, names, pids))
    for phase in results.values():
        note = f", first error: {phase.first_error}" if phase.errors else ""
        cpu = f", server CPU {phase.cpu_ms_per_op:.1f} ms/op" if phase.cpu_ms_per_op else ""
        print(f"  {phase.name}: {phase.rate:.1f}/s, {phase.errors} errors{cpu}{note}", flush=True)
    return results


def _get_rate(url: str) -> float:
    rate = procs.wrk(url, CONNECTIONS, SECONDS)
    return rate if rate is not None else asyncio.run(get_rate(url, CONNECTIONS, SECONDS))


def bench_provider(scratch: Path, accounts: int) -> dict:
    port = procs.free_port()
    env = _idp_environment(scratch, port, accounts)
    if POSTGRES:
        procs.reset_postgres(PG_URL)
    procs.run([str(Path(sys.executable).parent / "idp"), "init"], env)
    started = time.monotonic()
    seeded = procs.run_json([sys.executable, str(HERE / "seed.py"), f"--accounts={accounts}"], env)
    print(f"  {accounts:,} parents seeded in {time.monotonic() - started:.0f} s", flush=True)
    server = procs.start(
        [
            sys.executable,
            str(HERE / "servers.py"),
            "provider",
            f"--port={port}",
            f"--workers={WORKERS}",
        ],
        env,
    )
    issuer = env["IDP_ISSUER"]
    try:
        procs.wait_ready(issuer + "/.well-known/openid-configuration")
        target = Target(
            issuer,
            seeded["client_id"],
            seeded["client_secret"],
            seeded["redirect_uri"],
            seeded["scope"],
            form_login=True,
            credentials=[(i, seeded["password"]) for i in seeded["identifiers"]],
        )

        def pids() -> list[int]:  # gunicorn's processes and PostgreSQL's for this database
            return procs.tree(server.pid) + procs.postgres_backends(PG_URL, POSTGRES)

        figures = _phases(target, ["sso", "refresh", "userinfo", "login"], pids)
        figures["discovery"] = _get_rate(issuer + "/.well-known/openid-configuration")
        figures["jwks"] = _get_rate(issuer + "/jwks.json")
        figures["rss_mb"] = max(procs.rss_mb(pid) for pid in procs.tree(server.pid)[1:])
    finally:
        procs.stop(server)
    if accounts == SIZES[0]:
        print("  the stub provider on the same database (bench/stub.py):", flush=True)
        figures["stub"] = bench_stub(env, target)
    return figures


def bench_stub(env: dict[str, str], target: Target) -> dict:
    """The ceiling: a bare WSGI stub under the same gunicorn settings, on the same port."""
    port = int(env["IDP_ISSUER"].rsplit(":", 1)[1])
    command = [sys.executable, str(HERE / "servers.py"), "stub", f"--port={port}"]
    server = procs.start([*command, f"--workers={WORKERS}"], env)
    try:
        procs.wait_ready(env["IDP_ISSUER"] + "/.well-known/openid-configuration")
        return _phases(target, ["sso", "refresh", "userinfo"], lambda: procs.tree(server.pid))
    finally:
        procs.stop(server)


def bench_hello() -> float:
    port = procs.free_port()
    server = procs.start(
        [
            sys.executable,
            str(HERE / "servers.py"),
            "hello",
            f"--port={port}",
            f"--workers={WORKERS}",
        ],
        dict(os.environ),
    )
    try:
        procs.wait_ready(f"http://127.0.0.1:{port}/")
        return _get_rate(f"http://127.0.0.1:{port}/")
    finally:
        procs.stop(server)


def bench_node(scratch: Path) -> dict:
    folder = procs.install_node_baseline(HERE / "node", scratch / "node")
    port = procs.free_port()
    secret = "bench-secret-with-enough-entropy-0123"
    env = {
        **os.environ,
        "PORT": str(port),
        "NODE_ENV": "production",
        "CLIENT_ID": "bench",
        "CLIENT_SECRET": secret,
        "REDIRECT_URI": "http://127.0.0.1:8080/cb",
    }
    server = procs.start(["node", "server.mjs"], env, cwd=folder)
    issuer = f"http://127.0.0.1:{port}"
    try:
        procs.wait_ready(issuer + "/.well-known/openid-configuration")
        target = Target(
            issuer, "bench", secret, env["REDIRECT_URI"], "openid profile", form_login=False
        )
        return _phases(target, ["sso", "refresh", "userinfo"], lambda: [server.pid])
    finally:
        procs.stop(server)


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="idp-bench-") as name:
        scratch = Path(name)
        print(
            f"== provider ({'PostgreSQL' if POSTGRES else 'SQLite'}, {WORKERS} workers, "
            f"{CONNECTIONS} connections, {SECONDS:g} s a phase)",
            flush=True,
        )
        by_size = {}
        for accounts in SIZES:
            print(f"-- {accounts:,} parents", flush=True)
            by_size[accounts] = bench_provider(scratch, accounts)
        ours = by_size[SIZES[0]]
        print("== Flask hello under the same gunicorn settings", flush=True)
        hello = bench_hello()
        print(f"  {hello:.0f} req/s", flush=True)
        print(f"== raw bcrypt.checkpw, cost {ROUNDS}, {WORKERS} processes", flush=True)
        bcrypt_rate = procs.bcrypt_rate(ROUNDS, WORKERS, SECONDS)
        print(f"  {bcrypt_rate:.2f} checks/s", flush=True)
        node = None
        if NODE:
            print("== node-oidc-provider, in memory", flush=True)
            node = bench_node(scratch)
    rows = report.rows(
        ours, hello, bcrypt_rate, node, "PostgreSQL" if POSTGRES else "SQLite", CONNECTIONS
    )
    rows += report.growth_rows(by_size)
    document = report.document(rows)
    report.write(document, HERE / "results.json")
    print(report.table(document))
    print(f"(the whole run took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
