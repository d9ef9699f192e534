"""The planned scope of an experiment: how many people, how many sites, what budget.

"Think big, start small": involvement scoped to concrete, bounded elements close to
people's everyday life.  A scope says how small the step is meant to be, so that a
check can hold it to that (see ``start-small/too-big``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from experiments.errors import ValidationError
from experiments.model._fields import Unfit, named_errors
from experiments.model._validate import text_to_parse, to_number, to_optional_name

__all__ = ["Scope", "to_optional_scope"]


def _to_count(value: int | None) -> int | None:
    given: object = value
    if given is None:
        return None
    if isinstance(given, bool) or not isinstance(given, int):
        raise Unfit("must be a whole number", type_error=True)
    if given < 1:
        raise Unfit("must be 1 or more (leave it out when it is not planned)")
    return given


def _to_budget(value: float | None) -> float | None:
    if value is None:
        return None
    number = to_number(value)
    if number < 0:
        raise Unfit("must be zero or more")
    return number


_PART: Final = re.compile(r"\s*(?P<key>[a-z_]+)\s*=\s*(?P<value>[^,;]*?)\s*")
_BUDGET: Final = re.compile(r"(?P<amount>[-+]?[\d.eE+-]+)(?:\s+(?P<currency>\S.*))?")


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Scope:
    """How large an experiment is planned to be: participants, sites or units, budget.

    Every part is optional, but a scope plans at least one of ``participants``,
    ``sites`` (sites or units: schools, housing areas, teams) and ``budget``;
    ``currency`` says what the budget is counted in.  Its text form is
    ``participants=40, sites=2, budget=50000 DKK``.
    """

    participants: int | None = attrs.field(default=None, converter=_to_count)
    sites: int | None = attrs.field(default=None, converter=_to_count)
    budget: float | None = attrs.field(default=None, converter=_to_budget)
    currency: str | None = attrs.field(default=None, converter=to_optional_name)

    def __attrs_post_init__(self) -> None:
        if self.participants is None and self.sites is None and self.budget is None:
            raise ValidationError(
                "Scope plans nothing; give participants, sites or budget, e.g. "
                "'participants=40, sites=2, budget=50000 DKK'"
            )
        if self.currency is not None and self.budget is None:
            raise ValidationError(
                f"Scope.currency {self.currency!r} needs the budget it counts; give budget too"
            )

    @classmethod
    def parse(cls, text: str) -> Scope:
        """A scope from text such as ``"participants=40, sites=2, budget=50000 DKK"``."""
        parts = re.split(r"[,;]", text_to_parse(text, "Scope.parse()", "participants=40, sites=2"))
        fields: dict[str, Any] = {}
        for part in filter(str.strip, parts):
            match = _PART.fullmatch(part)
            if match is None or match["key"] not in _KEYS:
                raise ValidationError(
                    f"Scope {text!r} is not 'participants=N, sites=N, budget=AMOUNT [CURRENCY]'; "
                    f"{part.strip()!r} is not one of those"
                )
            key, value = match["key"], match["value"]
            fields[key] = _parsed(text, key, value)
            if key == "budget":
                budget = _BUDGET.fullmatch(value)
                if budget is not None and budget["currency"]:
                    fields["currency"] = budget["currency"]
        return cls(**fields)

    def __str__(self) -> str:
        parts = []
        if self.participants is not None:
            parts.append(f"participants={self.participants}")
        if self.sites is not None:
            parts.append(f"sites={self.sites}")
        if self.budget is not None:
            amount = repr(self.budget).removesuffix(".0")
            parts.append(f"budget={amount}" + (f" {self.currency}" if self.currency else ""))
        return ", ".join(parts)


_KEYS: Final = frozenset({"participants", "sites", "budget", "currency"})


def _parsed(text: str, key: str, value: str) -> object:
    """The value of one ``key=value`` of a scope's text."""
    if key == "currency":
        return value
    try:
        if key == "budget":
            match = _BUDGET.fullmatch(value)
            if match is None:
                raise ValueError(value)  # noqa: TRY301 - reported as every bad number
            return float(match["amount"])
        return int(value)
    except ValueError:
        raise ValidationError(
            f"Scope {text!r}: {key} {value!r} is not a number"
            + (" (a whole number)" if key != "budget" else "")
        ) from None


def to_optional_scope(value: Scope | str | Mapping[str, Any] | None) -> Scope | None:
    """An experiment's planned scope: a Scope, its text, a mapping of its parts, or None."""
    given: object = value
    if given is None or isinstance(given, Scope):
        return given
    try:
        if isinstance(given, str):
            return None if not given.strip() else Scope.parse(given)
        if isinstance(given, Mapping):
            unknown = sorted(str(key) for key in given if key not in _KEYS)
            if unknown:
                raise Unfit(
                    f"has no part {', '.join(unknown)}; its parts: participants, sites, "
                    "budget, currency"
                )
            return Scope(**given)
    except ValidationError as exc:
        raise Unfit(f"is not a scope ({exc})") from None
    raise Unfit(
        "must be a Scope, a mapping or text like 'participants=40, sites=2'", type_error=True
    )
