"""How records look on a terminal and in the command's JSON.

Every command prints records through :func:`shown_data`, :func:`describe`,
:func:`one_line` or :func:`table`, and these are the one place where a pseudonymous
participant is masked: its name and its slug (often made from the name) are never
printed; it is called by :attr:`~experiments.Participant.display_name`.  Only
`experiments export`, a lossless backup, writes them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs
import pendulum

from experiments.model import KINDS, Participant, Record, TimeBox
from experiments.model._time import zoned_text
from experiments.model.participant import PERSONAL_FIELDS
from experiments.serialization import SCHEMA_VERSION, to_data, upgrade

__all__ = [
    "HIDDEN_FIELDS",
    "data_table",
    "describe",
    "fields_table",
    "hides_identity",
    "listed_fields",
    "listed_from_data",
    "one_line",
    "shown_data",
    "table",
    "title_of",
]

_SKIP: Final = frozenset({"kind", "schema", "metadata", "tags", "id", "slug"})

#: The fields a record is called by, in the order :func:`title_of` tries them; every
#: one of them holds text.
_TITLE_FIELDS: Final = (
    "title", "statement", "observation", "metric", "group", "text", "word", "department",
)  # fmt: skip

#: What is never printed of a pseudonymous participant; JSON gives null for each.
HIDDEN_FIELDS: Final = PERSONAL_FIELDS


def hides_identity(record: Record, *, hide: bool = False) -> bool:
    """Whether ``record``'s name and slug stay hidden: a pseudonymous participant's do.

    ``hide`` hides them for any participant, e.g. an older version of one who is
    pseudonymous now.
    """
    return isinstance(record, Participant) and (hide or record.pseudonymous)


def shown_data(record: Record, *, hide: bool = False) -> dict[str, Any]:
    """The record's data as commands print it with --json.

    For a pseudonymous participant (see :func:`hides_identity`) ``name`` and ``slug``
    are null; every other field is as stored, so scripts see the same keys for every
    participant and can tell a hidden one by ``pseudonymous``.
    """
    data = to_data(record)
    if hides_identity(record, hide=hide):
        data.update(dict.fromkeys(HIDDEN_FIELDS))
    return data


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, pendulum.DateTime):
        return zoned_text(value)
    if isinstance(value, TimeBox):
        return str(value)
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) if value else "-"
    if isinstance(value, tuple | list):
        return ", ".join(_value(v) for v in value) if value else "-"
    return str(value)


def title_of(record: Record, *, hide: bool = False) -> str:
    """What a person calls the record: its title, statement, observation, word, or name.

    A participant is called by its display name, which leaves out a pseudonymous
    participant's name; ``hide`` treats a participant as pseudonymous either way.
    """
    if isinstance(record, Participant):
        if hides_identity(record, hide=hide) and not record.pseudonymous:
            record = attrs.evolve(record, pseudonymous=True)
        return record.display_name
    for name in _TITLE_FIELDS:
        value = getattr(record, name, None)
        if value:
            return str(value)
    return record.id


def one_line(record: Record, *, hide: bool = False) -> str:
    """``kind id "title" [status]``."""
    status = getattr(record, "status", None)
    extra = f" [{status.value}]" if status is not None else ""
    return f"{record.kind} {record.id} {title_of(record, hide=hide)!r}{extra}"


def describe(record: Record, *, hide: bool = False) -> str:
    """Every field of a record, one per line, hiding what :func:`hides_identity` says."""
    masked = hides_identity(record, hide=hide)
    slug = None if masked else record.slug
    lines = [f"{record.kind} {record.id}" + (f" ({slug})" if slug else "")]
    fields = attrs.fields_dict(type(record))
    for name in to_data(record):
        if name in _SKIP or name not in fields:  # a zone field: shown with its time
            continue
        value = getattr(record, name)
        if masked and name in HIDDEN_FIELDS:
            value = f"(pseudonymous; shown as {title_of(record, hide=True)})"
        lines.append(f"  {name}: {_value(value)}")
    if record.tags:
        lines.append(f"  tags: {', '.join(sorted(record.tags))}")
    if record.metadata:
        lines.append(f"  metadata: {dict(record.metadata)}")
    return "\n".join(lines)


def _minute(moment: dt.datetime) -> str:
    """``YYYY-MM-DD HH:mm UTC``: to the minute, and saying in which zone.

    Written by hand: pendulum's ``format`` costs fifty times as much, once per row.
    """
    moment = moment.astimezone(dt.UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d} UTC"
    )


def _minute_of(text: str) -> str:
    """:func:`_minute` of an RFC 3339 time; one in UTC, as stores write them, is cut to
    the minute as it is (parsing it was half of what formatting a listing cost)."""
    if text.endswith("Z") and text[10:11] == "T":
        return f"{text[:10]} {text[11:16]} UTC"
    return _minute(dt.datetime.fromisoformat(text))


def table(records: Iterable[Record], title: Callable[[Record], str] = title_of) -> str:
    """Records as aligned columns: id, kind, status, updated, and ``title`` of each."""
    return _aligned(
        (
            record.id,
            record.kind,
            _value(getattr(record, "status", None)) if hasattr(record, "status") else "",
            _minute(record.updated_at),
            title(record),
        )
        for record in records
    )


def listed_from_data(kind: str) -> bool:
    """Whether :func:`data_table` shows records of ``kind`` as :func:`table` with
    :func:`title_of` does, from their stored data alone.

    A participant is called by its display name (masked where pseudonymous), and a
    learning's status is worked out from its verdict: those need the record.
    """
    cls = KINDS[kind]
    if issubclass(cls, Participant):
        return False
    return not hasattr(cls, "status") or "status" in attrs.fields_dict(cls)


def data_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """:func:`table` of records' stored data, for kinds that are :func:`listed_from_data`.

    Listing a thousand records this way skips building and validating each one, which
    is most of what `experiments list` costs; what is printed is the same.
    """
    plans: dict[str, tuple[list[str], bool]] = {}
    lines = []
    for stored in rows:
        data = stored if stored.get("schema") == SCHEMA_VERSION else upgrade(stored)
        kind = data["kind"]
        plan = plans.get(kind)
        if plan is None:
            fields = listed_fields(kind)
            plan = plans[kind] = (fields, "status" in fields)
        fields, has_status = plan
        lines.append(_listed_line(kind, [data.get(name) for name in fields], has_status))
    return _aligned(lines)


def listed_fields(kind: str) -> list[str]:
    """The fields a row of ``kind`` in :func:`data_table` or :func:`fields_table` shows:
    the id, when it last changed, its status (if it has one), then those its title may
    come from."""
    cls = KINDS[kind]
    status = ["status"] if hasattr(cls, "status") else []
    return ["id", "updated_at", *status, *(n for n in _TITLE_FIELDS if hasattr(cls, n))]


def fields_table(kind: str, rows: Iterable[Sequence[Any]]) -> str:
    """:func:`table` of records of ``kind`` (one :func:`listed_from_data`), each given as
    the values of its :func:`listed_fields`, in that order; times as RFC 3339 text.

    What a store's :meth:`~experiments.Store.aggregate_tuples` gives, grouped by those
    fields: a listing that reads them alone, not each record's whole JSON.
    """
    has_status = "status" in listed_fields(kind)
    return _aligned(_listed_line(kind, values, has_status) for values in rows)


def _listed_line(
    kind: str, values: Sequence[Any], has_status: bool
) -> tuple[str, str, str, str, str]:
    """A row of the listing from the values of :func:`listed_fields` of ``kind``."""
    id_, updated, *rest = values
    status = _value(rest.pop(0)) if has_status else ""
    title = next((str(value) for value in rest if value), id_)
    return (id_, kind, status, _minute_of(updated), title)


def _aligned(rows: Iterable[tuple[str, str, str, str, str]]) -> str:
    """Rows as columns, each as wide as its widest cell; the last column as it is."""
    rows = list(rows)
    if not rows:
        return "(nothing)"
    a, b, c, d = (max(map(len, column)) for column in list(zip(*rows, strict=True))[:4])
    return "\n".join(
        f"{id_:<{a}}  {kind:<{b}}  {status:<{c}}  {updated:<{d}}  {title}"
        for id_, kind, status, updated, title in rows
    )
