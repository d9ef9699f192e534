"""Opening, making and locking the directory of a files store.

:class:`Directory` is a store's hold on its directory: whether it is a store (its
marker), making it one, the lock every reader and writer takes, the open descriptors
they work through, and the errors that name the directory.  Opening it finishes a batch
a crash interrupted (:func:`~experiments.stores._files_journal.recover`).
:class:`~experiments.stores.files.FileStore` makes one per store object and hands it to
its reader (``_files_reader``) and writer (``_files_writer``), which do their I/O
through it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from experiments.errors import StoreError
from experiments.stores import _access, _atomic
from experiments.stores import _files_layout as layout
from experiments.stores._filenames import is_temporary
from experiments.stores._files_journal import recover
from experiments.stores._files_migrate import migrate
from experiments.stores._refusals import missing_store, newer_layout

__all__ = ["Directory"]

#: Errors of a directory this process may not change (read-only, or another user's).
_UNWRITABLE: Final = (errno.EROFS, errno.EACCES, errno.EPERM)


class Directory:
    """A files store's directory: its marker, its lock and its open descriptors.

    ``check_open`` raises if the store object was closed; every read and write checks it
    first.  The directory is *ready* once it is known to be a store and any interrupted
    batch is finished: that happens once per store object, on the first read or write
    (or at once when the store is made).
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout: float,
        create: bool | None,
        check_open: Callable[[], None],
    ) -> None:
        self.path = path
        self.check_open = check_open
        self._timeout = timeout
        self._create = create
        self._ready = False
        self._ready_lock = threading.Lock()
        self._pid = os.getpid()

    # --- what it is, and errors that say so ------------------------------------------

    def where(self) -> str:
        """The store, as messages name it."""
        return f"files store {str(self.path)!r}"

    def missing(self) -> StoreError:
        return missing_store(self.path)

    def marker_exists(self) -> bool:
        marker = self.path / layout.MARKER
        return _access.present(marker) and marker.is_file()

    def exists(self) -> bool:
        return self._ready or self.marker_exists()

    def failed(self, doing: str, exc: OSError) -> StoreError:
        """The StoreError for an OSError met while ``doing`` something to the store."""
        if exc.errno == errno.ENOENT and not self.marker_exists():
            return self.missing()
        if isinstance(exc, _atomic.LinkError):
            return StoreError(
                f"{self.where()}: {doing} failed: {exc.filename!r} {exc.strerror}, which the "
                f"store never follows; {layout.RESTORE}"
            )
        reason = exc.strerror or str(exc)
        if exc.errno in _UNWRITABLE:
            reason = _access.cause(self.path / layout.MARKER) or reason
        return StoreError(f"{self.where()}: {doing} failed: {reason}")

    # --- the lock and the descriptors ------------------------------------------------

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """The store's lock, shared or exclusive; StoreError if it stays taken too long."""
        self._check_process()
        try:
            with _atomic.lock(self.path / layout.LOCK, exclusive=exclusive, timeout=self._timeout):
                yield
        except _atomic.LockTimeoutError as exc:
            held = "; held by " + ", ".join(exc.holders) if exc.holders else ""
            doing = "write" if exclusive else "read"
            raise StoreError(
                f"{self.where()}: could not {doing}: its lock ({self.path / layout.LOCK}) stayed "
                f"taken for more than {exc.timeout:g}s{held}; wait for that program to "
                "finish and try again, stop it if it hangs, or raise ?timeout= in the URL"
            ) from None

    @contextlib.contextmanager
    def open_dirs(self, *, make_records: bool = False) -> Iterator[layout.Dirs]:
        """The store directory and ``records/``, open; ``records/`` made if asked."""
        root = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        records: int | None = None
        try:
            try:
                records = _atomic.open_directory(layout.RECORDS, root)
            except FileNotFoundError:
                if make_records:
                    os.mkdir(layout.RECORDS, dir_fd=root)
                    _atomic.fsync_directory(root)
                    records = _atomic.open_directory(layout.RECORDS, root)
            except _atomic.LinkError as exc:
                advice = f"put the records directory itself there; {layout.RESTORE}"
                raise layout.link_refused(self.path / layout.RECORDS, exc, advice) from None
            yield layout.Dirs(root, records)
        finally:
            if records is not None:
                os.close(records)
            os.close(root)

    def record_dir(self, records: int, name: str) -> int | None:
        """The descriptor of a record's directory; None if there is none."""
        try:
            return _atomic.open_directory(name, records)
        except FileNotFoundError:
            return None
        except _atomic.LinkError as exc:
            if exc.errno == errno.ENOTDIR and not (self.path / layout.RECORDS / name).is_symlink():
                return None  # a plain file where no record is: verify() reports it
            raise layout.link_refused(self.path / layout.RECORDS / name, exc) from None

    # --- opening and making it -------------------------------------------------------

    def ensure(self, *, write: bool) -> None:
        """Make sure the store is open and its directory ready, for a read or a write."""
        self.check_open()
        if self._ready:
            return
        if not write and not self.marker_exists():
            raise self.missing()
        if write and self._create is False and not self.marker_exists():
            raise self.missing()
        self.prepare(create=write)
        if not self._ready:
            raise self.missing()

    def prepare(self, *, create: bool) -> None:
        """Check the directory is a store (making it one if asked), and finish any batch."""
        self._check_process()
        with self._ready_lock:
            if self._ready:
                return
            try:
                if not self.marker_exists():
                    if not create:
                        self._check_adoptable()
                        return
                    self._make()
                version = self.check_marker()
                self._recover_on_open()
                if version < layout.FORMAT_VERSION:
                    self._migrate_on_open()
            except OSError as exc:
                raise self.failed("opening it", exc) from None
            self._ready = True

    def settings(self) -> dict[str, str]:
        """The settings ``store.json`` holds."""
        try:
            with self.open_dirs() as dirs:
                _, body = layout.read_marker(_atomic.read_bytes(layout.MARKER, dirs.root))
        except OSError as exc:
            raise self.failed("reading its settings", exc) from None
        return layout.settings_of(body)

    def put_setting(self, name: str, value: str | None) -> None:
        """Set (None: remove) one setting in ``store.json``, under the exclusive lock."""
        self.ensure(write=True)
        try:
            with self.locked(exclusive=True), self.open_dirs() as dirs:
                version, body = layout.read_marker(_atomic.read_bytes(layout.MARKER, dirs.root))
                settings = layout.settings_of(body)
                if value is None:
                    settings.pop(name, None)
                else:
                    settings[name] = value
                done = body.get("migrations")
                history = list(done) if isinstance(done, list) else None
                _atomic.replace(
                    layout.MARKER, layout.marker(version, history, settings=settings), dirs.root
                )
        except OSError as exc:
            raise self.failed("writing its settings", exc) from None

    def check_marker(self) -> int:
        """The format ``store.json`` names; StoreError unless this version can read it."""
        where = str(self.path / layout.MARKER)
        try:
            with self.open_dirs() as dirs:
                raw = _atomic.read_bytes(layout.MARKER, dirs.root)
        except FileNotFoundError:
            raise self.missing() from None
        except _atomic.LinkError as exc:
            raise layout.link_refused(where, exc, advice=None) from None
        try:
            version, _ = layout.read_marker(raw)
        except layout.Unreadable as exc:
            raise exc.refused(where) from None
        if version > layout.FORMAT_VERSION:
            raise newer_layout(
                f"{where}: the store", "files store format", version, layout.FORMAT_VERSION
            )
        return version

    def _check_process(self) -> None:
        """In a child of fork(), a new thread lock: another thread may have held the old one."""
        if self._pid != os.getpid():
            self._ready_lock = threading.Lock()
            self._pid = os.getpid()

    def _check_adoptable(self) -> None:
        """A directory without a marker may become a store only if nothing else is in it."""
        if not self.path.is_dir():
            raise StoreError(
                f"{str(self.path)!r} is a file, not a directory; a files:// store is a "
                "directory of its own: choose another path"
            )
        with os.scandir(self.path) as entries:
            foreign = [entry.name for entry in entries if not _made_by_us(entry)]
        if foreign and not self.marker_exists():  # made by another process meanwhile: fine
            shown = ", ".join(sorted(foreign)[:5])
            raise StoreError(
                f"{str(self.path)!r} is not a strategy-experiments store: it has no "
                f"{layout.MARKER} but holds other files ({shown}); choose an empty or new directory"
            )

    def _make(self) -> None:
        parent = self.path.absolute().parent
        if not self.path.exists():
            if not parent.is_dir():
                raise StoreError(
                    f"cannot create {str(self.path)!r}: the directory {str(parent)!r} "
                    "does not exist"
                )
            with contextlib.suppress(FileExistsError):
                self.path.mkdir()
            parent_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                _atomic.fsync_directory(parent_fd)
            finally:
                os.close(parent_fd)
        self._check_adoptable()  # before the lock, so a foreign directory gets no lock file
        with self.locked(exclusive=True), self.open_dirs() as dirs:
            if self.marker_exists():
                return  # another process made it while we waited for the lock
            for name, text in layout.GIT_FILES.items():
                with contextlib.suppress(FileExistsError):
                    _atomic.create_exclusive(name, text.encode(), dirs.root)
            with contextlib.suppress(FileExistsError):
                os.mkdir(layout.RECORDS, dir_fd=dirs.root)
            _atomic.create_exclusive(layout.MARKER, layout.marker(layout.FORMAT_VERSION), dirs.root)
            _atomic.fsync_directory(dirs.root)

    def _migrate_on_open(self) -> None:
        """Bring a store of an older format up to date (see ``_files_migrate``).

        Where the store cannot be written, it is read as it is: reading upgrades what
        it reads.
        """
        try:
            with self.locked(exclusive=True), self.open_dirs() as dirs:
                migrate(dirs)
        except layout.Unreadable as exc:
            raise exc.refused(self.path / layout.MARKER) from None
        except OSError as exc:
            if exc.errno not in _UNWRITABLE:
                raise

    def _recover_on_open(self) -> None:
        if not (self.path / layout.JOURNAL).exists():
            return
        try:
            with self.locked(exclusive=True), self.open_dirs() as dirs:
                recover(dirs, self.path)
        except OSError as exc:
            if exc.errno not in _UNWRITABLE:
                raise
            # Read-only here: readers leave out what the journal says is unfinished.


def _made_by_us(entry: os.DirEntry[str]) -> bool:
    """Whether an entry of a directory with no marker yet was left by making a store there."""
    if entry.name in (layout.LOCK, layout.MARKER) or is_temporary(entry.name):
        return True
    ours = layout.GIT_FILES.get(entry.name)
    if ours is not None and entry.is_file(follow_symlinks=False):
        try:
            return Path(entry.path).read_text(encoding="utf-8") == ours
        except (OSError, ValueError):
            return False
    if entry.name == layout.RECORDS and entry.is_dir(follow_symlinks=False):
        with os.scandir(entry.path) as inside:
            return next(inside, None) is None
    return False
