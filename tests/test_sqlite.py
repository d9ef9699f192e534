"""The SQLite backend: damaged and foreign files, URL options, schema migrations."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import workers
from experiments import (
    Decision,
    Experiment,
    Hypothesis,
    Learning,
    Objective,
    Plugins,
    SchemaError,
    StoreError,
    Template,
    connect,
)
from experiments.query import F
from experiments.rollup import rollup
from experiments.serialization import SCHEMA_VERSION, to_data
from experiments.stores import _mounts, _sqlite_layout, _sqlstore
from experiments.stores.sqlite import APPLICATION_ID, MIGRATIONS
from experiments.testing.faults import error_of, remount, tmpfs, unprivileged
from old_stores import assert_upgraded, sqlite_layout_2, undo_layout_9, undo_layout_10
from racing import at_once
from sql_stores import sqlite_plan


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

    def test_text_that_is_not_utf8(self, tmp_path: Path) -> None:
        """Bytes that are not UTF-8 where text belongs: a StoreError saying it is damaged."""
        path = tmp_path / "scribbled.db"
        healthy(path)
        with contextlib.closing(sqlite3.connect(path)) as raw:
            raw.execute("UPDATE versions SET data = CAST(x'7b22ff227d' AS TEXT)")
            raw.commit()
        with pytest.raises(StoreError, match="damaged: it holds text that is not UTF-8"):
            read_everything(path)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            assert any("not UTF-8" in d.problem for d in store.verify())

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
        store = connect(url(path, "?timeout=0.2"), plugins=Plugins(autoload=False))
        try:
            with pytest.raises(StoreError, match=r"locked .* more than 0\.2s"):
                store.save(Objective(title="First"))
        finally:
            store.close()
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


class TestEmptyFiles:
    """Reading never makes a store of a file that is not one yet."""

    def test_reading_an_empty_file_changes_nothing(self, tmp_path: Path) -> None:
        """A 0-byte file: reads and verify() say it is no store, and it stays 0 bytes."""
        path = tmp_path / "empty.db"
        path.touch()
        with pytest.raises(StoreError, match=r"empty\.db' is empty, not a .* store yet"):
            connect(url(path), plugins=Plugins(autoload=False), create=False)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            with pytest.raises(StoreError, match="is empty"):
                store.count()
            with pytest.raises(StoreError, match="is empty"):
                list(store.query(Objective))
            damage = store.verify()
            assert [d.location for d in damage] == [str(path)]
            assert "is empty" in damage[0].problem
        assert path.read_bytes() == b""
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]

    def test_an_empty_database_is_no_store_either(self, tmp_path: Path) -> None:
        """A SQLite file with no tables (made by another tool) is not migrated by a read."""
        path = tmp_path / "blank.db"
        with contextlib.closing(sqlite3.connect(path)) as raw:
            raw.execute("PRAGMA journal_mode=WAL")
        before = path.read_bytes()
        with pytest.raises(StoreError, match="not a strategy-experiments store yet"):
            connect(url(path), plugins=Plugins(autoload=False), create=False)
        assert path.read_bytes() == before


class TestFailedOpens:
    """An open that fails closes what it opened: no -wal or -shm file is left behind."""

    @staticmethod
    def _wal_database(path: Path, *, application_id: int, user_version: int) -> None:
        with contextlib.closing(sqlite3.connect(path)) as raw:
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("CREATE TABLE things (name TEXT)")
            raw.execute(f"PRAGMA application_id={application_id}")
            raw.execute(f"PRAGMA user_version={user_version}")
            raw.commit()

    @pytest.mark.parametrize(
        ("application_id", "user_version", "error"),
        [(0x1234, 0, StoreError), (APPLICATION_ID, len(MIGRATIONS) + 1, SchemaError)],
        ids=["another-program", "newer-schema"],
    )
    def test_a_refused_file_keeps_no_companions(
        self, tmp_path: Path, application_id: int, user_version: int, error: type[Exception]
    ) -> None:
        """Another program's database or a newer schema: refused, and left as it was found."""
        path = tmp_path / "refused.db"
        self._wal_database(path, application_id=application_id, user_version=user_version)
        before = path.read_bytes()
        with pytest.raises(error):
            connect(url(path), plugins=Plugins(autoload=False))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["refused.db"]
        assert path.read_bytes() == before


