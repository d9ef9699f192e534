"""The converters of record fields: each makes a value fit its field, or raises Unfit.

Each is a plain function whose annotations say what callers may pass (they type the
records' ``__init__``); at run time each checks what it is given, since input from
JSON and the command line is not typed (``given: object = value`` lets mypy check
those checks too).  :func:`~experiments.model._fields.named_errors`
turns an :class:`~experiments.model._fields.Unfit` into the error naming the class and
the field.
"""

from __future__ import annotations

import enum
import math
import re
import types
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from experiments.errors import InvalidTypeError, ValidationError
from experiments.model import _time
from experiments.model._fields import Unfit
from experiments.model._fields import shorten as shorten  # noqa: PLC0414 - re-exported: stores, queries and checks import it here

if TYPE_CHECKING:
    import pendulum

E = TypeVar("E", bound=enum.Enum)


def checked_name(value: object, what: str) -> str | None:
    """An optional name given to a function (not a field), or a ValidationError."""
    try:
        return to_optional_name(value)  # type: ignore[arg-type]
    except Unfit as unfit:
        raise ValidationError(f"{what} {unfit.described}; got {shorten(value)}") from None


def text_to_parse(text: str, parser: str, example: str) -> str:
    """``text`` given to ``parser``, such as ``"Scope.parse()"``, or an InvalidTypeError.

    The error says that ``parser`` takes text such as ``example``: callers are not always
    typed.
    """
    given: object = text
    if not isinstance(given, str):
        raise InvalidTypeError(f"{parser} takes text such as {example!r}; got {shorten(given)}")
    return given


# --- text ----------------------------------------------------------------------------


def _unstorable(text: str) -> str | None:
    """Why text cannot be stored everywhere (SQLite, PostgreSQL, UTF-8 files), if it cannot."""
    if "\x00" in text:
        return "must not contain the NUL character (\\x00)"
    if text.isascii():  # the common case, told at once without encoding
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate, which is not valid Unicode text"
    return None


#: The rule, for code outside the model that checks text before it reaches a store.
unfit_text = _unstorable


def to_title(value: str) -> str:
    given: object = value
    if not isinstance(given, str):
        raise Unfit("must be text", type_error=True)
    if (reason := _unstorable(given)) is not None:
        raise Unfit(reason)
    stripped = given.strip()
    if not stripped:
        raise Unfit("must not be empty; give a short human-readable title")
    return stripped


def to_text(value: str | None) -> str:
    given: object = value
    if given is None:
        return ""
    if not isinstance(given, str):
        raise Unfit("must be text", type_error=True)
    if (reason := _unstorable(given)) is not None:
        raise Unfit(reason)
    return given


def to_optional_name(value: str | None) -> str | None:
    """Optional short text such as an owner or unit: blank means absent."""
    given: object = value
    if given is None:
        return None
    if not isinstance(given, str):
        raise Unfit("must be text or None", type_error=True)
    if (reason := _unstorable(given)) is not None:
        raise Unfit(reason)
    return given.strip() or None


_COLLECTIONS: Final = (tuple, list, frozenset, set)


def _items(value: object, expected: str) -> Iterable[object]:
    """The items of a list given for a field of many values, or Unfit."""
    if type(value) in _COLLECTIONS:  # the common case, without asking Iterable's ABC
        return value  # type: ignore[return-value]
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise Unfit(expected, type_error=True)
    return value


def to_names(value: Iterable[str]) -> tuple[str, ...]:
    """A tuple of distinct non-empty names, in the order given."""
    result: list[str] = []
    for item in _items(value, "must be a list of names, e.g. ['Anna', 'Bo']"):
        if not isinstance(item, str) or not item.strip():
            raise Unfit("must hold only non-empty names")
        if (reason := _unstorable(item)) is not None:
            raise Unfit(f"holds a name that {reason}")
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


def to_ref(value: Any) -> str:
    """The id of a record, given as the id or as the record itself."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return value
    ref_id = getattr(value, "id", None)  # a record given where its id is expected
    if isinstance(ref_id, str) and ID_PATTERN.fullmatch(ref_id):
        return ref_id
    if not isinstance(value, str):
        raise Unfit(f"{_ID_RULE} (or the record itself)", type_error=True)
    raise Unfit(_ID_RULE)


def to_own_id(value: str) -> str:
    """The record's own id; empty means "derive one" and is filled in after init."""
    given: object = value
    if not isinstance(given, str):
        raise Unfit(_ID_RULE, type_error=True)
    return given if given == "" else to_ref(given)


