"""The in-memory backend: fast, private to one process, gone when the process ends.

``memory://`` opens a new empty store each time.  ``memory://<name>`` opens the store of
that name in this process, so that closing and opening it again sees the same data,
like a file would; it lasts until the process ends.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from experiments.serialization import dumps, from_data
from experiments.stores import _keys
from experiments.stores._refusals import conflict, import_conflict, other_kind
from experiments.stores.base import Capability, Store
from experiments.stores.changes import Change, ImportVersion, Purge, Put, Rewrite

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = ["MemoryStore"]


class _Shelf:
    """The data of one memory store: current versions and every version, as JSON text."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.current: dict[str, str] = {}
        self.versions: dict[str, list[str]] = {}
        self.settings: dict[str, str] = {_keys.KEY: _keys.new_key()}


_NAMED: dict[str, _Shelf] = {}
_NAMED_LOCK = threading.Lock()


class MemoryStore(Store):
    """Records kept in this process's memory, as JSON text so that nothing is shared."""

    scheme: ClassVar[str] = "memory"
    capabilities: frozenset[Capability] = frozenset(
        {Capability.PERSISTENT, Capability.THREADSAFE, Capability.ERASURE, Capability.SNAPSHOT}
    )

    def __init__(
        self,
        url: StoreURL,
        *,
        plugins: Plugins | None = None,
        actor: str | None = None,
    ) -> None:
        super().__init__(url, plugins=plugins, actor=actor)
        name = url.file_path or url.netloc
        if name:
            with _NAMED_LOCK:
                self._shelf = _NAMED.setdefault(name, _Shelf())
        else:
            self._shelf = _Shelf()
            # Nothing can open this store again once it is closed.
            self.capabilities = self.capabilities - {Capability.PERSISTENT}

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        # The shelf's lock, held for the block: other threads' writes wait for it.
        with self._shelf.lock:
            yield

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        text = self._shelf.current.get(id)
        return None if text is None else json.loads(text)

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002
        with self._shelf.lock:
            texts = list(self._shelf.versions.get(id, ()))
        return [json.loads(text) for text in texts]

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        with self._shelf.lock:
            items = sorted(self._shelf.current.items())
        for _, text in items:
            data = json.loads(text)
            if kind is None or data["kind"] == kind:
                yield data

    def _setting(self, name: str) -> str | None:
        return self._shelf.settings.get(name)

    def _put_setting(self, name: str, value: str | None) -> None:
        with self._shelf.lock:
            if value is None:
                self._shelf.settings.pop(name, None)
            else:
                self._shelf.settings[name] = value

    def _count_versions(self) -> int:
        with self._shelf.lock:
            return sum(len(texts) for texts in self._shelf.versions.values())

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        shelf = self._shelf
        with shelf.lock:
            work = _Work(shelf)
            results = [work.apply(change) for change in changes]
            work.keep()
            return results


class _Work:
    """One commit's changes, applied to a copy first and kept only if all of them fit."""

    def __init__(self, shelf: _Shelf) -> None:
        self.shelf = shelf
        self.current: dict[str, str | None] = {}
        self.versions: dict[str, list[str]] = {}

    def now_current(self, record_id: str) -> str | None:
        if record_id in self.current:
            return self.current[record_id]
        return self.shelf.current.get(record_id)

    def now_versions(self, record_id: str) -> list[str]:
        if record_id not in self.versions:
            self.versions[record_id] = list(self.shelf.versions.get(record_id, ()))
        return self.versions[record_id]

    def apply(self, change: Change) -> Any:
        if isinstance(change, Put):
            return self.put(change)
        if isinstance(change, Purge):
            existing = self.now_current(change.id)
            self.current[change.id] = None
            self.versions[change.id] = []
            return None if existing is None else json.loads(existing)["kind"]
        if isinstance(change, Rewrite):
            return self.rewrite(change)
        if isinstance(change, ImportVersion):
            return self.import_version(change)
        raise TypeError(change)  # a setting is set by _put_setting, never committed

    def rewrite(self, change: Rewrite) -> None:
        existing = self.now_current(change.id)
        stored = 0 if existing is None else json.loads(existing)["revision"]
        if stored != change.expected:
            raise conflict(change.versions[-1][0], change.expected, stored)
        texts = [dumps(data) for _, data in change.versions]
        self.versions[change.id] = texts
        self.current[change.id] = texts[-1]

    def put(self, change: Put) -> Any:
        record = change.record
        existing = self.now_current(record.id)
        stored_data = json.loads(existing) if existing is not None else None
        if stored_data is not None and change.expected is None:
            return from_data(stored_data)  # create-if-absent finds it there
        stored = stored_data["revision"] if stored_data is not None else 0
        if stored_data is not None and stored_data["kind"] != record.kind:
            raise other_kind(record, stored_data["kind"])
        if change.expected is not None and change.expected != stored:
            raise conflict(record, change.expected, stored)
        text = dumps(change.data)
        self.current[record.id] = text
        self.now_versions(record.id).append(text)
        return record

    def import_version(self, change: ImportVersion) -> bool:
        record = change.record
        texts = self.now_versions(record.id)
        if texts and json.loads(texts[-1])["kind"] != record.kind:
            raise other_kind(record, json.loads(texts[-1])["kind"])
        same = [t for t in texts if json.loads(t)["revision"] == record.revision]
        if same:
            if json.loads(same[0]) != json.loads(dumps(change.data)):
                raise import_conflict(record)
            return False
        texts.append(dumps(change.data))
        texts.sort(key=lambda t: json.loads(t)["revision"])
        self.current[record.id] = texts[-1]
        return True

    def keep(self) -> None:
        """Make the changes the shelf's own."""
        for record_id, latest in self.current.items():
            if latest is None:
                self.shelf.current.pop(record_id, None)
            else:
                self.shelf.current[record_id] = latest
        for record_id, texts in self.versions.items():
            if texts:
                self.shelf.versions[record_id] = texts
            else:
                self.shelf.versions.pop(record_id, None)
