"""How fast scripts can log into a store, against raw sqlite3 as the physical floor.

Logs N experiments, each with 1 hypothesis, 3 participants (a Participant and its
Participation each), 3 measurements and 1 learning: 12 objects per experiment.  First
every object is saved by its own call (its own transaction), then the same number of
new objects again as one bulk batch, ``--repeat`` times with new objects each time (the
fastest batch counts, as one run of a fraction of a second is at the mercy of the
machine).  Building the objects is outside the timed parts.

In the same run the same JSON text is written with raw ``sqlite3``: one transaction per
object with the same journal mode and synchronous setting, then one ``executemany``
transaction.  That is the floor any store on this disk stands on.

    python benchmarks/bench_logging.py --store sqlite:///bench.db --n 1000

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import experiments
from experiments import (
    Experiment,
    Hypothesis,
    Learning,
    Measurement,
    Participant,
    Participation,
    Plugins,
    Record,
)
from experiments.serialization import to_data
from experiments.stores import StoreURL

OBJECTS_PER_EXPERIMENT = 12


def programme(n: int, tag: str) -> list[Record]:
    """N experiments and what they log, in the order a script would save them."""
    records: list[Record] = []
    for number in range(n):
        experiment = Experiment(title=f"Experiment {tag} {number}", time_box="P2W")
        hypothesis = Hypothesis(experiment=experiment, statement=f"Families come back {number}")
        people = [
            Participant(role=role) for role in ("citizen", "frontline-employee", "association")
        ]
        records += [experiment, hypothesis, *people]
        records += [
            Participation(experiment=experiment, participant=person, stance=stance)
            for person, stance in zip(people, ("critical", "supportive", "neutral"), strict=True)
        ]
        records += [
            Measurement(metric="families returning", value=week * 3, experiment=experiment)
            for week in range(3)
        ]
        records.append(
            Learning(
                experiment=experiment,
                hypothesis=hypothesis,
                observation=f"Seven families came twice ({number})",
                verdict="supports",
                participants=people,
            )
        )
    return records


def timed_store(url: str, n: int, repeat: int) -> dict[str, float]:
    per_call_records = programme(n, "per-call")
    batches = [programme(n, f"bulk-{number}") for number in range(repeat)]
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        started = time.perf_counter()
        for record in per_call_records:
            store.save(record)
        per_call = time.perf_counter() - started
        bulk_times = []
        for batch in batches:
            started = time.perf_counter()
            store.save_all(batch)
            bulk_times.append(time.perf_counter() - started)
        stored = store.count()
    assert stored >= (1 + repeat) * len(per_call_records), f"only {stored} objects stored"
    bulk = min(bulk_times)
    return {
        "per_call_seconds": per_call,
        "bulk_seconds": bulk,
        "per_call_objects_per_s": len(per_call_records) / per_call,
        "bulk_objects_per_s": len(per_call_records) / bulk,
        "bulk_median_objects_per_s": len(per_call_records) / statistics.median(bulk_times),
    }


def _sqlite_settings(url: str) -> tuple[str, str]:
    """Journal mode and synchronous setting the store under test uses."""
    if url.startswith("sqlite:"):
        synchronous = (
            "NORMAL"
            if "synchronous=normal" in url
            else "OFF"
            if "synchronous=off" in url
            else "FULL"
        )
        return "WAL", synchronous
    return "WAL", "FULL"


def timed_raw(directory: Path, n: int, url: str, repeat: int) -> dict[str, float]:
    journal, synchronous = _sqlite_settings(url)
    texts = [
        (r.id, json.dumps(to_data(r), ensure_ascii=False, separators=(",", ":")))
        for r in programme(n, "raw")
    ]
    batches = [
        [
            (r.id, json.dumps(to_data(r), ensure_ascii=False, separators=(",", ":")))
            for r in programme(n, f"raw-bulk-{number}")
        ]
        for number in range(repeat)
    ]
    path = directory / "raw-floor.db"
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(f"PRAGMA journal_mode={journal}")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("CREATE TABLE records (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
    started = time.perf_counter()
    for record_id, text in texts:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO records (id, data) VALUES (?, ?)", (record_id, text))
        connection.execute("COMMIT")
    per_call = time.perf_counter() - started
    bulk = math.inf
    for batch in batches:
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO records (id, data) VALUES (?, ?)", batch)
        connection.execute("COMMIT")
        bulk = min(bulk, time.perf_counter() - started)
    connection.close()
    return {
        "raw_per_call_objects_per_s": len(texts) / per_call,
        "raw_bulk_objects_per_s": len(texts) / bulk,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="store URL to benchmark")
    parser.add_argument("--n", type=int, default=1000, help="experiments to log (default 1000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="bulk batches; the fastest counts (default 3)"
    )
    args = parser.parse_args()
    url = args.store
    with tempfile.TemporaryDirectory() as scratch:
        if url.startswith("sqlite:"):
            floor_dir = Path(StoreURL.parse(url).file_path).absolute().parent
        else:
            floor_dir = Path(scratch)
        floor_dir.mkdir(parents=True, exist_ok=True)
        store_figures = timed_store(url, args.n, args.repeat)
        raw_figures = timed_raw(floor_dir, args.n, url, args.repeat)
        (floor_dir / "raw-floor.db").unlink(missing_ok=True)
    figures: dict[str, Any] = {
        "n": args.n,
        "store": StoreURL.parse(url).redacted,
        "objects_per_experiment": OBJECTS_PER_EXPERIMENT,
        "bulk_batches": args.repeat,
        **{k: round(v, 3) for k, v in store_figures.items()},
        **{k: round(v, 1) for k, v in raw_figures.items()},
    }
    figures["per_call_vs_raw"] = round(
        raw_figures["raw_per_call_objects_per_s"] / store_figures["per_call_objects_per_s"], 2
    )
    print(
        f"{figures['per_call_objects_per_s']:.0f} objects/s saved one by one "
        f"(raw sqlite3: {figures['raw_per_call_objects_per_s']:.0f}/s, "
        f"{figures['per_call_vs_raw']}x slower); "
        f"{figures['bulk_objects_per_s']:.0f} objects/s in one batch "
        f"(raw sqlite3: {figures['raw_bulk_objects_per_s']:.0f}/s)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
