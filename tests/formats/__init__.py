"""Formats of earlier releases: what they wrote, kept to test that it is still read.

``0.1/`` holds a programme written by strategy-experiments 0.1.0 (see ``make.py``);
:func:`old_form` turns data of today's schema into what 0.1.0 wrote for it, for
property tests over any record.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pendulum

import pgserver
from experiments.model import KINDS
from experiments.model._time import (
    _zone_label,
    parse_datetime,
    timebox_key,
    utc_key,
    with_zone,
)
from experiments.serialization import _next_steps_in, _time_fields, zone_field

if TYPE_CHECKING:
    from pgserver import PostgresServer

#: The programme as 0.1.0 wrote it: record schema 2, SQLite and PostgreSQL layout 2,
#: files store format 1.
RELEASE_0_1: Final = Path(__file__).resolve().parent / "0.1"


def old_text(moment: pendulum.DateTime) -> str:
    """A time as schema 2 wrote it: UTC text, then the zone or offset in brackets."""
    label = _zone_label(moment)
    return utc_key(moment) if label is None else f"{utc_key(moment)}[{label}]"


def old_form(data: dict[str, Any]) -> dict[str, Any]:
    """Record data of today's schema as schema 4, the last before RFC 3339, wrote it."""
    times = _time_fields(KINDS[data["kind"]])
    zones = {zone_field(name) for name in times}
    old: dict[str, Any] = {}
    for key, value in data.items():
        if key in zones:
            continue
        old[key] = value
        if key in times and isinstance(value, str):
            is_box, _ = times[key]
            text = with_zone(value, data.get(zone_field(key)))
            old[key] = timebox_key(text) if is_box else old_text(parse_datetime(text))
    for step in _next_steps_in(old):  # the same steps the upgrade to RFC 3339 reads
        if isinstance(step.get("done_at"), str):
            step["done_at"] = old_text(parse_datetime(step["done_at"]))
    old["schema"] = 4
    return old


def export_lines() -> list[str]:
    """The lines of the export 0.1.0 wrote."""
    return (RELEASE_0_1 / "export.jsonl").read_text(encoding="utf-8").splitlines()


def export_data() -> list[dict[str, Any]]:
    """The versions in the export 0.1.0 wrote, as data."""
    return [json.loads(line) for line in export_lines()]


def old_sqlite(path: Path) -> str:
    """The URL of a copy at ``path`` of the SQLite store 0.1.0 wrote."""
    shutil.copyfile(RELEASE_0_1 / "store.sqlite", path)
    return f"sqlite:///{path}"


def old_files(path: Path) -> str:
    """The URL of a copy at ``path`` of the files store 0.1.0 wrote."""
    shutil.copytree(RELEASE_0_1 / "files", path)
    return f"files:///{path}"


def old_postgres(server: PostgresServer, schema: str) -> str:
    """The URL of a new schema holding what 0.1.0 wrote: its tables at layout 2, its rows.

    The tables are made by the first two migrations, which never change, as the test
    role, which owns them as it would own a store it made.
    """
    import psycopg  # noqa: PLC0415 - only with a server

    from experiments.stores._postgres_layout import MIGRATIONS  # noqa: PLC0415

    rows = json.loads((RELEASE_0_1 / "postgres.json").read_text(encoding="utf-8"))
    quoted = f'"{schema}"'
    conninfo = (
        f"host=127.0.0.1 port={server.port} user={pgserver.ROLE} "
        f"password={pgserver.PASSWORD} dbname={pgserver.DATABASE}"
    )
    with psycopg.connect(conninfo) as connection:
        connection.execute(f"CREATE SCHEMA {quoted}")
        for number, steps in enumerate(MIGRATIONS[:2], start=1):
            for step in steps:
                assert isinstance(step, str)
                connection.execute(step.format(s=quoted))
            connection.execute(
                f"INSERT INTO {quoted}.experiments_migrations (version, library) "  # noqa: S608 - ours
                "VALUES (%s, '0.1.0')",
                (number,),
            )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quoted}.records (id, kind, revision, deleted, data, doc) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s::jsonb)",
                rows["records"],
            )
            cursor.executemany(
                f"INSERT INTO {quoted}.versions (id, revision, data) VALUES (%s, %s, %s)",  # noqa: S608
                rows["versions"],
            )
    return server.url(schema)
