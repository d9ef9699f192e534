"""The checks of the practice in depth fire when they should and stay quiet otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from experiments import (
    Experiment,
    KeyResult,
    Learning,
    Measurement,
    NextStep,
    Objective,
    Participant,
    Phase,
    Prototype,
    Sprint,
    Template,
    ValidationError,
)
from experiments.checks import Finding, Severity, run_checks
from experiments.rollup import rollup
from experiments.stores import Store
from practice_programmes import decided, running

NOW = "2026-06-01T12:00:00Z"


def findings(store: Store, check_id: str, **options: Any) -> list[Finding]:
    report = run_checks(store, at=NOW, **options)
    return [f for f in report.findings if f.check == check_id]


def concerned(store: Store, check_id: str, **options: Any) -> list[str]:
    return [f.concerns[0].id for f in findings(store, check_id, **options)]


class TestTemplateUnsatisfied:
    """template/unsatisfied."""

    def test_a_planned_experiment_lacking_its_template_fires(self, any_store: Store) -> None:
        """A planned experiment made from a template it does not satisfy is told what it lacks."""
        template = any_store.save(Template(title="Frontline", roles=["frontline-employee"]))
        experiment = any_store.save(template.new_experiment(title="Booking"))
        found = findings(any_store, "template/unsatisfied")
        assert [f.concerns[0].id for f in found] == [experiment.id]
        assert found[0].severity is Severity.INFO  # its own template is not mandatory
        assert "a frontline employee taking part" in found[0].message

    def test_a_mandatory_template_is_a_warning(self, any_store: Store) -> None:
        """A template mandatory for the experiment's objective makes the finding a warning."""
        objective = any_store.save(Objective(title="Welfare"))
        any_store.save(Template(title="Owned", to_start=["owner"], mandatory_for=[objective]))
        any_store.save(Experiment(title="Ownerless", objectives=[objective]))
        assert [f.severity for f in findings(any_store, "template/unsatisfied")] == [
            Severity.WARNING
        ]

    def test_a_satisfied_template_is_quiet(self, any_store: Store) -> None:
        """An experiment with what its template asks for passes."""
        template = any_store.save(
            Template(title="Owned", time_box="P4W", to_start=["owner", "time-box"])
        )
        any_store.save(template.new_experiment(title="Booking", owner="Home Care"))
        assert findings(any_store, "template/unsatisfied") == []


class TestPolishedFirst:
    """unfinished/polished-first."""

    def test_a_pilot_shown_first_fires(self, any_store: Store) -> None:
        """Participants first shown a pilot were shown something already finished."""
        experiment = running(any_store)
        any_store.save(
            Prototype(
                experiment=experiment,
                title="Café",
                fidelity="pilot",
                shown_at="2026-05-02T00:00:00Z",
            )
        )
        assert concerned(any_store, "unfinished/polished-first") == [experiment.id]

    def test_a_sketch_first_then_a_pilot_is_quiet(self, any_store: Store) -> None:
        """What counts is the first showing: a sketch first, a pilot later passes."""
        experiment = running(any_store)
        for title, fidelity, day in (("Sketch", "sketch", "02"), ("Pilot", "pilot", "09")):
            any_store.save(
                Prototype(
                    experiment=experiment,
                    title=title,
                    fidelity=fidelity,
                    shown_at=f"2026-05-{day}T00:00:00Z",
                )
            )
        assert findings(any_store, "unfinished/polished-first") == []

    def test_the_limit_is_configurable(self, any_store: Store) -> None:
        """max_first_fidelity moves the line: a mock-up first is too much when only a sketch is."""
        experiment = running(any_store)
        any_store.save(
            Prototype(
                experiment=experiment,
                title="Screens",
                fidelity="mock-up",
                shown_at="2026-05-02T00:00:00Z",
            )
        )
        assert findings(any_store, "unfinished/polished-first") == []
        options = {"unfinished/polished-first": {"max_first_fidelity": "sketch"}}
        assert concerned(any_store, "unfinished/polished-first", options=options) == [experiment.id]

    def test_an_unknown_fidelity_is_refused(self, any_store: Store) -> None:
        """A limit that is no fidelity is refused before any check runs, naming the choices."""
        options = {"unfinished/polished-first": {"max_first_fidelity": "polished"}}
        with pytest.raises(ValidationError, match="'sketch', 'mock-up'"):
            run_checks(any_store, at=NOW, options=options)


