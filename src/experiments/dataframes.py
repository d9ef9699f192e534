"""Records, the roll-up's tables and measurement series as pandas or polars DataFrames.

``pip install "strategy-experiments[dataframes]"`` brings pandas and polars; this
module imports them only when a DataFrame is made, and says which extra to install
when one is missing.  Columns are typed the same way for both libraries: times as
time-zone-aware datetimes in UTC, enumerations (status, stance, verdict, ...) as
categoricals of every value the model knows, numbers as floats (whole numbers as
integers), booleans as booleans, lists as lists, structured fields as JSON text.
A pseudonymous participant's name and slug are missing, as everywhere a participant
is shown.

What becomes a DataFrame:

- records, e.g. a query's results: one row per record, its columns those of the
  kind's SQL view (``id``, then each field but ``deleted_at``; a time box's start and
  end after it), see docs/sql.md;
- a measurement series is the records of a query of measurements, e.g.
  ``store.query(Measurement, metric="visits", order_by="measured_at")``;
- a :class:`~experiments.rollup.Rollup`, one of its tables: ``experiments``,
  ``key_results``, ``candidates`` or ``participation`` (see :data:`TABLES`).
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from experiments.errors import MissingExtraError, ValidationError
from experiments.model import (
    KINDS,
    Evidence,
    ExperimentStatus,
    Involvement,
    Outcome,
    Participant,
    Record,
)
from experiments.model.asof import time_box_end, time_box_start
from experiments.query import FieldType, field_types
from experiments.serialization import to_data
from experiments.stores._views import Column, view_columns

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from experiments.rollup import InvolvementProfile, Rollup

__all__ = ["TABLES", "to_pandas", "to_polars"]

#: The tables of a roll-up that become DataFrames, and what each row is.
TABLES: Final = {
    "experiments": "one experiment of the roll-up's scope, with its facts at the moment",
    "key_results": "one key result of an objective, with its latest value and progress",
    "candidates": "one hypothesis ready to magnify, best first",
    "participation": "one objective (and the whole scope, last) with who was let in",
}

Library = Literal["pandas", "polars"]


class _Column(NamedTuple):
    """A column of a table: its name, what it holds, and its values in row order."""

    name: str
    type: FieldType
    cells: list[Any]
    categories: tuple[str, ...] = ()
    integer: bool = False


def _library(name: Library) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise MissingExtraError(
            f"DataFrames need {name}, which is not installed; install the extra: "
            "pip install 'strategy-experiments[dataframes]'"
        ) from None


# --- tables ----------------------------------------------------------------------------


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    utc = value.astimezone(dt.UTC)
    return dt.datetime(  # a plain stdlib datetime, which both libraries read fastest
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, dt.UTC
    )


def _cell(value: Any, kind: FieldType) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if kind is FieldType.DATETIME:
        return _utc(value)
    if kind is FieldType.DATE:
        return dt.date(value.year, value.month, value.day)
    if kind is FieldType.LIST:
        return sorted(value) if isinstance(value, frozenset) else list(value)
    if kind is FieldType.TIMEBOX:
        return str(value)
    return value


def _records_table(records: Iterable[Record], kind: str | None) -> list[_Column]:
    rows = list(records)
    kind = _one_kind(rows, kind)
    if kind is None:
        return []
    infos = field_types(kind)
    columns = []
    for column in view_columns(kind):
        values = _column_values(rows, column)
        if kind == Participant.kind:
            values = [
                None if r.hides(column.name) else v  # type: ignore[attr-defined]
                for r, v in zip(rows, values, strict=True)
            ]
        enum_class = infos[column.name].enum if column.name in infos else None
        categories = tuple(str(m.value) for m in enum_class) if enum_class else ()
        columns.append(_Column(column.name, column.type, values, categories, column.integer))
    return columns


def _one_kind(rows: list[Record], kind: str | None) -> str | None:
    """The one kind of ``rows`` (``kind`` if given); None for no rows of no given kind."""
    kinds = {record.kind for record in rows}
    if kind is None and len(kinds) == 1:
        return kinds.pop()
    if kind is None and not rows:
        return None
    if kind is None or kinds - {kind}:
        found = ", ".join(sorted(kinds | ({kind} if kind else set())))
        raise ValidationError(
            f"a DataFrame holds records of one kind; these are of {found}: query one kind at a time"
        )
    return kind


def _column_values(rows: list[Record], column: Column) -> list[Any]:
    """The cells of one column of the kind's view, a row per record."""
    if column.name in ("time_box_start", "time_box_end"):
        return [_bound(record, column.name) for record in rows]
    if column.type is FieldType.OTHER:
        return [_json(to_data(record).get(column.name)) for record in rows]
    return [_cell(getattr(record, column.name), column.type) for record in rows]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _bound(record: Record, name: str) -> dt.datetime | None:
    box = getattr(record, "time_box", None)
    if box is None:
        return None
    started = getattr(record, "started_at", None)
    if name == "time_box_start":
        return _utc(time_box_start(box.start, started))
    return _utc(time_box_end(box.start, box.duration, started))