def to_optional_ref(value: Any) -> str | None:
    return None if value is None else to_ref(value)


def to_refs(value: Iterable[Any]) -> tuple[str, ...]:
    result: list[str] = []
    for item in _items(value, "must be a list of ids (or records)"):
        try:
            ref = to_ref(item)
        except Unfit as unfit:
            raise Unfit(f"holds {shorten(item)}, which {unfit.described}") from None
        if ref not in result:
            result.append(ref)
    return tuple(result)


def to_slug(value: str | None) -> str | None:
    given: object = value
    if given is None:
        return None
    if not isinstance(given, str):
        raise Unfit("must be text", type_error=True)
    if len(given) > 100 or not SLUG_PATTERN.fullmatch(given):  # noqa: PLR2004 - slug limit
        raise Unfit(
            "must be a slug of lowercase letters, digits and single hyphens (at most 100)",
            example=repr(slugify(given) or "art-for-families"),
        )
    return given


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
    given: object = value
    if isinstance(given, bool) or not isinstance(given, int | float):
        raise Unfit("must be a number", type_error=True)
    try:
        number = float(given)
    except OverflowError:  # a whole number beyond the range of a float
        raise Unfit("must be a finite number (at most about 1.8e308)") from None
    if not math.isfinite(number):
        raise Unfit("must be a finite number")
    return number


def to_weight(value: float) -> float:
    number = to_number(value)
    if number <= 0:
        raise Unfit("must be greater than zero (a relative weight such as 1 or 2.5)")
    return number


