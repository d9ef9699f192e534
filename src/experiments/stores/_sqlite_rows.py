"""What ``verify()`` finds wrong in a SQLite store's rows of ``records``.

Queries, the views, the roll-up and an analyst's SQL read a record's row, not its
history: the row says which revision is current, the kind, the deleted flag and the
kind's hot columns (``_sqlite_layout.sql_for``), as a save writes them from the
current version (read as this release reads it: a version of an older record schema as
the current one). A row that says otherwise, or a history without a row, makes them
answer from something the history does not say. Such rows come from changes by hand,
from a process of an older release that went on saving while a newer one added a
column, or, for time box bounds, from zone rules that changed since: the messages say
what differs and how to put it right, not which of these it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from experiments.errors import ExperimentsError
from experiments.model import KINDS
from experiments.model._record import deleted_in
from experiments.query import FieldType
from experiments.serialization import SCHEMA_VERSION, from_data, to_data, upgrade
from experiments.stores._derived import readable_data
from experiments.stores._sqlite_layout import sql_for_kind
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from experiments.model import Record

__all__ = ["rows_adrift"]

#: The latest revision a record's history holds, beside each row of ``current``.
_LATEST: Final = "(SELECT max(revision) FROM versions WHERE id = r.id)"

#: How the fixes read a record whatever its state (a deleted one too).
_SAVE_AGAIN: Final = "store.save(store.get(id, include_deleted=True))"

#: What reading a version as a record, or working out its row, raises where the data
#: holds what no record can (``verify()`` names such a version on its own).
_UNREADABLE: Final = (ValueError, TypeError, RecursionError, ExperimentsError)

#: What a list column holds for an empty list: NULL in a row from before a migration
#: added the column, ``[]`` in one a save wrote since; queries read both as empty.
_EMPTY_LIST: Final = (None, "[]")


def rows_adrift(
    read: Callable[[str, tuple[str, ...]], Iterable[Sequence[Any]]], where: str
) -> Iterator[Damage]:
    """A Damage for each row of ``records`` that is not what its record's current
    version writes, and for each history that has no row.

    ``read(sql, params)`` gives a statement's rows.  A version that cannot be read as a
    record is left to the rest of ``verify()``, which names it.
    """
    for kind in KINDS:
        yield from _rows_of(read, kind, where)
    yield from _rows_of_no_kind(read, where)
    for record_id, latest in read(
        "SELECT v.id, max(v.revision) FROM versions v "
        "WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = v.id) GROUP BY v.id",
        (),
    ):
        place = f"{where}: record {record_id!r}"
        yield Damage(place, _no_row(record_id, latest), record_id)


def _rows_of(
    read: Callable[[str, tuple[str, ...]], Iterable[Sequence[Any]]], kind: str, where: str
) -> Iterator[Damage]:
    """The Damage in the rows of ``kind``."""
    plan = sql_for_kind(kind).plan
    names = ["revision", "deleted", *(name for name, _ in plan)]
    types: list[FieldType | None] = [None, None, *(field for _, field in plan)]
    columns = "".join(f', r."{name}"' for name, _ in plan)
    sql = f"SELECT r.id, r.revision, r.deleted{columns}, r.data, {_LATEST} FROM current r "
    for row in read(sql + "WHERE r.kind = ? ORDER BY r.id", (kind,)):
        record_id, stored, text, latest = row[0], row[1:-2], row[-2], row[-1]
        place = f"{where}: record {record_id!r}"
        if text is None or latest != stored[0]:
            yield Damage(place, _off_history(record_id, stored[0], latest), record_id)
            continue
        data = _own_version(text, record_id, stored[0])
        if data is None:
            continue  # a version that is not the record's own: reading it names it
        if data["kind"] != kind:
            if _record(data) is not None:
                yield Damage(place, _other_kind(record_id, kind, data["kind"]), record_id)
            continue
        if _agrees(stored, _written(data), types):
            continue
        record = _record(data)  # read only where its row seems to differ
        written = None if record is None else _written(to_data(record))
        if written is None:
            continue
        differing = [
            name
            for name, have, want, field in zip(names, stored, written, types, strict=True)
            if not _same(have, want, field)
        ]
        if differing:
            yield Damage(
                place,
                f"its row in records disagrees with its current version (revision "
                f"{stored[0]}) in {', '.join(differing)}, and queries read the row; save "
                f"the record again ({_SAVE_AGAIN}) to write its row afresh",
                record_id,
            )


def _rows_of_no_kind(
    read: Callable[[str, tuple[str, ...]], Iterable[Sequence[Any]]], where: str
) -> Iterator[Damage]:
    """The Damage in rows whose kind no record has (no query of a kind finds them)."""
    marks = ", ".join("?" * len(KINDS))
    sql = (
        f"SELECT r.id, r.kind, r.revision, r.data, {_LATEST} FROM current r "
        f"WHERE r.kind NOT IN ({marks}) ORDER BY r.id"
    )
    for record_id, kind, revision, text, latest in read(sql, tuple(KINDS)):
        place = f"{where}: record {record_id!r}"
        if text is None or latest != revision:
            yield Damage(place, _off_history(record_id, revision, latest), record_id)
            continue
        data = _own_version(text, record_id, revision)
        if data is not None and _record(data) is not None:
            yield Damage(place, _other_kind(record_id, kind, data["kind"]), record_id)


def _expected(data: dict[str, Any]) -> list[Any]:
    """The revision, deleted flag and hot columns a save writes for ``data``, in order."""
    head = [data.get("revision"), int(deleted_in(data))]
    return head + sql_for_kind(data["kind"]).values(data)


def _written(data: dict[str, Any]) -> list[Any] | None:
    """:func:`_expected` of data as stored, quickly; None where a field holds what no
    record can."""
    try:
        return _expected(data)
    except _UNREADABLE:
        return None


def _agrees(
    stored: Sequence[Any], written: list[Any] | None, types: list[FieldType | None]
) -> bool:
    """Whether a row's columns say what ``written`` does (at once, where they are equal)."""
    if written is None:
        return False
    if list(stored) == written:
        return True
    return all(map(_same, stored, written, types))


