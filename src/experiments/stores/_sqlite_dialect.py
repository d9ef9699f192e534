"""How SQL reads a SQLite store's fields: its dialect for the SQL shared with PostgreSQL.

Hot fields are read from their columns of ``records``, the others from the JSON of
their version; :class:`FSum` is the exact sum the dialect names, which every
connection registers.
"""

from __future__ import annotations

import math
from typing import Any, Final

from experiments.query import FieldInfo, FieldType
from experiments.stores._indexes import LIST_FIELDS
from experiments.stores._sqlite_layout import HOT_COLUMNS

__all__ = ["DIALECT", "FSum"]


class FSum:
    """SUM as :func:`math.fsum` computes it; SQLite's own sum rounds at every step."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return math.fsum(self.values) if self.values else None


class _SQLite:
    """How SQL reads fields in SQLite: hot columns where there are, the JSON otherwise."""

    placeholder = "?"
    lateral = ""
    columns_only: str | None = "records"  # `current` joins each row to its JSON
    sum_function = "experiments_fsum"
    unlimited = "-1"

    def raw_field(self, name: str, table: str = "r") -> str:
        if name in HOT_COLUMNS:
            return f'{table}."{name}"'
        if name in ("id", "kind", "revision"):
            return f"{table}.{name}"
        return f"json_extract({table}.data, '$.\"{name}\"')"

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        # Every time and time box is hot (the assertions of hot() keep it so): the
        # JSON holds their written text, which does not sort like the instants.
        assert name in HOT_COLUMNS or info.kind not in (FieldType.DATETIME, FieldType.TIMEBOX), name
        if name in HOT_COLUMNS or name in ("id", "kind", "revision"):
            return f'{table}."{name}"'
        return self.raw_field(name, table)

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        if name in HOT_COLUMNS:
            return f'json_each({table}."{name}") AS {alias}'
        return f"json_each({table}.data, '$.\"{name}\"') AS {alias}"

    def list_contains(self, name: str, marks: str, table: str = "r") -> str:
        if name in LIST_FIELDS:  # through the index of the elements
            return (
                f"{table}.id IN (SELECT id FROM elements WHERE field = '{name}' "
                f"AND value IN ({marks}))"
            )
        elements = self.list_elements(name, "e", table)
        return f"EXISTS (SELECT 1 FROM {elements} WHERE e.value IN ({marks}))"

    def list_length(self, name: str, table: str = "r") -> str:
        if name in HOT_COLUMNS:
            return f'json_array_length({table}."{name}")'
        return f"json_array_length({table}.data, '$.\"{name}\"')"

    def false(self) -> str:
        return "0"

    def narrow(self, comparison: str) -> str:
        return f"likelihood({comparison}, 0.05)"  # a hint; SQLite still compares as written

    def order(self, expression: str, *, descending: bool) -> str:
        # SQLite sorts NULL first ascending and last descending: what we promise.
        return f"{expression} DESC" if descending else expression

    def latest_key(self, time: str, id: str) -> str | None:  # noqa: A002 - the id column
        # A time's UTC text sorts as the instant; the separator, below any character of
        # it, keeps a shorter text first; the "0"/"1" puts a missing time last.
        latest = f"'1' || {time} || char(1) || {id}"
        return f"CASE WHEN {time} IS NULL THEN '0' || {id} ELSE {latest} END"

    def parameter(self, info: FieldInfo, value: Any) -> Any:
        return value


DIALECT: Final = _SQLite()
