"""Next steps followed up: owners, due dates, done; overdue ones in the roll-up, everywhere."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from experiments import (
    Experiment,
    KeyResult,
    Learning,
    Measurement,
    NextStep,
    NotFoundError,
    Objective,
    ValidationError,
)
from experiments.follow_up import follow_up, follow_ups
from experiments.model import asof as rules
from experiments.rollup import rollup
from experiments.stores import Store
from practice_programmes import decided

AT = "2026-06-01T12:00:00+02:00"


class TestNextStep:
    """NextStep: a value that says who, by when, and whether it was done."""

    def test_text_is_an_untracked_step(self) -> None:
        """Text alone is a step with no owner or due date, which is not tracked."""
        step = NextStep("Evening walks")
        assert (step.owner, step.due, step.done_at, step.tracked) == (None, None, None, False)
        assert NextStep("Walks", owner="Karin", due="2026-06-01").tracked

    def test_done_keeps_the_first_time(self) -> None:
        """Marked done twice, it keeps when it was first done; reopened, it is open again."""
        step = NextStep("Walks").done(at="2026-05-01T10:00:00Z")
        assert step.done(at="2026-06-01T10:00:00Z").done_at == pendulum.parse(
            "2026-05-01T10:00:00Z"
        )
        assert step.reopened().done_at is None

    def test_text_form(self) -> None:
        """str() says the action, owner, due date and when it was done."""
        step = NextStep("Walks", owner="Karin", due="2026-06-01", done_at="2026-05-30T10:00:00Z")
        assert str(step) == "Walks (Karin, due 2026-06-01, done 2026-05-30)"

    def test_bad_values_are_refused_by_name(self) -> None:
        """An empty action or a due date that is no date says which part is wrong."""
        with pytest.raises(ValidationError, match=r"NextStep\.action must not be empty"):
            NextStep(" ")
        with pytest.raises(ValidationError, match=r"NextStep\.due"):
            NextStep("Walks", due="tomorrow")

    def test_a_learning_takes_text_a_step_or_nothing(self) -> None:
        """Blank text is no next action; text is an untracked one; a mapping may track it."""
        base = {"experiment": "exp_1", "observation": "Seen"}
        assert Learning(**base, next_action="  ").next_action is None
        assert Learning(**base, next_action="Call").next_action == NextStep("Call")
        tracked = Learning(**base, next_action={"action": "Call", "owner": "Bo"}).next_action
        assert tracked == NextStep("Call", owner="Bo")
        with pytest.raises(ValidationError, match=r"Learning\.next_action"):
            Learning(**base, next_action={"what": "Call"})


class TestRules:
    """step_overdue_days: the one rule of an overdue next step."""

    @pytest.mark.parametrize(
        ("due", "done", "at", "days"),
        [
            (dt.date(2026, 5, 31), None, "2026-06-01T00:30:00+02:00", 1),
            (dt.date(2026, 6, 1), None, "2026-06-01T23:59:00+02:00", None),  # due today
            (dt.date(2026, 5, 31), None, "2026-05-31T23:30:00+00:00", None),  # still the 31st
            (dt.date(2026, 5, 20), "2026-05-25T10:00:00Z", "2026-06-01T12:00:00Z", None),
            (dt.date(2026, 5, 20), "2026-07-01T10:00:00Z", "2026-06-01T12:00:00Z", 12),
            (None, None, "2026-06-01T12:00:00Z", None),  # untracked: never overdue
        ],
    )
    def test_overdue_days(
        self, due: dt.date | None, done: str | None, at: str, days: int | None
    ) -> None:
        """Due by the end of its day in the moment's zone; done by the moment, never overdue."""
        moment = pendulum.parse(at)
        done_at = None if done is None else pendulum.parse(done)
        assert rules.step_overdue_days(due, done_at, moment) == days  # type: ignore[arg-type]


