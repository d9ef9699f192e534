"""How a PostgreSQL store lays out its schema: tables, migrations, the query copy.

``records`` holds each record's current version: its exact JSON text (``data``, the
source of truth) and a ``jsonb`` copy (``doc``) that queries and aggregation run on;
``versions`` every version; ``experiments_migrations`` the layout versions applied.
The copy spells each float as the exact value of its binary form, so SQL compares and
sums the very numbers Python does.  ``records`` also holds where a record's time box
starts and ends (``time_box_start``, ``time_box_end``), computed on write.  The analyst's
views (``experiments``, ``key_results``, ...) are made by ``_views`` after every
migration.
"""

from __future__ import annotations

import decimal
import functools
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from experiments.model import KINDS
from experiments.model._time import UTC_WIDTH
from experiments.query import FieldType, comparable, field_types
from experiments.serialization import dumps, rewritten
from experiments.stores import _keys, _views
from experiments.stores._derived import BOUNDS, stored_bounds
from experiments.stores._indexes import LIST_FIELDS, ORDERED_FIELDS, SCALAR_FIELDS

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "MIGRATIONS",
    "VIEWS_AS_OF",
    "Step",
    "query_copy",
    "views",
]


#: Scalar fields that refer to other records: the purge cascade and the roll-up look
#: records up by them, so each gets an index (these in the first layout; later fields
#: get theirs in the migration that brings them).
_REFERENCE_FIELDS: Final = (
    "experiment",
    "objective",
    "participant",
    "hypothesis",
    "key_result",
    "parent",
    "sprint",
)


def _reference_index(field: str) -> str:
    value = f"((doc ->> '{field}') COLLATE \"C\")"
    return (
        f"CREATE INDEX records_{field} ON {{s}}.records (kind, {value}) WHERE {value} IS NOT NULL"
    )


def _times_in_rfc3339(connection: psycopg.Connection[Any], schema: str) -> None:
    """5: every version's data in record schema 5 (times in RFC 3339), read in pages.

    The query copy of each current version is made again: it holds each time as its
    UTC key, where before it held the written text, which began with that key.
    """
    after: tuple[str, int] = ("", 0)
    while True:
        page = connection.execute(
            f"SELECT v.id, v.revision, v.data, r.revision FROM {schema}.versions v "
            f"LEFT JOIN {schema}.records r ON r.id = v.id "
            "WHERE (v.id, v.revision) > (%s, %s) ORDER BY v.id, v.revision LIMIT 500",
            after,
        ).fetchall()
        if not page:
            return
        after = page[-1][0], page[-1][1]
        for record_id, revision, text, current in page:
            data = rewritten(text)
            if data is None:
                continue
            fresh = dumps(data)
            connection.execute(
                f"UPDATE {schema}.versions SET data = %s WHERE id = %s AND revision = %s",
                (fresh, record_id, revision),
            )
            if current == revision:
                connection.execute(
                    f"UPDATE {schema}.records SET data = %s, doc = %s::jsonb WHERE id = %s",
                    (fresh, query_copy(data, fresh), record_id),
                )


#: A migration step: SQL, with ``{s}`` for the quoted schema name, or a function that
#: changes the data itself, given a connection and that name.
Step = str | Callable[["psycopg.Connection[Any]", str], None]


def _fill_time_box_bounds(connection: psycopg.Connection[Any], schema: str) -> None:
    """Where each stored time box starts and ends (layout 6 stores them on write)."""
    rows = connection.execute(
        f"SELECT id, data FROM {schema}.records WHERE doc ? 'time_box'"
    ).fetchall()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {schema}.records SET time_box_start = %s::timestamptz, "
            "time_box_end = %s::timestamptz WHERE id = %s",
            stored_bounds(rows),
        )


def _field_index(field: str, expression: str, *, ordered: bool = False) -> tuple[str, ...]:
    """An index of (kind, a field); without statistics, which would sample values."""
    if ordered:  # every record of the kind, in the order a query sorts in
        made = f"CREATE INDEX records_{field} ON {{s}}.records (kind, {expression} NULLS FIRST, id)"
    else:
        made = (
            f"CREATE INDEX records_{field} ON {{s}}.records (kind, {expression}) "
            f"WHERE {expression} IS NOT NULL"
        )
    return (made, f"ALTER INDEX {{s}}.records_{field} ALTER COLUMN 2 SET STATISTICS 0")


