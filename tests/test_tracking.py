"""The script API: open an experiment by slug, log into it, never lose what was logged."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import experiments
import workers
from experiments import (
    ConflictError,
    Decision,
    Excuse,
    ExcuseReason,
    Experiment,
    ExperimentStatus,
    Hypothesis,
    KeyResult,
    Learning,
    Measurement,
    Note,
    NoteLevel,
    NotFoundError,
    Objective,
    Participant,
    Participation,
    Prototype,
    TransitionError,
    ValidationError,
)
from experiments.stores import Store
from experiments.tracking import MetricWarning, Run, _create_started, record_excuse, track
from racing import at_once


class Recorder:
    """Writes down the lifecycle and logging events plugins are told about."""

    def __init__(self) -> None:
        self.events: list[str] = []

    @experiments.hookimpl
    def experiment_started(self, experiment: Experiment) -> None:
        self.events.append(f"started {experiment.slug}")

    @experiments.hookimpl
    def experiment_concluded(self, experiment: Experiment) -> None:
        self.events.append(f"concluded {experiment.slug}")

    @experiments.hookimpl
    def experiment_decided(self, experiment: Experiment, decision: Decision | None) -> None:
        self.events.append(f"decided {experiment.slug} {decision.outcome if decision else None}")

    @experiments.hookimpl
    def measurement_recorded(self, measurement: Measurement) -> None:
        self.events.append(f"measured {measurement.value:g}")

    @experiments.hookimpl
    def learning_recorded(self, learning: Learning) -> None:
        self.events.append(f"learned {learning.observation}")


class TestOpening:
    """track() finds, creates and starts experiments."""

    def test_creates_by_slug_and_starts(self, any_store: Store) -> None:
        """A new slug makes a started experiment with the title given."""
        objective = any_store.save(Objective(title="Welfare"))
        with track(
            "walk-and-talk",
            store=any_store,
            title="Walk and talk",
            objectives=[objective],
            time_box="P4W",
        ) as run:
            assert run.experiment.status is ExperimentStatus.RUNNING
        stored = any_store.get_by_slug(Experiment, "walk-and-talk")
        assert stored.title == "Walk and talk"
        assert stored.objectives == (objective.id,)
        assert stored.time_box is not None
        assert stored.time_box.start == stored.started_at

    def test_a_new_experiment_keeps_its_planned_version(self, any_store: Store) -> None:
        """Made and started at once, it has two versions; none changed before it started."""
        with track("walk-and-talk", store=any_store, time_box="P4W") as run:
            made = run.experiment
        history = any_store.history(made.id)
        assert [(v.revision, v.status) for v in history] == [  # type: ignore[attr-defined]
            (1, ExperimentStatus.PLANNED),
            (2, ExperimentStatus.RUNNING),
        ]
        assert history[-1] == made
        assert made.started_at is not None
        assert made.created_at <= made.started_at <= made.updated_at

    def test_made_elsewhere_first_it_is_not_made_again(self, any_store: Store) -> None:
        """When another script made the slug first, nothing of ours is written over it."""
        theirs = any_store.save(Experiment(slug="walk-and-talk", title="Theirs"))
        ours = Experiment(slug="walk-and-talk", title="Ours")
        assert _create_started(any_store, ours, None) is None
        assert any_store.history(theirs.id) == [theirs]
        with track("walk-and-talk", store=any_store, title="Ours") as run:
            assert run.experiment.title == "Theirs"
            assert run.experiment.status is ExperimentStatus.RUNNING

    def test_one_objective_by_slug_links_it_not_its_letters(self, any_store: Store) -> None:
        """objectives= takes a single slug, id or record, and a slug becomes its id."""
        welfare = any_store.save(Objective(title="Welfare", slug="welfare"))
        safety = any_store.save(Objective(title="Safety"))
        with track("by-slug", store=any_store, objectives="welfare") as run:
            assert run.experiment.objectives == (welfare.id,)
        with track("by-record", store=any_store, objectives=welfare) as run:
            assert run.experiment.objectives == (welfare.id,)
        with track("by-id", store=any_store, objectives=safety.id) as run:
            assert run.experiment.objectives == (safety.id,)
        with track("mixed", store=any_store, objectives=["welfare", safety.id, welfare]) as run:
            assert run.experiment.objectives == (welfare.id, safety.id)

    def test_an_unknown_objective_slug_is_not_found(self, any_store: Store) -> None:
        """A slug no objective has is refused, saying to create it or fix it; nothing is made."""
        any_store.save(Objective(title="Welfare", slug="welfare"))
        with pytest.raises(NotFoundError, match=r"'welfar'.*did you mean 'welfare'\?"):
            track("typo", store=any_store, objectives=["welfar"])
        deleted = any_store.delete(any_store.save(Objective(title="Old", slug="old")))
        with pytest.raises(NotFoundError, match="deleted"):
            track("stale", store=any_store, objectives="old")
        assert deleted.deleted
        assert any_store.count(Experiment) == 0

    @pytest.mark.parametrize("objectives", [b"welfare", 42, ["welfare", 42], [None]])
    def test_objectives_of_the_wrong_type_are_refused(
        self, any_store: Store, objectives: Any
    ) -> None:
        """Anything but objectives, ids, slugs or a collection of them is a ValidationError."""
        any_store.save(Objective(title="Welfare", slug="welfare"))
        with pytest.raises(ValidationError, match="objectives"):
            track("wrong", store=any_store, objectives=objectives)
        assert any_store.count(Experiment) == 0

    def test_opens_existing_by_id_or_slug_without_changing_it(self, any_store: Store) -> None:
        """An existing experiment is opened as it is, whatever title the script passes."""
        made = any_store.save(Experiment(title="Original", slug="orig"))
        with track(made.id, store=any_store, title="Other title", start=False) as run:
            assert run.experiment.title == "Original"
            assert run.experiment.status is ExperimentStatus.PLANNED
        with track("orig", store=any_store) as run:
            assert run.experiment.status is ExperimentStatus.RUNNING

    def test_unknown_id_is_not_created(self, any_store: Store) -> None:
        """Something that is neither a stored id nor a slug is an error."""
        with pytest.raises(NotFoundError, match="not a slug"):
            track("Not_A_Slug", store=any_store)
        assert not any_store.exists() or any_store.count(Experiment) == 0

    def test_opens_the_default_store_and_closes_it(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without a store, the default one is opened for the run and closed after it."""
        monkeypatch.setenv("EXPERIMENTS_STORE", f"sqlite:///{tmp_path}/default.db")
        with track("from-env", title="From the environment") as run:
            run.measure("visits", 1)
        assert run.store.closed
        with experiments.connect() as store:
            assert store.count(Measurement) == 1


