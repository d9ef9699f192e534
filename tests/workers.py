"""Child processes for the concurrency tests: ``python workers.py <task> <url> ...``.

Each task waits until the start time it is given, so that the processes really run at
once, then prints one JSON object with what it did.
"""

from __future__ import annotations

import json
import random
import sys
import time
from multiprocessing.synchronize import Barrier

import experiments
from experiments import ConflictError, Experiment, Measurement, Objective, Plugins


def _wait(start_at: float) -> None:
    while time.time() < start_at:
        time.sleep(0.001)


def save_many(url: str, worker: str, count: str, start_at: str) -> dict[str, object]:
    """Save ``count`` new records, one transaction each."""
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        _wait(float(start_at))
        ids = [
            store.save(Measurement(metric=f"worker-{worker}", value=number)).id
            for number in range(int(count))
        ]
    return {"ids": ids}


def race_updates(url: str, ids: str, attempts: str, seed: str, start_at: str) -> dict[str, object]:
    """Read-modify-save random shared objectives, counting wins and lost races."""
    shared = ids.split(",")
    chooser = random.Random(int(seed))  # noqa: S311 - picks test targets, not secrets
    won: dict[str, int] = dict.fromkeys(shared, 0)
    conflicts = 0
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        _wait(float(start_at))
        for _ in range(int(attempts)):
            target = chooser.choice(shared)
            current = store.get(target, Objective)
            try:
                store.save(current.evolve(weight=current.weight + 1))
            except ConflictError:
                conflicts += 1
            else:
                won[target] += 1
    return {"won": won, "conflicts": conflicts}


def same_slug(url: str, slug: str, start_at: str) -> dict[str, object]:
    """Create the experiment with ``slug`` unless it exists, all processes at once."""
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        _wait(float(start_at))
        made = store.create_if_absent(Experiment(slug=slug, title=f"Created by {id(store)}"))
    return {"id": made.id, "title": made.title}


def track_same_slug(
    url: str, slug: str, worker: str, count: str, start_at: str
) -> dict[str, object]:
    """Open one experiment by slug from many processes and log measurements into it."""
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        _wait(float(start_at))
        with experiments.track(slug, store=store, title="Shared experiment") as run:
            ids = [run.measure(f"worker-{worker}", number).id for number in range(int(count))]
        return {"experiment": run.experiment.id, "ids": ids}


def open_store(url: str, start_at: str) -> dict[str, object]:
    """Open (and so create or migrate) a store, all processes at once, and read it."""
    _wait(float(start_at))
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        return {"count": store.count()}


TASKS = {
    "save_many": save_many,
    "race_updates": race_updates,
    "same_slug": same_slug,
    "track_same_slug": track_same_slug,
    "open_store": open_store,
}

if __name__ == "__main__":
    task, *arguments = sys.argv[1:]
    print(json.dumps(TASKS[task](*arguments)))  # noqa: T201 - the parent reads it


# --- tasks for racing.at_once: each takes the barrier first ---------------------------


def measure_at_once(
    barrier: Barrier, url: str, slug: str, metric: str, at: str, value: float
) -> dict[str, object]:
    """Log one value for one metric at one time, all processes at the same moment."""
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        with experiments.track(slug, store=store, title="Racing measurements") as run:
            barrier.wait()
            try:
                measured = run.measure(metric, value, at=at)
            except ConflictError as exc:
                return {"conflict": str(exc)}
        return {"id": measured.id, "revision": measured.revision}


def race_rounds(barrier: Barrier, url: str, record_id: str, rounds: int) -> dict[str, int]:
    """Read one objective, wait for all, then save it: every round exactly one wins."""
    won = conflicts = 0
    with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
        for _ in range(rounds):
            current = store.get(record_id, Objective)
            barrier.wait()  # everyone holds the same revision now
            try:
                store.save(current.evolve(weight=current.weight + 1))
            except ConflictError:
                conflicts += 1
            else:
                won += 1
            barrier.wait()  # every save of this round is over
    return {"won": won, "conflicts": conflicts}