def _same(stored: Any, written: Any, kind: FieldType | None) -> bool:
    """Whether a column holds what a save writes there: the same, or an empty list."""
    if stored == written:
        return True
    return kind is FieldType.LIST and stored in _EMPTY_LIST and written in _EMPTY_LIST


def _own_version(text: str, record_id: str, revision: object) -> dict[str, Any] | None:
    """The data of a row's current version in the current record schema, where it is
    the version of that row's id and revision and of a known kind; else None.

    Only such a version, and only if it reads as a record (:func:`_record`), says what
    its row must be: one that does not, or whose content names another id or revision
    than its key, is damage of its own, for the rest of ``verify()`` or a backup.
    """
    data = readable_data(text)
    if data is None or data.get("id") != record_id or data.get("revision") != revision:
        return None
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        return None
    if data.get("schema") == SCHEMA_VERSION:
        return data  # as a save wrote it
    try:
        return upgrade(data)  # as reading it makes it
    except ExperimentsError:
        return None


def _record(data: dict[str, Any]) -> Record | None:
    """``data`` read as a record; None where it does not read (reading it names it)."""
    try:
        return from_data(data)
    except _UNREADABLE:
        return None


def _quoted(text: object) -> str:
    """``text`` as a SQL string literal, for a fix the message spells out."""
    return "'" + str(text).replace("'", "''") + "'"


def _other_kind(record_id: str, kind: object, held: str) -> str:
    return (
        f"its row in records is of kind {kind!r}, and its current version is of kind "
        f"{held!r}: if the row was changed, set it back (UPDATE records SET kind = "
        f"{_quoted(held)} WHERE id = {_quoted(record_id)}), then save the record again "
        f"({_SAVE_AGAIN}) to write the rest of its row afresh; if the version was, "
        "restore the store from a backup"
    )


def _whole(revision: object) -> bool:
    return isinstance(revision, int) and not isinstance(revision, bool)


def _off_history(record_id: str, revision: object, latest: object) -> str:
    """What is wrong with a row whose revision is not its history's latest, and the fix."""
    if latest is None:
        return (
            f"its row in records names revision {revision!r}, and no version with its id "
            "is in the history: if its id was changed, set it back; otherwise delete the "
            f"row (DELETE FROM records WHERE id = {_quoted(record_id)}) or restore the "
            "store from a backup"
        )
    if not _whole(latest):
        return _not_whole(revision, latest)
    return (
        f"its row in records names revision {revision!r}, and its history holds versions "
        f"up to revision {latest}; set it back (UPDATE records SET revision = {latest} "
        f"WHERE id = {_quoted(record_id)}), then save the record again ({_SAVE_AGAIN}) to "
        "write the rest of its row afresh"
    )


def _no_row(record_id: str, latest: object) -> str:
    """What is wrong with a history that has no row, and the fix."""
    if not _whole(latest):
        return _not_whole(None, latest)
    return (
        f"its history holds versions up to revision {latest}, and records has no row for "
        "it, so no query or roll-up sees it: if its row's id was changed, set it back; "
        "otherwise give it its row (INSERT INTO records (id, kind, revision, deleted) "
        f"SELECT id, json_extract(data, '$.kind'), revision, 0 FROM versions WHERE id = "
        f"{_quoted(record_id)} AND revision = {latest}), then save the record again "
        f"({_SAVE_AGAIN}) to write the rest of its row afresh; if that version is damaged "
        "too (verify names it), restore the store from a backup instead"
    )


def _not_whole(revision: object, latest: object) -> str:
    row = "" if revision is None else f"its row in records names revision {revision!r}, and "
    return (
        f"{row}its history's latest revision is {latest!r}, which is no whole number: the "
        "history was changed outside the library; restore the store from a backup"
    )
