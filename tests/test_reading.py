"""Store.reading(): every read in the block sees one state of the store.

A roll-up, the checks and a report read many kinds one after another; a batch another
program commits between two of those reads must show in all of them or in none.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from experiments import (
    Capability,
    Experiment,
    Hypothesis,
    Learning,
    NotFoundError,
    Objective,
    Participant,
    Plugins,
    StoreError,
    connect,
)
from experiments.rollup import rollup
from experiments.stores import Store, StoreURL
from experiments.stores.memory import MemoryStore

#: Backends that hold others' writes back while a block reads (a lock, not a snapshot).
HOLD_WRITERS = {"memory", "files"}

#: How long a writer that a block holds back is waited for before the block reads on.
HELD_BACK = 0.5


class Writer:
    """A batch saved from another thread; whether it committed, and when."""

    def __init__(self, store: Store, records: list[Any]) -> None:
        self.committed = threading.Event()
        self.failed: list[BaseException] = []

        def write() -> None:
            try:
                store.save_all(records)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                self.failed.append(exc)
            else:
                self.committed.set()

        self.thread = threading.Thread(target=write)

    def start_and_wait(self, scheme: str) -> None:
        """Start it; wait for its commit, or (where the block holds writers) see it wait."""
        self.thread.start()
        if scheme in HOLD_WRITERS:
            assert not self.committed.wait(HELD_BACK)
        else:
            assert self.committed.wait(30), self.failed

    def finish(self) -> None:
        self.thread.join(30)
        assert self.committed.is_set(), self.failed


@pytest.fixture
def scheme(any_store: Store) -> str:
    return any_store.url.scheme


class TestOneState:
    def test_every_built_in_backend_promises_it(self, any_store: Store) -> None:
        """The built-in backends declare Capability.SNAPSHOT."""
        assert Capability.SNAPSHOT in any_store.capabilities

    def test_a_batch_committed_meanwhile_is_seen_after_the_block_only(
        self, any_store: Store, scheme: str
    ) -> None:
        """Queries, counts and look-ups by id inside see the state of the first read."""
        first = any_store.save(Experiment(title="First"))
        second = Experiment(title="Second")
        writer = Writer(any_store, [second])
        with any_store.reading():
            before = [e.id for e in any_store.query(Experiment)]
            writer.start_and_wait(scheme)
            inside = [e.id for e in any_store.query(Experiment)]
            counted = any_store.count(Experiment)
            found = any_store.find(second.id)
            with pytest.raises(NotFoundError):
                any_store.history(second.id)
        writer.finish()
        assert before == inside == [first.id]
        assert (counted, found) == (1, None)
        assert any_store.find(second.id) is not None
        assert any_store.count(Experiment) == 2

    def test_blocks_nest_and_share_the_outer_state(self, any_store: Store, scheme: str) -> None:
        """A block inside a block reads the outer block's state, and ends none of it."""
        any_store.save(Experiment(title="First"))
        writer = Writer(any_store, [Experiment(title="Second")])
        with any_store.reading():
            with any_store.reading():
                writer.start_and_wait(scheme)
                inner = any_store.count(Experiment)
            after_inner = any_store.count(Experiment)
        writer.finish()
        assert inner == after_inner == 1

    @pytest.mark.parametrize(
        "write",
        [
            lambda store: store.save(Experiment(title="Inside")),
            lambda store: store.save_all([Experiment(title="Inside")]),
            lambda store: store.configure("require-consent-for-external", True),
            lambda store: store.import_records(
                connect("memory://").save_all([Experiment(title="Inside")])
            ),
            lambda store: store.delete(store.query(Experiment, limit=1).__next__()),
            lambda store: store.purge(store.query(Experiment, limit=1).__next__()),
        ],
        ids=["save", "save_all", "configure", "import", "delete", "purge"],
    )
    def test_a_write_inside_is_refused_and_writes_nothing(
        self, any_store: Store, write: Callable[[Store], object]
    ) -> None:
        """A write inside the block raises StoreError; the store is as it was."""
        any_store.save(Experiment(title="Before"))
        settings = any_store.configuration()
        with any_store.reading(), pytest.raises(StoreError, match="nothing was written"):
            write(any_store)
        assert [e.title for e in any_store.query(Experiment)] == ["Before"]
        assert any_store.configuration() == settings
        any_store.save(Experiment(title="After"))  # and writes again once it is over

    def test_a_store_not_made_yet_is_not_made_by_a_refused_write(self, backend_url: str) -> None:
        """A participant's slug needs the store's key: refused first, nothing is made."""
        with connect(backend_url, plugins=Plugins(autoload=False)) as store:
            made = store.exists()
            with store.reading(), pytest.raises(StoreError, match="nothing was written"):
                store.save(Participant(slug="ann", role="citizen"))
            assert store.exists() == made
            assert not made or store.count(Participant) == 0

    def test_a_store_that_defines_equality_reads_one_state(self) -> None:
        """Blocks are kept by the store's identity, not its equality (nor its hash)."""

        class Equal(MemoryStore):
            def __eq__(self, other: object) -> bool:
                return isinstance(other, Equal)

            __hash__ = None  # type: ignore[assignment]

        one, two = (Equal(StoreURL.parse(f"memory://{n}")) for n in ("one", "two"))
        one.save(Experiment(title="Walks"))
        with one.reading():
            two.save(Experiment(title="Visits"))  # another store: not refused
            assert one.count(Experiment) == 1

    @pytest.mark.postgres
    def test_postgres_refuses_rows_read_after_the_block(
        self, postgres_url: Callable[..., str]
    ) -> None:
        """Rows still unread when the block ends are refused; the next block reads on."""
        with connect(postgres_url(), plugins=Plugins(autoload=False), create=True) as store:
            store.save_all([Experiment(title=f"Walk {n}") for n in range(2500)])
            with store.reading():
                rows = store.query(Experiment)
                next(rows)
            with pytest.raises(StoreError, match="read on after the block ended"):
                list(rows)
            with store.reading():
                assert store.count(Experiment) == 2500

    def test_the_block_ends_when_its_reads_fail(self, any_store: Store) -> None:
        """An error inside the block ends it: writes work again afterwards."""
        with pytest.raises(KeyError), any_store.reading():
            raise KeyError("inside")
        any_store.save(Experiment(title="After"))
        assert any_store.count(Experiment) == 1

    def test_a_closed_store_refuses_it(self, any_store: Store) -> None:
        """reading() on a closed store raises StoreError, as every read does."""
        any_store.close()
        with pytest.raises(StoreError):
            any_store.reading()


