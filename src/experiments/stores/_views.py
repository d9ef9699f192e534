"""The analyst's views: one per kind, with named, typed columns, in SQLite and PostgreSQL.

A store's own tables are laid out for the library (one wide table of every kind, the
JSON beside it); an analyst in datasette, psql, a BI tool or pandas wants
``SELECT title, time_box_end FROM experiments``.  So each kind gets a view named by its
plural (``experiments``, ``key_results``, ``hypotheses``), whose columns are the kind's
fields, in the model's order, typed: numbers as numbers, booleans as booleans (0 and 1
in SQLite, which has no other), times as RFC 3339 text in UTC in SQLite (which its date
functions read) and ``timestamptz`` in PostgreSQL, lists as JSON arrays in SQLite and
``text[]`` in PostgreSQL, structured fields as JSON.  A record with a time box also has
``time_box_start`` and ``time_box_end``, the instants the roll-up uses, computed when the
record was written (see ``_derived``).

The views show each record's current version and leave soft-deleted records out;
``deleted`` lists those.  A pseudonymous participant's name and slug are NULL.  The
views are derived from :data:`experiments.model.KINDS`, and made again whenever a
store's layout is migrated, so a new kind or field comes with its view in the layout
version that brings it (``VIEWS_AS_OF`` in each layout holds them in step).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Final, NamedTuple

import attrs

from experiments.model import KINDS, plural
from experiments.model._hints import field_hints
from experiments.model._time import UTC_WIDTH
from experiments.model.participant import PERSONAL_FIELDS
from experiments.query import FieldType, field_types
from experiments.stores._derived import BOUNDS

__all__ = [
    "DELETED_VIEW",
    "Column",
    "fingerprint",
    "postgres_views",
    "sqlite_views",
    "view_columns",
    "view_name",
]

#: The view that lists soft-deleted records of every kind.
DELETED_VIEW: Final = "deleted"


class Column(NamedTuple):
    """One column of a kind's view: its name, and what it holds."""

    name: str
    type: FieldType
    integer: bool = False
    """For a number: whether it is a whole number (a revision, a version)."""


def view_name(kind: str) -> str:
    """The view of a kind: its plural, as SQL names it (``key_results``)."""
    return plural(kind).replace("-", "_")


def view_columns(kind: str) -> tuple[Column, ...]:
    """The columns of a kind's view: ``id``, then every field but ``deleted_at``.

    After ``time_box`` come ``time_box_start`` and ``time_box_end``.
    """
    hints = field_hints(KINDS[kind])
    infos = field_types(kind)
    columns = [Column("id", FieldType.TEXT)]
    for field in attrs.fields(KINDS[kind]):
        if field.name in ("id", "deleted_at"):
            continue
        info = infos[field.name]
        columns.append(Column(field.name, info.kind, hints[field.name] is int))
        if info.kind is FieldType.TIMEBOX:
            columns.extend(Column(name, FieldType.DATETIME) for name in BOUNDS)
    return tuple(columns)


def _masked(kind: str, column: str, expression: str, pseudonymous: str) -> str:
    if kind == "participant" and column in PERSONAL_FIELDS:
        return f"CASE WHEN {pseudonymous} THEN NULL ELSE {expression} END"
    return expression


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_column(column: Column, hot: frozenset[str]) -> str:
    name = column.name
    if name in ("id", "revision") or name in BOUNDS:
        return f"r.{_quoted(name)}"
    if name in hot and column.type is not FieldType.OTHER:  # structured: as SQLite writes it
        return f"r.{_quoted(name)}"
    value = f"json_extract(v.data, '$.\"{name}\"')"
    return f"substr({value}, 1, {UTC_WIDTH})" if column.type is FieldType.DATETIME else value