class TestLogging:
    """What a run records, and that running a script twice records nothing twice."""

    def _script(self, store: Store, late_value: float = 23) -> dict[str, Any]:
        kr = store.create_if_absent(
            KeyResult(slug="families", objective="obj_x", metric="families", baseline=0, target=40)
        )
        person = Participant(role="citizen", slug="parent-3", pseudonymous=True)
        with track("art", store=store, title="Art afternoons") as run:
            hypothesis = run.hypothesis("Families come back", criterion="families returning >= 15")
            run.measure(kr, late_value, at="2026-09-21T18:00:00+02:00")
            run.measure("families returning", 9, at="2026-09-21T18:00:00+02:00")
            taking_part = run.participant(person, stance="critical", involvement="co-creating")
            run.prototype("Leaflet", fidelity="sketch", shown_at="2026-08-20T10:00:00+02:00")
            learning = run.learn(
                "Families came twice",
                hypothesis=hypothesis,
                verdict="supports",
                evidence="moderate",
                participants=[person],
                at="2026-09-22T10:00:00+02:00",
            )
        return {"hypothesis": hypothesis, "participation": taking_part, "learning": learning}

    def test_records_everything(self, any_store: Store) -> None:
        """Hypothesis, measurements (late data included), participant, prototype, learning."""
        made = self._script(any_store)
        assert any_store.count(Hypothesis) == 1
        values = {m.metric: m.value for m in any_store.query(Measurement)}
        assert values == {"families": 23, "families returning": 9}
        late = next(any_store.query(Measurement, metric="families"))
        assert late.key_result == KeyResult.id_for_slug("families")
        assert late.measured_at.isoformat() == "2026-09-21T18:00:00+02:00"
        assert made["participation"].stance.value == "critical"
        assert any_store.count(Participant) == 1
        assert made["hypothesis"].status_from(any_store.query(Learning)).value == "supported"

    def test_running_the_script_twice_records_nothing_twice(self, any_store: Store) -> None:
        """Ids derived from what is recorded make a re-run a no-op."""
        self._script(any_store)
        before = [r.id for r in any_store.export()]
        self._script(any_store)
        assert [r.id for r in any_store.export()] == before

    def test_a_corrected_late_value_is_a_new_revision(self, any_store: Store) -> None:
        """Logging the same metric at the same time again replaces the value, with history."""
        self._script(any_store, late_value=23)
        self._script(any_store, late_value=24)
        measurement = next(any_store.query(Measurement, metric="families"))
        assert measurement.value == 24
        assert [v.value for v in any_store.history(measurement.id)] == [23, 24]  # type: ignore[attr-defined]

    def test_prototype_versions(self, any_store: Store) -> None:
        """A more finished prototype becomes its next version; the first showing is kept."""
        with track("proto", store=any_store) as run:
            first = run.prototype(
                "Booking page", fidelity="sketch", shown_at="2026-05-01T00:00:00Z"
            )
            again = run.prototype("Booking page", fidelity="sketch")
            better = run.prototype("Booking page", fidelity="working-prototype")
        assert first.version == again.version == 1
        assert better.version == 2
        assert better.shown_at == first.shown_at
        assert [v.version for v in any_store.history(first.id)] == [1, 2]  # type: ignore[attr-defined]
        assert any_store.count(Prototype) == 1

    def test_participant_stance_changes_update_one_participation(self, any_store: Store) -> None:
        """Recording a person again changes their stance; they are still counted once."""
        person = any_store.save(Participant(role="user"))
        with track("stance", store=any_store) as run:
            taking_part = run.participant(person, stance="supportive")
            run.participant(taking_part.participant, stance="critical")
        assert any_store.count(Participation) == 1
        assert next(any_store.query(Participation)).stance.value == "critical"

    def test_bulk_is_one_transaction(self, any_store: Store) -> None:
        """Inside bulk() nothing is stored until the block ends, and all of it then."""
        with track("bulk", store=any_store) as run:
            with run.bulk():
                for day in range(1, 11):
                    run.measure("visits", day, at=f"2026-09-{day:02d}T12:00:00Z")
                assert any_store.count(Measurement) == 0
            assert any_store.count(Measurement) == 10

    def test_bulk_finds_what_it_made_earlier_in_the_block(self, any_store: Store) -> None:
        """Logging the same thing twice in one bulk block updates it: no duplicate, no conflict."""
        person = Participant(role="citizen", slug="resident-7")
        with track("bulk-twice", store=any_store) as run, run.bulk():
            first = run.measure("visits", 3, at="2026-09-01T12:00:00Z")
            again = run.measure("visits", 4, at="2026-09-01T12:00:00Z")
            hypothesis = run.hypothesis("People come back", criterion="visits >= 3")
            same = run.hypothesis("People come back", criterion="visits >= 4")
            run.learn("Four came", hypothesis=hypothesis, verdict="supports")
            run.learn("Four came", hypothesis=hypothesis, verdict="supports", evidence="strong")
            taking_part = run.participant(person, stance="supportive")
            run.participant(taking_part.participant, stance="critical")
            run.prototype("Poster", fidelity="sketch")
            poster = run.prototype("Poster", fidelity="pilot")
            run.conclude()
            decision = run.decide("iterate")
            assert run.decide("iterate") == decision
        assert (first.id, hypothesis.id) == (again.id, same.id)
        assert [m.value for m in any_store.query(Measurement)] == [4]
        assert [str(h.criterion) for h in any_store.query(Hypothesis)] == [str(same.criterion)]
        assert [x.evidence.value for x in any_store.query(Learning)] == ["strong"]
        assert [p.stance.value for p in any_store.query(Participation)] == ["critical"]
        assert any_store.count(Participant) == 1
        assert [p.version for p in any_store.query(Prototype)] == [poster.version] == [2]
        assert [d.outcome.value for d in any_store.query(Decision)] == ["iterate"]
        assert decision.revision == 1

    def test_bulk_failure_stores_none_of_it(self, any_store: Store) -> None:
        """A failure inside bulk() discards the whole bulk, nothing else."""
        with pytest.raises(ValidationError), track("bulk-fail", store=any_store) as run:
            run.measure("kept", 1)
            with run.bulk():
                run.measure("visits", 1, at="2026-09-01T12:00:00Z")
                run.measure("visits", float("nan"))
        assert [m.metric for m in any_store.query(Measurement)] == ["kept"]