class TestFollowUp:
    """follow_up(): an owner, a due date, done or not, as a new version of the record."""

    def test_a_decision_step_gets_an_owner_and_is_done(self, any_store: Store) -> None:
        """Each change is a new version of the decision; the step is named by number or action."""
        decision = decided(any_store, "Evening walks", "Youth club")
        changed = follow_up(any_store, decision, "evening   WALKS", owner="Karin", due="2026-06-15")
        assert changed.next_steps[0] == NextStep("Evening walks", owner="Karin", due="2026-06-15")  # type: ignore[union-attr]
        done = follow_up(any_store, decision.id, 2, done=True, at="2026-05-20T10:00:00Z")
        assert done.next_steps[1].done_at is not None  # type: ignore[union-attr]
        assert [v.revision for v in any_store.history(decision.id)] == [1, 2, 3]
        assert follow_up(any_store, decision, 2, done=True) == done  # nothing changes twice

    def test_a_learning_next_action(self, any_store: Store) -> None:
        """A learning's one next action needs no step number."""
        objective = any_store.save(Objective(title="Welfare"))
        experiment = any_store.save(Experiment(title="Café", objectives=[objective]))
        learning = any_store.save(
            Learning(
                experiment=experiment, observation="Fruit offered", next_action="Ask the bakery"
            )
        )
        changed = follow_up(any_store, learning, owner="Ahmed", due="2026-06-10")
        assert changed.next_action == NextStep("Ask the bakery", owner="Ahmed", due="2026-06-10")  # type: ignore[union-attr]

    def test_an_experiment_names_its_steps(self, any_store: Store) -> None:
        """Given the experiment, a step is found among its learnings' and decision's steps."""
        decision = decided(any_store, "Evening walks", "Youth club")
        changed = follow_up(any_store, decision.experiment, "Youth club", owner="Karin")
        assert changed.id == decision.id
        assert changed.next_steps[1].owner == "Karin"  # type: ignore[union-attr]
        with pytest.raises(ValidationError, match="has 2 next steps; say which"):
            follow_up(any_store, decision.experiment, owner="Karin")

    def test_which_step_must_be_clear(self, any_store: Store) -> None:
        """Several steps need a number or an action; an unknown one lists those there are."""
        decision = decided(any_store, "Evening walks", "Youth club")
        with pytest.raises(ValidationError, match="has 2 next steps; say which"):
            follow_up(any_store, decision, owner="Karin")
        with pytest.raises(
            ValidationError, match=r"no next step 'Dance'.*Evening walks; Youth club"
        ):
            follow_up(any_store, decision, "Dance", owner="Karin")
        with pytest.raises(ValidationError, match="step 3 is not one of them"):
            follow_up(any_store, decision, 3, owner="Karin")
        assert any_store.get(decision.id).revision == 1

    def test_a_time_is_for_a_step_done(self, any_store: Store) -> None:
        """``at`` says when a step was done: without ``done=True`` it is refused, unwritten."""
        decision = decided(any_store, "Evening walks", "Youth club")
        for done in (None, False):
            with pytest.raises(ValidationError, match=r"^at needs done=True"):
                follow_up(any_store, decision, 1, owner="Karin", done=done, at="2026-05-20")
        assert any_store.get(decision.id).revision == 1

    def test_records_without_steps_are_refused(self, any_store: Store) -> None:
        """An objective has no next steps, and a name nothing has is not found."""
        objective = any_store.save(Objective(title="Welfare"))
        with pytest.raises(ValidationError, match="has no next steps"):
            follow_up(any_store, objective.id, owner="Bo")
        with pytest.raises(NotFoundError):
            follow_up(any_store, "no-such-decision", owner="Bo")


class TestRollup:
    """Open and overdue next steps in the roll-up, as of its moment."""

    def test_overdue_steps_are_flagged(self, any_store: Store) -> None:
        """A step past its due date is listed with its days; open steps are counted."""
        decided(
            any_store,
            NextStep("Evening walks", owner="Karin", due="2026-05-20"),
            NextStep("Youth club", owner="Karin", due="2026-06-20"),
        )
        total = rollup(any_store, "welfare", at=AT).total
        assert total.open_next_steps == 2
        (overdue,) = total.overdue_next_steps
        assert (overdue.step.action, overdue.overdue_days, overdue.number) == (
            "Evening walks",
            12,
            1,
        )

    def test_done_and_not_yet_due_steps_are_not_flagged(self, any_store: Store) -> None:
        """Done by the moment, or due after it: nothing is overdue."""
        decided(
            any_store,
            NextStep(
                "Evening walks", owner="Karin", due="2026-05-20", done_at="2026-05-19T10:00:00Z"
            ),
            NextStep("Youth club", owner="Karin", due="2026-06-20"),
        )
        total = rollup(any_store, "welfare", at=AT).total
        assert (total.open_next_steps, total.overdue_next_steps) == (1, ())

    def test_a_revised_decision_steps_are_replaced(self, any_store: Store) -> None:
        """Only the decision in force counts: the revision's steps replace the earlier ones."""
        first = decided(any_store, NextStep("Old step", due="2026-05-15"))
        any_store.save(
            first.revised("stop", rationale="No money", decided_at="2026-05-20T00:00:00Z")
        )
        total = rollup(any_store, "welfare", at=AT).total
        assert (total.open_next_steps, total.overdue_next_steps) == (0, ())
        earlier = rollup(any_store, "welfare", at="2026-05-18T00:00:00Z").total
        assert [f.step.action for f in earlier.overdue_next_steps] == ["Old step"]

    def test_follow_ups_lists_them_overdue_first(self, any_store: Store) -> None:
        """follow_ups() lists steps overdue first, then by due date, and filters them."""
        decided(
            any_store,
            NextStep("Later", due="2026-07-01"),
            NextStep("Late", due="2026-05-01"),
            NextStep("Done", due="2026-05-01", done_at="2026-04-30T10:00:00Z"),
        )
        listed = follow_ups(any_store, at=AT)
        assert [f.step.action for f in listed] == ["Late", "Done", "Later"]
        assert [f.step.action for f in follow_ups(any_store, at=AT, open_only=True)] == [
            "Late",
            "Later",
        ]
        assert [f.step.action for f in follow_ups(any_store, at=AT, overdue=True)] == ["Late"]


