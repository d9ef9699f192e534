"""Invalid input, in one place: values of every wrong kind and spoiled record data.

The valid side lives in :mod:`experiments.testing.strategies`; these strategies spoil
what it draws, a field or a key at a time, so the tests can check that nothing but an
:class:`~experiments.ExperimentsError` ever comes out of the library.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Final

import attrs
import pendulum
from hypothesis import strategies as st

from experiments import model
from experiments.model import Record
from experiments.serialization import to_data
from experiments.testing.strategies import datetimes, records

#: The fewest valid arguments for a record of each kind.
MINIMAL: Final[dict[type[Record], dict[str, Any]]] = {
    model.Objective: {"title": "Welfare for vulnerable families"},
    model.KeyResult: {
        "objective": "obj_1",
        "metric": "families reached",
        "baseline": 0,
        "target": 40,
    },
    model.Template: {"title": "Citizen co-creation sprint"},
    model.Sprint: {"title": "100-day sprint"},
    model.Phase: {"sprint": "spr_1", "title": "Test day with citizens"},
    model.Participant: {"role": "citizen"},
    model.Experiment: {"title": "Art afternoons for families"},
    model.Hypothesis: {"experiment": "exp_1", "statement": "Families come when invited"},
    model.Prototype: {"experiment": "exp_1", "title": "Paper invitation"},
    model.Participation: {"experiment": "exp_1", "participant": "par_1"},
    model.Learning: {"experiment": "exp_1", "observation": "Twelve families came"},
    model.Measurement: {"value": 12, "metric": "families reached"},
    model.Decision: {"experiment": "exp_1", "outcome": "scale-up"},
    model.Excuse: {"group": "Frontline staff", "reason": "no-time", "objective": "obj_1"},
    model.Note: {"experiment": "exp_1", "text": "Script started"},
    model.Term: {"word": "customer orientation"},
    model.Interpretation: {
        "term": "trm_1",
        "department": "Home Care",
        "text": "Being kind to the citizens we visit",
    },
    model.Questionnaire: {"title": "Customer orientation maturity"},
    model.Item: {
        "questionnaire": "qst_1",
        "code": "L1",
        "dimension": "Leadership",
        "statement": "Our leaders talk about the citizens every week",
    },
    model.SurveyRound: {"questionnaire": "qst_1", "title": "Spring 2026"},
    model.Response: {"round": "rnd_1", "department": "Home Care", "answers": {"L1": 4}},
    model.InterviewNote: {"text": "Customer service is the call centre's job"},
    model.WorkshopAction: {"title": "Agree what a citizen is", "objectives": ["obj_1"]},
}


class _Colour(enum.Enum):
    RED = "red"


#: Text that looks like the time, duration and interval syntax but is mostly wrong.
time_like_texts: Final = st.one_of(
    st.from_regex(
        r"[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}(T[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
        r"(Z|[+-][0-9]{2}:?[0-9]{2})?(\[[A-Za-z_/+0-9:-]{0,20}\])?",
        fullmatch=True,
    ),
    st.from_regex(
        r"[-+]?P([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+([.,][0-9]+)?S)?)?",
        fullmatch=True,
    ),
    st.builds(
        "{}/{}".format,
        st.sampled_from(["2026-03-01", "P2W", "2026-03-15T00:00:00Z", "", "P0D", "x"]),
        st.sampled_from(["2026-03-01", "P2W", "2026-02-01T00:00:00Z", "", "-P1D", "P1M/P1D"]),
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "9999-12-01T00:00:00Z/P2M",
            "P2M/0001-01-10T00:00:00Z",
            "2026-03-29T02:30:00[Europe/Copenhagen]",
            "2026-03-01T10:00:00[+25:00]",
            "2026-03-01T10:00:00",
            "P99999999999Y",
        ]
    ),
)

#: Values of every kind a caller might pass by mistake, including a few valid ones.
junk: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**309, max_value=10**400),  # beyond what a float holds
    st.floats(),
    st.text(max_size=20),
    st.binary(max_size=8),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    st.dictionaries(
        st.text(max_size=3), st.one_of(st.integers(), st.sets(st.integers())), max_size=2
    ),
    st.tuples(st.integers(), st.text(max_size=3)),
    st.frozensets(st.integers(), max_size=2),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.decimals(),
    st.fractions(),
    st.complex_numbers(),
    st.just(object()),
    st.just(_Colour.RED),
    st.sampled_from([pendulum.Duration(days=-1), pendulum.Duration(days=1, hours=-30)]),
    datetimes(),
    time_like_texts,
    st.sampled_from(["", "  ", "\x00", "other", "Has Space", "-leading", "x" * 200]),
)

#: What JSON can hold: what a corrupted or hand-edited store hands back.
json_values: Final = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
        time_like_texts,
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def spoiled_arguments(draw: st.DrawFn) -> tuple[type[Record], dict[str, Any]]:
    """A kind and the arguments of a valid record of it, one to three of them spoiled."""
    record = draw(records())
    kind = type(record)
    arguments = {a.name: getattr(record, a.name) for a in attrs.fields(kind) if a.init}
    names = draw(st.lists(st.sampled_from(sorted(arguments)), min_size=1, max_size=3, unique=True))
    for name in names:
        arguments[name] = draw(junk)
    return kind, arguments


@st.composite
def spoiled_data(draw: st.DrawFn) -> object:
    """The stored data of a valid record with keys removed, replaced or added."""
    data = to_data(draw(records()))
    for name in draw(st.lists(st.sampled_from(sorted(data)), min_size=1, max_size=3, unique=True)):
        action = draw(st.sampled_from(["remove", "replace", "replace", "add"]))
        if action == "remove":
            del data[name]
        elif action == "replace":
            data[name] = draw(json_values)
        else:
            data[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return draw(st.one_of(st.just(data), st.just(data), json_values))


#: Times without a zone, which the library must refuse.
naive_datetimes: Final = st.datetimes(
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 - naive on purpose
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
)
