"""The checks on shared mental models fire when they should, on every backend."""

from __future__ import annotations

from typing import Any

from experiments import Experiment, Item, Objective, Questionnaire, Term, WorkshopAction, vocabulary
from experiments.checks import Finding, Severity, run_checks
from experiments.stores import Store

NOW = "2026-10-10T12:00:00+02:00"


def findings(store: Store, check_id: str, **options: Any) -> list[Finding]:
    options.setdefault("at", NOW)
    return [f for f in run_checks(store, **options).findings if f.check == check_id]


class TestWorkshopActionOverdue:
    """follow-up/workshop-action-overdue."""

    def test_fires_from_the_day_after_it_was_due(self, any_store: Store) -> None:
        """Not done by its due date: a warning naming the days and the owner."""
        objective = any_store.save(Objective(title="Welfare"))
        late = any_store.save(
            WorkshopAction(
                title="Agree what a citizen is",
                objectives=[objective],
                owner="Executive board",
                due="2026-09-30",
                agreed_at="2026-05-20T15:00:00+02:00",
            )
        )
        any_store.save(
            WorkshopAction(
                title="Done in time",
                objectives=[objective],
                due="2026-09-30",
                agreed_at="2026-05-20T15:00:00+02:00",
                done_at="2026-09-29T10:00:00Z",
            )
        )
        any_store.save(
            WorkshopAction(
                title="Due later",
                objectives=[objective],
                due="2026-10-10",
                agreed_at="2026-05-20T15:00:00+02:00",
            )
        )
        (found,) = findings(any_store, "follow-up/workshop-action-overdue")
        assert found.severity is Severity.WARNING
        assert [r.id for r in found.concerns] == [late.id]
        assert found.message.startswith(
            "is 10 days past its due date 2026-09-30 (owner: Executive board)"
        )
        assert (
            findings(any_store, "follow-up/workshop-action-overdue", at="2026-09-30T23:00:00+02:00")
            == []
        )
        graced = {"follow-up/workshop-action-overdue": {"grace": "P14D"}}
        assert findings(any_store, "follow-up/workshop-action-overdue", options=graced) == []

    def test_done_later_was_overdue_then(self, any_store: Store) -> None:
        """An action done after the moment counts as not done at it."""
        experiment = any_store.save(Experiment(title="Walks"))
        action = any_store.save(
            WorkshopAction(
                title="Walk in the evenings",
                experiments=[experiment],
                due="2026-09-30",
                agreed_at="2026-05-20T15:00:00+02:00",
            )
        )
        any_store.save(action.done(at="2026-10-20T10:00:00Z"))
        assert len(findings(any_store, "follow-up/workshop-action-overdue")) == 1
        assert (
            findings(any_store, "follow-up/workshop-action-overdue", at="2026-10-21T00:00:00Z")
            == []
        )

    def test_only_in_the_scope_it_serves(self, any_store: Store) -> None:
        """An objective's checks see the actions serving it and its sub-objectives."""
        top = any_store.save(Objective(title="Welfare", slug="welfare"))
        child = any_store.save(Objective(title="Families", parent=top))
        elsewhere = any_store.save(Objective(title="Roads", slug="roads"))
        any_store.save(
            WorkshopAction(
                title="Late", objectives=[child], due="2026-09-01", agreed_at="2026-05-20T15:00:00Z"
            )
        )
        assert (
            len(findings(any_store, "follow-up/workshop-action-overdue", objective="welfare")) == 1
        )
        assert findings(any_store, "follow-up/workshop-action-overdue", objective=elsewhere) == []


def _used(store: Store, term: Term) -> tuple[Objective, Item]:
    objective = store.save(Objective(slug="welfare", title="Welfare", terms=[term]))
    questionnaire = store.save(Questionnaire(title="Q", objectives=[objective]))
    item = store.save(
        Item(
            questionnaire=questionnaire,
            code="C2",
            dimension="Culture",
            statement="We ask citizens",
            terms=[term],
        )
    )
    return objective, item


class TestUndefinedTerm:
    """vocabulary/undefined-term."""

    def test_fires_for_a_term_nobody_defined(self, any_store: Store) -> None:
        """A term the scope uses with no definition and no reading; one reading is enough."""
        term = any_store.save(Term(slug="citizen", word="citizen"))
        _used(any_store, term)
        any_store.save(Term(slug="budget", word="budget"))  # used by nothing: not flagged
        (found,) = findings(any_store, "vocabulary/undefined-term", objective="welfare")
        assert [r.title for r in found.concerns] == ["citizen"]
        assert "is used (Welfare, We ask citizens)" in found.message
        vocabulary.interpret(
            any_store, term, "Home Care", "Whoever we visit", at="2026-06-01T00:00:00Z"
        )
        assert findings(any_store, "vocabulary/undefined-term") == []
        assert len(findings(any_store, "vocabulary/undefined-term", at="2026-05-01T00:00:00Z")) == 1

    def test_fires_for_a_term_that_is_gone(self, any_store: Store) -> None:
        """A deleted term still named is flagged on the records naming it."""
        term = any_store.save(Term(slug="citizen", word="citizen"))
        objective, item = _used(any_store, term)
        any_store.delete(term.id)
        (found,) = findings(any_store, "vocabulary/undefined-term", objective="welfare")
        assert {r.id for r in found.concerns} == {objective.id, item.id}
        assert f"uses the term {term.id}, which is deleted or not in the store" in found.message


class TestCompetingDefinitions:
    """vocabulary/competing-definitions."""

    def test_fires_until_a_definition_is_agreed(self, any_store: Store) -> None:
        """Two departments' different readings compete until the workshop agrees one."""
        term = any_store.save(Term(slug="citizen", word="citizen"))
        _used(any_store, term)
        vocabulary.interpret(
            any_store, term, "Home Care", "Whoever we visit", at="2026-06-01T00:00:00Z"
        )
        vocabulary.interpret(any_store, term, "Culture", "Everyone here", at="2026-06-02T00:00:00Z")
        (found,) = findings(any_store, "vocabulary/competing-definitions")
        assert "means different things to Culture, Home Care" in found.message
        assert [r.title for r in found.concerns] == ["citizen"]
        vocabulary.agree(any_store, term, {"en": "Everyone we serve"}, at="2026-10-01T00:00:00Z")
        assert findings(any_store, "vocabulary/competing-definitions") == []
        assert (
            len(findings(any_store, "vocabulary/competing-definitions", at="2026-09-01T00:00:00Z"))
            == 1
        )
