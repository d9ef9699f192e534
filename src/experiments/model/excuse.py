"""The "no bad excuses" register: who was not let in, and the reason given."""

from __future__ import annotations

import enum
from typing import ClassVar

import attrs

from experiments.errors import ValidationError
from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._validate import to_enum, to_optional_ref, to_text, to_title

__all__ = ["Excuse", "ExcuseReason"]


class ExcuseReason(enum.StrEnum):
    """The usual reasons for leaving a group out, as the seed texts list them."""

    ALREADY_ASKED = "already-asked"
    KNOW_WHAT_THEY_SAY = "know-what-they-say"
    NO_TIME = "no-time"
    RULES_FORBID = "rules-forbid"
    DISTURBS_WORK = "disturbs-work"
    NOTHING_GOOD_COMES = "nothing-good-comes"
    BAD_TIMING = "bad-timing"
    NOT_READY = "not-ready"
    OTHER = "other"


def _to_reason(value: ExcuseReason | str) -> ExcuseReason:
    return to_enum(ExcuseReason, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Excuse(Record):
    """A group that was not involved in an objective or experiment, and why not."""

    kind: ClassVar[str] = "excuse"
    id_prefix: ClassVar[str] = "exc"

    group: str = attrs.field(converter=to_title)
    reason: ExcuseReason = attrs.field(converter=_to_reason)
    statement: str = attrs.field(default="", converter=to_text)
    objective: str | None = attrs.field(default=None, converter=to_optional_ref)
    experiment: str | None = attrs.field(default=None, converter=to_optional_ref)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if (self.objective is None) == (self.experiment is None):
            raise ValidationError(
                "Excuse needs exactly one of objective or experiment: the place "
                f"{self.group!r} was left out of"
            )
