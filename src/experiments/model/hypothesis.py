"""Hypotheses: falsifiable assumptions with a criterion that says when they hold."""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from experiments.model._fields import Unfit, named_errors
from experiments.model._record import Record
from experiments.model._validate import (
    text_to_parse,
    to_enum,
    to_number,
    to_optional_enum,
    to_ref,
    to_title,
)

if TYPE_CHECKING:
    from experiments.model.learning import Learning

__all__ = [
    "AssumptionKind",
    "Comparison",
    "Criterion",
    "Hypothesis",
    "HypothesisStatus",
]


class AssumptionKind(enum.StrEnum):
    """Whether people want it, whether it can be done, whether it is worth doing."""

    DESIRABILITY = "desirability"
    FEASIBILITY = "feasibility"
    VIABILITY = "viability"


class Comparison(enum.StrEnum):
    """How a measured value is compared with a criterion's threshold."""

    AT_LEAST = ">="
    MORE_THAN = ">"
    AT_MOST = "<="
    LESS_THAN = "<"
    EQUAL = "=="


_COMPARE: Final[dict[Comparison, Callable[[float, float], bool]]] = {
    Comparison.AT_LEAST: operator.ge,
    Comparison.MORE_THAN: operator.gt,
    Comparison.AT_MOST: operator.le,
    Comparison.LESS_THAN: operator.lt,
    Comparison.EQUAL: operator.eq,
}


class HypothesisStatus(enum.StrEnum):
    """Where the evidence on a hypothesis stands, derived from its learnings."""

    UNTESTED = "untested"
    SUPPORTED = "supported"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"


def _to_comparison(value: Comparison | str) -> Comparison:
    return to_enum(Comparison, value)


@attrs.frozen(field_transformer=named_errors)
class Criterion:
    """ "We are right if <metric> <comparison> <threshold>", e.g. ``families >= 40``."""

    metric: str = attrs.field(converter=to_title)
    comparison: Comparison = attrs.field(converter=_to_comparison)
    threshold: float = attrs.field(converter=to_number)

    _TEXT: ClassVar[re.Pattern[str]] = re.compile(
        r"\s*(?P<metric>.+?)\s*(?P<comparison>>=|<=|==|>|<)\s*(?P<threshold>[-+]?[\d.eE+-]+)\s*"
    )

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """A criterion from text such as ``"families reached >= 40"``."""
        match = cls._TEXT.fullmatch(
            text_to_parse(text, "Criterion.parse()", "families reached >= 40")
        )
        if match is None:
            from experiments.errors import ValidationError  # noqa: PLC0415 - error path only

            raise ValidationError(
                f"Criterion {text!r} is not '<metric> <comparison> <number>', "
                "e.g. 'families reached >= 40' (comparisons: >=, >, <=, <, ==)"
            )
        try:
            threshold = float(match["threshold"])
        except ValueError:
            from experiments.errors import ValidationError  # noqa: PLC0415 - error path only

            raise ValidationError(
                f"Criterion {text!r} has a threshold that is not a number"
            ) from None
        return cls(match["metric"], match["comparison"], threshold)

    def is_met(self, value: float) -> bool:
        """Whether a measured ``value`` meets the criterion."""
        return _COMPARE[self.comparison](value, self.threshold)

    def __str__(self) -> str:
        # The shortest text that reads back as the same number: 40.0 as 40, but
        # 1234567.0 in full, which '{:g}' would round to 1.23457e+06.
        threshold = repr(self.threshold).removesuffix(".0")
        return f"{self.metric} {self.comparison.value} {threshold}"


def _to_criterion(value: Criterion | str | Mapping[str, Any] | None) -> Criterion | None:
    raw: object = value
    if raw is None or isinstance(raw, Criterion):
        return raw
    from experiments.errors import ValidationError  # noqa: PLC0415 - conversion path only

    try:
        if isinstance(raw, str):
            return Criterion.parse(raw)
        if isinstance(raw, Mapping):
            return Criterion(raw["metric"], raw["comparison"], raw["threshold"])
    except (ValidationError, KeyError) as exc:
        raise Unfit(f"is not a criterion ({exc})") from None
    raise Unfit("must be a Criterion, a mapping or text like 'families >= 40'", type_error=True)


def _to_assumption(value: AssumptionKind | str | None) -> AssumptionKind | None:
    return to_optional_enum(AssumptionKind, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Hypothesis(Record):
    """ "We believe that <statement>; we are right if <criterion>."

    Its status is never stored: it is the verdict of the latest learning that bears on
    it (see :meth:`status_from`), so it cannot drift from the evidence.
    """

    kind: ClassVar[str] = "hypothesis"
    id_prefix: ClassVar[str] = "hyp"

    experiment: str = attrs.field(converter=to_ref)
    statement: str = attrs.field(converter=to_title)
    criterion: Criterion | None = attrs.field(default=None, converter=_to_criterion)
    assumption: AssumptionKind | None = attrs.field(default=None, converter=_to_assumption)

    def status_from(self, learnings: Iterable[Learning]) -> HypothesisStatus:
        """The status the latest learning on this hypothesis gives it (untested if none).

        "Latest" is by ``observed_at``, ties broken by id, so every reader agrees.
        """
        latest: Learning | None = None
        for learning in learnings:
            if learning.hypothesis != self.id or learning.verdict is None:
                continue
            if latest is None or learning.order_key() > latest.order_key():
                latest = learning
        if latest is None or latest.verdict is None:
            return HypothesisStatus.UNTESTED
        return latest.verdict.status
