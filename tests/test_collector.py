"""Bulk writes and roll-ups hold back the cyclic collector, and always let it go again;
the command line leaves what its imports made to the end of the process."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from experiments import ConflictError, Experiment, Objective, ValidationError
from experiments._collector import MANY, paused
from experiments.rollup import rollup
from experiments.stores import Store


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

    def test_a_great_many_kept_go_to_the_oldest_generation(self) -> None:
        """Objects made and kept by the thousand are not walked by the next young collection."""
        with paused():
            kept = [_Node() for _ in range(MANY + 1)]
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert all(id(node) in oldest for node in kept)
        assert gc.get_count()[0] < MANY

    def test_a_few_kept_stay_young(self) -> None:
        """A small block (one save) leaves the generations as they were."""
        gc.collect()
        with paused():
            kept = [_Node() for _ in range(100)]
        oldest = {id(o) for o in gc.get_objects(generation=2)}
        assert not any(id(node) in oldest for node in kept)

    def test_cycles_made_in_the_block_are_still_collected(self) -> None:
        """A cycle the block made and dropped is freed by the next full collection."""
        with paused():
            node = _Node()
            node.itself = node
            gone = weakref.ref(node)
            del node
        gc.collect()
        assert gone() is None

    def test_a_large_block_collects_the_cycles_it_dropped(self) -> None:
        """A cycle a large block made and dropped is gone when the block ends, unasked."""
        with paused():
            node = _Node()
            node.itself = node
            gone = weakref.ref(node)
            del node
            kept = [_Node() for _ in range(2 * MANY)]
        assert gone() is None
        assert len(kept) == 2 * MANY


class _Node:
    itself: object = None


_KEEPS_ITS_OWN = """
import gc
from experiments._collector import MANY, paused
gc.freeze()
frozen = gc.get_freeze_count()
with paused():
    made = [[] for _ in range(MANY + 1)]
print(frozen > 0, gc.get_freeze_count() == frozen)
"""


class TestPausedInAProgramThatFroze:
    def test_its_frozen_objects_stay_frozen_and_ours_are_not(self) -> None:
        """A program that froze its objects (before it forks) finds exactly those frozen."""
        done = subprocess.run(
            [sys.executable, "-c", _KEEPS_ITS_OWN], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["True", "True"]


_LOOPING = """
import collections, gc, weakref
from experiments._collector import MANY, paused
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
        kept = [[] for _ in range(2 * MANY)]  # what a large roll-up makes and keeps
    for _ in range(3000):  # the program's other work
        recent.append([])
    del kept
print(sum(ref() is not None for ref in gone[:200]))
"""


_OUTLIVING = """
import collections, gc, weakref
from experiments._collector import MANY, paused
class Node:
    itself = None
held = [[] for _ in range(200_000)]  # what a long-running program keeps
lately = collections.deque(maxlen=3)  # each cycle outlives a few blocks, then is dropped
gone = []
for _ in range(300):
    node = Node()
    node.itself = node
    gone.append(weakref.ref(node))
    lately.append(node)
    del node
    with paused():
        kept = [[] for _ in range(2 * MANY)]  # what a large roll-up makes and keeps
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

    def test_cycles_that_outlive_a_few_blocks_are_still_collected(self) -> None:
        """Garbage that reached the oldest generation is freed by the full collections."""
        done = subprocess.run(
            [sys.executable, "-c", _OUTLIVING], capture_output=True, text=True, check=True
        )
        assert done.stdout.split() == ["0"]

    def test_a_program_that_set_no_thresholds_is_left_to_itself(self) -> None:
        """With the thresholds at 0 (no automatic collection), a block collects nothing."""
        thresholds = gc.get_threshold()
        gc.set_threshold(0)
        try:
            with paused():
                kept = [_Node() for _ in range(2 * MANY)]
            assert gc.get_count()[0] > MANY
        finally:
            gc.set_threshold(*thresholds)
        assert len(kept) == 2 * MANY


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
