"""How long the roll-up of a whole strategy takes in a fresh process, and its own memory.

For each size N (10,000 and 100,000 experiments unless told otherwise) a store is
filled with N experiments and what comes with them in proportion: an objective with
two key results per 100 experiments, one hypothesis, three participations (drawn from
a pool of N participants, so people take part in several experiments), one learning,
three measurements (one for a key result) per experiment, and a decision for the
decided ones.  The filling runs in a process of its own; then, round after round and
size after size in turns, a fresh process imports the library, opens the store and
rolls up the whole strategy, and reports its times and its own peak memory.

``seconds`` is the fresh process's import, opening and roll-up (what the goals are
about); ``rollup_seconds`` the roll-up alone; ``process_seconds`` the whole process as
a shell sees it.  ``linearity`` compares the roll-up's time per experiment at each
size with the size before it, in the same round: 1.0 is linear, 2.0 twice as slow per
experiment at the larger size; ``memory_linearity`` does the same for the memory the
roll-up takes above what the process held with the store open.  The goals are seconds,
with no floor measured beside them, so ``python_loop`` says how fast the machine ran
Python before and after (the least of three loops of ten million additions, a million
with ``--quick``): the same
roll-up takes about twice as long where that loop does.

    python benchmarks/bench_rollup.py
    python benchmarks/bench_rollup.py --store "sqlite:///rollup-{n}.db" --sizes 10000,100000

``{n}`` in the store URL stands for the size; a store that already holds N experiments
is rolled up as it is (fill once, measure often).  The last line printed is one JSON
object with the figures.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import multiprocessing
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _measure
import pendulum

import experiments
from experiments import (
    Decision,
    Experiment,
    Hypothesis,
    KeyResult,
    Learning,
    Measurement,
    Objective,
    Participant,
    Participation,
    Plugins,
    Record,
)
from experiments.stores import StoreURL

#: Seconds (import, open and roll-up) and peak MiB each size should stay under.
GOALS: dict[int, dict[str, float]] = {
    10_000: {"seconds": 0.4},
    100_000: {"seconds": 3.0, "peak_rss_mib": 100.0},
}
AT = "2027-01-01T00:00:00Z"


ROLES = ("citizen", "user", "frontline-employee", "association", "partner", "employee", "expert")
STANCES = ("supportive", "supportive", "neutral", "critical")
DEPTHS = ("informed", "consulted", "co-creating")
DEPARTMENTS = ("Family Services", "Culture", "Crime Prevention", "Home Care", "Schools", "Housing")
START = pendulum.datetime(2026, 1, 5, 9, tz="Europe/Copenhagen")


def _experiment_records(
    number: int, chooser: random.Random, objectives: list[Objective], people: list[Participant]
) -> list[Record]:
    kr_pairs = [(o, f"kr-{o.slug}-{k}") for o in objectives for k in (0, 1)]
    linked = chooser.sample(objectives, k=min(len(objectives), chooser.choice((1, 1, 1, 2))))
    begin = START.add(days=chooser.randrange(0, 300))
    experiment = Experiment(
        title=f"Experiment {number}",
        objectives=linked,
        time_box=chooser.choice(("P2W", "P4W", "P6W", None)),
        owner=chooser.choice(DEPARTMENTS),
    )
    fate = chooser.random()
    if fate > 0.15:
        experiment = experiment.start(at=begin)
        if fate > 0.45:
            experiment = experiment.conclude(at=begin.add(days=chooser.randrange(10, 60)))
    records: list[Record] = []
    hypothesis = Hypothesis(
        experiment=experiment, statement=f"People want what experiment {number} offers"
    )
    records += [hypothesis]
    taking_part = chooser.sample(people, k=3)
    records += [
        Participation(
            experiment=experiment,
            participant=person,
            stance=chooser.choice(STANCES),
            involvement=chooser.choice(DEPTHS),
        )
        for person in taking_part
    ]
    if experiment.started_at is not None:
        records.append(
            Learning(
                experiment=experiment,
                hypothesis=hypothesis,
                observation=f"What experiment {number} showed",
                verdict=chooser.choice(("supports", "refutes", "inconclusive")),
                evidence=chooser.choice(("weak", "moderate", "strong")),
                participants=taking_part[: chooser.randrange(1, 4)],
                observed_at=begin.add(days=chooser.randrange(1, 40)),
            )
        )
    objective, kr_slug = chooser.choice([p for p in kr_pairs if p[0] in linked])
    records += [
        Measurement(
            key_result=KeyResult.id_for_slug(kr_slug),
            metric="progress",
            value=chooser.uniform(0, 100),
            measured_at=begin.add(days=3),
            experiment=experiment,
        ),
        Measurement(
            metric="visits",
            value=chooser.randrange(0, 50),
            measured_at=begin.add(days=5),
            experiment=experiment,
        ),
        Measurement(
            metric="visits",
            value=chooser.randrange(0, 50),
            measured_at=begin.add(days=9),
            experiment=experiment,
        ),
    ]
    del objective
    if experiment.concluded_at is not None and fate > 0.6:
        decision = Decision(
            experiment=experiment.id,
            outcome=chooser.choice(("scale-up", "iterate", "pivot", "stop")),
            decided_at=experiment.concluded_at.add(days=5),
        )
        records.append(decision)
        experiment = experiment.decide(decision)
    return [experiment, *records]


def fill(url: str, n: int, seed: int = 7) -> dict[str, Any]:
    """Fill an empty store with N experiments; a store holding N already is kept."""
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        held = store.count(Experiment)
    if held == n:
        return {"filled": False}
    if held:
        raise SystemExit(
            f"{StoreURL.parse(url).redacted} holds {held} experiments, not {n}: "
            "give an empty store or one filled for this size"
        )
    chooser = random.Random(seed)  # noqa: S311 - test data, not secrets
    started = time.perf_counter()
    objectives = [
        Objective(title=f"Objective {k}", slug=f"objective-{k}") for k in range(max(1, n // 100))
    ]
    key_results = [
        KeyResult(
            slug=f"kr-{o.slug}-{k}", objective=o, metric=f"metric {k}", baseline=0, target=100
        )
        for o in objectives
        for k in (0, 1)
    ]
    people = [
        Participant(
            role=chooser.choice(ROLES),
            external=chooser.random() < 0.7,
            department=chooser.choice(DEPARTMENTS),
            pseudonymous=chooser.random() < 0.5,
        )
        for _ in range(max(3, n))
    ]
    objects = 0
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        for chunk in range(0, len(people), 5000):
            objects += len(store.save_all(people[chunk : chunk + 5000]))
        objects += len(store.save_all([*objectives, *key_results]))
        batch: list[Record] = []
        for number in range(n):
            batch += _experiment_records(number, chooser, objectives, people)
            if len(batch) >= 10_000:
                objects += len(store.save_all(batch))
                batch = []
        if batch:
            objects += len(store.save_all(batch))
    return {
        "filled": True,
        "objects": objects,
        "fill_seconds": round(time.perf_counter() - started, 2),
    }


# The fresh process: the clock starts before the library is imported.  ``_measure`` (the
# standard library only) is imported first, so that it counts in neither.
_CHILD = """
import sys
sys.path.insert(0, sys.argv[2])
import json, time, _measure
started = time.perf_counter()
import experiments
from experiments.rollup import rollup
imported = time.perf_counter()
plugins = experiments.Plugins(autoload=False)
with experiments.connect(sys.argv[1], plugins=plugins, create=False) as store:
    store.count(experiments.Objective)
    opened = time.perf_counter()
    opened_rss = _measure.rss_mib()
    result = rollup(store, at=sys.argv[3])
    done = time.perf_counter()