class TestRollupReadsOneState:
    def test_a_batch_committed_during_a_rollup_is_in_none_of_its_figures(
        self, any_store: Store, scheme: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An experiment with its hypothesis and learning, saved as the roll-up reads."""
        welfare = any_store.save(Objective(title="Welfare"))
        walks = any_store.save(Experiment(title="Walks", objectives=[welfare]))
        any_store.save(Hypothesis(experiment=walks, statement="Walks help"))
        visits = Experiment(title="Visits", objectives=[welfare])
        hypothesis = Hypothesis(experiment=visits, statement="Visits help")
        learned = Learning(
            experiment=visits, observation="They did", hypothesis=hypothesis, verdict="supports"
        )
        writer = Writer(any_store, [visits, hypothesis, learned])
        aggregate = any_store.aggregate_tuples

        def first_read_lets_the_writer_in(*args: Any, **kwargs: Any) -> Iterator[Any]:
            if not writer.thread.is_alive() and not writer.committed.is_set():
                writer.start_and_wait(scheme)
            return aggregate(*args, **kwargs)

        monkeypatch.setattr(any_store, "aggregate_tuples", first_read_lets_the_writer_in)
        during = rollup(any_store)
        writer.finish()
        after = rollup(any_store)
        assert (during.total.experiments, sum(during.total.hypotheses.values())) == (1, 1)
        assert during.total.learnings == 0
        assert (after.total.experiments, sum(after.total.hypotheses.values())) == (2, 2)
        assert after.total.learnings == 1
