"""The maturity analysis as of a moment: how differently the parts see the same thing.

::

    from experiments.maturity import analyse

    analysis = analyse(store, "welfare-in-100-days", at="2026-11-27T12:00:00+01:00")
    for questionnaire in analysis.questionnaires:
        latest = questionnaire.latest
        for item in latest.ranking[:3]:  # where perceptions differ most
            print(item.code, item.spread.points, item.spread.highest, item.spread.lowest)

For each questionnaire that serves the scope, and each of its rounds begun at the
moment, :func:`analyse` gives per item and dimension the mean score of each group
(department, level, or both), the spread between the groups, and the change since the
previous round.  Every figure passes the small-group rule
(:func:`experiments.model.small_groups.protect`) on its way in: a group with fewer
respondents than the minimum is never shown on its own, and what is not shown never
enters a figure that is.  It reads through the same
:class:`~experiments.asof.AsOf` view as the roll-up, the checks and the reports.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import pendulum

from experiments import model
from experiments._maturity_data import maturity_data
from experiments.errors import ValidationError
from experiments.mental_models import MentalModels, mental_models
from experiments.model._time import DateTimeLike
from experiments.model._validate import to_enum
from experiments.model.small_groups import DEFAULT_MIN_GROUP, check_minimum, protect
from experiments.model.vocabulary import name_key
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.asof import AsOf
    from experiments.stores import Store

__all__ = [
    "ALL",
    "OTHER",
    "ActionDetail",
    "DimensionScores",
    "GroupBy",
    "InterviewDetail",
    "ItemScores",
    "Maturity",
    "QuestionnaireAnalysis",
    "RoundAnalysis",
    "Score",
    "Spread",
    "analyse",
    "checked",
    "of_view",
]

#: The name of the group the small groups are merged into.
OTHER: Final = "other"
#: The name of the group of every respondent shown.
ALL: Final = "all"
#: What joins a department and a level in the name of a group of both.
JOIN: Final = " \u00b7 "


class GroupBy(enum.StrEnum):
    """What respondents are grouped by: department, level, or both together."""

    DEPARTMENT = "department"
    LEVEL = "level"
    DEPARTMENT_AND_LEVEL = "department-and-level"


@attrs.frozen
class Score:
    """One group's mean score on an item or a dimension, and its change.

    ``respondents`` is how many answered (None for a dimension, whose items may have
    been answered by different numbers).  ``members`` are the groups merged into
    :data:`OTHER`.  ``previous`` is the same group's score in the previous round and
    ``change`` the difference, both None unless the group was shown there too (for
    "other": made of the same groups).
    """

    group: str
    mean: float
    respondents: int | None = None
    members: tuple[str, ...] = ()
    previous: float | None = None
    change: float | None = None


def _score_of(
    scores: Sequence[Score], other: Score | None, total: Score | None, group: str
) -> Score | None:
    """The score shown for ``group`` among ``scores``, "other" and the total, if any."""
    if group == OTHER:
        return other
    if group == ALL:
        return total
    key = name_key(group)
    return next((s for s in scores if name_key(s.group) == key), None)


@attrs.frozen
class Spread:
    """How far apart the groups shown on their own are: the highest mean minus the lowest."""

    points: float
    highest: str
    lowest: str


@attrs.frozen
class ItemScores:
    """One item in one round: each group's score, the spread between them, the change.

    ``scores`` are the groups shown on their own, in the round's order of groups;
    ``other`` the small groups merged (None if there were none, or too few together);
    ``merged`` names the small groups and ``suppressed`` says whether their "other" was
    too small to show.  ``total`` is every respondent shown, together; it is never
    taken over a group that is not shown.  ``interviews`` are the notes of trigger
    interviews on the item.
    """

    item: Ref
    code: str
    dimension: str
    scores: tuple[Score, ...]
    other: Score | None
    merged: tuple[str, ...]
    suppressed: bool
    total: Score | None
    spread: Spread | None
    interviews: tuple[Ref, ...] = ()

    def score(self, group: str) -> Score | None:
        """The score of ``group`` (a name, :data:`OTHER` or :data:`ALL`), if it is shown."""
        return _score_of(self.scores, self.other, self.total, group)


@attrs.frozen
class DimensionScores:
    """One dimension in one round: each group's mean over the items it is shown on.

    A group's dimension score is the mean of its item scores in the dimension, taken
    over the items where it is shown, so it shows nothing the items do not.
    """

    dimension: str
    items: int
    scores: tuple[Score, ...]
    other: Score | None
    total: Score | None
    spread: Spread | None

    def score(self, group: str) -> Score | None:
        """The score of ``group`` (a name, :data:`OTHER` or :data:`ALL`), if it is shown."""
        return _score_of(self.scores, self.other, self.total, group)


_Ranked = TypeVar("_Ranked", ItemScores, DimensionScores)


@attrs.frozen
class RoundAnalysis:
    """One survey round as of the moment: its items and dimensions, group by group.

    ``respondents`` counts the responses in groups that are shown (on their own or in
    "other"): a suppressed group is not counted.  ``groups`` are the groups shown on
    their own on at least one item, in order (the round's departments and levels as
    it lists them, then the others by name).  ``open`` says whether the round still
    took responses at the moment.
    """

    round: Ref
    opened_at: pendulum.DateTime
    closed_at: pendulum.DateTime | None
    open: bool
    previous: Ref | None
    respondents: int
    groups: tuple[str, ...]
    items: tuple[ItemScores, ...]
    dimensions: tuple[DimensionScores, ...]

    @property
    def ranking(self) -> tuple[ItemScores, ...]:
        """The items with a spread, where the groups differ most first."""
        return _ranked(self.items)

    @property
    def dimension_ranking(self) -> tuple[DimensionScores, ...]:
        """The dimensions with a spread, where the groups differ most first."""
        return _ranked(self.dimensions)

    def by_dimension(self) -> Iterator[tuple[DimensionScores, tuple[ItemScores, ...]]]:
        """Each dimension with its items, in the order shown: the dimension, then its items."""
        dimensions = {name_key(d.dimension): d for d in self.dimensions}
        for name, items in _by_dimension(self.items):
            yield dimensions[name_key(name)], tuple(items)

    @property
    def has_other(self) -> bool:
        """Whether some item shows an "other" group."""
        return any(item.other is not None for item in self.items)

    def notes(self) -> list[tuple[tuple[str, ...], bool, tuple[ItemScores, ...]]]:
        """Which small groups were merged (and whether suppressed), with the items concerned.

        One entry per distinct set of merged groups, in the order of the items.
        """
        found: dict[tuple[tuple[str, ...], bool], list[ItemScores]] = {}
        for item in self.items:
            if item.merged:
                found.setdefault((item.merged, item.suppressed), []).append(item)
        return [(merged, suppressed, tuple(items)) for (merged, suppressed), items in found.items()]


def _ranked(entries: Sequence[_Ranked]) -> tuple[_Ranked, ...]:
    """Those with a spread, the widest first; ties in their own order."""
    spreads = [(entry.spread.points, n) for n, entry in enumerate(entries) if entry.spread]
    spreads.sort(key=lambda pair: (-pair[0], pair[1]))
    return tuple(entries[n] for _, n in spreads)


@attrs.frozen
class QuestionnaireAnalysis:
    """A questionnaire and every round of it begun at the moment, the earliest first."""

    questionnaire: Ref
    description: str
    scale: model.Scale
    rounds: tuple[RoundAnalysis, ...]

    @property
    def latest(self) -> RoundAnalysis | None:
        """The latest round begun at the moment, if any."""
        return self.rounds[-1] if self.rounds else None


@attrs.frozen
class InterviewDetail:
    """A note of a trigger interview, as reports show it: its text, when, and its items."""

    ref: Ref
    interviewed_at: pendulum.DateTime
    items: tuple[Ref, ...]


@attrs.frozen
class ActionDetail:
    """An action a workshop agreed, and where its follow-up stands at the moment.

    ``done_at`` is left out while it lies after the moment; ``overdue_days`` says how
    many days it is past its due date, if it is.
    """

    ref: Ref
    workshop: str | None
    owner: str | None
    due: pendulum.Date | None
    agreed_at: pendulum.DateTime
    done_at: pendulum.DateTime | None
    overdue_days: int | None
    objectives: tuple[Ref, ...]
    experiments: tuple[Ref, ...]

    @property
    def done(self) -> bool:
        return self.done_at is not None


@attrs.frozen
class Maturity:
    """The maturity analysis of one scope at a moment, and its interviews and actions."""

    at: pendulum.DateTime
    scope: Ref | None
    group_by: GroupBy
    min_group_size: int
    questionnaires: tuple[QuestionnaireAnalysis, ...]
    interviews: tuple[InterviewDetail, ...]
    actions: tuple[ActionDetail, ...]

    @property
    def empty(self) -> bool:
        """Whether there is nothing to show (no questionnaire, interview or action)."""
        return not (self.questionnaires or self.interviews or self.actions)

    @property
    def overdue_actions(self) -> tuple[ActionDetail, ...]:
        """The workshop actions past their due date at the moment."""
        return tuple(a for a in self.actions if a.overdue_days is not None)

    def to_data(self) -> dict[str, Any]:
        """The analysis as JSON-compatible data: the JSON report's ``maturity`` section.

        Times are ISO 8601 with the offset of the moment's zone, means rounded to six
        decimals; ``reports/schema/report.schema.json`` describes the shape.
        """
        return maturity_data(self)


# --- grouping ---------------------------------------------------------------------------


class _Groups:
    """Which group each response belongs to, its name, and the order groups are shown in."""

    def __init__(
        self, survey_round: model.SurveyRound, responses: Sequence[model.Response], by: GroupBy
    ) -> None:
        self.by = by
        departments = _spellings(survey_round.departments, (r.department for r in responses))
        levels = _spellings(
            survey_round.levels, (r.level for r in responses if r.level is not None)
        )
        self.department_order = _order(departments, survey_round.departments)
        self.level_order = _order(levels, survey_round.levels)
        self.departments = departments
        self.levels = levels

    def key(self, response: model.Response) -> tuple[str, ...] | None:
        department = name_key(response.department)
        level = None if response.level is None else name_key(response.level)
        if self.by is GroupBy.DEPARTMENT:
            return (department,)
        if self.by is GroupBy.LEVEL:
            return None if level is None else (level,)
        return (department,) if level is None else (department, level)

    def name(self, key: tuple[str, ...]) -> str:
        if self.by is GroupBy.LEVEL:
            return self.levels[key[0]]
        names = [self.departments[key[0]]]
        if len(key) > 1:
            names.append(self.levels[key[1]])
        return JOIN.join(names)

    def order(self, key: tuple[str, ...]) -> tuple[int, ...]:
        if self.by is GroupBy.LEVEL:
            return (self.level_order[key[0]],)
        first = self.department_order[key[0]]
        return (first, -1) if len(key) == 1 else (first, self.level_order[key[1]])


def _spellings(declared: Iterable[str], given: Iterable[str]) -> dict[str, str]:
    """How each name is shown: as the round declares it, else its first spelling by text."""
    found = {name_key(name): name for name in declared}
    for name in sorted(given):
        found.setdefault(name_key(name), name)
    return found


def _order(names: Mapping[str, str], declared: Sequence[str]) -> dict[str, int]:
    """Declared names first, in their order; the others after, by name."""
    keys = [name_key(name) for name in declared]
    rest = sorted((k for k in names if k not in keys), key=lambda k: (names[k].casefold(), k))
    return {key: n for n, key in enumerate([*keys, *rest])}


# --- figures ----------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _spread(scores: Sequence[Score]) -> Spread | None:
    """The highest mean minus the lowest among the groups shown on their own (two or more)."""
    if len(scores) < 2:  # noqa: PLR2004 - a spread is between two groups at least
        return None
    highest = max(scores, key=lambda s: s.mean)
    lowest = min(reversed(scores), key=lambda s: s.mean)  # the last of equals: not the highest
    return Spread(highest.mean - lowest.mean, highest.group, lowest.group)


def _changed(score: Score | None, before: Score | None) -> Score | None:
    """``score`` with its change since ``before``, when both show the same group."""
    if score is None or before is None:
        return score
    if score.group == OTHER and {name_key(m) for m in score.members} != {
        name_key(m) for m in before.members
    }:
        return score  # "other" made of other groups: not the same group
    return attrs.evolve(score, previous=before.mean, change=score.mean - before.mean)


class _RoundReader:
    """Works out one round's figures, every one of them through the small-group rule."""

    def __init__(
        self,
        models: MentalModels,
        questionnaire: model.Questionnaire,
        items: Sequence[model.Item],
        by: GroupBy,
        minimum: int,
        notes: Mapping[str, tuple[Ref, ...]],
    ) -> None:
        self.models = models
        self.questionnaire = questionnaire
        self.items = items
        self.by = by
        self.minimum = minimum
        self.notes = notes

    def read(self, survey_round: model.SurveyRound, before: RoundAnalysis | None) -> RoundAnalysis:
        responses = self.models.responses(survey_round)
        groups = _Groups(survey_round, responses, self.by)
        members: dict[tuple[str, ...], list[model.Response]] = {}
        for response in sorted(responses, key=lambda r: r.id):
            key = groups.key(response)
            if key is not None:
                members.setdefault(key, []).append(response)
        ordered = dict(sorted(members.items(), key=lambda kv: groups.order(kv[0])))
        counted = protect(ordered, self.minimum)
        previous_items = {} if before is None else {i.code: i for i in before.items}
        items = tuple(
            self._item(item, ordered, groups, previous_items.get(item.code)) for item in self.items
        )
        shown = {s.group for item in items for s in item.scores}
        order = [groups.name(key) for key in ordered if groups.name(key) in shown]
        previous_dimensions = (
            {} if before is None else {name_key(d.dimension): d for d in before.dimensions}
        )
        dimensions = tuple(
            self._dimension(name, entries, order, previous_dimensions.get(name_key(name)))
            for name, entries in _by_dimension(items)
        )
        previous = self.models.previous(survey_round)
        closed = survey_round.closed_at
        return RoundAnalysis(
            round=Ref(survey_round.id, survey_round.title),
            opened_at=survey_round.opened_at,
            closed_at=closed if closed is not None and self.models.view.reached(closed) else None,
            open=self.models.is_open(survey_round),
            previous=None if previous is None else Ref(previous.id, previous.title),
            respondents=len(counted.values),
            groups=tuple(order),
            items=items,
            dimensions=dimensions,
        )

    def _item(
        self,
        item: model.Item,
        members: Mapping[tuple[str, ...], Sequence[model.Response]],
        groups: _Groups,
        before: ItemScores | None,
    ) -> ItemScores:
        scale = self.questionnaire.scale
        answers = {
            key: [r.answers[item.code] for r in responses if r.answers.get(item.code) in scale]
            for key, responses in members.items()
        }
        shown = protect(answers, self.minimum)
        scores = tuple(
            _changed(
                Score(groups.name(key), _mean(values), len(values)),
                None if before is None else before.score(groups.name(key)),
            )
            for key, values in shown.shown
        )
        merged = tuple(groups.name(key) for key in shown.merged)
        other = (
            None
            if shown.other is None
            else Score(OTHER, _mean(shown.other), len(shown.other), members=merged)
        )
        every = shown.values
        total = Score(ALL, _mean(every), len(every)) if every else None
        return ItemScores(
            item=Ref(item.id, item.statement),
            code=item.code,
            dimension=item.dimension,
            scores=scores,  # type: ignore[arg-type]
            other=_changed(other, None if before is None else before.other),
            merged=merged,
            suppressed=shown.suppressed,
            total=_changed(total, None if before is None else before.total),
            spread=_spread(scores),  # type: ignore[arg-type]
            interviews=self.notes.get(item.id, ()),
        )

    @staticmethod
    def _dimension(
        name: str,
        items: Sequence[ItemScores],
        order: Sequence[str],
        before: DimensionScores | None,
    ) -> DimensionScores:
        def averaged(group: str, pick: Callable[[ItemScores], Score | None]) -> Score | None:
            found = [score for item in items if (score := pick(item)) is not None]
            if not found:
                return None
            members = tuple(dict.fromkeys(m for score in found for m in score.members))
            score = Score(group, _mean([s.mean for s in found]), None, members=members)
            return _changed(score, None if before is None else before.score(group))

        def of(group: str) -> Callable[[ItemScores], Score | None]:
            return lambda item: item.score(group)

        scores = tuple(score for group in order if (score := averaged(group, of(group))))
        return DimensionScores(
            dimension=name,
            items=len(items),
            scores=scores,
            other=averaged(OTHER, lambda i: i.other),
            total=averaged(ALL, lambda i: i.total),
            spread=_spread(scores),
        )


