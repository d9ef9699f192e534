"""Queries and aggregation over a store: checked against the kind, then computed.

A filter, an order, groups and measures are bound to the kind's fields (an unknown
field is refused before anything is read), then handed to the backend's engine
(``_select``, ``_aggregate``, ``_aggregate_tuples``); a backend that answers None, or a
caller who asks for no pushdown, gets the Python fallback of
:mod:`experiments.stores._results`, with the same results.  ``Store.select_data``,
``Store.count``, ``Store.aggregate`` and ``Store.aggregate_tuples`` are these functions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from experiments.query import (
    Count,
    Expr,
    Measure,
    aggregate_rows,
    bind,
    bind_group_by,
    bind_measures,
    combine,
    parse_order,
    refuse_oracle,
)
from experiments.stores._results import (
    as_python,
    as_python_tuples,
    check_count,
    current,
    ensure_one_row,
    fallback_select,
    kind_name,
)
from experiments.stores.backend import Grouping, Selection

if TYPE_CHECKING:
    from experiments.model import Record
    from experiments.stores.base import Store

__all__ = [
    "aggregate",
    "aggregate_tuples",
    "bind_aggregation",
    "count",
    "select_data",
]


def select_data(
    store: Store,
    kind: type[Record] | str | None,
    where: Expr | str | None,
    filters: Mapping[str, object],
    order_by: str | Sequence[str] | None,
    limit: int | None,
    offset: int,
    include_deleted: bool,
    pushdown: bool,
) -> Iterator[Mapping[str, Any]]:
    """The stored data of the records of ``kind`` that match, as ``Store.select_data``."""
    name = kind_name(kind)
    bound = bind(name, combine(where, filters))
    orders = parse_order(name, order_by)
    refuse_oracle(name, bound, (order.field for order in orders))
    check_count("limit", limit)
    check_count("offset", offset)
    selection = Selection(name, bound, orders, limit, offset, include_deleted)
    if pushdown:
        rows = store._select(selection)  # noqa: SLF001 - the engine's own query
        if rows is not None:
            return rows
    return fallback_select(store, selection)


def count(
    store: Store,
    kind: type[Record] | str | None,
    where: Expr | str | None,
    filters: Mapping[str, object],
    include_deleted: bool,
) -> int:
    """How many records of ``kind`` match, as ``Store.count``."""
    name = kind_name(kind)
    bound = bind(name, combine(where, filters))
    refuse_oracle(name, bound)
    plan = bind_measures(name, {"n": Count()})
    rows = list(_grouped(store, Grouping(name, bound, [], plan, include_deleted), pushdown=True))
    return int(rows[0]["n"]) if rows else 0


def aggregate(store: Store, grouping: Grouping, pushdown: bool) -> Iterator[dict[str, Any]]:
    """Rows of groups and their measures, as ``Store.aggregate``."""
    return _grouped(store, grouping, pushdown=pushdown)


def aggregate_tuples(store: Store, grouping: Grouping, pushdown: bool) -> Iterator[tuple[Any, ...]]:
    """:func:`aggregate`'s rows as tuples, as ``Store.aggregate_tuples``."""
    if pushdown:
        rows = store._aggregate_tuples(grouping)  # noqa: SLF001 - the engine's own aggregation
        if rows is not None:
            return as_python_tuples(rows, grouping.group_by, grouping.measures)
    labels = [label for label, _ in grouping.group_by] + list(grouping.measures)
    found = _grouped(store, grouping, pushdown=pushdown)
    return (tuple([row[label] for label in labels]) for row in found)


def bind_aggregation(
    kind: type[Record] | str | None,
    group_by: str | Sequence[str],
    measures: Mapping[str, Measure] | None,
    where: Expr | None,
    include_deleted: bool,
) -> Grouping:
    """An aggregation's kind, filter, groups and measures, checked against the kind."""
    name = kind_name(kind)
    bound = bind(name, where)
    groups = bind_group_by(name, group_by)
    plan = bind_measures(name, measures if measures is not None else {"count": Count()})
    refuse_oracle(
        name,
        bound,
        (label for label, _ in groups),
        (m.field for m in plan.values() if m.field is not None),
        (m.by for m in plan.values() if m.by is not None),
    )
    return Grouping(name, bound, groups, plan, include_deleted)


def _grouped(store: Store, grouping: Grouping, *, pushdown: bool) -> Iterator[dict[str, Any]]:
    name, bound, groups, plan, include_deleted = grouping
    if pushdown:
        rows = store._aggregate(grouping)  # noqa: SLF001 - the engine's own aggregation
        if rows is not None:
            return ensure_one_row(as_python(rows, groups, plan), groups, plan)
    computed = aggregate_rows(current(store, name, bound, include_deleted), groups, plan)
    return ensure_one_row(iter(computed), groups, plan)
