"""How a SQLite store lays out its file: tables, migrations and hot columns.

``records`` holds one row per record (which revision is current, and its short fields
as columns, the *hot* fields, so that queries need not parse JSON, and where its time
box starts and ends), ``versions`` one row per version (its JSON), and the ``current``
view joins the two.  ``elements`` holds the elements of the list fields of
``_indexes.LIST_FIELDS``, kept by triggers, so that a filter on a tag uses an index.
The analyst's views (``experiments``, ``key_results``, ...) are made by ``_views``.
The layout has a version (``PRAGMA user_version``); :data:`MIGRATIONS` take a file from
each version to the next, in order, each exactly once, and the views are made afresh
after them.  What the model's fields decide (the hot columns, the statements that
write each kind, the views) is worked out when first needed, once: a process that
only reads a store of the current layout never works out the views.  How queries read
the fields is ``_sqlite_dialect``'s.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from experiments.model import KINDS
from experiments.query import FieldType, comparable, field_types, time_key
from experiments.serialization import dumps, rewritten
from experiments.stores import _keys
from experiments.stores._derived import BOUNDS, readable_data, stored_bounds, time_box_bounds
from experiments.stores._indexes import LIST_FIELDS, ORDERED_FIELDS, SCALAR_FIELDS

if TYPE_CHECKING:
    from experiments.model import Record

__all__ = [
    "APPLICATION_ID",
    "HOT_COLUMNS",
    "MIGRATIONS",
    "VIEWS_AS_OF",
    "KindSQL",
    "Step",
    "hot",
    "hot_values",
    "sql_for",
    "sql_for_kind",
    "views",
]


#: ``PRAGMA application_id`` of a strategy-experiments store ("EXPR"), which tells our
#: files from other programs' SQLite databases.
APPLICATION_ID: Final = 0x45585052


def _hot_fields() -> dict[str, FieldType]:
    """Fields copied into ``records`` at write time, so queries need not parse JSON.

    Every short field any kind has; long free text (descriptions, observations, notes),
    personal names and structured data stay in the JSON of ``versions`` only, but for
    the structured fields of :data:`_STRUCTURED_HOT` and :data:`_TENTH_HOT`, whose
    compact JSON is a column so that the roll-up finds the records that have them
    without parsing every record.
    """
    left_out = {
        "id", "kind", "revision", "metadata", "abandon_reason", "challenge",
        "description", "details", "insight", "link", "name", "observation",
        "rationale", "text", "facilitators", "decided_by", "agreed_by",
        "stated_by", "interviewer", "scaffold",
    }  # fmt: skip
    hot: dict[str, FieldType] = {}
    structured = {*_STRUCTURED_HOT, *_TENTH_HOT}
    for kind in KINDS:
        for name, info in field_types(kind).items():
            if name in left_out:
                continue
            if info.kind is not FieldType.OTHER or name in structured:
                hot[name] = info.kind
    return dict(sorted(hot.items()))


#: The structured fields held as a column too (their compact JSON; NULL where the
#: record has none), since layout 9: an experiment's planned scope and a learning's
#: next step, which the roll-up looks for among all experiments and learnings.
_STRUCTURED_HOT: Final = ("next_action", "scope")

#: The structured fields held as a column since layout 10: a hypothesis's success
#: criterion and a decision's next steps, which the roll-up looks for among the
#: candidates and the decisions up to its moment.
_TENTH_HOT: Final = ("criterion", "next_steps")

#: Layout 10's partial indexes of the records that have a structured field, which the
#: roll-up asks for and few records have: found without reading the others.  They need
#: no planner statistics (``_latest_statistics``): SQLite's own estimate for a partial
#: index already prefers it to reading a kind's records, also where a filter names
#: another indexed field beside it.
_SPARSE_INDEXES: Final = {
    "records_with_scope": "scope",
    "records_with_next_action": "next_action",
    "records_with_criterion": "criterion",
}


# The hot columns of the first layout, as it was written: a migration never changes.
_FIRST_HOT: Final = (
    "abandoned_at", "assumption", "baseline", "changed_by", "concluded_at", "created_at",
    "decided_at", "deleted_at", "department", "due", "evidence", "experiment", "external",
    "fidelity", "group", "hypothesis", "involvement", "key_result", "level", "measured_at",
    "metric", "noted_at", "objective", "objectives", "observed_at", "outcome", "owner",
    "parent", "participant", "participants", "pseudonymous", "reason", "role", "shown_at",
    "slug", "sprint", "stance", "started_at", "statement", "status", "tags", "target",
    "team", "time_box", "title", "unit", "updated_at", "value", "verdict", "version",
    "weight",
)  # fmt: skip

#: A step of a migration: a SQL statement, or a function that changes the file in
#: Python (for what SQL cannot compute), given the connection.
Step = str | Callable[[sqlite3.Connection], None]


# The hot columns the maturity analysis and the shared vocabulary brought in layout 3.
_THIRD_HOT: Final = (
    "agreed_at", "answered_at", "closed_at", "code", "departments", "dimension",
    "dimensions", "done_at", "experiments", "interviewed_at", "items", "language", "levels",
    "opened_at", "questionnaire", "round", "source_key", "stated_at", "term", "terms",
    "word", "workshop",
)  # fmt: skip

# The hot columns templates, sprint phases and trackable next steps brought in layout 4.
_FOURTH_HOT: Final = (
    "template", "since", "shown_as", "roles", "stances", "min_departments", "min_external",
    "to_start", "to_conclude", "mandatory_for", "position",
)  # fmt: skip

#: The hot columns of layouts 4 to 8, as they were written (migration 8 sets them all).
_EIGHTH_HOT: Final = tuple(sorted({*_FIRST_HOT, "revises", *_THIRD_HOT, *_FOURTH_HOT}))

#: The hot columns that hold times and time boxes in layout 5, as it was written.
_TIME_COLUMNS: Final = (
    "abandoned_at", "agreed_at", "answered_at", "closed_at", "concluded_at", "created_at",
    "decided_at", "deleted_at", "done_at", "interviewed_at", "measured_at", "noted_at",
    "observed_at", "opened_at", "shown_at", "started_at", "stated_at", "time_box",
    "updated_at",
)  # fmt: skip


def _times_in_rfc3339(connection: sqlite3.Connection) -> None:
    """5: every version's data in record schema 5 (times in RFC 3339), read in pages.

    The hot columns are set again from the current versions; they hold the same UTC
    text as before, which the written form no longer begins with.
    """
    update_hot = (
        "UPDATE records SET "
        + ", ".join(f'"{name}" = ?' for name in _TIME_COLUMNS)
        + " WHERE id = ? AND revision = ?"
    )
    after: tuple[str, int] = ("", 0)
    while True:
        page = connection.execute(
            "SELECT id, revision, data FROM versions WHERE (id, revision) > (?, ?) "
            "ORDER BY id, revision LIMIT 500",
            after,
        ).fetchall()
        if not page:
            return
        after = page[-1][0], page[-1][1]
        for record_id, revision, text in page:
            data = rewritten(text)
            if data is None:
                continue
            connection.execute(
                "UPDATE versions SET data = ? WHERE id = ? AND revision = ?",
                (dumps(data), record_id, revision),
            )
            times = [
                comparable(data, name, hot()[name]) if name in data else None
                for name in _TIME_COLUMNS
            ]
            connection.execute(update_hot, (*times, record_id, revision))


def _fill_time_box_bounds(connection: sqlite3.Connection) -> None:
    """Where each stored time box starts and ends (layout 6 stores them on write)."""
    rows = connection.execute(
        "SELECT r.id, v.data FROM records r "
        "JOIN versions v ON v.id = r.id AND v.revision = r.revision "
        "WHERE r.time_box IS NOT NULL"
    ).fetchall()
    connection.executemany(
        "UPDATE records SET time_box_start = ?, time_box_end = ? WHERE id = ?",
        stored_bounds(rows),
    )


#: The view that joins each record's row to its current version.
_CURRENT: Final = """CREATE VIEW current AS
    SELECT r.*, v.data AS data
    FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision"""
#: The view made again after columns are added: its ``r.*`` was expanded when made.
_CURRENT_AGAIN: Final = ("DROP VIEW current", _CURRENT)


def _element_rows(row: str) -> str:
    """SELECT of the list elements of a ``records`` row (``NEW`` or ``r``) by field."""
    return " UNION ALL ".join(
        f"SELECT '{field}', j.value, {row}.id FROM json_each({row}.\"{field}\") AS j"
        for field in LIST_FIELDS
    )


def _planner_statistics(connection: sqlite3.Connection) -> None:
    """Tell SQLite's planner how selective each index is, as ``ANALYZE`` would.

    Without statistics SQLite takes ``kind = ?`` for a handful of rows and scans a whole
    kind rather than use the index of the field a filter names.  These are the shape
    of a large programme (counts only: ``sqlite_stat1`` holds no values), written once;
    an ``ANALYZE`` replaces them with the store's own.
    """
    connection.execute("ANALYZE sqlite_schema")  # makes sqlite_stat1 without reading rows
    rows = [
        ("records", None, "1000000"),
        ("records", "records", "1000000 100000 1"),
        ("records", "records_id", "1000000 1"),
        ("versions", "sqlite_autoindex_versions_1", "2000000 2 1"),
        ("elements", "elements", "400000 100000 10 1"),
        ("elements", "elements_id", "400000 4"),
        *(("records", f"records_{field}", "100000 10000 10") for field in SCALAR_FIELDS),
        *(("records", f"records_{field}", "1000000 100000 2 2 1") for field in ORDERED_FIELDS),
    ]
    connection.execute("DELETE FROM sqlite_stat1 WHERE tbl IN ('records', 'versions', 'elements')")
    connection.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", rows)


def _sixth_layout() -> tuple[Step, ...]:
    """Layout 6: time box bounds, list elements, and an index for every documented filter."""
    watched = ", ".join(f'"{field}"' for field in LIST_FIELDS)
    scalar = [field for field in SCALAR_FIELDS if field != "experiment"]  # indexed in 1
    return (
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in BOUNDS),
        _fill_time_box_bounds,
        """CREATE TABLE elements (
            field TEXT NOT NULL,
            value TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (field, value, id)
        ) WITHOUT ROWID""",
        "CREATE INDEX elements_id ON elements (id)",
        f"INSERT OR IGNORE INTO elements (field, value, id) {_element_rows('r')}".replace(
            "FROM json_each", "FROM records r, json_each"
        ),
        f"""CREATE TRIGGER records_elements_insert AFTER INSERT ON records BEGIN
            INSERT OR IGNORE INTO elements (field, value, id) {_element_rows("NEW")};
        END""",
        f"""CREATE TRIGGER records_elements_update AFTER UPDATE OF {watched} ON records BEGIN
            DELETE FROM elements WHERE id = OLD.id;
            INSERT OR IGNORE INTO elements (field, value, id) {_element_rows("NEW")};
        END""",
        """CREATE TRIGGER records_elements_delete AFTER DELETE ON records BEGIN
            DELETE FROM elements WHERE id = OLD.id;
        END""",
        *(
            f'CREATE INDEX records_{field} ON records (kind, "{field}") WHERE "{field}" IS NOT NULL'
            for field in scalar
        ),
        # With what a query reads of `records` besides: a range of the field is read
        # from the index alone, which SQLite's planner prefers to a scan of the kind.
        *(
            f'CREATE INDEX records_{field} ON records (kind, "{field}", deleted, revision)'
            for field in ORDERED_FIELDS
        ),
        _planner_statistics,
        # The view's r.* was expanded when it was made: make it again to see the columns.
        *_CURRENT_AGAIN,
    )


def _participant_keys(connection: sqlite3.Connection) -> None:
    """8: the store's settings, its participant key, and every participant id re-keyed.

    See :mod:`experiments.stores._keys`.  The records that mention a participant are
    found by their versions; their columns are set again from the new text, which also
    sets their list elements again (the triggers of layout 6).
    """
    connection.execute(
        "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
    )
    key = _keys.new_key()
    connection.execute("INSERT INTO settings (name, value) VALUES (?, ?)", (_keys.KEY, key))
    rows = connection.execute(
        "SELECT v.data FROM records r JOIN versions v ON v.id = r.id AND v.revision = r.revision "
        "WHERE r.kind IN ('participant', 'participation')"
    )
    mapping = _keys.plan(key, (json.loads(text) for (text,) in rows))
    if not mapping:
        return

    def rekeyed(value: str | float | None) -> str | float | None:
        return _keys.rekeyed(value, mapping) if isinstance(value, str) else value

    connection.create_function("rekeyed", 1, rekeyed, deterministic=True)
    mentions = "instr(data, 'par_') > 0 OR instr(data, 'ppn_') > 0"
    columns = ", ".join(f'"{name}" = rekeyed("{name}")' for name in _EIGHTH_HOT)
    connection.execute(
        f"UPDATE records SET id = rekeyed(id), {columns} "
        f"WHERE id IN (SELECT id FROM versions WHERE {mentions})"
    )
    connection.execute(
        f"UPDATE versions SET id = rekeyed(id), data = rekeyed(data) WHERE {mentions}"
    )


#: Layout 9's indexes of a key result's measurements and a hypothesis's learnings,
#: which replace layout 6's (kind, field) ones: what the latest of each group needs
#: follows the field, so the roll-up's "latest by time" reads neither the table nor a
#: sort of it.  Name -> columns, condition, planner statistics (as ``_planner_statistics``).
_LATEST_INDEXES: Final = {
    "records_key_result": (
        'kind, "key_result", "measured_at", id, "value", deleted',
        '"key_result" IS NOT NULL',
        "100000 10000 10 1 1 1 1",
    ),
    "records_hypothesis": (
        'kind, "hypothesis", "observed_at", id, "verdict", "evidence", deleted',
        '"hypothesis" IS NOT NULL',
        "100000 10000 10 1 1 1 1 1",
    ),
}


def _latest_statistics(connection: sqlite3.Connection) -> None:
    """The planner's statistics of the indexes of layout 9 (dropping an index drops its)."""
    connection.execute("ANALYZE sqlite_schema")  # makes sqlite_stat1 if it was dropped
    connection.executemany(
        "DELETE FROM sqlite_stat1 WHERE tbl = 'records' AND idx = ?",
        [(name,) for name in _LATEST_INDEXES],
    )
    connection.executemany(
        "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('records', ?, ?)",
        [(name, stat) for name, (_, _, stat) in _LATEST_INDEXES.items()],
    )


