"""Tasks for processes racing on one store: ``racing.at_once(task, args, ...)``.

Each task takes the barrier first and waits at it right before the step that races,
then returns what it did as plain values.
"""

from __future__ import annotations

import random
import time
from multiprocessing.synchronize import Barrier

import experiments
from experiments import ConflictError, Experiment, Measurement, Objective, Plugins, Term


def _connect(url: str, *, create: bool | None = None) -> experiments.Store:
    return experiments.connect(url, plugins=Plugins(autoload=False), create=create)


def write_batches_or_read(
    barrier: Barrier, url: str, role: str, count: int, size: int
) -> dict[str, object]:
    """A writer saves ``count`` batches of ``size``; the reader reads until all are there.

    The reader (``count`` is then the number of records to wait for) counts the batches
    it sees in part (never allowed) and the times a count went down (a write undone).
    """
    with _connect(url) as store:
        if role != "reader":
            barrier.wait()
            ids: list[str] = []
            for number in range(count):
                tag = {"batch": f"{role}-{number}"}
                saved = store.save_all(
                    Measurement(metric=role, value=value, metadata=tag) for value in range(size)
                )
                ids += [m.id for m in saved]
            return {"ids": ids}
        expected, reads, half, went_back, seen = count, 0, 0, 0, 0
        barrier.wait()
        deadline = time.monotonic() + 240
        while seen < expected and time.monotonic() < deadline:
            sizes: dict[str, int] = {}
            for measurement in store.query(Measurement):
                batch = str(measurement.metadata["batch"])
                sizes[batch] = sizes.get(batch, 0) + 1
            total = sum(sizes.values())
            half += sum(1 for n in sizes.values() if n != size)
            went_back += total < seen
            seen = max(seen, total)
            reads += 1
        return {"reads": reads, "half_batches": half, "went_back": went_back, "seen": seen}


def race_updates(
    barrier: Barrier, url: str, ids: str, attempts: int, seed: int
) -> dict[str, object]:
    """Read-modify-save random shared objectives, counting wins and lost races."""
    shared = ids.split(",")
    chooser = random.Random(seed)  # noqa: S311 - picks test targets, not secrets
    won: dict[str, int] = dict.fromkeys(shared, 0)
    conflicts = 0
    with _connect(url) as store:
        barrier.wait()
        for _ in range(attempts):
            target = chooser.choice(shared)
            current = store.get(target, Objective)
            try:
                store.save(current.evolve(weight=current.weight + 1))
            except ConflictError:
                conflicts += 1
            else:
                won[target] += 1
    return {"won": won, "conflicts": conflicts}


def race_rounds(barrier: Barrier, url: str, record_id: str, rounds: int) -> dict[str, int]:
    """Read one objective, wait for all, then save it: every round exactly one wins."""
    won = conflicts = 0
    with _connect(url) as store:
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


def same_slugs(barrier: Barrier, url: str, slugs: str) -> dict[str, list[str]]:
    """Create each experiment unless it exists, every process at the same moment."""
    ids: list[str] = []
    titles: list[str] = []
    with _connect(url) as store:
        for slug in slugs.split(","):
            barrier.wait()
            made = store.create_if_absent(Experiment(slug=slug, title=f"Made by {id(store)}"))
            ids.append(made.id)
            titles.append(made.title)
    return {"ids": ids, "titles": titles}


def open_stores(barrier: Barrier, urls: str) -> dict[str, list[str]]:
    """Open (so create and migrate) each new store, every process at once, and write."""
    ids: list[str] = []
    for url in urls.split(","):
        barrier.wait()
        with _connect(url, create=True) as store:
            ids.append(store.save(Objective(title="Written at the first open")).id)
    return {"ids": ids}


def open_old_store(barrier: Barrier, url: str, number: int) -> dict[str, object]:
    """Open a store of an older layout at the same moment as the others, read, and write."""
    barrier.wait()
    with _connect(url) as store:
        objective = store.get_by_slug(Objective, "welfare")
        term = store.save(Term(slug=f"term-{number}", word=f"term {number}"))
        return {"objective": objective.id, "term": term.id}


def open_old_store_titled(barrier: Barrier, url: str, title: str) -> dict[str, object]:
    """Open a store of an older layout (so migrate it), every process at once; read, write."""
    barrier.wait()
    with _connect(url) as store:
        seen = store.count()
        saved = store.save(Objective(title=title))
        return {"seen": seen, "id": saved.id}


def measure_at_once(
    barrier: Barrier, url: str, slug: str, metric: str, at: str, value: float
) -> dict[str, object]:
    """Log one value for one metric at one time, every process at the same moment."""
    with _connect(url) as store:
        with experiments.track(slug, store=store, title="Racing measurements") as run:
            barrier.wait()
            try:
                measured = run.measure(metric, value, at=at)
            except ConflictError as exc:
                return {"conflict": str(exc)}
        return {"id": measured.id, "revision": measured.revision}
