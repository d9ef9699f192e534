"""How much ``import experiments`` costs next to importing its core dependencies.

Each measurement is a whole fresh process, ``python -c "import experiments"`` against
``python -c "import attrs, cattrs, pendulum, pluggy"``, so interpreter start-up is in
both and cancels out of the comparison as far as it can.  The two run in turns, several
times a round, the order alternating, so that a busy machine slows both alike; one
warm-up run of each fills the bytecode caches first.  The goal is a ratio of at most
1.5.

    python benchmarks/bench_import.py [--rounds 5] [--python /path/to/python]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import subprocess
import sys

import _measure

LIBRARY = "import experiments"
DEPENDENCIES = "import attrs, cattrs, pendulum, pluggy"
GOAL = 1.5
RUNS_PER_ROUND = 3


def run_once(python: str, code: str) -> float:
    """Seconds one fresh process takes to run ``code`` (which must succeed)."""
    environment = _measure.process_environment()
    return _measure.timed(lambda: subprocess.run([python, "-c", code], check=True, env=environment))


def main() -> None:
    parser = _measure.parser(__doc__, store=False)
    parser.add_argument(
        "--python", default=sys.executable, help="interpreter to measure (default: this one)"
    )
    options = parser.parse_args()
    rounds = _measure.rounds_of(options)
    runs_per_round = 1 if options.quick else RUNS_PER_ROUND
    load_before = _measure.load()
    run_once(options.python, LIBRARY)
    run_once(options.python, DEPENDENCIES)
    seconds = _measure.interleaved(
        rounds,
        {
            "library": lambda _, __: run_once(options.python, LIBRARY),
            "dependencies": lambda _, __: run_once(options.python, DEPENDENCIES),
        },
        runs_per_round,
    )
    row = _measure.against_floor(
        seconds["library"], seconds["dependencies"], work=runs_per_round, unit="runs/s", goal=GOAL
    )
    figures = {
        "benchmark": "import",
        "rounds": rounds,
        "runs_per_round": runs_per_round,
        "load_before": load_before,
        "load_after": _measure.load(),
        "import_experiments_ms": _measure.spread(
            [s / runs_per_round * 1000 for s in seconds["library"]], 1
        ),
        "import_dependencies_ms": _measure.spread(
            [s / runs_per_round * 1000 for s in seconds["dependencies"]], 1
        ),
        "ratio": row["ratio"],
        "goal_ratio": GOAL,
        "meets_goal": row["meets_goal"],
    }
    _measure.report(
        figures,
        f"{LIBRARY}: {figures['import_experiments_ms']['median']} ms, "
        f"{DEPENDENCIES}: {figures['import_dependencies_ms']['median']} ms; ratio "
        f"{row['ratio']['median']} ({row['ratio']['min']}-{row['ratio']['max']}), goal "
        f"{GOAL}; {rounds} rounds of {runs_per_round}",
    )


if __name__ == "__main__":
    main()
