"""Filters, ordering and aggregation over stored records, in one small language.

A filter is built from fields and combined with ``&`` (and), ``|`` (or) and ``~`` (not)::

    from experiments.query import F

    running_pilots = (F.status == "running") & F.tags.contains("pilot")
    open_ones = F.status.in_(["planned", "running"]) | (F.owner == None)  # noqa: E711

or parsed from text, as the command line does::

    parse_where("status in (planned, running) and (tag = pilot or owner = 'Welfare')")

Every backend answers filters over the same JSON data with the same meaning, whether it
runs them in its own engine or leaves them to :func:`matcher`: a comparison with a
missing value is false (and its negation true), equality with a list field means "the
list contains", times compare as instants, and ``None`` sorts first.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Self, TypeAlias

import attrs
import pendulum
from attrs.exceptions import FrozenInstanceError

from experiments.errors import InvalidTypeError, ValidationError
from experiments.model import KINDS, Record, TimeBox
from experiments.model._hints import field_hints
from experiments.model._time import (
    TimeError,
    parse_date,
    parse_datetime,
    timebox_key,
    utc_key,
    utc_key_of,
)
from experiments.model._validate import shorten, unfit_text
from experiments.model.participant import PERSONAL_FIELDS
from experiments.serialization import zone_field

__all__ = [
    "All",
    "AnyOf",
    "Condition",
    "Count",
    "CountDistinct",
    "Expr",
    "F",
    "Field",
    "FieldType",
    "Latest",
    "Max",
    "Measure",
    "Min",
    "Not",
    "Op",
    "Order",
    "Sum",
    "aggregate_rows",
    "bind",
    "field_types",
    "matcher",
    "parse_order",
    "parse_where",
    "refuse_oracle",
    "sort_key",
]


class Op(enum.StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"


_ORDERING: Final = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})


class _Value:
    """Immutable, equal and hashed by its fields (``__match_args__``), shown as a call.

    What ``attrs.frozen`` would make, written out: every command that opens a store
    imports this module, and making its fourteen classes with attrs took about 7 ms of
    each command's start (10 ms on a slower machine). Like attrs' classes they take
    weak references, :func:`copy.replace` (``__replace__``) and the pickles attrs wrote.
    """

    __match_args__: tuple[str, ...] = ()
    __slots__ = ("__weakref__",)

    def _set(self, *values: Any) -> None:
        """Set each field, in the order of ``__match_args__`` (once, from ``__init__``)."""
        for name, value in zip(self.__match_args__, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self.__match_args__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Value)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__match_args__)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError

    def __replace__(self, **changes: Any) -> Self:
        """A copy with ``changes`` to some fields, as :func:`copy.replace` asks."""
        unknown = sorted(set(changes) - set(self.__match_args__))
        if unknown:
            raise InvalidTypeError(
                f"{self.__class__.__qualname__} has no field {', '.join(unknown)}; "
                f"its fields: {', '.join(self.__match_args__) or 'none'}"
            )
        fields = {name: getattr(self, name) for name in self.__match_args__}
        return self.__class__(**(fields | changes))

    def __reduce__(self) -> tuple[type[_Value], tuple[Any, ...]]:
        return (self.__class__, self._values())

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        """The fields of a pickle attrs wrote, by name."""
        for name in self.__match_args__:
            object.__setattr__(self, name, state[name])


class Expr:
    """A filter; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Expr) -> Expr:
        return All((self, other))

    def __or__(self, other: Expr) -> Expr:
        return AnyOf((self, other))

    def __invert__(self) -> Expr:
        return Not(self)


class Condition(_Value, Expr):
    """``field <op> value``; for ``in`` / ``not in`` the value is a tuple."""

    __match_args__ = ("field", "op", "value")
    __slots__ = __match_args__

    field: str
    op: Op
    value: Any

    def __init__(self, field: str, op: Op, value: Any) -> None:
        self._set(field, op, value)


class All(_Value, Expr):
    """Every part holds (and)."""

    __match_args__ = ("parts",)
    __slots__ = __match_args__

    parts: tuple[Expr, ...]

    def __init__(self, parts: tuple[Expr, ...]) -> None:
        self._set(parts)


class AnyOf(_Value, Expr):
    """At least one part holds (or)."""

    __match_args__ = ("parts",)
    __slots__ = __match_args__

    parts: tuple[Expr, ...]

    def __init__(self, parts: tuple[Expr, ...]) -> None:
        self._set(parts)


class Not(_Value, Expr):
    """The part does not hold."""

    __match_args__ = ("part",)
    __slots__ = __match_args__

    part: Expr

    def __init__(self, part: Expr) -> None:
        self._set(part)


