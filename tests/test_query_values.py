"""The query language's values: immutable, equal by their fields, shown and pickled whole."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from experiments.query import (
    All,
    AnyOf,
    Condition,
    Count,
    CountDistinct,
    Expr,
    F,
    FieldInfo,
    FieldType,
    Latest,
    Max,
    Min,
    Not,
    Op,
    Sum,
    bind,
)

names = st.sampled_from(["status", "owner", "title", "tags", "started_at"])
values = st.none() | st.integers() | st.text(max_size=8) | st.tuples(st.text(max_size=4))
conditions = st.builds(Condition, names, st.sampled_from(list(Op)), values)
exprs = st.recursive(
    conditions,
    lambda parts: (
        st.builds(All, st.tuples(parts, parts))
        | st.builds(AnyOf, st.tuples(parts, parts))
        | st.builds(Not, parts)
    ),
    max_leaves=6,
)
measures = (
    st.just(Count())
    | st.builds(CountDistinct, names)
    | st.builds(Sum, names)
    | st.builds(Min, names)
    | st.builds(Max, names)
    | st.builds(Latest, names, names)
)


def _rebuilt(value: Any) -> Any:
    """The same value made again from its fields, as a caller would write it."""
    if isinstance(value, tuple):
        return tuple(_rebuilt(part) for part in value)
    if isinstance(value, Expr | Count | CountDistinct | Sum | Min | Max | Latest):
        return type(value)(*(_rebuilt(getattr(value, n)) for n in value.__match_args__))
    return value


class TestEquality:
    @given(st.one_of(exprs, measures))
    def test_equal_to_itself_made_again(self, value: Any) -> None:
        """A value made again from the same fields is equal and hashes alike."""
        again = _rebuilt(value)
        assert again is not value
        assert again == value
        assert hash(again) == hash(value)

    @given(names)
    def test_kinds_of_measure_differ(self, name: str) -> None:
        """The least and the most of a field are two measures, not one."""
        assert Min(name) != Max(name)
        assert len({Min(name), Max(name), Sum(name), CountDistinct(name)}) == 4

    def test_other_types_are_not_equal(self) -> None:
        """A condition is not equal to a tuple of its fields."""
        assert Condition("status", Op.EQ, "running") != ("status", Op.EQ, "running")


class TestShown:
    def test_repr_names_every_field(self) -> None:
        """The repr reads as the call that makes the value."""
        shown = repr(F.status == "running")
        assert shown == "Condition(field='status', op=<Op.EQ: '='>, value='running')"
        assert repr(Count()) == "Count()"
        assert repr(Latest("verdict", by="observed_at")) == (
            "Latest(field='verdict', by='observed_at')"
        )

    def test_keywords_and_defaults(self) -> None:
        """Fields can be given by name, and those with a default left out."""
        info = FieldInfo(kind=FieldType.TEXT)
        assert info == FieldInfo(FieldType.TEXT, None, False)
        assert Latest(field="value", by="measured_at") == Latest("value", "measured_at")


class TestImmutable:
    @pytest.mark.parametrize(
        "value",
        [Condition("status", Op.EQ, "x"), Count(), Latest("v", "t"), FieldInfo(FieldType.TEXT)],
    )
    def test_fields_cannot_change(self, value: Any) -> None:
        """Setting or deleting a field is refused, as on any attrs frozen class."""
        with pytest.raises(FrozenInstanceError):
            value.field = "other"
        with pytest.raises(FrozenInstanceError):
            del value.field

    def test_no_new_attributes(self) -> None:
        """A value has only its fields: nothing can be added to it."""
        with pytest.raises(AttributeError):
            object.__setattr__(Count(), "extra", 1)


class TestCopiedWhole:
    @given(st.one_of(exprs, measures))
    def test_pickled_and_copied(self, value: Any) -> None:
        """Pickling, copying and deep-copying give an equal value of the same class."""
        pickled = pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes
        for again in (pickled, copy.copy(value), copy.deepcopy(value)):
            assert type(again) is type(value)
            assert again == value

    def test_bound_pickled(self) -> None:
        """A filter bound to a kind, as a backend receives it, pickles too."""
        bound = bind("experiment", (F.status == "running") & ~(F.title == "x"))
        assert pickle.loads(pickle.dumps(bound)) == bound  # noqa: S301 - our own bytes


class TestMatched:
    def test_match_by_position(self) -> None:
        """A backend can take a condition apart with ``match``, fields in their order."""
        expr: Expr = F.owner.in_(["Culture", None])
        match expr:
            case Condition(field, Op.IN, members):
                assert (field, members) == ("owner", ("Culture", None))
            case _:
                pytest.fail("a condition did not match its own pattern")