def _fill_columns(
    connection: sqlite3.Connection, names: tuple[str, ...], kinds: tuple[str, ...]
) -> None:
    """The structured hot columns ``names`` set from the current version of each record
    of ``kinds`` (those that have them).

    A version whose JSON cannot be read is left as it is, for ``verify`` to report.
    """
    plan = tuple((name, FieldType.OTHER) for name in names)
    rows = connection.execute(
        "SELECT r.id, v.data FROM records r "
        "JOIN versions v ON v.id = r.id AND v.revision = r.revision "
        f"WHERE r.kind IN ({', '.join('?' * len(kinds))})",
        kinds,
    )
    assignments = ", ".join(f'"{name}" = ?' for name in names)
    values_of = hot_values(plan)
    connection.executemany(
        f"UPDATE records SET {assignments} WHERE id = ?",
        (
            (*values, record_id)
            for record_id, text in rows
            if (data := readable_data(text)) is not None and any(values := values_of(data))
        ),
    )


def _fill_structured(connection: sqlite3.Connection) -> None:
    """9: an experiment's, a learning's and a template's structured hot columns."""
    _fill_columns(connection, _STRUCTURED_HOT, ("experiment", "learning", "template"))


def _fill_tenth(connection: sqlite3.Connection) -> None:
    """10: a hypothesis's criterion and a decision's next steps as columns."""
    _fill_columns(connection, _TENTH_HOT, ("hypothesis", "decision"))