def sqlite_views(hot: frozenset[str]) -> tuple[str, ...]:
    """The statements that make every view of a SQLite store afresh.

    ``hot`` names the fields the ``records`` table holds as columns; the others are
    read from the version's JSON.
    """
    statements: list[str] = []
    for kind in KINDS:
        columns = ",\n    ".join(
            f"{_masked(kind, c.name, _sqlite_column(c, hot), 'r.pseudonymous')} "
            f"AS {_quoted(c.name)}"
            for c in view_columns(kind)
        )
        statements.append(_create(
            view_name(kind),
            f"SELECT\n    {columns}\nFROM records r JOIN versions v "
            "ON v.id = r.id AND v.revision = r.revision\n"
            f"WHERE r.kind = '{kind}' AND r.deleted = 0",
        ))  # fmt: skip
    statements.append(_create(
        DELETED_VIEW,
        "SELECT r.kind AS kind, r.id AS id, "
        "CASE WHEN r.pseudonymous THEN NULL ELSE r.slug END AS slug, "
        "r.deleted_at AS deleted_at, r.changed_by AS deleted_by\n"
        "FROM records r WHERE r.deleted = 1",
    ))  # fmt: skip
    return _dropping(statements)


def _postgres_column(column: Column) -> str:
    name = column.name
    if name in ("id", "revision") or name in BOUNDS:
        return f"r.{_quoted(name)}"
    text = f"(r.doc ->> '{name}')"
    value = f"(r.doc -> '{name}')"
    kind = column.type
    if kind is FieldType.NUMBER:
        return f"{text}::{'bigint' if column.integer else 'double precision'}"
    if kind is FieldType.BOOL:
        return f"{text}::boolean"
    if kind is FieldType.DATETIME:
        # Up to a zone annotation ("[Europe/Oslo]"), where the text has one.
        return f"split_part({text}, '[', 1)::timestamptz"
    if kind is FieldType.DATE:
        return f"{text}::date"
    if kind is FieldType.LIST:
        return (
            f"CASE WHEN jsonb_typeof({value}) = 'array' THEN "
            f"ARRAY(SELECT jsonb_array_elements_text({value})) END"
        )
    if kind is FieldType.OTHER:
        return f"NULLIF({value}, 'null'::jsonb)"
    return text


def postgres_views() -> tuple[str, ...]:
    """The statements that make every view of a PostgreSQL store afresh (``{s}``: schema)."""
    pseudonymous = "COALESCE((r.doc ->> 'pseudonymous')::boolean, FALSE)"
    statements: list[str] = []
    for kind in KINDS:
        columns = ",\n    ".join(
            f"{_masked(kind, c.name, _postgres_column(c), pseudonymous)} AS {_quoted(c.name)}"
            for c in view_columns(kind)
        )
        statements.append(_create(
            "{s}." + view_name(kind),
            f"SELECT\n    {columns}\nFROM {{s}}.records r\n"
            f"WHERE r.kind = '{kind}' AND r.deleted = 0",
        ))  # fmt: skip
    statements.append(_create(
        "{s}." + DELETED_VIEW,
        "SELECT r.kind AS kind, r.id AS id, "
        f"CASE WHEN {pseudonymous} THEN NULL ELSE r.doc ->> 'slug' END AS slug, "
        f"{_postgres_column(Column('deleted_at', FieldType.DATETIME))} AS deleted_at, "
        "r.doc ->> 'changed_by' AS deleted_by\n"
        "FROM {s}.records r WHERE r.deleted = 1",
    ))  # fmt: skip
    return _dropping(statements)


def _create(name: str, select: str) -> str:
    return f"CREATE VIEW {name} AS\n{select}"


def _dropping(creates: list[str]) -> tuple[str, ...]:
    """Drop every view first: a view cannot change its columns in place."""
    names = [statement.split()[2] for statement in creates]
    return (*(f"DROP VIEW IF EXISTS {name}" for name in names), *creates)


def fingerprint(statements: Callable[[], tuple[str, ...]] | tuple[str, ...]) -> str:
    """A short digest of the views' SQL: it changes whenever a kind or a field does."""
    made = statements() if callable(statements) else statements
    return hashlib.sha256("\n".join(made).encode()).hexdigest()[:16]


def names() -> Iterator[str]:
    """Every view's name."""
    yield from (view_name(kind) for kind in KINDS)
    yield DELETED_VIEW
