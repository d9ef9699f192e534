"""Phases of a sprint: its process design, who takes part in which phase and when.

"Create and sprint together": a sprint that works has a process design, not a big
project plan but a plan of how development and testing go and who is involved when.
Each phase names the people on it (participants) and the kinds of people invited in
(roles, such as citizens for a test day), and how deeply they are involved.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import TimeBox
from experiments.model._validate import (
    to_optional_timebox,
    to_ref,
    to_refs,
    to_text,
    to_title,
    to_version,
)
from experiments.model.participant import Involvement, Role, to_involvement, to_roles

__all__ = ["Phase"]


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Phase(Record):
    """One phase of a sprint's process design: when it is, who takes part, how deeply.

    ``position`` orders the phases of a sprint (1 first); ``participants`` are the
    people on it, ``roles`` the kinds of people invited in (citizens, politicians, ...)
    whoever they turn out to be, and ``involvement`` how deeply those taking part are
    involved in it.
    """

    kind: ClassVar[str] = "phase"
    id_prefix: ClassVar[str] = "phs"

    sprint: str = attrs.field(converter=to_ref)
    title: str = attrs.field(converter=to_title)
    position: int = attrs.field(default=1, converter=to_version)
    time_box: TimeBox | None = attrs.field(default=None, converter=to_optional_timebox)
    participants: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    roles: tuple[Role, ...] = attrs.field(default=(), converter=to_roles)
    involvement: Involvement = attrs.field(
        default=Involvement.CO_CREATING, converter=to_involvement
    )
    description: str = attrs.field(default="", converter=to_text)

    def order_key(self) -> tuple[int, str, str]:
        """How phases are listed: by position, then title, then id."""
        return (self.position, self.title, self.id)