class Field:
    """A field to compare, e.g. ``Field("status") == "running"``; see also :data:`F`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.name, Op.EQ, value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return Condition(self.name, Op.NE, value)

    def __lt__(self, value: object) -> Condition:
        return Condition(self.name, Op.LT, value)

    def __le__(self, value: object) -> Condition:
        return Condition(self.name, Op.LE, value)

    def __gt__(self, value: object) -> Condition:
        return Condition(self.name, Op.GT, value)

    def __ge__(self, value: object) -> Condition:
        return Condition(self.name, Op.GE, value)

    __hash__ = None  # type: ignore[assignment]

    def in_(self, values: Iterable[object]) -> Condition:
        """The field equals one of ``values`` (for a list field: contains one of them)."""
        return Condition(self.name, Op.IN, _members(self.name, "in_", values))

    def not_in(self, values: Iterable[object]) -> Condition:
        return Condition(self.name, Op.NOT_IN, _members(self.name, "not_in", values))

    def contains(self, value: object) -> Condition:
        """A list field (tags, objectives, team, ...) holds ``value``."""
        return Condition(self.name, Op.EQ, value)

    def between(self, start: object, end: object) -> Expr:
        """``start <= field < end``: a half-open range, so ranges can tile a calendar."""
        return All((Condition(self.name, Op.GE, start), Condition(self.name, Op.LT, end)))

    def is_null(self) -> Condition:
        return Condition(self.name, Op.EQ, None)


def _members(name: str, method: str, values: object) -> tuple[object, ...]:
    # A string is iterable too, and would quietly become a list of its letters.
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError(
            f"F.{name}.{method}() takes a list of values, got {values!r}; "
            f"write F.{name}.{method}([{values!r}]) or compare with =="
        )
    return tuple(values)


def names(value: object, what: str) -> list[str]:
    """Field names given as one string or a sequence of them, as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return list(value)
    raise ValidationError(
        f"{what} takes a field name or a list of them, e.g. 'status' or "
        f"['status', '-created_at']; got {value!r}"
    )


class _Fields:
    """``F.status`` is ``Field("status")``."""

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(name)

    def __call__(self, name: str) -> Field:
        return Field(name)


F: Final = _Fields()


# --- field types ------------------------------------------------------------------------


class FieldType(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    DATETIME = "datetime"
    DATE = "date"
    LIST = "list"
    ENUM = "enum"
    TIMEBOX = "timebox"  # grouped by its stored text; filtered only on being there or not
    OTHER = "other"  # criteria, metadata: filtered only on being set (or, listed, any)


_EnumClass: TypeAlias = type[enum.Enum]


class FieldInfo(_Value):
    """How a field is stored and compared; ``enum`` is its enum class, if it has one.

    ``listed`` marks a list of structured values (a decision's next steps): like a
    list field's, its ``= None`` asks whether it is empty. Other structured values (a
    criterion, a mapping such as ``metadata``) are set unless absent, empty or not.
    """

    __match_args__ = ("kind", "enum", "listed")
    __slots__ = __match_args__

    kind: FieldType
    enum: _EnumClass | None
    listed: bool

    def __init__(
        self, kind: FieldType, enum: _EnumClass | None = None, listed: bool = False
    ) -> None:
        self._set(kind, enum, listed)

    @property
    def empty_when_none(self) -> bool:
        """Whether ``= None`` asks if the field is empty rather than absent."""
        return self.kind is FieldType.LIST or self.listed


def _classify(hint: Any) -> FieldInfo:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) and len(args) == 1:
        hint = args[0]
    origin = typing.get_origin(hint)
    if origin in (tuple, frozenset):
        items = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if any(attrs.has(item) for item in items):  # next steps: filtered on being empty
            return FieldInfo(FieldType.OTHER, listed=True)
        return FieldInfo(FieldType.LIST)
    simple = {
        str: FieldType.TEXT,
        float: FieldType.NUMBER,
        int: FieldType.NUMBER,
        bool: FieldType.BOOL,
        pendulum.DateTime: FieldType.DATETIME,
        pendulum.Date: FieldType.DATE,
    }
    if hint in simple:
        return FieldInfo(simple[hint])
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return FieldInfo(FieldType.ENUM, hint)
    if hint is TimeBox:
        return FieldInfo(FieldType.TIMEBOX)
    return FieldInfo(FieldType.OTHER)


_FIELD_CACHE: dict[str | None, dict[str, FieldInfo]] = {}


