"""A store of a SQL backend with a raw connection beside it, as an analyst's tool has.

``SQLSide.rows(sql)`` runs SQL on the store's file or schema directly (SQLite: the file;
PostgreSQL: the store's schema first on the search path), the way datasette, psql or a
BI tool would, never through the library.
"""

from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pgserver import DATABASE, PostgresServer


def sqlite_plan(path: Path, sql: str, params: tuple[Any, ...] = ()) -> str:
    """SQLite's plan of ``sql`` on the file at ``path``: each step's detail, one a line."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        steps = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(step[3]) for step in steps)


@dataclass
class SQLSide:
    """A SQL store's URL, and raw SQL on it."""

    backend: str
    url: str
    path: Path | None = None
    server: PostgresServer | None = None

    @property
    def mark(self) -> str:
        """The parameter marker of the backend's driver."""
        return "?" if self.backend == "sqlite" else "%s"

    @property
    def schema(self) -> str:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.url).query)["schema"][0]

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of one statement, run on the store directly."""
        if self.backend == "sqlite":
            assert self.path is not None
            with sqlite3.connect(self.path) as connection:
                return connection.execute(sql, params).fetchall()
        return self.run((sql, params))[-1]

    def run(self, *statements: str | tuple[str, tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
        """Several statements in one connection (one transaction in SQLite)."""
        if self.backend == "sqlite":
            assert self.path is not None
            results = []
            with sqlite3.connect(self.path) as connection:
                for statement in statements:
                    sql, params = statement if isinstance(statement, tuple) else (statement, ())
                    cursor = connection.execute(sql, params)
                    results.append(cursor.fetchall() if cursor.description else [])
            return results
        import psycopg  # noqa: PLC0415 - only with a server

        assert self.server is not None
        conninfo = self.server.admin_conninfo(DATABASE) + f" options='-csearch_path={self.schema}'"
        results = []
        with psycopg.connect(conninfo, autocommit=True) as connection:
            for statement in statements:
                sql, params = statement if isinstance(statement, tuple) else (statement, ())
                cursor = connection.execute(sql, params or None)  # type: ignore[arg-type]
                results.append(cursor.fetchall() if cursor.description else [])
        return results

    def columns(self, view: str) -> list[str]:
        """The columns of a table or view, in order."""
        if self.backend == "sqlite":
            return [str(row[1]) for row in self.rows(f"PRAGMA table_info({view})")]
        return [
            str(row[0])
            for row in self.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s ORDER BY ordinal_position",
                (self.schema, view),
            )
        ]

    def views(self) -> set[str]:
        if self.backend == "sqlite":
            made = self.rows("SELECT name FROM sqlite_master WHERE type = 'view'")
            return {str(row[0]) for row in made}
        rows = self.rows(
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s",
            (self.schema,),
        )
        return {str(row[0]) for row in rows}


SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def make_side(request: pytest.FixtureRequest, directory: Path) -> SQLSide:
    """A new, empty store of the requested backend (``request.param``)."""
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        return SQLSide("postgres", str(server.url()), server=server)
    path = directory / "store.db"
    return SQLSide("sqlite", f"sqlite:///{path}", path=path)
