"""How fast records are built: every field converted and checked, as a bulk save needs.

Builds N experiments (a title, a time box, an objective, an owner) and N measurements
(a value, a metric, an experiment, a time), each kind once a round; the median and the
range over the rounds are reported.  Time is the process's CPU time, so other work on
a shared machine counts as little as it can.

    python benchmarks/bench_model.py --n 10000

The last line printed is one JSON object with the figures (microseconds per record).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import _measure
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
    parser = _measure.parser(__doc__, store=False)
    parser.add_argument("--n", type=int, help="records of each kind (default 10000)")
    options = parser.parse_args()
    rounds = _measure.rounds_of(options)
    n = options.n or (100 if options.quick else 10_000)
    builders = {"experiment": experiments(n), "measurement": measurements(n)}

    def one(name: str) -> Callable[[int, int], float]:
        def build(_: int, __: int) -> float:
            started = time.process_time()
            builders[name]()
            return time.process_time() - started

        return build

    cpu = _measure.interleaved(rounds, {name: one(name) for name in builders})
    figures = {
        "benchmark": "model",
        "n": n,
        "rounds": rounds,
        **{
            f"{name}_us": _measure.spread([s / n * 1e6 for s in seconds])
            for name, seconds in cpu.items()
        },
    }
    _measure.report(
        figures,
        "; ".join(
            f"{name}: {figures[f'{name}_us']['median']:.2f} µs per record" for name in builders
        ),
    )


if __name__ == "__main__":
    main()
