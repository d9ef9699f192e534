"""What queries and aggregations give back, the same whatever answered them.

An engine (SQLite, PostgreSQL) and the Python fallback must agree exactly; these
helpers bring an engine's answers to the fallback's types, compute the fallback, and
check the arguments every query takes.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from experiments.errors import ValidationError
from experiments.model import KINDS, Record
from experiments.model._record import deleted_in
from experiments.model._validate import shorten
from experiments.query import (
    BoundExpr,
    BoundMeasure,
    FieldInfo,
    FieldType,
    Latest,
    Max,
    Min,
    Sum,
    empty_group,
    matcher,
    sort_key,
)
from experiments.serialization import SCHEMA_VERSION, upgrade

if TYPE_CHECKING:
    from experiments.stores.backend import Backend, Selection

__all__ = [
    "as_python",
    "as_python_tuples",
    "check_count",
    "current",
    "ensure_one_row",
    "fallback_select",
    "id_of",
    "kind_class",
    "kind_name",
    "plain",
]


def plain(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Data brought to the current schema (a no-op for current data)."""
    return data if data.get("schema") == SCHEMA_VERSION else upgrade(data)


def current(
    store: Backend, kind: str | None, where: BoundExpr | None, include_deleted: bool
) -> Iterator[Mapping[str, Any]]:
    """The current data of ``kind`` that matches ``where``, streamed through Python."""
    check = matcher(where)
    for raw in store._scan(kind):  # noqa: SLF001 - the fallback reads through the primitive
        data = plain(raw)
        if (include_deleted or not deleted_in(data)) and check(data):
            yield data


def fallback_select(store: Backend, selection: Selection) -> Iterator[Mapping[str, Any]]:
    """A query computed in Python, as every engine must answer it."""
    kind, where, orders, limit, offset, include_deleted = selection
    rows: Iterable[Mapping[str, Any]] = current(store, kind, where, include_deleted)
    if orders:
        key = sort_key(orders)
        if limit is not None:
            rows = heapq.nsmallest(offset + limit, rows, key=key)
        else:
            rows = sorted(rows, key=key)
    stop = None if limit is None else offset + limit
    return itertools.islice(rows, offset, stop)


def as_python(
    rows: Iterable[dict[str, Any]],
    groups: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
) -> Iterator[dict[str, Any]]:
    """What an engine answers in its own types, as the fallback answers it.

    Sums become floats; engines without a boolean type answer 0 and 1, which become
    False and True again.
    """
    sums = [label for label, m in measures.items() if isinstance(m.measure, Sum)]
    flags = [name for name, info in groups if info.kind is FieldType.BOOL]
    flags += [
        label
        for label, m in measures.items()
        if m.info is not None
        and m.info.kind is FieldType.BOOL
        and isinstance(m.measure, Min | Max | Latest)
    ]
    if sums:
        rows = _converted(rows, sums, float)
    if not flags:
        return iter(rows)
    return _converted(rows, flags, bool)


def _converted(
    rows: Iterable[dict[str, Any]], labels: list[str], convert: Callable[[Any], Any]
) -> Iterator[dict[str, Any]]:
    """Each row with the values under ``labels`` converted, None left as it is."""
    for row in rows:
        for label in labels:
            if row[label] is not None:
                row[label] = convert(row[label])
        yield row


def as_python_tuples(
    rows: Iterable[tuple[Any, ...]],
    groups: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
) -> Iterator[tuple[Any, ...]]:
    """:func:`as_python` and :func:`ensure_one_row` for rows that are tuples.

    Each row holds the ``groups`` fields, then the ``measures``, in order; only the
    positions that need converting are touched.
    """
    plan = list(measures.values())
    width = len(groups)
    sums = [width + i for i, m in enumerate(plan) if isinstance(m.measure, Sum)]
    flags = [i for i, (_, info) in enumerate(groups) if info.kind is FieldType.BOOL]
    flags += [
        width + i
        for i, m in enumerate(plan)
        if m.info is not None
        and m.info.kind is FieldType.BOOL
        and isinstance(m.measure, Min | Max | Latest)
    ]
    found = iter(rows)
    if not groups:
        first = next(found, None)
        empty = tuple(empty_group(measures).values())
        found = itertools.chain([empty if first is None else first], found)
    if not sums and not flags:
        return found
    return _converted_tuples(found, sums, flags)


def _converted_tuples(
    rows: Iterator[tuple[Any, ...]], sums: list[int], flags: list[int]
) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        values = list(row)
        for index in sums:
            if values[index] is not None:
                values[index] = float(values[index])
        for index in flags:
            if values[index] is not None:
                values[index] = bool(values[index])
        yield tuple(values)


def ensure_one_row(
    rows: Iterator[dict[str, Any]],
    groups: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
) -> Iterator[dict[str, Any]]:
    """Without grouping there is always one row, even over no records."""
    if groups:
        return rows
    first = next(rows, None)
    if first is not None:
        return itertools.chain([first], rows)
    return iter([empty_group(measures)])


def check_count(name: str, value: object) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= sys.maxsize
    ):
        raise ValidationError(
            f"{name} must be a whole number from 0 to {sys.maxsize}; got {shorten(value)}"
        )


def id_of(record: object) -> str:
    if isinstance(record, Record):
        return record.id
    if not isinstance(record, str) or not record:
        raise ValidationError(f"expected a record or its id; got {shorten(record)}")
    return record


def kind_name(kind: object) -> str | None:
    if kind is None:
        return None
    if isinstance(kind, type) and issubclass(kind, Record) and KINDS.get(kind.kind) is kind:
        return kind.kind
    if isinstance(kind, str) and kind in KINDS:
        return kind
    if kind is Record:
        raise ValidationError(
            "Record is what every kind has in common, not a kind; give one (Objective, "
            "Experiment, ...) or None for records of every kind"
        )
    raise ValidationError(f"unknown kind {shorten(kind)}; known kinds: {', '.join(KINDS)}")


def kind_class(kind: object) -> type[Record] | None:
    name = kind_name(kind)
    return None if name is None else KINDS[name]
