"""Times, durations and time boxes: parsing, normalising and their text form.

Times are written in RFC 3339 (``2026-09-14T10:00:00+02:00``): the wall-clock time in
the zone the time was given in, with that zone's UTC offset at that moment, ``Z`` for
UTC, and six digits of fraction only when there is one.  That is what
``datetime.fromisoformat``, pandas and polars read.  The name of the zone, where one was
given (``Europe/Oslo``), is not part of the text: :func:`zone_name` gives it, and the
stored data keeps it in a field of its own (see :mod:`experiments.serialization`).

Inside the stores, times are compared as their *UTC keys* (:func:`utc_key`): the UTC
instant in fixed-width text, ``2026-09-14T08:00:00.000000Z``, which sorts and compares
as text the way the instants do, so SQL can filter and order on it without parsing.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable
from typing import Any, Final, NamedTuple, TypeAlias, TypeVar

import attrs
import pendulum

from experiments.errors import InvalidTypeError, ValidationError
from experiments.model._fields import Unfit, named_errors

T = TypeVar("T")

__all__ = [
    "UTC_WIDTH",
    "DateLike",
    "DateTimeLike",
    "DurationLike",
    "TimeBox",
    "TimeBoxLike",
    "TimeError",
    "check_local_zone",
    "check_zone_name",
    "duration_key",
    "format_date",
    "format_datetime",
    "format_duration",
    "instant_key",
    "now",
    "offset_text",
    "parse_date",
    "parse_datetime",
    "parse_duration",
    "parse_timebox",
    "shown_clock",
    "timebox_key",
    "utc_key",
    "utc_key_of",
    "with_zone",
    "zone_name",
    "zoned_text",
]

DateTimeLike: TypeAlias = "pendulum.DateTime | dt.datetime | dt.date | str"
DateLike: TypeAlias = "pendulum.Date | dt.date | str"
DurationLike: TypeAlias = "pendulum.Duration | dt.timedelta | str"
TimeBoxLike: TypeAlias = (
    "TimeBox | pendulum.Interval[pendulum.DateTime] | pendulum.Duration | dt.timedelta | str"
    " | tuple[DateTimeLike, DateTimeLike | DurationLike]"
)

UTC: Final = pendulum.UTC
#: A time of the standard library's or pendulum's, given back as the same type.
_Moment = TypeVar("_Moment", bound=dt.datetime)
#: How many characters the UTC text of an instant has (``2026-03-01T09:00:00.000000Z``):
#: stored times begin with it, so this much of one compares as the instant does.
UTC_WIDTH: Final = len("2026-03-01T09:00:00.000000Z")


class TimeError(ValidationError):
    """A time, duration or interval could not be understood; the message says why.

    Messages read as the end of a sentence ("is not an ISO 8601 duration ..."): the
    caller names what it was parsing, as :func:`argument` does.
    """


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    if name[:1] and name[0] in "+-":
        match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
        if not match or int(match[2]) > 23 or int(match[3]) > 59:  # noqa: PLR2004 - clock limits
            raise TimeError(
                f"names an unknown UTC offset {name!r}; write it as +HH:MM, from -23:59 to +23:59"
            )
        sign = -1 if match[1] == "-" else 1
        return pendulum.FixedTimezone(sign * (int(match[2]) * 3600 + int(match[3]) * 60))
    try:
        return pendulum.timezone(name)
    except Exception as exc:  # pendulum raises several unrelated types here
        raise TimeError(
            f"names an unknown time zone {name!r}; use an IANA name such as 'Europe/Oslo'"
        ) from exc


def check_zone_name(name: object) -> str:
    """``name`` if it names a time zone, such as ``Europe/Oslo``.

    Raises:
        TimeError: it is no zone's name (an offset such as ``+02:00`` included: that
            belongs in the time itself).
        InvalidTypeError: it is not text.
    """
    if not isinstance(name, str):
        raise InvalidTypeError(
            f"must be the name of a time zone such as 'Europe/Oslo', not {type(name).__name__}"
        )
    if name[:1] and name[0] in "+-":
        raise TimeError(
            "is a UTC offset, not the name of a time zone; the offset belongs in the time, "
            "and a zone is named as in 'Europe/Oslo'"
        )
    _zone(name)
    return name


def check_local_zone(zone: object) -> str:
    """``zone`` if times written without an offset can be read in it: the name of a
    zone such as ``Europe/Oslo``, or a UTC offset such as ``+02:00``.

    Raises:
        TimeError: it is neither.
        InvalidTypeError: it is not text.
    """
    if not isinstance(zone, str):
        raise InvalidTypeError(
            f"must be the name of a time zone such as 'Europe/Oslo', not {type(zone).__name__}"
        )
    _zone(zone)
    return zone


_CLOCK_FIELDS: Final = ("year", "month", "day", "hour", "minute", "second", "microsecond")
_clock: Final[Callable[[dt.datetime], Any]] = operator.attrgetter(*_CLOCK_FIELDS)
#: The wall clock to the second, as the written form starts (read in C, all at once).
_to_the_second: Final[Callable[[dt.datetime], tuple[int, ...]]] = operator.attrgetter(
    *_CLOCK_FIELDS[:6]
)


def _wall_clock(value: dt.datetime) -> tuple[int, int, int, int, int, int, int]:
    """What the clock on the wall shows at ``value``: year, month, day to microsecond."""
    shown: tuple[int, int, int, int, int, int, int] = _clock(value)
    return shown


def now() -> pendulum.DateTime:
    """The current instant in UTC."""
    n = dt.datetime.now(dt.UTC)
    # Each field by name and the zone by position: a third faster than splatting a
    # tuple and naming the zone, and every new record asks for the time.
    return pendulum.DateTime(n.year, n.month, n.day, n.hour, n.minute, n.second, n.microsecond, UTC)


def _existing(value: pendulum.DateTime) -> pendulum.DateTime:
    """``value``, or if the clocks of its zone skip its wall time, the time they show instead.

    Python gives such a time (02:30 on the night summer time begins) the offset from
    before the change, so it names an instant; but the stored form of that instant reads
    back as 03:30, which a datetime in the same zone would not equal.
    """
    shown = value.astimezone(UTC).astimezone(value.tzinfo)
    if shown.replace(tzinfo=None) != value.replace(tzinfo=None):
        return shown
    return value


def _from_stdlib(value: dt.datetime) -> pendulum.DateTime:
    tzinfo = value.tzinfo
    if type(value) is pendulum.DateTime and (tzinfo is UTC or type(tzinfo) is pendulum.Timezone):
        return value if tzinfo is UTC else _existing(value)
    if tzinfo is None or value.utcoffset() is None:
        raise TimeError(
            "has no time zone; give an aware time such as "
            "'2026-03-01T10:00:00+01:00' or datetime(..., tzinfo=UTC)"
        )
    if tzinfo is dt.UTC:
        zone: pendulum.Timezone | pendulum.FixedTimezone = UTC
    elif isinstance(tzinfo, pendulum.Timezone | pendulum.FixedTimezone):
        zone = tzinfo
    elif (key := getattr(tzinfo, "key", None)) is not None:
        zone = _zone(str(key))
    else:
        offset = value.utcoffset()
        assert offset is not None  # checked above
        zone = pendulum.FixedTimezone(int(offset.total_seconds()))
    if isinstance(zone, pendulum.FixedTimezone) and zone.offset == 0:
        zone = UTC
    if type(value) is pendulum.DateTime and value.tzinfo is zone:
        return value
    result = pendulum.DateTime(*_wall_clock(value), tzinfo=zone, fold=value.fold)
    return result if zone is UTC or type(zone) is not pendulum.Timezone else _existing(result)


_ANNOTATED: Final = re.compile(r"(?P<instant>[^\[\]]+)(?:\[(?P<zone>[^\[\]]+)\])?")

# The lengths of RFC 3339 text as this module writes it: with or without a fraction,
# with "Z" or an offset ("+02:00").
_WRITTEN_LENGTHS: Final = frozenset({20, 25, 27, 32})
_FRACTION_LENGTHS: Final = frozenset({27, 32})


def _parse_canonical(text: str) -> pendulum.DateTime | None:
    """Fast path for the written form, ``YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)[Zone]``.

    None for anything else, which the full parser then reads.
    """
    split = _split_zone(text)
    if split is None:
        return None
    text, zone_text = split
    length = len(text)
    if length not in _WRITTEN_LENGTHS or not _written_digits(text, length in _FRACTION_LENGTHS):
        return None
    fraction = length in _FRACTION_LENGTHS
    tz = _written_offset(text[26 if fraction else 19 :])
    if tz is None:
        return None
    try:
        moment = pendulum.DateTime(
            int(text[0:4]),
            int(text[5:7]),
            int(text[8:10]),
            int(text[11:13]),
            int(text[14:16]),
            int(text[17:19]),
            int(text[20:26]) if fraction else 0,
            tzinfo=tz,
        )
    except ValueError:
        return None
    return moment if zone_text is None else _shown_in(moment, tz, zone_text)


def _split_zone(text: str) -> tuple[str, str | None] | None:
    """The text before a ``[Zone]`` annotation and the zone's name; None if malformed."""
    if text[-1] != "]":
        return text, None
    opening = text.find("[")
    if opening < 0:
        return None
    zone_text = text[opening + 1 : -1]
    if not zone_text or "[" in zone_text or "]" in zone_text:
        return None
    return text[:opening], zone_text


