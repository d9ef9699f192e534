"""How a check reads its options: what each accepts, and what its ``run`` gets."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import attrs
import pendulum

from experiments.errors import InvalidTypeError, ValidationError
from experiments.model._time import parse_duration
from experiments.model._validate import flag_word, shorten

__all__ = [
    "BOOLEAN_OPTION",
    "DURATION_OPTION",
    "LIST_OPTION",
    "NUMBER_OPTION",
    "OptionKind",
    "inferred",
]


@attrs.frozen
class OptionKind:
    """How a check reads one option's value, and which forms it accepts.

    ``parse`` turns a value as configured (from Python, or text from the command line)
    into what the check's ``run`` gets, and raises ``ValueError`` or ``TypeError`` on a
    value it refuses; ``accepts`` says which forms it takes, for the error message.
    Options are read when the checks are asked to run, before any check runs, so a
    mistyped threshold is a :class:`~experiments.errors.ValidationError` rather than a
    failed check.
    """

    parse: Callable[[Any], Any]
    accepts: str

    def read(self, check_id: str, name: str, value: object) -> Any:
        """``parse(value)``, or a ValidationError naming the check, the option and the forms."""
        try:
            return self.parse(value)
        except (ValueError, TypeError, OverflowError) as exc:  # ValidationError is a ValueError
            error = InvalidTypeError if isinstance(exc, TypeError) else ValidationError
            raise error(
                f"check {check_id!r}: option {name!r} must be {self.accepts}; got {shorten(value)}"
            ) from None


def _duration(value: object) -> pendulum.Duration:
    if not isinstance(value, str | dt.timedelta):
        raise TypeError(type(value).__name__)
    return parse_duration(value)


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(type(value).__name__)
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text)
        except ValueError:
            value = float(text)  # ValueError for text that is no number
    if not math.isfinite(value):
        raise ValueError(value)
    return value


def _boolean(value: object) -> bool:
    return flag_word(value)


def _list(value: object) -> tuple[Any, ...]:
    # Text is all a command line can give: its items are separated by commas.  Iterating
    # it would give its letters, which is never what was meant.
    if isinstance(value, str):
        return tuple(item for part in value.split(",") if (item := part.strip()))
    if isinstance(value, bytes | Mapping) or not isinstance(value, Iterable):
        raise TypeError(type(value).__name__)
    return tuple(value)


#: A length of time: ISO 8601 text (``"P14D"``) or a ``timedelta``; the check gets a
#: :class:`pendulum.Duration`.
DURATION_OPTION: Final = OptionKind(
    _duration,
    "an ISO 8601 duration such as 'P14D', 'P2W' or 'PT36H' (or a datetime.timedelta)",
)
#: A finite number, or its text (``"3"``, ``"0.5"``); the check gets an int or float.
NUMBER_OPTION: Final = OptionKind(_number, "a finite number such as 3 or 0.5 (or its text)")
#: True or false, or the words true/false, yes/no, on/off, 1/0.
BOOLEAN_OPTION: Final = OptionKind(_boolean, "true or false (or yes/no, on/off, 1/0)")


def _optional_boolean(value: object) -> bool | None:
    return None if value is None else _boolean(value)


#: Like :data:`BOOLEAN_OPTION`; None (the default) leaves it to a setting of the store.
OPTIONAL_BOOLEAN_OPTION: Final = OptionKind(
    _optional_boolean, "true or false (or yes/no, on/off, 1/0); unset, the store's setting"
)
#: A list, tuple or set, or text with its items separated by commas (``"a, b"``, as
#: ``experiments check --option`` gives it); the check gets a tuple.
LIST_OPTION: Final = OptionKind(
    _list, "a list such as ['a', 'b'], or text with commas between its items such as 'a, b'"
)


def inferred(default: object) -> OptionKind | None:
    """The kind a default's type implies, for options a check does not declare."""
    if isinstance(default, bool):
        return BOOLEAN_OPTION
    if isinstance(default, int | float):
        return NUMBER_OPTION
    if isinstance(default, dt.timedelta):
        return DURATION_OPTION
    if isinstance(default, list | tuple | set | frozenset):
        return LIST_OPTION
    return None
