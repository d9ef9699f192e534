"""Converters and the validator that turn bad input into errors naming the field.

attrs converters do not know which field they convert, so a converter that cannot make
sense of a value returns an :class:`Invalid` marker instead of raising; the field's
validator, which does know the class and field, then raises the error.  Every field of
every record uses :func:`valid` as its validator.
"""

from __future__ import annotations

import enum
import math
import re
import types
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from experiments.errors import InvalidTypeError, ValidationError
from experiments.model import _time

if TYPE_CHECKING:
    import attrs
    import pendulum

JSONValue = Any  # None | bool | int | float | str | list[JSONValue] | Mapping[str, JSONValue]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_MAX_SHOWN: Final = 60


def shorten(value: object) -> str:
    """A repr short enough for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 5] + "…" + text[-4:]


class Invalid:
    """What a converter returns when it cannot convert; the validator raises from it."""

    __slots__ = ("expected", "type_error", "value")

    def __init__(self, value: object, expected: str, *, type_error: bool = False) -> None:
        self.value = value
        self.expected = expected
        self.type_error = type_error

    def __repr__(self) -> str:
        return f"Invalid({shorten(self.value)}: {self.expected})"


def problem(value: object) -> str | None:
    """What a converter found wrong with a value, or None if it converted fine."""
    return value.expected if type(value) is Invalid else None


def checked_name(value: object, what: str) -> str | None:
    """An optional name given to a function (not a field), or a ValidationError."""
    result: object = to_optional_name(value)  # type: ignore[arg-type]
    reason = problem(result)
    if reason is not None:
        raise ValidationError(f"{what} {reason}; got {shorten(value)}")
    return cast("str | None", result)


def field_error(owner: str, field: str, value: object, expected: str) -> ValidationError:
    return ValidationError(f"{owner}.{field} {expected}; got {shorten(value)}")


def valid(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Raise the error a converter left behind, naming the class and the field."""
    if type(value) is Invalid:
        owner = type(instance).__name__
        message = f"{owner}.{attribute.name} {value.expected}; got {shorten(value.value)}"
        error = InvalidTypeError if value.type_error else ValidationError
        raise error(message)


def invalid(value: object, expected: str, *, type_error: bool = False) -> Any:
    """An Invalid marker typed as whatever the converter promised to return."""
    return Invalid(value, expected, type_error=type_error)


# --- text ----------------------------------------------------------------------------


def _unfit(text: str) -> str | None:
    """Why text cannot be stored everywhere (SQLite, PostgreSQL, UTF-8 files), if it cannot."""
    if "\x00" in text:
        return "must not contain the NUL character (\\x00)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate, which is not valid Unicode text"
    return None


#: The rule, for code outside the model that checks text before it reaches a store.
unfit_text = _unfit


def to_title(value: str) -> str:
    if not isinstance(value, str):
        return invalid(value, "must be text", type_error=True)
    if (reason := _unfit(value)) is not None:
        return invalid(value, reason)
    stripped = value.strip()
    if not stripped:
        return invalid(value, "must not be empty; give a short human-readable title")
    return stripped


def to_text(value: str | None) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        return invalid(value, "must be text", type_error=True)
    if (reason := _unfit(value)) is not None:
        return invalid(value, reason)
    return value


def to_optional_name(value: str | None) -> str | None:
    """Optional short text such as an owner or unit: blank means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        return invalid(value, "must be text or None", type_error=True)
    if (reason := _unfit(value)) is not None:
        return invalid(value, reason)
    stripped = value.strip()
    return stripped or None


def to_names(value: Iterable[str]) -> tuple[str, ...]:
    """A tuple of distinct non-empty names, in the order given."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return invalid(value, "must be a list of names, e.g. ['Anna', 'Bo']", type_error=True)
    result: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            return invalid(value, "must hold only non-empty names")
        if (reason := _unfit(item)) is not None:
            return invalid(value, f"holds a name that {reason}")
        name = item.strip()
        if name not in result:
            result.append(name)
    return tuple(result)


# --- ids and slugs ---------------------------------------------------------------------

ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
SLUG_PATTERN: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ID_RULE: Final = (
    "must be an id of 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"
)


