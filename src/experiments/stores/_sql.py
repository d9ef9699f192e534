"""Filters, ordering and aggregation as SQL over a table of JSON documents.

Shared by the SQLite and PostgreSQL backends.  A dialect says how to read a field out
of the JSON column, how to unnest a list and whether one ``MAX()`` can pick each
group's latest row (SQLite's) or a window must number them; everything else is the
same SQL.  The meaning must equal the Python fallback in :mod:`experiments.query`
exactly: comparisons with a missing value are false, ``None`` sorts first, ties go by
id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from experiments.query import (
    All,
    AnyOf,
    Bound,
    BoundExpr,
    BoundMeasure,
    Count,
    CountDistinct,
    FieldInfo,
    FieldType,
    Latest,
    Max,
    Min,
    Not,
    Op,
    Order,
    Sum,
)

__all__ = ["Dialect", "aggregate_sql", "select_sql", "where_sql"]


class Dialect(Protocol):
    placeholder: str
    """The parameter marker: ``?`` or ``%s``."""

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        """SQL for the comparable value of a scalar field."""

    def raw_field(self, name: str, table: str = "r") -> str:
        """SQL for the stored value of a field, as JSON scalar (text, number, boolean)."""

    lateral: str
    """What goes before a table function joined to the row it unnests: "" or "LATERAL "."""
    columns_only: str | None
    """A table of the records' columns without their JSON, which an aggregation that
    reads no JSON reads instead of the one it is given (so that an index holding every
    column it reads answers it alone); None where there is no such table."""
    sum_function: str
    """An aggregate that sums exactly, rounding once, as :func:`math.fsum` does."""

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        """A FROM item of the elements of a list field, named ``alias``, column ``value``."""

    def list_contains(self, name: str, marks: str, table: str = "r") -> str:
        """A condition, never NULL, that a list field holds one of the values ``marks``
        stand for (a filter's parameters)."""

    def list_length(self, name: str, table: str = "r") -> str:
        """SQL for the number of elements of a list field (NULL when absent)."""

    def false(self) -> str:
        """SQL for a false condition."""

    def narrow(self, comparison: str) -> str:
        """A range comparison, weighed by the planner as matching few records.

        A range filter mostly asks for a slice (the last week's measurements); a
        planner without statistics of the values may take it for a quarter of the kind.
        """

    def order(self, expression: str, *, descending: bool) -> str:
        """ORDER BY term with NULLs first when ascending and last when descending."""

    def latest_key(self, time: str, id: str) -> str | None:  # noqa: A002 - the id column
        """An expression whose greatest value is in the row with the latest ``time`` (NULL
        last, ties by ``id``), where the engine takes a query's other columns from the row
        holding its single ``MAX()``; None where it does not."""

    unlimited: str
    """What LIMIT takes to mean "no limit", for an OFFSET without one: "-1" or "ALL"."""

    def parameter(self, info: FieldInfo, value: Any) -> Any:
        """A filter's value (never None) as the engine compares it with the field."""


def where_sql(dialect: Dialect, expr: BoundExpr | None, table: str = "r") -> tuple[str, list[Any]]:
    """A two-valued SQL condition (never NULL) for a bound filter, and its parameters."""
    if expr is None:
        return "1=1", []
    if isinstance(expr, Bound):
        return _condition(dialect, expr, table)
    if isinstance(expr, All | AnyOf):
        if not expr.parts:
            return ("1=1", []) if isinstance(expr, All) else (dialect.false(), [])
        joiner = " AND " if isinstance(expr, All) else " OR "
        parts, params = [], []
        for part in expr.parts:
            sql, values = where_sql(dialect, part, table)  # type: ignore[arg-type]
            parts.append(f"({sql})")
            params.extend(values)
        return joiner.join(parts), params
    if isinstance(expr, Not):
        sql, params = where_sql(dialect, expr.part, table)  # type: ignore[arg-type]
        return f"NOT ({sql})", params
    raise TypeError(f"not a bound filter: {expr!r}")


def _marks(dialect: Dialect, count: int) -> str:
    return ", ".join([dialect.placeholder] * count)


def _condition(dialect: Dialect, bound: Bound, table: str) -> tuple[str, list[Any]]:
    bound = _parameters(dialect, bound)
    if bound.info.empty_when_none:
        return _list_condition(dialect, bound, table)
    column = dialect.field(bound.field, bound.info, table)
    if bound.op in (Op.IN, Op.NOT_IN):
        return _membership(dialect, column, bound)
    return _comparison(dialect, column, bound)


def _parameters(dialect: Dialect, bound: Bound) -> Bound:
    """``bound`` with its values as the engine compares them (None stays None)."""
    if bound.value is None:
        return bound
    if isinstance(bound.value, tuple):
        value = tuple(v if v is None else dialect.parameter(bound.info, v) for v in bound.value)
    else:
        value = dialect.parameter(bound.info, bound.value)
    return Bound(bound.field, bound.info, bound.op, value)


def _list_condition(dialect: Dialect, bound: Bound, table: str) -> tuple[str, list[Any]]:
    """A list field: ``=`` and ``in`` ask whether it holds a value, None whether it is empty."""
    empty = f"COALESCE({dialect.list_length(bound.field, table)}, 0) = 0"
    if bound.value is None:
        return (empty, []) if bound.op is Op.EQ else (f"NOT ({empty})", [])
    if bound.op in (Op.IN, Op.NOT_IN):
        values, with_none = bound.members()
    else:
        values, with_none = [bound.value], False
    holds = _holds_any(dialect, bound.field, values, table)
    if bound.op in (Op.EQ, Op.IN):
        return (f"({holds} OR {empty})" if with_none else holds), values
    if with_none:
        return f"(NOT {holds} AND NOT ({empty}))", values
    return f"NOT {holds}", values


def _holds_any(dialect: Dialect, field: str, values: list[Any], table: str) -> str:
    """SQL for: the list field holds at least one of ``values``."""
    if not values:
        return dialect.false()
    return dialect.list_contains(field, _marks(dialect, len(values)), table)


def _membership(dialect: Dialect, column: str, bound: Bound) -> tuple[str, list[Any]]:
    """A scalar field ``in`` / ``not in`` a list, where None in an ``in`` list means unset."""
    values, with_none = bound.members()
    if bound.op is Op.NOT_IN:  # leaves out records without a value, None listed or not
        if not values:
            return f"{column} IS NOT NULL", []
        return f"COALESCE({column} NOT IN ({_marks(dialect, len(values))}), FALSE)", values
    # Two-valued like COALESCE(..., FALSE), as the values are never NULL, and written so
    # that a planner can serve it from an index on the field.
    inside = (
        f"({column} IN ({_marks(dialect, len(values))}) AND {column} IS NOT NULL)" if values else ""
    )
    if with_none:
        inside = f"({column} IS NULL OR {inside})" if inside else f"{column} IS NULL"
    return inside or dialect.false(), values


def _comparison(dialect: Dialect, column: str, bound: Bound) -> tuple[str, list[Any]]:
    """A scalar field compared with one value; ``= None`` and ``!= None`` ask if it is set."""
    if bound.value is None:
        return (f"{column} IS NULL", []) if bound.op is Op.EQ else (f"{column} IS NOT NULL", [])
    op = "<>" if bound.op is Op.NE else bound.op.value
    comparison = f"{column} {op} {dialect.placeholder}"
    if bound.op in (Op.LT, Op.LE, Op.GT, Op.GE):
        comparison = dialect.narrow(comparison)
    # Two-valued like COALESCE(..., FALSE), since the value is never NULL here, but
    # written so that a planner can serve it from an index on the field.
    return f"({comparison} AND {column} IS NOT NULL)", [bound.value]


def order_sql(dialect: Dialect, orders: Sequence[Order], table: str = "r") -> str:
    terms = [
        dialect.order(dialect.field(o.field, o.info, table), descending=o.descending)
        for o in orders
    ]
    terms.append(f"{table}.id")
    return ", ".join(terms)


def select_sql(
    dialect: Dialect,
    source: str,
    kind: str | None,
    where: BoundExpr | None,
    orders: Sequence[Order],
    limit: int | None,
    offset: int,
    include_deleted: bool,
) -> tuple[str, list[Any]]:
    """SELECT of the current data of matching records, ordered, limited."""
    conditions, params = _conditions(dialect, kind, where, include_deleted)
    query = (
        f"SELECT r.data FROM {source} r WHERE {conditions} ORDER BY {order_sql(dialect, orders)}"
    )
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    if offset:
        query += (
            f" OFFSET {int(offset)}"
            if limit is not None
            else f" LIMIT {dialect.unlimited} OFFSET {int(offset)}"
        )
    return query, params


def _conditions(
    dialect: Dialect, kind: str | None, where: BoundExpr | None, include_deleted: bool
) -> tuple[str, list[Any]]:
    """The WHERE clause of a query: the kind, deleted records left out or not, the filter."""
    conditions: list[str] = []
    params: list[Any] = []
    if kind is not None:
        conditions.append(f"r.kind = {dialect.placeholder}")
        params.append(kind)
    if not include_deleted:
        conditions.append("r.deleted = 0")
    sql, values = where_sql(dialect, where)
    conditions.append(f"({sql})")
    params.extend(values)
    return " AND ".join(conditions), params


def aggregate_sql(
    dialect: Dialect,
    source: str,
    kind: str | None,
    where: BoundExpr | None,
    group_by: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
    include_deleted: bool,
) -> tuple[str, list[Any], list[str]]:
    """Grouped measures as SQL; returns the query, its parameters and the column labels.

    The innermost query reads one row per record (per element of a list field grouped
    on) with the group keys ``k0, k1, ...`` and the measured values ``v0, v1, ...``; a
    ranking ``n<i>`` is added for each order a :class:`~experiments.query.Latest` uses;
    the outer query groups by the keys and aggregates, or, when every measure is a latest
    value by one order, keeps the first row of each group. Where the dialect has a
    ``latest_key``, latest values by one time are read from the row holding
    each group's ``MAX()`` of it instead, without the ranking.
    """
    conditions, params = _conditions(dialect, kind, where, include_deleted)
    joins, keys = _group_keys(dialect, group_by)
    values, results, rankings = _measure_columns(dialect, measures)
    if dialect.columns_only is not None and ".data" not in " ".join(
        [conditions, *joins, *keys, *values]
    ):
        source = dialect.columns_only
    rows = f"FROM {source} r {' '.join(joins)} WHERE {conditions}"
    labels = [name for name, _ in group_by] + list(measures)
    if not measures and any(name == "id" for name, _ in group_by):
        # Grouping by id gives every record its own group (one per element of a list
        # field, whose elements are distinct): a plain projection, without the sort.
        return f"SELECT {', '.join(keys)} {rows}", params, labels
    key_names = [f"k{index}" for index in range(len(keys))]
    columns = [f"{key} AS {name}" for key, name in zip(keys, key_names, strict=True)] + values
    inner = f"SELECT {', '.join(columns) or 'NULL AS k_'} {rows}"
    return _grouped(dialect, inner, key_names, measures, results, rankings), params, labels


def _grouped(
    dialect: Dialect,
    inner: str,
    key_names: list[str],
    measures: dict[str, BoundMeasure],
    results: list[str],
    rankings: list[int],
) -> str:
    """The query grouping the rows of ``inner`` by ``key_names`` into the measures."""
    if key_names and len(rankings) == 1:
        key = dialect.latest_key(f"b{rankings[0]}", f"i{rankings[0]}")
        picked = None if key is None else _latest_by_max(measures, rankings[0], results)
        if picked is not None:
            named = [f"{sql} AS m{index}" for index, sql in enumerate(picked)]
            # The outer query reads no latest_; SQLite keeps every column of an aggregate
            # subquery all the same, and that MAX() is what picks the row the others are.
            grouped = ", ".join([*key_names, *named, f"MAX({key}) AS latest_"])
            return (
                f"SELECT {', '.join(key_names + [f'm{i}' for i in range(len(picked))])} "
                f"FROM (SELECT {grouped} FROM ({inner}) AS grouped_input "
                f"GROUP BY {', '.join(key_names)}) AS latest_rows"
            )
    if rankings:
        partition = ", ".join(key_names) or "NULL"
        windows = ", ".join(_ranking(dialect, partition, index) for index in rankings)
        inner = f"SELECT *, {windows} FROM ({inner}) AS ranked_input"
    only_latest = all(isinstance(m.measure, Latest) for m in measures.values())
    if key_names and len(rankings) == 1 and only_latest:
        # Only latest values, all by one order: each group's first row holds them, picked
        # out without grouping (and sorting) the rows a second time.
        latest = [f"v{index}" for index in range(len(measures))]
        return (
            f"SELECT {', '.join(key_names + latest)} FROM ({inner}) AS grouped_input "
            f"WHERE n{rankings[0]} = 1"
        )
    query = f"SELECT {', '.join(key_names + results)} FROM ({inner}) AS grouped_input"
    if key_names:
        query += f" GROUP BY {', '.join(key_names)}"
    return query


def _group_keys(
    dialect: Dialect, group_by: list[tuple[str, FieldInfo]]
) -> tuple[list[str], list[str]]:
    """The joins that unnest list fields grouped on, and the SQL of each group key."""
    joins: list[str] = []
    keys: list[str] = []
    for index, (name, info) in enumerate(group_by):
        if info.kind is FieldType.LIST:
            alias = f"g{index}"
            joins.append(f"LEFT JOIN {dialect.lateral}{dialect.list_elements(name, alias)} ON TRUE")
            keys.append(f"{alias}.value")
        else:
            keys.append(dialect.field(name, info))
    return joins, keys


def _measure_columns(
    dialect: Dialect, measures: dict[str, BoundMeasure]
) -> tuple[list[str], list[str], list[int]]:
    """What each measure reads per row, what it computes per group, and the rankings.

    Latest values ordered by the same field share one ranking (one sort, not several),
    named by the index of the first measure that orders by it.
    """
    values: list[str] = []
    results: list[str] = []
    rankings: dict[str, int] = {}
    for index, measure in enumerate(measures.values()):
        kind_of = measure.measure
        value = f"v{index}"
        if isinstance(kind_of, Count):
            results.append("COUNT(*)")
            continue
        assert measure.field is not None
        assert measure.info is not None
        if isinstance(kind_of, Latest):
            assert measure.by is not None
            assert measure.by_info is not None
            values.append(f"{dialect.raw_field(measure.field)} AS {value}")
            rank = rankings.setdefault(measure.by, index)
            if rank == index:
                values.append(f"{dialect.field(measure.by, measure.by_info)} AS b{index}")
                values.append(f"r.id AS i{index}")
            results.append(f"MAX(CASE WHEN n{rank} = 1 THEN {value} END)")
            continue
        values.append(f"{dialect.field(measure.field, measure.info)} AS {value}")
        results.append(_aggregate(dialect, kind_of, value))
    return values, results, list(rankings.values())


def _aggregate(dialect: Dialect, kind_of: CountDistinct | Sum | Min | Max, value: str) -> str:
    """The SQL aggregate of a measure over the column ``value``."""
    if isinstance(kind_of, CountDistinct):
        return f"COUNT(DISTINCT {value})"
    if isinstance(kind_of, Sum):
        return f"{dialect.sum_function}({value})"
    if isinstance(kind_of, Min):
        return f"MIN({value})"
    if isinstance(kind_of, Max):
        return f"MAX({value})"
    raise TypeError(kind_of)  # pragma: no cover - bind_measures admits nothing else


def _latest_by_max(
    measures: dict[str, BoundMeasure], rank: int, results: list[str]
) -> list[str] | None:
    """Each measure's SQL when one ``MAX()`` picks every group's latest row, or None.

    That takes one pass over the rows in the order of the groups (an index's, often),
    where numbering the rows of each group by time takes a window and a sort. It needs
    an engine that takes the other columns of the row holding the single ``MAX()`` of a
    query (``Dialect.latest_key``), latest values by a time, and no other minimum or
    maximum but of that time (which the latest row holds).
    """
    ranking = list(measures.values())[rank]
    if ranking.by_info is None or ranking.by_info.kind is not FieldType.DATETIME:
        return None
    picked = list(results)
    for index, measure in enumerate(measures.values()):
        if isinstance(measure.measure, Latest) or (
            isinstance(measure.measure, Max) and measure.field == ranking.by
        ):
            picked[index] = f"v{index}"
        elif isinstance(measure.measure, Min | Max):
            return None
    return picked


def _ranking(dialect: Dialect, partition: str, index: int) -> str:
    """``n<index>``: 1 for the row of its group with the latest ``b<index>``, ties by id."""
    return (
        f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY "
        f"{dialect.order(f'b{index}', descending=True)}, i{index} DESC) AS n{index}"
    )
