"""Every row of the performance table, measured one benchmark after another.

Runs ``bench_logging.py`` (SQLite), ``bench_rollup.py``, ``bench_cli.py`` and, when a
server is given with ``--postgres``, ``bench_logging.py`` on PostgreSQL, each in a
process of its own and never two at once, then prints the table of
docs/performance.md with the date and the machine's load.  Without ``--postgres`` the
PostgreSQL row says it was skipped and why.

    python benchmarks/run_all.py
    python benchmarks/run_all.py --rollup-store "sqlite:///rollup-{n}.db" \\
        --postgres "postgresql://me@localhost/bench?schema=bench"

The last line printed is one JSON object: every benchmark's own JSON, by name.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _measure

HERE = Path(__file__).resolve().parent
NO_SERVER = "skipped: no PostgreSQL server given (--postgres postgresql://...)"


def run(script: str, *arguments: str) -> dict[str, Any]:
    """One benchmark in a process of its own: its last JSON line."""
    done = subprocess.run(
        [sys.executable, str(HERE / script), *arguments],
        capture_output=True,
        text=True,
        check=False,
        env=_measure.process_environment(),
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed:\n{done.stderr[-3000:]}")
    print(done.stdout.strip().splitlines()[0], flush=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _ratio(row: dict[str, Any]) -> str:
    ratio = row["ratio"]
    text = f"{ratio['median']}x ({ratio['min']}-{ratio['max']})"
    if row.get("share_of_floor"):
        text += f", {1 / ratio['median']:.0%} of the floor's speed"
    return text


def _cpu(row: dict[str, Any]) -> str:
    """A command's CPU-time ratio, which a busy machine disturbs less than the wall clock."""
    cpu = row["cpu_ratio"]
    return f"; by CPU time {cpu['median']}x ({cpu['min']}-{cpu['max']})"


def _goal(row: dict[str, Any]) -> str:
    if row.get("goal_ratio") is None:
        return "no goal yet"
    verdict = "met" if row["meets_goal"] else "not met"
    if row.get("share_of_floor"):
        return f"at least {1 / row['goal_ratio']:.0%} of the floor's speed: {verdict}"
    return f"at most {row['goal_ratio']}x: {verdict}"


def table(figures: dict[str, Any]) -> str:
    """The rows of docs/performance.md's table, in Markdown."""
    logging, rollup, cli = figures["logging"], figures["rollup"], figures["cli"]
    lines = [
        "| measure | floor | measured: ratio to the floor, median (min-max) | goal |",
        "|---|---|---|---|",
    ]
    for name, label, floor in (
        ("per_call", "per-call save", "raw sqlite3, one transaction per object"),
        ("track_measure", "`track()` + `run.measure()` per unit", "raw sqlite3"),
        ("bulk", "bulk `save_all`", "raw `executemany`"),
    ):
        row = logging[name]
        lines.append(f"| {label} | {floor} | {_ratio(row)} | {_goal(row)} |")
    for n, row in rollup["sizes"].items():
        seconds, peak = row["seconds"], row["peak_rss_mib"]
        extra = f"; linearity {row['linearity']['median']}" if "linearity" in row else ""
        lines.append(
            f"| roll-up, {int(n):,} experiments, fresh process | - | {seconds['median']} s "
            f"({seconds['min']}-{seconds['max']}), peak {peak['median']} MiB{extra} | "
            f"{', '.join(f'{k} < {v}' for k, v in row['goals'].items()) or '-'} |"
        )
    lines.append(
        f'| `experiments --version` | `python -c "import experiments"` | '
        f"{_ratio(cli['version'])}{_cpu(cli['version'])} | {_goal(cli['version'])} |"
    )
    lines.append(
        f"| `experiments list experiments`, {cli['n']:,} experiments | "
        f'`python -c "import experiments"` | {_ratio(cli["list"])}, '
        f"{cli['list']['seconds']['median']} s{_cpu(cli['list'])} | {_goal(cli['list'])} |"
    )
    postgres = figures["postgresql"]
    if "skipped" in postgres:
        lines.append(f"| PostgreSQL per call and bulk | raw psycopg | {postgres['skipped']} | - |")
    else:
        for name in ("per_call", "bulk"):
            row = postgres[name]
            lines.append(
                f"| PostgreSQL {name.replace('_', ' ')} | raw psycopg | {_ratio(row)} | "
                f"{_goal(row)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = _measure.parser(__doc__, store=False)
    parser.add_argument("--rollup-store", help="bench_rollup.py's --store, with {n}")
    parser.add_argument("--postgres", help="a PostgreSQL store URL for its row")
    options = parser.parse_args()
    common = ["--quick"] if options.quick else []
    if options.rounds:
        common += ["--rounds", str(options.rounds)]
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_before = _measure.load()
    figures: dict[str, Any] = {
        "logging": run("bench_logging.py", *common),
        "rollup": run(
            "bench_rollup.py",
            *common,
            *(["--store", options.rollup_store] if options.rollup_store else []),
        ),
        "cli": run("bench_cli.py", *common),
    }
    if options.postgres:
        figures["postgresql"] = run("bench_logging.py", *common, "--store", options.postgres)
    else:
        print(f"PostgreSQL: {NO_SERVER}")
        figures["postgresql"] = {"skipped": NO_SERVER}
    figures = {
        "benchmark": "all",
        "started": started,
        "load_before": load_before,
        "load_after": _measure.load(),
        **figures,
    }
    loop = figures["rollup"].get("python_loop", {})
    speed = (
        f"; a loop of {loop['additions']:,} additions took {loop['seconds_before']} s and "
        f"{loop['seconds_after']} s around the roll-up"
        if loop
        else ""
    )
    print(
        f"\nMeasured {started}, load {load_before} before and {figures['load_after']} after"
        f"{speed}:\n"
    )
    _measure.report(figures, table(figures))


if __name__ == "__main__":
    main()
