"""What the SQL backends share: one write protocol over a ``records`` and a ``versions`` table.

SQLite and PostgreSQL keep the same two tables, one row per record (which revision is
current, and fields to filter on) and one row per version (its JSON), and commit a batch
the same way: runs of new records inserted together, everything else one change at a
time, in order, in one transaction.  :class:`SQLStore` holds that protocol; each
backend writes the statements of its dialect (``_insert_many``, ``_put``, ``_purge``,
``_import``) and runs the transaction.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from experiments.errors import StoreError
from experiments.model import Record
from experiments.stores.base import Store
from experiments.stores.changes import Change, ImportVersion, Purge, Put, Rewrite, conflict

__all__ = ["SQLStore", "record_head"]

#: What a backend writes through: a connection (SQLite) or a cursor (PostgreSQL).
Tx = TypeVar("Tx")


def record_head(record: Record) -> tuple[str, str, int, int]:
    """The columns every row of ``records`` starts with: id, kind, revision, deleted."""
    return (record.id, record.kind, record.revision, int(record.deleted_at is not None))


class SQLStore(Store, Generic[Tx]):
    """A store whose backend is SQL: the shared write protocol and row decoding."""

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

    def _rewrite(self, tx: Tx, change: Rewrite) -> None:
        """Every version of a record replaced: the old rows deleted, the new ones inserted.

        Deleting, not updating, frees the old rows, which each backend then overwrites or
        vacuums (see the privacy documentation).
        """
        stored = self._current_revision(tx, change.id) or 0
        if stored != change.expected:
            raise conflict(change.versions[-1][0], change.expected, stored)
        self._purge(tx, change.id)
        for record, data in change.versions:
            self._import(tx, ImportVersion(record, data))

    def _apply_changes(self, tx: Tx, changes: Iterable[Change], *, run: int) -> list[Any]:
        """Every change in order, runs of up to ``run`` new records inserted together."""
        results: list[Any] = []
        fresh: list[Put] = []
        for change in changes:
            if isinstance(change, Put) and change.expected == 0:
                fresh.append(change)
                if len(fresh) < run:
                    continue
            if fresh:
                results.extend(self._insert_many(tx, fresh))
                fresh = []
            if isinstance(change, Put):
                if change.expected != 0:
                    results.append(self._put(tx, change))
            elif isinstance(change, Purge):
                results.append(self._purge(tx, change.id))
            elif isinstance(change, ImportVersion):
                results.append(self._import(tx, change))
            elif isinstance(change, Rewrite):
                self._rewrite(tx, change)
                results.append(None)
            else:  # pragma: no cover - Change admits nothing else
                raise TypeError(change)
        if fresh:
            results.extend(self._insert_many(tx, fresh))
        return results

    def _decode_row(self, text: str, where: str) -> Mapping[str, Any]:
        """A version's stored JSON as data, or a StoreError saying where it is damaged."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StoreError(f"{self._where()}: {where} holds unreadable data ({exc})") from None
        if not isinstance(data, dict):
            raise StoreError(f"{self._where()}: {where} holds data that is not a record")
        return data
