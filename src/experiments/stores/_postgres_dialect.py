"""How SQL reads a PostgreSQL store's fields: its dialect for the SQL shared with SQLite.

Queries and aggregation read the ``doc`` column, the ``jsonb`` copy of each record
that ``_postgres_layout`` keeps (times as their UTC key, floats exact);
:func:`converters` turns what the engine answers (exact decimals, JSON text) into what
the Python fallback computes.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from typing import Any, Final

from experiments.model._time import UTC_WIDTH
from experiments.query import BoundMeasure, Count, CountDistinct, FieldInfo, FieldType, Latest, Sum

__all__ = ["DIALECT", "converters"]


def _number(value: decimal.Decimal) -> int | float:
    """A numeric from the query copy as the int or float it was stored as."""
    return int(value) if int(value.as_tuple().exponent) >= 0 else float(value)


class _PostgreSQL:
    """How SQL reads fields out of the ``doc`` column in PostgreSQL.

    Text compares under the "C" collation, which is code point order in UTF-8, as in
    Python; numbers compare as exact ``numeric``; booleans as 0 and 1 (PostgreSQL has
    no MIN or MAX of booleans).
    """

    placeholder = "%s"
    lateral = "LATERAL "
    columns_only: str | None = None  # one table, which holds the jsonb
    sum_function = "SUM"  # over numeric: exact
    unlimited = "ALL"

    def raw_field(self, name: str, table: str = "r") -> str:
        # JSON text of the value, decoded in Python: there is no MAX(jsonb).
        return f"(({table}.doc -> '{name}')::text)"

    def latest_key(self, time: str, id: str) -> str | None:  # noqa: A002 - the id column
        return None  # no column is taken from the row of a MAX(): a window numbers them

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        if name == "id":
            return f"{table}.id"
        if name == "kind":
            return f"{table}.kind"
        text = f"({table}.doc ->> '{name}')"
        if info.kind is FieldType.NUMBER:
            return f"({text}::numeric)"
        if info.kind is FieldType.BOOL:
            return f"({text}::boolean::integer)"
        if info.kind is FieldType.DATETIME:
            # The copy holds the time's UTC key (_postgres_layout.query_copy): this is that key.
            return f'(left({text}, {UTC_WIDTH}) COLLATE "C")'
        return f'({text} COLLATE "C")'

    def _array(self, name: str, table: str) -> str:
        value = f"{table}.doc -> '{name}'"
        return f"(CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} END)"

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        return f"jsonb_array_elements_text({self._array(name, table)}) AS {alias}(value)"

    def list_contains(self, name: str, marks: str, table: str = "r") -> str:
        # "?|" is what a GIN index of the list answers; the second clause keeps the
        # condition two-valued where the record has no such list.
        value = f"{table}.doc -> '{name}'"
        return (
            f"({value} ?| ARRAY[{marks}]::text[] "
            f"AND COALESCE(jsonb_typeof({value}) = 'array', FALSE))"
        )

    def list_length(self, name: str, table: str = "r") -> str:
        return f"jsonb_array_length({self._array(name, table)})"

    def false(self) -> str:
        return "FALSE"

    def narrow(self, comparison: str) -> str:
        return comparison  # its planner weighs a range by its own estimate

    def order(self, expression: str, *, descending: bool) -> str:
        return f"{expression} DESC NULLS LAST" if descending else f"{expression} ASC NULLS FIRST"

    def parameter(self, info: FieldInfo, value: Any) -> Any:
        # As the query copy holds them: numbers as exact decimals, booleans as 0 and 1.
        if info.kind is FieldType.NUMBER:
            return decimal.Decimal(value)
        if info.kind is FieldType.BOOL:
            return int(value)
        return value


DIALECT: Final = _PostgreSQL()


_Converter = Callable[[Any], Any]


def converters(
    group_by: list[tuple[str, FieldInfo]], measures: dict[str, BoundMeasure]
) -> list[tuple[int, _Converter]]:
    """The columns of an aggregate that need converting to what the fallback computes.

    Only numbers, sums and latest values do; the rest comes back as stored.
    """
    found = [_group_converter(info) for _, info in group_by]
    found += [_measure_converter(m) for m in measures.values()]
    return [(index, convert) for index, convert in enumerate(found) if convert is not None]


def _group_converter(info: FieldInfo) -> _Converter | None:
    """How a group key comes back as stored: numbers as the int or float they were."""
    return _number if info.kind is FieldType.NUMBER else None


def _measure_converter(measure: BoundMeasure) -> _Converter | None:
    """How a measure from SQL becomes what the Python fallback computes."""
    kind = measure.measure
    if isinstance(kind, Sum):
        return float
    if isinstance(kind, Latest):
        return json.loads
    if isinstance(kind, Count | CountDistinct):
        return None
    assert measure.info is not None
    return _group_converter(measure.info)
