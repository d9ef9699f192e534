"""Hypothesis strategies for every record kind, for our tests and for plugin authors'.

``records()`` draws any valid record; ``record_of(Experiment)`` one of a kind.  Values
cover what real data holds: Danish, Norwegian and Swedish letters, emoji, control
characters, times in several zones, calendar and exact durations, nested metadata.
"""

from __future__ import annotations

import datetime as dt
import enum
import string
import typing
from typing import Any, Final, TypeVar

import attrs
import pendulum
from hypothesis import strategies as st

from experiments import model
from experiments.model._hints import field_hints

__all__ = [
    "RECORD_STRATEGIES",
    "datetimes",
    "durations",
    "ids",
    "metadata",
    "next_steps",
    "record_of",
    "records",
    "scales",
    "scopes",
    "slugs",
    "texts",
    "time_boxes",
    "titles",
]

R = TypeVar("R", bound=model.Record)
T = TypeVar("T")

ZONES: Final = (
    "UTC",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Stockholm",
    "Asia/Shanghai",
    "America/New_York",
)

#: Text as users type it, Nordic letters and the odd control character included.
texts: Final = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=40,
)
#: Non-blank text without surrounding whitespace (titles are stripped on the way in).
titles: Final = (
    st.text(
        alphabet=st.sampled_from(string.ascii_letters + string.digits + " æøåÆØÅäöÄÖ-'!?&<>|\"🙂"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
names: Final = titles
slugs: Final = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
ids: Final = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,30}", fullmatch=True)
refs: Final = st.builds(lambda n: f"ref_{n}", st.integers(0, 5))
tags: Final = st.frozensets(st.from_regex(r"[a-z][a-z0-9\-]{0,10}", fullmatch=True), max_size=3)


@st.composite
def datetimes(draw: st.DrawFn) -> pendulum.DateTime:
    """An aware time in one of several zones (fixed offsets included), to the microsecond."""
    moment = draw(
        st.datetimes(
            min_value=dt.datetime(1970, 1, 2),  # noqa: DTZ001 - made aware below
            max_value=dt.datetime(2200, 1, 1),  # noqa: DTZ001
        )
    )
    instant = pendulum.instance(moment.replace(tzinfo=dt.UTC)).in_tz("UTC")
    zone = draw(
        st.one_of(
            st.sampled_from(ZONES).map(pendulum.timezone),
            st.integers(-14 * 4, 14 * 4)
            .filter(bool)
            .map(lambda q: pendulum.FixedTimezone(q * 900)),
        )
    )
    return instant.astimezone(zone)


utc_datetimes: Final = datetimes().map(lambda d: d.in_tz("UTC"))
dates: Final = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2200, 1, 1)).map(
    lambda d: pendulum.Date(d.year, d.month, d.day)
)


def _dates_until(last: dt.date) -> st.SearchStrategy[pendulum.Date]:
    """Days up to ``last``, as :data:`dates` draws them."""
    return st.dates(
        min_value=dt.date(1970, 1, 1), max_value=dt.date(last.year, last.month, last.day)
    ).map(lambda d: pendulum.Date(d.year, d.month, d.day))


@st.composite
def durations(draw: st.DrawFn) -> pendulum.Duration:
    """A positive duration, with calendar parts (years, months) or without."""
    parts = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "years": st.integers(0, 2),
                "months": st.integers(0, 11),
                "weeks": st.integers(0, 8),
                "days": st.integers(0, 30),
                "hours": st.integers(0, 23),
                "minutes": st.integers(0, 59),
                "seconds": st.integers(0, 59),
                "microseconds": st.integers(0, 999_999),
            },
        )
    )
    duration = pendulum.Duration(**parts)
    if duration.total_seconds() <= 0:
        return pendulum.Duration(days=1)
    return duration


time_boxes: Final = st.builds(model.TimeBox, durations(), st.none() | datetimes())

_json_scalars: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(
        lambda f: f != 0 or str(f) == "0.0"
    ),
    texts,
)
_keys: Final = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
metadata: Final = st.dictionaries(
    _keys,
    st.recursive(
        _json_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
        max_leaves=8,
    ),
    max_size=4,
)


#: Next steps as they are followed up: text alone, or with an owner, a due date, done.
next_steps: Final = st.builds(
    model.NextStep,
    titles,
    owner=st.none() | names,
    due=st.none() | dates,
    done_at=st.none() | datetimes(),
)


