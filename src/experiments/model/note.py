"""Notes: what a script or a person wants on an experiment's record, errors included."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs
import pendulum

from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import instant_key, now
from experiments.model._validate import to_datetime, to_enum, to_ref, to_text, to_title

__all__ = ["Note", "NoteLevel"]


class NoteLevel(enum.StrEnum):
    """How much a note matters: information, a warning, or an error a script ran into."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def _to_level(value: NoteLevel | str) -> NoteLevel:
    return to_enum(NoteLevel, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Note(Record):
    """A dated remark on an experiment's log.

    The tracking API writes an error note when a script fails inside
    :func:`experiments.track`, so that what went wrong stays next to what was recorded.
    """

    kind: ClassVar[str] = "note"
    id_prefix: ClassVar[str] = "nte"

    experiment: str = attrs.field(converter=to_ref)
    text: str = attrs.field(converter=to_title)
    level: NoteLevel = attrs.field(default=NoteLevel.INFO, converter=_to_level)
    details: str = attrs.field(default="", converter=to_text)
    noted_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
