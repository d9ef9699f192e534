"""How the parts of an organisation see and name things, for one scope at a moment.

:class:`MentalModels` stands beside an :class:`~experiments.asof.AsOf` view and reads,
for the same scope and moment, what the maturity analysis and the shared vocabulary
need: the questionnaires and items that serve the scope, the survey rounds begun and
the responses that count, the notes of trigger interviews, the actions workshops
agreed, and the terms the scope uses with the definitions in force.  Every question
that depends on the moment is answered by the rules of
:mod:`experiments.model.shared_asof`; :func:`mental_models` gives each view one of
these, so the analysis, the checks and the reports of one view read the store once
and agree.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from experiments._cached import cached_property
from experiments._grouping import chunks
from experiments.model import (
    Interpretation,
    InterviewNote,
    Item,
    Questionnaire,
    Record,
    Response,
    SurveyRound,
    Term,
    WorkshopAction,
)
from experiments.model import shared_asof as rules
from experiments.model._time import argument, instant, parse_duration
from experiments.model.objective import subtree
from experiments.model.vocabulary import name_key

if TYPE_CHECKING:
    import pendulum

    from experiments.asof import AsOf
    from experiments.model._time import DurationLike

__all__ = ["MentalModels", "mental_models"]

_VIEWS: Final[weakref.WeakKeyDictionary[AsOf, MentalModels]] = weakref.WeakKeyDictionary()
_LOCK: Final = threading.Lock()


def mental_models(view: AsOf) -> MentalModels:
    """The shared mental models of ``view``'s scope and moment, read once per view."""
    with _LOCK:
        found = _VIEWS.get(view)
        if found is None:
            found = _VIEWS[view] = MentalModels(view)
        return found


