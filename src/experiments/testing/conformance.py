"""The conformance suite a storage backend must pass.

A backend author subclasses :class:`StoreConformance` in their own tests and provides
one fixture, ``make_store``, returning a factory::

    import pytest
    from experiments import Plugins
    from experiments.testing import StoreConformance


    class TestMyStore(StoreConformance):
        @pytest.fixture
        def make_store(self, tmp_path):
            def make(name="default"):
                return MyStore.open(tmp_path / name, plugins=Plugins(autoload=False))

            return make

``make(name)`` must open the store called ``name``, creating it if need be (file-based
backends: pass ``create=True``): the same name opens the same underlying store again
(that is how the suite closes and reopens it), a new name a fresh, empty one.  Tests of
promises a backend does not declare in its
:attr:`~experiments.stores.Store.capabilities` are skipped with the reason.  An optional
``storage_files`` fixture returning ``(make, name) -> list[Path]`` lets the suite check
that a purge leaves no trace in the backend's files.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from experiments.errors import (
    ConflictError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from experiments.model import (
    Decision,
    Experiment,
    Hypothesis,
    Interpretation,
    InterviewNote,
    Item,
    Learning,
    Measurement,
    Objective,
    Outcome,
    Participant,
    Participation,
    Prototype,
    Questionnaire,
    Record,
    Response,
    Role,
    Sprint,
    Stance,
    SurveyRound,
    Template,
    Term,
    WorkshopAction,
)
from experiments.model.template import Move, ancestors, mandatory_templates
from experiments.plugins import hookimpl
from experiments.query import (
    All,
    AnyOf,
    Condition,
    Count,
    CountDistinct,
    Expr,
    F,
    FieldType,
    Latest,
    Max,
    Min,
    Op,
    Sum,
    combine,
    field_types,
)
from experiments.serialization import to_data
from experiments.stores.base import Capability, Store
from experiments.testing.strategies import RECORD_STRATEGIES, datetimes, records, titles

__all__ = ["MakeStore", "StoreConformance"]

MakeStore = Callable[..., Store]

_FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _same(a: Record, b: Record) -> bool:
    """Equal down to time zones and calendar durations: compares the stored form."""
    return to_data(a) == to_data(b)


def _fresh(record: Record) -> Record:
    """A copy of a drawn record that has never been saved, with a fresh id."""
    return attrs.evolve(record, id="", slug=None, revision=0, deleted_at=None)


def _template_refuses(records: Iterable[Record], record: Record) -> bool:
    """Whether a store holding ``records`` must refuse to save ``record`` as new.

    It must when ``record`` is an experiment saved started (or concluded) while a
    template mandatory for its objectives is not satisfied by the live records.
    """
    if not isinstance(record, Experiment) or record.started_at is None:
        return False
    live = {r.id: r for r in records if not r.deleted}
    parents = {i: r.parent for i, r in live.items() if isinstance(r, Objective)}
    templates = [r for r in live.values() if isinstance(r, Template)]
    binding = mandatory_templates(templates, ancestors(parents, record.objectives))
    if not binding or not record.objectives:
        return False
    return any(_missing(template, record, live) for template in binding)


def _missing(template: Template, record: Experiment, live: dict[str, Record]) -> bool:
    """Whether ``template`` finds something missing for ``record``'s move, given ``live``."""
    owned = [r for r in live.values() if getattr(r, "experiment", None) == record.id]
    people = [
        (p, person)
        for p in owned
        if isinstance(p, Participation)
        and isinstance(person := live.get(p.participant), Participant)
    ]
    sprint = live.get(record.sprint or "")
    concluding = record.concluded_at is not None
    return bool(
        template.missing(
            record,
            Move.CONCLUDE if concluding else Move.START,
            people=people,
            hypotheses=[r for r in owned if isinstance(r, Hypothesis)],
            prototypes=[r for r in owned if isinstance(r, Prototype)],
            sprint=sprint if isinstance(sprint, Sprint) else None,
            at=record.concluded_at if concluding else record.started_at,
        )
    )


def _ids(
    store: Store, kind: type[Record], where: Expr | str | None = None, **filters: object
) -> set[str]:
    """The ids of the records of ``kind`` that ``where`` and ``filters`` select."""
    return {r.id for r in store.query(kind, combine(where, filters))}


def _fresh_all(drawn: list[Record]) -> list[Record]:
    """Fresh copies, one per id (participations of one pair share their id)."""
    return list({r.id: r for r in map(_fresh, drawn)}.values())