def _written_digits(text: str, fraction: bool) -> bool:
    """Whether ``text`` has the separators and ASCII digits of the written form."""
    if text[4] + text[7] + text[10] + text[13] + text[16] != "--T::" or (
        fraction and text[19] != "."
    ):
        return False
    digits = text[0:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
    if fraction:
        digits += text[20:26]
    return digits.isascii() and digits.isdigit()  # int() takes "+1", "1_0" and other digits


def _written_offset(offset: str) -> pendulum.Timezone | pendulum.FixedTimezone | None:
    """The zone of a written ``Z`` or ``+HH:MM``, UTC for a zero offset; None otherwise."""
    if offset == "Z":
        return UTC
    if len(offset) != 6 or offset[0] not in "+-":  # noqa: PLR2004 - "+HH:MM"
        return None
    try:
        tz = _zone(offset)
    except TimeError:
        return None
    return UTC if tz.offset == 0 else tz  # type: ignore[union-attr]


def _shown_in(
    moment: pendulum.DateTime, tz: pendulum.Timezone | pendulum.FixedTimezone, zone_text: str
) -> pendulum.DateTime:
    """``moment`` in the annotated zone, the instant unchanged."""
    zone = _zone(zone_text)
    if zone is tz:
        return moment
    if isinstance(zone, pendulum.FixedTimezone) and zone.offset == 0:
        return moment if tz is UTC else moment.astimezone(UTC)
    return moment.astimezone(zone)


def parse_datetime(value: DateTimeLike) -> pendulum.DateTime:
    """An aware pendulum DateTime from a DateTime, datetime, date or ISO 8601 text.

    A date means midnight UTC of that day, and a time of day with a zone annotation but
    no offset is the wall-clock time in that zone.  Naive times are refused: a time
    without a zone means different instants to the teams in Copenhagen and Shanghai.
    So are times whose UTC instant falls outside the years 1-9999, which could not be
    stored.
    """
    if type(value) is pendulum.DateTime and value.tzinfo is UTC:
        return value  # what every record's own times are: nothing to make of it
    try:
        result = _parse_datetime(value)
        if result.year in (1, 9999):  # only here can the offset carry UTC out of range
            result.astimezone(UTC)
    except OverflowError:
        raise TimeError(
            "lies outside the years 1-9999 in UTC; give a time between "
            "'0001-01-01T00:00:00Z' and '9999-12-31T23:59:59Z'"
        ) from None
    return result


def _parse_datetime(value: DateTimeLike) -> pendulum.DateTime:
    if type(value) is str and len(value) >= 20:  # noqa: PLR2004 - the shortest written form
        canonical = _parse_canonical(value)
        if canonical is not None:
            return canonical
    if isinstance(value, dt.datetime):
        return _from_stdlib(value)
    if isinstance(value, dt.date):
        return pendulum.DateTime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise InvalidTypeError(f"must be a date-time or ISO 8601 text, not {type(value).__name__}")
    match = _ANNOTATED.fullmatch(value.strip())
    if match is None:
        raise TimeError("is not an ISO 8601 date-time such as '2026-03-01T10:00:00+01:00'")
    instant_text, zone_name = match["instant"], match["zone"]
    try:
        parsed = dt.datetime.fromisoformat(instant_text)
    except ValueError:
        try:
            loose: object = pendulum.parse(instant_text, exact=True)
        except Exception as exc:  # pendulum's parser raises several types
            raise TimeError(
                "is not an ISO 8601 date-time such as '2026-03-01T10:00:00+01:00'"
            ) from exc
        if isinstance(loose, dt.datetime):
            parsed = loose
        elif isinstance(loose, dt.date):
            parsed = dt.datetime(loose.year, loose.month, loose.day, tzinfo=dt.UTC)
        else:
            raise TimeError("is not a date-time; give e.g. '2026-03-01T10:00:00+01:00'") from None
    if parsed.tzinfo is None and _is_date(instant_text):
        parsed = parsed.replace(tzinfo=dt.UTC)
    if zone_name is not None and parsed.tzinfo is None:
        parsed = _local_in(parsed, zone_name)
    result = _from_stdlib(parsed)
    if zone_name is not None:
        zone = _zone(zone_name)
        if isinstance(zone, pendulum.FixedTimezone) and zone.offset == 0:
            zone = UTC
        result = result.astimezone(zone)
    return result


def instant(value: dt.datetime) -> dt.datetime:
    """The same moment in UTC, for comparing.

    Python compares two aware times of the same zone by their wall clocks, which goes
    wrong in the hour the clocks pass twice; compared in UTC, the instants decide.
    """
    return value.astimezone(dt.UTC)


def days_between(since: dt.datetime, until: dt.datetime) -> int:
    """Whole days from one instant to a later one (exact, not calendar arithmetic)."""
    # The stdlib's own methods: pendulum's are several times slower and give the same.
    utc = dt.UTC
    return dt.datetime.__sub__(
        dt.datetime.astimezone(until, utc), dt.datetime.astimezone(since, utc)
    ).days


def argument(value: object, name: str, parse: Callable[[Any], T]) -> T:
    """``parse(value)`` for a function argument called ``name``, errors naming it."""
    try:
        return parse(value)
    except (TimeError, InvalidTypeError) as exc:
        kind = InvalidTypeError if isinstance(exc, TypeError) else ValidationError
        raise kind(f"{name} {exc}; got {value!r}") from None


def _is_date(text: str) -> bool:
    """Whether ISO 8601 text is a date alone (``2026-03-01``, ``20260301``, ``2026-W09-1``)."""
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _local_in(local: dt.datetime, zone_name: str) -> dt.datetime:
    """A wall-clock time in the annotated zone, e.g. ``2026-03-01T10:00:00[Europe/Oslo]``.

    Of a time the clocks pass twice (when summer time ends) the first is meant; a time
    they skip (when it begins) is refused, because no instant has it.
    """
    zone = _zone(zone_name)
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise TimeError(
            f"is a local time that does not exist in {zone_name} (the clocks skip it); "
            "give the time with its UTC offset, e.g. '2026-03-29T03:30:00+02:00'"
        )
    return aware


def utc_key(value: pendulum.DateTime) -> str:
    """The fixed-width UTC text of an instant; sorts like the instants themselves."""
    return _utc_text(value.astimezone(UTC) if value.tzinfo is not UTC else value)


def _utc_text(u: dt.datetime) -> str:
    """The text of :func:`utc_key` for a time already in UTC."""
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 - several times faster than strftime
        u.year,
        u.month,
        u.day,
        u.hour,
        u.minute,
        u.second,
        u.microsecond,
    )