class MentalModels:
    """Maturity surveys, interviews, workshop actions and terms of one scope at a moment.

    The scope is the view's: an objective with its sub-objectives, one experiment, or
    the whole strategy.  A questionnaire serves an objective it names, or one an item
    of it names; an item serves the objectives it names, else its questionnaire's.  A
    workshop action serves the objectives and experiments it names.  The terms a scope
    uses are those its objectives, experiments and items name; the whole strategy's
    vocabulary also holds every term no record names yet.
    """

    def __init__(self, view: AsOf) -> None:
        self.view = view
        self.store = view.store
        self.at: pendulum.DateTime = view.at

    def __repr__(self) -> str:
        return f"<MentalModels of {self.view!r}>"

    # --- the scope --------------------------------------------------------------------

    @property
    def whole_strategy(self) -> bool:
        """Whether the view covers the whole strategy (no objective or experiment)."""
        return self.view.scope_objective is None and self.view.scope_experiment is None

    @cached_property
    def objective_ids(self) -> frozenset[str]:
        """The objectives in scope, the subtree of the view's objective or all of them.

        An experiment's scope holds the objectives it serves.
        """
        view = self.view
        if view.scope_objective is not None:
            return frozenset(subtree(view.objectives.values(), view.scope_objective.id))
        if view.scope_experiment is not None:
            return frozenset(o for o in view.scope_experiment.objectives if o in view.objectives)
        return frozenset(view.objectives)

    def _serves(self, objectives: Iterable[str]) -> bool:
        return any(o in self.objective_ids for o in objectives)

    @cached_property
    def _questionnaires_and_items(self) -> tuple[list[Questionnaire], dict[str, list[Item]]]:
        if self.view.scope_experiment is not None:
            return [], {}
        questionnaires = list(self.store.query(Questionnaire))
        by_id = {q.id: q for q in questionnaires}
        items: dict[str, list[Item]] = defaultdict(list)
        for group in chunks(sorted(by_id)):
            for item in self.store.query(Item, questionnaire=group):
                owner = by_id[item.questionnaire]
                serves = item.objectives or owner.objectives
                if self.whole_strategy or self._serves(serves):
                    items[item.questionnaire].append(item)
        kept = [q for q in questionnaires if self.whole_strategy or items.get(q.id)]
        for questionnaire in kept:
            items[questionnaire.id].sort(key=_item_order(questionnaire))
        return kept, {q.id: items[q.id] for q in kept}

    @property
    def questionnaires(self) -> list[Questionnaire]:
        """The questionnaires that serve the scope, by title."""
        found, _ = self._questionnaires_and_items
        return sorted(found, key=lambda q: (q.title, q.id))

    @property
    def items(self) -> dict[str, list[Item]]:
        """The items in scope by questionnaire id, in the order of their dimensions, then code."""
        _, found = self._questionnaires_and_items
        return found

    # --- rounds and responses -----------------------------------------------------------

    @cached_property
    def rounds(self) -> dict[str, list[SurveyRound]]:
        """The rounds of each questionnaire begun at the moment, the earliest first."""
        wanted = sorted(q.id for q in self.questionnaires)
        found: dict[str, list[SurveyRound]] = {q: [] for q in wanted}
        for group in chunks(wanted):
            for made in self.store.query(SurveyRound, questionnaire=group):
                if rules.round_begun(made.opened_at, self.at):
                    found[made.questionnaire].append(made)
        for rounds in found.values():
            rounds.sort(key=lambda r: (instant(r.opened_at), r.id))
        return found

    def previous(self, survey_round: SurveyRound) -> SurveyRound | None:
        """The round of the same questionnaire before ``survey_round``, as of the moment."""
        return rules.previous_round(
            self.rounds.get(survey_round.questionnaire, ()),
            lambda r: r.opened_at,
            lambda r: r.id,
            survey_round,
        )

    @cached_property
    def _responses(self) -> dict[str, list[Response]]:
        rounds = {r.id: r for group in self.rounds.values() for r in group}
        found: dict[str, list[Response]] = {r: [] for r in rounds}
        for group in chunks(sorted(rounds)):
            for response in self.store.query(Response, round=group):
                closed = rounds[response.round].closed_at
                if rules.response_counts(response.answered_at, closed, self.at):
                    found[response.round].append(response)
        return found

    def responses(self, survey_round: SurveyRound) -> list[Response]:
        """The responses of a round that count at the moment, by id."""
        return self._responses.get(survey_round.id, [])

    def is_open(self, survey_round: SurveyRound) -> bool:
        """Whether a round still takes responses at the moment (not closed by then)."""
        closed = survey_round.closed_at
        return closed is None or instant(closed) > instant(self.at)

    # --- interviews and workshop actions -------------------------------------------------

    @cached_property
    def interview_notes(self) -> list[InterviewNote]:
        """Notes of interviews held by the moment on items in scope, the earliest first.

        The whole strategy's are all of them, items or not.
        """
        in_scope = {item.id for items in self.items.values() for item in items}
        notes = [
            note
            for note in self.store.query(InterviewNote)
            if self.view.reached(note.interviewed_at)
            and (self.whole_strategy or any(i in in_scope for i in note.items))
        ]
        notes.sort(key=lambda n: (instant(n.interviewed_at), n.id))
        return notes

    @cached_property
    def actions(self) -> list[WorkshopAction]:
        """Workshop actions agreed by the moment that serve the scope, the earliest first."""
        experiments = set(self.view.experiment_ids)
        found = [
            action
            for action in self.store.query(WorkshopAction)
            if self.view.reached(action.agreed_at)
            and (
                self.whole_strategy
                or self._serves(action.objectives)
                or any(e in experiments for e in action.experiments)
            )
        ]
        found.sort(key=lambda a: (instant(a.agreed_at), a.id))
        return found

    def done(self, action: WorkshopAction) -> bool:
        """Whether a workshop action is done at the moment."""
        return rules.action_done(action.done_at, self.at)

    def overdue_days(self, action: WorkshopAction, grace: DurationLike | None = None) -> int | None:
        """Whole days a workshop action is past its due date (and ``grace``), if it is."""
        allowance = None if grace is None else argument(grace, "grace", parse_duration)
        return rules.action_overdue_days(action.due, action.done_at, self.at, allowance)

    # --- the vocabulary -------------------------------------------------------------------

    @cached_property
    def users(self) -> dict[str, tuple[Record, ...]]:
        """The records in scope (objectives, experiments, items) that use each term, by its id."""
        found: dict[str, list[Record]] = defaultdict(list)
        objectives = self.view.objectives
        users: list[Any] = sorted(
            (objectives[o] for o in self.objective_ids if o in objectives),
            key=lambda o: (o.title, o.id),
        )
        users += sorted(self.view.experiments, key=lambda e: (e.title, e.id))
        users += [item for items in self.items.values() for item in items]
        for record in users:
            for term in record.terms:
                found[term].append(record)
        return {term: tuple(records) for term, records in found.items()}

    @cached_property
    def _terms(self) -> dict[str, Term]:
        wanted = sorted(self.users)
        if self.whole_strategy:
            terms = {t.id: t for t in self.store.query(Term)}
        else:
            terms = {t.id: t for group in chunks(wanted) for t in self.store.query(Term, id=group)}
        return terms

    @property
    def terms(self) -> list[Term]:
        """The live terms the scope uses (and, for the whole strategy, every live term), by word."""
        return sorted(self._terms.values(), key=lambda t: (t.word.casefold(), t.word, t.id))

    def missing_terms(self) -> dict[str, tuple[Record, ...]]:
        """Terms the scope uses that are deleted or not in the store, with who uses them."""
        return {term: users for term, users in self.users.items() if term not in self._terms}

    @cached_property
    def _agreed(self) -> dict[str, Term | None]:
        found: dict[str, Term | None] = {}
        for term in self._terms.values():
            if term.agreed_at is not None and self.view.reached(term.agreed_at):
                found[term.id] = term  # the current version is in force: no history needed
            elif term.revision > 1:
                history = [t for t in self.store.history(term.id) if isinstance(t, Term)]
                found[term.id] = rules.in_force(history, _agreed_at, self.at)
            else:
                found[term.id] = None
        return found

    def agreed(self, term: Term) -> Term | None:
        """The version of ``term`` whose agreed definitions are in force, if one is."""
        return self._agreed.get(term.id)

    @cached_property
    def _interpretations(self) -> dict[str, list[Interpretation]]:
        found: dict[str, list[Interpretation]] = defaultdict(list)
        for group in chunks(sorted(self._terms)):
            for reading in self.store.query(Interpretation, term=group):
                in_force: Interpretation | None = reading
                if not self.view.reached(reading.stated_at):
                    history = [
                        r for r in self.store.history(reading.id) if isinstance(r, Interpretation)
                    ]
                    in_force = rules.in_force(history, _stated, self.at)
                if in_force is not None:
                    found[reading.term].append(in_force)
        for readings in found.values():
            readings.sort(key=lambda r: (r.department.casefold(), r.language.value, r.id))
        return found

    def interpretations(self, term: Term) -> list[Interpretation]:
        """What departments mean by ``term``, as stated by the moment, by department."""
        return self._interpretations.get(term.id, [])


def _stated(reading: Interpretation) -> pendulum.DateTime:
    return reading.stated_at


def _agreed_at(term: Term) -> pendulum.DateTime | None:
    return term.agreed_at


def _item_order(questionnaire: Questionnaire) -> Any:
    """Items in the order of the questionnaire's dimensions (others after), then by code."""
    order: Mapping[str, int] = {name_key(d): n for n, d in enumerate(questionnaire.dimensions)}
    last = len(order)

    def key(item: Item) -> tuple[int, str, str, str]:
        dimension = name_key(item.dimension)
        return (order.get(dimension, last), dimension, item.code.casefold(), item.code)

    return key
