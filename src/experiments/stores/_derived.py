"""Facts the SQL stores compute when a record is written, so that SQL need not.

A time box ends on the calendar of its start's time zone (:func:`~experiments.model.asof.
time_box_end`): a month from 31 January, or a day across the change to summer time in
``America/Argentina/Buenos_Aires``, is more than SQL's date arithmetic can say, and
SQLite knows no time zones at all.  So each write of a record with a time box stores
where the box starts and ends, as instants, next to the record; the analyst's views read
them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import pendulum

from experiments.errors import ExperimentsError
from experiments.model._time import parse_datetime, parse_timebox, utc_key, with_zone
from experiments.model.asof import time_box_end, time_box_start
from experiments.serialization import zone_field

__all__ = ["BOUNDS", "readable_data", "stored_bounds", "time_box_bounds", "time_box_instants"]

#: The columns every ``records`` row has for its time box, start and end.
BOUNDS: Final = ("time_box_start", "time_box_end")


def time_box_instants(
    time_box: object, started_at: object
) -> tuple[pendulum.DateTime | None, pendulum.DateTime | None]:
    """Where a stored time box starts and ends (None where not known yet).

    ``time_box`` and ``started_at`` are as the record's data holds them (text), or
    None.
    """
    if time_box is None:
        return None, None
    box = parse_timebox(time_box)  # type: ignore[arg-type]
    started = None if started_at is None else parse_datetime(started_at)  # type: ignore[arg-type]
    return time_box_start(box.start, started), time_box_end(box.start, box.duration, started)


def time_box_bounds(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The start and end of a record's time box as fixed-width UTC text, or None.

    The times are read in the zones their own fields name, whose calendar the box ends on.
    """
    if data.get("time_box") is None:  # most records: no box, no bounds
        return None, None
    start, end = time_box_instants(_zoned(data, "time_box"), _zoned(data, "started_at"))
    return (
        None if start is None else utc_key(start),
        None if end is None else utc_key(end),
    )


def stored_bounds(rows: Iterable[tuple[str, str]]) -> list[tuple[str | None, str | None, str]]:
    """``(start, end, id)`` of each stored ``(id, JSON text)`` row, to fill the bounds in.

    A row that cannot be read is passed over: ``experiments verify`` reports it, and the
    views show no bounds for it.
    """
    filled = []
    for record_id, text in rows:
        data = readable_data(text)
        if data is None:
            continue
        try:
            bounds = time_box_bounds(data)
        except (ExperimentsError, TypeError, ValueError):
            continue
        filled.append((*bounds, record_id))
    return filled


def readable_data(text: str | bytes) -> dict[str, Any] | None:
    """A stored version's data, or None where it is damaged (for ``verify`` to report):
    what a migration that fills columns from the stored JSON passes over."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _zoned(data: Mapping[str, Any], name: str) -> object:
    """The stored text of time field ``name`` with the zone its ``_zone`` field names."""
    text = data.get(name)
    zone = data.get(zone_field(name))
    if isinstance(text, str) and isinstance(zone, str):
        return with_zone(text, zone)
    return text
