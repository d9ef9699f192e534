"""The maturity analysis as records: questionnaires, rounds, responses, interviews, actions.

A quantitative maturity analysis (*modenhetsanalyse*) asks the parts of an organisation
the same statements and shows how differently they see the same thing; "the point is
not the score but becoming aware of what we are talking about".  A
:class:`Questionnaire` declares the scale its :class:`Item` statements are answered on
and the dimensions they are grouped in; a :class:`SurveyRound` asks it at a time, of a
set of departments and levels; a :class:`Response` is one respondent's answers in one
round, with their department and level and no name.  Trigger interviews add
:class:`InterviewNote` records tied to items; the workshop that follows agrees
:class:`WorkshopAction` records, followed up by owner and due date.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any, ClassVar, Final

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import Unfit, named_errors, shorten
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, instant, instant_key, now
from experiments.model._validate import (
    to_datetime,
    to_names,
    to_optional_date,
    to_optional_datetime,
    to_optional_name,
    to_optional_ref,
    to_ref,
    to_refs,
    to_text,
    to_title,
)
from experiments.model.vocabulary import name_key

__all__ = [
    "InterviewNote",
    "Item",
    "Questionnaire",
    "Response",
    "Scale",
    "SurveyRound",
    "WorkshopAction",
    "to_code",
]

#: How many points a scale may have at most (0-100 is the widest in common use).
_MOST_POINTS: Final = 101
_CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_CODE_RULE: Final = (
    "must be a code of 1-64 letters, digits, '_', '.' or '-', starting with a letter or "
    "digit, as a survey tool's column is headed (e.g. 'L1', 'lead.2')"
)
# The ends of a scale, joined by a hyphen, an en or em dash, "..", or "to".
_SCALE_TEXT: Final = re.compile(r"\s*(-?\d+)\s*(?:-|\u2013|\u2014|\.\.|to)\s*(-?\d+)\s*")


def to_code(value: str) -> str:
    """An item's code: what names it in a survey tool's export and in a response."""
    given: object = value
    if not isinstance(given, str):
        raise Unfit(_CODE_RULE, type_error=True)
    if not _CODE.fullmatch(given):
        raise Unfit(_CODE_RULE)
    return given


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unfit("must be a whole number", type_error=True)
    return value


@attrs.frozen(field_transformer=named_errors)
class Scale:
    """The whole numbers an item is answered on, from ``low`` to ``high`` inclusive.

    ``low_label`` and ``high_label`` say what the ends mean ("disagree completely",
    "agree completely"), so a report can explain its figures.
    """

    low: int = attrs.field(default=1, converter=_whole)
    high: int = attrs.field(default=5, converter=_whole)
    low_label: str = attrs.field(default="", converter=to_text)
    high_label: str = attrs.field(default="", converter=to_text)

    def __attrs_post_init__(self) -> None:
        if self.high <= self.low:
            raise ValidationError(
                f"Scale {self.low}-{self.high} must run upwards: give the lowest point first, "
                "e.g. 1-5"
            )
        if self.high - self.low >= _MOST_POINTS:
            raise ValidationError(
                f"Scale {self.low}-{self.high} has more than {_MOST_POINTS} points; a maturity "
                "scale has a handful (1-5, 1-7, 0-10)"
            )

    @classmethod
    def parse(cls, text: str) -> Scale:
        """A scale from text such as ``"1-5"``, ``"1-7"`` (a dash will do) or ``"0..10"``."""
        given: object = text  # callers are not always typed
        match = _SCALE_TEXT.fullmatch(given) if isinstance(given, str) else None
        if match is None:
            raise ValidationError(
                f"scale {shorten(text)} is not '<lowest>-<highest>', e.g. '1-5' or '0-10'"
            )
        return cls(int(match[1]), int(match[2]))

    def __contains__(self, value: object) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    @property
    def points(self) -> int:
        """How many points the scale has (5 for 1-5)."""
        return self.high - self.low + 1

    def __str__(self) -> str:
        return f"{self.low}\u2013{self.high}"


def _to_scale(value: Scale | str | Mapping[str, Any] | tuple[int, int]) -> Scale:
    raw: object = value
    if isinstance(raw, Scale):
        return raw
    try:
        if isinstance(raw, str):
            return Scale.parse(raw)
        if isinstance(raw, Mapping):
            return Scale(**raw)
        if isinstance(raw, tuple | list) and len(raw) == 2:  # noqa: PLR2004 - (low, high)
            return Scale(raw[0], raw[1])
    except (ValidationError, TypeError) as exc:
        raise Unfit(f"is not a scale ({exc})") from None
    raise Unfit(
        "must be a Scale, text like '1-5', a (low, high) pair or a mapping", type_error=True
    )


def _to_answers(value: Mapping[str, int]) -> Mapping[str, int]:
    """Answers by item code, each a whole number; in the order of the codes."""
    given: object = value
    if not isinstance(given, Mapping):
        raise Unfit("must be a mapping of item code to a whole number", type_error=True)
    answers: dict[str, int] = {}
    for code, answer in given.items():
        try:
            checked = to_code(code)
        except Unfit as unfit:
            raise Unfit(f"has the item code {shorten(code)}, which {unfit.expected}") from None
        if isinstance(answer, bool) or not isinstance(answer, int):
            raise Unfit(
                f"holds {shorten(answer)} for {checked!r}; an answer is a whole number on the "
                "questionnaire's scale (leave out what was not answered)",
                type_error=True,
            )
        answers[checked] = int(answer)
    if not answers:
        raise Unfit("must hold at least one answer")
    return types.MappingProxyType({code: answers[code] for code in sorted(answers)})


def _answers_key(value: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(value.items())


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Questionnaire(Record):
    """Statements on one scale, grouped in dimensions, asked to see how parts differ.

    ``dimensions`` gives the order dimensions are shown in (items name theirs); its
    items are :class:`Item` records.  ``objectives`` ties the analysis to the strategy:
    it is part of the roll-up and reports of those objectives.
    """

    kind: ClassVar[str] = "questionnaire"
    id_prefix: ClassVar[str] = "qst"

    title: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    scale: Scale = attrs.field(factory=Scale, converter=_to_scale)
    dimensions: tuple[str, ...] = attrs.field(default=(), converter=to_names)
    objectives: tuple[str, ...] = attrs.field(default=(), converter=to_refs)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Item(Record):
    """One statement of a questionnaire, answered on its scale ("We act on complaints").

    ``code`` names it in a survey tool's export and in responses, once per
    questionnaire: the item's id derives from the two.  ``objectives`` ties this item
    to objectives of its own (else it serves its questionnaire's); ``terms`` are the
    words of the shared vocabulary it uses.
    """

    kind: ClassVar[str] = "item"
    id_prefix: ClassVar[str] = "itm"

    questionnaire: str = attrs.field(converter=to_ref)
    code: str = attrs.field(converter=to_code)
    dimension: str = attrs.field(converter=to_title)
    statement: str = attrs.field(converter=to_title)
    objectives: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    terms: tuple[str, ...] = attrs.field(default=(), converter=to_refs)

    def natural_key(self) -> str | None:
        if self.slug is not None:
            return self.slug
        return f"{self.questionnaire}/{self.code}"

    @classmethod
    def id_of(cls, questionnaire: str, code: str) -> str:
        """The id of the item of ``questionnaire`` (its id) with ``code``, in every process."""
        try:
            checked = to_code(code)
        except Unfit as unfit:
            raise ValidationError(f"Item.code {unfit.expected}; got {shorten(code)}") from None
        return cls.id_for_key(f"{to_ref(questionnaire)}/{checked}")


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class SurveyRound(Record):
    """A questionnaire asked at a time, of a set of departments and levels.

    Responses count from when they were answered, up to ``closed_at`` if the round was
    closed; the previous round of the same questionnaire is what a change is measured
    against.  ``departments`` and ``levels`` (leaders, employees) say whom it was
    asked; when given, responses must come from them.
    """

    kind: ClassVar[str] = "survey-round"
    id_prefix: ClassVar[str] = "rnd"

    questionnaire: str = attrs.field(converter=to_ref)
    title: str = attrs.field(converter=to_title)
    opened_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    closed_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )
    departments: tuple[str, ...] = attrs.field(default=(), converter=to_names)
    levels: tuple[str, ...] = attrs.field(default=(), converter=to_names)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.closed_at is not None and instant(self.closed_at) < instant(self.opened_at):
            raise ValidationError(
                f"SurveyRound {self.title!r} closes ({self.closed_at}) before it opens "
                f"({self.opened_at}); give closed_at after opened_at"
            )
        for field, names in (("departments", self.departments), ("levels", self.levels)):
            keys = [name_key(name) for name in names]
            if len(set(keys)) != len(keys):
                raise ValidationError(
                    f"SurveyRound.{field} names one twice in another spelling: {list(names)}"
                )

    def asks(self, department: str, level: str | None) -> str | None:
        """Why a response from ``department`` and ``level`` does not belong here, if not."""
        if self.departments and name_key(department) not in {name_key(d) for d in self.departments}:
            return (
                f"department {department!r} was not asked in round {self.title!r} "
                f"(asked: {', '.join(self.departments)})"
            )
        if (
            self.levels
            and level is not None
            and name_key(level) not in {name_key(x) for x in self.levels}
        ):
            return (
                f"level {level!r} was not asked in round {self.title!r} "
                f"(asked: {', '.join(self.levels)})"
            )
        return None


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Response(Record):
    """One respondent's answers in one round, with their department and level.

    Respondents are anonymous: no name is stored.  ``participant`` may name a
    pseudonymous participant instead, whose answers are then never shown with a name
    either.  ``answers`` maps item codes to whole numbers on the questionnaire's scale;
    an item not answered is left out.  ``source_key`` is what the survey tool calls
    the response (or a digest of its row), from which its id derives, so importing the
    same export again changes nothing; it must not be a name or an e-mail address.
    """

    kind: ClassVar[str] = "response"
    id_prefix: ClassVar[str] = "rsp"

    round: str = attrs.field(converter=to_ref)
    department: str = attrs.field(converter=to_title)
    level: str | None = attrs.field(default=None, converter=to_optional_name)
    answers: Mapping[str, int] = attrs.field(converter=_to_answers, eq=_answers_key)
    answered_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    participant: str | None = attrs.field(default=None, converter=to_optional_ref)
    source_key: str | None = attrs.field(default=None, converter=to_optional_name)

    def natural_key(self) -> str | None:
        if self.slug is not None:
            return self.slug
        return None if self.source_key is None else f"{self.round}/{self.source_key}"


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class InterviewNote(Record):
    """What a trigger interview brought up, tied to the items it bears on.

    Interviews complement the figures with perspective and context, and catch the
    established truths worth discussing in the workshop.  ``department`` and ``level``
    say whose perspective it was; reports show the note's text and items only.
    """

    kind: ClassVar[str] = "interview-note"
    id_prefix: ClassVar[str] = "ivw"

    text: str = attrs.field(converter=to_title)
    details: str = attrs.field(default="", converter=to_text)
    items: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    round: str | None = attrs.field(default=None, converter=to_optional_ref)
    department: str | None = attrs.field(default=None, converter=to_optional_name)
    level: str | None = attrs.field(default=None, converter=to_optional_name)
    interviewer: str | None = attrs.field(default=None, converter=to_optional_name)
    participant: str | None = attrs.field(default=None, converter=to_optional_ref)
    interviewed_at: pendulum.DateTime = attrs.field(
        factory=now, converter=to_datetime, eq=instant_key
    )


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class WorkshopAction(Record):
    """An action a workshop agreed, tied to objectives or experiments, followed up.

    ``owner`` and ``due`` say who does it by when; :meth:`done` marks it done.  An
    action not done by its due date is overdue, which a check flags: real follow-up,
    not empty phrases.  ``items`` are the findings of the analysis it answers.
    """

    kind: ClassVar[str] = "workshop-action"
    id_prefix: ClassVar[str] = "wsa"

    title: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    objectives: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    experiments: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    items: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    workshop: str | None = attrs.field(default=None, converter=to_optional_name)
    owner: str | None = attrs.field(default=None, converter=to_optional_name)
    due: pendulum.Date | None = attrs.field(default=None, converter=to_optional_date)
    agreed_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    done_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if not self.objectives and not self.experiments:
            raise ValidationError(
                f"WorkshopAction {self.title!r} needs the objectives or experiments it serves: "
                "give objectives=[...] or experiments=[...]"
            )
        if self.done_at is not None and instant(self.done_at) < instant(self.agreed_at):
            raise ValidationError(
                f"WorkshopAction {self.title!r} is done ({self.done_at}) before it was agreed "
                f"({self.agreed_at}); give a time after it was agreed"
            )

    def done(self, *, at: DateTimeLike | None = None, by: str | None = None) -> WorkshopAction:
        """The next version, done at ``at`` (default now)."""
        changes: dict[str, Any] = {"done_at": now() if at is None else at}
        if by is not None:
            changes["changed_by"] = by
        return attrs.evolve(self, **changes)