print(json.dumps({
    "seconds": done - started,
    "import_seconds": imported - started,
    "open_seconds": opened - imported,
    "rollup_seconds": done - opened,
    "opened_rss_mib": opened_rss,
    "peak_rss_mib": _measure.peak_rss_mib(),
    "experiments": result.total.experiments,
}))
"""


def rollup_in_fresh_process(url: str) -> dict[str, Any]:
    """One roll-up of the whole strategy in a new interpreter: its figures."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, str(Path(__file__).resolve().parent), AT],
        capture_output=True,
        text=True,
        check=False,
        env=_measure.process_environment(),
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the roll-up process failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = wall
    return figures


def _store_for(pattern: str, n: int, sizes: list[int]) -> str:
    if "{n}" not in pattern and len(sizes) > 1:
        raise SystemExit(
            "several sizes need a store each: put {n} in the store URL, "
            "e.g. --store 'sqlite:///rollup-{n}.db'"
        )
    return pattern.replace("{n}", str(n))


def measure(pattern: str, sizes: list[int], rounds: int) -> dict[str, Any]:
    """Fill each size's store (in a process of its own), then roll up in turns."""
    urls = {n: _store_for(pattern, n, sizes) for n in sizes}
    fills: dict[int, dict[str, Any]] = {}
    spawn = multiprocessing.get_context("spawn")  # a clean process: nothing of this one
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        for n, url in urls.items():
            fills[n] = pool.submit(fill, url, n).result()
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}

    def one(n: int) -> Any:
        def run(_: int, __: int) -> float:
            figures = rollup_in_fresh_process(urls[n])
            if figures["experiments"] != n:
                raise SystemExit(f"rolled up {figures['experiments']} experiments, not {n}")
            runs[n].append(figures)
            return float(figures["seconds"])

        return run

    _measure.interleaved(rounds, {str(n): one(n) for n in sizes})
    by_size: dict[str, Any] = {}
    for n in sizes:
        done = runs[n]
        row: dict[str, Any] = {
            "store": StoreURL.parse(urls[n]).redacted,
            **fills[n],
            **{
                key: _measure.spread([r[key] for r in done])
                for key in ("seconds", "import_seconds", "open_seconds", "rollup_seconds")
            },
            "process_seconds": _measure.spread([r["process_seconds"] for r in done]),
            "opened_rss_mib": _measure.spread([r["opened_rss_mib"] for r in done], 1),
            "peak_rss_mib": _measure.spread([r["peak_rss_mib"] for r in done], 1),
            "goals": GOALS.get(n, {}),
        }
        row["meets_goals"] = all(row[key]["median"] < goal for key, goal in row["goals"].items())
        by_size[str(n)] = row
    for smaller, larger in itertools.pairwise(sizes):
        # The roll-up's own time and memory per experiment: import and opening are the
        # same at every size and would make any growth look linear.
        for key, figure in (("linearity", "rollup_seconds"), ("memory_linearity", None)):
            pairs = zip(runs[smaller], runs[larger], strict=True)
            per_round = [
                (_grown(big, figure) / larger) / (_grown(small, figure) / smaller)
                for small, big in pairs
            ]
            by_size[str(larger)][key] = _measure.spread(per_round)
    return by_size


