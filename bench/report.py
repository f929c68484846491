"""The figures of one run, each as a ratio to a baseline measured in the same run (issue 14)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from loadgen import percentile

# Targets with node-oidc-provider as the baseline, and with Flask "hello" when node is not run.
NODE_TARGETS = {"sso": 0.5, "refresh": 0.5, "userinfo": 0.4}
HELLO_TARGETS = {"sso": 0.08, "refresh": 0.2, "userinfo": 0.3}
LABELS = {"sso": "SSO round trips/s", "refresh": "refresh grants/s", "userinfo": "userinfo/s"}


def _row(figure, value, unit, baseline, target, at_most=False) -> dict:
    ratio = value / baseline if baseline else None
    compared = value if baseline is None else ratio
    met = (
        None
        if target is None or compared is None
        else (compared <= target if at_most else compared >= target)
    )
    return {
        "figure": figure,
        "value": round(value, 2),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 2),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target,
        "met": met,
    }


def rows(
    ours: dict, hello: float, bcrypt_rate: float, node: dict | None, database: str, connections: int
) -> list[dict]:
    result = []
    for name, label in LABELS.items():
        baseline = node[name].rate if node else hello
        target = (NODE_TARGETS if node else HELLO_TARGETS)[name]
        against = "node-oidc-provider" if node else "Flask hello"
        figure = f"{label}, {connections} connections, {database} (vs {against})"
        result.append(_row(figure, ours[name].rate, "1/s", baseline, target))
    stub = ours.get("stub")
    for name, label in LABELS.items() if stub else ():
        # The ceiling (bench/stub.py): a target above the stub's own ratio cannot be met here.
        against = "node-oidc-provider" if node else "Flask hello"
        figure = f"ceiling: {label} of a bare WSGI stub under the same gunicorn (vs {against})"
        baseline = node[name].rate if node else hello
        result.append(_row(figure, stub[name].rate, "1/s", baseline, None))
    for name, label in (("discovery", "discovery req/s"), ("jwks", "JWKS req/s")):
        result.append(_row(f"{label} (vs Flask hello)", ours[name], "1/s", hello, 0.9))
    result.append(
        _row(
            "password logins/s, cost 12 (vs raw bcrypt.checkpw)",
            ours["login"].rate,
            "1/s",
            bcrypt_rate,
            0.9,
        )
    )
    tokens = ours["sso"].token_latencies
    median, p99 = percentile(tokens, 50) * 1000, percentile(tokens, 99) * 1000
    result.append(
        _row(
            f"p99 of the token endpoint, {connections} connections (vs its median)",
            p99,
            "ms",
            median,
            5.0,
            at_most=True,
        )
    )
    result.append(
        _row(
            "resident memory per worker after the run",
            ours["rss_mb"],
            "MB",
            None,
            120.0,
            at_most=True,
        )
    )
    node_cpu = node["sso"].cpu_ms_per_op if node else None
    label = "server CPU per SSO round trip" + (" (vs node-oidc-provider)" if node else "")
    result.append(_row(label, ours["sso"].cpu_ms_per_op or 0.0, "ms", node_cpu, None))
    return result


def growth_rows(by_size: dict[int, dict]) -> list[dict]:
    """The hot figures at the largest population as a ratio to the smallest (within 20 %)."""
    if len(by_size) < 2:
        return []
    small, large = min(by_size), max(by_size)
    return [
        _row(
            f"{label} with {large:,} parents (vs {small:,})",
            by_size[large][name].rate,
            "1/s",
            by_size[small][name].rate,
            0.8,
        )
        for name, label in LABELS.items()
    ]


def _machine() -> str:
    with open("/proc/cpuinfo") as file:
        model = next(
            (line.split(":", 1)[1].strip() for line in file if line.startswith("model name")),
            platform.machine(),
        )
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}"


def document(result_rows: list[dict]) -> dict:
    """The schema of issue 14: machine, date, and one row per figure."""
    return {
        "machine": _machine(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": result_rows,
    }


def write(doc: dict, path: Path) -> None:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _show(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def table(doc: dict) -> str:
    lines = [
        f"Machine: {doc['machine']}; {doc['date']}",
        "",
        "| figure | value | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in doc["results"]:
        value = f"{_show(row['value'])} {row['unit']}"
        baseline = f"{_show(row['baseline'])} {row['unit']}" if row["baseline"] else "—"
        lines.append(
            f"| {row['figure']} | {value} | {baseline} | {_show(row['ratio'], 3)} "
            f"| {_show(row['target'])} | {_show(row['met'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # the table of the latest run, for the README
    print(table(json.loads((Path(__file__).parent / "results.json").read_text())))
