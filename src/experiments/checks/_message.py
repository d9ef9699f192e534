"""A finding's words: a gettext message with placeholders and the values that fill it.

Checks say what they found in English, with ``%(name)s`` placeholders for the figures,
dates and names; reports look the message up in their language's catalog and fill it
with the values written the way that language writes them.  ``str()`` fills it in plain
English, which is what :attr:`~experiments.checks.Finding.message` holds.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs
import pendulum

__all__ = ["Message", "Share", "plural"]


class Share(float):
    """A share of a whole (0.25), which a message shows as a percentage ("25%")."""

    __slots__ = ()


def _frozen(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def _pairs(values: Mapping[str, object]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((name, _frozen(value)) for name, value in values.items()))


@attrs.frozen(init=False)
class Message:
    """A message id with placeholders, and the values to put in them.

    ``Message("is %(days)s days late", days=3)``.  ``text`` is the English message id
    looked up in the catalogs; ``plural`` its plural form (see :func:`plural`), chosen
    by the value named ``count``; ``values`` the values by placeholder name.  A value
    may be text, a number, a :class:`Share`, a date or datetime (shown as a date), a
    duration, an enum member (shown by its word in the report's language), another
    :class:`Message`, or a list of these (shown separated by commas).
    """

    text: str
    plural: str
    values: tuple[tuple[str, Any], ...]

    def __init__(self, text: str, /, **values: object) -> None:
        self.__attrs_init__(text, "", _pairs(values))

    @property
    def arguments(self) -> dict[str, Any]:
        """The values by placeholder name."""
        return dict(self.values)

    @property
    def count(self) -> int | None:
        """The number that chooses between the singular and the plural form."""
        count = self.arguments.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) else None

    def __str__(self) -> str:
        """The message filled in plain English."""
        text = self.text if not self.plural or self.count == 1 else self.plural
        if not self.values:
            return text  # no placeholders to fill: a "%" in it is a percent sign
        return text % {name: _plain(value) for name, value in self.values}


def plural(singular: str, plural: str, /, *, count: int, **values: object) -> Message:
    """A message with a singular and a plural form, chosen by ``count``.

    ``plural("is %(count)s day late", "is %(count)s days late", count=days)``; the
    catalogs give each language's forms (Danish, Norwegian and Swedish, like English,
    have two).
    """
    message = Message.__new__(Message)
    message.__attrs_init__(singular, plural, _pairs({"count": count, **values}))
    return message


def _plain(value: object) -> str:
    if isinstance(value, Share):
        return f"{value:.0%}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.10g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        duration = (
            value
            if isinstance(value, pendulum.Duration)
            else pendulum.duration(seconds=value.total_seconds())
        )
        return duration.in_words()
    if isinstance(value, enum.Enum):
        return str(value.value)  # as options and the command line name it
    if isinstance(value, tuple):
        return ", ".join(_plain(item) for item in value)
    return str(value)
