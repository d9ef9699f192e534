"""What the SQL backends share: one write protocol over a ``records`` and a ``versions`` table.

SQLite and PostgreSQL keep the same two tables, one row per record (which revision is
current, and fields to filter on) and one row per version (its JSON), and commit a batch
the same way: runs of new records inserted together, everything else one change at a
time, in order, in one transaction.  :class:`SQLStore` holds that protocol; each
backend writes the statements of its dialect (``_insert_many``, ``_put``, ``_purge``,
``_import``) and runs the transaction.  Queries and aggregation run in SQL the same way
too: the SQL comes from :mod:`~experiments.stores._sql` in the backend's dialect, and
the backend runs it (``_read``).
"""

from __future__ import annotations

import abc
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from experiments.errors import ConflictError, StoreError
from experiments.model import Record
from experiments.query import BoundMeasure, FieldInfo
from experiments.stores import _sql
from experiments.stores._refusals import conflict, other_kind
from experiments.stores.backend import Capability, Grouping, Selection
from experiments.stores.base import Store

if TYPE_CHECKING:
    from experiments.stores.changes import (
        Change,
        Damage,
        ImportVersion,
        Purge,
        Put,
        Rewrite,
        SetSetting,
    )

__all__ = [
    "Converter",
    "SQLStore",
    "latest_puts",
    "record_head",
    "refused_update",
    "versions_read",
]

#: What a backend writes through: a connection (SQLite) or a cursor (PostgreSQL).
Tx = TypeVar("Tx")
#: Turns a value an engine answers into the one the Python fallback computes.
Converter = Callable[[Any], Any]


def refused_update(record: Record, expected: int, stored: tuple[int, str] | None) -> ConflictError:
    """The error for an update over revision ``expected`` that changed no row.

    ``stored`` is the revision and kind now stored under the record's id, None if none is.
    """
    if stored is not None and stored[1] != record.kind:
        return other_kind(record, stored[1])
    return conflict(record, expected, 0 if stored is None else stored[0])


def record_head(record: Record) -> tuple[str, str, int, int]:
    """The columns every row of ``records`` starts with: id, kind, revision, deleted."""
    return (record.id, record.kind, record.revision, int(record.deleted))


#: Parses one JSON value at the start of a text; :func:`_parsed` checks it is all.
_DECODE: Final = json.JSONDecoder().raw_decode


def _parsed(text: str | bytes) -> Any:
    """``json.loads(text)``, without its checks around the common case.

    A query reads a thousand versions at a time, and ``json.loads`` costs a third
    more than parsing them.  Text that is one JSON value and nothing else is parsed
    directly; anything else (bytes, whitespace around it, a damaged value) goes to
    ``json.loads``, which gives the same value or the same error.
    """
    if isinstance(text, str):
        try:
            data, end = _DECODE(text)
        except ValueError:
            pass
        else:
            if end == len(text):
                return data
    return json.loads(text)


def latest_puts(puts: list[Put]) -> list[Put]:
    """The last put of each record among ``puts`` (a run of new records and their later
    revisions), in the order the records first come: the rows to write."""
    last = {put.record.id: put for put in puts}
    return list(last.values()) if len(last) < len(puts) else puts


