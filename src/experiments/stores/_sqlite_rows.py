"""What ``verify()`` finds wrong in a SQLite store's rows of ``records``.

A record's row is what a save writes from its current version, as this release reads
it (a version of an older record schema read as the current one): the kind, the
revision and the deleted flag, and the kind's hot columns (``_sqlite_layout.sql_for``),
which queries, the roll-up and an analyst's SQL read instead of the JSON. A row that
says otherwise makes them all answer from something the history never held: it was
changed outside the library (an ``UPDATE`` by hand), or written by a process of an
older release that went on saving while a newer one added a column.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from experiments.errors import ExperimentsError
from experiments.model import KINDS
from experiments.query import FieldType
from experiments.serialization import SCHEMA_VERSION, from_data, to_data, upgrade
from experiments.stores._derived import readable_data
from experiments.stores._sqlite_layout import sql_for_kind
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

__all__ = ["expected", "rows_adrift", "statement"]


def statement(kind: str) -> str:
    """The rows of ``kind`` with the columns a save of one writes (its revision, deleted
    flag and hot columns, in the order of :func:`expected`), then the version its
    revision names and the latest revision its history holds."""
    columns = "".join(f', r."{name}"' for name, _ in sql_for_kind(kind).plan)
    return (
        f"SELECT r.id, r.revision, r.deleted{columns}, v.data, "
        "(SELECT max(revision) FROM versions WHERE id = r.id) "
        "FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision "
        "WHERE r.kind = ? ORDER BY r.id"
    )


def rows_adrift(
    read: Callable[[str, tuple[str]], Iterable[Sequence[Any]]], where: str
) -> Iterator[Damage]:
    """A Damage for each row of ``records`` that is not what its current version writes.

    ``read(sql, params)`` gives a statement's rows.  A version that cannot be read as a
    record of its row's kind is left to the rest of ``verify()``, which names it.
    """
    for kind in KINDS:
        plan = sql_for_kind(kind).plan
        names = ["revision", "deleted", *(name for name, _ in plan)]
        types: list[FieldType | None] = [None, None, *(field for _, field in plan)]
        for row in read(statement(kind), (kind,)):
            record_id, stored, text, latest = row[0], row[1:-2], row[-2], row[-1]
            place = f"{where}: record {record_id!r}"
            if text is None or latest != stored[0]:
                yield Damage(place, _off_history(record_id, stored[0], latest), record_id)
                continue
            data = _current_schema(text)
            if data is None:
                continue
            if data["kind"] != kind:
                yield Damage(place, _other_kind(record_id, kind, data["kind"]), record_id)
                continue
            if list(stored) == _written(data):
                continue
            try:  # only a version that reads as a record says what its row must be
                written = expected(to_data(from_data(data)))
            except (ValueError, TypeError, RecursionError, ExperimentsError):
                continue  # reading it is what names it
            differing = [
                name
                for name, have, want, field in zip(names, stored, written, types, strict=True)
                if not _same(have, want, field)
            ]
            if differing:
                yield Damage(
                    place,
                    f"its row in records disagrees with its current version (revision "
                    f"{stored[0]}) in {', '.join(differing)}: it was changed outside the "
                    "library, or written by an older release while a newer one migrated "
                    "the store; save the record again (store.save(store.get(id))) to write "
                    "its row afresh",
                    record_id,
                )


def _written(data: dict[str, Any]) -> list[Any] | None:
    """:func:`expected` of data as stored, quickly; None where a field holds what no
    record can."""
    try:
        return expected(data)
    except (ValueError, TypeError, ExperimentsError):
        return None


def _current_schema(text: str) -> dict[str, Any] | None:
    """A version's data in the current record schema; None for one that cannot be read
    as a record of a known kind."""
    data = readable_data(text)
    if data is None or data.get("kind") not in KINDS:
        return None
    if data.get("schema") == SCHEMA_VERSION:
        return data  # as a save wrote it
    try:
        return upgrade(data)  # as reading it makes it
    except ExperimentsError:
        return None


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _other_kind(record_id: str, kind: str, held: str) -> str:
    return (
        f"its row in records is of kind {kind!r}, and its current version is a {held}: "
        f"the row was changed outside the library; set it back (UPDATE records SET kind "
        f"= {_quoted(held)} WHERE id = {_quoted(record_id)}), then save the record again "
        "(store.save(store.get(id))) to write the rest of its row afresh"
    )


def _off_history(record_id: str, revision: object, latest: int | None) -> str:
    """What is wrong with a row whose revision is not its history's latest, and the fix."""
    quoted = _quoted(str(record_id))
    if latest is None:
        return (
            f"its row in records names revision {revision}, and its history holds no "
            "version of it: the row was made outside the library; delete it (DELETE FROM "
            f"records WHERE id = {quoted}) or restore the store from a backup"
        )
    return (
        f"its row in records names revision {revision}, and its history holds versions "
        f"up to revision {latest}: the row was changed outside the library; set it back "
        f"(UPDATE records SET revision = {latest} WHERE id = {quoted}), then save the "
        "record again (store.save(store.get(id))) to write the rest of its row afresh"
    )


def expected(data: dict[str, Any]) -> list[Any]:
    """The revision, deleted flag and hot columns a save writes for ``data``, in order."""
    head = [data.get("revision"), int(data.get("deleted_at") is not None)]
    return head + sql_for_kind(data["kind"]).values(data)


#: What a list column holds for an empty list: NULL in a row from before a migration
#: added the column, ``[]`` in one a save wrote since; queries read both as empty.
_EMPTY_LIST: Final = (None, "[]")


def _same(stored: Any, written: Any, kind: FieldType | None) -> bool:
    if stored == written:
        return True
    if kind is FieldType.LIST:
        return stored in _EMPTY_LIST and written in _EMPTY_LIST
    return (
        isinstance(stored, float)
        and isinstance(written, float)
        and math.isnan(stored)
        and math.isnan(written)
    )