def _whole(value: object, least: int, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unfit("must be a whole number", type_error=True)
    if value < least:
        raise Unfit(expected)
    return value


def to_version(value: int) -> int:
    return _whole(value, 1, "must be 1 or more")


def to_revision(value: int) -> int:
    return _whole(value, 0, "must be 0 (never saved) or more")


#: The words a person may write for true and for false, wherever text stands for a flag
#: (a CSV column, a check's option on the command line, a store setting).
FLAG_WORDS: Final = {
    **dict.fromkeys(("true", "yes", "on", "1"), True),
    **dict.fromkeys(("false", "no", "off", "0"), False),
}


def flag_word(value: object) -> bool:
    """``value`` as a flag: a bool, or one of :data:`FLAG_WORDS` in any case.

    Raises:
        TypeError: neither a bool nor text.
        ValueError: text that is none of the words.
    """
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    word = FLAG_WORDS.get(value.strip().lower())
    if word is None:
        raise ValueError(value)
    return word


def to_flag(value: bool) -> bool:
    given: object = value
    if not isinstance(given, bool):
        raise Unfit("must be True or False", type_error=True)
    return given


# --- enums -----------------------------------------------------------------------------


def to_enum(kind: type[E], value: E | str) -> E:
    """An enum member from itself, its value, or its name in any case or with '_' for '-'."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        # Most values come exactly as stored: one dict lookup; the others are normalised.
        member = kind._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
        key = value.strip().lower().replace("_", "-").replace(" ", "-")
        for member in kind:
            if member.value == key:
                return member
    choices = ", ".join(repr(m.value) for m in kind)
    raise Unfit(f"must be one of {choices}", type_error=not isinstance(value, str))


def to_enums(kind: type[E], value: Iterable[E | str]) -> tuple[E, ...]:
    """Distinct members of an enum, in the order given, each as :func:`to_enum` takes it."""
    example = ", ".join(repr(m.value) for m in list(kind)[:2])
    result: list[E] = []
    for item in _items(value, f"must be a list, e.g. [{example}]"):
        try:
            member = to_enum(kind, item)  # type: ignore[arg-type]
        except Unfit as unfit:
            raise Unfit(f"holds {shorten(item)}, which {unfit.expected}") from None
        if member not in result:
            result.append(member)
    return tuple(result)


def to_optional_enum(kind: type[E], value: E | str | None) -> E | None:
    return None if value is None else to_enum(kind, value)


# --- times -----------------------------------------------------------------------------


def to_datetime(value: _time.DateTimeLike) -> pendulum.DateTime:
    try:
        return _time.parse_datetime(value)
    except (_time.TimeError, TypeError, ValueError, OverflowError) as exc:
        raise Unfit.of(exc) from None


def to_optional_datetime(value: _time.DateTimeLike | None) -> pendulum.DateTime | None:
    return None if value is None else to_datetime(value)


def to_utc_datetime(value: _time.DateTimeLike) -> pendulum.DateTime:
    parsed = to_datetime(value)  # a record's own UTC time comes back as it is
    return parsed if parsed.tzinfo is _time.UTC else parsed.astimezone(_time.UTC)


def to_optional_utc_datetime(value: _time.DateTimeLike | None) -> pendulum.DateTime | None:
    return None if value is None else to_utc_datetime(value)


def to_optional_date(value: _time.DateLike | None) -> pendulum.Date | None:
    if value is None:
        return None
    try:
        return _time.parse_date(value)
    except (_time.TimeError, TypeError, ValueError) as exc:
        raise Unfit.of(exc) from None


def to_optional_duration(value: _time.DurationLike | None) -> pendulum.Duration | None:
    """An optional length of time longer than zero, e.g. ``"P6W"``."""
    if value is None:
        return None
    try:
        duration = _time.parse_duration(value)
    except (_time.TimeError, TypeError, ValueError, OverflowError) as exc:
        raise Unfit.of(exc) from None
    if duration.total_seconds() <= 0:
        raise Unfit("must be longer than zero, e.g. 'P6W'")
    return duration


def to_count(value: int) -> int:
    """A whole number of things, zero or more."""
    return _whole(value, 0, "must be 0 or more")


def to_optional_timebox(value: _time.TimeBoxLike | None) -> _time.TimeBox | None:
    if value is None:
        return None
    try:
        return _time.parse_timebox(value)
    except (_time.TimeError, TypeError, ValueError, OverflowError) as exc:
        raise Unfit.of(exc) from None


# --- tags and metadata -----------------------------------------------------------------

_TAG: Final = re.compile(r"[^\s,]{1,64}")


def to_tags(value: Iterable[str]) -> frozenset[str]:
    tags = []
    for tag in _items(value, "must be a list of tags, e.g. ['pilot', 'welfare']"):
        if not isinstance(tag, str) or not _TAG.fullmatch(tag) or _unstorable(tag) is not None:
            raise Unfit(f"holds {shorten(tag)}; a tag is 1-64 characters without spaces or commas")
        tags.append(tag)
    return frozenset(tags)


#: How deep metadata may nest.  Deeper, it would outrun Python's recursion limit on its
#: way to JSON and back (thawing, encoding, reading), which a save would meet as a
#: RecursionError rather than as a refusal saying what to change.
METADATA_DEPTH: Final = 100


class _TooDeep(Exception):  # noqa: N818 - never seen by callers: it becomes an Unfit
    """Metadata nested deeper than :data:`METADATA_DEPTH`."""


def _freeze_json(value: object, path: str, depth: int = 0) -> object:
    if isinstance(value, str):
        if (reason := _unstorable(value)) is not None:
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
    if depth >= METADATA_DEPTH and isinstance(value, Mapping | list | tuple):
        raise _TooDeep
    if isinstance(value, Mapping):
        frozen: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path} has the key {key!r}; JSON keys must be text")  # noqa: TRY004 - reported as a validation error
            if (reason := _unstorable(key)) is not None:
                raise ValueError(f"{path} has a key that {reason}")
            frozen[str.__str__(key)] = _freeze_json(item, f"{path}.{key}", depth + 1)
        return types.MappingProxyType(frozen)
    if isinstance(value, list | tuple):
        return tuple(_freeze_json(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
    raise ValueError(f"{path} is a {type(value).__name__}, which is not JSON-compatible")


_EMPTY: Final[Mapping[str, Any]] = types.MappingProxyType({})
_EMPTY_TYPES: Final = (dict, types.MappingProxyType)  # empty, what every default is


def to_metadata(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only deep copy of JSON-compatible metadata."""
    if value is None or (type(value) in _EMPTY_TYPES and not value):
        return _EMPTY
    given: object = value
    if not isinstance(given, Mapping):
        raise Unfit("must be a mapping of JSON-compatible values", type_error=True)
    try:
        frozen: Mapping[str, Any] = _freeze_json(given, "metadata")  # type: ignore[assignment]
    except ValueError as exc:
        raise Unfit(f"must hold only JSON-compatible values ({exc})") from None
    except (_TooDeep, RecursionError):
        raise Unfit(
            f"is nested too deeply (or refers to itself); {METADATA_DEPTH} levels are the most"
        ) from None
    return frozen


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