def field_types(kind: str | None) -> dict[str, FieldInfo]:
    """The fields of ``kind`` (or of every record when None) and how they compare."""
    cached = _FIELD_CACHE.get(kind)
    if cached is not None:
        return cached
    cls = Record if kind is None else KINDS.get(kind)
    if cls is None:
        raise ValidationError(f"unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    hints = field_hints(cls)
    result = {"kind": FieldInfo(FieldType.TEXT)}
    result.update({f.name: _classify(hints[f.name]) for f in attrs.fields(cls)})
    _FIELD_CACHE[kind] = result
    return result


def resolve_field(
    kind: str | None, name: str, use: str = "filter or group on"
) -> tuple[str, FieldInfo]:
    """The stored name and type of a field; ``tag`` and ``objective`` find their lists.

    ``use`` is what the caller wants the field for, as the error says it.
    """
    fields = field_types(kind)
    if not isinstance(name, str):
        raise ValidationError(f"a field is named by a string such as 'status'; got {name!r}")
    if name in fields:
        return name, fields[name]
    plural = name + "s"
    if plural in fields and fields[plural].kind is FieldType.LIST:
        return plural, fields[plural]
    usable = ", ".join(n for n, info in fields.items() if info.kind is not FieldType.OTHER)
    where = (f"an {kind}" if kind[0] in "aeiou" else f"a {kind}") if kind else "every kind"
    raise ValidationError(f"{where} has no field {name!r} to {use}; fields: {usable}")


def normalise(kind: str | None, name: str, info: FieldInfo, value: object) -> object:
    """``value`` in the form the field is stored in (ids, enum values, UTC instants)."""
    if value is None:
        return None
    try:
        normalised = _normalise(info, value)
        if isinstance(normalised, str) and (problem := unfit_text(normalised)) is not None:
            raise ValueError(f"it {problem}")  # noqa: TRY301 - reported as every other
    except (TimeError, TypeError, ValueError, OverflowError) as exc:
        detail = f" ({exc})" if str(exc) else ""
        where = f"{kind}." if kind else ""
        raise ValidationError(
            f"{where}{name} cannot be compared with {shorten(value)}{detail}"
        ) from None
    return normalised


def _number(value: object) -> float:
    """A filter's value for a number field, or why it is not one."""
    if isinstance(value, bool):
        raise TypeError("it is a boolean, not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"it is a {type(value).__name__}, not a number") from None
    except ValueError:
        raise ValueError("it is not a number") from None
    if not math.isfinite(number):
        raise ValueError("it is not a finite number")
    return number


def _normalise(info: FieldInfo, value: object) -> object:
    kind = info.kind
    if isinstance(value, Record):
        value = value.id
    if kind is FieldType.ENUM:
        assert info.enum is not None
        if isinstance(value, info.enum):
            return value.value
        key = str(value).strip().lower().replace("_", "-")
        for member in info.enum:
            if member.value == key:
                return member.value
        choices = ", ".join(repr(m.value) for m in info.enum)
        raise ValueError(f"it is not one of {choices}")
    if kind is FieldType.NUMBER:
        return _number(value)
    if kind is FieldType.BOOL:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1"):
            return True
        if text in ("false", "no", "0"):
            return False
        raise ValueError("it is not true or false")
    if kind is FieldType.DATETIME:
        return utc_key(parse_datetime(value))  # type: ignore[arg-type]
    if kind is FieldType.DATE:
        return parse_date(value).isoformat()  # type: ignore[arg-type]
    if kind is FieldType.TIMEBOX:
        raise TypeError("a time box can only be compared with null (time_box = null)")
    if kind is FieldType.OTHER:
        raise TypeError("this field holds structured data and cannot be filtered on")
    if not isinstance(value, str):
        raise TypeError(f"it is a {type(value).__name__}, not text")
    return value


# --- binding: checking names and values against a kind ---------------------------------


class Bound(_Value, Expr):
    """A condition checked against a kind: stored field name, type, normalised value."""

    __match_args__ = ("field", "info", "op", "value")
    __slots__ = __match_args__

    field: str
    info: FieldInfo
    op: Op
    value: Any

    def __init__(self, field: str, info: FieldInfo, op: Op, value: Any) -> None:
        self._set(field, info, op, value)

    def members(self) -> tuple[list[Any], bool]:
        """The values of an ``in`` / ``not in`` test, and whether None is one of them.

        In a membership list None stands for "no value": ``in (None, ...)`` takes
        records without one; ``not in`` always leaves them out.
        """
        return [v for v in self.value if v is not None], None in self.value


BoundExpr: TypeAlias = "Bound | All | AnyOf | Not"


def bind(kind: str | None, expr: Expr | None) -> BoundExpr | None:
    """``expr`` with field names resolved and values normalised for ``kind``.

    Raises:
        ValidationError: an unknown field, an operator the field does not support, or a
            value that cannot be compared with the field.
    """
    if expr is None:
        return None
    if isinstance(expr, Condition):
        return _bind_condition(kind, expr)
    if isinstance(expr, All):
        return All(tuple(b for part in expr.parts if (b := bind(kind, part)) is not None))
    if isinstance(expr, AnyOf):
        return AnyOf(tuple(b for part in expr.parts if (b := bind(kind, part)) is not None))
    if isinstance(expr, Not):
        inner = bind(kind, expr.part)
        return None if inner is None else Not(inner)
    raise ValidationError(f"not a filter: {shorten(expr)}; build one with F.<field> == value")


def _bind_condition(kind: str | None, condition: Condition) -> Bound:
    name, info = resolve_field(kind, condition.field)
    _check_operator(kind, name, info, condition.op, condition.value)
    op = condition.op
    if op in (Op.IN, Op.NOT_IN):
        values = condition.value
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise ValidationError(f"'{op.value}' needs a list of values for {name}")
        return Bound(name, info, op, tuple(normalise(kind, name, info, v) for v in values))
    value = normalise(kind, name, info, condition.value)
    if value is None and op in _ORDERING:
        raise ValidationError(f"{name} {op.value} None compares nothing; use = None")
    return Bound(name, info, op, value)


def _check_operator(kind: str | None, name: str, info: FieldInfo, op: Op, value: object) -> None:
    """Refuse an operator that the field's type cannot answer."""
    if info.kind is FieldType.OTHER and not (op in (Op.EQ, Op.NE) and value is None):
        asked = "it has any" if info.listed else "it is set"
        raise ValidationError(
            f"{kind}.{name} holds structured data: only whether {asked} can be filtered "
            f"on ({name} = None, {name} != None)"
        )
    if op in _ORDERING and info.kind in (FieldType.LIST, FieldType.BOOL, FieldType.TIMEBOX):
        raise ValidationError(f"{kind}.{name} cannot be compared with {op.value}")


def _bound_fields(expr: Expr | None) -> Iterator[str]:
    if isinstance(expr, Bound):
        yield expr.field
    elif isinstance(expr, All | AnyOf):
        for part in expr.parts:
            yield from _bound_fields(part)
    elif isinstance(expr, Not):
        yield from _bound_fields(expr.part)


def _only_named(expr: Expr | None) -> bool:
    """Whether ``expr`` keeps pseudonymous participants out (``pseudonymous = false``)."""
    if isinstance(expr, All):
        return any(_only_named(part) for part in expr.parts)
    if not isinstance(expr, Bound) or expr.field != "pseudonymous":
        return False
    return (expr.op is Op.EQ and expr.value is False) or (expr.op is Op.NE and expr.value is True)


def refuse_oracle(kind: str | None, where: BoundExpr | None, *used: Iterable[str]) -> None:
    """Refuse a query whose answer could tell a pseudonymous participant's name or slug.

    Filtering, ordering, grouping or aggregating participants on a personal field
    (``Participant.personal_fields``) would confirm whether a
    guessed name is there, so it is allowed only among participants who are not
    pseudonymous (``pseudonymous = false`` in the filter).  ``used`` are the other
    fields the query reads: its orders, groups and measures.

    Raises:
        ValidationError: the query reads a personal field where a pseudonymous
            participant could match.
    """
    if kind not in (None, "participant"):
        return
    touched = sorted(
        {*_bound_fields(where), *(name for names in used for name in names)}.intersection(
            PERSONAL_FIELDS
        )
    )
    if not touched or (kind is not None and _only_named(where)):
        return
    fields = " or ".join(touched)
    if kind is None:
        raise ValidationError(
            f"a query over every kind may not filter, order or group on {fields}: it would "
            "tell whether a pseudonymous participant has that name or slug; query one "
            "kind, or participants with pseudonymous = false"
        )
    raise ValidationError(
        f"participants may not be filtered, ordered or grouped on {fields} where a "
        "pseudonymous participant could match: it would tell whether one has that name "
        "or slug; add pseudonymous = false to the filter, or name a pseudonymous "
        "participant by id"
    )


def keywords_filter(filters: Mapping[str, object]) -> Expr | None:
    """``status="running", tag=["a", "b"]`` as an AND of equalities (lists mean IN)."""
    parts: list[Expr] = []
    for name, value in filters.items():
        if isinstance(value, list | tuple | set | frozenset):
            parts.append(Condition(name, Op.IN, tuple(value)))
        else:
            parts.append(Condition(name, Op.EQ, value))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def combine(where: Expr | str | None, filters: Mapping[str, object]) -> Expr | None:
    """A ``where`` filter (expression or text) AND keyword filters."""
    parts = [
        p
        for p in (parse_where(where) if isinstance(where, str) else where, keywords_filter(filters))
        if p is not None
    ]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else All(tuple(parts))


# --- evaluation over stored JSON data --------------------------------------------------


def stored(data: Mapping[str, Any], field: str, info: FieldInfo) -> Any:
    """A field's stored value in comparable form (see :func:`comparable`)."""
    return comparable(data, field, info.kind)


def comparable(data: Mapping[str, Any], field: str, kind: FieldType) -> Any:
    """A field's stored value in the form filters, orders and groups compare.

    Times as their UTC key (fixed-width UTC text, which sorts like the instants), time
    boxes as :func:`~experiments.model._time.timebox_key` (the start's UTC key, its zone
    and the duration), everything else as it is stored.  SQL backends keep these
    forms in the columns they query, so every backend compares the same values.
    """
    value = data.get(field)
    if kind is FieldType.DATETIME:
        return time_key(value)
    if value is None or kind is not FieldType.TIMEBOX or not isinstance(value, str):
        return value
    try:
        return timebox_key(value, data.get(zone_field(field)))
    except (TimeError, TypeError, ValueError, OverflowError):
        return value  # not a time box: compared as the text it is, as reading it will report


def time_key(value: Any) -> Any:
    """A stored time's comparable form, its UTC key (see :func:`comparable`).

    Anything else (None, a value that is not a time) is compared as it is stored, as
    reading it will report.
    """
    if not isinstance(value, str):
        return value
    try:
        return utc_key_of(value)
    except (TimeError, TypeError, ValueError, OverflowError):
        return value


def _compare(op: Op, left: Any, right: Any) -> bool:
    if op is Op.EQ:
        return bool(left == right)
    if op is Op.NE:
        return bool(left != right)
    if op is Op.LT:
        return bool(left < right)
    if op is Op.LE:
        return bool(left <= right)
    if op is Op.GT:
        return bool(left > right)
    return bool(left >= right)


def _condition(bound: Bound) -> Callable[[Mapping[str, Any]], bool]:
    if bound.info.empty_when_none:
        return _list_test(bound)
    if bound.op in (Op.IN, Op.NOT_IN):
        return _membership_test(bound)
    return _comparison_test(bound)


def _list_test(bound: Bound) -> Callable[[Mapping[str, Any]], bool]:
    """A list field: ``=`` and ``in`` ask whether it holds a value, None whether it is empty."""
    field, op = bound.field, bound.op
    if bound.value is None:
        return (lambda d: not d.get(field)) if op is Op.EQ else (lambda d: bool(d.get(field)))
    if op in (Op.IN, Op.NOT_IN):
        values, with_none = bound.members()
    else:
        values, with_none = [bound.value], False
    wanted = set(values)

    def holds(d: Mapping[str, Any]) -> bool:
        items = d.get(field)
        return (not items and with_none) or not wanted.isdisjoint(items or ())

    return holds if op in (Op.EQ, Op.IN) else lambda d: not holds(d)


def _membership_test(bound: Bound) -> Callable[[Mapping[str, Any]], bool]:
    """A scalar field ``in`` / ``not in`` a list, where None in an ``in`` list means unset."""
    field, info = bound.field, bound.info
    values, with_none = bound.members()
    wanted = set(values)
    if bound.op is Op.IN:
        return lambda d: (v := stored(d, field, info)) in wanted or (v is None and with_none)
    # NOT IN leaves out records without a value, None listed or not.
    return lambda d: (v := stored(d, field, info)) is not None and v not in wanted


def _comparison_test(bound: Bound) -> Callable[[Mapping[str, Any]], bool]:
    """A scalar field compared with one value; ``= None`` and ``!= None`` ask if it is set."""
    field, info, op, value = bound.field, bound.info, bound.op, bound.value
    if value is None:
        if op is Op.EQ:
            return lambda d: d.get(field) is None
        return lambda d: d.get(field) is not None

    def check(d: Mapping[str, Any]) -> bool:
        current = stored(d, field, info)
        return current is not None and _compare(op, current, value)

    return check


def matcher(expr: BoundExpr | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over stored data that answers a bound filter, for backends without SQL."""
    if expr is None:
        return lambda _d: True
    if isinstance(expr, Bound):
        return _condition(expr)
    if isinstance(expr, All):
        checks = [matcher(p) for p in expr.parts]  # type: ignore[arg-type]
        return lambda d: all(c(d) for c in checks)
    if isinstance(expr, AnyOf):
        checks = [matcher(p) for p in expr.parts]  # type: ignore[arg-type]
        return lambda d: any(c(d) for c in checks)
    inner = matcher(expr.part)  # type: ignore[arg-type]
    return lambda d: not inner(d)


# --- ordering ---------------------------------------------------------------------------


class Order(_Value):
    """A field to sort by, resolved for a kind, and whether in descending order."""

    __match_args__ = ("field", "info", "descending")
    __slots__ = __match_args__

    field: str
    info: FieldInfo
    descending: bool

    def __init__(self, field: str, info: FieldInfo, descending: bool = False) -> None:
        self._set(field, info, descending)


def parse_order(kind: str | None, order_by: str | Sequence[str] | None) -> tuple[Order, ...]:
    """``"-updated_at"`` or ``["status", "-created_at"]`` as orders; ``-`` means descending."""
    if order_by is None:
        return ()
    orders = []
    for raw in names(order_by, "order_by"):
        text = raw.strip()
        descending = text.startswith("-")
        name, info = resolve_field(kind, text.lstrip("-+"), "order by")
        if info.kind in (FieldType.LIST, FieldType.OTHER, FieldType.TIMEBOX):
            raise ValidationError(f"cannot order by {name}: it holds a list or structured data")
        orders.append(Order(name, info, descending))
    return tuple(orders)


class _Reversed:
    """Wraps a sort key so that it sorts in reverse."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and bool(self.key == other.key)

    __hash__ = None  # type: ignore[assignment]


def sort_key(orders: Sequence[Order]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A key that sorts stored data by ``orders``, None first, ties broken by id."""

    def key(d: Mapping[str, Any]) -> tuple[Any, ...]:
        parts: list[Any] = []
        for order in orders:
            value = stored(d, order.field, order.info)
            item = (0, 0) if value is None else (1, value)
            parts.append(_Reversed(item) if order.descending else item)
        parts.append(d["id"])
        return tuple(parts)

    return key


# --- aggregation ------------------------------------------------------------------------


class Count(_Value):
    """How many records are in the group."""

    __match_args__ = ()
    __slots__ = __match_args__


class CountDistinct(_Value):
    """How many distinct non-null values ``field`` takes in the group."""

    __match_args__ = ("field",)
    __slots__ = __match_args__

    field: str

    def __init__(self, field: str) -> None:
        self._set(field)


class Sum(_Value):
    """Sum of a number field (None when no record in the group has a value)."""

    __match_args__ = ("field",)
    __slots__ = __match_args__

    field: str

    def __init__(self, field: str) -> None:
        self._set(field)


class Min(_Value):
    """Smallest value of a field in the group (times as UTC instant text)."""

    __match_args__ = ("field",)
    __slots__ = __match_args__

    field: str

    def __init__(self, field: str) -> None:
        self._set(field)


class Max(_Value):
    """Largest value of a field in the group (times as UTC instant text)."""

    __match_args__ = ("field",)
    __slots__ = __match_args__

    field: str

    def __init__(self, field: str) -> None:
        self._set(field)


class Latest(_Value):
    """``field`` of the group's record with the latest ``by`` (ties: the greatest id).

    A time comes as UTC instant text, as from :class:`Min` and :class:`Max`.
    """

    __match_args__ = ("field", "by")
    __slots__ = __match_args__

    field: str
    by: str

    def __init__(self, field: str, by: str) -> None:
        self._set(field, by)


Measure: TypeAlias = "Count | CountDistinct | Sum | Min | Max | Latest"


class BoundMeasure(_Value):
    """A measure with its fields resolved for a kind."""

    __match_args__ = ("measure", "field", "info", "by", "by_info")
    __slots__ = __match_args__

    measure: Count | CountDistinct | Sum | Min | Max | Latest
    field: str | None
    info: FieldInfo | None
    by: str | None
    by_info: FieldInfo | None

    def __init__(
        self,
        measure: Count | CountDistinct | Sum | Min | Max | Latest,
        field: str | None,
        info: FieldInfo | None,
        by: str | None = None,
        by_info: FieldInfo | None = None,
    ) -> None:
        self._set(measure, field, info, by, by_info)


def bind_measures(kind: str | None, measures: Mapping[str, Measure]) -> dict[str, BoundMeasure]:
    bound: dict[str, BoundMeasure] = {}
    if not isinstance(measures, Mapping):
        raise ValidationError(
            f"measures are a mapping of labels to measures, e.g. {{'n': Count()}}; got {measures!r}"
        )
    for label, measure in measures.items():
        if isinstance(measure, Count):
            bound[label] = BoundMeasure(measure, None, None)
            continue
        if not isinstance(measure, CountDistinct | Sum | Min | Max | Latest):
            raise ValidationError(f"{label!r} is not a measure; use Count(), Sum(field), ...")
        name, info = resolve_field(kind, measure.field)
        if info.kind in (FieldType.LIST, FieldType.OTHER, FieldType.TIMEBOX):
            raise ValidationError(f"cannot aggregate {name}: it holds a list or structured data")
        if isinstance(measure, Sum) and info.kind is not FieldType.NUMBER:
            raise ValidationError(f"cannot sum {name}: it is not a number field")
        if isinstance(measure, Latest):
            by, by_info = resolve_field(kind, measure.by)
            if by_info.kind in (FieldType.LIST, FieldType.OTHER, FieldType.TIMEBOX):
                raise ValidationError(f"cannot order by {by}: it holds a list or structured data")
            bound[label] = BoundMeasure(measure, name, info, by, by_info)
        else:
            bound[label] = BoundMeasure(measure, name, info)
    return bound


def bind_group_by(kind: str | None, group_by: str | Sequence[str]) -> list[tuple[str, FieldInfo]]:
    fields = []
    for name in names(group_by, "group_by"):
        resolved, info = resolve_field(kind, name)
        if info.kind is FieldType.OTHER:
            raise ValidationError(f"cannot group by {resolved}: it holds structured data")
        fields.append((resolved, info))
    return fields


def _group_values(
    data: Mapping[str, Any], fields: Sequence[tuple[str, FieldInfo]]
) -> Iterator[tuple[Any, ...]]:
    """Every group key a record falls into: list fields give one key per element."""
    keys: list[tuple[Any, ...]] = [()]
    for name, info in fields:
        if info.kind is FieldType.LIST:
            elements = list(dict.fromkeys(data.get(name) or ())) or [None]
            keys = [(*key, element) for key in keys for element in elements]
        else:
            value = stored(data, name, info)
            keys = [(*key, value) for key in keys]
    return iter(keys)


def aggregate_rows(
    rows: Iterable[Mapping[str, Any]],
    group_by: Sequence[tuple[str, FieldInfo]],
    measures: Mapping[str, BoundMeasure],
) -> list[dict[str, Any]]:
    """Groups and measures computed in Python: the fallback every backend can rely on."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    plan = list(measures.items())
    for data in rows:
        for key in _group_values(data, group_by):
            state = groups.get(key)
            if state is None:
                state = groups[key] = [_initial(m) for _, m in plan]
            for index, (_, measure) in enumerate(plan):
                state[index] = _step(measure, state[index], data)
    result = []
    names = [name for name, _ in group_by]
    for key, state in groups.items():
        row = dict(zip(names, key, strict=True))
        for index, (label, measure) in enumerate(plan):
            row[label] = _final(measure, state[index])
        result.append(row)
    return result


def empty_group(measures: Mapping[str, BoundMeasure]) -> dict[str, Any]:
    """The measures of a group of no records: counts are 0, every other measure None."""
    return {label: _final(measure, _initial(measure)) for label, measure in measures.items()}


def _initial(measure: BoundMeasure) -> Any:
    if isinstance(measure.measure, Count):
        return 0
    if isinstance(measure.measure, CountDistinct):
        return set()
    if isinstance(measure.measure, Sum):
        return []
    return None


def _step(measure: BoundMeasure, state: Any, data: Mapping[str, Any]) -> Any:
    kind = measure.measure
    if isinstance(kind, Count):
        return state + 1
    assert measure.field is not None
    assert measure.info is not None
    value = stored(data, measure.field, measure.info)
    if isinstance(kind, Latest):
        assert measure.by is not None
        assert measure.by_info is not None
        by = stored(data, measure.by, measure.by_info)
        rank = ((0, 0) if by is None else (1, by), data["id"])
        if state is None or rank > state[0]:
            return (rank, value)
        return state
    if value is None:
        return state
    if isinstance(kind, CountDistinct):
        state.add(value)
        return state
    if isinstance(kind, Sum):
        state.append(value)
        return state
    if isinstance(kind, Min):
        return value if state is None or value < state else state
    return value if state is None or value > state else state


def _final(measure: BoundMeasure, state: Any) -> Any:
    kind = measure.measure
    if isinstance(kind, CountDistinct):
        return len(state)
    if isinstance(kind, Sum):
        return math.fsum(state) if state else None
    if isinstance(kind, Latest):
        return None if state is None else state[1]
    return state


# --- text filters -----------------------------------------------------------------------

#: Compiled when a filter is first read (:func:`_pieces`), so that a command that reads
#: none does not pay for it.
_PIECE: Final = r"""\s*(?:
        (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,) |
        (?P<op>!=|<=|>=|==|=|<|>|~) |
        '(?P<squote>(?:[^'\\]|\\.)*)' | "(?P<dquote>(?:[^"\\]|\\.)*)" |
        (?P<word>[^\s()',"=!<>~]+)
    )"""


@functools.cache
def _pieces() -> re.Pattern[str]:
    return re.compile(_PIECE, re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    piece = _pieces()
    while position < len(text):
        match = piece.match(text, position)
        if match is None or match.end() == position:
            raise ValidationError(
                f"cannot read the filter at {text[position : position + 20]!r}; "
                'write e.g. "status = running and (tag = pilot or tag = welfare)"'
            )
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind in ("squote", "dquote"):
            tokens.append(("text", re.sub(r"\\(.)", r"\1", value)))
        elif kind == "word" and value.lower() in ("and", "or", "not", "in", "null", "none"):
            tokens.append((value.lower(), value))
        else:
            tokens.append((kind, value))
    return tokens


class _Parser:
    """and/or/not, parentheses, ``=``, ``!=``, ``<``..., ``in (a, b)``, ``not in (...)``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def error(self, what: str) -> ValidationError:
        return ValidationError(
            f"cannot read the filter {self.text!r}: {what}; write e.g. "
            "\"status in (planned, running) and (tag = pilot or owner = 'Welfare')\""
        )

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, *kinds: str) -> tuple[str, str]:
        token = self.peek()
        if token is None or token[0] not in kinds:
            found = "the end" if token is None else repr(token[1])
            raise self.error(f"expected {' or '.join(kinds)} but found {found}")
        self.index += 1
        return token

    def parse(self) -> Expr:
        expr = self.disjunction()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return expr

    def disjunction(self) -> Expr:
        parts = [self.conjunction()]
        while (token := self.peek()) is not None and token[0] == "or":
            self.index += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def conjunction(self) -> Expr:
        parts = [self.negation()]
        while (token := self.peek()) is not None and token[0] == "and":
            self.index += 1
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def negation(self) -> Expr:
        token = self.peek()
        if token is not None and token[0] == "not":
            self.index += 1
            return Not(self.negation())
        if token is not None and token[0] == "lparen":
            self.index += 1
            inner = self.disjunction()
            self.take("rparen")
            return inner
        return self.condition()

    def value(self) -> object:
        kind, text = self.take("word", "text", "null", "none")
        return None if kind in ("null", "none") else text

    def condition(self) -> Expr:
        _, name = self.take("word")
        token = self.peek()
        if token is not None and token[0] == "not":
            self.index += 1
            self.take("in")
            return Condition(name, Op.NOT_IN, self.values())
        if token is not None and token[0] == "in":
            self.index += 1
            return Condition(name, Op.IN, self.values())
        _, op_text = self.take("op")
        op = {"==": "=", "~": "="}.get(op_text, op_text)
        return Condition(name, Op(op), self.value())

    def values(self) -> tuple[object, ...]:
        self.take("lparen")
        values = [self.value()]
        while (token := self.peek()) is not None and token[0] == "comma":
            self.index += 1
            values.append(self.value())
        self.take("rparen")
        return tuple(values)


def parse_where(text: str | None) -> Expr | None:
    """A filter from text: ``status = running and (tag = pilot or tag = welfare)``.

    Values may be quoted with ``'`` or ``"``; ``null`` means no value; ``in (a, b)``
    and ``not in (a, b)`` test membership; ``and`` binds tighter than ``or``.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValidationError(
            f"a filter in text is a string such as 'status = running'; got {text!r}"
        )
    if not text.strip():
        return None
    return _Parser(text).parse()


def describe(expr: Expr | None) -> str:
    """A filter as text that :func:`parse_where` reads back."""
    if expr is None:
        return ""
    if isinstance(expr, Condition):
        if expr.op in (Op.IN, Op.NOT_IN):
            inner = ", ".join(_quote(v) for v in expr.value)
            return f"{expr.field} {expr.op.value} ({inner})"
        return f"{expr.field} {expr.op.value} {_quote(expr.value)}"
    if isinstance(expr, All):
        return " and ".join(f"({describe(p)})" for p in expr.parts)
    if isinstance(expr, AnyOf):
        return " or ".join(f"({describe(p)})" for p in expr.parts)
    if isinstance(expr, Not):
        return f"not ({describe(expr.part)})"
    return shorten(expr)


def _quote(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, TimeBox | Record):
        value = str(value.id) if isinstance(value, Record) else str(value)
    text = value.value if isinstance(value, enum.Enum) else str(value)
    escaped = str(text).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
