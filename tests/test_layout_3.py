"""Layout 3 of the SQL stores: an older store migrates once, however many open it at once.

Layout 3 brought the maturity analysis and the shared vocabulary (and record schema 3,
in which objectives and experiments name terms).  A store of layout 2 with data of
schema 2 is opened by eight processes released together; exactly one migrates it, and
every one reads the old records and writes the new kinds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import experiments
import workers
from experiments import Objective, Plugins
from experiments.serialization import to_data
from experiments.stores import Store
from experiments.stores.sqlite import APPLICATION_ID, MIGRATIONS
from old_stores import postgres_layout_2, sqlite_layout_2_record
from racing import at_once

#: An objective as record schema 2 stored it: no terms.
OLD = {k: v for k, v in to_data(Objective(slug="welfare", title="Welfare")).items() if k != "terms"}
OLD.update(schema=2, revision=1)


def _open(url: str) -> Store:
    return experiments.connect(url, plugins=Plugins(autoload=False))


def _check_migrated(url: str, results: list[dict[str, Any]]) -> None:
    """Every process read the old objective and wrote a term; the store verifies clean."""
    assert all(r["objective"] == OLD["id"] for r in results)
    with _open(url) as store:
        assert store.get(OLD["id"], Objective).terms == ()
        assert store.count("term") == len(results)
        assert [o.id for o in store.query(Objective, F_terms_empty())] == [OLD["id"]]
        assert store.verify() == []


def F_terms_empty() -> Any:  # noqa: N802 - reads as the filter it is
    from experiments.query import F  # noqa: PLC0415

    return F.terms == None  # noqa: E711 - "names no term", in the store's own terms


class TestSQLite:
    """A SQLite file of layout 2 becomes layout 3 once."""

    @staticmethod
    def _layout_2(path: Path) -> None:
        with sqlite3.connect(path) as raw:
            for statements in MIGRATIONS[:2]:
                for statement in statements:
                    raw.execute(statement)
            sqlite_layout_2_record(raw, OLD)
            raw.execute(f"PRAGMA application_id={APPLICATION_ID}")
            raw.execute("PRAGMA user_version=2")
        raw.close()

    @pytest.mark.slow
    def test_eight_processes_open_it_at_once(self, tmp_path: Path) -> None:
        """All read the old objective and save a term; the file is at layout 3."""
        path = tmp_path / "old.db"
        self._layout_2(path)
        url = f"sqlite:///{path}"
        results = at_once(workers.open_old_store, *[(url, n) for n in range(8)])
        with sqlite3.connect(path) as raw:
            assert raw.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
            columns = {row[1] for row in raw.execute("PRAGMA table_info(records)")}
        raw.close()
        assert {"terms", "round", "questionnaire", "answered_at"} <= columns
        assert len(MIGRATIONS) >= 3
        _check_migrated(url, results)


@pytest.mark.postgres
@pytest.mark.slow
class TestPostgres:
    """A PostgreSQL schema of layout 2 becomes layout 3 once."""

    def test_eight_processes_open_it_at_once(
        self, postgres_url: Any, postgres_server: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Migration 3 is applied once, and every process reads and writes."""
        from experiments.stores import postgres  # noqa: PLC0415 - needs psycopg

        url = postgres_url()
        schema = url.split("schema=")[1].split("&")[0]
        postgres_layout_2(url, schema, [OLD])
        applied = f'SELECT version, count(*) FROM "{schema}".experiments_migrations GROUP BY version ORDER BY version'  # noqa: S608, E501
        assert postgres_server.query(applied) == [(1, 1), (2, 1)]
        results = at_once(workers.open_old_store, *[(url, n) for n in range(8)])
        assert postgres_server.query(applied) == [
            (n, 1) for n in range(1, len(postgres.MIGRATIONS) + 1)
        ]
        indexes = {
            row[0]
            for row in postgres_server.query(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema,)
            )
        }
        assert {"records_questionnaire", "records_round", "records_term"} <= indexes
        _check_migrated(url, results)
