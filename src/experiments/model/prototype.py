"""Prototypes: the unfinished things shown to participants ("invite into the unfinished")."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs
import pendulum

from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, instant_key, now
from experiments.model._validate import (
    to_enum,
    to_optional_datetime,
    to_optional_name,
    to_ref,
    to_text,
    to_title,
    to_version,
)

__all__ = ["Fidelity", "Prototype"]


class Fidelity(enum.StrEnum):
    """How finished a prototype is, from a sketch on paper to a pilot in the field."""

    SKETCH = "sketch"
    MOCK_UP = "mock-up"
    WORKING_PROTOTYPE = "working-prototype"
    PILOT = "pilot"


def _to_fidelity(value: Fidelity | str) -> Fidelity:
    return to_enum(Fidelity, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Prototype(Record):
    """A prototype in an experiment; each new ``version`` is a new revision of it."""

    kind: ClassVar[str] = "prototype"
    id_prefix: ClassVar[str] = "pro"

    experiment: str = attrs.field(converter=to_ref)
    title: str = attrs.field(converter=to_title)
    fidelity: Fidelity = attrs.field(default=Fidelity.SKETCH, converter=_to_fidelity)
    version: int = attrs.field(default=1, converter=to_version)
    link: str | None = attrs.field(default=None, converter=to_optional_name)
    description: str = attrs.field(default="", converter=to_text)
    shown_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )

    def shown(self, at: DateTimeLike | None = None) -> Prototype:
        """This prototype marked as shown to participants (the first showing is kept)."""
        if self.shown_at is not None:
            return self
        return attrs.evolve(self, shown_at=now() if at is None else at)

    def next_version(
        self, *, fidelity: Fidelity | str | None = None, description: str | None = None
    ) -> Prototype:
        """The next version of this prototype, optionally more finished."""
        return attrs.evolve(
            self,
            version=self.version + 1,
            fidelity=self.fidelity if fidelity is None else fidelity,
            description=self.description if description is None else description,
        )
