"""How a SQLite store lays out its file: tables, migrations, hot columns, SQL dialect.

``records`` holds one row per record (which revision is current, and its short fields
as columns, the *hot* fields, so that queries need not parse JSON), ``versions`` one
row per version (its JSON), and the ``current`` view joins the two.  The layout has a
version (``PRAGMA user_version``); :data:`MIGRATIONS` take a file from each version to
the next, in order, each exactly once.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from experiments.model import KINDS
from experiments.query import FieldInfo, FieldType, comparable, field_types
from experiments.serialization import dumps, rewritten

if TYPE_CHECKING:
    from experiments.model import Record

__all__ = [
    "APPLICATION_ID",
    "DIALECT",
    "HOT",
    "MIGRATIONS",
    "FSum",
    "KindSQL",
    "hot_values",
    "sql_for",
]


#: ``PRAGMA application_id`` of a strategy-experiments store ("EXPR"), which tells our
#: files from other programs' SQLite databases.
APPLICATION_ID: Final = 0x45585052


def _hot_fields() -> dict[str, FieldType]:
    """Fields copied into ``records`` at write time, so queries need not parse JSON.

    Every short field any kind has; long free text (descriptions, observations, notes),
    personal names and structured data stay in the JSON of ``versions`` only.
    """
    left_out = {
        "id", "kind", "revision", "metadata", "criterion", "abandon_reason", "challenge",
        "description", "details", "insight", "link", "name", "next_action", "observation",
        "rationale", "text", "next_steps", "facilitators", "decided_by", "agreed_by",
        "stated_by", "interviewer", "scaffold",
    }  # fmt: skip
    hot: dict[str, FieldType] = {}
    for kind in KINDS:
        for name, info in field_types(kind).items():
            if name not in left_out and info.kind is not FieldType.OTHER:
                hot[name] = info.kind
    return dict(sorted(hot.items()))


#: Hot field name -> how it is stored: times and time boxes in the form queries compare
#: (:func:`~experiments.query.comparable`: fixed-width UTC text), lists as JSON.
HOT: Final = _hot_fields()

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
                comparable(data, name, HOT[name]) if name in data else None
                for name in _TIME_COLUMNS
            ]
            connection.execute(update_hot, (*times, record_id, revision))


#: A migration step: SQL, or a function that changes the data itself.
Step = str | Callable[[sqlite3.Connection], None]

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
        """CREATE VIEW current AS
            SELECT r.*, v.data AS data
            FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision""",
    ),
    (
        # 2: a decision names the decision it revises.  No stored decision revised one.
        'ALTER TABLE records ADD COLUMN "revises"',
        # The view's r.* was expanded when it was made: make it again to see the column.
        "DROP VIEW current",
        """CREATE VIEW current AS
            SELECT r.*, v.data AS data
            FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision""",
    ),
    (
        # 3: questionnaires, items, survey rounds, responses, interview notes, workshop
        # actions, terms and interpretations; objectives and experiments name terms.
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _THIRD_HOT),
        # A round's responses are read together, and there are many of them.
        'CREATE INDEX records_round ON records ("round") WHERE "round" IS NOT NULL',
        "DROP VIEW current",
        """CREATE VIEW current AS
            SELECT r.*, v.data AS data
            FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision""",
    ),
    (
        # 4: templates and sprint phases; an experiment's template, a key result's start,
        # the fidelity a prototype was first shown at.  Only the last has stored values:
        # a prototype shown before 4 was shown as finished as it is (as the schema says).
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _FOURTH_HOT),
        """UPDATE records SET "shown_as" = "fidelity"
            WHERE kind = 'prototype' AND "shown_at" IS NOT NULL""",
        "DROP VIEW current",
        """CREATE VIEW current AS
            SELECT r.*, v.data AS data
            FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision""",
    ),
    (
        # 5: times in RFC 3339 with their offset, zone names in fields of their own.
        _times_in_rfc3339,
    ),
)

_LAID_OUT: Final = set(_FIRST_HOT) | {"revises"} | set(_THIRD_HOT) | set(_FOURTH_HOT)
assert set(HOT) == _LAID_OUT, f"a hot column without a migration: {set(HOT) ^ _LAID_OUT}"
assert set(_TIME_COLUMNS) <= set(HOT), "migration 5 sets a column that is not hot"


class KindSQL(NamedTuple):
    """How the records of one kind are written: the hot columns they fill, and the SQL."""

    plan: tuple[tuple[str, FieldType], ...]
    insert: str
    update: str
    upsert: str


def _kind_sql(names: Iterable[str]) -> KindSQL:
    # Only the kind's own columns are named: the others stay NULL for its rows, and
    # binding fifty-odd NULLs made every insert three times slower.
    plan = tuple((name, HOT[name]) for name in names if name in HOT)
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
    return KindSQL(plan, insert, update, upsert)


_KIND_SQL: Final = {kind: _kind_sql(field_types(kind)) for kind in KINDS}
_ANY_KIND_SQL: Final = _kind_sql(HOT)


def sql_for(record: Record) -> KindSQL:
    return _KIND_SQL.get(record.kind, _ANY_KIND_SQL)


def hot_values(plan: tuple[tuple[str, FieldType], ...], data: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = []
    for name, kind in plan:
        value = data.get(name)
        if value is not None:
            if kind is FieldType.DATETIME or kind is FieldType.TIMEBOX:
                value = comparable(data, name, kind)
            elif kind is FieldType.LIST:
                value = dumps(value) if value else "[]"  # most tags lists are empty
            elif kind is FieldType.BOOL:
                value = int(value)
        values.append(value)
    return values


class FSum:
    """SUM as :func:`math.fsum` computes it; SQLite's own sum rounds at every step."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return math.fsum(self.values) if self.values else None


class _SQLite:
    """How SQL reads fields in SQLite: hot columns where there are, the JSON otherwise."""

    placeholder = "?"
    lateral = ""
    sum_function = "experiments_fsum"
    unlimited = "-1"

    def raw_field(self, name: str, table: str = "r") -> str:
        if name in HOT:
            return f'{table}."{name}"'
        if name in ("id", "kind", "revision"):
            return f"{table}.{name}"
        return f"json_extract({table}.data, '$.\"{name}\"')"

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        # Every time and time box is hot (the assertion on HOT above keeps it so): the
        # JSON holds their written text, which does not sort like the instants.
        assert name in HOT or info.kind not in (FieldType.DATETIME, FieldType.TIMEBOX), name
        if name in HOT or name in ("id", "kind", "revision"):
            return f'{table}."{name}"'
        return self.raw_field(name, table)

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        if name in HOT:
            return f'json_each({table}."{name}") AS {alias}'
        return f"json_each({table}.data, '$.\"{name}\"') AS {alias}"

    def list_length(self, name: str, table: str = "r") -> str:
        if name in HOT:
            return f'json_array_length({table}."{name}")'
        return f"json_array_length({table}.data, '$.\"{name}\"')"

    def false(self) -> str:
        return "0"

    def order(self, expression: str, *, descending: bool) -> str:
        # SQLite sorts NULL first ascending and last descending: what we promise.
        return f"{expression} DESC" if descending else expression

    def parameter(self, info: FieldInfo, value: Any) -> Any:
        return value


DIALECT: Final = _SQLite()