class TestMistypedKeyResults:
    """A metric named like a key result's slug with a letter or two wrong is warned of."""

    def _linked(self, store: Store) -> None:
        objective = store.save(Objective(title="Welfare", slug="welfare"))
        store.save(
            KeyResult(
                slug="families-returning",
                objective=objective.id,
                metric="families returning",
                baseline=0,
                target=40,
            )
        )

    def test_a_near_miss_is_logged_as_a_metric_and_warned_of(self, any_store: Store) -> None:
        """The value is kept, as a metric of the experiment, and the warning names the
        key result meant, once a name and run."""
        self._linked(any_store)
        with track("art", store=any_store, objectives="welfare") as run:
            with pytest.warns(MetricWarning, match="did you mean the key result 'families-r"):
                run.measure("familes-returning", 9)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                run.measure("familes-returning", 10)  # said once
        (logged, _) = sorted(any_store.query(Measurement), key=lambda m: m.value)
        assert (logged.metric, logged.key_result) == ("familes-returning", None)

    @pytest.mark.parametrize("name", ["families returning", "visits", "families-returning"])
    def test_names_and_slugs_of_their_own_are_not_warned_of(
        self, any_store: Store, name: str
    ) -> None:
        """A metric's text, a slug no key result's is near, or the slug itself: no warning."""
        self._linked(any_store)
        with track("art", store=any_store, objectives="welfare") as run, warnings.catch_warnings():
            warnings.simplefilter("error")
            run.measure(name, 9)

    def test_key_results_of_other_objectives_are_not_compared(self, any_store: Store) -> None:
        """Only the key results of the experiment's own objectives are what it may mean."""
        self._linked(any_store)
        any_store.save(Objective(title="Culture", slug="culture"))
        with track("art", store=any_store, objectives="culture") as run, warnings.catch_warnings():
            warnings.simplefilter("error")
            run.measure("familes-returning", 9)