class TestSprintPractice:
    """sprint/no-process-design and sprint/no-external-stakeholder."""

    def test_a_sprint_of_insiders_without_phases_fires_both(self, any_store: Store) -> None:
        """A team of employees and no phases: no process design, nobody from outside."""
        staff = any_store.save(Participant(role="employee", department="Finance"))
        sprint = any_store.save(Sprint(title="Budget", team=[staff], facilitators=["Mette"]))
        assert concerned(any_store, "sprint/no-process-design") == [sprint.id]
        assert concerned(any_store, "sprint/no-external-stakeholder") == [sprint.id]

    def test_phases_with_citizens_invited_are_quiet(self, any_store: Store) -> None:
        """A phase inviting citizens is a process design that lets outsiders in."""
        staff = any_store.save(Participant(role="employee", department="Finance"))
        sprint = any_store.save(Sprint(title="Budget", team=[staff], facilitators=["Mette"]))
        any_store.save(Phase(sprint=sprint, title="Test day", roles=["citizen"]))
        assert findings(any_store, "sprint/no-process-design") == []
        assert findings(any_store, "sprint/no-external-stakeholder") == []

    def test_an_outsider_in_a_phase_counts(self, any_store: Store) -> None:
        """A partner taking part in a phase is someone from outside."""
        staff = any_store.save(Participant(role="employee", department="Finance"))
        partner = any_store.save(Participant(role="partner", name="Local police"))
        sprint = any_store.save(Sprint(title="Safety", team=[staff]))
        any_store.save(Phase(sprint=sprint, title="Walks", participants=[partner]))
        assert findings(any_store, "sprint/no-external-stakeholder") == []


class TestScope:
    """start-small/no-scope and start-small/too-big."""

    def test_no_scope_fires_for_an_open_experiment(self, any_store: Store) -> None:
        """A running experiment without a planned scope gets an informational finding."""
        experiment = running(any_store)
        found = findings(any_store, "start-small/no-scope")
        assert [(f.severity, f.concerns[0].id) for f in found] == [(Severity.INFO, experiment.id)]

    def test_a_planned_scope_is_quiet(self, any_store: Store) -> None:
        """A small planned scope keeps both rules."""
        running(any_store, scope="participants=20, sites=1, budget=30000 DKK")
        assert findings(any_store, "start-small/no-scope") == []
        assert findings(any_store, "start-small/too-big") == []

    def test_a_big_scope_fires_and_says_which_part(self, any_store: Store) -> None:
        """Too many participants or sites is named; the budget has no limit by default."""
        experiment = running(any_store, scope="participants=400, sites=2, budget=9000000")
        found = findings(any_store, "start-small/too-big")
        assert [f.concerns[0].id for f in found] == [experiment.id]
        assert "participants 400 (more than 50)" in found[0].message
        assert "budget" not in found[0].message

    def test_the_rollup_counts_planned_scopes(self, any_store: Store) -> None:
        """Of two experiments one plans its scope: half are scoped."""
        running(any_store, scope="participants=20")
        running(any_store, title="Other")
        total = rollup(any_store, "welfare", at=NOW).total
        assert (total.scoped, total.share_scoped) == (1, 0.5)

    def test_limits_are_configurable(self, any_store: Store) -> None:
        """max_budget set, a large budget is too big; max_participants raised, 400 is fine."""
        running(any_store, scope="participants=400, budget=9000000")
        options = {"start-small/too-big": {"max_participants": 500, "max_budget": "100000"}}
        found = findings(any_store, "start-small/too-big", options=options)
        assert len(found) == 1
        assert "budget 9,000,000 (more than 100,000)" in found[0].message
        assert "participants" not in found[0].message


