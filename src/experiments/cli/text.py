"""How records look on a terminal."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Final

import pendulum

from experiments.model import Participant, Record, TimeBox
from experiments.serialization import to_data

__all__ = ["describe", "one_line", "table"]

_SKIP: Final = frozenset({"kind", "schema", "metadata", "tags", "id", "slug"})


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, pendulum.DateTime):
        return value.to_iso8601_string()
    if isinstance(value, TimeBox):
        return str(value)
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) if value else "-"
    if isinstance(value, tuple | list):
        return ", ".join(_value(v) for v in value) if value else "-"
    return str(value)


def title_of(record: Record) -> str:
    """What a person calls the record: its title, statement, observation, or name."""
    if isinstance(record, Participant):
        return record.display_name
    for name in ("title", "statement", "observation", "metric", "group", "text"):
        value = getattr(record, name, None)
        if value:
            return str(value)
    return record.id


def one_line(record: Record) -> str:
    """``kind id "title" [status]``."""
    status = getattr(record, "status", None)
    extra = f" [{status.value}]" if status is not None else ""
    return f"{record.kind} {record.id} {title_of(record)!r}{extra}"


def describe(record: Record) -> str:
    """Every field of a record, one per line (pseudonymous names hidden)."""
    lines = [f"{record.kind} {record.id}" + (f" ({record.slug})" if record.slug else "")]
    data = to_data(record)
    for name in data:
        if name in _SKIP:
            continue
        value = getattr(record, name)
        if name == "name" and isinstance(record, Participant) and record.pseudonymous:
            value = "(pseudonymous)"
        lines.append(f"  {name}: {_value(value)}")
    if record.tags:
        lines.append(f"  tags: {', '.join(sorted(record.tags))}")
    if record.metadata:
        lines.append(f"  metadata: {dict(record.metadata)}")
    return "\n".join(lines)


def table(records: Iterable[Record]) -> str:
    """Records as aligned columns: id, kind, status, updated, title."""
    rows = [
        (
            record.id,
            record.kind,
            _value(getattr(record, "status", None)) if hasattr(record, "status") else "",
            record.updated_at.format("YYYY-MM-DD HH:mm"),
            title_of(record),
        )
        for record in records
    ]
    if not rows:
        return "(nothing)"
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    )
