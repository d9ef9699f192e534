"""Filters, ordering and aggregation as SQL over a table of JSON documents.

Shared by the SQLite and PostgreSQL backends.  A dialect says how to read a field out
of the JSON column and how to unnest a list; everything else is the same SQL.  The
meaning must equal the Python fallback in :mod:`experiments.query` exactly: comparisons
with a missing value are false, ``None`` sorts first, ties go by id.
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

    unlimited: str
    """What LIMIT takes to mean "no limit", for an OFFSET without one: "-1" or "ALL"."""


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
    p = dialect.placeholder
    membership = bound.op in (Op.IN, Op.NOT_IN)
    values = [v for v in bound.value if v is not None] if membership else []
    with_none = membership and None in bound.value
    if bound.info.kind is FieldType.LIST:
        length = dialect.list_length(bound.field, table)
        empty = f"COALESCE({length}, 0) = 0"
        if bound.value is None:
            return (empty, []) if bound.op is Op.EQ else (f"NOT ({empty})", [])
        if not membership:
            values = [bound.value]
        exists = (
            dialect.list_contains(bound.field, _marks(dialect, len(values)), table)
            if values
            else dialect.false()
        )
        if bound.op in (Op.EQ, Op.IN):
            return (f"({exists} OR {empty})" if with_none else exists), values
        if with_none:
            return f"(NOT {exists} AND NOT ({empty}))", values
        return f"NOT {exists}", values
    column = dialect.field(bound.field, bound.info, table)
    if bound.op is Op.IN:
        # Two-valued like COALESCE(..., FALSE), as the values are never NULL, and
        # written so that a planner can serve it from an index on the field.
        inside = (
            f"({column} IN ({_marks(dialect, len(values))}) AND {column} IS NOT NULL)"
            if values
            else ""
        )
        if with_none:
            inside = f"({column} IS NULL OR {inside})" if inside else f"{column} IS NULL"
        return inside or dialect.false(), values
    if bound.op is Op.NOT_IN:
        if not values:
            return f"{column} IS NOT NULL", []
        return f"COALESCE({column} NOT IN ({_marks(dialect, len(values))}), FALSE)", values
    if bound.value is None:
        return (f"{column} IS NULL", []) if bound.op is Op.EQ else (f"{column} IS NOT NULL", [])
    op = "<>" if bound.op is Op.NE else bound.op.value
    comparison = f"{column} {op} {p}"
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
    conditions, params = _scope(dialect, kind, include_deleted)
    sql, values = where_sql(dialect, where)
    conditions.append(f"({sql})")
    params.extend(values)
    query = (
        f"SELECT r.data FROM {source} r WHERE {' AND '.join(conditions)} "
        f"ORDER BY {order_sql(dialect, orders)}"
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


def _scope(
    dialect: Dialect, kind: str | None, include_deleted: bool
) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    params: list[Any] = []
    if kind is not None:
        conditions.append(f"r.kind = {dialect.placeholder}")
        params.append(kind)
    if not include_deleted:
        conditions.append("r.deleted = 0")
    return conditions, params


def aggregate_sql(
    dialect: Dialect,
    source: str,
    kind: str | None,
    where: BoundExpr | None,
    group_by: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
    include_deleted: bool,
) -> tuple[str, list[Any], list[str]]:
    """Grouped measures as SQL; returns the query, its parameters and the column labels."""
    conditions, params = _scope(dialect, kind, include_deleted)
    sql, values = where_sql(dialect, where)
    conditions.append(f"({sql})")
    params.extend(values)
    joins: list[str] = []
    group_columns: list[str] = []
    for index, (name, info) in enumerate(group_by):
        if info.kind is FieldType.LIST:
            alias = f"g{index}"
            joins.append(f"LEFT JOIN {dialect.lateral}{dialect.list_elements(name, alias)} ON TRUE")
            group_columns.append(f"{alias}.value")
        else:
            group_columns.append(dialect.field(name, info))
    labels = [name for name, _ in group_by] + list(measures)
    if not measures and any(name == "id" for name, _ in group_by):
        # Grouping by id gives every record its own group (one per element of a list
        # field, whose elements are distinct): a plain projection, without the sort.
        columns = ", ".join(group_columns)
        query = (
            f"SELECT {columns} FROM {source} r {' '.join(joins)} WHERE {' AND '.join(conditions)}"
        )
        return query, params, labels
    inner_columns = [f"{column} AS k{index}" for index, column in enumerate(group_columns)]
    partition = ", ".join(f"k{i}" for i in range(len(group_columns))) or "NULL"
    outer: list[str] = []
    # Latest values ordered by the same field share one ranking (one sort, not several).
    ranking: dict[str, int] = {}
    for index, measure in enumerate(measures.values()):
        kind_of = measure.measure
        value = f"v{index}"
        if isinstance(kind_of, Count):
            outer.append("COUNT(*)")
            continue
        assert measure.field is not None
        assert measure.info is not None
        if isinstance(kind_of, Latest):
            assert measure.by is not None
            assert measure.by_info is not None
            inner_columns.append(f"{dialect.raw_field(measure.field)} AS {value}")
            rank = ranking.setdefault(measure.by, index)
            if rank == index:
                inner_columns.append(f"{dialect.field(measure.by, measure.by_info)} AS b{index}")
                inner_columns.append(f"r.id AS i{index}")
            outer.append(f"MAX(CASE WHEN n{rank} = 1 THEN {value} END)")
            continue
        inner_columns.append(f"{dialect.field(measure.field, measure.info)} AS {value}")
        if isinstance(kind_of, CountDistinct):
            outer.append(f"COUNT(DISTINCT {value})")
        elif isinstance(kind_of, Sum):
            outer.append(f"{dialect.sum_function}({value})")
        elif isinstance(kind_of, Min):
            outer.append(f"MIN({value})")
        elif isinstance(kind_of, Max):
            outer.append(f"MAX({value})")
        else:  # pragma: no cover - bind_measures admits nothing else
            raise TypeError(kind_of)
    ranked = ""
    window_columns = [
        f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY "
        f"{dialect.order(f'b{index}', descending=True)}, i{index} DESC) AS n{index}"
        for index in ranking.values()
    ]
    inner = (
        f"SELECT {', '.join(inner_columns) or 'NULL AS k_'} FROM {source} r {' '.join(joins)} "
        f"WHERE {' AND '.join(conditions)}"
    )
    if window_columns:
        ranked = f"SELECT *, {', '.join(window_columns)} FROM ({inner}) AS ranked_input"
        inner = ranked
    group_list = ", ".join(f"k{i}" for i in range(len(group_columns)))
    select_list = [f"k{i}" for i in range(len(group_columns))] + outer
    query = f"SELECT {', '.join(select_list)} FROM ({inner}) AS grouped_input"
    if group_list:
        query += f" GROUP BY {group_list}"
    return query, params, labels