def utc_key_of(text: str) -> str:
    """The :func:`utc_key` of a time in text, read straight from the text where it can be.

    Raises:
        TimeError: ``text`` is not a time.
    """
    if text[-1:] == "Z":
        length = len(text)
        if length == UTC_WIDTH and text[19] == ".":
            return text
        if length == 20:  # noqa: PLR2004 - whole seconds: "2026-09-14T08:00:00Z"
            return text[:19] + ".000000Z"
    if text[-1:] != "]":
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return _utc_text(moment.astimezone(dt.UTC))
    return utc_key(parse_datetime(text))


def zone_name(value: pendulum.DateTime | None) -> str | None:
    """The name of the time zone ``value`` was given in (``Europe/Oslo``), if it has one.

    None for UTC and for a fixed offset, which the written text holds in full.
    """
    tz = None if value is None else value.tzinfo
    if tz is None or tz is UTC or type(tz) is not pendulum.Timezone:
        return None
    name = tz.name
    return None if name == "UTC" else str(name)


def _zone_label(value: pendulum.DateTime) -> str | None:
    """The zone of a time as :func:`timebox_key` writes it: a name, an offset or None."""
    tz = value.tzinfo
    if tz is UTC or tz is None:
        return None
    if isinstance(tz, pendulum.FixedTimezone):
        return None if tz.offset == 0 else tz.name
    return zone_name(value)


