"""How fast scripts log into a store, as a ratio to the floor measured in the same run.

Three measures, each in interleaved rounds against the floor (``_floor.py``: the same
rows written through the driver alone, with the same durability):

``per_call``
    Every object of N experiments' worth (12 objects each: ``_workload.py``) saved by a
    call of its own, ``store.save(record)``, one transaction each.  The objects are
    built before the clock starts, for both; encoding them is timed.
``bulk``
    N experiments' worth built and saved in one transaction: ``store.save_all()`` of
    records made inside the timing, against dicts made inside the timing and written
    with ``executemany``.
``track_measure``
    Units of ``with track(slug) as run: run.measure(metric, value)`` on a new slug each:
    the experiment made, started and measured.  The floor writes the same rows (the
    experiment's two versions and the measurement) in two transactions, the measurement
    in one of its own, as ``run.measure()`` promises.  Measured first, as its cost grows
    with the experiments already in the store (``experiments_before``).

``ratio`` is the library's time over the floor's in the same round (1.0: as fast as
the floor; 2.0: twice as long), with its median and range over the rounds.  At the end
the store and the floor must hold the same number of new rows, or the comparison would
not be fair and the benchmark stops.

    python benchmarks/bench_logging.py
    python benchmarks/bench_logging.py --store sqlite:///bench.db --rounds 7
    python benchmarks/bench_logging.py --store "postgresql://me@db/bench?schema=bench"

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _measure
from _floor import floor_for, rows_in_store
from _workload import (
    METRIC,
    OBJECTS_PER_EXPERIMENT,
    programme,
    raw_programme,
    raw_unit,
    templates,
)

import experiments
from experiments import Experiment, Plugins
from experiments.stores import StoreURL

#: The ratio each measure should stay at or under, per backend (``None``: no goal set).
GOALS: dict[str, dict[str, float | None]] = {
    "sqlite": {"per_call": 1.3, "bulk": round(1 / 0.6, 3), "track_measure": 1.5},
    "postgresql": {"per_call": 1.5, "bulk": 2.0, "track_measure": None},
}


def _per_call(
    store: Any, floor: Any, n: int, rounds: int, tag: str, goal: float | None
) -> dict[str, Any]:
    kinds = templates()
    ours = [programme(n, f"{tag}-call-{r}") for r in range(rounds)]
    theirs = [raw_programme(n, f"{tag}-call-{r}", kinds) for r in range(rounds)]
    size = OBJECTS_PER_EXPERIMENT  # a turn: one experiment's objects

    def library(number: int, piece: int) -> float:
        save = store.save
        chunk = ours[number][piece * size : (piece + 1) * size]
        return _measure.timed(lambda: [save(record) for record in chunk])

    def raw(number: int, piece: int) -> float:
        save = floor.save_one
        chunk = theirs[number][piece * size : (piece + 1) * size]
        return _measure.timed(lambda: [save(data) for data in chunk])

    return _run(library, raw, rounds, n, n * size, "objects/s", goal)


def _bulk(
    store: Any, floor: Any, n: int, rounds: int, tag: str, goal: float | None
) -> dict[str, Any]:
    kinds = templates()

    def library(number: int, _: int) -> float:
        return _measure.timed(lambda: store.save_all(programme(n, f"{tag}-bulk-{number}")))

    def raw(number: int, _: int) -> float:
        return _measure.timed(
            lambda: floor.save_many(raw_programme(n, f"{tag}-bulk-{number}", kinds))
        )

    row = _run(library, raw, rounds, 1, n * OBJECTS_PER_EXPERIMENT, "objects/s", goal)
    # The goal is a share of the floor's speed (the ratio's inverse): say so.
    row["share_of_floor"] = spread_inverse(row["ratio"])
    return row


def spread_inverse(ratio: dict[str, float]) -> dict[str, float]:
    """The floor's time over ours: the share of the floor's speed we reach."""
    return {
        "median": round(1 / ratio["median"], 3),
        "min": round(1 / ratio["max"], 3),
        "max": round(1 / ratio["min"], 3),
    }


def _track_measure(
    store: Any, floor: Any, units: int, rounds: int, tag: str, goal: float | None
) -> dict[str, Any]:
    kinds = templates()

    def library(number: int, unit: int) -> float:
        def log() -> None:
            with experiments.track(f"unit-{tag}-{number}-{unit}", store=store) as run:
                run.measure(METRIC, unit)

        return _measure.timed(log)

    def raw(number: int, unit: int) -> float:
        return _measure.timed(lambda: floor.unit(*raw_unit(unit, f"{tag}-raw-{number}", kinds)))

    return _run(library, raw, rounds, units, units, "units/s", goal)


def _run(
    library: Callable[[int, int], float],
    raw: Callable[[int, int], float],
    rounds: int,
    slices: int,
    work: int,
    unit: str,
    goal: float | None,
) -> dict[str, Any]:
    seconds = _measure.interleaved(rounds, {"ours": library, "floor": raw}, slices)
    return _measure.against_floor(
        seconds["ours"], seconds["floor"], work=work, unit=unit, goal=goal
    )


def measure(url: StoreURL, options: Any, rounds: int) -> dict[str, Any]:
    """Every measure on the store at ``url`` and its floor; the JSON figures."""
    goals = GOALS["sqlite" if url.scheme == "sqlite" else "postgresql"]
    tag = os.urandom(3).hex()  # new slugs on a store used before
    floor = floor_for(url)
    store = experiments.connect(url.raw, plugins=Plugins(autoload=False), create=True)
    try:
        before = rows_in_store(url)
        floor_before = floor.rows()
        # track() first: its cost grows with the experiments already stored (see
        # docs/performance.md), and the bulk rounds add thousands.
        held = store.count(Experiment) if store.exists() else 0
        track = _track_measure(store, floor, options.units, rounds, tag, goals["track_measure"])
        track["experiments_before"] = held
        rows: dict[str, Any] = {
            "per_call": _per_call(store, floor, options.n, rounds, tag, goals["per_call"]),
            "bulk": _bulk(store, floor, options.bulk_n, rounds, tag, goals["bulk"]),
            "track_measure": track,
        }
        after = rows_in_store(url)
        floor_after = floor.rows()
        durability = floor.durability()
    finally:
        store.close()
        floor.close()
    written = {table: after[table] - before[table] for table in after}
    floor_written = {table: floor_after[table] - floor_before[table] for table in floor_after}
    if written != floor_written:
        raise SystemExit(
            f"the store wrote {written} rows and the floor {floor_written}: the floor no "
            "longer writes what the store does; bring benchmarks/_floor.py and "
            "_workload.py up to date with the store's layout"
        )
    return {"rows_written": written, "durability": durability, **rows}


def main() -> None:
    parser = _measure.parser(__doc__)
    parser.add_argument(
        "--n", type=int, help="experiments saved one object per call, a round (default 100)"
    )
    parser.add_argument(
        "--bulk-n", type=int, help="experiments saved in one batch, a round (default 1000)"
    )
    parser.add_argument("--units", type=int, help="track() + measure() units, a round (100)")
    options = parser.parse_args()
    quick = options.quick
    options.n = options.n or (2 if quick else 100)
    options.bulk_n = options.bulk_n or (3 if quick else 1000)
    options.units = options.units or (3 if quick else 100)
    rounds = _measure.rounds_of(options)
    load_before = _measure.load()
    with tempfile.TemporaryDirectory() as scratch:
        url = StoreURL.parse(options.store or f"sqlite:///{Path(scratch) / 'bench.db'}")
        figures = measure(url, options, rounds)
    figures = {
        "benchmark": "logging",
        "store": url.redacted,
        "rounds": rounds,
        "load_before": load_before,
        "load_after": _measure.load(),
        **figures,
    }
    per_call, bulk, track = figures["per_call"], figures["bulk"], figures["track_measure"]
    _measure.report(
        figures,
        f"per call: {per_call['ours']['median']:.0f} objects/s, "
        f"{per_call['ratio']['median']}x the floor's time "
        f"({per_call['ratio']['min']}-{per_call['ratio']['max']}); "
        f"bulk: {bulk['ours']['median']:.0f} objects/s, {bulk['ratio']['median']}x "
        f"({bulk['ratio']['min']}-{bulk['ratio']['max']}); "
        f"track()+measure(): {track['ours']['median']:.1f} units/s, "
        f"{track['ratio']['median']}x ({track['ratio']['min']}-{track['ratio']['max']}); "
        f"{rounds} rounds",
    )


if __name__ == "__main__":
    main()