class TestKeyResultSchedule:
    """A key result's expected progress by its due date, and whether it is behind."""

    def key_result(self, store: Store, value: float | None, **fields: object) -> None:
        objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
        key_result = store.save(
            KeyResult(objective=objective, metric="families", baseline=0, target=40, **fields)  # type: ignore[arg-type]
        )
        if value is not None:
            store.save(
                Measurement(key_result=key_result, value=value, measured_at="2026-05-01T00:00:00Z")
            )

    def test_behind_is_flagged(self, any_store: Store) -> None:
        """Half-way through its time, at a quarter of the way: expected 50%, behind."""
        self.key_result(any_store, 10, since="2026-05-01", due="2026-06-30")
        (progress,) = rollup(any_store, "welfare", at=AT).objectives[0].key_results
        assert progress.expected == pytest.approx(31 / 60)
        assert progress.progress == 0.25
        assert progress.behind
        assert rollup(any_store, "welfare", at=AT).behind == (progress,)

    def test_on_track_is_not_flagged(self, any_store: Store) -> None:
        """Ahead of the straight line: not behind."""
        self.key_result(any_store, 30, since="2026-05-01", due="2026-06-30")
        (progress,) = rollup(any_store, "welfare", at=AT).objectives[0].key_results
        assert not progress.behind
        assert rollup(any_store, "welfare", at=AT).behind == ()

    def test_without_a_due_date_nothing_is_expected(self, any_store: Store) -> None:
        """No due date: no expectation, never behind."""
        self.key_result(any_store, None)
        (progress,) = rollup(any_store, "welfare", at=AT).objectives[0].key_results
        assert (progress.expected, progress.behind) == (None, False)

    @pytest.mark.parametrize(
        ("since", "due", "at", "expected"),
        [
            (dt.date(2026, 1, 1), dt.date(2026, 1, 11), "2026-01-06T12:00:00Z", 0.5),
            (dt.date(2026, 1, 1), dt.date(2026, 1, 11), "2025-12-01T12:00:00Z", 0.0),
            (dt.date(2026, 1, 1), dt.date(2026, 1, 11), "2026-03-01T12:00:00Z", 1.0),
            (dt.date(2026, 1, 11), dt.date(2026, 1, 11), "2026-01-10T12:00:00Z", 0.0),
            (dt.date(2026, 1, 11), dt.date(2026, 1, 11), "2026-01-11T12:00:00Z", 1.0),
            (dt.date(2026, 1, 1), None, "2026-01-06T12:00:00Z", None),
        ],
    )
    def test_expected_progress(
        self, since: dt.date, due: dt.date | None, at: str, expected: float | None
    ) -> None:
        """A straight line in whole days from since to due, clamped to [0, 1]."""
        assert rules.expected_progress(since, due, pendulum.parse(at)) == expected  # type: ignore[arg-type]

    def test_behind_schedule_rule(self) -> None:
        """Behind when progress plus tolerance lies below what is expected; none is 0."""
        assert rules.behind_schedule(0.2, 0.5)
        assert not rules.behind_schedule(0.45, 0.5, tolerance=0.1)
        assert rules.behind_schedule(None, 0.1)
        assert not rules.behind_schedule(None, None)