def shown_clock(value: _Moment) -> tuple[_Moment, int | None]:
    """``value`` on the clock its RFC 3339 text shows, and that clock's offset from UTC
    in seconds (a whole number of minutes); None for a time without a zone.

    An offset that is not whole minutes (a zone's local mean time before 1900 or so,
    ``+00:19:32`` in Amsterdam) has no RFC 3339 form: such a time is shown in UTC.
    """
    offset = value.utcoffset()
    if offset is None:
        return value, None
    if offset.seconds % 60 or offset.microseconds:
        return value.astimezone(UTC), 0
    return value, offset.days * 86400 + offset.seconds


def format_datetime(value: pendulum.DateTime) -> str:
    """The RFC 3339 text of a time: its wall clock and UTC offset, ``Z`` for UTC.

    ``2026-09-14T10:00:00+02:00``; six digits of fraction only when the time has one.
    An offset of whole minutes is written as it is, ``+00:00`` in a named zone that
    is on UTC at that moment; the others are written in UTC (``shown_clock``).
    """
    seconds: int | None = None  # None: written in UTC, as Z
    if value.tzinfo is not UTC:
        value, seconds = shown_clock(value)
        if seconds == 0 and zone_name(value) is None:
            seconds = None
        if seconds is None:
            value = value.astimezone(UTC)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % _to_the_second(value)  # noqa: UP031 - several times faster than strftime
    if value.microsecond:
        text += ".%06d" % value.microsecond  # noqa: UP031 - as above
    return text + "Z" if seconds is None else text + offset_text(seconds)


