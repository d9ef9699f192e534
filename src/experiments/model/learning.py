"""Learnings: what was observed, what it means for a hypothesis, and what happens next."""

from __future__ import annotations

import enum
from typing import ClassVar, Final

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import named_errors
from experiments.model._ranked import Ranked, ranks
from experiments.model._record import Record
from experiments.model._time import instant_key, now
from experiments.model._validate import (
    to_datetime,
    to_enum,
    to_optional_enum,
    to_optional_ref,
    to_ref,
    to_refs,
    to_text,
    to_title,
)
from experiments.model.hypothesis import HypothesisStatus
from experiments.model.next_step import NextStep, to_optional_next_step

__all__ = ["Evidence", "Learning", "Verdict"]


class Verdict(enum.StrEnum):
    """What a learning says about the hypothesis it bears on."""

    SUPPORTS = "supports"
    REFUTES = "refutes"
    INCONCLUSIVE = "inconclusive"

    @property
    def status(self) -> HypothesisStatus:
        """The hypothesis status this verdict gives when it is the latest."""
        return _STATUS[self]


_STATUS = {
    Verdict.SUPPORTS: HypothesisStatus.SUPPORTED,
    Verdict.REFUTES: HypothesisStatus.REFUTED,
    Verdict.INCONCLUSIVE: HypothesisStatus.INCONCLUSIVE,
}


class Evidence(Ranked, enum.StrEnum):
    """How strong the evidence behind a learning is: weak < moderate < strong."""

    WEAK = "weak"
    MODERATE = "moderate"
    STRONG = "strong"

    @property
    def rank(self) -> int:
        """0 for weak, 1 for moderate, 2 for strong."""
        return _RANK[self]


_RANK: Final = ranks(Evidence)


def _to_verdict(value: Verdict | str | None) -> Verdict | None:
    return to_optional_enum(Verdict, value)


def _to_evidence(value: Evidence | str) -> Evidence:
    return to_enum(Evidence, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Learning(Record):
    """What was observed and learned in an experiment.

    A learning that bears on a hypothesis carries a verdict; the hypothesis's status is
    the verdict of its latest learning.  ``participants`` are the people whose voices
    the learning rests on, so a roll-up can tell evidence from one camp only.
    ``next_action`` is what will be done about it: a next step to follow up (text
    alone is one without an owner or a due date yet).
    """

    kind: ClassVar[str] = "learning"
    id_prefix: ClassVar[str] = "lrn"

    experiment: str = attrs.field(converter=to_ref)
    observation: str = attrs.field(converter=to_title)
    insight: str = attrs.field(default="", converter=to_text)
    hypothesis: str | None = attrs.field(default=None, converter=to_optional_ref)
    verdict: Verdict | None = attrs.field(default=None, converter=_to_verdict)
    evidence: Evidence = attrs.field(default=Evidence.WEAK, converter=_to_evidence)
    participants: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    next_action: NextStep | None = attrs.field(default=None, converter=to_optional_next_step)
    observed_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.verdict is not None and self.hypothesis is None:
            raise ValidationError(
                f"Learning.verdict {self.verdict.value!r} needs the hypothesis it bears on; "
                "give hypothesis=<id>, or leave out the verdict for a general learning"
            )
        if self.hypothesis is not None and self.verdict is None:
            raise ValidationError(
                f"Learning.verdict is missing for hypothesis {self.hypothesis!r}; "
                "give verdict='supports', 'refutes' or 'inconclusive'"
            )

    def order_key(self) -> tuple[pendulum.DateTime, str]:
        """How learnings are ordered to find the latest: observation time, then id.

        The time is taken in UTC: compared across zones, a time in the hour the clocks
        pass twice is never equal to anything, so a tie would not reach the id.
        """
        return (self.observed_at.astimezone(pendulum.UTC), self.id)
