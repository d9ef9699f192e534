"""Bulk writes and roll-ups hold back the cyclic collector, and always let it go again."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from experiments import ConflictError, Experiment, Objective, ValidationError
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