def offset_text(seconds: int, minus: str = "-") -> str:
    """An offset from UTC of whole minutes as RFC 3339 writes it: ``+02:00``,
    ``-03:30``; ``minus`` for a language's own minus sign."""
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{minus if seconds < 0 else '+'}{hours:02d}:{minutes:02d}"


def zoned_text(value: pendulum.DateTime) -> str:
    """The whole of a time as one text: RFC 3339 with the zone name after it (RFC 9557).

    ``2026-09-14T10:00:00+02:00[Europe/Oslo]``, or :func:`format_datetime`'s text where
    the time has no zone name; :func:`parse_datetime` reads it back as it was.
    """
    return with_zone(format_datetime(value), zone_name(value))


def with_zone(text: str, zone: str | None) -> str:
    """Written text of a time or time box, with ``zone`` (from its own field) added back.

    ``with_zone("2026-09-14T10:00:00+02:00", "Europe/Oslo")`` is
    ``"2026-09-14T10:00:00+02:00[Europe/Oslo]"`` (RFC 9557), which
    :func:`parse_datetime` reads as that instant shown in that zone.  A time box gets
    the zone on its start: ``2026-09-14T10:00:00+02:00[Europe/Oslo]/P6W``.
    """
    if zone is None:
        return text
    first, slash, second = text.partition("/")
    if slash and first.strip().upper().startswith("P"):  # "duration/end"
        return f"{first}/{second}[{zone}]"
    return f"{first}[{zone}]{slash}{second}"


def parse_date(value: DateLike) -> pendulum.Date:
    """A pendulum Date from a date or ``YYYY-MM-DD`` text (a datetime keeps its local date)."""
    if isinstance(value, dt.datetime):
        return pendulum.Date(value.year, value.month, value.day)
    if isinstance(value, dt.date):
        return (
            value
            if type(value) is pendulum.Date
            else pendulum.Date(value.year, value.month, value.day)
        )
    if not isinstance(value, str):
        raise InvalidTypeError(f"must be a date or 'YYYY-MM-DD' text, not {type(value).__name__}")
    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TimeError("is not a date such as '2026-06-30'") from None
    return pendulum.Date(parsed.year, parsed.month, parsed.day)


def format_date(value: dt.date) -> str:
    return value.isoformat()


