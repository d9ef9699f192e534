"""Hypothesis strategies for every record kind, for our tests and for plugin authors'.

``records()`` draws any valid record; ``record_of(Experiment)`` one of a kind.  Values
cover what real data holds: Danish, Norwegian and Swedish letters, emoji, control
characters, times in several zones, calendar and exact durations, nested metadata.
"""

from __future__ import annotations

import datetime as dt
import enum
import string
from typing import Any, Final, TypeVar

import pendulum
from hypothesis import strategies as st

from experiments import model

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


time_boxes: Final = st.builds(model.TimeBox, durations(), st.one_of(st.none(), datetimes()))

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
    owner=st.one_of(st.none(), names),
    due=st.one_of(st.none(), dates),
    done_at=st.one_of(st.none(), datetimes()),
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


def _common() -> dict[str, Any]:
    return {
        "tags": tags,
        "metadata": metadata,
        "changed_by": st.one_of(st.none(), names),
    }


def _enum(kind: type[enum.Enum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(kind))


def _distinct(
    elements: st.SearchStrategy[T], max_size: int = 3
) -> st.SearchStrategy[tuple[T, ...]]:
    """Up to ``max_size`` distinct values, as a record's tuple fields hold them."""
    return st.lists(elements, max_size=max_size, unique=True).map(tuple)


#: Codes of questionnaire items, as survey tools head their columns.
codes: Final = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}", fullmatch=True)


@st.composite
def scales(draw: st.DrawFn) -> model.Scale:
    """A scale of 2 to 101 points, with or without labels for its ends."""
    low = draw(st.integers(-10, 10))
    high = draw(st.integers(low + 1, low + 100))
    return model.Scale(low, high, draw(texts), draw(texts))