@st.composite
def scopes(draw: st.DrawFn) -> model.Scope:
    """A planned scope: some of participants, sites and a budget (with a currency)."""
    parts: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "participants": st.integers(1, 10_000),
                "sites": st.integers(1, 200),
                "budget": st.floats(0, 1e9),
            },
        )
    )
    if not parts:
        parts["participants"] = draw(st.integers(1, 100))
    if "budget" in parts and draw(st.booleans()):
        parts["currency"] = draw(st.sampled_from(["DKK", "NOK", "SEK", "EUR"]))
    return model.Scope(**parts)


def _record(kind: type[R], *usual: str, **fields: object) -> st.SearchStrategy[R]:
    """Records of ``kind``, with what every record has (tags, metadata, an author).

    The fields named in ``usual`` are drawn as their type says (:func:`_usual`); each
    of ``fields`` is a strategy, or a value drawn already.  Fields named in neither
    keep the model's default.
    """
    drawn = {name: _usual(kind, name) for name in usual}
    for name, value in fields.items():
        drawn[name] = value if isinstance(value, st.SearchStrategy) else st.just(value)
    return st.builds(kind, **drawn, tags=tags, metadata=metadata, changed_by=st.none() | names)


def _usual(kind: type[model.Record], name: str) -> st.SearchStrategy[Any]:
    """How a field is drawn when its kind says nothing else, from what the model says of it.

    A field naming another record (:data:`~experiments.model.REFERENCES`) holds an id,
    a slug a slug; text the model may leave empty is any text, other text (required,
    optional or in a list) is non-blank, as a title; an enumeration's field one of its
    members; a time, a day, a time box or a scope as drawn here; ``None`` or a tuple of
    distinct values where the field's type says so.
    """
    hint = field_hints(kind)[name]
    args = [a for a in typing.get_args(hint) if a is not Ellipsis]
    optional = type(None) in args
    many = typing.get_origin(hint) is tuple
    one = next(a for a in args if a is not type(None)) if optional or many else hint
    if name in model.REFERENCES[kind.kind]:
        value = refs
    elif name == "slug":
        value = slugs
    elif isinstance(one, type) and issubclass(one, enum.Enum):
        value = _enum(one)
    elif one is str:
        required = attrs.fields_dict(kind)[name].default is attrs.NOTHING
        value = titles if optional or many or required else texts
    else:
        value = _TYPED[one]
    if many:
        return _distinct(value)
    return st.none() | value if optional else value


def _enum(kind: type[enum.Enum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(kind))


def _distinct(
    elements: st.SearchStrategy[T], max_size: int = 3
) -> st.SearchStrategy[tuple[T, ...]]:
    """Up to ``max_size`` distinct values, as a record's tuple fields hold them."""
    return st.lists(elements, max_size=max_size, unique=True).map(tuple)


#: Codes of questionnaire items, as survey tools head their columns.
codes: Final = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}", fullmatch=True)


#: How a field of each of these types is drawn where its kind says nothing else.
_TYPED: Final[dict[object, st.SearchStrategy[Any]]] = {
    pendulum.DateTime: datetimes(),
    pendulum.Date: dates,
    model.TimeBox: time_boxes,
    model.Scope: scopes(),
}


@st.composite
def scales(draw: st.DrawFn) -> model.Scale:
    """A scale of 2 to 101 points, with or without labels for its ends."""
    low = draw(st.integers(-10, 10))
    high = draw(st.integers(low + 1, low + 100))
    return model.Scale(low, high, draw(texts), draw(texts))


@st.composite
def _experiments(draw: st.DrawFn) -> model.Experiment:
    experiment = draw(
        _record(
            model.Experiment,
            "title",
            "description",
            "objectives",
            "sprint",
            "time_box",
            "owner",
            "terms",
            "template",
            "scope",
            "slug",
            facilitators=_distinct(names, 2),
        )
    )
    start = draw(datetimes())
    steps = draw(st.sampled_from(list(model.ExperimentStatus)))
    moments = sorted(draw(st.lists(datetimes(), min_size=3, max_size=3)))
    if steps is model.ExperimentStatus.PLANNED:
        return experiment
    if steps is model.ExperimentStatus.ABANDONED:
        return experiment.abandon(reason=draw(texts), at=start)
    experiment = experiment.start(at=moments[0])
    if steps is model.ExperimentStatus.RUNNING:
        return experiment
    experiment = experiment.conclude(at=moments[1])
    if steps is model.ExperimentStatus.CONCLUDED:
        return experiment
    decision = model.Decision(
        experiment=experiment.id, outcome=model.Outcome.ITERATE, decided_at=moments[2]
    )
    return experiment.decide(decision)