_DURATION: Final = re.compile(
    r"P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d{1,6})?)S)?)?",
)


_US: Final = 1_000_000  # microseconds in a second


class _Parts(NamedTuple):
    """A duration's parts, named as pendulum's ``add()`` and ``subtract()`` take them."""

    years: int
    months: int
    days: int
    hours: int
    minutes: int
    seconds: int
    microseconds: int


def _duration_parts(value: pendulum.Duration) -> _Parts:
    """(years, months, days, hours, minutes, seconds, microseconds) of a duration.

    pendulum adds a duration that has years, months, weeks or days by the calendar and
    one of hours, minutes and seconds alone by the clock, and tells them apart by the
    arguments the duration was made with (its signature): across the change to summer
    time ``PT36H`` is 36 hours, ``P1DT12H`` only 35.  So the parts are taken from that
    signature, and hours are never carried into days, which keeps the two apart in text
    and in equality.
    """
    signature = getattr(value, "_signature", None)
    if not isinstance(signature, dict):  # not made by pendulum.Duration()
        days = value.weeks * 7 + value.remaining_days
        exact = (value.hours * 3600 + value.minutes * 60 + value.remaining_seconds) * _US
        exact += value.microseconds
    else:
        all_days = signature["weeks"] * 7 + signature["days"]
        days = int(all_days)
        clock = (
            (signature["hours"] * 60 + signature["minutes"]) * 60
            + signature["seconds"]
            + (all_days - days) * 86400
        )
        exact = clock * _US + signature["microseconds"]
        if not isinstance(exact, int):  # fractions given: round to the microsecond
            exact = round(exact)
    hours, rest = divmod(exact, 3600 * _US)
    minutes, rest = divmod(rest, 60 * _US)
    seconds, micro = divmod(rest, _US)
    return _Parts(value.years, value.months, days, hours, minutes, seconds, micro)


def instant_key(value: pendulum.DateTime | None) -> pendulum.DateTime | None:
    """What makes two times equal: the instant they name (in UTC), whatever the zone.

    ``==`` compares two times of one zone by their wall clocks, so the two 02:30s of
    the night summer time ends would be equal, and it never finds a time in that hour
    equal to a time in another zone.  Fields of times use this as their equality key.
    """
    if value is None or value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


def duration_key(value: pendulum.Duration | None) -> tuple[int, ...] | None:
    """What makes two durations equal: calendar parts kept apart (P1M is not P30D)."""
    return None if value is None else _duration_parts(value)


def parse_duration(value: DurationLike) -> pendulum.Duration:
    """A pendulum Duration from a Duration, timedelta or ISO 8601 text such as ``P2W``."""
    if isinstance(value, str):
        return _parse_duration_text(value)
    if type(value) is pendulum.Duration:
        result = value
    elif isinstance(value, pendulum.Duration):  # an Interval: its exact length
        result = pendulum.Duration(
            seconds=value.days * 86400 + value.seconds, microseconds=value.microseconds
        )
    elif isinstance(value, dt.timedelta):
        result = pendulum.Duration(
            days=value.days, seconds=value.seconds, microseconds=value.microseconds
        )
    else:
        raise InvalidTypeError(f"must be a duration or ISO 8601 text, not {type(value).__name__}")
    return _non_negative(result)


@functools.lru_cache(maxsize=1024)
def _parse_duration_text(value: str) -> pendulum.Duration:
    # Cached: a programme uses a handful of time boxes ("P2W", "P100D") many times over.
    match = _DURATION.fullmatch(value.strip().upper())
    if match is None:
        raise TimeError("is not an ISO 8601 duration such as 'P2W', 'P10D' or 'PT36H'")
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    seconds_text = parts.pop("seconds", "0").replace(",", ".")
    whole, _, fraction = seconds_text.partition(".")
    try:
        result = pendulum.Duration(
            years=int(parts.get("years", 0)),
            months=int(parts.get("months", 0)),
            weeks=int(parts.get("weeks", 0)),
            days=int(parts.get("days", 0)),
            hours=int(parts.get("hours", 0)),
            minutes=int(parts.get("minutes", 0)),
            seconds=int(whole),
            microseconds=int(fraction.ljust(6, "0")) if fraction else 0,
        )
    except OverflowError:
        raise TimeError("is too long; a duration can be at most 999999999 days") from None
    return _non_negative(result)


