"""The SQLite backend: damaged and foreign files, URL options, schema migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from experiments import Objective, Plugins, SchemaError, StoreError, connect
from experiments.stores.sqlite import APPLICATION_ID, MIGRATIONS


def url(path: Path, options: str = "") -> str:
    return f"sqlite:///{path}{options}"


def healthy(path: Path) -> None:
    with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
        for number in range(200):
            store.save(Objective(title=f"Objective {number}", description="x" * 200))


def read_everything(path: Path) -> int:
    with connect(url(path), plugins=Plugins(autoload=False)) as store:
        return sum(1 for _ in store.query(Objective))


class TestDamagedFiles:
    """A file that is not a healthy store gives a clear error naming it, never a traceback."""

    def test_garbage_bytes(self, tmp_path: Path) -> None:
        """Random bytes are not a database."""
        path = tmp_path / "garbage.db"
        path.write_bytes(os.urandom(8192))
        with pytest.raises(StoreError, match=r"garbage\.db.*not a SQLite database") as info:
            read_everything(path)
        assert (
            not isinstance(info.value.__cause__, sqlite3.Error) or info.value.__suppress_context__
        )

    def test_truncated_file(self, tmp_path: Path) -> None:
        """A store cut off half-way is reported as damaged, naming the file."""
        path = tmp_path / "truncated.db"
        healthy(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
        for wal in tmp_path.glob("truncated.db-*"):
            wal.unlink()
        with pytest.raises(StoreError, match=r"truncated\.db"):
            read_everything(path)

    def test_overwritten_pages(self, tmp_path: Path) -> None:
        """Pages overwritten with zeros make reads fail with a clear error, and verify says so."""
        path = tmp_path / "zeroed.db"
        healthy(path)
        with path.open("r+b") as handle:
            handle.seek(4096 * 2)
            handle.write(b"\0" * 4096 * 3)
        with pytest.raises(StoreError, match=r"zeroed\.db"):
            read_everything(path)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            damage = store.verify()
        assert damage
        assert all("zeroed.db" in d.location for d in damage)

    def test_newer_schema_version(self, tmp_path: Path) -> None:
        """A store written by a newer version is refused with a SchemaError saying so."""
        path = tmp_path / "newer.db"
        healthy(path)
        with sqlite3.connect(path) as raw:
            raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
        with pytest.raises(SchemaError, match=r"newer\.db.*newer strategy-experiments"):
            read_everything(path)

    def test_database_of_another_program(self, tmp_path: Path) -> None:
        """Another program's SQLite file is refused and left untouched."""
        path = tmp_path / "browser-history.db"
        with sqlite3.connect(path) as raw:
            raw.execute("CREATE TABLE visits (url TEXT, at INTEGER)")
            raw.execute("INSERT INTO visits VALUES ('https://example.org', 1)")
        before = path.read_bytes()
        with pytest.raises(StoreError, match=r"another program \(tables: visits\)"):
            read_everything(path)
        with pytest.raises(StoreError, match="another program"):
            connect(url(path), plugins=Plugins(autoload=False))
        assert path.read_bytes() == before

    def test_empty_file_becomes_a_store(self, tmp_path: Path) -> None:
        """An empty file (touched, not written) is taken as a new store on the first write."""
        path = tmp_path / "empty.db"
        path.touch()
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            store.save(Objective(title="First"))
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID

    def test_missing_directory(self, tmp_path: Path) -> None:
        """Writing into a directory that does not exist says which one."""
        store = connect(url(tmp_path / "nope" / "x.db"), plugins=Plugins(autoload=False))
        with pytest.raises(StoreError, match="does not exist"):
            store.save(Objective(title="Nowhere"))
        store.close()


