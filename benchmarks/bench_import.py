"""How much ``import experiments`` costs next to importing its core dependencies.

Each measurement is a whole fresh process, ``python -c "import experiments"`` against
``python -c "import attrs, cattrs, pendulum, pluggy"``, so interpreter start-up is in
both and cancels out of the comparison as far as it can.  The two are run in turns
(alternating which goes first) so that a busy machine slows both alike; one warm-up
run of each fills the bytecode caches first.  The target is a ratio of at most 1.5.

Usage::

    python benchmarks/bench_import.py [--runs 15] [--python /path/to/python]

The last line printed is one JSON object with the medians in milliseconds, the ratio
and the number of runs, for scripts to read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

LIBRARY = "import experiments"
DEPENDENCIES = "import attrs, cattrs, pendulum, pluggy"
TARGET = 1.5


def run_once(python: str, code: str) -> float:
    """Milliseconds one fresh process takes to run ``code`` (which must succeed)."""
    # Bytecode as an installed package has it: written by the warm-up run if need be.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=env)
    return (time.perf_counter() - start) * 1000


def measure(python: str, runs: int) -> tuple[list[float], list[float]]:
    """``runs`` timings of the library import and of the dependencies' import, in turns."""
    run_once(python, LIBRARY)
    run_once(python, DEPENDENCIES)
    library: list[float] = []
    dependencies: list[float] = []
    for index in range(runs):
        if index % 2 == 0:
            library.append(run_once(python, LIBRARY))
            dependencies.append(run_once(python, DEPENDENCIES))
        else:
            dependencies.append(run_once(python, DEPENDENCIES))
            library.append(run_once(python, LIBRARY))
    return library, dependencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each (default 15)")
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to measure (default: this one)"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    library, dependencies = measure(args.python, args.runs)
    library_ms = statistics.median(library)
    dependencies_ms = statistics.median(dependencies)
    ratio = library_ms / dependencies_ms
    for code, timings, median in (
        (LIBRARY, library, library_ms),
        (DEPENDENCIES, dependencies, dependencies_ms),
    ):
        print(
            f"{code:<40} median {median:7.1f} ms  (min {min(timings):.1f}, max {max(timings):.1f})"
        )
    verdict = "within" if ratio <= TARGET else "ABOVE"
    print(f"ratio {ratio:.2f}, {verdict} the target of {TARGET} ({args.runs} runs each)")
    print(
        json.dumps(
            {
                "import_experiments_ms": round(library_ms, 1),
                "import_dependencies_ms": round(dependencies_ms, 1),
                "ratio": round(ratio, 3),
                "runs": args.runs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
