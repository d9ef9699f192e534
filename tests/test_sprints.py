"""Sprints in the roll-up and the tracking API, and prototypes' first exposure, everywhere."""

from __future__ import annotations

import pendulum
import pytest

import experiments
from experiments import (
    Experiment,
    Fidelity,
    Learning,
    Objective,
    Participant,
    Phase,
    Prototype,
    Sprint,
    ValidationError,
)
from experiments.model import asof as rules
from experiments.rollup import rollup
from experiments.stores import Store

AT = "2026-06-01T12:00:00Z"


class TestRunSprint:
    """run.sprint() and run.phase(): a sprint and its process design from a script."""

    def test_a_slug_makes_the_sprint_and_puts_the_experiment_in_it(self, any_store: Store) -> None:
        """The sprint is made, its team joins, and running it again changes nothing."""
        lise = any_store.save(
            Participant(role="frontline-employee", slug="lise", department="Families")
        )
        for _ in range(2):
            with experiments.track("walks", store=any_store, start=False) as run:
                sprint = run.sprint(
                    "welfare-sprint",
                    title="Welfare sprint",
                    challenge="Welfare with the citizens",
                    time_box="2026-05-01T08:00:00Z/P100D",
                    team=["lise"],
                    facilitators=["Mette"],
                )
        assert sprint.title == "Welfare sprint"
        assert sprint.team == (lise.id,)
        assert any_store.get_by_slug(Experiment, "walks").sprint == sprint.id
        assert any_store.count(Sprint) == 1
        assert [v.revision for v in any_store.history(sprint.id)] == [1, 2]

    def test_phases_of_the_run_sprint(self, any_store: Store) -> None:
        """A phase per title in the sprint; given again, what is given replaces, people join."""
        anna = any_store.save(Participant(role="citizen", slug="anna"))
        bo = any_store.save(Participant(role="citizen", slug="bo"))
        with experiments.track("walks", store=any_store, start=False) as run:
            run.sprint("welfare-sprint")
            first = run.phase("Test day", position=2, participants=["anna"], roles=["citizen"])
            again = run.phase("Test day", participants=[bo], involvement="consulted")
        assert first.id == again.id
        assert again.participants == (anna.id, bo.id)
        assert again.position == 2
        assert again.involvement.value == "consulted"
        assert [r.value for r in again.roles] == ["citizen"]
        assert any_store.count(Phase) == 1

    def test_a_phase_needs_a_sprint(self, any_store: Store) -> None:
        """An experiment in no sprint is told to give one."""
        with (
            experiments.track("walks", store=any_store, start=False) as run,
            pytest.raises(ValidationError, match="is in no sprint; give sprint="),
        ):
            run.phase("Kick-off")


def _programme(store: Store) -> Sprint:
    objective = store.save(Objective(title="Welfare", slug="welfare"))
    inside = store.save(Participant(role="frontline-employee", name="Lise", department="Families"))
    other = store.save(Participant(role="employee", name="Bo", department="Culture"))
    hidden = store.save(Participant(role="citizen", name="Secret Name", pseudonymous=True))
    sprint = store.save(
        Sprint(title="Welfare sprint", team=[inside, other, hidden], facilitators=["Mette"])
    )
    store.save(Phase(sprint=sprint, title="Kick-off", position=1, participants=[inside, other]))
    store.save(
        Phase(sprint=sprint, title="Test day", position=2, participants=[hidden], roles=["citizen"])
    )
    experiment = store.save(Experiment(title="Walks", objectives=[objective], sprint=sprint))
    experiment = store.save(experiment.start(at="2026-05-01T00:00:00Z"))
    store.save(
        Learning(
            experiment=experiment, observation="Residents came", observed_at="2026-05-10T00:00:00Z"
        )
    )
    store.save(
        Learning(experiment=experiment, observation="Later", observed_at="2026-07-10T00:00:00Z")
    )
    store.save(
        Experiment(
            title="Elsewhere", objectives=[store.save(Objective(title="Finance"))], sprint=sprint
        )
    )
    return sprint


