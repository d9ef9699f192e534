"""Prototypes: the unfinished things shown to participants ("invite into the unfinished")."""

from __future__ import annotations

import enum
from typing import ClassVar, Final

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import named_errors
from experiments.model._ranked import Ranked, ranks
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, instant_key, now
from experiments.model._validate import (
    to_enum,
    to_optional_datetime,
    to_optional_enum,
    to_optional_name,
    to_ref,
    to_text,
    to_title,
    to_version,
)

__all__ = ["Fidelity", "Prototype"]


class Fidelity(Ranked, enum.StrEnum):
    """How finished a prototype is, from a sketch on paper to a pilot in the field.

    Fidelities compare by how finished they are: sketch < mock-up < working-prototype
    < pilot.
    """

    SKETCH = "sketch"
    MOCK_UP = "mock-up"
    WORKING_PROTOTYPE = "working-prototype"
    PILOT = "pilot"

    @property
    def rank(self) -> int:
        """0 for a sketch, 1 for a mock-up, 2 for a working prototype, 3 for a pilot."""
        return _RANK[self]


_RANK: Final = ranks(Fidelity)


def _to_fidelity(value: Fidelity | str) -> Fidelity:
    return to_enum(Fidelity, value)


def _to_optional_fidelity(value: Fidelity | str | None) -> Fidelity | None:
    return to_optional_enum(Fidelity, value)


def _fidelity_if_shown(self: Prototype) -> Fidelity | None:
    return None if self.shown_at is None else self.fidelity


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Prototype(Record):
    """A prototype in an experiment; each new ``version`` is a new revision of it.

    ``shown_at`` is when participants first saw it, and ``shown_as`` how finished it
    was then: later versions may be more finished, but what participants were first
    invited into stays on record (by default, the fidelity it has when ``shown_at`` is
    given).
    """

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
    shown_as: Fidelity | None = attrs.field(
        default=attrs.Factory(_fidelity_if_shown, takes_self=True),
        converter=_to_optional_fidelity,
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.shown_at is None and self.shown_as is not None:
            raise ValidationError(
                f"Prototype.shown_as {self.shown_as.value!r} is how finished it was when first "
                "shown; give shown_at too (when it was first shown), or leave shown_as out"
            )
        if self.shown_at is not None and self.shown_as is None:
            object.__setattr__(self, "shown_as", self.fidelity)

    def shown(self, at: DateTimeLike | None = None) -> Prototype:
        """This prototype marked as shown to participants, as finished as it is now.

        The first showing is kept: a prototype already shown is returned as it is.
        """
        if self.shown_at is not None:
            return self
        return attrs.evolve(self, shown_at=now() if at is None else at, shown_as=self.fidelity)

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
