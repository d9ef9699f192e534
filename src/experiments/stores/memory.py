"""The in-memory backend: fast, private to one process, gone when the process ends.

``memory://`` opens a new empty store each time.  ``memory://<name>`` opens the store of
that name in this process, so that closing and opening it again sees the same data,
like a file would; it lasts until the process ends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from experiments.serialization import dumps, from_data
from experiments.stores.base import (
    Capability,
    Change,
    ImportVersion,
    Purge,
    Put,
    Store,
    conflict,
    import_conflict,
    other_kind,
)

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


_NAMED: dict[str, _Shelf] = {}
_NAMED_LOCK = threading.Lock()


class MemoryStore(Store):
    """Records kept in this process's memory, as JSON text so that nothing is shared."""

    scheme: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.PERSISTENT, Capability.THREADSAFE}
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

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        shelf = self._shelf
        with shelf.lock:
            current: dict[str, str | None] = {}
            versions: dict[str, list[str]] = {}
            results: list[Any] = []

            def now_current(record_id: str) -> str | None:
                return current[record_id] if record_id in current else shelf.current.get(record_id)

            def now_versions(record_id: str) -> list[str]:
                if record_id not in versions:
                    versions[record_id] = list(shelf.versions.get(record_id, ()))
                return versions[record_id]

            for change in changes:
                if isinstance(change, Put):
                    record = change.record
                    existing = now_current(record.id)
                    stored_data = json.loads(existing) if existing is not None else None
                    stored = stored_data["revision"] if stored_data is not None else 0
                    if stored_data is not None and stored_data["kind"] != record.kind:
                        if change.expected is None:
                            results.append(from_data(stored_data))
                            continue
                        raise other_kind(record, stored_data["kind"])
                    if change.expected is None and stored_data is not None:
                        results.append(from_data(stored_data))
                        continue
                    if change.expected is not None and change.expected != stored:
                        raise conflict(record, change.expected, stored)
                    text = dumps(change.data)
                    current[record.id] = text
                    now_versions(record.id).append(text)
                    results.append(record)
                elif isinstance(change, Purge):
                    existing = now_current(change.id)
                    results.append(None if existing is None else json.loads(existing)["kind"])
                    current[change.id] = None
                    versions[change.id] = []
                elif isinstance(change, ImportVersion):
                    record = change.record
                    texts = now_versions(record.id)
                    same = [t for t in texts if json.loads(t)["revision"] == record.revision]
                    if same:
                        if json.loads(same[0]) != json.loads(dumps(change.data)):
                            raise import_conflict(record)
                        results.append(False)
                        continue
                    texts.append(dumps(change.data))
                    texts.sort(key=lambda t: json.loads(t)["revision"])
                    current[record.id] = texts[-1]
                    results.append(True)
            for record_id, latest in current.items():
                if latest is None:
                    shelf.current.pop(record_id, None)
                else:
                    shelf.current[record_id] = latest
            for record_id, texts in versions.items():
                if texts:
                    shelf.versions[record_id] = texts
                else:
                    shelf.versions.pop(record_id, None)
            return results
