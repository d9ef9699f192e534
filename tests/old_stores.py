"""Stores as an earlier release left them: store layout 2, holding record schema 2.

The migration to layout 3 must run once, however many processes open such a store at
once, and leave everything readable: these build one, byte for byte as layout 2 and
schema 2 wrote it, from the migrations as they were (a migration never changes).
"""

# ruff: noqa: S608 - SQL built from the migrations' own names; every value is a parameter

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

from experiments import (
    Decision,
    Experiment,
    Fidelity,
    Learning,
    NextStep,
    Objective,
    Prototype,
)
from experiments.query import field_types
from experiments.rollup import rollup
from experiments.serialization import dumps, to_data
from experiments.stores import Store, _postgres_layout, _sqlite_layout, postgres, sqlite

#: The layout the stores below are in.
LAYOUT = 2


def schema_2_records() -> list[dict[str, Any]]:
    """An objective, a running experiment, a prototype shown, a learning and a decision."""
    objective = Objective(title="Welfare", slug="welfare")
    experiment = Experiment(title="Walks", slug="walks", objectives=[objective])
    experiment = experiment.start(at="2026-05-01T10:00:00Z").conclude(at="2026-05-20T10:00:00Z")
    decision = Decision(experiment=experiment, outcome="iterate", decided_at="2026-05-25T10:00:00Z")
    experiment = experiment.decide(decision)
    prototype = Prototype(
        experiment=experiment,
        title="Route card",
        fidelity="mock-up",
        shown_at="2026-05-02T10:00:00Z",
    )
    learning = Learning(
        experiment=experiment, observation="Residents came", observed_at="2026-05-19T10:00:00Z"
    )
    found = []
    for record in (objective, experiment, prototype, learning, decision):
        data = to_data(record.evolve(revision=1))
        data["schema"] = 2
        for added in ("shown_as", "template", "scope", "since"):
            data.pop(added, None)
        if isinstance(record, Learning):
            data["next_action"] = "Call the families"
        if isinstance(record, Decision):
            data["next_steps"] = ["Evening walks", "Invite the youth club"]
        found.append(data)
    return found


def sqlite_layout_2(path: Path) -> None:
    """A SQLite store of layout 2 at ``path`` holding :func:`schema_2_records`."""
    with contextlib.closing(sqlite3.connect(path)) as raw:
        for migration in sqlite.MIGRATIONS[:LAYOUT]:
            for statement in migration:
                raw.execute(statement)
        raw.execute(f"PRAGMA application_id={sqlite.APPLICATION_ID}")
        raw.execute(f"PRAGMA user_version={LAYOUT}")
        raw.execute("PRAGMA journal_mode=WAL")
        for data in schema_2_records():
            sqlite_layout_2_record(raw, data)
        raw.commit()


def sqlite_layout_2_record(raw: sqlite3.Connection, data: dict[str, Any]) -> None:
    """``data`` (revision 1) written into a SQLite file of layout 2 as a release of that
    layout wrote it: its row with the hot columns of the time, and its version."""
    columns = {*_sqlite_layout._FIRST_HOT, "revises"}  # the hot columns of layout 2
    names = [n for n in field_types(data["kind"]) if n in columns and n in data]
    plan = tuple((n, _sqlite_layout.hot()[n]) for n in names)
    values = _sqlite_layout.hot_values(plan)(data)
    quoted = "".join(f', "{n}"' for n in names)
    raw.execute(
        f"INSERT INTO records (kind, id, revision, deleted{quoted}) "
        f"VALUES (?, ?, 1, 0{', ?' * len(names)})",
        (data["kind"], data["id"], *values),
    )
    raw.execute(
        "INSERT INTO versions (id, revision, data) VALUES (?, 1, ?)", (data["id"], dumps(data))
    )


def undo_layout_10(connection: sqlite3.Connection) -> None:
    """Take away what SQLite layout 10 added (its columns and indexes), as a store of
    layout 9 had it."""
    for name in _sqlite_layout._SPARSE_INDEXES:
        connection.execute(f"DROP INDEX IF EXISTS {name}")
    _drop_columns(connection, _sqlite_layout._TENTH_HOT)


def undo_layout_9(connection: sqlite3.Connection) -> None:
    """Take away what SQLite layouts 9 and 10 added (their columns, and 10's indexes),
    as a store of layout 8 had it."""
    undo_layout_10(connection)
    _drop_columns(connection, _sqlite_layout._STRUCTURED_HOT)


def _drop_columns(connection: sqlite3.Connection, names: tuple[str, ...]) -> None:
    connection.execute("DROP VIEW current")
    for name in names:
        connection.execute(f'ALTER TABLE records DROP COLUMN "{name}"')
    connection.execute(
        "CREATE VIEW current AS SELECT r.*, v.data AS data FROM records r "
        "LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision"
    )


def postgres_layout_2(url: str, schema: str, records: list[dict[str, Any]] | None = None) -> None:
    """A PostgreSQL store of layout 2 in ``schema`` holding ``records`` (by default
    :func:`schema_2_records`), written as a release of that layout wrote them.

    ``url`` is a store URL of the role that will own it (its ``schema`` option aside).
    """
    import psycopg  # noqa: PLC0415 - only with a server

    quoted = f'"{schema}"'
    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {quoted}")
        for migration in postgres.MIGRATIONS[:LAYOUT]:
            for statement in migration:
                connection.execute(statement.format(s=quoted))
        for number in range(1, LAYOUT + 1):
            connection.execute(
                f"INSERT INTO {quoted}.experiments_migrations (version, library) VALUES (%s, %s)",
                (number, "a release of layout 2"),
            )
        for data in schema_2_records() if records is None else records:
            text = dumps(data)
            connection.execute(
                f"INSERT INTO {quoted}.records (id, kind, revision, deleted, data, doc) "
                "VALUES (%s, %s, 1, 0, %s, %s::jsonb)",
                (data["id"], data["kind"], text, _postgres_layout.query_copy(data, text)),
            )
            connection.execute(
                f"INSERT INTO {quoted}.versions (id, revision, data) VALUES (%s, 1, %s)",
                (data["id"], text),
            )


def assert_upgraded(store: Store) -> None:
    """What :func:`schema_2_records` holds reads as schema 3, in SQL and in Python alike.

    Eight processes opened the store, each writing an objective.
    """
    assert store.verify() == []
    assert store.count(Objective) == 9
    (prototype,) = store.query(Prototype)
    assert prototype.shown_as is Fidelity.MOCK_UP
    for pushdown in (True, False):
        rows = list(store.aggregate(Prototype, group_by="shown_as", pushdown=pushdown))
        assert rows == [{"shown_as": "mock-up", "count": 1}]
    (learning,) = store.query(Learning)
    assert learning.next_action == NextStep("Call the families")
    (decision,) = store.query(Decision)
    assert [s.action for s in decision.next_steps] == ["Evening walks", "Invite the youth club"]
    summary = rollup(store, "welfare", at="2026-06-01T00:00:00Z").total
    assert summary.first_shown[Fidelity.MOCK_UP] == 1
    assert summary.open_next_steps == 3
