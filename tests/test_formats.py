"""What 0.1.0 wrote is read and migrated: its export, SQLite, files and PostgreSQL stores.

0.1.0 wrote times as UTC text with the zone in brackets; today's release writes RFC 3339
with the offset and keeps zone names in fields of their own (record schema 3, SQLite
and PostgreSQL layout 3, files store format 2).  The fixtures in ``formats/0.1`` were
written by 0.1.0 itself.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from experiments import Measurement, Plugins, Store, connect
from experiments.cli import cli
from experiments.query import FieldType, comparable, field_types
from experiments.rollup import rollup
from experiments.serialization import SCHEMA_VERSION, dumps, from_data, to_data, upgrade
from experiments.stores._files_record import dumps as file_bytes
from experiments.stores._postgres_layout import MIGRATIONS as POSTGRES_MIGRATIONS
from experiments.stores._postgres_layout import query_copy
from experiments.stores._sqlite_layout import hot, hot_values, sql_for
from experiments.stores.files import FORMAT_VERSION
from experiments.stores.sqlite import MIGRATIONS
from formats import RELEASE_0_1, export_data, old_files, old_postgres, old_sqlite
from pgserver import PostgresServer

MakeURL = Callable[..., str]

#: The moment the programme in the fixtures is rolled up as of.
AT = "2026-10-01T12:00:00Z"


def _open(url: str) -> Store:
    return connect(url, plugins=Plugins(autoload=False))


def _upgraded() -> dict[tuple[str, int], dict[str, Any]]:
    """Every version 0.1.0 wrote, upgraded, by (id, revision)."""
    return {(d["id"], d["revision"]): upgrade(d) for d in export_data()}


@pytest.fixture
def reference() -> Iterator[Store]:
    """The programme 0.1.0 exported, imported into a memory store of today."""
    with _open("memory://") as store:
        store.import_records(from_data(d) for d in export_data())
        yield store


def _check_migrated(store: Store, reference: Store) -> None:
    """``store`` holds what 0.1.0 wrote, in today's form, and answers as ``reference``."""
    assert store.verify() == []
    exported = {(r.id, r.revision): to_data(r) for r in store.export()}
    assert exported == _upgraded()
    assert all(data["schema"] == SCHEMA_VERSION for data in exported.values())
    assert rollup(store, at=AT) == rollup(reference, at=AT)
    assert rollup(store, at=AT, pushdown=False) == rollup(reference, at=AT)
    by_time = [m.id for m in store.query(Measurement, order_by="-measured_at")]
    assert by_time == [m.id for m in reference.query(Measurement, order_by="-measured_at")]
    late = "measured_at >= '2026-08-24T14:00:00Z'"
    assert store.count(Measurement, where=late) == reference.count(Measurement, where=late) == 3
    before = "measured_at < '2026-08-24T09:00:00-05:00'"
    assert store.count(Measurement, where=before) == 0