@st.composite
def _participants(draw: st.DrawFn) -> model.Participant:
    role = draw(_enum(model.Role))
    external = draw(st.booleans()) if role is model.Role.OTHER or draw(st.booleans()) else None
    extra = {} if external is None else {"external": external}
    return draw(
        _record(
            model.Participant,
            "department",
            "name",
            role=role,
            pseudonymous=st.booleans(),
            **extra,
        )
    )


@st.composite
def _learnings(draw: st.DrawFn) -> model.Learning:
    hypothesis = draw(st.none() | refs)
    verdict = None if hypothesis is None else draw(_enum(model.Verdict))
    return draw(
        _record(
            model.Learning,
            "experiment",
            "observation",
            "insight",
            "evidence",
            "participants",
            "observed_at",
            hypothesis=hypothesis,
            verdict=verdict,
            next_action=st.one_of(st.none(), texts, next_steps),
        )
    )


@st.composite
def _measurements(draw: st.DrawFn) -> model.Measurement:
    key_result = draw(st.none() | refs)
    metric = draw(st.none() | names) if key_result else draw(names)
    return draw(
        _record(
            model.Measurement,
            "unit",
            "measured_at",
            "experiment",
            "participant",
            value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
            key_result=key_result,
            metric=metric,
        )
    )


@st.composite
def _key_results(draw: st.DrawFn) -> model.KeyResult:
    due = draw(st.none() | dates)
    baseline = draw(st.floats(-1e6, 1e6))
    target = draw(st.floats(-1e6, 1e6))
    if target == baseline:  # moved rather than filtered: Hypothesis often draws both alike
        target = baseline + draw(st.sampled_from([1.0, -1.0]))
    return draw(
        _record(
            model.KeyResult,
            "objective",
            "metric",
            "unit",
            "description",
            baseline=baseline,
            target=target,
            due=due,
            since=st.none() | (dates if due is None else _dates_until(due)),
            weight=st.floats(0.01, 100),
        )
    )


@st.composite
def _templates(draw: st.DrawFn) -> model.Template:
    limit = draw(st.none() | durations())
    box = None if limit is not None else draw(st.none() | time_boxes)
    return draw(
        _record(
            model.Template,
            "title",
            "description",
            "scaffold",
            "scope",
            "roles",
            "to_start",
            "to_conclude",
            "slug",
            time_box=box,
            max_time_box=limit,
            stances=_distinct(_enum(model.Stance), 2),
            min_departments=st.integers(0, 4),
            min_external=st.integers(0, 3),
            mandatory_for=_distinct(refs, 2),
        )
    )


@st.composite
def _excuses(draw: st.DrawFn) -> model.Excuse:
    on_objective = draw(st.booleans())
    return draw(
        _record(
            model.Excuse,
            "group",
            "reason",
            "statement",
            objective="ref_0" if on_objective else None,
            experiment=st.none() if on_objective else refs,
        )
    )


@st.composite
def _terms(draw: st.DrawFn) -> model.Term:
    agreed = draw(st.booleans())
    definitions = (
        draw(st.dictionaries(_enum(model.LanguageCode).map(str), titles, min_size=1, max_size=4))
        if agreed
        else {}
    )
    return draw(
        _record(
            model.Term,
            "word",
            "description",
            "slug",
            definitions=definitions,
            agreed_by=_distinct(names, 2) if agreed else (),
            agreed_at=datetimes() if agreed else None,
        )
    )


def _until_after(start: pendulum.DateTime) -> st.SearchStrategy[pendulum.DateTime | None]:
    """None, or a moment some duration after ``start`` (None past the year 9999)."""
    ends = durations().map(lambda d: start + d)
    return st.none() | ends.map(lambda end: None if end.year > 9999 else end)


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


@st.composite
def _survey_rounds(draw: st.DrawFn) -> model.SurveyRound:
    opened = draw(datetimes())
    closed = draw(_until_after(opened))
    return draw(
        _record(
            model.SurveyRound,
            "questionnaire",
            "title",
            "slug",
            opened_at=opened,
            closed_at=closed,
            departments=st.lists(names, max_size=3, unique_by=_name_key).map(tuple),
            levels=st.lists(names, max_size=2, unique_by=_name_key).map(tuple),
        )
    )