def _by_dimension(items: Sequence[ItemScores]) -> list[tuple[str, list[ItemScores]]]:
    """The items grouped by dimension, in the order the dimensions first come."""
    found: dict[str, tuple[str, list[ItemScores]]] = {}
    for item in items:
        found.setdefault(name_key(item.dimension), (item.dimension, []))[1].append(item)
    return list(found.values())


# --- reading ----------------------------------------------------------------------------


def _zone(at: pendulum.DateTime) -> pendulum.Timezone | pendulum.FixedTimezone:
    return at.timezone or pendulum.UTC


def _interviews(models: MentalModels, titles: Mapping[str, str]) -> tuple[InterviewDetail, ...]:
    zone = _zone(models.at)
    return tuple(
        InterviewDetail(
            ref=Ref(note.id, note.text),
            interviewed_at=note.interviewed_at.in_timezone(zone),
            items=tuple(Ref(i, titles[i]) for i in note.items if i in titles),
        )
        for note in models.interview_notes
    )


def _actions(models: MentalModels) -> tuple[ActionDetail, ...]:
    view = models.view
    zone = _zone(models.at)
    objectives = view.objectives
    experiment_titles = {e.id: e.title for e in view.experiments}

    def detail(action: model.WorkshopAction) -> ActionDetail:
        done = action.done_at if models.done(action) else None
        missing = [e for e in action.experiments if e not in experiment_titles]
        if missing:
            experiment_titles.update(
                (e.id, e.title) for e in models.store.query(model.Experiment, id=missing)
            )
        return ActionDetail(
            ref=Ref(action.id, action.title),
            workshop=action.workshop,
            owner=action.owner,
            due=action.due,
            agreed_at=action.agreed_at.in_timezone(zone),
            done_at=None if done is None else done.in_timezone(zone),
            overdue_days=models.overdue_days(action),
            objectives=tuple(
                Ref(o, objectives[o].title) for o in action.objectives if o in objectives
            ),
            experiments=tuple(
                Ref(e, experiment_titles[e]) for e in action.experiments if e in experiment_titles
            ),
        )

    return tuple(detail(action) for action in models.actions)


