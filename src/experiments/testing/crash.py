"""A crash test for storage backends: kill a writer with SIGKILL, then check what survived.

:func:`run_crash_trial` starts a child process that opens a store and writes in a loop:
new records, updates of records it saved, multi-record batches and purges, printing one
line after each call returns.  At a random moment the parent kills it with ``SIGKILL``,
opens the store again and checks that

- every write reported before the kill is there, exactly as reported, and every
  reported purge left nothing behind;
- every batch is there entirely or not at all: each record a batch writes carries the
  batch's id and size, so a batch cut in half shows as a group of the wrong size;
- the store still takes a write.

A backend author runs it from their tests, twenty trials or more::

    from experiments.testing.crash import run_crash_trial


    def test_sigkill_loses_nothing(tmp_path):
        for trial in range(20):
            report = run_crash_trial(
                f"mystore:///{tmp_path}/{trial}", seed=trial, plugins=["my_plugin"]
            )
            assert report.damage == []

``plugins`` names modules that register the backend; parent and child both load them
(and nothing else), so the trial does not depend on what else is installed.  A failed
check raises :class:`AssertionError` with the seed that reproduces it.  POSIX only.
"""

from __future__ import annotations

import collections
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from experiments.errors import NotFoundError
from experiments.model import Measurement, Objective
from experiments.plugins import Plugins
from experiments.stores import Damage, Store, connect

__all__ = ["CrashReport", "run_crash_trial"]

_METRIC: Final = "crash-test"


@attrs.frozen
class CrashReport:
    """What one trial found after the kill."""

    seed: int
    operations: int
    """Writes the child reported as returned before it was killed."""
    batches: int
    """Batches found in the store, every one of them whole."""
    damage: tuple[Damage, ...]
    """What :meth:`~experiments.stores.Store.verify` lists after reopening."""


def _plugins(modules: Sequence[str]) -> Plugins:
    return Plugins(autoload=False, plugins=[importlib.import_module(m) for m in modules])


def _fail(seed: int, message: str) -> AssertionError:
    return AssertionError(f"crash trial with seed {seed}: {message}")


def run_crash_trial(
    url: str,
    *,
    seed: int,
    plugins: Sequence[str] = (),
    max_delay: float = 0.3,
    timeout: float = 60.0,
) -> CrashReport:
    """Run one trial against the store at ``url`` (created here if it does not exist).

    Args:
        url: the store to write into; each trial should get a fresh one.
        seed: decides the child's writes and the moment of the kill.
        plugins: names of modules to register as plugins, in parent and child.
        max_delay: the kill comes up to this many seconds after the loop starts.
        timeout: seconds to wait for the child to get going.

    Raises:
        AssertionError: a reported write is missing or different, a batch is cut in
            half, or the child failed on its own.
    """
    chooser = random.Random(seed)  # noqa: S311 - picks a moment, not a secret
    with connect(url, plugins=_plugins(plugins), create=True):
        pass
    with tempfile.TemporaryDirectory(prefix="crash-trial-") as scratch:
        out = Path(scratch) / "reported.jsonl"
        err = Path(scratch) / "stderr.txt"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            child = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "experiments.testing.crash", url, str(seed), *plugins],
                stdout=stdout,
                stderr=stderr,
            )
        try:
            deadline = time.monotonic() + timeout
            while not out.read_bytes().startswith(b'{"op": "ready"}\n'):
                if child.poll() is not None or time.monotonic() > deadline:
                    raise _fail(seed, f"the writer did not start:\n{err.read_text()}")
                time.sleep(0.005)
            time.sleep(chooser.uniform(0.0, max_delay))
            if child.poll() is not None:
                raise _fail(seed, f"the writer stopped on its own:\n{err.read_text()}")
            os.kill(child.pid, signal.SIGKILL)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
        reported = _reported(out.read_bytes())
    with connect(url, plugins=_plugins(plugins), create=False) as store:
        batches = _check(store, reported, seed)
        damage = tuple(store.verify())
        after = store.save(Objective(title="Written after the crash"))
        if store.get(after.id).revision != 1:
            raise _fail(seed, "the store does not take writes after the crash")
    return CrashReport(seed, _operations(reported), batches, damage)


def _reported(raw: bytes) -> list[dict[str, Any]]:
    """The child's complete lines (a line cut by the kill is not a report)."""
    lines = raw.split(b"\n")[:-1]
    return [json.loads(line) for line in lines[1:]]


def _operations(reported: list[dict[str, Any]]) -> int:
    return sum(1 for op in reported if op["op"] != "purging")


def _check(store: Store, reported: list[dict[str, Any]], seed: int) -> int:
    """Check the store against the child's reports; returns the number of batches found."""
    outcome = _Outcome.of(reported)
    _check_saved(store, outcome.saved, seed)
    for record_id in outcome.purged:
        if store.find(record_id, include_deleted=True) is not None:
            raise _fail(seed, f"{record_id} was purged and reported, but is still there")
    for record_id in outcome.measurements:
        if store.find(record_id) is None:
            raise _fail(seed, f"{record_id} was saved in a reported batch, but is missing")
    return _check_batches(store, outcome.batches, seed)


