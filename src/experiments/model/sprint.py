"""Sprints: short, intensive periods in which a cross-cutting team works on a challenge."""

from __future__ import annotations

from typing import ClassVar

import attrs

from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import TimeBox
from experiments.model._validate import (
    to_names,
    to_optional_timebox,
    to_refs,
    to_text,
    to_title,
)

__all__ = ["Sprint"]


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Sprint(Record):
    """A sprint with its challenge, its team of participants and its facilitators."""

    kind: ClassVar[str] = "sprint"
    id_prefix: ClassVar[str] = "spr"

    title: str = attrs.field(converter=to_title)
    challenge: str = attrs.field(default="", converter=to_text)
    time_box: TimeBox | None = attrs.field(default=None, converter=to_optional_timebox)
    team: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    facilitators: tuple[str, ...] = attrs.field(default=(), converter=to_names)