class SQLStore(Store, Generic[Tx]):
    """A store whose backend is SQL: the shared write protocol, queries and row decoding."""

    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.PERSISTENT,
            Capability.MULTIPROCESS,
            Capability.THREADSAFE,
            Capability.QUERY_PUSHDOWN,
            Capability.AGGREGATION_PUSHDOWN,
            Capability.ERASURE,
            Capability.SNAPSHOT,
        }
    )
    dialect: ClassVar[_sql.Dialect]
    """How the backend's SQL reads fields, unnests lists, sorts and sums."""
    current_table: str
    """The table of current versions as the backend's SQL names it."""

    @abc.abstractmethod
    def _where(self) -> str:
        """The store as messages name it, e.g. ``SQLite store '/data/x.db'``."""

    @abc.abstractmethod
    def _missing(self) -> StoreError:
        """The error for reading a store that does not exist yet."""

    @abc.abstractmethod
    def _insert_many(self, tx: Tx, puts: list[Put]) -> list[Any]:
        """Insert new records together; on a clash, one by one, for the precise conflict."""

    @abc.abstractmethod
    def _put(self, tx: Tx, change: Put) -> Any:
        """Write one version over the expected revision (see ``Backend._commit``)."""

    @abc.abstractmethod
    def _purge(self, tx: Tx, record_id: str) -> str | None:
        """Remove a record and its versions; its kind, or None when there was none."""

    @abc.abstractmethod
    def _import(self, tx: Tx, change: ImportVersion) -> bool:
        """Insert an exported version as it was; False when it was already there."""

    @abc.abstractmethod
    def _current_revision(self, tx: Tx, record_id: str) -> int | None:
        """The stored current revision of ``record_id``, locked for this transaction."""

    @abc.abstractmethod
    def _read(self, doing: str, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """The rows a query reads, streamed.

        Fails at once, not at the first row, when the store is closed or does not
        exist; ``doing`` names the read in error messages.
        """

    @abc.abstractmethod
    def _store_setting(self, tx: Tx, change: SetSetting) -> None:
        """Write (or remove) one row of the settings table."""

    def _put_setting(self, name: str, value: str | None) -> None:
        from experiments.stores.changes import SetSetting  # noqa: PLC0415 - writes only

        self._commit([SetSetting(name, value)])

    def _rewrite(self, tx: Tx, change: Rewrite) -> None:
        """Every version of a record replaced: the old rows deleted, the new ones inserted.

        Deleting, not updating, frees the old rows, which each backend then overwrites or
        vacuums (see the privacy documentation).
        """
        from experiments.stores.changes import ImportVersion  # noqa: PLC0415 - writes only

        stored = self._current_revision(tx, change.id) or 0
        if stored != change.expected:
            raise conflict(change.versions[-1][0], change.expected, stored)
        self._purge(tx, change.id)
        for record, data in change.versions:
            self._import(tx, ImportVersion(record, data))

    def _apply_changes(self, tx: Tx, changes: Iterable[Change], *, run: int) -> list[Any]:
        """Every change in order, runs of up to ``run`` new records inserted together.

        A run takes the later revisions of its own new records too (a record made and
        started in one batch): the row of each is written once, as its last revision
        has it, and every version beside it (see :func:`latest_puts`).
        """
        put, purge, import_version, rewrite, setting = change_types()
        results: list[Any] = []
        fresh: list[Put] = []
        made: dict[str, tuple[int, str]] = {}  # the run's records: id -> revision, kind
        for change in changes:
            if isinstance(change, put) and (
                change.expected == 0
                or made.get(change.record.id) == (change.expected, change.record.kind)
            ):
                fresh.append(change)
                made[change.record.id] = (change.record.revision, change.record.kind)
                if len(fresh) >= run:
                    results.extend(self._insert_many(tx, fresh))
                    fresh, made = [], {}
                continue
            if fresh:
                results.extend(self._insert_many(tx, fresh))
                fresh, made = [], {}
            if isinstance(change, put):
                results.append(self._put(tx, change))
            elif isinstance(change, purge):
                results.append(self._purge(tx, change.id))
            elif isinstance(change, import_version):
                results.append(self._import(tx, change))
            elif isinstance(change, rewrite):
                self._rewrite(tx, change)
                results.append(None)
            elif isinstance(change, setting):
                self._store_setting(tx, change)
                results.append(None)
            else:  # pragma: no cover - Change admits nothing else
                raise TypeError(change)
        if fresh:
            results.extend(self._insert_many(tx, fresh))
        return results

    def _decode_row(self, text: str | None, where: str) -> Mapping[str, Any]:
        """A version's stored JSON as data, or a StoreError saying where it is damaged."""
        if not isinstance(text, str | bytes):  # a current revision with no version stored
            raise StoreError(f"{self._where()}: {where} has no data for its current revision")
        try:
            data = _parsed(text)
        except ValueError as exc:
            raise StoreError(f"{self._where()}: {where} holds unreadable data ({exc})") from None
        if not isinstance(data, dict):
            raise StoreError(f"{self._where()}: {where} holds data that is not a record")
        return data

    # --- queries and aggregation in SQL ---------------------------------------------

    def _select(self, selection: Selection) -> Iterator[Mapping[str, Any]]:
        sql, params = _sql.select_sql(self.dialect, self.current_table, *selection)
        rows = self._read("running a query", sql, params)
        return (self._decode_row(row[0], "a record") for row in rows)

    def _aggregate(self, grouping: Grouping) -> Iterable[dict[str, Any]]:
        rows, labels = self._aggregate_rows(grouping)
        return (dict(zip(labels, row, strict=True)) for row in rows)

    def _aggregate_tuples(self, grouping: Grouping) -> Iterable[tuple[Any, ...]]:
        return self._aggregate_rows(grouping)[0]

    def _aggregate_rows(self, grouping: Grouping) -> tuple[Iterable[tuple[Any, ...]], list[str]]:
        """The groups the engine computes, as tuples in the fallback's types, and their labels."""
        sql, params, labels = _sql.aggregate_sql(self.dialect, self.current_table, *grouping)
        rows = self._read("aggregating", sql, params)
        converters = self._converters(grouping.group_by, grouping.measures)
        return (rows if not converters else _converted(rows, converters)), labels

    def _converters(
        self, group_by: list[tuple[str, FieldInfo]], measures: dict[str, BoundMeasure]
    ) -> list[tuple[int, Converter]]:
        """Which aggregate columns (by index) need converting to the fallback's types, and how.

        None by default: the engine answers in the types the fallback computes.
        """
        return []


@functools.cache
def change_types() -> tuple[
    type[Put], type[Purge], type[ImportVersion], type[Rewrite], type[SetSetting]
]:
    """The kinds of change a commit tells apart, imported with the first write.

    Reads never load them; an import statement in the commit itself would cost about
    a microsecond on every save, where this costs a look-up.
    """
    from experiments.stores.changes import (  # noqa: PLC0415 - writes only
        ImportVersion,
        Purge,
        Put,
        Rewrite,
        SetSetting,
    )

    return Put, Purge, ImportVersion, Rewrite, SetSetting


def versions_read(
    rows: Iterable[tuple[str, int, str]], where: str
) -> Iterator[Damage | Mapping[str, Any]]:
    """Each stored version's data from its ``(id, revision, JSON)`` row, as a verification
    reads them: a Damage (located in ``where``) for one whose JSON cannot be read.
    """
    from experiments.stores.changes import Damage  # noqa: PLC0415 - verify() only

    for record_id, revision, text in rows:
        try:
            data = json.loads(text)
        except ValueError as exc:
            yield Damage(
                f"{where}: record {record_id!r} revision {revision}",
                f"unreadable JSON ({exc})",
                record_id,
            )
            continue
        yield data


def _converted(
    rows: Iterable[tuple[Any, ...]], converters: list[tuple[int, Converter]]
) -> Iterator[tuple[Any, ...]]:
    """Rows with the values ``converters`` name converted (not None)."""
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        yield tuple(values)