@st.composite
def _workshop_actions(draw: st.DrawFn) -> model.WorkshopAction:
    agreed = draw(datetimes())
    on_objective = draw(st.booleans())
    done = draw(_until_after(agreed))
    return draw(
        _record(
            model.WorkshopAction,
            "title",
            "description",
            "items",
            "workshop",
            "owner",
            "due",
            objectives=_distinct(refs).filter(bool) if on_objective else _distinct(refs),
            experiments=_distinct(refs) if on_objective else _distinct(refs).filter(bool),
            agreed_at=agreed,
            done_at=done,
        )
    )


#: A strategy for valid records of each kind.
RECORD_STRATEGIES: Final[dict[type[model.Record], st.SearchStrategy[Any]]] = {
    model.Objective: _record(
        model.Objective,
        "title",
        "description",
        "parent",
        "owner",
        "terms",
        "slug",
        weight=st.floats(0.01, 100),
    ),
    model.KeyResult: _key_results(),
    model.Template: _templates(),
    model.Sprint: _record(
        model.Sprint,
        "title",
        "challenge",
        "time_box",
        "team",
        facilitators=_distinct(names, 2),
    ),
    model.Phase: _record(
        model.Phase,
        "sprint",
        "title",
        "time_box",
        "participants",
        "roles",
        "involvement",
        "description",
        position=st.integers(1, 12),
    ),
    model.Participant: _participants(),
    model.Experiment: _experiments(),
    model.Hypothesis: _record(
        model.Hypothesis,
        "experiment",
        "statement",
        "assumption",
        criterion=st.none()
        | st.builds(model.Criterion, names, _enum(model.Comparison), st.floats(-1e6, 1e6)),
    ),
    model.Prototype: _record(
        model.Prototype,
        "experiment",
        "title",
        "fidelity",
        "description",
        "shown_at",
        version=st.integers(1, 20),
        link=st.none() | st.just("https://example.org/p?x=1&y=<2>"),
    ).flatmap(
        lambda p: (
            st.just(p)
            if p.shown_at is None
            else st.sampled_from(list(model.Fidelity)).map(lambda f: p.evolve(shown_as=f))
        )
    ),
    model.Participation: _record(
        model.Participation, "experiment", "participant", "stance", "involvement"
    ),
    model.Learning: _learnings(),
    model.Measurement: _measurements(),
    model.Decision: _record(
        model.Decision,
        "experiment",
        "outcome",
        "rationale",
        "decided_by",
        "decided_at",
        next_steps=st.lists(next_steps, max_size=3, unique_by=lambda n: n.action).map(tuple),
    ),
    model.Excuse: _excuses(),
    model.Note: _record(model.Note, "experiment", "text", "level", "details", "noted_at"),
    model.Term: _terms(),
    model.Interpretation: _record(
        model.Interpretation,
        "term",
        "department",
        "text",
        "language",
        "stated_at",
        "stated_by",
    ),
    model.Questionnaire: _record(
        model.Questionnaire,
        "title",
        "description",
        "dimensions",
        "objectives",
        "slug",
        scale=scales(),
    ),
    model.Item: _record(
        model.Item,
        "questionnaire",
        "dimension",
        "statement",
        "objectives",
        "terms",
        code=codes,
    ),
    model.SurveyRound: _survey_rounds(),
    model.Response: _record(
        model.Response,
        "round",
        "department",
        "level",
        "answered_at",
        "participant",
        "source_key",
        answers=st.dictionaries(codes, st.integers(-10, 110), min_size=1, max_size=5),
    ),
    model.InterviewNote: _record(
        model.InterviewNote,
        "text",
        "details",
        "items",
        "round",
        "department",
        "level",
        "interviewer",
        "participant",
        "interviewed_at",
    ),
    model.WorkshopAction: _workshop_actions(),
}

_MISSING = set(model.KINDS.values()) - set(RECORD_STRATEGIES)
assert not _MISSING, f"no strategy for {_MISSING}"  # a new kind must get a strategy here


def record_of(kind: type[R]) -> st.SearchStrategy[R]:
    """Valid records of one kind."""
    return RECORD_STRATEGIES[kind]


def records() -> st.SearchStrategy[model.Record]:
    """Valid records of any kind."""
    return st.one_of(*RECORD_STRATEGIES.values())