class TestReadOnly:
    """A store on a read-only file system is read; writing it says why it cannot be."""

    def test_a_read_only_file_system_is_read(self, tmp_path: Path) -> None:
        """Mounted read-only: every read works, and a write names the read-only mount."""
        with tmpfs(tmp_path / "mount", "1m") as mount:
            path = mount / "store.db"
            with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
                saved = store.save(Objective(title="Kept"))
            remount(mount, read_only=True)
            with connect(url(path), plugins=Plugins(autoload=False)) as store:
                assert store.get(saved.id) == saved
                assert [o.id for o in store.query(Objective)] == [saved.id]
                assert store.verify() == []
                with pytest.raises(StoreError, match="mounted read-only"):
                    store.save(Objective(title="Refused"))
            assert sorted(p.name for p in mount.iterdir()) == ["store.db"]

    def test_changes_still_in_the_log_are_not_read_past(self, tmp_path: Path) -> None:
        """A write-ahead log with changes in it cannot be read there: the error says what to do."""
        path = tmp_path / "busy.db"
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            store.save(Objective(title="In the file"))
        with contextlib.closing(sqlite3.connect(path)) as holder:
            holder.execute("SELECT count(*) FROM records").fetchall()  # keeps the log alive
            with connect(url(path), plugins=Plugins(autoload=False)) as store:
                store.save(Objective(title="Only in the log"))
            with tmpfs(tmp_path / "mount", "1m") as mount:
                for name in ("busy.db", "busy.db-wal"):
                    (mount / name).write_bytes((tmp_path / name).read_bytes())
                remount(mount, read_only=True)
                with pytest.raises(StoreError, match=r"write-ahead log \(busy\.db-wal\)"):
                    connect(url(mount / "busy.db"), plugins=Plugins(autoload=False))

    def test_a_directory_this_user_may_not_write_is_named(self) -> None:
        """Another user's store in their directory: the error says this user may not write there."""
        with tempfile.TemporaryDirectory() as scratch:
            Path(scratch).chmod(0o755)
            path = Path(scratch) / "store.db"
            healthy(path)
            message = unprivileged(error_of, read_everything, path)
        assert message is not None
        assert "may not write in" in message
        assert "-shm" in message

    def test_a_store_this_user_may_not_reach_is_a_store_error(self, tmp_path: Path) -> None:
        """A path behind a directory this user may not enter: a StoreError saying so."""
        path = tmp_path / "store.db"
        healthy(path)
        tmp_path.chmod(0o700)
        message = unprivileged(error_of, read_everything, path)
        assert message is not None
        assert "cannot be reached (Permission denied)" in message


class TestFork:
    """A store opened before fork() gets connections of its own in the child."""

    def test_a_child_writes_through_its_own_connection(self, tmp_path: Path) -> None:
        """The parent closes (and so checkpoints) while the child writes: nothing is lost."""
        path = tmp_path / "forked.db"
        store = connect(url(path), plugins=Plugins(autoload=False), create=True)
        first = store.save(Objective(title="Before the fork"))
        go_read, go_write = os.pipe()
        done_read, done_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.close(go_write)
                os.read(go_read, 1)  # the parent has closed its store by now
                ids = [store.save(Objective(title=f"Child {n}")).id for n in range(5)]
                assert store.get(first.id) == first
                os.write(done_write, ",".join(ids).encode())
                code = 0
            finally:
                os._exit(code)
        os.close(go_read)
        os.close(done_write)
        store.close()  # the last connection of the parent: checkpoints, may remove the log
        os.write(go_write, b"1")
        os.close(go_write)
        with os.fdopen(done_read, "rb") as done:
            reported = done.read().decode().split(",")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        with connect(url(path), plugins=Plugins(autoload=False)) as again:
            assert {o.id for o in again.query(Objective)} == {first.id, *reported}
            assert again.verify() == []


