"""Full disks, read-only file systems and other users' stores: typed errors, nothing lost.

Small file systems are ``tmpfs`` mounts (as root); where none can be mounted, a file
size limit stands in for a full disk (SQLite, whose store is one growing file).  Other
users are a forked child that gives root up.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from snapshots import state

from experiments import Objective, Plugins, StoreError, connect
from experiments.stores import Store
from experiments.testing.faults import (
    error_of,
    file_size_limit,
    in_child,
    needs_root,
    remount,
    tmpfs,
    unprivileged,
)
from reliability_table import Figures

pytestmark = pytest.mark.reliability

BACKENDS = ["sqlite", "files"]


def _url(backend: str, where: Path) -> str:
    return f"sqlite:///{where}/store.db" if backend == "sqlite" else f"files:///{where}/store"


def _open(url: str, **options: object) -> Store:
    return connect(url, plugins=Plugins(autoload=False), **options)  # type: ignore[arg-type]


def _objectives(count: int, start: int = 0) -> list[Objective]:
    return [Objective(title=f"Objective {n}", description="x" * 400) for n in range(start, count)]


def _free(where: Path) -> int:
    status = os.statvfs(where)
    return status.f_bavail * status.f_frsize


def _cli(url: str, *args: str) -> tuple[int, str]:
    """Exit code and standard error of ``experiments ARGS`` on ``url``, run in this process.

    In this process, so that a child that gave root up can run it: it may not be
    allowed to start the interpreter of a virtual environment in root's directories.
    """
    from click.testing import CliRunner  # noqa: PLC0415 - only the CLI tests need it

    from experiments.cli import cli  # noqa: PLC0415

    result = CliRunner().invoke(
        cli, list(args), env={"EXPERIMENTS_STORE": url, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )
    return result.exit_code, result.stderr


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A fresh 512 KiB tmpfs (as root; skipped otherwise, and failed under CI)."""
    with tmpfs(tmp_path / "mount", "512k") as where:
        yield where


class TestFullDisk:
    """A disk that fills up: the write that does not fit fails whole, the rest stays."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_writing_until_the_disk_is_full(
        self, backend: str, mounted: Path, reliability: Figures
    ) -> None:
        """Save until the disk is full: a StoreError, every earlier save there, room again works."""
        filler = mounted / "filler"
        filler.write_bytes(b"\0" * 64 * 1024)
        url = _url(backend, mounted)
        saved = 0
        with _open(url, create=True) as store:
            message = ""
            for objective in _objectives(5000):
                try:
                    store.save(objective)
                except StoreError as exc:
                    message = str(exc)
                    break
                saved += 1
            assert message, "the disk never filled up"
            assert "No space left" in message or "full" in message, message
            assert store.count(Objective) == saved
            damage = [d for d in store.verify() if "temporary file" not in d.problem]
            assert damage == []
            filler.unlink()
            store.save(Objective(title="Once there is room again"))
            assert store.count(Objective) == saved + 1
        reliability.record(
            "disk full (tmpfs)",
            backend,
            tried=saved + 1,
            figures=f"{saved} saves fitted; the next: StoreError, nothing lost; room again: saved",
        )

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_a_batch_against_every_amount_of_room_left(
        self, backend: str, mounted: Path, reliability: Figures
    ) -> None:
        """A batch of 10 with 0 to 92 KiB left: all 10 saved, or a StoreError and none."""
        url = _url(backend, mounted)
        cases = failures = 0
        problems: list[str] = []
        for room in range(0, 96 * 1024, 4096):
            with _open(url, create=True) as store:
                store.save_all(_objectives(3))
                before = state(store)
                filler = mounted / "filler"
                filler.write_bytes(b"\0" * max(0, _free(mounted) - room))
                try:
                    store.save_all(_objectives(13, start=3))
                except StoreError:
                    failures += 1
                    if state(store) != before:
                        problems.append(f"{room} bytes left: failed, and the store changed")
                else:
                    if store.count(Objective) != 13:
                        problems.append(f"{room} bytes left: saved, but not all of it")
                filler.unlink()
                if [d for d in store.verify() if "temporary file" not in d.problem]:
                    problems.append(f"{room} bytes left: verify() finds damage")
            cases += 1
            for path in list(mounted.iterdir()):
                _remove(path)
        reliability.record(
            "disk full: batch vs room left",
            backend,
            tried=cases,
            failed=len(problems),
            figures=f"{failures} batches refused whole (StoreError), the others saved whole",
        )
        assert problems == []

    def test_a_file_size_limit_stops_sqlite_cleanly(
        self, tmp_path: Path, reliability: Figures
    ) -> None:
        """Where nothing can be mounted: a file size limit fills SQLite's file, as a full disk."""
        url = _url("sqlite", tmp_path)
        with _open(url, create=True) as store:
            store.save_all(_objectives(20))
            size = (tmp_path / "store.db").stat().st_size

        def write_until_refused() -> tuple[int, str]:
            saved = 0
            with file_size_limit(size + 256 * 1024), _open(url) as store:
                for objective in _objectives(2000):
                    try:
                        store.save(objective)
                    except StoreError as exc:
                        return saved, str(exc)
                    saved += 1
            return saved, ""

        saved, message = in_child(write_until_refused)
        assert message, "the limit was never reached"
        with _open(url) as store:
            assert store.count(Objective) == 20 + saved
            assert store.verify() == []
            store.save(Objective(title="Without the limit"))
        reliability.record(
            "disk full (file size limit)",
            "sqlite",
            tried=saved + 1,
            figures=f"{saved} saves fitted; the next: StoreError, nothing lost",
        )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for inner in path.iterdir():
            _remove(inner)
        path.rmdir()
    else:
        path.unlink()


