"""How long `experiments list` takes as a whole process on a store of N experiments.

A person at a terminal and a cron job both pay for the interpreter, the imports,
opening the store and printing.  This fills a store with N experiments (once), then
runs `experiments list experiments` (text, and --json) several times and reports the
median and the fastest run of each.

    python benchmarks/bench_cli.py --store sqlite:///cli.db --n 1000

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import experiments
from experiments import Experiment, Objective, Plugins
from experiments.stores import StoreURL


def fill(url: str, n: int) -> None:
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        if store.count(Experiment) >= n:
            return
        objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
        store.save_all(
            Experiment(
                title=f"Experiment {k}", objectives=[objective], time_box="P4W", owner="Culture"
            )
            for k in range(n - store.count(Experiment))
        )


def timed(url: str, *args: str, repeat: int) -> dict[str, Any]:
    env = {**os.environ, "EXPERIMENTS_STORE": url, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    # An installed package has its bytecode compiled; a source checkout gets it on the
    # first (uncounted) run, unless bytecode writing is off.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    seconds = []
    lines = 0
    for run in range(repeat + 1):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "experiments", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if run:
            seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"experiments {' '.join(args)} failed:\n{done.stderr}")
        lines = len(done.stdout.splitlines())
    return {
        "median_seconds": statistics.median(seconds),
        "best_seconds": min(seconds),
        "lines": lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="store URL")
    parser.add_argument("--n", type=int, default=1000, help="experiments (default 1000)")
    parser.add_argument("--repeat", type=int, default=7, help="runs of each command")
    args = parser.parse_args()
    fill(args.store, args.n)
    text = timed(args.store, "list", "experiments", repeat=args.repeat)
    as_json = timed(args.store, "--json", "list", "experiments", repeat=args.repeat)
    baseline = timed(args.store, "--version", repeat=args.repeat)
    figures = {
        "n": args.n,
        "store": StoreURL.parse(args.store).redacted,
        "list_median_seconds": round(text["median_seconds"], 3),
        "list_best_seconds": round(text["best_seconds"], 3),
        "list_json_median_seconds": round(as_json["median_seconds"], 3),
        "version_median_seconds": round(baseline["median_seconds"], 3),
        "lines": text["lines"],
        "runs": args.repeat,
    }
    print(
        f"`experiments list experiments` on {args.n}: {figures['list_median_seconds']}s median "
        f"(--json {figures['list_json_median_seconds']}s; startup alone "
        f"{figures['version_median_seconds']}s)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