class TestFirstOpen:
    """Making a new file a store waits for whoever else has it open, up to the timeout."""

    @staticmethod
    def writing(path: Path) -> sqlite3.Connection:
        """Another opener inside a write transaction, as when it creates the store itself."""
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        raw.execute("BEGIN IMMEDIATE")
        return raw

    def test_waits_for_another_writer_to_finish(self, tmp_path: Path) -> None:
        """SQLite refuses the switch to WAL at once while another holds the file; we wait."""
        path = tmp_path / "new.db"
        path.touch()
        raw = self.writing(path)
        release = threading.Timer(0.3, raw.execute, ["COMMIT"])
        release.start()
        try:
            with connect(url(path), plugins=Plugins(autoload=False)) as store:
                store.save(Objective(title="First"))
        finally:
            release.join()
            raw.close()
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert check.execute("SELECT count(*) FROM records").fetchone()[0] == 1

    def test_gives_up_after_the_timeout_and_leaves_the_file_alone(self, tmp_path: Path) -> None:
        """A writer that never lets go gets a clear error, and the file is not half made."""
        path = tmp_path / "new.db"
        path.touch()
        raw = self.writing(path)
        try:
            with pytest.raises(StoreError, match=r"locked .* more than 0\.2s"):
                connect(url(path, "?timeout=0.2"), plugins=Plugins(autoload=False))
        finally:
            raw.close()
        assert path.read_bytes() == b""


class TestOptions:
    """URL options."""

    def test_synchronous_and_timeout(self, tmp_path: Path) -> None:
        """synchronous=normal trades durability for speed; timeout sets the busy wait."""
        with connect(
            url(tmp_path / "fast.db", "?synchronous=normal&timeout=5"), create=True
        ) as store:
            store.save(Objective(title="Quick"))
            assert store.count() == 1

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ("?synchronous=sometimes", "synchronous"),
            ("?timeout=soon", "timeout"),
            ("?timeout=-1", "timeout"),
            ("?timeout=nan", "timeout"),
            ("?timeout=inf", "timeout"),
            ("?journal=delete", "unknown option"),
        ],
    )
    def test_bad_options(self, tmp_path: Path, options: str, message: str) -> None:
        """A misspelt option or value is refused, naming it."""
        with pytest.raises(StoreError, match=message):
            connect(url(tmp_path / "x.db", options), plugins=Plugins(autoload=False))

    def test_no_path(self) -> None:
        """A URL without a file says how to write one."""
        with pytest.raises(StoreError, match="names no file"):
            connect("sqlite://", plugins=Plugins(autoload=False))


@pytest.mark.slow
def test_first_open_from_many_processes_migrates_once(tmp_path: Path) -> None:
    """8 processes opening a new store at once all succeed, and the schema is applied once."""
    path = tmp_path / "fresh.db"
    start_at = time.time() + 1.5
    code = (
        "import sys, time, experiments\n"
        "while time.time() < float(sys.argv[2]): time.sleep(0.001)\n"
        "with experiments.connect(sys.argv[1], plugins=experiments.Plugins(autoload=False)) as s:\n"
        "    s.save(experiments.Objective(title='from a child'))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, url(path), str(start_at)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    try:
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
    finally:
        for process in processes:
            process.kill()
            process.communicate()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = raw.execute("SELECT count(*) FROM sqlite_master WHERE name = 'records'").fetchone()
        assert tables[0] == 1
        assert raw.execute("SELECT count(*) FROM records").fetchone()[0] == 8


class TestErasure:
    """A purge leaves no trace in the database file or its write-ahead log."""

    def test_purge_under_a_reader_is_finished_once_the_reader_lets_go(self, tmp_path: Path) -> None:
        """With a reader holding an old snapshot, the log is emptied after the next write."""
        from experiments import Participant  # noqa: PLC0415 - only this test needs it

        path = tmp_path / "erase.db"
        marker = f"Secret-{os.urandom(8).hex()}"
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            person = store.save(Participant(role="citizen", name=marker))
            store.save_all(Objective(title=f"Objective {n}") for n in range(100))
            reader = sqlite3.connect(path)
            reader.execute("BEGIN")
            assert reader.execute("SELECT count(*) FROM versions").fetchone()[0] > 100
            started = time.monotonic()
            store.purge(person)
            assert time.monotonic() - started < 5  # it does not wait out the busy timeout
            reader.execute("COMMIT")
            reader.close()
            store.save(Objective(title="A later write"))
            files = sorted(tmp_path.glob("erase.db*"))
            assert [p.name for p in files if marker.encode() in p.read_bytes()] == []
        assert [
            p.name for p in tmp_path.glob("erase.db*") if marker.encode() in p.read_bytes()
        ] == []
