"""Processes for the benchmark: start and stop servers, wait for them, measure their CPU and
memory, run wrk, install the node baseline, and the raw bcrypt baseline."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import bcrypt
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def run_json(command: list[str], env: dict[str, str]) -> dict:
    return json.loads(run(command, env))


def start(command: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen:
    """A server in its own process group (stopped with its workers), its output discarded."""
    return subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our URL)
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"no answer from {url}") from None
        time.sleep(0.2)


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()


def tree(pid: int) -> list[int]:
    """The process and its children (gunicorn's master and workers)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:
                    children.append(int(entry))
            except OSError:
                continue
    return [pid, *children]


def postgres_backends(url: str, enabled: bool) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (its connections)."""
    if not enabled:
        return []
    engine = create_engine(url)
    with engine.connect() as connection:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        pids = [row[0] for row in connection.execute(text(query))]
    engine.dispose()
    return pids


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as file:
        for line in file:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(url: str, connections: int, seconds: float) -> float | None:
    """Requests per second measured by wrk, or None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", url],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    return float(match.group(1)) if match else None


def reset_postgres(url: str) -> None:
    """Create the benchmark's database if needed, and empty it (its schema dropped)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def install_node_baseline(source: Path, folder: Path) -> Path:
    """Copy bench/node to a scratch folder and install its packages there with npm."""
    if shutil.which("npm") is None:
        raise SystemExit("BENCH_NODE=1 needs node and npm (Debian: apt-get install nodejs npm)")
    folder.mkdir(parents=True)
    for name in ("package.json", "server.mjs"):
        shutil.copy(source / name, folder / name)
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"npm install failed: {done.stderr.strip()[-400:]}")
    return folder


def _checks(rounds: int, seconds: float, queue) -> None:
    hashed = bcrypt.hashpw(b"a password of the usual length", bcrypt.gensalt(rounds))
    count, started = 0, time.perf_counter()
    while time.perf_counter() < started + seconds:
        bcrypt.checkpw(b"a password of the usual length", hashed)
        count += 1
    queue.put(count / (time.perf_counter() - started))


def bcrypt_rate(rounds: int, processes: int, seconds: float) -> float:
    """bcrypt.checkpw per second at this cost, with this many processes checking at once."""
    queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_checks, args=(rounds, seconds, queue))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = sum(queue.get() for _ in workers)
    for worker in workers:
        worker.join()
    return total
