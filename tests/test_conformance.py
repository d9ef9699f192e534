"""The built-in backends pass the conformance suite shipped to backend authors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import Learning, Objective, Participant, Plugins, connect
from experiments.stores import Capability, Store, StoreURL
from experiments.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    """memory:// keeps its promises."""

    @pytest.fixture
    def make_store(self, request: pytest.FixtureRequest) -> Callable[..., Store]:
        prefix = uuid.uuid4().hex

        def make(name: str = "default") -> Store:
            return connect(f"memory://{prefix}-{name}", plugins=Plugins(autoload=False))

        return make

    # Nothing of a memory store is ever written to a file, so there is nothing to inspect.
    test_purge_leaves_no_trace_in_files = None  # type: ignore[assignment]


def test_only_a_named_memory_store_outlives_closing() -> None:
    """memory://name can be opened again; bare memory:// cannot, so it promises less."""
    plugins = Plugins(autoload=False)
    name = uuid.uuid4().hex
    with connect(f"memory://{name}", plugins=plugins) as named:
        assert Capability.PERSISTENT in named.capabilities
        saved = named.save(Objective(title="Kept"))
    with connect(f"memory://{name}", plugins=plugins) as again:
        assert again.get(saved.id) == saved
    with connect("memory://", plugins=plugins) as bare:
        assert Capability.PERSISTENT not in bare.capabilities
        assert Capability.THREADSAFE in bare.capabilities


class TestSQLiteStore(StoreConformance):
    """sqlite:/// keeps its promises."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[..., Store]:
        def make(name: str = "default") -> Store:
            return connect(
                f"sqlite:///{tmp_path}/{name}.db", plugins=Plugins(autoload=False), create=True
            )

        return make

    @pytest.fixture
    def storage_files(self, tmp_path: Path) -> Callable[..., list[Path]]:
        def files(make: object, name: str) -> list[Path]:
            return sorted(tmp_path.glob(f"{name}.db*"))

        return files


class TestFileStore(StoreConformance):
    """files:/// keeps its promises."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[..., Store]:
        def make(name: str = "default") -> Store:
            return connect(
                f"files:///{tmp_path}/{name}", plugins=Plugins(autoload=False), create=True
            )

        return make

    @pytest.fixture
    def storage_files(self, tmp_path: Path) -> Callable[..., list[Path]]:
        def files(make: object, name: str) -> list[Path]:
            return sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())

        return files


@pytest.mark.postgres
class TestPostgresStore(StoreConformance):
    """postgresql:// keeps its promises (each store name is a schema of its own)."""

    @pytest.fixture
    def make_store(self, postgres_url: Callable[..., str]) -> Callable[..., Store]:
        prefix = uuid.uuid4().hex

        def make(name: str = "default") -> Store:
            schema = "c_" + hashlib.blake2b(f"{prefix}/{name}".encode(), digest_size=12).hexdigest()
            return connect(postgres_url(schema), plugins=Plugins(autoload=False), create=True)

        return make

    def test_purge_leaves_no_trace_in_files(  # type: ignore[override]
        self, make_store: Callable[..., Store], postgres_server: Any
    ) -> None:
        """No row of any table holds a purged record (dead tuples wait for VACUUM, see docs)."""
        marker = f"Secret-{uuid.uuid4().hex}"
        with make_store(f"purge-{uuid.uuid4().hex}") as store:
            person = store.save(Participant(role="citizen", name=marker))
            store.save(person.evolve(department=f"{marker}-unit"))
            store.save_all(Objective(title=f"Objective {n}") for n in range(50))
            store.purge(person)
            schema = store.url.params.get("schema", "public")
        for table in ("records", "versions"):
            rows = postgres_server.query(
                f'SELECT count(*) FROM "{schema}".{table} WHERE data::text LIKE %s',  # noqa: S608 - our schema
                (f"%{marker}%",),
            )
            assert rows == [(0,)]


def _damage_a_file_store(store: Store, person_id: str) -> None:
    """Garble a learning's version file: reading learnings fails from now on."""
    root = Path(store.url.file_path)
    victim = next((root / "records").glob("lrn_*/current.json"))
    victim.write_bytes(b"{ not json")


