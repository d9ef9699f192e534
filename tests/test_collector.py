"""Bulk writes and roll-ups hold back the cyclic collector, and always let it go again;
the command line leaves what its imports made to the end of the process."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from experiments import ConflictError, Experiment, Objective, Plugins, ValidationError, connect
from experiments._collector import paused
from experiments.rollup import Rollup, rollup
from experiments.stores import Store
from report_programmes import LARGE_AS_OF, bench_rollup, municipality


@pytest.fixture
def collector_on() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


@pytest.fixture
def seen(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the collector ran, noted each time the store writes a batch."""
    noted: list[bool] = []
    commit = any_store._commit  # the one primitive every write passes through

    def noting(changes: Any) -> Any:
        noted.append(gc.isenabled())
        return commit(changes)

    monkeypatch.setattr(any_store, "_commit", noting)
    return noted


@pytest.mark.usefixtures("collector_on")
class TestPaused:
    def test_a_batch_is_written_with_the_collector_held_back(
        self, any_store: Store, seen: list[bool]
    ) -> None:
        """save, save_all and import write with it off, and it is on again after each."""
        saved = any_store.save_all([Experiment(title=f"Walk {n}") for n in range(3)])
        any_store.save(Experiment(title="One more"))
        any_store.import_records([saved[0]])
        assert seen == [False, False, False]
        assert gc.isenabled()

    def test_it_comes_back_after_a_failed_write(self, any_store: Store, seen: list[bool]) -> None:
        """A conflict in the middle of a batch still turns the collector back on."""
        stale = any_store.save(Experiment(title="Walk"))
        any_store.save(stale.evolve(owner="Culture"))
        with pytest.raises(ConflictError):
            any_store.save_all([Experiment(title="Other"), stale.evolve(owner="Sport")])
        assert seen == [False, False, False]
        assert gc.isenabled()

    def test_it_comes_back_after_a_failed_rollup(self, any_store: Store) -> None:
        """A roll-up that refuses a loop of objectives leaves the collector on."""
        first = any_store.save(Objective(title="Welfare"))
        second = any_store.save(Objective(title="Safety", parent=first))
        any_store.save(first.evolve(parent=second))
        with pytest.raises(ValidationError, match="ancestors"):
            rollup(any_store)
        assert gc.isenabled()

    def test_it_stays_off_when_it_was_off(self, any_store: Store, seen: list[bool]) -> None:
        """A program that turned the collector off itself finds it off afterwards."""
        gc.disable()
        any_store.save_all([Experiment(title="Walk")])
        rollup(any_store)
        assert seen == [False]
        assert not gc.isenabled()

    def test_cycles_made_in_the_block_are_still_collected(self) -> None:
        """A cycle the block made and dropped is freed by the next full collection."""
        with paused():
            gone = _dropped_cycle()
        gc.collect()
        assert gone() is None

    def test_a_large_block_leaves_its_dropped_cycles_to_the_next_collection(self) -> None:
        """A cycle a large block made and dropped is freed soon after it, unasked."""
        with paused():
            gone = _dropped_cycle()
            kept = [_Node() for _ in range(2 * _MANY)]
        more = [[] for _ in range(1000)]  # the program goes on: the collector's turn comes
        assert gone() is None
        assert len(kept) + len(more) == 2 * _MANY + 1000


#: What a large block makes: a roll-up of a few thousand experiments.
_MANY = 50_000


class _Node:
    itself: object = None


def _dropped_cycle() -> weakref.ref[_Node]:
    """A node that refers to itself, dropped: only the cyclic collector can free it."""
    node = _Node()
    node.itself = node
    return weakref.ref(node)


def _cyclic_garbage(action: Callable[[], object]) -> tuple[int, object]:
    """How many objects ``action`` left in reference cycles (and what it returned)."""
    gc.collect()
    gc.disable()
    try:
        kept = action()
        return gc.collect(), kept
    finally:
        gc.enable()


@pytest.mark.usefixtures("collector_on")
class TestNoCycles:
    """A roll-up leaves nothing in a reference cycle: what it dropped is freed at once.

    It runs with the collector held back; a cycle would hold what it worked with (the
    links of a hundred thousand experiments to their objectives) until the collector
    came by.
    """

    def test_a_rollup_leaves_none(self, tmp_path: Path) -> None:
        """A roll-up of a programme with every kind of finding leaves no cycle behind."""
        url = f"sqlite:///{tmp_path}/programme.db"
        bench_rollup.fill(url, 60)
        with connect(url, plugins=Plugins(autoload=False), create=False) as store:
            found, result = _cyclic_garbage(lambda: rollup(store, at=LARGE_AS_OF))
        assert isinstance(result, Rollup)
        assert result.total.one_sided
        assert found == 0

    def test_a_rollup_of_a_tree_of_objectives_leaves_none(self, any_store: Store) -> None:
        """Nor does the example's programme, a tree of objectives, on any backend."""
        municipality.record_programme(any_store)
        (top,) = any_store.query(Objective)
        any_store.save(Objective(title="Safer evenings", parent=top))
        rollup(any_store, at=_AFTER_100_DAYS)  # what is made once a process, made
        found, result = _cyclic_garbage(lambda: rollup(any_store, at=_AFTER_100_DAYS))
        assert isinstance(result, Rollup)
        assert result.objectives[0].children
        assert found == 0


_AFTER_100_DAYS = "2026-11-27T12:00:00+01:00"


_SETTLING = """
import gc, sys, weakref
from experiments._collector import settled
if sys.argv[1] == "cli":
    from experiments.cli import main
    sys.argv[1:] = ["--version"]
    try:
        main()
    except SystemExit:
        pass
else:
    settled()
frozen = gc.get_freeze_count()
class Node:
    pass
node = Node()
node.itself = node
gone = weakref.ref(node)
del node
gc.collect()
print(frozen > 1000, gone() is None, gc.isenabled())
"""


class TestSettled:
    """What exists when a program settles is frozen; what comes after is collected."""

    @pytest.mark.parametrize("how", ["call", "cli"])
    def test_later_cycles_are_still_collected(self, how: str) -> None:
        """After settled() (which the command line calls first), a new cycle is freed."""
        done = subprocess.run(
            [sys.executable, "-c", _SETTLING, how], capture_output=True, text=True, check=True
        )
        assert done.stdout.split()[-3:] == ["True", "True", "True"]


_LOOPING = """
import collections, gc, weakref
from experiments._collector import paused
class Node:
    itself = None
held = [[] for _ in range(200_000)]  # what a long-running program keeps
recent = collections.deque(maxlen=100)
gone = []
for _ in range(300):
    node = Node()
    node.itself = node  # cyclic garbage of the program's own
    gone.append(weakref.ref(node))
    del node
    with paused():
        kept = [[] for _ in range(100_000)]  # what a large roll-up makes and keeps
    for _ in range(3000):  # the program's other work
        recent.append([])
    del kept
print(sum(ref() is not None for ref in gone[:200]))
"""


@pytest.mark.usefixtures("collector_on")
class TestPausedInALoop:
    def test_the_programs_cyclic_garbage_is_still_collected(self) -> None:
        """Large blocks called in a loop leave the collector collecting the program's cycles."""
        done = subprocess.run(
            [sys.executable, "-c", _LOOPING], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["0"]
