"""Processes writing, racing and opening one store at once lose nothing and duplicate nothing.

Every race here is certain: the processes are released together by a barrier right
before the step that races (see ``racing.py``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import workers
from experiments import Experiment, Measurement, Objective, Plugins, connect
from experiments.serialization import to_data, upgrade
from experiments.stores.files import FORMAT_VERSION
from experiments.stores.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from experiments.stores.sqlite import MIGRATIONS
from formats import export_data, old_files, old_postgres, old_sqlite
from racing import at_once
from reliability_table import Figures

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _backend(url: str) -> str:
    return url.partition(":")[0]


@pytest.fixture
def processes(shared_url: str) -> int:
    """How many processes write at once: a shared server is asked for 8."""
    return 8 if shared_url.startswith("postgresql") else 4


class TestWritersAndReaders:
    """Writers in processes of their own, and a reader watching them."""

    def test_writers_with_a_reader_lose_nothing_and_show_no_half_batch(
        self, shared_url: str, processes: int, reliability: Figures
    ) -> None:
        """Writers save batches while a reader reads: every batch there, none seen in half."""
        batches, size = 40, 5
        tasks = [(shared_url, f"writer-{w}", batches, size) for w in range(processes)]
        expected = processes * batches * size
        results = at_once(
            workers.write_batches_or_read,
            *tasks,
            (shared_url, "reader", expected, size),
        )
        writers, reader = results[:-1], results[-1]
        reported = [i for result in writers for i in result["ids"]]
        assert len(reported) == len(set(reported)) == expected
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            stored = {m.id for m in store.query(Measurement)}
        assert stored == set(reported)
        assert reader["half_batches"] == 0
        assert reader["went_back"] == 0
        reliability.record(
            "concurrent writers with a reader",
            _backend(shared_url),
            tried=processes * batches,
            failed=reader["half_batches"] + reader["went_back"],
            figures=(
                f"{processes} writers x {batches} batches of {size}; {reader['reads']} reads "
                f"saw 0 half batches; 0 lost, 0 duplicated"
            ),
        )


class TestRaces:
    """Processes racing for the same records."""

    def test_racing_updates_lose_nothing(
        self, shared_url: str, processes: int, reliability: Figures
    ) -> None:
        """Read-modify-save on 10 shared objects: every save counted, every lost race a conflict."""
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            shared = [store.save(Objective(title=f"Counter {n}", weight=1)).id for n in range(10)]
        attempts = 150
        results = at_once(
            workers.race_updates,
            *[(shared_url, ",".join(shared), attempts, w) for w in range(processes)],
        )
        won = {i: sum(r["won"][i] for r in results) for i in shared}
        conflicts = sum(r["conflicts"] for r in results)
        assert sum(won.values()) + conflicts == processes * attempts
        lost = 0
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            for record_id in shared:
                stored = store.get(record_id, Objective)
                # Each successful save added exactly one: no update was silently lost.
                lost += abs(stored.weight - (1 + won[record_id]))
                assert stored.revision == 1 + won[record_id]
                assert len(store.history(record_id)) == stored.revision
        assert lost == 0
        reliability.record(
            "racing updates",
            _backend(shared_url),
            tried=processes * attempts,
            failed=int(lost),
            figures=f"{sum(won.values())} saved, {conflicts} conflicts, 0 silently lost",
        )

    def test_a_certain_race_has_one_winner_per_round(
        self, shared_url: str, processes: int, reliability: Figures
    ) -> None:
        """All read one revision, then all save at once: one wins each round, the rest conflict."""
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            target = store.save(Objective(title="Raced for", weight=1))
        rounds = 20
        results = at_once(
            workers.race_rounds, *[(shared_url, target.id, rounds) for _ in range(processes)]
        )
        won = sum(r["won"] for r in results)
        conflicts = sum(r["conflicts"] for r in results)
        assert won == rounds
        assert conflicts == (processes - 1) * rounds
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            stored = store.get(target.id, Objective)
            assert stored.weight == 1 + rounds
            assert len(store.history(target.id)) == 1 + rounds
        reliability.record(
            "certain races (barrier)",
            _backend(shared_url),
            tried=rounds,
            figures=f"{processes} processes x {rounds} rounds: 1 winner, "
            f"{processes - 1} conflicts each round",
        )

    def test_get_or_create_races_make_one_record(
        self, shared_url: str, reliability: Figures
    ) -> None:
        """8 processes creating the same slug at once, 10 times: one experiment each time."""
        slugs = [f"pop-up-{n}" for n in range(10)]
        results = at_once(workers.same_slugs, *[(shared_url, ",".join(slugs)) for _ in range(8)])
        made = 0
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            for index, slug in enumerate(slugs):
                assert len({r["ids"][index] for r in results}) == 1
                assert len({r["titles"][index] for r in results}) == 1
                assert store.get_by_slug(Experiment, slug).revision == 1
                made += 1
            assert store.count(Experiment) == len(slugs)
        reliability.record(
            "get-or-create races",
            _backend(shared_url),
            tried=len(slugs),
            figures=f"8 processes x {len(slugs)} slugs: 1 record each, 0 duplicates",
        )

    def test_scripts_tracking_one_slug_and_measuring_at_once(
        self, shared_url: str, reliability: Figures
    ) -> None:
        """8 scripts open one experiment by slug and log one metric at one time: no conflict."""
        results = at_once(
            workers.measure_at_once,
            *[(shared_url, "racing", "visitors", "2026-09-14T12:00:00Z", w) for w in range(8)],
        )
        conflicts = [r for r in results if "conflict" in r]
        assert conflicts == []
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            assert store.count(Experiment) == 1
            history = store.history(results[0]["id"])
        assert sorted(m.value for m in history) == [float(w) for w in range(8)]
        reliability.record(
            "measure upserts racing",
            _backend(shared_url),
            tried=8,
            failed=len(conflicts),
            figures="8 processes, 1 metric, 1 time: 8 versions, 0 conflicts",
        )


class TestFirstOpen:
    """Many processes opening a store that does not exist yet."""

    @pytest.mark.parametrize(
        "scheme", ["sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)]
    )
    def test_first_open_from_many_processes(
        self,
        scheme: str,
        tmp_path: Path,
        request: pytest.FixtureRequest,
        reliability: Figures,
    ) -> None:
        """8 processes create and migrate one new store at once, 5 times: all succeed, once."""
        stores = 5
        urls = [_fresh_url(scheme, tmp_path / f"store-{n}", request) for n in range(stores)]
        results = at_once(workers.open_stores, *[(",".join(urls),) for _ in range(8)])
        assert all(len(r["ids"]) == stores for r in results)
        for url in urls:
            with connect(url, plugins=Plugins(autoload=False)) as store:
                assert store.count(Objective) == 8
                assert store.verify() == []
            if scheme == "sqlite":
                with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as raw:
                    assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        reliability.record(
            "concurrent first open and migration",
            _backend(urls[0]),
            tried=stores,
            figures=f"8 processes x {stores} new stores: each made once, 8 writes each",
        )


class TestMigration:
    """Many processes opening, at once, a store an older release wrote."""

    @pytest.mark.parametrize(
        "scheme", ["sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)]
    )
    def test_old_store_opened_by_many_processes_is_migrated_once(
        self,
        scheme: str,
        tmp_path: Path,
        request: pytest.FixtureRequest,
        reliability: Figures,
    ) -> None:
        """8 processes open a store of 0.1.0 at once, 3 times: each migration runs once."""
        stores, versions = 3, len(export_data())
        expected = {(d["id"], d["revision"]): upgrade(d) for d in export_data()}
        for number in range(stores):
            url = _old_url(scheme, tmp_path / f"old-{number}", request)
            results = at_once(
                workers.open_old_store_titled, *[(url, f"Written by process {p}") for p in range(8)]
            )
            # 18 records were there (and one deleted); each process sees them, and some
            # of the others' writes.
            assert all(18 <= r["seen"] < 18 + 8 for r in results)
            with connect(url, plugins=Plugins(autoload=False)) as store:
                assert store.verify() == []
                exported = {(r.id, r.revision): to_data(r) for r in store.export()}
                assert {key: exported[key] for key in expected} == expected
                assert {r["id"] for r in results} <= {i for i, _ in exported}
                assert len(exported) == versions + 8
            _assert_migrated_once(scheme, url, tmp_path / f"old-{number}", request)
        reliability.record(
            "concurrent first open of an older layout",
            scheme,
            tried=stores,
            figures=f"8 processes x {stores} stores of 0.1.0: each migrated once, nothing lost",
        )


def _old_url(scheme: str, path: Path, request: pytest.FixtureRequest) -> str:
    if scheme == "postgres":
        make: Callable[..., str] = request.getfixturevalue("postgres_url")
        schema = f"old_{uuid.uuid4().hex[:12]}"
        make(schema)  # the fixture's server, which the schema is made on
        return old_postgres(request.getfixturevalue("postgres_server"), schema)
    if scheme == "files":
        return old_files(path)
    return old_sqlite(path.with_suffix(".db"))


def _assert_migrated_once(
    scheme: str, url: str, path: Path, request: pytest.FixtureRequest
) -> None:
    if scheme == "postgres":
        server = request.getfixturevalue("postgres_server")
        schema = url.rpartition("schema=")[2]
        applied = server.query(
            f'SELECT version, count(*) FROM "{schema}".experiments_migrations '  # noqa: S608 - ours
            "GROUP BY version ORDER BY version"
        )
        assert applied == [(n, 1) for n in range(1, len(POSTGRES_MIGRATIONS) + 1)]
    elif scheme == "files":
        marker = json.loads((path / "store.json").read_text(encoding="utf-8"))
        assert [m["version"] for m in marker["migrations"]] == [FORMAT_VERSION]
        for record in (path / "records").iterdir():  # the last version is current.json
            current = (record / "current.json").read_bytes()
            revision = json.loads(current)["revision"]
            history = sorted(p.name for p in record.iterdir() if p.name != "current.json")
            assert history == [f"{r:08d}.json" for r in range(1, revision)]
        assert (path / ".gitattributes").is_file()
    else:
        with contextlib.closing(sqlite3.connect(path.with_suffix(".db"))) as raw:
            assert raw.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def _fresh_url(scheme: str, path: Path, request: pytest.FixtureRequest) -> str:
    if scheme == "postgres":
        make: Callable[..., str] = request.getfixturevalue("postgres_url")
        return make(f"first_{uuid.uuid4().hex[:12]}")
    if scheme == "files":
        return f"files:///{path}"
    return f"sqlite:///{path}.db"