def _damage_a_sqlite_store(store: Store, person_id: str) -> None:
    """Add a learning citing the person whose stored data is not JSON."""
    with contextlib.closing(sqlite3.connect(store.url.file_path)) as raw:
        raw.execute(
            "INSERT INTO records (kind, id, revision, deleted, participants) "
            "VALUES ('learning', 'lrn_damaged', 1, 0, ?)",
            (json.dumps([person_id]),),
        )
        raw.execute("INSERT INTO versions (id, revision, data) VALUES ('lrn_damaged', 1, '{')")
        raw.commit()


class TestPurgeAfterItsCommit:
    """What fails after a purge is committed never makes it look as if it failed."""

    @pytest.mark.parametrize(
        ("scheme", "damage"),
        [("files", _damage_a_file_store), ("sqlite", _damage_a_sqlite_store)],
    )
    def test_a_failing_sweep_is_a_warning_in_the_report(
        self,
        scheme: str,
        damage: Callable[[Store, str], None],
        tmp_path: Path,
        plugins: Plugins,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The store is damaged right after the commit: the person is erased, and it says so."""
        person_id: list[str] = []

        class DamageAfterCommit:
            @experiments.hookimpl
            def object_purged(self, store: Store, kind: str, id: str) -> None:  # noqa: A002
                if id in person_id:
                    damage(store, id)

        plugins.register(DamageAfterCommit(), name="damage-after-commit")
        url = f"{scheme}:///{tmp_path}/store" + (".db" if scheme == "sqlite" else "")
        with connect(url, plugins=plugins, create=True) as store:
            person = store.save(Participant(role="citizen", name="Erase Me"))
            person_id.append(person.id)
            store.save(Learning(experiment="exp_1", observation="Other voices", participants=[]))
            with caplog.at_level(logging.WARNING):
                report = store.purge(person)
            assert report.purged == (person.id,)
            assert len(report.warnings) == 1
            assert "verify" in report.warnings[0]
            assert report.warnings[0] in caplog.text
            assert store.find(person.id, include_deleted=True) is None


class TestEngineHooksTakingParts:
    """A backend whose engine hooks take the query's parts, as before, still works."""

    def test_it_is_warned_and_answered(self) -> None:
        """Defining it warns once; its hooks are then handed the parts, and queries answer."""
        from experiments.stores.memory import MemoryStore  # noqa: PLC0415 - the base here

        heard: list[tuple[Any, ...]] = []
        with pytest.warns(DeprecationWarning, match=r"_select takes the parts.*Selection") as told:

            class PartsStore(MemoryStore):
                def _select(self, kind, where, orders, limit, offset, include_deleted):  # type: ignore[no-untyped-def, override]
                    heard.append((kind, limit, offset, include_deleted))
                    # the fallback answers

        assert told[0].filename == __file__  # the class statement, shown by default there
        store = PartsStore(StoreURL.parse("memory://"), plugins=Plugins(autoload=False))
        store.save(Objective(title="Welfare"))
        assert [o.title for o in store.query(Objective, limit=5)] == ["Welfare"]
        assert heard == [("objective", 5, 0, False)]

    def test_hooks_written_today_are_not_warned(self) -> None:
        """A hook taking one value is left as it is."""
        from experiments.stores.memory import MemoryStore  # noqa: PLC0415 - the base here

        class OneValueStore(MemoryStore):
            def _select(self, selection):  # type: ignore[no-untyped-def]
                return None

        assert OneValueStore.__dict__["_select"].__name__ == "_select"
        assert not hasattr(OneValueStore.__dict__["_select"], "__wrapped__")

    def test_a_hook_behind_a_plain_decorator_is_taken_as_written_today(self) -> None:
        """``(self, *args, **kwargs)`` is one value passed on, not the parts."""
        from experiments.stores.memory import MemoryStore  # noqa: PLC0415 - the base here

        def logged(hook):  # type: ignore[no-untyped-def]
            def wrapper(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return hook(self, *args, **kwargs)

            return wrapper

        class DecoratedStore(MemoryStore):
            @logged
            def _select(self, selection):  # type: ignore[no-untyped-def]
                return None

        store = DecoratedStore(StoreURL.parse("memory://"), plugins=Plugins(autoload=False))
        store.save(Objective(title="Welfare"))
        assert [o.title for o in store.query(Objective)] == ["Welfare"]
