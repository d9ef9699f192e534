"""The JSON Lines backend: a store in one append-only file, one line per committed batch.

The file starts with a header line; each following line is one batch, a list of steps
applied in order: ``["version", data]`` adds a version of a record (the highest revision
is the current one), ``["purge", id]`` removes a record with every version.  A batch is
appended with a single write and flushed with ``fsync`` before the call returns, so it
is there whole or not at all: a last line without its newline was cut short by a crash,
is ignored, and is cut off by the next write.

A purge must leave nothing behind, so it does not append: the file is written anew
without the purged records (to a temporary file in the same directory, flushed, renamed
over the old one, and the directory flushed), which also compacts it.

A file of the first version (written before strategy-experiments wrote times in RFC
3339) is rewritten in today's form, as a purge rewrites it, the first time a store
object reads or writes it where it can be written; where it cannot, it is read as it
is, and strategy-experiments upgrades what it reads.

Writers hold an exclusive ``flock`` on ``<file>.lock`` for the whole write, readers a
shared one; each operation first reads whatever other processes appended, or reloads
the file if it was rewritten.  A reader that can neither open nor create the lock file
(a read-only directory, another user's store) reads without it: nobody can write there
either.  Records live in memory as JSON text, so a store is meant for thousands of
records, not millions.

Every failure of the file system is a :class:`~experiments.errors.StoreError` naming the
file and the cause; a write that fails leaves the file as it was, and says so only when
that is certain.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from experiments.errors import SchemaError, StoreError
from experiments.serialization import from_data, upgrade
from experiments.stores import Capability, Change, ImportVersion, Purge, Put, Store
from experiments.stores.base import conflict, import_conflict, other_kind

if TYPE_CHECKING:
    from experiments import Plugins
    from experiments.stores import StoreURL

__all__ = ["JsonlStore"]

FORMAT: Final = "experiments-jsonl"
#: The file's version: 2 holds the data as strategy-experiments writes it since it wrote
#: times in RFC 3339 (record schema 3); version 1 files are rewritten when opened.
VERSION: Final = 2
#: The versions of the file this plugin reads.
READS: Final = (1, 2)
_HEADER: Final = json.dumps({"format": FORMAT, "version": VERSION}) + "\n"

Versions = dict[str, dict[int, str]]


class _Unconfirmed(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A rewrite is in place, but flushing its directory failed."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class JsonlStore(Store):
    """Records in one JSON Lines file; see the module documentation."""

    scheme: ClassVar[str] = "jsonl"
    capabilities: frozenset[Capability] = frozenset(
        {Capability.PERSISTENT, Capability.MULTIPROCESS, Capability.THREADSAFE}
    )

    def __init__(
        self,
        url: StoreURL,
        *,
        plugins: Plugins | None = None,
        create: bool | None = None,
        actor: str | None = None,
    ) -> None:
        super().__init__(url, plugins=plugins, actor=actor)
        if not url.file_path:
            raise StoreError(f"{url.redacted} names no file; write jsonl:///path/to/file.jsonl")
        self.path = Path(url.file_path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._create = create
        self._mutex = threading.RLock()
        self._versions: Versions = {}
        self._identity: tuple[int, int] | None = None  # (device, inode) of what was read
        self._offset = 0  # bytes read so far, always at the end of a complete line
        self._lines = 0  # complete lines read so far
        self._version = VERSION  # of the file, as its header says
        self._current = False  # whether the file is known to be of VERSION (or read-only)
        if create is False and not self.path.exists():
            raise self._missing()
        if create:
            self._make()

    def _missing(self) -> StoreError:
        return StoreError(
            f"there is no store at {str(self.path)!r}; check the path, or create one with "
            "connect(url, create=True)"
        )

    def exists(self) -> bool:
        try:
            return self.path.exists()
        except OSError as exc:
            raise self._failed("looking for", exc) from None

    def _failed(self, doing: str, exc: OSError) -> StoreError:
        """A StoreError naming what failed, on which file, and the system's reason."""
        where = exc.filename if exc.filename is not None else self.path
        return StoreError(f"{doing} {where} failed: {exc.strerror or exc}")

    # --- the file -------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        self._check_open()
        with self._mutex:
            try:
                fd = os.open(self._lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as exc:
                if exclusive or exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                    raise self._failed("opening the lock", exc) from None
                yield  # read-only here: nobody can write, so there is nothing to wait for
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                yield
            finally:
                os.close(fd)

    def _make(self) -> None:
        """Create the file with its header, once, even when processes race to do it."""
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot create {str(self.path)!r}: its directory does not exist")
        with self._locked(exclusive=True):
            if not self.path.exists():
                try:
                    self._write_file(_HEADER)
                except OSError as exc:
                    raise self._failed("creating", exc) from None

    def _write_file(self, text: str) -> None:
        """Put ``text`` at the path atomically: temporary file, fsync, rename, fsync."""
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        except OSError as exc:
            raise _Unconfirmed(exc.strerror or str(exc)) from exc
        finally:
            os.close(directory)

    def _refresh(self, *, writing: bool) -> None:
        """Catch up with the file: read what was appended, or all of it if it was rewritten."""
        try:
            with self.path.open("rb") as handle:
                status = os.fstat(handle.fileno())
                identity = (status.st_dev, status.st_ino)
                if identity != self._identity or status.st_size < self._offset:
                    self._versions, self._identity = {}, identity
                    self._offset = self._lines = 0
                handle.seek(self._offset)
                tail = handle.read()
        except FileNotFoundError:
            raise self._missing() from None
        complete = tail[: tail.rfind(b"\n") + 1]
        for line in complete.splitlines():
            self._replay(line, self._lines + 1)
            self._lines += 1
        self._offset += len(complete)
        if writing and len(complete) < len(tail):
            # A line a crashed writer did not finish: cut it off before appending.
            with self.path.open("r+b") as handle:
                handle.truncate(self._offset)
                os.fsync(handle.fileno())

    def _replay(self, line: bytes, number: int) -> None:
        where = f"{self.path}, line {number},"
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise StoreError(f"{where} is not valid JSON ({exc}); the file is damaged") from None
        if number == 1:
            if not isinstance(entry, dict) or entry.get("format") != FORMAT:
                raise StoreError(f"{self.path} is not a {FORMAT} store (no header line)")
            if entry.get("version") not in READS:
                raise SchemaError(
                    f"{self.path} is a {FORMAT} file of version {entry.get('version')!r}; "
                    f"this plugin reads versions up to {VERSION}: upgrade experiments-jsonl"
                )
            self._version = entry["version"]
            return
        try:
            for step, value in entry:
                if step == "version":
                    self._versions.setdefault(value["id"], {})[value["revision"]] = _dumps(value)
                elif step == "purge":
                    self._versions.pop(value, None)
                else:
                    raise ValueError(step)  # noqa: TRY301 - reported like any malformed line
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"{where} is not a batch this plugin wrote ({exc!r})") from None

    # --- reading --------------------------------------------------------------------

    def _bring_up_to_date(self) -> None:
        """Rewrite a file of an older version in today's form, once, if it can be written."""
        if self._current or not self.path.exists():
            return
        if not os.access(self.path.parent, os.W_OK):
            self._current = True  # read as it is: strategy-experiments upgrades what it reads
            return
        try:
            with self._locked(exclusive=True):
                self._refresh(writing=True)
                if self._version < VERSION:
                    self._rewrite({}, upgraded=True)
        except _Unconfirmed as exc:
            raise StoreError(
                f"{self.path} was rewritten in version {VERSION} of its format, but the disk "
                f"did not confirm it ({exc}); open it again to make sure"
            ) from exc
        except OSError as exc:
            raise self._failed("rewriting in the current format", exc) from exc
        self._current = True

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Versions]:
        self._bring_up_to_date()
        with self._locked(exclusive=False):
            if not self.exists():
                raise self._missing()
            try:
                self._refresh(writing=False)
            except OSError as exc:
                raise self._failed("reading", exc) from None
            yield self._versions

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        with self._reading() as versions:
            found = versions.get(id)
            text = found[max(found)] if found else None
        return None if text is None else json.loads(text)

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002
        with self._reading() as versions:
            found = dict(versions.get(id, {}))
        return [json.loads(found[revision]) for revision in sorted(found)]

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        with self._reading() as versions:
            texts = [found[max(found)] for _, found in sorted(versions.items())]
        return (d for d in map(json.loads, texts) if kind is None or d["kind"] == kind)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        with self._reading() as versions:
            texts = [found[r] for _, found in sorted(versions.items()) for r in sorted(found)]
        return map(json.loads, texts)

    # --- writing --------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        pending = list(changes)
        if not pending:
            return []
        if not self.exists():
            if self._create is False:
                raise self._missing()
            self._make()
        self._bring_up_to_date()
        try:
            with self._locked(exclusive=True):
                self._refresh(writing=True)
                results, steps, working = self._plan(pending)
                if any(step == "purge" for step, _ in steps):
                    self._rewrite(working)
                else:
                    self._append(_dumps(steps) + "\n")
                    self._versions.update(working)
        except _Unconfirmed as exc:
            raise StoreError(
                f"{self.path} was rewritten, but the disk did not confirm it ({exc}); the "
                "write may be lost if the machine stops now: look up what it changed "
                "before writing it again"
            ) from exc
        except OSError as exc:
            raise self._failed("writing (nothing was written) to", exc) from exc
        return results

    def _plan(self, changes: list[Change]) -> tuple[list[Any], list[list[Any]], Versions]:
        """Results, the steps of the line to write, and the records they change."""
        working: Versions = {}
        results: list[Any] = []
        steps: list[list[Any]] = []

        def versions(record_id: str) -> dict[int, str]:
            if record_id not in working:
                working[record_id] = dict(self._versions.get(record_id, {}))
            return working[record_id]

        for change in changes:
            if isinstance(change, Put):
                record = change.record
                found = versions(record.id)
                stored = max(found, default=0)
                if change.expected is None and stored:
                    results.append(from_data(json.loads(found[stored])))
                    continue
                if change.expected is not None and change.expected != stored:
                    raise conflict(record, change.expected, stored)
                if stored:
                    stored_kind = json.loads(found[stored])["kind"]
                    if stored_kind != record.kind:
                        raise other_kind(record, stored_kind)
                found[record.revision] = _dumps(change.data)
                steps.append(["version", change.data])
                results.append(record)
            elif isinstance(change, Purge):
                found = versions(change.id)
                results.append(json.loads(found[max(found)])["kind"] if found else None)
                found.clear()
                steps.append(["purge", change.id])
            elif isinstance(change, ImportVersion):
                record = change.record
                found = versions(record.id)
                if found:
                    stored_kind = json.loads(found[max(found)])["kind"]
                    if stored_kind != record.kind:
                        raise other_kind(record, stored_kind)
                text = _dumps(change.data)
                if record.revision in found:
                    if json.loads(found[record.revision]) != json.loads(text):
                        raise import_conflict(record)
                    results.append(False)
                    continue
                found[record.revision] = text
                steps.append(["version", change.data])
                results.append(True)
        return results, steps, working

    def _append(self, line: str) -> None:
        data = line.encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except BaseException:
                os.ftruncate(fd, self._offset)  # a failed write leaves the file as it was
                raise
        finally:
            os.close(fd)
        self._offset += len(data)
        self._lines += 1

    def _rewrite(self, working: Versions, *, upgraded: bool = False) -> None:
        """Write the whole store anew, without what the batch purged.

        With ``upgraded`` every version is brought to the record schema of today.
        """
        merged = {**self._versions, **working}
        kept = {record_id: found for record_id, found in merged.items() if found}
        if upgraded:
            kept = {
                record_id: {r: _dumps(upgrade(json.loads(text))) for r, text in found.items()}
                for record_id, found in kept.items()
            }
        lines = [_HEADER]
        for record_id in sorted(kept):
            steps = [["version", json.loads(kept[record_id][r])] for r in sorted(kept[record_id])]
            lines.append(_dumps(steps) + "\n")
        self._write_file("".join(lines))
        status = self.path.stat()
        self._versions = kept
        self._identity = (status.st_dev, status.st_ino)
        self._offset = status.st_size
        self._lines = len(lines)
        self._version = VERSION
