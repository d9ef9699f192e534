"""Formats of earlier releases: what they wrote, kept to test that it is still read.

``0.1/`` holds a programme written by strategy-experiments 0.1.0 (see ``make.py``);
:func:`old_form` turns data of today's schema into what 0.1.0 wrote for it, for
property tests over any record.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Final

import pendulum

from experiments.model import KINDS
from experiments.model._time import (
    _zone_label,
    parse_datetime,
    timebox_key,
    utc_key,
    with_zone,
)
from experiments.serialization import _time_fields, zone_field

#: The programme as 0.1.0 wrote it: record schema 2, SQLite and PostgreSQL layout 2,
#: files store format 1.
RELEASE_0_1: Final = Path(__file__).resolve().parent / "0.1"


def old_text(moment: pendulum.DateTime) -> str:
    """A time as schema 2 wrote it: UTC text, then the zone or offset in brackets."""
    label = _zone_label(moment)
    return utc_key(moment) if label is None else f"{utc_key(moment)}[{label}]"


def old_form(data: dict[str, Any]) -> dict[str, Any]:
    """Record data of today's schema as schema 2 wrote it."""
    times = _time_fields(KINDS[data["kind"]])
    zones = {zone_field(name) for name in times}
    old: dict[str, Any] = {}
    for key, value in data.items():
        if key in zones:
            continue
        if key in times and isinstance(value, str):
            zone = data.get(zone_field(key))
            is_box, _ = times[key]
            text = with_zone(value, zone)
            value = timebox_key(text) if is_box else old_text(parse_datetime(text))
        old[key] = value
    old["schema"] = 2
    return old


def export_lines() -> list[str]:
    """The lines of the export 0.1.0 wrote."""
    return (RELEASE_0_1 / "export.jsonl").read_text(encoding="utf-8").splitlines()


def export_data() -> list[dict[str, Any]]:
    """The versions in the export 0.1.0 wrote, as data."""
    return [json.loads(line) for line in export_lines()]


def copy_of(name: str, target: Path) -> Path:
    """A copy of the fixture ``name`` (``store.sqlite``, ``files``) at ``target``."""
    source = RELEASE_0_1 / name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target