def _non_negative(result: pendulum.Duration) -> pendulum.Duration:
    if any(part < 0 for part in _duration_parts(result)) or result.total_seconds() < 0:
        raise TimeError("is negative; a duration must be zero or more")
    return result


def format_duration(value: pendulum.Duration) -> str:
    """ISO 8601 text of a duration; weeks are written as days."""
    years, months, days, hours, minutes, seconds, micro = _duration_parts(value)
    date_part = "".join(f"{n}{unit}" for n, unit in ((years, "Y"), (months, "M"), (days, "D")) if n)
    second_text = (
        f"{seconds}.{micro:06d}".rstrip("0") if micro else (str(seconds) if seconds else "")
    )
    time_part = "".join(
        f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (second_text, "S")) if n
    )
    if not date_part and not time_part:
        return "PT0S"
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")


def _positive_duration(value: pendulum.Duration) -> pendulum.Duration:
    if value.total_seconds() <= 0:
        raise TimeError("must be longer than zero, e.g. 'P2W'")
    return value


def _to_timebox_duration(value: DurationLike) -> pendulum.Duration:
    try:
        return _positive_duration(parse_duration(value))
    except (TimeError, TypeError, OverflowError) as exc:
        raise Unfit.of(exc) from None


def _to_timebox_start(value: DateTimeLike | None) -> pendulum.DateTime | None:
    try:
        return None if value is None else parse_datetime(value)
    except (TimeError, TypeError) as exc:
        raise Unfit.of(exc) from None