#: Store schema migrations: ``MIGRATIONS[n - 1]`` takes the file from version n-1 to n.
#: They run in order, each exactly once, under one write lock (see ``_migrate``).
MIGRATIONS: Final[tuple[tuple[Step, ...], ...]] = (
    (
        # Every version's data is written once, in `versions`.  `records` holds one row
        # per record: which revision is current, and its short fields as columns; the
        # `current` view joins the two.  Rows are clustered by kind, so reading all
        # records of one kind reads consecutive pages.
        f"""CREATE TABLE records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            {", ".join(f'"{name}"' for name in _FIRST_HOT)},
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX records_id ON records (id)",
        'CREATE INDEX records_experiment ON records ("experiment") WHERE "experiment" IS NOT NULL',
        """CREATE TABLE versions (
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (id, revision)
        )""",
        _CURRENT,
    ),
    (
        # 2: a decision names the decision it revises.  No stored decision revised one.
        'ALTER TABLE records ADD COLUMN "revises"',
        # The view's r.* was expanded when it was made: make it again to see the column.
        *_CURRENT_AGAIN,
    ),
    (
        # 3: questionnaires, items, survey rounds, responses, interview notes, workshop
        # actions, terms and interpretations; objectives and experiments name terms.
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _THIRD_HOT),
        # A round's responses are read together, and there are many of them.
        'CREATE INDEX records_round ON records ("round") WHERE "round" IS NOT NULL',
        *_CURRENT_AGAIN,
    ),
    (
        # 4: templates and sprint phases; an experiment's template, a key result's start,
        # the fidelity a prototype was first shown at.  Only the last has stored values:
        # a prototype shown before 4 was shown as finished as it is (as the schema says).
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _FOURTH_HOT),
        """UPDATE records SET "shown_as" = "fidelity"
            WHERE kind = 'prototype' AND "shown_at" IS NOT NULL""",
        *_CURRENT_AGAIN,
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
    (
        # 9: an experiment's scope and a learning's next step as columns too.
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _STRUCTURED_HOT),
        _fill_structured,
        # The latest value of each key result and the latest verdict on each hypothesis
        # are read from these indexes alone (see `_LATEST_INDEXES`).
        *(f"DROP INDEX IF EXISTS {name}" for name in _LATEST_INDEXES),
        *(
            f"CREATE INDEX {name} ON records ({columns}) WHERE {where}"
            for name, (columns, where, _) in _LATEST_INDEXES.items()
        ),
        _latest_statistics,
        *_CURRENT_AGAIN,
    ),
    (
        # 10: a hypothesis's criterion and a decision's next steps as columns too, and the
        # few records with a structured field found from an index of their own.
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _TENTH_HOT),
        _fill_tenth,
        *(
            f'CREATE INDEX {name} ON records (kind, id) WHERE "{field}" IS NOT NULL'
            for name, field in _SPARSE_INDEXES.items()
        ),
        *_CURRENT_AGAIN,
    ),
)

#: The hot columns the migrations lay out, which :func:`hot` checks are the model's: a
#: query asks whether a field is one of them without working out every kind's fields
#: (about 8 ms, which `experiments list` need not spend).
HOT_COLUMNS: Final = frozenset({*_EIGHTH_HOT, *_STRUCTURED_HOT, *_TENTH_HOT})


@functools.cache
def hot() -> dict[str, FieldType]:
    """Hot field name -> how it is stored: times and time boxes in the form queries
    compare (:func:`~experiments.query.comparable`: fixed-width UTC text), lists as JSON.

    Every hot column has a migration that adds it, and every column migration 5 sets
    is hot: a field added to the model without its migration fails here, at once.
    """
    fields = _hot_fields()
    missing = set(fields) ^ HOT_COLUMNS
    assert not missing, f"a hot column without a migration: {missing}"
    assert set(_TIME_COLUMNS) <= set(fields), "migration 5 sets a column that is not hot"
    return fields


@functools.cache
def views() -> tuple[str, ...]:
    """The analyst's views, made afresh after every migration (see ``_views``)."""
    from experiments.stores import _views  # noqa: PLC0415 - only a migration makes views

    return _views.sqlite_views(HOT_COLUMNS)


#: The views each layout version makes (``_views.fingerprint``), from the first that
#: has them; an entry never changes.  A kind or a field added to the model changes the
#: views: add the next layout version (a migration, with no statement if the fields need
#: no column) and its entry here, so that every store migrated to it gets the new views.
#: ``tests/test_sql_views.py`` fails while the latest version has no entry for them.
VIEWS_AS_OF: Final = {
    6: "51b19ec22d45e7f4",
    7: "5a3a1f8c48e1f617",
    8: "5a3a1f8c48e1f617",
    9: "5a3a1f8c48e1f617",
    10: "5a3a1f8c48e1f617",
}


class KindSQL(NamedTuple):
    """How the records of one kind are written: the hot columns they fill, and the SQL.

    ``values`` gives the hot columns' values, in the order of ``plan``, for a record's
    data (see :func:`hot_values`).
    """

    plan: tuple[tuple[str, FieldType], ...]
    insert: str
    update: str
    upsert: str
    values: Callable[[Mapping[str, Any]], list[Any]]


def _kind_sql(names: Iterable[str]) -> KindSQL:
    # Only the kind's own columns are named: the others stay NULL for its rows, and
    # binding fifty-odd NULLs made every insert three times slower.
    names = list(names)
    fields = hot()
    plan = tuple((name, fields[name]) for name in names if name in fields)
    if "time_box" in names:
        plan += tuple((name, FieldType.DATETIME) for name in BOUNDS)
    columns = "".join(f', "{name}"' for name, _ in plan)
    marks = ", ?" * len(plan)
    insert = (
        f"INSERT INTO records (id, kind, revision, deleted{columns}) VALUES (?, ?, ?, ?{marks})"
    )
    update = (
        "UPDATE records SET revision = ?, deleted = ?"
        + "".join(f', "{name}" = ?' for name, _ in plan)
        + " WHERE id = ? AND revision = ? AND kind = ?"
    )
    upsert = (
        insert
        + " ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, "
        + "deleted = excluded.deleted"
        + "".join(f', "{name}" = excluded."{name}"' for name, _ in plan)
        + " WHERE excluded.revision > records.revision AND excluded.kind = records.kind"
    )
    return KindSQL(plan, insert, update, upsert, hot_values(plan))


@functools.cache
def sql_for_kind(kind: str) -> KindSQL:
    """:class:`KindSQL` of ``kind``; of every hot column for a kind the model lacks."""
    return _kind_sql(field_types(kind) if kind in KINDS else hot())


def sql_for(record: Record) -> KindSQL:
    return sql_for_kind(record.kind)


_Plan = tuple[tuple[str, FieldType], ...]
#: The kinds of field whose column holds another form than the data's value.
_REFORMED: Final = frozenset(
    {FieldType.DATETIME, FieldType.TIMEBOX, FieldType.LIST, FieldType.BOOL, FieldType.OTHER}
)


def hot_values(plan: _Plan) -> Callable[[Mapping[str, Any]], list[Any]]:
    """The function giving the values of ``plan``'s columns, in order, for a record's data.

    Times as their UTC keys, lists and structured values as compact JSON, flags as 0
    or 1, the time box's bounds (last, together) worked out in the zones of its data.
    Made once per kind: the fields read as they are are read all at once, and only the
    others, when set, are made into their column's form one by one.
    """
    names = tuple(name for name, _ in plan if name not in BOUNDS)
    reformed = [
        (index, name, kind)
        for index, (name, kind) in enumerate(plan[: len(names)])
        if kind in _REFORMED
    ]
    bounds = len(names) < len(plan)  # the bounds come last, together

    def values(data: Mapping[str, Any]) -> list[Any]:
        row = list(map(data.get, names))
        for index, name, kind in reformed:
            value = row[index]
            if value is None:
                continue
            if kind is FieldType.DATETIME:
                row[index] = time_key(value)
            elif kind is FieldType.LIST:
                row[index] = dumps(value) if value else "[]"  # most tags lists are empty
            elif kind is FieldType.BOOL:
                row[index] = int(value)
            elif kind is FieldType.OTHER:
                row[index] = dumps(value)
            else:
                row[index] = comparable(data, name, kind)
        if bounds:
            row.extend(time_box_bounds(data))
        return row

    return values