class TestExport:
    """``experiments import`` of an export 0.1.0 wrote."""

    @pytest.mark.parametrize("scheme", ["sqlite", "files", "memory"])
    def test_the_cli_imports_it_into_a_new_store(
        self, scheme: str, tmp_path: Path, reference: Store
    ) -> None:
        """Every version arrives in today's form; importing it again changes nothing."""
        url = {
            "sqlite": f"sqlite:///{tmp_path / 'new.db'}",
            "files": f"files:///{tmp_path / 'new'}",
            "memory": "memory://imported",
        }[scheme]
        export = str(RELEASE_0_1 / "export.jsonl")
        runner = CliRunner()
        environment = {"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
        if scheme != "memory":
            first = runner.invoke(
                cli, ["--json", "--store", url, "import", export], env=environment
            )
            assert first.exit_code == 0, first.output
            assert json.loads(first.output) == {"added": 26, "unchanged": 0}
            again = runner.invoke(
                cli, ["--json", "--store", url, "import", export], env=environment
            )
            assert json.loads(again.output) == {"added": 0, "unchanged": 26}
        with _open(url) as store:
            if scheme == "memory":
                store.import_records(from_data(d) for d in export_data())
            _check_migrated(store, reference)

    def test_it_imports_into_a_store_that_holds_it_already(self, tmp_path: Path) -> None:
        """The same versions, migrated in a store, are the ones the old export holds."""
        with _open(old_sqlite(tmp_path / "old.db")) as store:
            report = store.import_records(from_data(d) for d in export_data())
        assert (report.added, report.unchanged) == (0, 26)


class TestSQLite:
    """A SQLite store 0.1.0 wrote (layout 2) is migrated to the current layout when opened."""

    def test_opening_migrates_it(self, tmp_path: Path, reference: Store) -> None:
        """The versions are rewritten in today's form, the hot columns hold what a write would."""
        path = tmp_path / "old.db"
        url = old_sqlite(path)
        with _open(url) as store:
            _check_migrated(store, reference)
        upgraded = _upgraded()
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 10
            for record_id, revision, text in raw.execute("SELECT id, revision, data FROM versions"):
                assert text == dumps(upgraded[record_id, revision])
            raw.row_factory = sqlite3.Row
            for row in raw.execute("SELECT * FROM current"):
                data = json.loads(row["data"])
                for name, kind in hot().items():
                    if kind in (FieldType.DATETIME, FieldType.TIMEBOX):
                        assert row[name] == comparable(data, name, kind), name
                # Every column as a write of today's version would set it; a list column
                # a later layout added is NULL where a write puts "[]" (queries read both
                # as empty).
                plan = sql_for(from_data(data)).plan
                for (name, kind), written in zip(plan, hot_values(plan)(data), strict=True):
                    unset_list = kind is FieldType.LIST and written == "[]" and row[name] is None
                    assert row[name] == written or unset_list, (data["id"], name)

    def test_a_migrated_store_is_left_as_it_is(self, tmp_path: Path) -> None:
        """Opening it again rewrites nothing."""
        path = tmp_path / "old.db"
        with _open(old_sqlite(path)) as store:
            store.count()
        with sqlite3.connect(path) as raw:
            before = raw.execute("SELECT id, revision, data FROM versions ORDER BY 1, 2").fetchall()
        with _open(f"sqlite:///{path}") as store:
            store.count()
        with sqlite3.connect(path) as raw:
            after = raw.execute("SELECT id, revision, data FROM versions ORDER BY 1, 2").fetchall()
        assert after == before


class TestFiles:
    """A files store 0.1.0 wrote (format 1) is migrated to format 2 when opened."""

    def test_opening_migrates_it(self, tmp_path: Path, reference: Store) -> None:
        """Every version file holds today's form, the marker says so, once."""
        root = tmp_path / "old"
        with _open(old_files(root)) as store:
            _check_migrated(store, reference)
        marker = json.loads((root / "store.json").read_text(encoding="utf-8"))
        assert marker["version"] == FORMAT_VERSION == 3
        assert [m["version"] for m in marker["migrations"]] == [3]
        upgraded = _upgraded()
        files = sorted((root / "records").glob("*/*.json"))
        assert len(files) == len(upgraded)
        for path in files:
            data = json.loads(path.read_bytes())
            assert path.read_bytes() == file_bytes(upgraded[data["id"], data["revision"]])
        for record in (root / "records").iterdir():  # the last version became current.json
            last = max(revision for record_id, revision in upgraded if record_id == record.name)
            assert json.loads((record / "current.json").read_bytes())["revision"] == last
            assert not (record / f"{last:08d}.json").exists()
        assert (root / ".gitattributes").is_file()

    def test_a_migrated_store_is_left_as_it_is(self, tmp_path: Path) -> None:
        """Opening it again rewrites no file and records no second migration."""
        root = tmp_path / "old"
        with _open(old_files(root)) as store:
            store.count()
        before = {p: p.read_bytes() for p in root.rglob("*.json")}
        with _open(f"files:///{root}") as store:
            store.count()
        assert {p: p.read_bytes() for p in root.rglob("*.json")} == before

    def test_a_store_half_migrated_is_finished(self, tmp_path: Path, reference: Store) -> None:
        """A migration cut off after some files is finished by the next open."""
        root = tmp_path / "old"
        old_files(root)
        upgraded = _upgraded()
        done = sorted((root / "records").glob("*/*.json"))[::2]
        for path in done:  # as a migration that stopped half-way left them
            data = json.loads(path.read_bytes())
            path.write_bytes(file_bytes(upgraded[data["id"], data["revision"]]))
        records = sorted((root / "records").iterdir())
        for number, record in enumerate(records[:6]):  # the last version renamed, or copied
            last = max(record.glob("*.json"))
            if number % 2:
                last.rename(last.with_name("current.json"))
            else:
                shutil.copy(last, last.with_name("current.json"))
        with _open(f"files:///{root}") as store:
            _check_migrated(store, reference)
        for record in records:
            assert (record / "current.json").is_file()
            current = json.loads((record / "current.json").read_bytes())
            assert not (record / f"{current['revision']:08d}.json").exists()


@pytest.mark.postgres
class TestPostgres:
    """A PostgreSQL store 0.1.0 wrote (layout 2) is migrated to the current layout when opened."""

    def test_opening_migrates_it(
        self, postgres_server: PostgresServer, postgres_url: MakeURL, reference: Store
    ) -> None:
        """Versions and current data in today's form; the query copy holds UTC keys."""
        schema = postgres_url().rpartition("schema=")[2]
        url = old_postgres(postgres_server, schema)
        with _open(url) as store:
            _check_migrated(store, reference)
        upgraded = _upgraded()
        quoted = f'"{schema}"'
        for record_id, revision, text in postgres_server.query(
            f"SELECT id, revision, data FROM {quoted}.versions"  # noqa: S608 - our schema
        ):
            assert text == dumps(upgraded[record_id, revision])  # type: ignore[index]
        for text, doc in postgres_server.query(
            f"SELECT data, doc::text FROM {quoted}.records"  # noqa: S608
        ):
            data = json.loads(str(text))
            assert json.loads(str(doc)) == json.loads(query_copy(data, str(text)))
            for name, info in field_types(data["kind"]).items():
                if info.kind is FieldType.DATETIME and data.get(name) is not None:
                    assert len(json.loads(str(doc))[name]) == 27
        applied = postgres_server.query(
            f"SELECT version, count(*) FROM {quoted}.experiments_migrations "  # noqa: S608
            "GROUP BY version ORDER BY version"
        )
        assert applied == [(n, 1) for n in range(1, len(POSTGRES_MIGRATIONS) + 1)]