def _categories(kind: type[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in kind)


def _table(
    rows: Sequence[Any], spec: Sequence[tuple[str, FieldType, Callable[[Any], Any], Any]]
) -> list[_Column]:
    """Columns from rows: (name, type, how to read it from a row, enum class or int)."""
    columns = []
    for name, kind, read, extra in spec:
        is_enum = isinstance(extra, type) and issubclass(extra, enum.Enum)
        categories = _categories(extra) if is_enum else ()
        values = [_cell(read(row), kind) for row in rows]
        columns.append(_Column(name, kind, values, categories, extra is int))
    return columns


def _experiments(result: Rollup) -> list[_Column]:
    view = result.view
    if view is None:
        raise ValidationError("this roll-up has no view to read experiments from; use rollup()")
    facts = view.facts
    rows = [facts[e.id] for e in view.experiments if e.id in facts]
    records = {e.id: e for e in view.experiments}
    text, number, time = FieldType.TEXT, FieldType.NUMBER, FieldType.DATETIME
    return _table(rows, [
        ("id", text, lambda f: f.id, None),
        ("title", text, lambda f: f.title, None),
        ("status", FieldType.ENUM, lambda f: f.status, ExperimentStatus),
        ("objectives", FieldType.LIST, lambda f: f.objectives, None),
        ("time_box_start", time, lambda f: _bound(records[f.id], "time_box_start"), None),
        ("time_box_end", time, lambda f: _bound(records[f.id], "time_box_end"), None),
        ("hypotheses", number, lambda f: len(f.hypotheses), int),
        ("learnings", number, lambda f: f.learnings, int),
        ("participants", number, lambda f: len(f.participations), int),
        ("critical_voices", number, lambda f: f.critics, int),
        ("decision", FieldType.ENUM, lambda f: f.decision, Outcome),
        ("days_overdue", number, lambda f: None if f.overdue is None else f.overdue.days, int),
    ])  # fmt: skip


def _key_results(result: Rollup) -> list[_Column]:
    rows = [
        (node, progress)
        for top in result.objectives
        for node in top.walk()
        for progress in node.key_results
    ]
    text, number = FieldType.TEXT, FieldType.NUMBER
    return _table(rows, [
        ("objective", text, lambda r: r[0].objective.id, None),
        ("objective_title", text, lambda r: r[0].objective.title, None),
        ("id", text, lambda r: r[1].key_result.id, None),
        ("metric", text, lambda r: r[1].key_result.metric, None),
        ("unit", text, lambda r: r[1].key_result.unit, None),
        ("baseline", number, lambda r: r[1].key_result.baseline, None),
        ("target", number, lambda r: r[1].key_result.target, None),
        ("due", FieldType.DATE, lambda r: r[1].key_result.due, None),
        ("latest", number, lambda r: r[1].latest, None),
        ("measured_at", FieldType.DATETIME, lambda r: r[1].measured_at, None),
        ("measurements", number, lambda r: r[1].measurements, int),
        ("progress", number, lambda r: r[1].progress, None),
    ])  # fmt: skip


def _candidates(result: Rollup) -> list[_Column]:
    text, number = FieldType.TEXT, FieldType.NUMBER
    return _table(result.total.candidates, [
        ("hypothesis", text, lambda c: c.hypothesis.id, None),
        ("statement", text, lambda c: c.hypothesis.title, None),
        ("experiment", text, lambda c: c.experiment.id, None),
        ("experiment_title", text, lambda c: c.experiment.title, None),
        ("evidence", FieldType.ENUM, lambda c: c.evidence, Evidence),
        ("participants", number, lambda c: c.participants, int),
        ("critical_voices", number, lambda c: c.critical_voices, int),
        ("objectives", FieldType.LIST, lambda c: [ref.id for ref in c.objectives], None),
        ("decision", FieldType.ENUM, lambda c: c.decision, Outcome),
        ("criterion", text, lambda c: c.criterion, None),
        ("measured", number, lambda c: c.measured, None),
        ("criterion_met", FieldType.BOOL, lambda c: c.criterion_met, None),
        ("scaling_up", FieldType.BOOL, lambda c: c.scaling_up, None),
    ])  # fmt: skip


def _participation(result: Rollup) -> list[_Column]:
    rows: list[tuple[str | None, str | None, InvolvementProfile]] = [
        (node.objective.id, node.objective.title, node.summary.involvement)
        for top in result.objectives
        for node in top.walk()
    ]
    rows.append((None, None, result.total.involvement))
    text, number = FieldType.TEXT, FieldType.NUMBER
    spec: list[tuple[str, FieldType, Callable[[Any], Any], Any]] = [
        ("objective", text, lambda r: r[0], None),
        ("objective_title", text, lambda r: r[1], None),
        ("participants", number, lambda r: r[2].participants, int),
        ("external", number, lambda r: r[2].external, int),
        ("critical", number, lambda r: r[2].critical, int),
        ("frontline", number, lambda r: r[2].frontline, int),
        ("pseudonymous", number, lambda r: r[2].pseudonymous, int),
        ("departments_crossed", number, lambda r: r[2].departments_crossed, int),
        ("share_external", number, lambda r: r[2].share_external, None),
        ("share_critical", number, lambda r: r[2].share_critical, None),
        ("share_frontline", number, lambda r: r[2].share_frontline, None),
    ]
    spec += [(depth.value.replace("-", "_"), number, _depth(depth), int) for depth in Involvement]
    return _table(rows, spec)


def _depth(depth: Involvement) -> Callable[[Any], int]:
    return lambda row: int(row[2].depth.get(depth, 0))


_ROLLUP_TABLES: Final[dict[str, Callable[[Rollup], list[_Column]]]] = {
    "experiments": _experiments,
    "key_results": _key_results,
    "candidates": _candidates,
    "participation": _participation,
}


def _columns(source: Any, table: str | None, kind: str | type[Record] | None) -> list[_Column]:
    from experiments.rollup import Rollup  # noqa: PLC0415 - the roll-up loads on demand

    if isinstance(source, Rollup):
        if table not in _ROLLUP_TABLES:
            raise ValidationError(
                f"a roll-up has the tables {', '.join(TABLES)}; give table= one of them, "
                f"not {table!r}"
            )
        return _ROLLUP_TABLES[table](source)
    if table is not None:
        raise ValidationError(
            f"table={table!r} is for a roll-up; records become one table of their kind"
        )
    if isinstance(source, Record):
        source = [source]
    if not isinstance(source, Iterable) or isinstance(source, str | bytes):
        raise ValidationError(
            "a DataFrame is made of records (e.g. store.query(...)) or of a roll-up; "
            f"got {type(source).__name__}"
        )
    name = kind.kind if isinstance(kind, type) else kind
    if name is not None and name not in KINDS:
        raise ValidationError(f"unknown kind {name!r}; known kinds: {', '.join(KINDS)}")
    return _records_table(source, name)


# --- the two libraries -------------------------------------------------------------------


def to_pandas(
    source: Iterable[Record] | Rollup,
    table: str | None = None,
    *,
    kind: str | type[Record] | None = None,
) -> pd.DataFrame:
    """Records, or one table of a roll-up (``table``), as a pandas DataFrame.

    ``kind`` gives the columns when there may be no record at all (an empty query).

    Raises:
        MissingExtraError: pandas is not installed.
        ValidationError: records of several kinds, or a table a roll-up does not have.
    """
    pandas = _library("pandas")
    columns = _columns(source, table, kind)
    frame: pd.DataFrame = pandas.DataFrame({c.name: _pandas_series(pandas, c) for c in columns})
    return frame


def _pandas_series(pandas: Any, column: _Column) -> Any:
    pd = pandas
    values = column.cells
    kind = column.type
    if kind is FieldType.DATETIME:
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(
            "datetime64[us, UTC]"
        )
    if kind is FieldType.ENUM:
        return pd.Series(pd.Categorical(values, categories=list(column.categories)))
    if kind is FieldType.NUMBER:
        return pd.Series(values, dtype="Int64" if column.integer else "float64")
    if kind is FieldType.BOOL:
        return pd.Series(values, dtype="boolean")
    if kind is FieldType.DATE:
        return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[s]")
    if kind is FieldType.LIST:
        return pd.Series(values, dtype=object)
    return pd.Series(values, dtype="string")


def to_polars(
    source: Iterable[Record] | Rollup,
    table: str | None = None,
    *,
    kind: str | type[Record] | None = None,
) -> pl.DataFrame:
    """Like :func:`to_pandas`, but a polars DataFrame.

    Raises:
        MissingExtraError: polars is not installed.
        ValidationError: records of several kinds, or a table a roll-up does not have.
    """
    polars = _library("polars")
    columns = _columns(source, table, kind)
    frame: pl.DataFrame = polars.DataFrame([_polars_series(polars, c) for c in columns])
    return frame


def _polars_series(polars: Any, column: _Column) -> Any:
    pl = polars
    kind = column.type
    if kind is FieldType.DATETIME:
        naive = [None if v is None else v.replace(tzinfo=None) for v in column.cells]
        return pl.Series(column.name, naive, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC")
    dtype: Any
    if kind is FieldType.ENUM:
        dtype = pl.Enum(list(column.categories))
    elif kind is FieldType.NUMBER:
        dtype = pl.Int64 if column.integer else pl.Float64
    elif kind is FieldType.BOOL:
        dtype = pl.Boolean
    elif kind is FieldType.DATE:
        dtype = pl.Date
    elif kind is FieldType.LIST:
        dtype = pl.List(pl.String)
    else:
        dtype = pl.String
    return pl.Series(column.name, column.cells, dtype=dtype)