def _grown(run: dict[str, Any], figure: str | None) -> float:
    """The roll-up's seconds, or (None) the memory it took above the opened store's."""
    if figure is not None:
        return float(run[figure])
    return max(float(run["peak_rss_mib"]) - float(run["opened_rss_mib"]), 0.01)


def main() -> None:
    parser = _measure.parser(__doc__)
    parser.add_argument(
        "--sizes", help="experiments in each store, comma-separated (default 10000,100000)"
    )
    options = parser.parse_args()
    rounds = _measure.rounds_of(options)
    sizes = sorted(
        int(size)
        for size in (options.sizes or ("20,40" if options.quick else "10000,100000")).split(",")
    )
    additions = 1_000_000 if options.quick else 10_000_000
    load_before, speed_before = _measure.load(), _measure.python_speed(additions)
    with tempfile.TemporaryDirectory() as scratch:
        pattern = options.store or f"sqlite:///{Path(scratch) / 'rollup-{n}.db'}"
        by_size = measure(pattern, sizes, rounds)
    figures = {
        "benchmark": "rollup",
        "rounds": rounds,
        "load_before": load_before,
        "load_after": _measure.load(),
        # The goals are seconds: how fast this machine ran Python, before and after.
        "python_loop": {
            "additions": additions,
            "seconds_before": speed_before,
            "seconds_after": _measure.python_speed(additions),
        },
        "at": AT,
        "sizes": by_size,
    }
    _measure.report(
        figures,
        "; ".join(
            f"{n} experiments: {row['seconds']['median']}s "
            f"({row['seconds']['min']}-{row['seconds']['max']}; roll-up alone "
            f"{row['rollup_seconds']['median']}s), peak {row['peak_rss_mib']['median']} MiB"
            for n, row in by_size.items()
        )
        + f"; {rounds} rounds; a loop of {additions:,} additions took "
        f"{figures['python_loop']['seconds_before']}s before and "
        f"{figures['python_loop']['seconds_after']}s after",
    )


if __name__ == "__main__":
    main()