class TestNextSteps:
    """follow-up/overdue-next-step and follow-up/untracked-next-step."""

    def test_an_overdue_step_fires(self, any_store: Store) -> None:
        """A step due in May and not done by June is overdue, with its days and owner."""
        decided(any_store, NextStep("Evening walks", owner="Karin", due="2026-05-20"))
        found = findings(any_store, "follow-up/overdue-next-step")
        assert len(found) == 1
        assert "12 days past its due date 2026-05-20" in found[0].message
        assert "(Karin)" in found[0].message

    def test_a_step_done_in_time_or_not_yet_due_is_quiet(self, any_store: Store) -> None:
        """Done before the moment, or due after it: not overdue."""
        decided(
            any_store,
            NextStep(
                "Evening walks", owner="Karin", due="2026-05-20", done_at="2026-05-25T10:00:00Z"
            ),
            NextStep("Youth club", owner="Karin", due="2026-06-15"),
        )
        assert findings(any_store, "follow-up/overdue-next-step") == []
        assert findings(any_store, "follow-up/untracked-next-step") == []

    def test_a_step_done_only_after_the_moment_was_overdue_then(self, any_store: Store) -> None:
        """As of June, a step done in July was still overdue."""
        decided(
            any_store,
            NextStep("Walks", owner="Karin", due="2026-05-20", done_at="2026-07-01T10:00:00Z"),
        )
        assert len(findings(any_store, "follow-up/overdue-next-step")) == 1

    def test_an_untracked_step_of_a_learning_fires(self, any_store: Store) -> None:
        """A learning's next action as text alone has neither owner nor due date."""
        experiment = running(any_store)
        any_store.save(
            Learning(
                experiment=experiment,
                observation="Families came",
                next_action="Ask the bakery",
                observed_at="2026-05-05T00:00:00Z",
            )
        )
        found = findings(any_store, "follow-up/untracked-next-step")
        assert [f.concerns[0].id for f in found] == [experiment.id]
        assert "without an owner and a due date" in found[0].message


class TestKeyResultBehind:
    """follow-up/key-result-behind."""

    def key_result(self, store: Store, value: float | None) -> KeyResult:
        objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
        key_result = store.save(
            KeyResult(
                objective=objective,
                metric="families",
                baseline=0,
                target=100,
                since="2026-01-01",
                due="2026-12-31",
            )
        )
        if value is not None:
            store.save(
                Measurement(key_result=key_result, value=value, measured_at="2026-05-30T00:00:00Z")
            )
        return key_result

    def test_behind_fires(self, any_store: Store) -> None:
        """20 of 100 by June 1st, when about 41% is expected, is behind."""
        key_result = self.key_result(any_store, 20)
        found = findings(any_store, "follow-up/key-result-behind")
        assert [f.concerns[0].id for f in found] == [key_result.id]
        assert "is at 20% where 41% is expected" in found[0].message

    def test_no_measurement_is_behind(self, any_store: Store) -> None:
        """A key result nobody measured has shown no progress."""
        self.key_result(any_store, None)
        assert "no measurement yet" in findings(any_store, "follow-up/key-result-behind")[0].message

    def test_on_track_is_quiet(self, any_store: Store) -> None:
        """At 45% where about 41% is expected it is on track."""
        self.key_result(any_store, 45)
        assert findings(any_store, "follow-up/key-result-behind") == []

    def test_the_tolerance_is_configurable(self, any_store: Store) -> None:
        """A tolerance of 0.1 lets 35% pass where 41% is expected."""
        self.key_result(any_store, 35)
        assert len(findings(any_store, "follow-up/key-result-behind")) == 1
        options = {"follow-up/key-result-behind": {"tolerance": 0.1}}
        assert findings(any_store, "follow-up/key-result-behind", options=options) == []

    def test_a_key_result_without_a_due_date_is_never_behind(self, any_store: Store) -> None:
        """Without a due date nothing is expected by any moment."""
        objective = any_store.save(Objective(title="Welfare"))
        any_store.save(KeyResult(objective=objective, metric="m", baseline=0, target=1))
        assert findings(any_store, "follow-up/key-result-behind") == []

    def test_an_objective_scope_reads_its_own_key_results(self, any_store: Store) -> None:
        """Checked on another objective, the key result of this one is not looked at."""
        self.key_result(any_store, 20)
        other = any_store.save(Objective(title="Other"))
        assert findings(any_store, "follow-up/key-result-behind", objective=other) == []
        welfare = any_store.get_by_slug(Objective, "welfare")
        assert len(findings(any_store, "follow-up/key-result-behind", objective=welfare)) == 1