@attrs.frozen(field_transformer=named_errors)
class TimeBox:
    """The bounded period an experiment or sprint runs for ("start small").

    A time box is a duration with an optional start: ``P2W`` says "two weeks from when
    it starts", ``2026-03-01/P2W`` or ``2026-03-01/2026-03-15`` fix the start too.
    Both are validated like the fields of a record: the duration must be longer than
    zero, the start an aware time, and the end must fall before the year 10000.
    """

    duration: pendulum.Duration = attrs.field(eq=duration_key, converter=_to_timebox_duration)
    start: pendulum.DateTime | None = attrs.field(
        default=None, converter=_to_timebox_start, eq=instant_key
    )

    def __attrs_post_init__(self) -> None:
        if self.start is None:
            return
        try:
            self.start + self.duration  # computed only to see that it exists
        except (OverflowError, ValueError):
            raise ValidationError(
                f"TimeBox from {self.start.isoformat()} for {format_duration(self.duration)} "
                "ends after the year 9999; give an earlier start or a shorter duration"
            ) from None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its duration as text: pendulum pickles a month as 30 days."""
        return (TimeBox, (format_duration(self.duration), self.start))

    @property
    def end(self) -> pendulum.DateTime | None:
        """When the time box closes, or None while it has no start."""
        return None if self.start is None else self.start + self.duration

    def starting(self, at: pendulum.DateTime) -> TimeBox:
        """This time box anchored at ``at``, unless it already has a start."""
        return self if self.start is not None else TimeBox(self.duration, at)

    def __str__(self) -> str:
        """The time box as one text, the zone of its start included (see :func:`zoned_text`)."""
        return with_zone(
            format_timebox(self), None if self.start is None else zone_name(self.start)
        )


def _same_instant(first: pendulum.DateTime, second: pendulum.DateTime) -> bool:
    """Whether two times are the same instant.

    ``==`` compares two times of one zone by their wall clocks, so it takes the two
    02:30s of the night summer time ends for one time, and it never finds a time in
    that hour equal to one in another zone.
    """
    return first.astimezone(UTC) == second.astimezone(UTC)


def _timebox_from_parts(
    start: pendulum.DateTime | None, end_or_duration: DateTimeLike | DurationLike
) -> TimeBox:
    if isinstance(end_or_duration, dt.timedelta) or (
        isinstance(end_or_duration, str) and end_or_duration.strip().upper().startswith("P")
    ):
        return TimeBox(_positive_duration(parse_duration(end_or_duration)), start)
    end = parse_datetime(end_or_duration)
    if start is None:
        raise TimeError("has an end but no start; give 'start/end' or a duration")
    if end.astimezone(UTC) <= start.astimezone(UTC):  # not by wall clock: see _same_instant
        raise TimeError(f"ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    interval = end - start
    parts = {
        "years": interval.years,
        "months": interval.months,
        "weeks": interval.weeks,
        "days": interval.remaining_days,
        "hours": interval.hours,
        "minutes": interval.minutes,
        "seconds": interval.remaining_seconds,
        "microseconds": interval.microseconds,
    }
    duration = pendulum.Duration(**parts)
    # pendulum's parts can mix signs between zones (a year less a microsecond), and
    # calendar arithmetic can disagree with them; then keep the exact instant span.
    if min(parts.values()) < 0 or not _same_instant(start + duration, end):
        span = dt.datetime.__sub__(end.astimezone(UTC), start.astimezone(UTC))
        duration = pendulum.Duration(
            seconds=span.days * 86400 + span.seconds, microseconds=span.microseconds
        )
    return TimeBox(_positive_duration(duration), start)


def _interval_split(text: str) -> tuple[str, str] | None:
    """The two halves of ``a/b``, ignoring slashes inside zone names like ``[Europe/Oslo]``."""
    if "[" not in text:
        first, slash, second = text.partition("/")
        return (first, second) if slash else None
    first, slash, second = text.rpartition("/")
    if slash and "[" not in second and "]" not in second:  # "start[Zone/Name]/P2W"
        return first, second
    depth = 0
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "/" and depth == 0:
            return text[:index], text[index + 1 :]
    return None


def parse_timebox(value: TimeBoxLike) -> TimeBox:
    """A TimeBox from ISO 8601 text (``P2W``, ``start/P2W``, ``start/end``) or objects."""
    if isinstance(value, TimeBox):
        return value
    if isinstance(value, pendulum.Interval):
        return _timebox_from_parts(parse_datetime(value.start), parse_datetime(value.end))
    if isinstance(value, dt.timedelta):
        return TimeBox(_positive_duration(parse_duration(value)))
    if isinstance(value, tuple):
        if len(value) != 2:  # noqa: PLR2004 - a pair
            raise TimeError("must be a (start, end) or (start, duration) pair")
        return _timebox_from_parts(parse_datetime(value[0]), value[1])
    if not isinstance(value, str):
        raise TypeError(
            f"must be a TimeBox, duration, interval or ISO 8601 text, not {type(value).__name__}"
        )
    text = value.strip()
    split = _interval_split(text)
    if split is None:
        return TimeBox(_positive_duration(parse_duration(text)))
    first, second = split
    if first.strip().upper().startswith("P"):
        duration = _positive_duration(parse_duration(first))
        end = parse_datetime(second)
        try:  # subtract() mirrors how `+` adds; `-` would take days as 24 hours
            start = end.subtract(**_duration_parts(duration)._asdict())
        except (OverflowError, ValueError):
            raise TimeError(
                f"would start before the year 1 ({format_duration(duration)} before {end})"
            ) from None
        if not _same_instant(start + duration, end):  # no 31 February, or the other 02:30
            return _timebox_from_parts(start, end)
        return TimeBox(duration, start)
    return _timebox_from_parts(parse_datetime(first), second)


def format_timebox(value: TimeBox) -> str:
    """ISO 8601 text of a time box: ``P6W``, or its start in RFC 3339 and its duration.

    ``2026-09-14T10:00:00+02:00/P42D``; the zone of the start is
    ``zone_name(box.start)``.
    """
    duration = format_duration(value.duration)
    return duration if value.start is None else f"{format_datetime(value.start)}/{duration}"


@functools.lru_cache(maxsize=4096)
def timebox_key(text: str, zone: str | None = None) -> str:
    """How stores keep a time box to compare and group by, from its written text and zone.

    The :func:`utc_key` of the start, its zone or offset in brackets, and the duration:
    ``2026-09-14T08:00:00.000000Z[Europe/Oslo]/P42D`` (``P42D`` alone without a start).
    Its first :data:`UTC_WIDTH` characters sort like the starts, and it holds all the
    roll-up needs to find the end on the calendar of the start's zone.

    Raises:
        TimeError: ``text`` is not a time box.
    """
    box = parse_timebox(with_zone(text, zone))
    duration = format_duration(box.duration)
    if box.start is None:
        return duration
    label = _zone_label(box.start)
    start = utc_key(box.start) if label is None else f"{utc_key(box.start)}[{label}]"
    return f"{start}/{duration}"
