"""The query language's values: immutable, equal by their fields, shown and pickled whole."""

from __future__ import annotations

import base64
import copy
import pickle
import weakref
from typing import Any, Final

import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from experiments.errors import InvalidTypeError
from experiments.query import (
    All,
    AnyOf,
    Bound,
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
    Order,
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


#: ``(bind("experiment", (F.status == "running") & ~(F.title == "x")), [Count(),
#: Latest("value", by="measured_at"), Order("id", FieldInfo(FieldType.TEXT), True)])``
#: pickled (protocol 2) by the release whose query values were attrs classes.
_ATTRS_PICKLE: Final = (
    "gAJjZXhwZXJpbWVudHMucXVlcnkKQWxsCnEAKYFxAX1xAlgFAAAAcGFydHNxA2NleHBlcmltZW50cy5xdWVy"
    "eQpCb3VuZApxBCmBcQV9cQYoWAUAAABmaWVsZHEHWAYAAABzdGF0dXNxCFgEAAAAaW5mb3EJY2V4cGVyaW1l"
    "bnRzLnF1ZXJ5CkZpZWxkSW5mbwpxCimBcQt9cQwoWAQAAABraW5kcQ1jZXhwZXJpbWVudHMucXVlcnkKRmll"
    "bGRUeXBlCnEOWAQAAABlbnVtcQ+FcRBScRFoD2NleHBlcmltZW50cy5tb2RlbC5saWZlY3ljbGUKRXhwZXJp"
    "bWVudFN0YXR1cwpxElgGAAAAbGlzdGVkcROJdWJYAgAAAG9wcRRjZXhwZXJpbWVudHMucXVlcnkKT3AKcRVY"
    "AQAAAD1xFoVxF1JxGFgFAAAAdmFsdWVxGVgHAAAAcnVubmluZ3EadWJjZXhwZXJpbWVudHMucXVlcnkKTm90"
    "CnEbKYFxHH1xHVgEAAAAcGFydHEeaAQpgXEffXEgKGgHWAUAAAB0aXRsZXEhaAloCimBcSJ9cSMoaA1oDlgE"
    "AAAAdGV4dHEkhXElUnEmaA9OaBOJdWJoFGgYaBlYAQAAAHhxJ3Vic2KGcShzYl1xKShjZXhwZXJpbWVudHMu"
    "cXVlcnkKQ291bnQKcSopgXErfXEsYmNleHBlcmltZW50cy5xdWVyeQpMYXRlc3QKcS0pgXEufXEvKGgHaBlY"
    "AgAAAGJ5cTBYCwAAAG1lYXN1cmVkX2F0cTF1YmNleHBlcmltZW50cy5xdWVyeQpPcmRlcgpxMimBcTN9cTQo"
    "aAdYAgAAAGlkcTVoCWgKKYFxNn1xNyhoDWgmaA9OaBOJdWJYCgAAAGRlc2NlbmRpbmdxOIh1YmWGcTku"
)


class TestAsAttrsMadeThem:
    """What the attrs classes the values were still works: weak references, copy.replace
    and their pickles."""

    @given(st.one_of(exprs, measures))
    def test_weak_references(self, value: Any) -> None:
        """A value can be held by a weak reference, as a cache of bound filters would."""
        assert weakref.ref(value)() is value

    def test_replace_changes_the_fields_named(self) -> None:
        """``__replace__`` (``copy.replace`` from Python 3.13) makes a changed copy."""
        bound = bind("experiment", F.status == "running")
        assert isinstance(bound, Bound)
        changed = bound.__replace__(value="planned")
        assert changed == Bound(bound.field, bound.info, Op.EQ, "planned")
        assert bound.value == "running"
        assert Latest("v", by="t").__replace__() == Latest("v", by="t")

    def test_replace_refuses_an_unknown_field(self) -> None:
        """A field the value does not have is refused, naming those it has."""
        with pytest.raises(
            InvalidTypeError, match="Latest has no field colour; its fields: field, by"
        ):
            Latest("v", by="t").__replace__(colour="red")

    def test_pickles_attrs_wrote_load(self) -> None:
        """A filter and measures pickled when they were attrs classes load as equal values."""
        bound, measured = pickle.loads(base64.b64decode("".join(_ATTRS_PICKLE)))  # noqa: S301 - our own bytes
        assert bound == bind("experiment", (F.status == "running") & ~(F.title == "x"))
        assert measured == [
            Count(),
            Latest("value", by="measured_at"),
            Order("id", FieldInfo(FieldType.TEXT), descending=True),
        ]


class TestMatched:
    def test_match_by_position(self) -> None:
        """A backend can take a condition apart with ``match``, fields in their order."""
        expr: Expr = F.owner.in_(["Culture", None])
        match expr:
            case Condition(field, Op.IN, members):
                assert (field, members) == ("owner", ("Culture", None))
            case _:
                pytest.fail("a condition did not match its own pattern")