def checked(group_by: GroupBy | str, min_group_size: int) -> tuple[GroupBy, int]:
    """The grouping and the minimum group size of an analysis, or the error naming them.

    Raises:
        ValidationError: a grouping other than those of :class:`GroupBy`, or a minimum
            below 2; InvalidTypeError: a minimum that is not a whole number.
    """
    try:
        by = to_enum(GroupBy, group_by)
    except Exception:  # noqa: BLE001 - any unfit value is the same mistake
        choices = ", ".join(repr(g.value) for g in GroupBy)
        raise ValidationError(f"group_by must be one of {choices}; got {group_by!r}") from None
    return by, check_minimum(min_group_size)


def of_view(
    view: AsOf,
    *,
    group_by: GroupBy | str = GroupBy.DEPARTMENT,
    min_group_size: int = DEFAULT_MIN_GROUP,
) -> Maturity:
    """The maturity analysis of an :class:`~experiments.asof.AsOf` view's scope and moment."""
    by, minimum = checked(group_by, min_group_size)
    models = mental_models(view)
    titles = {item.id: item.statement for items in models.items.values() for item in items}
    notes: dict[str, list[Ref]] = {}
    for note in models.interview_notes:
        for item in note.items:
            notes.setdefault(item, []).append(Ref(note.id, note.text))
    frozen_notes = {item: tuple(refs) for item, refs in notes.items()}
    zone = _zone(models.at)
    analyses = []
    for questionnaire in models.questionnaires:
        reader = _RoundReader(
            models, questionnaire, models.items[questionnaire.id], by, minimum, frozen_notes
        )
        rounds: list[RoundAnalysis] = []
        for survey_round in models.rounds.get(questionnaire.id, []):
            made = reader.read(survey_round, rounds[-1] if rounds else None)
            rounds.append(
                attrs.evolve(
                    made,
                    opened_at=made.opened_at.in_timezone(zone),
                    closed_at=None if made.closed_at is None else made.closed_at.in_timezone(zone),
                )
            )
        analyses.append(
            QuestionnaireAnalysis(
                questionnaire=Ref(questionnaire.id, questionnaire.title),
                description=questionnaire.description,
                scale=questionnaire.scale,
                rounds=tuple(rounds),
            )
        )
    return Maturity(
        at=view.at,
        scope=view.scope,
        group_by=by,
        min_group_size=minimum,
        questionnaires=tuple(analyses),
        interviews=_interviews(models, titles),
        actions=_actions(models),
    )