def check_id(value: object) -> str | Invalid:
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return value
    ref_id = getattr(value, "id", None)  # a record given where its id is expected
    if isinstance(ref_id, str) and ID_PATTERN.fullmatch(ref_id):
        return ref_id
    if not isinstance(value, str):
        return Invalid(value, f"{_ID_RULE} (or the record itself)", type_error=True)
    return Invalid(value, _ID_RULE)


def to_own_id(value: str) -> str:
    """The record's own id; empty means "derive one" and is filled in after init."""
    if value == "":
        return value
    return (
        cast("str", check_id(value))
        if isinstance(value, str)
        else invalid(value, _ID_RULE, type_error=True)
    )


def to_ref(value: Any) -> str:
    return cast("str", check_id(value))


def to_optional_ref(value: Any) -> str | None:
    return None if value is None else cast("str", check_id(value))


def to_refs(value: Iterable[Any]) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return invalid(value, "must be a list of ids (or records)", type_error=True)
    result: list[str] = []
    for item in value:
        checked = check_id(item)
        if type(checked) is Invalid:
            return invalid(value, f"holds {shorten(item)}, which {checked.expected}")
        if checked not in result:
            result.append(cast("str", checked))
    return tuple(result)


def to_slug(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return invalid(value, "must be text", type_error=True)
    if len(value) > 100 or not SLUG_PATTERN.fullmatch(value):  # noqa: PLR2004 - slug limit
        return invalid(
            value,
            "must be a slug of lowercase letters, digits and single hyphens (at most 100), "
            f"e.g. {slugify(value) or 'art-for-families'!r}",
        )
    return value


_TRANSLITERATE: Final = str.maketrans(
    {"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
)


def slugify(text: str) -> str:
    """A slug made from a title: ``'Kunst for familier!'`` -> ``'kunst-for-familier'``."""
    import unicodedata  # noqa: PLC0415 - only needed when a slug is made from text

    lowered = str(text).lower().translate(_TRANSLITERATE)
    ascii_text = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:100].strip("-")


# --- numbers ---------------------------------------------------------------------------


def to_number(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return invalid(value, "must be a number", type_error=True)
    try:
        number = float(value)
    except OverflowError:  # a whole number beyond the range of a float
        return invalid(value, "must be a finite number (at most about 1.8e308)")
    if not math.isfinite(number):
        return invalid(value, "must be a finite number")
    return number


def to_optional_number(value: float | None) -> float | None:
    return None if value is None else to_number(value)


def to_weight(value: float) -> float:
    number = to_number(value)
    if type(number) is Invalid:
        return number
    if number <= 0:
        return invalid(value, "must be greater than zero (a relative weight such as 1 or 2.5)")
    return number


def to_version(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return invalid(value, "must be a whole number", type_error=True)
    if value < 1:
        return invalid(value, "must be 1 or more")
    return value


def to_revision(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return invalid(value, "must be a whole number", type_error=True)
    if value < 0:
        return invalid(value, "must be 0 (never saved) or more")
    return value


def to_flag(value: bool) -> bool:
    if type(value) is Invalid:  # a default that could not be worked out
        return value
    if not isinstance(value, bool):
        return invalid(value, "must be True or False", type_error=True)
    return value


def to_optional_flag(value: bool | None) -> bool | None:
    return None if value is None else to_flag(value)


# --- enums -----------------------------------------------------------------------------


def to_enum(kind: type[E], value: E | str) -> E:
    """An enum member from itself, its value, or its name in any case or with '_' for '-'."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace("_", "-").replace(" ", "-")
        for member in kind:
            if member.value == key:
                return member
    choices = ", ".join(repr(m.value) for m in kind)
    return invalid(value, f"must be one of {choices}", type_error=not isinstance(value, str))


def to_optional_enum(kind: type[E], value: E | str | None) -> E | None:
    return None if value is None else to_enum(kind, value)


# --- times -----------------------------------------------------------------------------


def _time_error(value: object, exc: Exception) -> Any:
    return invalid(value, str(exc), type_error=isinstance(exc, TypeError))


def to_datetime(value: _time.DateTimeLike) -> pendulum.DateTime:
    try:
        return _time.parse_datetime(value)
    except (_time.TimeError, TypeError, ValueError, OverflowError) as exc:
        return _time_error(value, exc)


def to_optional_datetime(value: _time.DateTimeLike | None) -> pendulum.DateTime | None:
    return None if value is None else to_datetime(value)


def to_utc_datetime(value: _time.DateTimeLike) -> pendulum.DateTime:
    parsed = to_datetime(value)
    if type(parsed) is Invalid or parsed.tzinfo is _time.UTC:
        return parsed
    return parsed.astimezone(_time.UTC)


def to_optional_utc_datetime(value: _time.DateTimeLike | None) -> pendulum.DateTime | None:
    return None if value is None else to_utc_datetime(value)


def to_optional_date(value: _time.DateLike | None) -> pendulum.Date | None:
    if value is None:
        return None
    try:
        return _time.parse_date(value)
    except (_time.TimeError, TypeError, ValueError) as exc:
        return _time_error(value, exc)


def to_optional_timebox(value: _time.TimeBoxLike | None) -> _time.TimeBox | None:
    if value is None:
        return None
    try:
        return _time.parse_timebox(value)
    except (_time.TimeError, TypeError, ValueError, OverflowError) as exc:
        return _time_error(value, exc)


# --- tags and metadata -----------------------------------------------------------------

_TAG: Final = re.compile(r"[^\s,]{1,64}")


def to_tags(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return invalid(value, "must be a list of tags, e.g. ['pilot', 'welfare']", type_error=True)
    tags = []
    for tag in value:
        if not isinstance(tag, str) or not _TAG.fullmatch(tag) or _unfit(tag) is not None:
            return invalid(
                value, f"holds {shorten(tag)}; a tag is 1-64 characters without spaces or commas"
            )
        tags.append(tag)
    return frozenset(tags)


def _freeze_json(value: object, path: str) -> object:
    if isinstance(value, str):
        if (reason := _unfit(value)) is not None:
            raise ValueError(f"{path} {reason}")
        # A subclass (a StrEnum) becomes its plain value: that is what JSON gives back.
        return value if type(value) is str else str.__str__(value)
    # Subclasses (an IntEnum) become their plain base value, and equality tells 1 from
    # True by the type.
    if value is None or type(value) in (bool, int):
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path} is {value}, which JSON cannot hold")
        return float.__float__(value)
    if isinstance(value, Mapping):
        frozen: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path} has the key {key!r}; JSON keys must be text")  # noqa: TRY004 - reported as a validation error
            if (reason := _unfit(key)) is not None:
                raise ValueError(f"{path} has a key that {reason}")
            frozen[str.__str__(key)] = _freeze_json(item, f"{path}.{key}")
        return types.MappingProxyType(frozen)
    if isinstance(value, list | tuple):
        return tuple(_freeze_json(item, f"{path}[{i}]") for i, item in enumerate(value))
    raise ValueError(f"{path} is a {type(value).__name__}, which is not JSON-compatible")


_EMPTY: Final[Mapping[str, Any]] = types.MappingProxyType({})


def to_metadata(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only deep copy of JSON-compatible metadata."""
    if value is None or (type(value) is types.MappingProxyType and not value):
        return _EMPTY
    if not isinstance(value, Mapping):
        return invalid(value, "must be a mapping of JSON-compatible values", type_error=True)
    try:
        return cast("Mapping[str, Any]", _freeze_json(value, "metadata"))
    except ValueError as exc:
        return invalid(value, f"must hold only JSON-compatible values ({exc})")
    except RecursionError:
        return invalid(value, "is nested too deeply (or refers to itself)")


def thaw(value: object) -> Any:
    """Plain dicts and lists from frozen metadata, for JSON."""
    if value is _EMPTY:
        return {}
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


def metadata_key(value: Mapping[str, Any]) -> object:
    """Equality key for metadata that tells 1 from True and 1 from 1.0, as JSON does."""
    return _typed(value)


def _typed(value: object) -> object:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _typed(v)) for k, v in value.items()))
    if isinstance(value, tuple):
        return tuple(_typed(v) for v in value)
    return (type(value).__name__, value)
