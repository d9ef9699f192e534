"""Faults to test a storage backend against: failing I/O calls, small and read-only file
systems, and users who may not write.

A backend must meet each of them with an :class:`~experiments.errors.ExperimentsError`
that says what went wrong, and leave the store as it was::

    import errno

    import pytest

    from experiments import Objective, StoreError
    from experiments.serialization import to_json
    from experiments.testing.faults import fail_nth


    def test_a_failed_flush_changes_nothing(store):
        before = [to_json(r) for r in store.export()]
        with fail_nth("fsync", 1, errno.EIO), pytest.raises(StoreError):
            store.save(Objective(title="Lost"))
        assert [to_json(r) for r in store.export()] == before

:func:`fail_nth` replaces a function of ``os`` for the with-block, so it reaches
code that calls ``os.write``, ``os.fsync`` and friends, not C libraries that do their
own I/O (SQLite, libpq): those are tested with :func:`tmpfs` and
:func:`file_size_limit`.  Mounting a file system and changing user need root; on a
machine without it the test skips with the reason, and fails under ``CI=true``, where
it must run.  POSIX only.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pickle
import resource
import signal
import subprocess
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final, TypeVar

import attrs
import pytest

from experiments.errors import ExperimentsError

__all__ = [
    "CALLS",
    "Fault",
    "error_of",
    "fail_nth",
    "file_size_limit",
    "in_child",
    "needs_root",
    "remount",
    "tmpfs",
    "unprivileged",
]

T = TypeVar("T")

#: The calls :func:`fail_nth` can make fail, and the functions of ``os`` they stand for.
CALLS: Final = {
    "open": ("open",),
    "write": ("write",),
    "fsync": ("fsync",),
    "rename": ("rename", "replace"),
    "link": ("link",),
    "unlink": ("unlink", "rmdir"),
    "mkdir": ("mkdir",),
}

#: The user and group an unprivileged child runs as (``nobody`` on Debian).
NOBODY: Final = 65534


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def needs_root(what: str) -> None:
    """Skip the calling test unless it runs as root; fail instead under ``CI=true``."""
    if os.geteuid() == 0:
        return
    reason = f"{what} needs root"
    if _in_ci():
        pytest.fail(f"{reason}; CI runs as root and must run this test")
    pytest.skip(reason)


@attrs.define
class Fault:
    """What :func:`fail_nth` saw: how many matching calls were made, and whether it struck."""

    call: str
    nth: int
    calls: int = 0
    struck: bool = False


@contextlib.contextmanager
def fail_nth(call: str, nth: int, error: int = errno.EIO, *, times: int = 1) -> Iterator[Fault]:
    """Make the ``nth`` call of ``call`` (a key of :data:`CALLS`) fail with ``error``.

    Every call before it goes through; so does every call after it, as after a passing
    fault, unless ``times`` makes that many calls in a row fail (a lasting fault).  The
    :class:`Fault` yielded counts the calls, so a sweep knows when ``nth`` went past the
    last one (``fault.struck`` stays False).
    """
    if call not in CALLS:
        raise ValueError(f"cannot fail {call!r}; choose one of {', '.join(CALLS)}")
    fault = Fault(call, nth)
    originals = {name: getattr(os, name) for name in CALLS[call]}

    def failing(original: Callable[..., Any]) -> Callable[..., Any]:
        def replacement(*args: Any, **kwargs: Any) -> Any:
            fault.calls += 1
            if nth <= fault.calls < nth + times:
                fault.struck = True
                raise OSError(error, os.strerror(error))
            return original(*args, **kwargs)

        return replacement

    for name, original in originals.items():
        setattr(os, name, failing(original))
    try:
        yield fault
    finally:
        for name, original in originals.items():
            setattr(os, name, original)


@contextlib.contextmanager
def tmpfs(path: str | os.PathLike[str], size: str = "256k") -> Iterator[Path]:
    """Mount a fresh ``tmpfs`` of ``size`` on the directory ``path`` for the with-block."""
    needs_root("mounting a tmpfs")
    where = Path(path)
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where))
    try:
        yield where
    finally:
        _mount_command("umount", "-l", str(where))


def remount(path: str | os.PathLike[str], *, read_only: bool) -> None:
    """Remount the file system mounted at ``path`` (by :func:`tmpfs`) read-only or writable."""
    needs_root("remounting a file system")
    _mount("-o", "remount,ro" if read_only else "remount,rw", str(path))


def _mount(*arguments: str) -> None:
    _mount_command("mount", *arguments)


def _mount_command(command: str, *arguments: str) -> None:
    done = subprocess.run(  # noqa: S603 - mount and umount with arguments of our own
        [command, *arguments], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        reason = f"{command} {' '.join(arguments)} failed: {done.stderr.strip()}"
        if _in_ci():
            pytest.fail(f"{reason}; CI must be able to mount")
        pytest.skip(reason)


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Let this process write files of at most ``size`` bytes in the with-block.

    A larger write fails with ``EFBIG`` (``SIGXFSZ`` is ignored meanwhile), as on a disk
    that is full; it needs no root, and works where no file system can be mounted.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def unprivileged(function: Callable[..., T], *args: Any, user: int = NOBODY) -> T:
    """Call ``function(*args)`` in a forked child that runs as ``user``, not as root.

    As root, permissions stop nothing; a child that gives root up meets them as any user
    would.  See :func:`in_child` for what comes back.
    """
    needs_root("running as another user")
    return in_child(function, *args, user=user)


def in_child(function: Callable[..., T], *args: Any, user: int | None = None) -> T:
    """Call ``function(*args)`` in a forked child (as ``user``, if given) and return its result.

    For what must not touch the test process: a file size limit, another user.  The
    child's return value (or exception) comes back pickled: return plain values, and
    raise exceptions that pickle.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its outcome is what the parent checks
        os.close(read_end)
        outcome: tuple[str, Any]
        try:
            if user is not None:
                os.setgroups([])
                os.setgid(user)
                os.setuid(user)
            outcome = ("returned", function(*args))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            outcome = ("raised", _picklable(exc))
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(outcome, pipe)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        raw = pipe.read()
    os.waitpid(pid, 0)
    if not raw:
        raise RuntimeError("the child process died without reporting")
    kind, value = pickle.loads(raw)  # noqa: S301 - from our own child
    if kind == "raised":
        raise value
    result: T = value
    return result


def error_of(function: Callable[..., object], *args: Any) -> str | None:
    """The message of the ExperimentsError ``function(*args)`` raises; None if it returns.

    Made to run in a child (``unprivileged(error_of, store_call, ...)``) and to tell the
    test what a user would have read.
    """
    try:
        function(*args)
    except ExperimentsError as exc:
        return str(exc)
    return None


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its traceback."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    except Exception:  # noqa: BLE001 - any failure to pickle means: send text instead
        text = "".join(traceback.format_exception(exc))
        return RuntimeError(f"the unprivileged child raised:\n{text}")
    return exc