def _sixth_layout() -> tuple[Step, ...]:
    """Layout 6: time box bounds, and an index for every documented filter and order."""
    done = {*_REFERENCE_FIELDS, "revises"}  # indexed in layouts 1 and 2
    return (
        "ALTER TABLE {s}.records " + ", ".join(f"ADD COLUMN {name} timestamptz" for name in BOUNDS),
        _fill_time_box_bounds,
        *(
            statement
            for field in SCALAR_FIELDS
            if field not in done
            for statement in _field_index(field, f"((doc ->> '{field}') COLLATE \"C\")")
        ),
        *(
            statement
            for field in ORDERED_FIELDS
            for statement in _field_index(
                field, f"(left(doc ->> '{field}', {UTC_WIDTH}) COLLATE \"C\")", ordered=True
            )
        ),
        *(
            f"CREATE INDEX records_{field} ON {{s}}.records USING gin ((doc -> '{field}'))"
            for field in LIST_FIELDS
        ),
    )


def _participant_keys(connection: psycopg.Connection[Any], schema: str) -> None:
    """8: the store's settings, its participant key, and every participant id re-keyed.

    See :mod:`experiments.stores._keys`: the rows that mention a participant, found by
    their text, are written again with the new ids, the query copy with them.
    """
    connection.execute(
        f'CREATE TABLE {schema}.settings (name text COLLATE "C" PRIMARY KEY, value text NOT NULL)'
    )
    key = _keys.new_key()
    connection.execute(
        f"INSERT INTO {schema}.settings (name, value) VALUES (%s, %s)", (_keys.KEY, key)
    )
    people = connection.execute(
        f"SELECT data FROM {schema}.records WHERE kind IN ('participant', 'participation')"
    ).fetchall()
    mapping = _keys.plan(key, (json.loads(text) for (text,) in people))
    if not mapping:
        return
    mentions = "strpos(data, 'par_') > 0 OR strpos(data, 'ppn_') > 0"
    records = connection.execute(
        f"SELECT id, data, doc::text FROM {schema}.records WHERE {mentions}"
    ).fetchall()
    versions = connection.execute(
        f"SELECT id, revision, data FROM {schema}.versions WHERE {mentions}"
    ).fetchall()
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {schema}.records SET id = %s, data = %s, doc = %s::jsonb WHERE id = %s",
            [
                (_keys.rekeyed(i, mapping), _keys.rekeyed(d, mapping), _keys.rekeyed(q, mapping), i)
                for i, d, q in records
            ],
        )
        cursor.executemany(
            f"UPDATE {schema}.versions SET id = %s, data = %s WHERE id = %s AND revision = %s",
            [(_keys.rekeyed(i, mapping), _keys.rekeyed(d, mapping), i, r) for i, r, d in versions],
        )