class TestSprintRollup:
    """Rollup.sprints: challenge, team, process design, experiments and learnings."""

    def test_each_sprint_with_its_team_phases_and_results(self, any_store: Store) -> None:
        """The team crosses two departments; phases in order; what was learned by then."""
        sprint = _programme(any_store)
        (rolled,) = rollup(any_store, "welfare", at=AT).sprints
        assert rolled.ref.id == sprint.id
        assert rolled.departments == ("Culture", "Families")
        assert [m.name for m in rolled.external] == [None]  # the citizen, never named
        assert [p.ref.title for p in rolled.phases] == ["Kick-off", "Test day"]
        assert [m.name for m in rolled.phases[0].members] == ["Bo", "Lise"]
        assert [r.value for r in rolled.phases[1].roles] == ["citizen"]
        assert [(r.title, s.value) for r, s in rolled.experiments] == [("Walks", "running")]
        assert [r.title for r, _ in rolled.learnings] == ["Residents came"]

    def test_the_whole_strategy_has_every_sprint_experiment(self, any_store: Store) -> None:
        """Rolled up over the whole strategy, the sprint lists all its experiments."""
        _programme(any_store)
        (rolled,) = rollup(any_store, at=AT).sprints
        assert [r.title for r, _ in rolled.experiments] == ["Elsewhere", "Walks"]

    def test_no_sprints_no_section(self, any_store: Store) -> None:
        """A programme without sprints rolls up none."""
        objective = any_store.save(Objective(title="Welfare"))
        any_store.save(Experiment(title="Walks", objectives=[objective]))
        assert rollup(any_store, at=AT).sprints == ()

    def test_a_pseudonym_stays_hidden(self, any_store: Store) -> None:
        """Nothing in a sprint's roll-up carries a pseudonymous participant's name."""
        _programme(any_store)
        assert "Secret Name" not in repr(rollup(any_store, at=AT).sprints)


class TestFirstExposure:
    """What participants were first shown: per experiment and per objective, as of a moment."""

    def test_rule(self) -> None:
        """The earliest showing that counts; of two at once, the less finished."""
        t1, t2 = pendulum.parse("2026-05-01T00:00:00Z"), pendulum.parse("2026-05-02T00:00:00Z")
        showings = [
            (t2, Fidelity.SKETCH),
            (t1, Fidelity.PILOT),
            (t1, Fidelity.MOCK_UP),
            (None, None),
        ]
        assert rules.first_exposure(showings, t2) == (t1, Fidelity.MOCK_UP)  # type: ignore[arg-type]
        assert rules.first_exposure(showings, pendulum.parse("2026-04-01T00:00:00Z")) is None  # type: ignore[arg-type]
        assert rules.polished_first(Fidelity.PILOT, Fidelity.MOCK_UP)
        assert not rules.polished_first(Fidelity.MOCK_UP, Fidelity.MOCK_UP)
        assert not rules.polished_first(None, Fidelity.SKETCH)

    def test_per_objective_by_fidelity(self, any_store: Store) -> None:
        """Experiments count under the fidelity they first showed; later showings do not count."""
        objective = any_store.save(Objective(title="Welfare", slug="welfare"))
        for title, fidelity, day in (
            ("A", "sketch", "02"),
            ("B", "pilot", "03"),
            ("C", "sketch", "20"),
        ):
            experiment = any_store.save(Experiment(title=title, objectives=[objective]))
            any_store.save(
                Prototype(
                    experiment=experiment,
                    title=title,
                    fidelity=fidelity,
                    shown_at=f"2026-06-{day}T00:00:00Z",
                )
            )
        shown = rollup(any_store, "welfare", at="2026-06-10T00:00:00Z").total.first_shown
        assert shown == {
            Fidelity.SKETCH: 1,
            Fidelity.MOCK_UP: 0,
            Fidelity.WORKING_PROTOTYPE: 0,
            Fidelity.PILOT: 1,
        }

    def test_the_fidelity_when_first_shown_stays(self, any_store: Store) -> None:
        """A sketch shown, then made a pilot: participants were first shown a sketch."""
        objective = any_store.save(Objective(title="Welfare", slug="welfare"))
        experiment = any_store.save(Experiment(title="A", objectives=[objective]))
        shown = any_store.save(
            Prototype(experiment=experiment, title="Leaflet", fidelity="sketch").shown(
                at="2026-06-01T00:00:00Z"
            )
        )
        later = any_store.save(shown.next_version(fidelity="pilot"))
        assert (later.fidelity, later.shown_as) == (Fidelity.PILOT, Fidelity.SKETCH)
        total = rollup(any_store, "welfare", at="2026-06-10T00:00:00Z").total
        assert total.first_shown[Fidelity.SKETCH] == 1