class TestFailures:
    """An exception inside a run loses nothing, is written down, and propagates."""

    def test_text_that_is_no_text_is_a_validation_error(self, any_store: Store) -> None:
        """None or a number as a statement, observation or title names the field; nothing saved."""
        with track("typed", store=any_store) as run:
            before = any_store.count()
            for call, field in (
                (lambda: run.hypothesis(None), "Hypothesis.statement"),  # type: ignore[arg-type]
                (lambda: run.learn(7), "Learning.observation"),  # type: ignore[arg-type]
                (lambda: run.learn("Seen", participants=5), "Learning.participants"),  # type: ignore[arg-type]
                (lambda: run.prototype(None), "Prototype.title"),  # type: ignore[arg-type]
            ):
                with pytest.raises(ValidationError, match=field):
                    call()
            assert any_store.count() == before

    def test_exception_is_recorded_and_propagates(self, any_store: Store) -> None:
        """What was logged before stays; an error note says what went wrong."""
        with (
            pytest.raises(RuntimeError, match="sensor offline"),
            track("failing", store=any_store) as run,
        ):
            run.measure("visits", 3)
            raise RuntimeError("sensor offline")
        assert any_store.count(Measurement) == 1
        notes = list(any_store.query(Note))
        assert len(notes) == 1
        assert notes[0].level is NoteLevel.ERROR
        assert "RuntimeError: sensor offline" in notes[0].text
        assert "Traceback" in notes[0].details

    def test_conclude_only_when_asked(self, any_store: Store) -> None:
        """Leaving the block concludes the experiment only with conclude=True."""
        with track("long", store=any_store) as run:
            pass
        assert run.experiment.status is ExperimentStatus.RUNNING
        with track("long", store=any_store, conclude=True) as run:
            pass
        assert any_store.get_by_slug(Experiment, "long").status is ExperimentStatus.CONCLUDED

    def test_no_conclusion_after_an_exception(self, any_store: Store) -> None:
        """conclude=True does not conclude a run that failed."""
        with pytest.raises(ValueError), track("broken", store=any_store, conclude=True):
            raise ValueError("half-way")
        assert any_store.get_by_slug(Experiment, "broken").status is ExperimentStatus.RUNNING