@st.composite
def _experiments(draw: st.DrawFn) -> model.Experiment:
    experiment = draw(
        st.builds(
            model.Experiment,
            title=titles,
            description=texts,
            objectives=_distinct(refs),
            sprint=st.one_of(st.none(), refs),
            time_box=st.one_of(st.none(), time_boxes),
            owner=st.one_of(st.none(), names),
            facilitators=_distinct(names, 2),
            terms=_distinct(refs),
            slug=st.one_of(st.none(), slugs),
            template=st.one_of(st.none(), refs),
            scope=st.one_of(st.none(), scopes()),
            **_common(),
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
    extra = {} if external is None else {"external": st.just(external)}
    return draw(
        st.builds(
            model.Participant,
            role=st.just(role),
            department=st.one_of(st.none(), names),
            name=st.one_of(st.none(), names),
            pseudonymous=st.booleans(),
            **extra,
            **_common(),
        )
    )


@st.composite
def _learnings(draw: st.DrawFn) -> model.Learning:
    hypothesis = draw(st.one_of(st.none(), refs))
    verdict = None if hypothesis is None else draw(_enum(model.Verdict))
    return draw(
        st.builds(
            model.Learning,
            experiment=refs,
            observation=titles,
            insight=texts,
            hypothesis=st.just(hypothesis),
            verdict=st.just(verdict),
            evidence=_enum(model.Evidence),
            participants=_distinct(refs),
            next_action=st.one_of(st.none(), texts, next_steps),
            observed_at=datetimes(),
            **_common(),
        )
    )


@st.composite
def _measurements(draw: st.DrawFn) -> model.Measurement:
    key_result = draw(st.one_of(st.none(), refs))
    metric = draw(st.one_of(st.none(), names)) if key_result else draw(names)
    return draw(
        st.builds(
            model.Measurement,
            value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
            key_result=st.just(key_result),
            metric=st.just(metric),
            unit=st.one_of(st.none(), names),
            measured_at=datetimes(),
            experiment=st.one_of(st.none(), refs),
            participant=st.one_of(st.none(), refs),
            **_common(),
        )
    )


@st.composite
def _key_results(draw: st.DrawFn) -> model.KeyResult:
    due = draw(st.one_of(st.none(), dates))
    baseline = draw(st.floats(-1e6, 1e6))
    target = draw(st.floats(-1e6, 1e6))
    if target == baseline:  # moved rather than filtered: Hypothesis often draws both alike
        target = baseline + draw(st.sampled_from([1.0, -1.0]))
    return draw(
        st.builds(
            model.KeyResult,
            objective=refs,
            metric=names,
            baseline=st.just(baseline),
            target=st.just(target),
            unit=st.one_of(st.none(), names),
            due=st.just(due),
            since=st.one_of(st.none(), dates if due is None else _dates_until(due)),
            description=texts,
            weight=st.floats(0.01, 100),
            **_common(),
        )
    )


@st.composite
def _templates(draw: st.DrawFn) -> model.Template:
    limit = draw(st.one_of(st.none(), durations()))
    box = None if limit is not None else draw(st.one_of(st.none(), time_boxes))
    return draw(
        st.builds(
            model.Template,
            title=titles,
            description=texts,
            scaffold=texts,
            time_box=st.just(box),
            max_time_box=st.just(limit),
            scope=st.one_of(st.none(), scopes()),
            roles=_distinct(_enum(model.Role)),
            stances=_distinct(_enum(model.Stance), 2),
            min_departments=st.integers(0, 4),
            min_external=st.integers(0, 3),
            to_start=_distinct(_enum(model.Requirement)),
            to_conclude=_distinct(_enum(model.Requirement)),
            mandatory_for=_distinct(refs, 2),
            slug=st.one_of(st.none(), slugs),
            **_common(),
        )
    )


@st.composite
def _excuses(draw: st.DrawFn) -> model.Excuse:
    on_objective = draw(st.booleans())
    return draw(
        st.builds(
            model.Excuse,
            group=titles,
            reason=_enum(model.ExcuseReason),
            statement=texts,
            objective=st.just("ref_0") if on_objective else st.none(),
            experiment=st.none() if on_objective else refs,
            **_common(),
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
        st.builds(
            model.Term,
            word=titles,
            description=texts,
            definitions=st.just(definitions),
            agreed_by=_distinct(names, 2) if agreed else st.just(()),
            agreed_at=datetimes() if agreed else st.none(),
            slug=st.one_of(st.none(), slugs),
            **_common(),
        )
    )


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


@st.composite
def _survey_rounds(draw: st.DrawFn) -> model.SurveyRound:
    opened = draw(datetimes())
    closed = draw(st.one_of(st.none(), durations().map(lambda d: opened + d)))
    if closed is not None and closed.year > 9999:
        closed = None
    return draw(
        st.builds(
            model.SurveyRound,
            questionnaire=refs,
            title=titles,
            opened_at=st.just(opened),
            closed_at=st.just(closed),
            departments=st.lists(names, max_size=3, unique_by=_name_key).map(tuple),
            levels=st.lists(names, max_size=2, unique_by=_name_key).map(tuple),
            slug=st.one_of(st.none(), slugs),
            **_common(),
        )
    )


@st.composite
def _responses(draw: st.DrawFn) -> model.Response:
    keyed = draw(st.booleans())
    return draw(
        st.builds(
            model.Response,
            round=refs,
            department=names,
            level=st.one_of(st.none(), names),
            answers=st.dictionaries(codes, st.integers(-10, 110), min_size=1, max_size=5),
            answered_at=datetimes(),
            participant=st.one_of(st.none(), refs),
            source_key=names if keyed else st.none(),
            **_common(),
        )
    )


@st.composite
def _workshop_actions(draw: st.DrawFn) -> model.WorkshopAction:
    agreed = draw(datetimes())
    on_objective = draw(st.booleans())
    done = draw(st.one_of(st.none(), durations().map(lambda d: agreed + d)))
    if done is not None and done.year > 9999:
        done = None
    return draw(
        st.builds(
            model.WorkshopAction,
            title=titles,
            description=texts,
            objectives=_distinct(refs).filter(bool) if on_objective else _distinct(refs),
            experiments=_distinct(refs) if on_objective else _distinct(refs).filter(bool),
            items=_distinct(refs),
            workshop=st.one_of(st.none(), names),
            owner=st.one_of(st.none(), names),
            due=st.one_of(st.none(), dates),
            agreed_at=st.just(agreed),
            done_at=st.just(done),
            **_common(),
        )
    )


#: A strategy for valid records of each kind.
RECORD_STRATEGIES: Final[dict[type[model.Record], st.SearchStrategy[Any]]] = {
    model.Objective: st.builds(
        model.Objective,
        title=titles,
        description=texts,
        parent=st.one_of(st.none(), refs),
        owner=st.one_of(st.none(), names),
        weight=st.floats(0.01, 100),
        terms=_distinct(refs),
        slug=st.one_of(st.none(), slugs),
        **_common(),
    ),
    model.KeyResult: _key_results(),
    model.Template: _templates(),
    model.Sprint: st.builds(
        model.Sprint,
        title=titles,
        challenge=texts,
        time_box=st.one_of(st.none(), time_boxes),
        team=_distinct(refs),
        facilitators=_distinct(names, 2),
        **_common(),
    ),
    model.Phase: st.builds(
        model.Phase,
        sprint=refs,
        title=titles,
        position=st.integers(1, 12),
        time_box=st.one_of(st.none(), time_boxes),
        participants=_distinct(refs),
        roles=_distinct(_enum(model.Role)),
        involvement=_enum(model.Involvement),
        description=texts,
        **_common(),
    ),
    model.Participant: _participants(),
    model.Experiment: _experiments(),
    model.Hypothesis: st.builds(
        model.Hypothesis,
        experiment=refs,
        statement=titles,
        criterion=st.one_of(
            st.none(),
            st.builds(model.Criterion, names, _enum(model.Comparison), st.floats(-1e6, 1e6)),
        ),
        assumption=st.one_of(st.none(), _enum(model.AssumptionKind)),
        **_common(),
    ),
    model.Prototype: st.builds(
        model.Prototype,
        experiment=refs,
        title=titles,
        fidelity=_enum(model.Fidelity),
        version=st.integers(1, 20),
        link=st.one_of(st.none(), st.just("https://example.org/p?x=1&y=<2>")),
        description=texts,
        shown_at=st.one_of(st.none(), datetimes()),
        **_common(),
    ).flatmap(
        lambda p: (
            st.just(p)
            if p.shown_at is None
            else st.sampled_from(list(model.Fidelity)).map(lambda f: p.evolve(shown_as=f))
        )
    ),
    model.Participation: st.builds(
        model.Participation,
        experiment=refs,
        participant=refs,
        stance=_enum(model.Stance),
        involvement=_enum(model.Involvement),
        **_common(),
    ),
    model.Learning: _learnings(),
    model.Measurement: _measurements(),
    model.Decision: st.builds(
        model.Decision,
        experiment=refs,
        outcome=_enum(model.Outcome),
        rationale=texts,
        decided_by=st.one_of(st.none(), names),
        decided_at=datetimes(),
        next_steps=st.lists(next_steps, max_size=3, unique_by=lambda n: n.action).map(tuple),
        **_common(),
    ),
    model.Excuse: _excuses(),
    model.Note: st.builds(
        model.Note,
        experiment=refs,
        text=titles,
        level=_enum(model.NoteLevel),
        details=texts,
        noted_at=datetimes(),
        **_common(),
    ),
    model.Term: _terms(),
    model.Interpretation: st.builds(
        model.Interpretation,
        term=refs,
        department=names,
        text=titles,
        language=_enum(model.LanguageCode),
        stated_at=datetimes(),
        stated_by=st.one_of(st.none(), names),
        **_common(),
    ),
    model.Questionnaire: st.builds(
        model.Questionnaire,
        title=titles,
        description=texts,
        scale=scales(),
        dimensions=_distinct(names),
        objectives=_distinct(refs),
        slug=st.one_of(st.none(), slugs),
        **_common(),
    ),
    model.Item: st.builds(
        model.Item,
        questionnaire=refs,
        code=codes,
        dimension=names,
        statement=titles,
        objectives=_distinct(refs),
        terms=_distinct(refs),
        **_common(),
    ),
    model.SurveyRound: _survey_rounds(),
    model.Response: _responses(),
    model.InterviewNote: st.builds(
        model.InterviewNote,
        text=titles,
        details=texts,
        items=_distinct(refs),
        round=st.one_of(st.none(), refs),
        department=st.one_of(st.none(), names),
        level=st.one_of(st.none(), names),
        interviewer=st.one_of(st.none(), names),
        participant=st.one_of(st.none(), refs),
        interviewed_at=datetimes(),
        **_common(),
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