class _Recorder:
    """A plugin that writes down every event it is told about."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def object_saved(self, record: Record, previous_revision: int) -> None:
        self.events.append(("saved", (record.id, record.revision, previous_revision)))

    @hookimpl
    def object_purged(self, kind: str, id: str) -> None:  # noqa: A002 - the hook's name
        self.events.append(("purged", (kind, id)))

    @hookimpl
    def experiment_started(self, experiment: Experiment) -> None:
        self.events.append(("started", experiment.id))

    @hookimpl
    def experiment_concluded(self, experiment: Experiment) -> None:
        self.events.append(("concluded", experiment.id))

    @hookimpl
    def experiment_decided(self, experiment: Experiment, decision: Decision | None) -> None:
        self.events.append(("decided", (experiment.id, None if decision is None else decision.id)))

    @hookimpl
    def experiment_abandoned(self, experiment: Experiment) -> None:
        self.events.append(("abandoned", experiment.id))

    @hookimpl
    def learning_recorded(self, learning: Learning) -> None:
        self.events.append(("learning", learning.id))

    @hookimpl
    def measurement_recorded(self, measurement: Measurement) -> None:
        self.events.append(("measurement", measurement.id))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]


class _Raiser:
    @hookimpl
    def object_saved(self) -> None:
        raise RuntimeError("this plugin always fails")


class StoreConformance:
    """Every promise of the store interface, as tests; subclass it with ``make_store``."""

    # --- fixtures -------------------------------------------------------------------

    @pytest.fixture
    def make_store(self) -> MakeStore:
        """Override: a factory ``make(name="default") -> Store`` (see the module docs)."""
        pytest.fail("a StoreConformance subclass must provide the make_store fixture")

    @pytest.fixture
    def storage_files(self) -> Callable[[MakeStore, str], list[Path]] | None:
        """Override: ``(make_store, name) -> paths`` of the files a store keeps, if any."""
        return None

    @pytest.fixture
    def store(self, make_store: MakeStore) -> Iterator[Store]:
        opened = make_store()
        yield opened
        opened.close()

    @staticmethod
    def require(store: Store, capability: Capability) -> None:
        """Skip the calling test when the backend does not promise ``capability``."""
        if capability not in store.capabilities:
            pytest.skip(f"{type(store).__name__} does not declare {capability.value}")

    @staticmethod
    def _programme(store: Store) -> dict[str, Any]:
        """A small connected programme saved into ``store``; returns it by name."""
        objective = store.save(Objective(title="Welfare in 100 days", slug="welfare"))
        experiment = store.save(
            Experiment(
                title="Art for families",
                slug="art-for-families",
                objectives=[objective],
                time_box="2026-03-01T09:00:00+01:00[Europe/Copenhagen]/P6W",
                tags=["culture", "families"],
            )
        )
        other = store.save(Experiment(title="Safer stairwells", objectives=[objective]))
        hypothesis = store.save(Hypothesis(experiment=experiment, statement="Families come back"))
        citizen = store.save(Participant(role=Role.CITIZEN, name="Anna", pseudonymous=True))
        nurse = store.save(Participant(role=Role.FRONTLINE_EMPLOYEE, department="Health"))
        critical = store.save(
            Participation(experiment=experiment, participant=citizen, stance=Stance.CRITICAL)
        )
        friendly = store.save(
            Participation(experiment=experiment, participant=nurse, stance=Stance.SUPPORTIVE)
        )
        learning = store.save(
            Learning(
                experiment=experiment,
                hypothesis=hypothesis,
                observation="Seven families came twice",
                verdict="supports",
                evidence="moderate",
                participants=[citizen, nurse],
                observed_at="2026-03-20T12:00:00+01:00",
            )
        )
        return {
            "objective": objective,
            "experiment": experiment,
            "other": other,
            "hypothesis": hypothesis,
            "citizen": citizen,
            "nurse": nurse,
            "critical": critical,
            "friendly": friendly,
            "learning": learning,
        }

    # --- saving and reading -------------------------------------------------------

    def test_every_kind_round_trips(self, make_store: MakeStore) -> None:
        """Every kind of record reads back exactly as it was saved, time zones included."""

        @_FAST
        @given(record=records())
        def check(record: Record) -> None:
            with make_store(f"round-trip-{uuid.uuid4().hex}") as store:
                saved = store.save(_fresh(record))
                assert saved.revision == 1
                assert _same(store.get(saved.id), saved)

        check()

    def test_save_sets_revision_time_and_author(self, store: Store) -> None:
        """Each save stores the next revision, stamped with when and by whom."""
        first = store.save(Objective(title="Shared welfare"), by="anna")
        second = store.save(first.evolve(title="Shared welfare, v2"), by="bo")
        assert (first.revision, second.revision) == (1, 2)
        assert first.changed_by == "anna"
        assert second.changed_by == "bo"
        assert second.updated_at >= first.updated_at
        assert second.created_at == first.created_at
        assert _same(store.get(first.id), second)

    def test_stale_save_is_a_conflict_and_changes_nothing(self, store: Store) -> None:
        """Saving over a revision someone else replaced raises ConflictError; nothing is lost."""
        first = store.save(Objective(title="Original"))
        theirs = store.save(first.evolve(title="Theirs"))
        with pytest.raises(ConflictError, match="revision 1"):
            store.save(first.evolve(title="Mine"))
        assert _same(store.get(first.id), theirs)
        assert [v.title for v in store.history(first.id)] == ["Original", "Theirs"]  # type: ignore[attr-defined]

    def test_new_record_with_a_taken_id_is_a_conflict(self, store: Store) -> None:
        """Creating an id that exists is a conflict, not an overwrite."""
        first = store.save(Objective(title="First", slug="same"))
        with pytest.raises(ConflictError):
            store.save(Objective(title="Second", slug="same"))
        assert store.get(first.id).title == "First"  # type: ignore[attr-defined]

    def test_create_if_absent(self, store: Store) -> None:
        """create_if_absent creates once, then returns what is stored, unchanged."""
        made = store.create_if_absent(Experiment(title="Pop-up library", slug="pop-up"))
        again = store.create_if_absent(Experiment(title="Another title", slug="pop-up"))
        assert made.revision == 1
        assert _same(again, made)
        assert store.count(Experiment) == 1

    def test_saving_over_another_kinds_id_is_a_conflict(self, store: Store) -> None:
        """A record cannot change kind: saving another kind over its id is refused."""
        objective = store.save(Objective(title="Mine", id="shared-id"))
        impostor = attrs.evolve(Experiment(title="Impostor", id="shared-id"), revision=1)
        with pytest.raises(ConflictError, match="objective"):
            store.save(impostor)
        assert _same(store.get(objective.id), objective)

    def test_create_if_absent_refuses_another_kind(self, store: Store) -> None:
        """An id taken by a record of another kind is a conflict."""
        objective = store.save(Objective(title="Taken", id="shared-id"))
        with pytest.raises(ConflictError, match="objective"):
            store.create_if_absent(Experiment(title="Wants the id", id="shared-id"))
        assert store.get(objective.id).kind == "objective"

    def test_missing_record_is_not_found(self, store: Store) -> None:
        """get of an unknown id raises NotFoundError (a LookupError); find returns None."""
        with pytest.raises(NotFoundError):
            store.get("obj_missing")
        with pytest.raises(LookupError):
            store.get("obj_missing")
        assert store.find("obj_missing") is None
        with pytest.raises(NotFoundError):
            store.history("obj_missing")

    def test_get_checks_the_kind(self, store: Store) -> None:
        """get(id, Kind) refuses a record of another kind."""
        objective = store.save(Objective(title="Welfare"))
        assert store.get(objective.id, Objective) == objective
        with pytest.raises(NotFoundError):
            store.get(objective.id, Experiment)

    def test_get_by_slug(self, store: Store) -> None:
        """A slug finds its record, in every process alike."""
        saved = store.save(Experiment(title="Walk and talk", slug="walk-and-talk"))
        assert _same(store.get_by_slug(Experiment, "walk-and-talk"), saved)

    def test_history_keeps_every_version(self, store: Store) -> None:
        """history() returns each version, oldest first, with who changed it."""
        record = store.save(Objective(title="v1"), by="a")
        for number in range(2, 6):
            record = store.save(record.evolve(title=f"v{number}"), by=f"user{number}")
        history = store.history(record.id)
        assert [v.revision for v in history] == [1, 2, 3, 4, 5]
        assert [v.title for v in history] == ["v1", "v2", "v3", "v4", "v5"]  # type: ignore[attr-defined]
        assert [v.changed_by for v in history] == ["a", "user2", "user3", "user4", "user5"]

    def test_actor_is_recorded(self, make_store: MakeStore) -> None:
        """A store opened for an actor records them as changed_by unless a call says otherwise."""
        with make_store(f"actor-{uuid.uuid4().hex}") as store:
            store.actor = "facilitator"
            saved = store.save(Objective(title="Welfare"))
            assert saved.changed_by == "facilitator"
            assert store.save(saved.evolve(title="x"), by="bo").changed_by == "bo"

    # --- lifecycle ------------------------------------------------------------------

    def test_lifecycle_round_trip(self, store: Store) -> None:
        """An experiment moves planned -> running -> concluded -> decided through the store."""
        experiment = store.save(Experiment(title="Night bus", time_box="P3W"))
        experiment = store.save(experiment.start(at="2026-03-01T08:00:00+01:00"))
        experiment = store.save(experiment.conclude(at="2026-03-22T08:00:00+01:00"))
        decision = Decision(
            experiment=experiment.id,
            outcome=Outcome.SCALE_UP,
            decided_at="2026-03-25T10:00:00+01:00",
        )
        with store.batch() as batch:
            batch.save(decision)
            batch.save(experiment.decide(decision))
        stored = store.get(experiment.id, Experiment)
        assert stored.status.value == "decided"
        assert stored.time_box is not None
        assert stored.time_box.end == pendulum.parse("2026-03-22T08:00:00+01:00")
        assert [v.status.value for v in store.history(experiment.id)] == [  # type: ignore[attr-defined]
            "planned",
            "running",
            "concluded",
            "decided",
        ]

    def test_illegal_lifecycle_moves_are_refused(self, store: Store) -> None:
        """A save that is not a legal move from the stored version changes nothing."""
        experiment = store.save(Experiment(title="Night bus", time_box="P3W"))
        running = store.save(experiment.start(at="2026-03-01T08:00:00+01:00"))
        concluded = store.save(running.conclude(at="2026-03-22T08:00:00+01:00"))
        decision = Decision(
            experiment=concluded, outcome=Outcome.ITERATE, decided_at="2026-03-25T10:00:00Z"
        )
        with store.batch() as batch:
            batch.save(decision)
            decided = batch.save(concluded.decide(decision))
        back = attrs.evolve(decided, status="running", concluded_at=None, decided_at=None)
        with pytest.raises(ValidationError, match=r"from decided back to running; it is final"):
            store.save(back)
        moved = "2026-03-02T08:00:00+01:00"
        restarted = attrs.evolve(
            decided, status="concluded", decided_at=None, revision=decided.revision
        )
        with pytest.raises(ValidationError, match=r"back to concluded"):
            store.save(restarted)
        with pytest.raises(ValidationError, match="changes its started_at"):
            store.save(attrs.evolve(store.get(decided.id, Experiment), started_at=moved))
        assert store.get(decided.id) == decided
        assert [v.status.value for v in store.history(decided.id)] == [  # type: ignore[attr-defined]
            "planned",
            "running",
            "concluded",
            "decided",
        ]
        edited = store.save(decided.evolve(title="Night bus, the route"))  # not a move: fine
        assert edited.status.value == "decided"
        skipped = store.save(Experiment(title="Walks"))
        done = store.save(
            skipped.start(at="2026-03-01T08:00:00Z").conclude(at="2026-03-02T08:00:00Z")
        )
        assert done.status.value == "concluded"  # two moves in one save are legal moves still

    def test_a_second_decision_must_revise_the_first(self, store: Store) -> None:
        """Changing a decision is explicit; the earlier one stays, the revision is in force."""
        experiment = store.save(Experiment(title="Night bus"))
        experiment = store.save(
            experiment.start(at="2026-03-01T08:00:00Z").conclude(at="2026-03-22T08:00:00Z")
        )
        first = Decision(
            experiment=experiment, outcome=Outcome.ITERATE, decided_at="2026-03-25T10:00:00Z"
        )
        with store.batch() as batch:
            first = batch.save(first)
            batch.save(experiment.decide(first))
        second = Decision(
            experiment=experiment, outcome=Outcome.STOP, decided_at="2026-04-01T10:00:00Z"
        )
        with pytest.raises(
            ValidationError, match=r"already has a decision in force: iterate.*revise"
        ):
            store.save(second)
        with pytest.raises(ValidationError, match="rationale is required"):
            attrs.evolve(second, revises=first.id)
        early = first.revised("stop", rationale="Too costly", decided_at="2026-03-20T10:00:00Z")
        with pytest.raises(ValidationError, match="before the decision it revises"):
            store.save(early)
        with pytest.raises(ValidationError, match="cannot change the outcome"):
            store.save(first.evolve(outcome="scale-up"))
        revision = store.save(
            first.revised("stop", rationale="Too costly", decided_at="2026-04-01T10:00:00Z")
        )
        assert revision.revises == first.id
        assert sorted(d.outcome.value for d in store.query(Decision)) == ["iterate", "stop"]
        stale = first.revised("pivot", rationale="Another way", decided_at="2026-04-02T10:00:00Z")
        with pytest.raises(
            ValidationError, match=f"in force about experiment .* is {revision.id!r}"
        ):
            store.save(stale)
        assert store.verify() == []

    def test_verify_finds_illegal_histories(self, store: Store) -> None:
        """Imported histories that break the rules are reported, never hidden."""
        planned = Experiment(title="Night bus", revision=1)
        running = planned.start(at="2026-03-01T08:00:00Z").evolve(revision=2)
        back = attrs.evolve(running, status="planned", started_at=None, revision=3)
        one = Decision(experiment=planned.id, outcome="stop", decided_at="2026-03-25T10:00:00Z")
        two = Decision(experiment=planned.id, outcome="scale-up", decided_at="2026-03-26T10:00:00Z")
        store.import_records(
            [planned, running, back, one.evolve(revision=1), two.evolve(revision=1)]
        )
        problems = [str(d) for d in store.verify()]
        assert any("revision 3" in p and "back to planned" in p for p in problems), problems
        assert any("second decision" in p and one.id in p for p in problems), problems

    def test_references_resolve_by_record_id_or_slug(self, store: Store) -> None:
        """One way of naming a record everywhere; a miss is an error that suggests, never empty."""
        programme = self._programme(store)
        experiment, citizen = programme["experiment"], programme["citizen"]
        for reference in (experiment, experiment.id, "art-for-families", " art-for-families "):
            assert store.resolve(reference, Experiment) == experiment
        assert store.resolve("art-for-families") == experiment  # any kind, by slug
        with pytest.raises(
            NotFoundError, match=r"'art-for-familys'.*did you mean 'art-for-families'"
        ):
            store.resolve("art-for-familys", Experiment)
        with pytest.raises(NotFoundError, match="no objective with id or slug 'art-for-families'"):
            store.resolve("art-for-families", Objective)
        with pytest.raises(ValidationError, match="is not a objective"):
            store.resolve(experiment, Objective)
        assert store.resolve(citizen.id, Participant) == citizen
        named = store.save(
            Participant(role=Role.CITIZEN, name="Bo", slug="bo-b", pseudonymous=True)
        )
        with pytest.raises(NotFoundError) as missed:
            store.resolve("bo-b", Participant)  # a pseudonymous person is named by id only
        assert "did you mean" not in str(missed.value)
        assert store.resolve(named.id, Participant) == named
        deleted = store.delete(programme["other"])
        with pytest.raises(NotFoundError, match="is deleted") as gone:
            store.resolve(deleted.id, Experiment)
        assert gone.value.deleted_id == deleted.id
        assert store.resolve(deleted.id, Experiment, include_deleted=True).deleted

    def test_erase_keeps_the_counts(self, store: Store) -> None:
        """An erasure removes the name from every version and keeps what is counted."""
        self.require(store, Capability.ERASURE)
        programme = self._programme(store)
        citizen = programme["citizen"]
        learning = programme["learning"]
        store.save(store.get(learning.id).evolve(insight="Anna came with her neighbour"))
        counted = store.count("participation", stance="critical")
        report = store.erase(citizen.id)
        assert report.participant == citizen.id
        assert "name" in report.removed
        remainder = store.get(citizen.id)
        assert isinstance(remainder, Participant)
        assert (remainder.name, remainder.role, remainder.pseudonymous) == (
            None,
            Role.CITIZEN,
            True,
        )
        assert store.count("participation", stance="critical") == counted
        held = [to_data(r) for r in store.export()]
        assert "Anna" not in repr(held)
        assert learning.id in report.quoted_in
        assert store.verify() == []

    def test_filters_resolve_references(self, store: Store) -> None:
        """A filter on a reference field takes a slug; an unknown one is an error."""
        programme = self._programme(store)
        where = store.resolve_where(Hypothesis, "experiment = art-for-families")
        assert [h.id for h in store.query(Hypothesis, where)] == [programme["hypothesis"].id]
        where = store.resolve_where(Participation, experiment=["art-for-families"])
        assert store.count(Participation, where) == 2
        where = store.resolve_where(Experiment, objective="welfare")
        assert store.count(Experiment, where) == 2
        with pytest.raises(NotFoundError, match="no experiment with id or slug 'art-for-famly'"):
            store.resolve_where(Hypothesis, "experiment = art-for-famly")
        with pytest.raises(ValidationError, match="no field"):
            store.resolve_where(Hypothesis, "colour = red")

    # --- soft delete, restore, purge ------------------------------------------------

    def test_soft_delete_hides_and_restore_brings_back(self, store: Store) -> None:
        """A deleted record is hidden from get and queries, kept in history, and restorable."""
        record = store.save(Objective(title="Welfare"))
        deleted = store.delete(record)
        assert deleted.deleted
        assert deleted.revision == 2
        with pytest.raises(NotFoundError, match="deleted"):
            store.get(record.id)
        assert store.find(record.id) is None
        assert store.get(record.id, include_deleted=True).deleted
        assert list(store.query(Objective)) == []
        assert [r.id for r in store.query(Objective, include_deleted=True)] == [record.id]
        assert store.count(Objective) == 0
        restored = store.restore(record.id)
        assert not restored.deleted
        assert restored.revision == 3
        assert _same(store.get(record.id), restored)
        assert [v.deleted for v in store.history(record.id)] == [False, True, False]

    def test_a_stale_copy_cannot_be_deleted_or_restored(self, store: Store) -> None:
        """Delete or restore through an old copy is a conflict; through the id it works."""
        record = store.save(Objective(title="Welfare"))
        changed = store.save(record.evolve(title="Welfare for all"))
        with pytest.raises(ConflictError, match=r"revision 1.*revision 2"):
            store.delete(record)
        assert not store.get(record.id).deleted
        deleted = store.delete(changed)
        with pytest.raises(ConflictError, match="pass its id"):
            store.restore(changed)
        assert store.get(record.id, include_deleted=True).deleted
        assert not store.restore(deleted).deleted
        assert store.delete(record.id).deleted
        assert not store.restore(record.id).deleted
        assert [v.revision for v in store.history(record.id)] == [1, 2, 3, 4, 5, 6]

    def test_purge_leaves_nothing_readable(self, store: Store) -> None:
        """A purged record and its versions are gone from get, history, queries and export."""
        programme = self._programme(store)
        citizen = programme["citizen"]
        store.save(citizen.evolve(department="Nørrebro"))
        report = store.purge(citizen)
        assert citizen.id in report.purged
        assert programme["critical"].id in report.purged  # their participation goes too
        assert programme["learning"].id in report.unlinked  # the learning only loses them
        assert store.find(citizen.id, include_deleted=True) is None
        with pytest.raises(NotFoundError):
            store.history(citizen.id)
        assert store.find(programme["critical"].id, include_deleted=True) is None
        learning = store.get(programme["learning"].id, Learning)
        assert learning.participants == (programme["nurse"].id,)
        exported = [r.id for r in store.export()]
        assert citizen.id not in exported
        assert programme["critical"].id not in exported
        assert all(
            citizen.id not in str(to_data(r))
            for r in store.export()
            if r.id != learning.id or r.revision == learning.revision
        )
        with pytest.raises(NotFoundError):
            store.purge(citizen.id)

    def test_purge_leaves_no_trace_in_files(
        self,
        make_store: MakeStore,
        storage_files: Callable[[MakeStore, str], list[Path]] | None,
    ) -> None:
        """After a purge and close, the backend's files hold no byte of the purged record."""
        if storage_files is None:
            pytest.skip("the backend provides no storage_files fixture to inspect")
        files = storage_files
        name = f"purge-{uuid.uuid4().hex}"
        marker = f"Secret-{uuid.uuid4().hex}"
        with make_store(name) as store:
            person = store.save(Participant(role=Role.CITIZEN, name=marker))
            store.save(person.evolve(department=f"{marker}-unit"))
            for number in range(50):  # other data around it, so pages get reused
                store.save(Objective(title=f"Objective {number}"))
            store.purge(person)
        leftovers = [p for p in files(make_store, name) if marker.encode() in p.read_bytes()]
        assert leftovers == []

    def test_purge_of_an_experiment_takes_its_records(self, store: Store) -> None:
        """Purging an experiment purges what cannot stand without it, and unlinks the rest."""
        programme = self._programme(store)
        report = store.purge(programme["experiment"])
        for name in ("experiment", "hypothesis", "learning", "critical", "friendly"):
            assert programme[name].id in report.purged
        assert store.find(programme["citizen"].id) is not None
        assert store.find(programme["objective"].id) is not None
        assert store.verify() == []

    def _survey(self, store: Store) -> dict[str, Record]:
        """A questionnaire with an item, a round with responses, a note, a term in use."""
        term = store.save(Term(slug="citizen", word="citizen"))
        objective = store.save(Objective(title="Welfare", terms=[term]))
        questionnaire = store.save(Questionnaire(title="Maturity", objectives=[objective]))
        item = store.save(
            Item(
                questionnaire=questionnaire,
                code="L1",
                dimension="Leadership",
                statement="Leaders talk about citizens",
                terms=[term],
            )
        )
        survey_round = store.save(SurveyRound(questionnaire=questionnaire, title="Spring"))
        person = store.save(Participant(role=Role.EMPLOYEE, pseudonymous=True))
        named = store.save(
            Response(
                round=survey_round, department="Home Care", answers={"L1": 4}, participant=person
            )
        )
        anonymous = store.save(
            Response(round=survey_round, department="Culture", answers={"L1": 2})
        )
        note = store.save(InterviewNote(text="Citizens are the call centre's", items=[item]))
        action = store.save(
            WorkshopAction(title="Agree what a citizen is", objectives=[objective], items=[item])
        )
        reading = store.save(
            Interpretation(term=term, department="Home Care", text="Whoever we visit")
        )
        return {
            "term": term,
            "objective": objective,
            "questionnaire": questionnaire,
            "item": item,
            "round": survey_round,
            "person": person,
            "named": named,
            "anonymous": anonymous,
            "note": note,
            "action": action,
            "reading": reading,
        }

    def test_responses_are_found_by_round(self, store: Store) -> None:
        """A round's responses, and the items of a questionnaire, are found by reference."""
        survey = self._survey(store)
        found = {r.id for r in store.query(Response, round=survey["round"].id)}
        assert found == {survey["named"].id, survey["anonymous"].id}
        assert [i.id for i in store.query(Item, questionnaire=survey["questionnaire"].id)] == [
            survey["item"].id
        ]
        assert [o.id for o in store.query(Objective, terms=survey["term"].id)] == [
            survey["objective"].id
        ]

    def test_purge_of_a_respondent_takes_their_responses(self, store: Store) -> None:
        """Purging a pseudonymous participant purges the responses that name them."""
        survey = self._survey(store)
        report = store.purge(survey["person"])
        assert survey["named"].id in report.purged
        assert store.find(survey["anonymous"].id) is not None
        assert store.verify() == []

    def test_purge_of_a_questionnaire_takes_its_analysis(self, store: Store) -> None:
        """Items, rounds and responses go with their questionnaire; notes and actions let go."""
        survey = self._survey(store)
        report = store.purge(survey["questionnaire"])
        for name in ("questionnaire", "item", "round", "named", "anonymous"):
            assert survey[name].id in report.purged
        assert store.get(survey["note"].id, InterviewNote).items == ()
        assert store.get(survey["action"].id, WorkshopAction).items == ()
        assert store.verify() == []

    def test_purge_of_a_term_unlinks_it(self, store: Store) -> None:
        """A purged term leaves the records using it, and takes departments' readings."""
        survey = self._survey(store)
        report = store.purge(survey["term"])
        assert survey["reading"].id in report.purged
        assert store.get(survey["objective"].id, Objective).terms == ()
        assert store.get(survey["item"].id, Item).terms == ()
        assert store.verify() == []

    # --- batches --------------------------------------------------------------------

    def test_batch_is_all_or_nothing(self, store: Store) -> None:
        """A batch with one conflicting write writes nothing at all."""
        existing = store.save(Objective(title="Existing"))
        store.save(existing.evolve(title="Changed elsewhere"))
        before = [to_data(r) for r in store.export()]
        with pytest.raises(ConflictError), store.batch() as batch:
            for number in range(20):
                batch.save(Measurement(metric="visits", value=number))
            batch.save(existing.evolve(title="Stale"))
            batch.save(Objective(title="After the conflict"))
        assert [to_data(r) for r in store.export()] == before

    def test_batch_discards_on_exception(self, store: Store) -> None:
        """An exception inside a batch's with-block discards the batch."""
        with pytest.raises(RuntimeError), store.batch() as batch:
            batch.save(Objective(title="Never stored"))
            raise RuntimeError("stop")
        assert store.count(Objective) == 0

    def test_batch_can_save_a_record_twice(self, store: Store) -> None:
        """Within a batch, a saved record can be saved again as its next revision."""
        with store.batch() as batch:
            saved = batch.save(Experiment(title="Two steps"))
            started = batch.save(saved.start())
        assert started.revision == 2
        assert [v.status.value for v in store.history(saved.id)] == ["planned", "running"]  # type: ignore[attr-defined]

    def test_batch_writes_the_last_of_a_new_records_revisions(self, store: Store) -> None:
        """A record made, started and concluded in a batch among others is found as its
        last revision by every query, with each revision in its history."""
        with store.batch() as batch:
            for number in range(5):
                batch.save(Objective(title=f"Objective {number}"))
            made = batch.save(Experiment(title="Three steps", tags=["draft"]))
            started = batch.save(made.start(at="2026-05-01T10:00:00Z").evolve(tags=["pilot"]))
            batch.save(Objective(title="Between"))
            batch.save(started.conclude(at="2026-05-20T10:00:00Z"))
        assert store.get(made.id, Experiment).revision == 3
        assert _ids(store, Experiment, status="concluded") == {made.id}
        assert _ids(store, Experiment, tag="pilot") == {made.id}
        assert _ids(store, Experiment, tag="draft") == set()
        assert [v.revision for v in store.history(made.id)] == [1, 2, 3]
        assert store.count(Objective) == 6
        assert store.verify() == []

    def test_batch_with_a_new_record_already_stored_writes_nothing(self, store: Store) -> None:
        """A batch that makes a record whose id is taken, and changes it, writes nothing."""
        taken = store.save(Objective(title="Taken", slug="taken"))
        before = [to_data(r) for r in store.export()]
        with pytest.raises(ConflictError), store.batch() as batch:
            batch.save(Objective(title="Fresh"))
            again = batch.save(Objective(title="Again", slug="taken"))
            assert again.id == taken.id
            batch.save(again.evolve(title="Again, changed"))
        assert [to_data(r) for r in store.export()] == before

    def test_batch_making_and_moving_a_taken_id_writes_nothing(self, store: Store) -> None:
        """A batch that makes a record whose id is taken, and starts it, writes nothing."""
        taken = store.save(Experiment(title="Taken", slug="taken"))
        before = [to_data(r) for r in store.export()]
        with pytest.raises(ConflictError), store.batch() as batch:
            made = batch.save(Experiment(title="Again", slug="taken"))
            assert made.id == taken.id
            batch.save(made.start())
        assert [to_data(r) for r in store.export()] == before
        assert [v.revision for v in store.history(taken.id)] == [1]

    def test_batch_making_one_id_twice_writes_nothing(self, store: Store) -> None:
        """A batch that makes two new records with one id is a conflict and writes nothing."""
        with pytest.raises(ConflictError), store.batch() as batch:
            batch.save(Objective(title="First", slug="twice"))
            batch.save(Objective(title="Second", slug="twice"))
        assert store.count(Objective, include_deleted=True) == 0

    def test_load_many_reads_what_load_reads(self, store: Store) -> None:
        """``_load_many`` (the backend's own, or the default) gives what ``_load`` gives for
        each id stored, a deleted record's too, and nothing for an id not stored."""
        saved = store.save_all(Objective(title=f"Objective {n}") for n in range(12))
        store.delete(saved[3])
        ids = [r.id for r in saved[::2]] + [saved[3].id, "obj_missing", "not-stored"]
        loaded = store._load_many(ids)  # noqa: SLF001 - the primitive under test
        assert set(loaded) == {r.id for r in saved[::2]} | {saved[3].id}
        assert loaded == {i: store._load(i) for i in loaded}  # noqa: SLF001
        assert store._load_many([]) == {}  # noqa: SLF001

    def test_save_all_many(self, store: Store) -> None:
        """save_all stores hundreds of records in one go."""
        saved = store.save_all(Measurement(metric="visits", value=n) for n in range(500))
        assert len(saved) == 500
        assert store.count(Measurement) == 500

    # --- queries --------------------------------------------------------------------

    def test_query_filters(self, store: Store) -> None:
        """Equality, IN, OR, NOT, list membership and text filters select the right records."""
        p = self._programme(store)
        experiment, other = p["experiment"].id, p["other"].id
        assert _ids(store, Experiment, objective=p["objective"].id) == {experiment, other}
        assert _ids(store, Experiment, tag="culture") == {experiment}
        assert _ids(store, Experiment, F.tags.contains("nope")) == set()
        assert _ids(store, Experiment, (F.tags == "culture") | (F.title == "Safer stairwells")) == {
            experiment,
            other,
        }
        assert _ids(store, Experiment, ~(F.tags == "culture")) == {other}
        assert _ids(store, Participation, stance="critical") == {p["critical"].id}
        assert _ids(store, Participation, stance=["critical", "supportive"]) == {
            p["critical"].id,
            p["friendly"].id,
        }
        assert _ids(store, Participant, role="frontline-employee") == {p["nurse"].id}
        assert _ids(
            store, Hypothesis, f"experiment = '{experiment}' and not (statement = 'x')"
        ) == {p["hypothesis"].id}
        assert _ids(store, Experiment, F.status.not_in(["running"])) == {experiment, other}

    def test_query_filters_on_absent_values_and_times(self, store: Store) -> None:
        """None compares as "no value"; times compare as instants over half-open ranges."""
        p = self._programme(store)
        assert _ids(store, Participant, F.department == None) == {p["citizen"].id}  # noqa: E711 - None means absent
        assert _ids(store, Participant, F.department != None) == {p["nurse"].id}  # noqa: E711
        assert _ids(store, Participant, F.department != "Health") == set()
        assert _ids(
            store, Learning, F.observed_at.between("2026-03-20T10:00:00Z", "2026-03-20T12:00:00Z")
        ) == {p["learning"].id}
        assert _ids(store, Learning, F.observed_at < "2026-03-20T11:00:00Z") == set()

    def test_query_membership_lists_with_none(self, store: Store) -> None:
        """None in an IN list takes records without a value; NOT IN always leaves them out."""
        p = self._programme(store)
        other = p["other"].id
        both = {p["citizen"].id, p["nurse"].id}
        assert _ids(store, Participant, F.department.in_([None, "Health"])) == both
        assert _ids(store, Participant, F.department.in_([None])) == {p["citizen"].id}
        assert _ids(store, Participant, F.department.not_in([None, "Nowhere"])) == {p["nurse"].id}
        assert _ids(store, Experiment, F.tags.in_([None])) == {other}
        assert _ids(store, Experiment, F.tags.not_in([None, "culture"])) == set()
        assert _ids(store, Experiment, F.tags.not_in(["families"])) == {other}

    def test_query_refuses_bad_filters(self, store: Store) -> None:
        """Unknown fields and impossible values are clear validation errors."""
        with pytest.raises(ValidationError, match="no field"):
            list(store.query(Experiment, colour="red"))
        with pytest.raises(ValidationError, match="planned"):
            list(store.query(Experiment, status="finished"))
        with pytest.raises(ValidationError, match="unknown kind"):
            list(store.query("nonsense"))
        with pytest.raises(ValidationError):
            list(store.query(Experiment, F.time_box == "P2W"))
        with pytest.raises(ValidationError, match="only whether it is set"):
            list(store.query(Hypothesis, F.criterion == "visits >= 3"))

    def test_structured_fields_filter_on_being_set(self, store: Store) -> None:
        """A structured field (a criterion, metadata) can be asked whether it is set."""
        judged = store.save(Hypothesis(experiment="exp_1", statement="x", criterion="v >= 3"))
        open_ended = store.save(Hypothesis(experiment="exp_1", statement="y"))
        assert [h.id for h in store.query(Hypothesis, F.criterion != None)] == [judged.id]  # noqa: E711
        assert [h.id for h in store.query(Hypothesis, F.criterion == None)] == [open_ended.id]  # noqa: E711
        assert store.count(Hypothesis, F.criterion != None) == 1  # noqa: E711

    def test_next_steps_filter_on_there_being_any(self, store: Store) -> None:
        """A decision's next steps are set, as a list is, when there is at least one."""
        acting = store.save(
            Decision(experiment="exp_1", outcome="scale-up", next_steps=["Tell the board"])
        )
        done = store.save(Decision(experiment="exp_2", outcome="stop"))
        for pushdown in (True, False):
            with_steps = store.query(Decision, F.next_steps != None, pushdown=pushdown)  # noqa: E711
            without = store.query(Decision, F.next_steps == None, pushdown=pushdown)  # noqa: E711
            assert [d.id for d in with_steps] == [acting.id]
            assert [d.id for d in without] == [done.id]

    def test_query_orders_limits_and_offsets(self, store: Store) -> None:
        """order_by sorts (None first ascending), ties go by id; limit and offset page."""
        for number, owner in enumerate(["b", None, "a", "c", None, "a"]):
            store.save(Experiment(title=f"E{number}", owner=owner))
        by_owner = [(r.owner, r.id) for r in store.query(Experiment, order_by="owner")]
        assert [o for o, _ in by_owner] == [None, None, "a", "a", "b", "c"]
        assert by_owner == sorted(
            by_owner, key=lambda pair: ((0, "") if pair[0] is None else (1, pair[0]), pair[1])
        )
        descending = [r.owner for r in store.query(Experiment, order_by="-owner")]
        assert descending == ["c", "b", "a", "a", None, None]
        page = [r.owner for r in store.query(Experiment, order_by="owner", limit=2, offset=2)]
        assert page == ["a", "a"]
        ids = [r.id for r in store.query(Experiment)]
        assert ids == sorted(ids)

    def test_query_streams(self, store: Store) -> None:
        """A query is a lazy iterator: the first result comes before the rest are read."""
        store.save_all(Measurement(metric="visits", value=n) for n in range(2000))
        results = store.query(Measurement)
        assert iter(results) is results
        first = next(results)
        assert isinstance(first, Measurement)
        assert sum(1 for _ in results) == 1999

    def test_pushed_down_queries_equal_the_fallback(self, make_store: MakeStore) -> None:
        """Filters and orders the engine runs give exactly what the Python fallback gives."""

        @_FAST
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            with make_store(f"query-{uuid.uuid4().hex}") as store:
                kinds: list[type[Record]] = [Experiment, Learning, Participant, Measurement]
                kind = data.draw(st.sampled_from(kinds))
                saved = store.save_all(
                    _fresh_all(data.draw(st.lists(RECORD_STRATEGIES[kind], max_size=12)))
                )
                delete_first: bool = data.draw(st.booleans())
                if saved and delete_first:
                    store.delete(saved[0])
                where = _named_only(
                    kind.kind, data.draw(_filters(kind.kind, [to_data(r) for r in saved]))
                )
                order = data.draw(_orders(kind.kind))
                limit = data.draw(st.one_of(st.none(), st.integers(0, 5)))
                include = data.draw(st.booleans())
                note(f"where={where!r} order={order!r} limit={limit}")
                engine = [
                    to_data(r)
                    for r in store.query(
                        kind, where, order_by=order, limit=limit, include_deleted=include
                    )
                ]
                python = [
                    to_data(r)
                    for r in store.query(
                        kind,
                        where,
                        order_by=order,
                        limit=limit,
                        include_deleted=include,
                        pushdown=False,
                    )
                ]
                assert engine == python

        check()

    # --- aggregation ------------------------------------------------------------------

    def test_aggregate_counts_and_latest(self, store: Store) -> None:
        """Counts by group and the latest value by time come out as computed by hand."""
        p = self._programme(store)
        store.save(
            Learning(
                experiment=p["experiment"],
                hypothesis=p["hypothesis"],
                observation="The second month was quieter",
                verdict="refutes",
                observed_at="2026-04-20T12:00:00+02:00",
            )
        )
        by_status = {
            r["status"]: r["count"] for r in store.aggregate(Experiment, group_by=["status"])
        }
        assert by_status == {"planned": 2}
        latest = list(
            store.aggregate(
                Learning,
                group_by=["hypothesis"],
                measures={
                    "verdict": Latest("verdict", by="observed_at"),
                    "n": Count(),
                    "last": Max("observed_at"),
                },
            )
        )
        assert latest == [
            {
                "hypothesis": p["hypothesis"].id,
                "verdict": "refutes",
                "n": 2,
                "last": "2026-04-20T10:00:00.000000Z",
            }
        ]
        by_objective = list(store.aggregate(Experiment, group_by=["objectives"]))
        assert by_objective == [{"objectives": p["objective"].id, "count": 2}]
        assert store.count(Experiment) == 2
        assert list(
            store.aggregate(Measurement, measures={"total": Sum("value"), "n": Count()})
        ) == [{"total": None, "n": 0}]

    def test_latest_values_by_one_order_come_from_one_record(self, store: Store) -> None:
        """Latest values by the same time come from each group's latest record, ties by id."""
        p = self._programme(store)
        second = store.save(Hypothesis(experiment=p["experiment"], statement="Neighbours join"))
        later, *tied = store.save_all(
            Learning(
                experiment=p["experiment"],
                hypothesis=hypothesis,
                observation=text,
                verdict=verdict,
                evidence=evidence,
                observed_at=moment,
            )
            for hypothesis, text, verdict, evidence, moment in (
                (p["hypothesis"], "Quieter in April", "refutes", "strong", "2026-04-20T12:00Z"),
                (second, "Neighbours came", "supports", "weak", "2026-04-01T10:00:00+02:00"),
                (second, "Neighbours stayed away", "refutes", "weak", "2026-04-01T10:00:00+02:00"),
            )
        )
        winner = max(tied, key=lambda learning: learning.id)
        assert isinstance(winner, Learning)
        assert winner.verdict is not None
        measures = {
            "verdict": Latest("verdict", by="observed_at"),
            "evidence": Latest("evidence", by="observed_at"),
            "id": Latest("id", by="observed_at"),
        }
        expected = {
            (p["hypothesis"].id, "refutes", "strong", later.id),
            (second.id, winner.verdict.value, "weak", winner.id),
        }
        for pushdown in (True, False):
            rows = store.aggregate_tuples(
                Learning, group_by=["hypothesis"], measures=measures, pushdown=pushdown
            )
            assert set(rows) == expected

    def test_sums_round_once(self, store: Store) -> None:
        """A sum is exact until one final rounding, as math.fsum gives it, and a float."""
        values = [1e16, 1.0, -1e16, 0.1, 0.1, 0.1]
        store.save_all(Measurement(metric="cancels", value=v) for v in values)
        rows = list(store.aggregate(Measurement, measures={"total": Sum("value")}))
        assert rows == [{"total": math.fsum(values)}]
        assert isinstance(rows[0]["total"], float)
        revisions = list(store.aggregate(Measurement, measures={"total": Sum("revision")}))
        assert revisions == [{"total": 6.0}]

    def test_pushed_down_aggregation_equals_the_fallback(self, make_store: MakeStore) -> None:
        """Grouping and measures computed by the engine equal the streaming fallback."""

        @_FAST
        @given(data=st.data())
        def check(data: st.DataObject) -> None:
            with make_store(f"aggregate-{uuid.uuid4().hex}") as store:
                kinds: list[type[Record]] = [
                    Experiment,
                    Learning,
                    Participation,
                    Measurement,
                    Participant,
                ]
                kind = data.draw(st.sampled_from(kinds))
                saved = store.save_all(
                    _fresh_all(data.draw(st.lists(RECORD_STRATEGIES[kind], max_size=15)))
                )
                rows = [to_data(r) for r in saved]
                fields = _usable_fields(kind.kind)
                group_by = data.draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))
                measures = data.draw(_measures(kind.kind))
                where = _named_only(
                    kind.kind, data.draw(st.one_of(st.none(), _filters(kind.kind, rows)))
                )
                note(f"group_by={group_by} measures={measures} where={where!r}")
                engine = list(
                    store.aggregate(kind, group_by=group_by, measures=measures, where=where)
                )
                python = list(
                    store.aggregate(
                        kind, group_by=group_by, measures=measures, where=where, pushdown=False
                    )
                )
                assert _canonical(engine) == _canonical(python)
                labels = [*group_by, *measures]
                tuples = store.aggregate_tuples(
                    kind, group_by=group_by, measures=measures, where=where
                )
                as_dicts = [dict(zip(labels, row, strict=True)) for row in tuples]
                assert _canonical(as_dicts) == _canonical(python)

        check()

    def test_aggregate_tuples_hold_the_fields_then_the_measures(self, store: Store) -> None:
        """Aggregated rows as tuples: the grouped fields, then the measures, in order."""
        p = self._programme(store)
        rows = list(
            store.aggregate_tuples(
                Learning,
                group_by=["hypothesis"],
                measures={"n": Count(), "last": Max("observed_at")},
            )
        )
        assert rows == [(p["hypothesis"].id, 1, "2026-03-20T11:00:00.000000Z")]
        empty = store.aggregate_tuples(Measurement, measures={"total": Sum("value"), "n": Count()})
        assert list(empty) == [(None, 0)]
        assert list(store.aggregate_tuples(Measurement, pushdown=False)) == [(0,)]

    # --- export and import ----------------------------------------------------------

    def test_export_import_is_lossless_and_idempotent(self, make_store: MakeStore) -> None:
        """An export imported into a fresh store exports the same; importing twice adds nothing."""
        with make_store(f"source-{uuid.uuid4().hex}") as source:
            p = self._programme(source)
            source.save(p["experiment"].start())
            source.delete(p["other"])
            exported = list(source.export())
        with make_store(f"target-{uuid.uuid4().hex}") as target:
            first = target.import_records(exported)
            assert first.added == len(exported)
            assert first.unchanged == 0
            again = target.import_records(exported)
            assert again.added == 0
            assert again.unchanged == len(exported)
            assert [to_data(r) for r in target.export()] == [to_data(r) for r in exported]
            assert target.find(p["other"].id) is None  # still deleted
            assert target.get(p["experiment"].id, Experiment).status.value == "running"

    def test_count_versions_is_what_export_yields(self, store: Store) -> None:
        """count_versions() counts every version export() yields, deleted records' too."""
        assert store.count_versions() == 0
        p = self._programme(store)
        store.save(p["experiment"].start())
        store.delete(p["other"])
        assert store.count_versions() == len(list(store.export()))

    def test_import_refuses_another_kind_and_revision_zero(self, store: Store) -> None:
        """An imported version cannot change a record's kind, be a never-saved copy or
        something else than a record."""
        objective = store.save(Objective(title="Mine", id="shared-1"))
        impostor = attrs.evolve(Experiment(title="Impostor", id="shared-1"), revision=2)
        with pytest.raises(ConflictError, match="objective"):
            store.import_records([impostor])
        with pytest.raises(ValidationError, match="revision 0"):
            store.import_records([Objective(title="Never saved")])
        with pytest.raises(ValidationError, match="only records can be imported"):
            store.import_records([objective, None])  # type: ignore[list-item]
        assert [to_data(v) for v in store.history(objective.id)] == [to_data(objective)]
        assert store.count() == 1

    def test_import_conflict_imports_nothing(self, make_store: MakeStore) -> None:
        """A version that differs from the stored one with the same revision stops the import."""
        with make_store(f"import-{uuid.uuid4().hex}") as store:
            mine = store.save(Objective(title="Mine"))
            forged = [
                Objective(title="Unrelated"),
                attrs.evolve(mine, title="Forged"),
            ]
            forged = [attrs.evolve(forged[0], revision=1), forged[1]]
            before = [to_data(r) for r in store.export()]
            with pytest.raises(ConflictError):
                store.import_records(forged)
            assert [to_data(r) for r in store.export()] == before

    # --- closing, reopening, threads --------------------------------------------------

    def test_closed_store_refuses_use(self, make_store: MakeStore) -> None:
        """A closed store raises StoreError; closing twice is harmless."""
        store = make_store(f"closed-{uuid.uuid4().hex}")
        store.save(Objective(title="Before closing"))
        store.close()
        store.close()
        assert store.closed
        with pytest.raises(StoreError, match="closed"):
            store.save(Objective(title="After closing"))
        with pytest.raises(StoreError, match="closed"):
            list(store.query(Objective))

    def test_data_survives_reopening(self, make_store: MakeStore) -> None:
        """What was saved is there after closing the store and opening it again."""
        name = f"reopen-{uuid.uuid4().hex}"
        with make_store(name) as store:
            self.require(store, Capability.PERSISTENT)
            programme = self._programme(store)
            exported = [to_data(r) for r in store.export()]
        with make_store(name) as again:
            assert [to_data(r) for r in again.export()] == exported
            assert _same(again.get(programme["learning"].id), programme["learning"])

    def test_reading_sees_one_state(self, store: Store) -> None:
        """A save another thread makes inside ``reading()`` shows only after the block.

        A backend that holds writers back meanwhile (a lock) passes as one that lets
        them commit unseen (a snapshot).
        """
        self.require(store, Capability.SNAPSHOT)
        self.require(store, Capability.THREADSAFE)
        first = store.save(Experiment(title="First"))
        second = Experiment(title="Second")
        committed = threading.Event()

        def write() -> None:
            store.save(second)
            committed.set()

        thread = threading.Thread(target=write)
        with store.reading():
            before = [e.id for e in store.query(Experiment)]
            thread.start()
            committed.wait(0.5)  # committed, or held back until the block ends
            inside = [e.id for e in store.query(Experiment)]
            assert store.find(second.id) is None
            assert store.count(Experiment) == 1
        thread.join(30)
        assert committed.is_set()
        assert before == inside == [first.id]
        assert store.find(second.id) is not None

    def test_a_write_inside_reading_is_refused(self, store: Store) -> None:
        """A write inside ``reading()`` raises StoreError and writes nothing."""
        store.save(Experiment(title="Before"))
        with store.reading(), pytest.raises(StoreError, match="nothing was written"):
            store.save(Experiment(title="Inside"))
        assert [e.title for e in store.query(Experiment)] == ["Before"]

    def test_shared_between_threads(self, store: Store) -> None:
        """One store object shared by threads loses no save and no update goes unnoticed."""
        self.require(store, Capability.THREADSAFE)
        errors: list[BaseException] = []

        def writer(number: int) -> None:
            try:
                for item in range(40):
                    store.save(Measurement(metric=f"thread-{number}", value=item))
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert store.count(Measurement) == 160

        shared = [store.save(Objective(title=f"Shared {n}", weight=1)) for n in range(3)]
        outcomes = {"ok": 0, "conflict": 0}
        lock = threading.Lock()

        def updater() -> None:
            for attempt in range(30):
                target = shared[attempt % 3]
                current = store.get(target.id, Objective)
                try:
                    store.save(current.evolve(weight=current.weight + 1))
                except ConflictError:
                    with lock:
                        outcomes["conflict"] += 1
                else:
                    with lock:
                        outcomes["ok"] += 1

        threads = [threading.Thread(target=updater) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes["ok"] + outcomes["conflict"] == 120
        total_weight = sum(store.get(s.id, Objective).weight for s in shared)
        assert total_weight == 3 + outcomes["ok"]

    # --- events -----------------------------------------------------------------------

    def test_events_follow_commits(self, store: Store) -> None:
        """Lifecycle events reach plugins after each write commits, once each."""
        recorder = _Recorder()
        store.plugins.register(recorder, name=f"recorder-{uuid.uuid4().hex}")
        experiment = store.save(Experiment(title="Events"))
        experiment = store.save(experiment.start())
        store.save(Learning(experiment=experiment, observation="Seen"))
        store.save(Measurement(metric="visits", value=3, experiment=experiment))
        experiment = store.save(experiment.conclude())
        decision = Decision(experiment=experiment.id, outcome="iterate")
        with store.batch() as batch:
            batch.save(decision)
            batch.save(experiment.decide(decision))
        abandoned = store.save(store.save(Experiment(title="Dropped")).abandon(reason="no time"))
        store.create_if_absent(Objective(title="Once", slug="once"))
        store.create_if_absent(Objective(title="Once", slug="once"))
        store.purge(abandoned)
        names = recorder.names()
        assert names.count("started") == 1
        assert names.count("concluded") == 1
        assert ("decided", (experiment.id, decision.id)) in recorder.events
        assert ("abandoned", abandoned.id) in recorder.events
        assert names.count("learning") == 1
        assert names.count("measurement") == 1
        assert ("purged", ("experiment", abandoned.id)) in recorder.events
        saves = [e for name, e in recorder.events if name == "saved"]
        assert len(saves) == 10  # the second create_if_absent wrote nothing
        assert saves[1] == (experiment.id, 2, 1)

    def test_failing_event_hook_does_not_undo_the_write(
        self, store: Store, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A plugin raising in an event hook is logged with its name; the write stands."""
        name = f"raiser-{uuid.uuid4().hex}"
        store.plugins.register(_Raiser(), name=name)
        with caplog.at_level(logging.WARNING, logger="experiments.plugins"):
            saved = store.save(Objective(title="Still saved"))
        assert store.get(saved.id).revision == 1
        assert any(
            name in r.getMessage() and "object_saved" in r.getMessage() for r in caplog.records
        )

    # --- verification -----------------------------------------------------------------

    def test_healthy_store_verifies_clean(self, store: Store) -> None:
        """verify() finds nothing wrong in a store written only through the interface."""
        programme = self._programme(store)
        store.delete(programme["other"])
        assert store.verify() == []

    # --- the model-based state machine ------------------------------------------------

    def test_behaves_like_a_simple_model(self, make_store: MakeStore) -> None:
        """Random saves, conflicts, deletes, purges, failing batches and reopens match a dict."""
        suite = self

        class StoreMachine(RuleBasedStateMachine):
            ids = Bundle("ids")

            def __init__(self) -> None:
                super().__init__()
                self.name = f"machine-{uuid.uuid4().hex}"
                self.store = make_store(self.name)
                self.current: dict[str, Record] = {}
                self.history: dict[str, list[dict[str, Any]]] = {}

            def teardown(self) -> None:
                self.store.close()

            def second_decision(self, record: Record) -> bool:
                """Whether the store must refuse ``record``: a decision that revises none."""
                return isinstance(record, Decision) and any(
                    isinstance(r, Decision) and r.experiment == record.experiment and not r.deleted
                    for r in self.current.values()
                )

            def unsatisfied(self, record: Record) -> bool:
                """Whether the store must refuse ``record``: a start a template forbids."""
                return _template_refuses(self.current.values(), record)

            @rule(target=ids, record=records())
            def create(self, record: Record) -> str | MultipleResults[str]:
                fresh = _fresh(record)
                assume(fresh.id not in self.current)
                if self.second_decision(fresh):
                    with pytest.raises(ValidationError, match="already has a decision in force"):
                        self.store.save(fresh)
                    return multiple()
                if self.unsatisfied(fresh):
                    with pytest.raises(ValidationError, match="a template is mandatory"):
                        self.store.save(fresh)
                    return multiple()
                saved = self.store.save(fresh)
                self.current[saved.id] = saved
                self.history[saved.id] = [to_data(saved)]
                return saved.id

            @rule(record_id=ids, title=titles)
            def update(self, record_id: str, title: str) -> None:
                assume(record_id in self.current)
                record = self.current[record_id]
                saved = self.store.save(
                    record.evolve(
                        tags={title.split(maxsplit=1)[0][:10] or "x"} if title.split() else set()
                    )
                )
                self.current[record_id] = saved
                self.history[record_id].append(to_data(saved))

            @rule(record_id=ids)
            def stale_update(self, record_id: str) -> None:
                assume(record_id in self.current and self.current[record_id].revision > 1)
                stale = attrs.evolve(
                    self.current[record_id], revision=self.current[record_id].revision - 1
                )
                with pytest.raises(ConflictError):
                    self.store.save(stale)

            @rule(record_id=ids)
            def delete_or_restore(self, record_id: str) -> None:
                assume(record_id in self.current)
                record = self.current[record_id]
                changed = (
                    self.store.restore(record) if record.deleted else self.store.delete(record)
                )
                self.current[record_id] = changed
                self.history[record_id].append(to_data(changed))

            @rule(record_id=consumes(ids))
            def purge(self, record_id: str) -> None:
                if record_id not in self.current:
                    return
                report = self.store.purge(record_id)
                assert report.purged == (record_id,)
                del self.current[record_id]
                del self.history[record_id]

            @rule(record_id=ids, extra=records())
            def failing_batch(self, record_id: str, extra: Record) -> None:
                assume(record_id in self.current and self.current[record_id].revision > 1)
                stale = attrs.evolve(
                    self.current[record_id], revision=self.current[record_id].revision - 1
                )
                fresh = _fresh(extra)
                assume(fresh.id not in self.current and not self.second_decision(fresh))
                assume(not self.unsatisfied(fresh))
                with pytest.raises(ConflictError), self.store.batch() as batch:
                    batch.save(fresh)
                    batch.save(stale)

            @precondition(lambda self: Capability.PERSISTENT in self.store.capabilities)
            @rule()
            def reopen(self) -> None:
                self.store.close()
                self.store = make_store(self.name)

            @invariant()
            def matches_the_model(self) -> None:
                stored = {r.id: to_data(r) for r in self.store.query(include_deleted=True)}
                assert stored == {i: to_data(r) for i, r in self.current.items()}
                assert self.store.count() == sum(1 for r in self.current.values() if not r.deleted)

            @invariant()
            def history_matches(self) -> None:
                for record_id, versions in self.history.items():
                    assert [to_data(v) for v in self.store.history(record_id)] == versions

        del suite
        run_state_machine_as_test(
            StoreMachine,
            settings=settings(
                max_examples=15,
                stateful_step_count=12,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )


# --- helpers for the generated filters and measures -----------------------------------


def _usable_fields(kind: str) -> list[str]:
    return [
        name
        for name, info in field_types(kind).items()
        if info.kind is not FieldType.OTHER and name != "metadata"
    ]


def _value_for(
    info_type: FieldType, rows: list[dict[str, Any]], name: str
) -> st.SearchStrategy[Any]:
    seen = []
    for row in rows:
        value = row.get(name)
        if isinstance(value, list):
            seen.extend(value)
        elif value is not None:
            seen.append(value)
    fallback: st.SearchStrategy[Any]
    if info_type is FieldType.NUMBER:
        fallback = st.floats(-100, 100)
    elif info_type is FieldType.BOOL:
        fallback = st.booleans()
    elif info_type is FieldType.DATETIME:
        fallback = datetimes()
    elif info_type is FieldType.DATE:
        fallback = st.dates().map(lambda d: d.isoformat())
    else:
        fallback = st.sampled_from(["ref_1", "ref_2", "a", "pilot"])
    return st.sampled_from(seen) | fallback if seen else fallback


@st.composite
def _filters(draw: st.DrawFn, kind: str, rows: list[dict[str, Any]]) -> Expr:
    types = field_types(kind)
    fields = _usable_fields(kind)

    def condition() -> Expr:
        name = draw(st.sampled_from(fields))
        info = types[name]
        if info.kind is FieldType.TIMEBOX:
            return Condition(name, draw(st.sampled_from([Op.EQ, Op.NE])), None)
        if info.kind is FieldType.ENUM:
            assert info.enum is not None
            values: st.SearchStrategy[Any] = st.sampled_from([m.value for m in info.enum])
        else:
            values = _value_for(info.kind, rows, name)
        if info.kind in (FieldType.LIST, FieldType.BOOL):
            ops = [Op.EQ, Op.NE, Op.IN, Op.NOT_IN]
        else:
            ops = list(Op)
        op = draw(st.sampled_from(ops))
        if op in (Op.IN, Op.NOT_IN):
            return Condition(name, op, tuple(draw(st.lists(st.none() | values, max_size=3))))
        if op in (Op.EQ, Op.NE) and draw(st.integers(0, 5)) == 0:
            return Condition(name, op, None)
        return Condition(name, op, draw(values))

    def expr(depth: int) -> Expr:
        choice = draw(st.integers(0, 3 if depth < 2 else 0))
        if choice == 0:
            return condition()
        if choice == 1:
            return All(tuple(expr(depth + 1) for _ in range(draw(st.integers(1, 3)))))
        if choice == 2:
            return AnyOf(tuple(expr(depth + 1) for _ in range(draw(st.integers(1, 3)))))
        return ~expr(depth + 1)

    return expr(0)


def _named_only(kind: str, where: Expr | None) -> Expr | None:
    """``where`` among participants who are not pseudonymous, for a participant query.

    Only there may a query read names and slugs: elsewhere it would be an oracle.
    """
    if kind != "participant":
        return where
    named = Condition("pseudonymous", Op.EQ, False)  # noqa: FBT003 - a filter's value
    return named if where is None else where & named


@st.composite
def _orders(draw: st.DrawFn, kind: str) -> list[str] | None:
    types = field_types(kind)
    fields = [
        n for n in _usable_fields(kind) if types[n].kind not in (FieldType.LIST, FieldType.TIMEBOX)
    ]
    chosen = draw(st.lists(st.sampled_from(fields), max_size=2, unique=True))
    if not chosen:
        return None
    return [("-" if draw(st.booleans()) else "") + name for name in chosen]


@st.composite
def _measures(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    types = field_types(kind)
    scalar = [
        n for n in _usable_fields(kind) if types[n].kind not in (FieldType.LIST, FieldType.TIMEBOX)
    ]
    numbers = [n for n in scalar if types[n].kind is FieldType.NUMBER]
    times = [n for n in scalar if types[n].kind in (FieldType.DATETIME, FieldType.DATE)]
    options: list[st.SearchStrategy[Any]] = [
        st.just(Count()),
        st.sampled_from(scalar).map(CountDistinct),
        st.sampled_from(scalar).map(Min),
        st.sampled_from(scalar).map(Max),
        st.builds(Latest, st.sampled_from(scalar), st.sampled_from(times)),
    ]
    if numbers:
        options.append(st.sampled_from(numbers).map(Sum))
    chosen = draw(st.lists(st.one_of(options), min_size=1, max_size=4))
    return {f"m{i}": measure for i, measure in enumerate(chosen)}


def _canonical(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    def normal(value: Any) -> Any:
        if isinstance(value, bool):
            return ("bool", value)
        if isinstance(value, int | float):
            return ("number", float(value))  # exactly: a sum too rounds once, like fsum
        return ("value", value)

    return sorted(
        (tuple(sorted((k, normal(v)) for k, v in row.items())) for row in rows),
        key=repr,
    )