class TestLifecycle:
    """Moves, decisions and events through a run."""

    def test_full_life_with_events(self, any_store: Store) -> None:
        """Start, log, conclude and decide; plugins hear each step after it is stored."""
        recorder = Recorder()
        any_store.plugins.register(recorder, name="recorder")
        with track("life", store=any_store) as run:
            run.measure("visits", 4)
            run.learn("People came")
            run.conclude()
            decision = run.decide("scale-up", rationale="It worked", next_steps=["Two more"])
        assert decision.outcome.value == "scale-up"
        assert run.experiment.status is ExperimentStatus.DECIDED
        assert recorder.events == [
            "started life",
            "measured 4",
            "learned People came",
            "concluded life",
            "decided life scale-up",
        ]
        with track("life", store=any_store) as again:
            assert again.decide("scale-up").id == decision.id  # decided so: run again, no change
            with pytest.raises(ValidationError, match=r"already decided: scale-up.*--revise"):
                again.decide("stop")  # another decision is never silently dropped
        assert [d.outcome.value for d in any_store.query(Decision)] == ["scale-up"]

    def test_strict_moves_refuse_what_the_state_forbids(self, any_store: Store) -> None:
        """Run.move() raises where start()/conclude() would quietly do nothing."""
        with track("strict", store=any_store) as run:
            run.conclude()
            assert run.start().status is ExperimentStatus.CONCLUDED
            with pytest.raises(TransitionError, match="concluded"):
                run.move("start")

    def test_move_survives_a_race(self, any_store: Store) -> None:
        """A run whose copy is stale re-reads and goes on instead of failing."""
        made = any_store.save(Experiment(title="Race", slug="race"))
        stale = Run(any_store, made)
        any_store.save(made.evolve(owner="Someone else"))  # another script changed it
        assert stale.start().status is ExperimentStatus.RUNNING
        assert any_store.get(made.id, Experiment).owner == "Someone else"

    def test_stale_measurement_key_conflicts_are_not_silent(self, any_store: Store) -> None:
        """Saving an old copy of a logged record is still a conflict."""
        with track("plain", store=any_store) as run:
            first = run.measure("visits", 1, at="2026-01-01T00:00:00Z")
            run.measure("visits", 2, at="2026-01-01T00:00:00Z")
        with pytest.raises(ConflictError):
            any_store.save(first.evolve(value=3))


class TestExcuses:
    """The "no bad excuses" register."""

    def test_recorded_once_per_group_and_reason(self, any_store: Store) -> None:
        """The same excuse for the same place is kept once."""
        objective = any_store.save(Objective(title="Welfare"))
        for _ in range(2):
            record_excuse(any_store, group="Young people", reason="no-time", objective=objective)
        with track("excused", store=any_store) as run:
            run.excuse(
                "Home-care users over 80", "know-what-they-say", "We know they prefer to phone"
            )
        assert any_store.count(Excuse) == 2
        reasons = sorted(e.reason.value for e in any_store.query(Excuse))
        assert reasons == ["know-what-they-say", "no-time"]

    def test_one_excuse_however_reason_and_place_are_given(self, any_store: Store) -> None:
        """Reason spellings and place by record, id or slug all make the same one excuse."""
        welfare = any_store.save(Objective(title="Welfare", slug="welfare"))
        walks = any_store.save(Experiment(title="Safety walks", slug="safety-walks"))
        ways = [
            ("no-time", welfare),
            ("No time", welfare.id),
            (ExcuseReason.NO_TIME, "welfare"),
            ("NO_TIME", welfare),
        ]
        made = {
            record_excuse(any_store, group=" Young people ", reason=reason, objective=place).id
            for reason, place in ways
        }
        for place in (walks, walks.id, "safety-walks"):
            made.add(
                record_excuse(
                    any_store, group="Young people", reason="No time", experiment=place
                ).id
            )
        assert len(made) == 2
        assert any_store.count(Excuse) == 2
        stored = {e.objective or e.experiment for e in any_store.query(Excuse)}
        assert stored == {welfare.id, walks.id}

    def test_a_place_slug_must_exist(self, any_store: Store) -> None:
        """A slug that names no objective is refused; nothing is recorded."""
        any_store.save(Objective(title="Welfare", slug="welfare"))
        with pytest.raises(NotFoundError, match="'welfar'"):
            record_excuse(any_store, group="Everyone", reason="no-time", objective="welfar")
        assert any_store.count(Excuse) == 0

    def test_unknown_reason_lists_the_reasons(self, any_store: Store) -> None:
        """A reason outside the register says which ones there are."""
        with pytest.raises(ValidationError, match="already-asked"):
            record_excuse(any_store, group="Everyone", reason="because", objective="obj_x")


@pytest.mark.slow
class TestRacingScripts:
    """Scripts logging into one experiment at the same moment, from processes of their own."""

    def test_one_metric_at_one_time_from_many_processes(self, shared_url: str) -> None:
        """8 processes measure one metric at one time at once: each writes or replaces."""
        values = [float(worker) for worker in range(8)]
        results = at_once(
            workers.measure_at_once,
            *[(shared_url, "racing", "visitors", "2026-09-14T12:00:00Z", v) for v in values],
        )
        assert [r for r in results if "conflict" in r] == []
        assert len({r["id"] for r in results}) == 1
        with experiments.connect(shared_url, plugins=experiments.Plugins(autoload=False)) as store:
            history = store.history(results[0]["id"])
        # Every value was written once: as the first version, or over another's.
        assert sorted(m.value for m in history) == values  # type: ignore[attr-defined]
        assert [m.revision for m in history] == list(range(1, 9))