def analyse(
    source: AsOf | Store,
    objective: model.Objective | str | None = None,
    *,
    at: DateTimeLike | None = None,
    group_by: GroupBy | str = GroupBy.DEPARTMENT,
    min_group_size: int = DEFAULT_MIN_GROUP,
) -> Maturity:
    """The maturity analysis of a scope as of a moment.

    Args:
        source: a store, or an :class:`~experiments.asof.AsOf` view already made (then
            ``objective`` and ``at`` are the view's and must not be given).
        objective: an objective (record, id or slug): the analysis of the questionnaires
            and items serving it and its sub-objectives.  None: the whole strategy.
        at: the moment (default now): rounds begun by then, responses that count then.
        group_by: ``"department"`` (default), ``"level"`` or ``"department-and-level"``.
        min_group_size: the fewest respondents a group's figures are shown for (default
            3); smaller groups are merged into "other", which is left out if it is
            still smaller.

    Raises:
        NotFoundError: the objective is not in the store.
        ValidationError: a bad moment, grouping or minimum, or a view with a scope or
            moment given again.
    """
    from experiments.asof import AsOf  # noqa: PLC0415 - the view imports the model only

    if isinstance(source, AsOf):
        if objective is not None or at is not None:
            raise ValidationError(
                "give the objective and the moment to the AsOf view, or pass the store"
            )
        view = source
    else:
        view = AsOf(source, objective=objective, at=at)
    return of_view(view, group_by=group_by, min_group_size=min_group_size)
