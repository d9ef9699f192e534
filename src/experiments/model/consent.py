"""A participant's consent: what they agreed to, when and how, and whether they withdrew it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum

from experiments.model._fields import Unfit, named_errors
from experiments.model._time import instant_key
from experiments.model._validate import (
    to_datetime,
    to_optional_datetime,
    to_optional_name,
    to_title,
)

__all__ = ["Consent", "to_optional_consent"]


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Consent:
    """What a participant agreed to take part in, as recorded.

    ``purpose`` names what the consent is for: an experiment, an objective or a tag
    (its slug or id), as :meth:`covers` reads it.  ``how`` says how it was given (a
    signed form, orally before a witness); ``recorded_by`` who recorded it;
    ``withdrawn_at`` when it was withdrawn, if it was.
    """

    purpose: str = attrs.field(converter=to_title)
    given_at: pendulum.DateTime = attrs.field(converter=to_datetime, eq=instant_key)
    how: str = attrs.field(converter=to_title)
    recorded_by: str | None = attrs.field(default=None, converter=to_optional_name)
    withdrawn_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )

    def covers(self, names: Iterable[str]) -> bool:
        """Whether the purpose is one of ``names`` (an experiment's slug, id, objectives, tags)."""
        return self.purpose.strip().casefold() in {n.casefold() for n in names if n}

    def withdraw(self, at: pendulum.DateTime | str) -> Consent:
        """This consent, withdrawn ``at``."""
        return attrs.evolve(self, withdrawn_at=at)


def to_optional_consent(value: Consent | Mapping[str, Any] | None) -> Consent | None:
    """A consent from a Consent, or from its stored data; None for none."""
    if value is None or isinstance(value, Consent):
        return value
    if not isinstance(value, Mapping):
        raise Unfit("must be a Consent (purpose, given_at, how, ...)", type_error=True)
    try:
        return Consent(**value)
    except TypeError as exc:
        raise Unfit(f"is not a consent ({exc})") from None
