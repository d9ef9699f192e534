"""How fast records are built: every field converted and checked, as a bulk save needs.

Builds N experiments (a title, a time box, an objective, an owner) and N measurements
(a value, a metric, an experiment, a time), each kind ``--repeat`` times; the fastest
round counts, as one run of a fraction of a second is at the mercy of the machine.
Time is the process's CPU time, so other work on a shared machine does not count.

    python benchmarks/bench_model.py --n 10000

The last line printed is one JSON object with the figures (microseconds per record).
"""

from __future__ import annotations

import argparse
import json
import time
import timeit
from collections.abc import Callable

import pendulum

from experiments import Experiment, Measurement, Record


def experiments(n: int) -> Callable[[], list[Record]]:
    def build() -> list[Record]:
        return [
            Experiment(
                title=f"Art afternoons {number}",
                time_box="P2W",
                objectives=("obj_welfare",),
                owner="Anna",
            )
            for number in range(n)
        ]

    return build


def measurements(n: int) -> Callable[[], list[Record]]:
    at = pendulum.datetime(2026, 3, 1, 10, tz="Europe/Copenhagen")

    def build() -> list[Record]:
        return [
            Measurement(
                value=number, metric="families returning", experiment="exp_1", measured_at=at
            )
            for number in range(n)
        ]

    return build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="records of each kind")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the fastest counts")
    options = parser.parse_args()
    figures = {}
    for name, build in (
        ("experiment", experiments(options.n)),
        ("measurement", measurements(options.n)),
    ):
        best = min(timeit.repeat(build, number=1, repeat=options.repeat, timer=time.process_time))
        figures[f"{name}_us"] = round(best / options.n * 1e6, 3)
        print(f"{name}: {figures[f'{name}_us']:.2f} µs per record")
    print(json.dumps({"n": options.n, **figures}))


if __name__ == "__main__":
    main()