@attrs.define
class _Outcome:
    """What the child's reports say the store must hold."""

    saved: dict[str, dict[int, float]] = attrs.Factory(dict)
    """Record id to the weight of each revision reported saved (and not purged since)."""
    purged: set[str] = attrs.Factory(set)
    measurements: list[str] = attrs.Factory(list)
    """Measurements written by reported batches."""
    batches: set[str] = attrs.Factory(set)

    @classmethod
    def of(cls, reported: list[dict[str, Any]]) -> _Outcome:
        outcome = cls()
        purging: str | None = None
        for op in reported:
            if op["op"] == "purging":
                purging = op["id"]
            elif op["op"] == "purge":
                outcome.purged.add(op["id"])
                outcome.saved.pop(op["id"], None)
                purging = None
            else:
                outcome.saved.setdefault(op["id"], {})[op["revision"]] = op["weight"]
                outcome.measurements.extend(op.get("measurements", ()))
                if op["op"] == "batch":
                    outcome.batches.add(op["batch"])
        if purging is not None:
            outcome.saved.pop(purging)  # the purge under way when the kill came: either outcome
        return outcome


def _check_saved(store: Store, saved: dict[str, dict[int, float]], seed: int) -> None:
    """Every reported revision is there as reported; at most one unreported one follows."""
    for record_id, versions in saved.items():
        try:
            history = {v.revision: v for v in store.history(record_id)}
        except NotFoundError:
            raise _fail(seed, f"{record_id} was saved and reported, but is missing") from None
        for revision, weight in versions.items():
            stored = history.get(revision)
            if stored is None or getattr(stored, "weight", None) != weight:
                raise _fail(seed, f"{record_id} revision {revision} is not as reported")
        if not max(versions) <= max(history) <= max(versions) + 1:
            raise _fail(seed, f"{record_id} has revisions {sorted(history)}, reported {versions}")


def _check_batches(store: Store, reported: set[str], seed: int) -> int:
    """Every batch in the store is whole, and every reported one is there."""
    sizes: dict[str, int] = {}
    found: collections.Counter[str] = collections.Counter()
    for version in store.export():
        batch = version.metadata.get("batch")
        if batch is not None:
            found[batch] += 1
            sizes[batch] = version.metadata["size"]
    for batch, count in found.items():
        if count != sizes[batch]:
            raise _fail(seed, f"batch {batch} is half there: {count} of {sizes[batch]} writes")
    missing = reported - set(found)
    if missing:
        raise _fail(seed, f"reported batches are missing: {sorted(missing)}")
    return len(found)


# --- the child ---------------------------------------------------------------------------


def _emit(report: dict[str, Any]) -> None:
    """One line per returned call, in one write, so the kill never splits a report."""
    os.write(1, (json.dumps(report) + "\n").encode())


def _write_until_killed(url: str, seed: int, modules: Sequence[str]) -> None:
    chooser = random.Random(seed)  # noqa: S311 - picks test operations, not secrets
    mine: dict[str, Objective] = {}
    in_batches: set[str] = set()
    parent = os.getppid()
    with connect(url, plugins=_plugins(modules), create=False) as store:
        _emit({"op": "ready"})
        for number in range(1, 1_000_000):
            if os.getppid() != parent:
                return  # the trial is gone (interrupted): never write on unattended
            roll = chooser.random()
            loners = sorted(set(mine) - in_batches)
            if roll < 0.35 or len(mine) < 3:  # a few records to work on first
                saved = store.save(Objective(title=f"Crash test {number}", weight=1))
                mine[saved.id] = saved
                _emit({"op": "save", "id": saved.id, "revision": 1, "weight": 1})
            elif roll < 0.65:  # the mix of operations
                current = mine[chooser.choice(sorted(mine))]
                saved = store.save(current.evolve(weight=current.weight + 1, metadata={}))
                mine[saved.id] = saved
                _emit({"op": "update", "id": saved.id, "revision": saved.revision,
                       "weight": saved.weight})  # fmt: skip
            elif roll < 0.92 or not loners:
                target = mine[chooser.choice(sorted(mine))]
                size = chooser.randint(2, 6)
                tag = {"batch": f"batch-{number}", "size": size + 1}
                with store.batch() as batch:
                    added = [
                        batch.save(Measurement(metric=_METRIC, value=value, metadata=tag))
                        for value in range(size)
                    ]
                    saved = batch.save(target.evolve(weight=target.weight + 1, metadata=tag))
                mine[saved.id] = saved
                in_batches.add(saved.id)
                _emit({"op": "batch", "batch": tag["batch"], "id": saved.id,
                       "revision": saved.revision, "weight": saved.weight,
                       "measurements": [m.id for m in added]})  # fmt: skip
            else:
                victim = chooser.choice(loners)
                _emit({"op": "purging", "id": victim})  # killed now, it may be gone or not
                store.purge(victim)
                del mine[victim]
                _emit({"op": "purge", "id": victim})


if __name__ == "__main__":
    _write_until_killed(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
