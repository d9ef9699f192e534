"""How long the roll-up of a whole strategy takes, and how much memory, as it grows.

Fills a store with N experiments and what comes with them in proportion: an objective
with two key results per 100 experiments, one hypothesis, three participations (drawn
from a pool of N participants, so people take part in several experiments), one
learning, three measurements (one for a key result) per experiment, and a decision for
the decided ones.  Then it rolls up the whole strategy in a fresh process, which times
opening the store and the roll-up, and reports its peak memory.

    python benchmarks/bench_rollup.py --store sqlite:///rollup.db --n 10000

The last line printed is one JSON object with the figures.  With ``--reuse`` an
existing store of the same N is rolled up without filling it again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from typing import Any

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
    return {"objects": objects, "fill_seconds": round(time.perf_counter() - started, 2)}


_CHILD = """
import json, resource, sys, time
started = time.perf_counter()
import experiments
from experiments.rollup import rollup
plugins = experiments.Plugins(autoload=False)
with experiments.connect(sys.argv[1], plugins=plugins, create=False) as store:
    result = rollup(store, at="2027-01-01T00:00:00Z")
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rollup_seconds": elapsed, "peak_rss_mib": peak,
                  "experiments": result.total.experiments,
                  "participants": result.total.involvement.participants}))
"""


def rollup_in_fresh_process(url: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url], capture_output=True, text=True, check=False, env=env
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the roll-up process failed:\n{done.stderr}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = wall
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="store URL to fill and roll up")
    parser.add_argument("--n", type=int, default=10_000, help="experiments (default 10000)")
    parser.add_argument("--reuse", action="store_true", help="roll up an already filled store")
    parser.add_argument("--repeat", type=int, default=3, help="roll-ups to run; the best counts")
    args = parser.parse_args()
    filled = {} if args.reuse else fill(args.store, args.n)
    runs = [rollup_in_fresh_process(args.store) for _ in range(max(1, args.repeat))]
    best = min(runs, key=lambda r: r["rollup_seconds"])
    assert best["experiments"] == args.n, (
        f"rolled up {best['experiments']} experiments, not {args.n}"
    )
    figures = {
        "n": args.n,
        "store": StoreURL.parse(args.store).redacted,
        **filled,
        "rollup_seconds": round(best["rollup_seconds"], 3),
        "process_seconds": round(best["process_seconds"], 3),
        "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1),
        "participants": best["participants"],
        "runs": len(runs),
    }
    print(
        f"rolled up {args.n} experiments in {figures['rollup_seconds']}s "
        f"({figures['process_seconds']}s as a whole process), peak {figures['peak_rss_mib']} MiB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