class TestNetworkFileSystems:
    """A store on a file system shared over the network is refused, saying why."""

    TABLE = (
        "22 1 0:21 / / rw,relatime - ext4 /dev/vda rw\n"
        "35 22 0:50 / {point} {options} shared:7 - {type} server:/export rw,vers=4.2\n"
    )

    def _table(self, point: Path, kind: str, options: str = "rw,relatime") -> str:
        escaped = str(point).replace(" ", "\\040")
        return self.TABLE.format(point=escaped, type=kind, options=options)

    @pytest.mark.parametrize(
        ("kind", "networked"),
        [("nfs4", True), ("cifs", True), ("9p", True), ("fuse.sshfs", True), ("ext4", False)],
    )
    def test_the_mount_holding_a_path_is_found(
        self, tmp_path: Path, kind: str, networked: bool
    ) -> None:
        """The longest mount point containing the path decides; its type tells the rest."""
        point = tmp_path.resolve() / "with space"
        mount = _mounts.mount_of(point / "deep" / "store.db", self._table(point, kind))
        assert mount is not None
        assert mount.point == str(point)
        assert mount.type == kind
        assert mount.networked is networked
        outside = _mounts.mount_of(tmp_path / "other.db", self._table(point, kind))
        assert outside is not None
        assert outside.type == "ext4"
        assert _mounts.mount_of("/x", "garbage\n\n1 2 3 - \n") is None

    def test_sqlite_refuses_a_network_file_system(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Told the directory is NFS, no store is made there; read-only NFS is read."""
        path = tmp_path / "store.db"
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            saved = store.save(Objective(title="Made on a local disk"))
        table = tmp_path / "mountinfo"
        monkeypatch.setattr(_mounts, "MOUNTINFO", table)
        table.write_text(self._table(tmp_path.resolve(), "nfs4"), encoding="utf-8")
        with pytest.raises(StoreError, match=r"network file system \(nfs4 at .*PostgreSQL"):
            connect(url(tmp_path / "new.db"), plugins=Plugins(autoload=False), create=True)
        with pytest.raises(StoreError, match="network file system"):
            connect(url(path), plugins=Plugins(autoload=False))
        assert not (tmp_path / "new.db").exists()
        table.write_text(self._table(tmp_path.resolve(), "nfs4", "ro"), encoding="utf-8")
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            assert store.get(saved.id) == saved


def _outcome(parse, text):
    """What ``parse`` makes of ``text``: its value, or its error's type and message."""
    try:
        return "value", parse(text)
    except ValueError as exc:
        return type(exc).__name__, str(exc)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


class TestStoredJSON:
    """A SQL store parses each version's JSON as json.loads does, faster."""

    @given(
        value=_JSON_VALUES,
        before=st.sampled_from(["", " ", "\n", "\ufeff"]),
        after=st.sampled_from(["", " ", "\n", "x", "}", "{}"]),
    )
    def test_same_value_or_same_error_as_json_loads(self, value, before, after):
        """Any text, whole, padded or followed by garbage, gives json.loads's value or error."""
        text = before + json.dumps(value, ensure_ascii=False) + after
        assert _outcome(_sqlstore._parsed, text) == _outcome(json.loads, text)
        data = text.encode()
        assert _outcome(_sqlstore._parsed, data) == _outcome(json.loads, data)

    @given(text=st.text(max_size=40))
    def test_any_text_parses_as_json_loads_would(self, text):
        """Text that is mostly not JSON is refused with json.loads's own error."""
        assert _outcome(_sqlstore._parsed, text) == _outcome(json.loads, text)


class TestHotColumns:
    """The hot columns are the model's short fields, each added by a migration."""

    def test_every_hot_column_is_added_by_a_migration(self) -> None:
        """The columns the model asks for are those the migrations add, no more, no fewer."""
        _sqlite_layout.hot.cache_clear()
        assert set(_sqlite_layout.hot()) == _sqlite_layout.HOT_COLUMNS

    def test_every_time_column_of_migration_5_is_hot(self) -> None:
        """Each column migration 5 rewrites as an instant is still a hot column."""
        assert set(_sqlite_layout._TIME_COLUMNS) <= set(_sqlite_layout.hot())

    def test_the_views_are_worked_out_once(self) -> None:
        """views() gives the same statements each time, worked out on the first call."""
        assert _sqlite_layout.views() is _sqlite_layout.views()
        assert any("CREATE VIEW" in statement for statement in _sqlite_layout.views())


class TestLoadMany:
    """Several records' current versions read in one statement, as one by one."""

    def test_many_ids_read_as_each_alone(self, tmp_path: Path) -> None:
        """Ids beyond one statement's share, missing and deleted ones among them, read as
        ``_load`` reads each."""
        with connect(url(tmp_path / "s.db"), plugins=Plugins(autoload=False), create=True) as store:
            saved = store.save_all(Objective(title=f"Objective {n}") for n in range(1200))
            store.delete(saved[7])
            ids = [r.id for r in saved[::2]] + ["obj_missing", "not-stored", saved[7].id]
            loaded = store._load_many(ids)
            assert loaded == {i: store._load(i) for i in ids if store._load(i) is not None}
            assert len(loaded) == 601
            assert store._load_many([]) == {}
            assert store._load_many(["obj_missing"]) == {}

    def test_one_at_a_time_by_default(self) -> None:
        """A backend that loads one record at a time loads a slug's candidates only as far
        as the first that is there: one round trip, not one per kind."""
        with connect("memory://", plugins=Plugins(autoload=False)) as store:
            objective = store.save(Objective(title="Pilot", slug="pilot"))
            store.save(Experiment(title="Pilot", slug="pilot"))
            asked: list[str] = []
            load = store._load

            def counted(record_id: str) -> object:
                asked.append(record_id)
                return load(record_id)

            store._load = counted  # type: ignore[method-assign,assignment]
            assert store.resolve("pilot") == objective
            assert asked == ["pilot", objective.id]  # as an id, then as the first kind's slug

    def test_a_record_it_cannot_read_stops_no_reference_found_before_it(
        self, tmp_path: Path
    ) -> None:
        """A slug names the first kind that has it, though a later kind's record with that
        slug is of a newer library; the later one is still refused when it is named."""
        path = tmp_path / "s.db"
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            objective = store.save(Objective(title="Pilot", slug="pilot"))
            newer = store.save(Experiment(title="Pilot", slug="pilot"))
        data = to_data(newer) | {"schema": SCHEMA_VERSION + 1}
        with contextlib.closing(sqlite3.connect(path)) as raw, raw:
            raw.execute("UPDATE versions SET data = ? WHERE id = ?", (json.dumps(data), newer.id))
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            assert store.resolve("pilot") == objective
            assert store.resolve(objective.id) == objective
            with pytest.raises(StoreError, match="cannot be read"):
                store.resolve("pilot", Experiment)


class TestOlderLayouts:
    """A store of layout 2 is migrated once, by however many processes open it at once."""

    @pytest.mark.slow
    def test_eight_processes_migrate_a_layout_2_store_once(self, tmp_path: Path) -> None:
        """Layout 3 is applied once; schema-2 data reads upgraded, in SQL and in Python alike."""
        path = tmp_path / "layout-2.db"
        sqlite_layout_2(path)
        results = at_once(workers.open_stores, *[(url(path),) for _ in range(8)])
        assert all(len(result["ids"]) == 1 for result in results)
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 10
            columns = {row[1] for row in raw.execute("PRAGMA table_info(records)")}
        assert {"template", "shown_as", "since", "mandatory_for", "position"} <= columns
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            assert_upgraded(store)


class TestLayout9:
    """Layout 9's columns are filled from what a layout 8 store holds, once."""

    @staticmethod
    def _layout_8(path: Path) -> dict[str, str]:
        """A store as layout 8 left it, with a scope, a template's scope and a next step."""
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            template = store.save(Template(title="Pilot", slug="pilot", scope="participants=30"))
            experiment = store.save(Experiment(title="Walks", scope="participants=12"))
            plain = store.save(Experiment(title="Talks"))
            learning = store.save(
                Learning(experiment=experiment, observation="Came", next_action="Call them")
            )
            damaged = store.save(Learning(experiment=plain, observation="Lost"))
        with contextlib.closing(sqlite3.connect(path)) as raw, raw:
            undo_layout_9(raw)
            raw.execute("PRAGMA user_version = 8")
            raw.execute("UPDATE versions SET data = '{not json' WHERE id = ?", (damaged.id,))
        return {
            "template": template.id,
            "experiment": experiment.id,
            "learning": learning.id,
            "damaged": damaged.id,
        }

    def test_the_columns_hold_what_a_write_would(self, tmp_path: Path) -> None:
        """Experiments' and templates' scopes and learnings' next steps are found by query."""
        path = tmp_path / "layout-8.db"
        ids = self._layout_8(path)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            assert [t.id for t in store.query(Template, F.scope != None)] == [ids["template"]]  # noqa: E711
            assert [e.id for e in store.query(Experiment, F.scope != None)] == [ids["experiment"]]  # noqa: E711
            assert [
                item.id
                for item in store.query(Learning, F.next_action != None)  # noqa: E711
            ] == [ids["learning"]]
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == 10
        assert "COVERING INDEX records_key_result" in sqlite_plan(
            path,
            "SELECT kind, key_result, measured_at, id, value "
            "FROM records WHERE kind = 'measurement' AND key_result IS NOT NULL",
        )


class TestLayout10:
    """Layout 10's columns are filled from what a layout 9 store holds, once, and the
    few records with a structured field are found from indexes of their own."""

    @staticmethod
    def _layout_9(path: Path) -> dict[str, str]:
        """A store as layout 9 left it, with a criterion and next steps, and without."""
        with connect(url(path), plugins=Plugins(autoload=False), create=True) as store:
            experiment = store.save(Experiment(title="Walks", scope="participants=12"))
            measured = store.save(
                Hypothesis(experiment=experiment, statement="Walks help", criterion="visits >= 10")
            )
            store.save(Hypothesis(experiment=experiment, statement="Talks help"))
            decided = store.save(
                Decision(experiment=experiment, outcome="scale-up", next_steps=["Tell the board"])
            )
            other = store.save(Experiment(title="Talks"))
            store.save(Decision(experiment=other, outcome="iterate"))
            damaged = store.save(Hypothesis(experiment=experiment, statement="Lost"))
        with contextlib.closing(sqlite3.connect(path)) as raw, raw:
            undo_layout_10(raw)
            raw.execute("PRAGMA user_version = 9")
            raw.execute("UPDATE versions SET data = '{not json' WHERE id = ?", (damaged.id,))
        return {"hypothesis": measured.id, "decision": decided.id, "damaged": damaged.id}

    def test_the_columns_hold_what_a_write_would(self, tmp_path: Path) -> None:
        """Criteria and next steps are found by query, from the columns, as written anew."""
        path = tmp_path / "layout-9.db"
        ids = self._layout_9(path)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            with_criterion = store.query(Hypothesis, F.criterion != None)  # noqa: E711
            assert [h.id for h in with_criterion] == [ids["hypothesis"]]
            with_steps = store.query(Decision, F.next_steps != None)  # noqa: E711
            assert [d.id for d in with_steps] == [ids["decision"]]
            migrated = _structured(path, ids["hypothesis"], ids["decision"])
            store.save(store.get(ids["decision"], Decision))
            store.save(store.get(ids["hypothesis"], Hypothesis))
        assert _structured(path, ids["hypothesis"], ids["decision"]) == migrated
        criterion, steps = migrated
        assert json.loads(criterion)["metric"] == "visits"
        assert [step["action"] for step in json.loads(steps)] == ["Tell the board"]
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == 10

    def test_the_rollup_finds_the_few_from_their_indexes(self, tmp_path: Path) -> None:
        """The roll-up's questions, which experiments have a scope, which learnings a next
        step and which candidates a criterion, read only those records, from the field's
        own index (or, for a few candidates, by their ids), not every record of the kind:
        the plans of the very statements it runs."""
        path = tmp_path / "layout-9.db"
        ids = self._layout_9(path)
        with connect(url(path), plugins=Plugins(autoload=False)) as store:
            hypothesis = store.get(ids["hypothesis"], Hypothesis)
            store.save(
                Learning(
                    experiment=hypothesis.experiment,
                    hypothesis=hypothesis,
                    observation="Twelve came back",
                    verdict="supports",
                    next_action="Ask the library",
                )
            )
            statements: list[str] = []
            store._reader().set_trace_callback(statements.append)
            rollup(store, at="2030-01-01T00:00:00Z")
        for field, index in (
            ("scope", "records_with_scope"),
            ("next_action", "records_with_next_action"),
            ("criterion", "records_with_criterion"),
        ):
            (asked,) = [s for s in statements if f'r."{field}" IS NOT NULL' in s]
            plan = sqlite_plan(path, asked)
            assert "SCAN r" not in plan, (field, plan)
            assert f"USING INDEX {index}" in plan or "(kind=? AND id=?)" in plan, plan


@pytest.mark.parametrize(
    "older", [TestLayout9._layout_8, TestLayout10._layout_9], ids=["layout-8", "layout-9"]
)
def test_a_migration_leaves_a_damaged_version_for_verify(
    tmp_path: Path, older: Callable[[Path], dict[str, str]]
) -> None:
    """A migration filling columns from the stored JSON passes over a version it cannot
    read; the store opens and verify names it."""
    path = tmp_path / "older.db"
    ids = older(path)
    with connect(url(path), plugins=Plugins(autoload=False)) as store:
        problems = store.verify()
    assert len(problems) == 1
    assert ids["damaged"] in str(problems[0])


def _structured(path: Path, hypothesis: str, decision: str) -> tuple[str, str]:
    """A hypothesis's criterion column and a decision's next steps column, as stored."""
    with contextlib.closing(sqlite3.connect(path)) as raw:
        (criterion,) = raw.execute(
            "SELECT criterion FROM records WHERE id = ?", (hypothesis,)
        ).fetchone()
        (steps,) = raw.execute(
            "SELECT next_steps FROM records WHERE id = ?", (decision,)
        ).fetchone()
    return criterion, steps