class TestReadOnlyFileSystem:
    """A store on a file system mounted read-only: read fully, writes refused saying why."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_read_only_mount(self, backend: str, mounted: Path, reliability: Figures) -> None:
        """Reads work; a write is a StoreError naming the read-only mount, from the CLI too."""
        url = _url(backend, mounted)
        with _open(url, create=True) as store:
            store.save_all(_objectives(10))
            before = state(store)
        remount(mounted, read_only=True)
        try:
            with _open(url) as store:
                assert state(store) == before
                assert store.count(Objective) == 10
                assert store.verify() == []
                with pytest.raises(StoreError, match="read-only"):
                    store.save(Objective(title="Refused"))
            code, stderr = _cli(url, "--json", "list", "objectives")
            assert code == 0, stderr
            code, stderr = _cli(url, "add", "objective", "Refused")
            assert code == 3
            assert "read-only" in _one_line(stderr)
        finally:
            remount(mounted, read_only=False)
        reliability.record(
            "read-only file system",
            backend,
            tried=4,
            figures="read, queried, verified; a write: StoreError naming the read-only mount",
        )


class TestAnotherUsersStore:
    """A store of another user, used by a process that is not root."""

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_reads_or_a_named_cause_and_writes_refused(
        self, backend: str, reliability: Figures
    ) -> None:
        """Root's store, used as nobody: typed errors naming the cause, the store unchanged."""
        needs_root("using a store as another user")
        with tempfile.TemporaryDirectory() as scratch:
            Path(scratch).chmod(0o755)
            url = _url(backend, Path(scratch))
            with _open(url, create=True) as store:
                store.save_all(_objectives(5))
                before = state(store)

            def use() -> tuple[str | None, str | None]:
                opening = error_of(lambda: _open(url).close())  # SQLite cannot even read it
                if opening is not None:
                    return opening, opening
                with _open(url) as store:
                    read = error_of(store.count)
                    return read, error_of(store.save, Objective(title="Not mine to write"))

            read, write = unprivileged(use)
            assert write is not None
            assert "may not" in write
            assert read is None or "may not" in read
            code, stderr = unprivileged(_cli, url, "add", "objective", "Not mine")
            assert code == 3
            assert "may not" in _one_line(stderr)
            with _open(url) as store:
                assert state(store) == before
        reliability.record(
            "permission: another user's store",
            backend,
            tried=3,
            figures=("read: " + ("works" if read is None else "StoreError naming the cause"))
            + "; write: StoreError naming the cause, from the CLI exit 3",
        )

    @pytest.mark.parametrize("backend", BACKENDS)
    def test_a_store_behind_a_closed_directory(self, backend: str, reliability: Figures) -> None:
        """A path this user may not enter on the way: a StoreError, never PermissionError."""
        needs_root("using a store as another user")
        with tempfile.TemporaryDirectory() as scratch:
            url = _url(backend, Path(scratch))
            with _open(url, create=True) as store:
                store.save(Objective(title="Hidden"))
            Path(scratch).chmod(0o700)

            def attempts() -> list[str | None]:
                calls: list[Callable[[], object]] = [
                    lambda: _open(url).count(),
                    lambda: _open(url, create=False),
                    lambda: _open(url).save(Objective(title="Nope")),
                ]
                return [error_of(call) for call in calls]

            messages = unprivileged(attempts)
            assert all(m is not None and "Permission denied" in m for m in messages), messages
            code, stderr = unprivileged(_cli, url, "list", "objectives")
            assert code == 3
            _one_line(stderr)
        reliability.record(
            "permission: unreachable store",
            backend,
            tried=4,
            figures="count, open, save and the CLI: StoreError / exit 3, one line",
        )