#: Store schema migrations: ``MIGRATIONS[n - 1]`` takes a schema from version n-1 to n.
#: Statistics are off for the data columns: the planner never needs them, and a
#: histogram would keep samples of purged records.
MIGRATIONS: Final[tuple[tuple[Step, ...], ...]] = (
    (
        """CREATE TABLE {s}.experiments_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now(),
            applied_by text NOT NULL DEFAULT current_user,
            library text NOT NULL
        )""",
        """CREATE TABLE {s}.records (
            id text COLLATE "C" PRIMARY KEY,
            kind text COLLATE "C" NOT NULL,
            revision integer NOT NULL,
            deleted smallint NOT NULL DEFAULT 0,
            data text NOT NULL,
            doc jsonb NOT NULL
        )""",
        "CREATE INDEX records_kind ON {s}.records (kind, id)",
        *(_reference_index(field) for field in _REFERENCE_FIELDS),
        """CREATE TABLE {s}.versions (
            id text COLLATE "C" NOT NULL,
            revision integer NOT NULL,
            data text NOT NULL,
            PRIMARY KEY (id, revision)
        )""",
        "ALTER TABLE {s}.records ALTER COLUMN data SET STATISTICS 0",
        "ALTER TABLE {s}.records ALTER COLUMN doc SET STATISTICS 0",
        "ALTER TABLE {s}.versions ALTER COLUMN data SET STATISTICS 0",
    ),
    (
        # 2: a decision names the decision it revises; the purge cascade looks it up.
        _reference_index("revises"),
    ),
    (
        # 3: the maturity analysis and the shared vocabulary.  Items and rounds name
        # their questionnaire, responses their round, interpretations their term.
        _reference_index("questionnaire"),
        _reference_index("round"),
        _reference_index("term"),
    ),
    (
        # 4: an experiment names the template it was made from, and a phase its sprint
        # (the sprint index covers every kind already).  The query copy of a prototype
        # shown before 4 gets the fidelity it was first shown at, as reading it gives.
        _reference_index("template"),
        """UPDATE {s}.records
            SET doc = jsonb_set(doc, '{{shown_as}}', doc -> 'fidelity')
            WHERE kind = 'prototype' AND doc ->> 'shown_at' IS NOT NULL
            AND doc ->> 'shown_as' IS NULL""",
    ),
    (
        # 5: times in RFC 3339 with their offset, zone names in fields of their own.
        _times_in_rfc3339,
    ),
    _sixth_layout(),
    # 7: a participant's consent and retention, read from the stored JSON: no column;
    # the participants view gains them, made afresh after every migration.
    (),
    # 8: participant ids derived with a key of the store's own.
    (_participant_keys,),
)


@functools.cache
def views() -> tuple[str, ...]:
    """The analyst's views, made afresh after every migration (see ``_views``)."""
    return _views.postgres_views()


#: The views each layout version makes; see ``_sqlite_layout.VIEWS_AS_OF``.
VIEWS_AS_OF: Final = {6: "c22657405de7ebc2", 7: "d6695250cec0ac86", 8: "d6695250cec0ac86"}

# The query copy:
#
# jsonb keeps numbers as exact decimals; the copy spells each float as the exact value of
# its binary form, so SQL compares and sums the very numbers Python does.  Filter values
# go in as the same exact decimals, booleans as 0 and 1.  Text needs nothing: records
# never hold NUL, the one character jsonb refuses (the model rejects it).


def _exact(number: float) -> str:
    """A float as the exact decimal value of its binary form, as JSON.

    Summing these as ``numeric`` is exact, so a pushed-down sum rounds once, like
    :func:`math.fsum`; a trailing ".0" keeps floats apart from integers.
    """
    text = str(decimal.Decimal(number))
    return text if "." in text or "E" in text else text + ".0"


_dumps: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@functools.cache
def _time_fields(kind: object) -> tuple[tuple[str, FieldType], ...]:
    """The fields of ``kind`` whose copy is their comparable form: times and time boxes."""
    if not isinstance(kind, str) or kind not in KINDS:
        return ()
    return tuple(
        (name, info.kind)
        for name, info in field_types(kind).items()
        if info.kind in (FieldType.DATETIME, FieldType.TIMEBOX)
    )


def query_copy(data: Mapping[str, Any], text: str) -> str:
    """The jsonb copy of a record that queries run on, given its JSON ``text``.

    Times and time boxes are in the form queries compare (fixed-width UTC text, see
    :func:`~experiments.query.comparable`), floats exact.  A record with neither a
    float nor a time written otherwise (most records: a time with microseconds in UTC
    is its key already, a float such as 3.0 its exact value) is copied as its text
    itself.
    """
    rendered: dict[str, str] = {}  # the fields whose copy differs from their text
    for name, kind in _time_fields(data.get("kind")):
        value = data.get(name)
        if value is not None:
            key = comparable(data, name, kind)
            if key != value:
                rendered[name] = _dumps(key)
    for name, value in data.items():
        # A float whose exact value is the text it is written as (3.0, 0.5) is copied
        # as it is: most measurements.
        if isinstance(value, float) and (exact := _exact(value)) != _dumps(value):
            rendered[name] = exact
    if not rendered:
        return text
    parts = [
        f"{_dumps(name)}:{rendered[name] if name in rendered else _dumps(value)}"
        for name, value in data.items()
    ]
    return "{" + ",".join(parts) + "}"
