"""The plan of a write to a files store: what it will create and purge, checked first.

:func:`make_plan` works out, before anything is written, the bytes of every version a batch
of :class:`~experiments.stores.changes.Change` creates, the records it purges and the
result of each change, against the versions stored and those planned earlier in the
batch.  A conflict, a record of another kind or a purged record written again raise
here, so a batch that cannot be written writes nothing.  It reads the stored versions
through the store's reader (``_files_reader``); the writer (``_files_writer``) makes a
plan under the exclusive lock and writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from experiments.errors import StoreError
from experiments.serialization import from_data
from experiments.stores import _atomic
from experiments.stores._filenames import encode_id
from experiments.stores._files_journal import View
from experiments.stores._files_record import dumps
from experiments.stores._refusals import conflict, import_conflict, other_kind
from experiments.stores.changes import Change, ImportVersion, Purge, Put, Rewrite

if TYPE_CHECKING:
    from experiments.model import Record
    from experiments.stores._files_reader import Reader

__all__ = ["Plan", "make_plan"]


@attrs.define
class Plan:
    """What a batch will write, worked out (and checked) before anything is written."""

    results: list[Any] = attrs.Factory(list)
    create: dict[tuple[str, int], bytes] = attrs.Factory(dict)
    purge: list[str] = attrs.Factory(list)
    rewrite: dict[tuple[str, int], bytes] = attrs.Factory(dict)


def make_plan(reader: Reader, records: int, changes: Iterable[Change]) -> Plan:
    """Check every change against the stored revisions; raise before writing anything."""
    planner = _Planner(reader, records)
    for change in changes:
        if isinstance(change, Put):
            planner.put(change)
        elif isinstance(change, Purge):
            planner.purge(change)
        elif isinstance(change, ImportVersion):
            planner.import_version(change)
        elif isinstance(change, Rewrite):
            planner.rewrite(change)
        else:  # pragma: no cover - Change admits nothing else
            raise TypeError(change)
    return planner.plan


class _Planner:
    """Works out what a batch will write, against what is stored and planned so far."""

    def __init__(self, reader: Reader, records: int) -> None:
        self.reader = reader
        self.records = records
        self.plan = Plan()
        self.known: dict[str, dict[int, bytes | None]] = {}  # planned content, None on disk
        self.purged: set[str] = set()

    def versions(self, record_id: str) -> dict[int, bytes | None]:
        if record_id not in self.known:
            name = encode_id(record_id)
            fd = self.reader.directory.record_dir(self.records, name)
            on_disk: list[int] = []
            if fd is not None:
                try:
                    on_disk = self.reader.revisions(fd, name, View())
                finally:
                    os.close(fd)
            self.known[record_id] = dict.fromkeys(on_disk)
        return self.known[record_id]

    def data_at(self, record_id: str, revision: int) -> Mapping[str, Any]:
        planned = self.known[record_id][revision]
        if planned is not None:
            loaded: dict[str, Any] = json.loads(planned)
            return loaded
        name = encode_id(record_id)
        fd = _atomic.open_directory(name, self.records)
        try:
            return self.reader.read(fd, name, revision)
        finally:
            os.close(fd)

    def kind_of(self, record_id: str) -> str | None:
        """The kind of the record as stored or planned so far; None if there is none."""
        stored_versions = self.versions(record_id)
        if not stored_versions:
            return None
        return str(self.data_at(record_id, max(stored_versions))["kind"])

    def refuse_reuse(self, record_id: str) -> None:
        """StoreError if ``record_id`` is purged earlier in this batch."""
        if record_id in self.purged:
            raise StoreError(
                f"record {record_id!r} is purged and written again in one batch; the "
                f"{self.reader.directory.where()} cannot do both at once: commit the purge "
                "first"
            )

    def refuse_other_kind(self, record: Record) -> None:
        """ConflictError if the id holds a record of another kind."""
        stored_kind = self.kind_of(record.id)
        if stored_kind is not None and stored_kind != record.kind:
            raise other_kind(record, stored_kind)

    def add(self, record: Record, content: bytes) -> None:
        """Plan a new version of ``record``."""
        self.versions(record.id)[record.revision] = content
        self.plan.create[record.id, record.revision] = content

    def put(self, change: Put) -> None:
        record = change.record
        self.refuse_reuse(record.id)
        stored = max(self.versions(record.id), default=0)
        if change.expected is None and stored:
            self.plan.results.append(from_data(self.data_at(record.id, stored)))
            return
        if change.expected is not None and change.expected != stored:
            raise conflict(record, change.expected, stored)
        self.refuse_other_kind(record)
        self.add(record, dumps(change.data))
        self.plan.results.append(record)

    def purge(self, change: Purge) -> None:
        kind = self.kind_of(change.id)
        stored_versions = self.versions(change.id)
        for revision in [r for r, c in stored_versions.items() if c is not None]:
            del self.plan.create[change.id, revision]
        stored_versions.clear()
        self.purged.add(change.id)
        self.plan.purge.append(change.id)
        self.plan.results.append(kind)

    def import_version(self, change: ImportVersion) -> None:
        record = change.record
        self.refuse_reuse(record.id)
        self.refuse_other_kind(record)
        stored_versions = self.versions(record.id)
        content = dumps(change.data)
        if record.revision in stored_versions:
            if self.data_at(record.id, record.revision) != json.loads(content):
                raise import_conflict(record)
            self.plan.results.append(False)
            return
        self.add(record, content)
        self.plan.results.append(True)

    def rewrite(self, change: Rewrite) -> None:
        """Plan new content for every stored version of a record (an erasure)."""
        self.refuse_reuse(change.id)
        stored_versions = self.versions(change.id)
        stored = max(stored_versions, default=0)
        record = change.versions[-1][0]
        if stored != change.expected:
            raise conflict(record, change.expected, stored)
        given = sorted(r.revision for r, _ in change.versions)
        if given != sorted(stored_versions) or any(c is not None for c in stored_versions.values()):
            raise StoreError(
                f"{record.label()}: an erasure rewrites every stored version and only those, "
                "in a batch of its own; nothing was written"
            )
        for version, data in change.versions:
            content = dumps(data)
            stored_versions[version.revision] = content
            self.plan.rewrite[change.id, version.revision] = content
        self.plan.results.append(None)
