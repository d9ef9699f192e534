"""Times, durations and time boxes: what is accepted, what is refused, what is stored."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import pickle
import re
import zoneinfo

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments import Experiment, Objective, TimeBox, ValidationError
from experiments.errors import InvalidTypeError
from experiments.model._time import (
    UTC_WIDTH,
    TimeError,
    check_local_zone,
    check_zone_name,
    duration_key,
    format_datetime,
    format_duration,
    format_timebox,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_timebox,
    timebox_key,
    utc_key,
    utc_key_of,
    with_zone,
    zone_name,
    zoned_text,
)
from experiments.serialization import from_json, to_json
from experiments.testing.strategies import datetimes, durations, time_boxes

CPH = "Europe/Copenhagen"

#: Aware times over the whole calendar, in zones of every kind.
wide_datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 - made aware by the strategy
    max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.one_of(
        st.just(dt.UTC),
        st.timezones(),
        st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
            lambda m: dt.timezone(dt.timedelta(minutes=m))
        ),
    ),
).map(parse_datetime)


def instant(text: str) -> pendulum.DateTime:
    """The instant in UTC that ISO text with an offset means (pendulum's own reading)."""
    return pendulum.parse(text).in_tz("UTC")


class TestParseDatetime:
    @pytest.mark.parametrize(
        ("text", "utc", "zone"),
        [
            ("2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00Z", "+01:00"),
            ("2026-03-01T10:00:00.5-05:30", "2026-03-01T15:30:00.5Z", "-05:30"),
            ("2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z", "UTC"),
            ("2026-03-01T09:00:00+00:00", "2026-03-01T09:00:00Z", "UTC"),
            ("2026-03-01T10:00:00+01:00[Europe/Copenhagen]", "2026-03-01T09:00:00Z", CPH),
            ("2026-07-01T10:00:00+02:00[Europe/Copenhagen]", "2026-07-01T08:00:00Z", CPH),
            ("2026-03-01T09:00:00Z[Asia/Shanghai]", "2026-03-01T09:00:00Z", "Asia/Shanghai"),
            ("2026-03-01T10:00:00[Europe/Copenhagen]", "2026-03-01T09:00:00Z", CPH),
            ("2026-03-01T10:00:00[+05:30]", "2026-03-01T04:30:00Z", "+05:30"),
            ("2026-03-01T09:00:00.000000Z[Europe/Oslo]", "2026-03-01T09:00:00Z", "Europe/Oslo"),
            ("2026-03-01T09:00:00.000000Z", "2026-03-01T09:00:00Z", "UTC"),
            (" 2026-03-01T09:00:00Z ", "2026-03-01T09:00:00Z", "UTC"),
        ],
    )
    def test_iso_text(self, text, utc, zone):
        """ISO 8601 text with an offset or a [Zone] annotation gives that instant and zone."""
        parsed = parse_datetime(text)
        assert type(parsed) is pendulum.DateTime
        assert parsed == instant(utc)
        assert parsed.timezone_name == zone

    @pytest.mark.parametrize("text", ["2026-03-01", "20260301", "2026-W09-7", "2026-060"])
    def test_a_date_alone_is_midnight_utc(self, text):
        """A date without a time, in any ISO form, means midnight UTC."""
        parsed = parse_datetime(text)
        assert parsed == pendulum.datetime(2026, 3, 1)
        assert parsed.tzinfo is pendulum.UTC

    def test_date_objects_are_midnight_utc(self):
        """A date object means midnight UTC of that day."""
        assert parse_datetime(dt.date(2026, 3, 1)) == pendulum.datetime(2026, 3, 1)
        assert parse_datetime(pendulum.Date(2026, 3, 1)).tzinfo is pendulum.UTC

    @pytest.mark.parametrize(
        ("given", "zone"),
        [
            (dt.datetime(2026, 3, 1, 10, tzinfo=zoneinfo.ZoneInfo(CPH)), CPH),
            (dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), "UTC"),
            (dt.datetime(2026, 3, 1, 11, tzinfo=dt.timezone(dt.timedelta(hours=2))), "+02:00"),
            (pendulum.datetime(2026, 3, 1, 10, tz=CPH), CPH),
            (pendulum.datetime(2026, 3, 1, 9), "UTC"),
        ],
    )
    def test_aware_datetimes_keep_their_zone(self, given, zone):
        """Aware datetimes, zoneinfo ones included, become pendulum DateTimes in their zone."""
        parsed = parse_datetime(given)
        assert type(parsed) is pendulum.DateTime
        assert parsed == pendulum.datetime(2026, 3, 1, 9)
        assert parsed.timezone_name == zone

    def test_a_time_the_clocks_pass_twice_means_the_first(self):
        """02:30 on the night summer time ends in Copenhagen is the first 02:30 (CEST)."""
        parsed = parse_datetime("2026-10-25T02:30:00[Europe/Copenhagen]")
        assert parsed.in_tz("UTC") == instant("2026-10-25T00:30:00Z")
        assert parsed.utcoffset() == dt.timedelta(hours=2)

    @pytest.mark.parametrize(
        "given",
        [
            "2026-03-01T10:00:00",
            "2026-03-01T10:00",
            "20260301T100000",
            "2026-03-01 10:00:00",
            dt.datetime(2026, 3, 1, 10),  # noqa: DTZ001 - naive on purpose
        ],
    )
    def test_naive_times_are_refused_with_a_clear_message(self, given):
        """A time without a zone is refused, saying how to give one."""
        with pytest.raises(ValidationError) as caught:
            Objective(title="x", created_at=given)
        message = str(caught.value)
        assert "Objective.created_at has no time zone" in message
        assert "'2026-03-01T10:00:00+01:00'" in message
        assert "tzinfo=UTC" in message

    @pytest.mark.parametrize(
        ("given", "reason"),
        [
            ("2026-03-29T02:30:00[Europe/Copenhagen]", "does not exist in Europe/Copenhagen"),
            ("2026-03-01T10:00:00Z[Nowhere/City]", "unknown time zone 'Nowhere/City'"),
            ("2026-03-01T10:00:00Z[+24:00]", "unknown UTC offset '\\+24:00'"),
            ("2026-03-01T10:00:00Z[+01:60]", "unknown UTC offset"),
            ("2026-03-01T10:00:00Z[]", "is not an ISO 8601 date-time"),
            ("2026-03-01T10:00:00Z[Europe/Oslo][UTC]", "is not an ISO 8601 date-time"),
            ("next tuesday", "is not an ISO 8601 date-time"),
            ("2026-02-30T10:00:00Z", "is not an ISO 8601 date-time"),
            ("P2W", "is not a date-time"),
            ("2026-03-01T09:00:00.+00000Z", "is not an ISO 8601 date-time"),
            ("2026-03-01T09:00:00.0_0000Z", "is not an ISO 8601 date-time"),
            ("\u0662\u0660\u0662\u0666-03-01T09:00:00.000000Z", "is not an ISO 8601 date-time"),
            ("0001-01-01T00:30:00+01:00", "outside the years 1-9999 in UTC"),
            ("9999-12-31T23:00:00-05:00", "outside the years 1-9999 in UTC"),
            ("0001-01-01T00:00:00.000000Z[America/New_York]", "outside the years 1-9999"),
        ],
    )
    def test_what_is_refused(self, given, reason):
        """Unknown zones, impossible or out-of-range times, and non-times are refused."""
        with pytest.raises(ValidationError, match=reason):
            Objective(title="x", created_at=given)

    @pytest.mark.parametrize("given", [5, 1.5, None, b"2026-03-01", dt.time(10), ["2026-03-01"]])
    def test_wrong_types_are_type_errors(self, given):
        """Something that is not a time at all is an InvalidTypeError, also a TypeError."""
        with pytest.raises(InvalidTypeError, match=r"Objective\.created_at must be a date-time"):
            Objective(title="x", created_at=given)

    def test_the_raw_parser_raises_value_and_type_errors(self):
        """The parser itself raises TimeError (a ValueError) or TypeError for fields to wrap."""
        with pytest.raises(TimeError):
            parse_datetime("soon")
        with pytest.raises(TypeError):
            parse_datetime(5)  # type: ignore[arg-type]


class TestFormatDatetime:
    @pytest.mark.parametrize(
        ("given", "written", "zone"),
        [
            ("2026-03-01T10:00:00+01:00[Europe/Copenhagen]", "2026-03-01T10:00:00+01:00", CPH),
            ("2026-07-01T10:00:00[Europe/Copenhagen]", "2026-07-01T10:00:00+02:00", CPH),
            ("2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z", None),
            ("2026-03-01T09:00:00.000000Z", "2026-03-01T09:00:00Z", None),
            ("2026-03-01T09:00:00.5Z", "2026-03-01T09:00:00.500000Z", None),
            ("2026-03-01T10:00:00+01:00", "2026-03-01T10:00:00+01:00", None),
            ("2026-03-01T10:00:00.000001-05:30", "2026-03-01T10:00:00.000001-05:30", None),
            ("2026-03-01T09:00:00+00:00", "2026-03-01T09:00:00Z", None),
            ("2026-01-14T10:00:00[Europe/London]", "2026-01-14T10:00:00+00:00", "Europe/London"),
            # Local mean time, 19 minutes 32 seconds ahead: no RFC 3339 offset, so UTC.
            ("1890-05-01T12:00:00[Europe/Amsterdam]", "1890-05-01T11:40:28Z", "Europe/Amsterdam"),
            # The second 02:30 of the night summer time ends.
            ("2026-10-25T01:30:00Z[Europe/Copenhagen]", "2026-10-25T02:30:00+01:00", CPH),
        ],
    )
    def test_the_written_form(self, given, written, zone):
        """RFC 3339 with the offset, Z for UTC, a fraction only when there is one."""
        moment = parse_datetime(given)
        assert format_datetime(moment) == written
        assert zone_name(moment) == zone
        assert zoned_text(moment) == (written if zone is None else f"{written}[{zone}]")

    def test_an_offset_with_a_fraction_of_a_second_is_written_in_utc(self):
        """No clock shows such an offset, so the time is written as UTC's clock has it."""
        ahead = dt.timezone(dt.timedelta(hours=1, microseconds=500_000))
        moment = dt.datetime(2026, 3, 1, 10, 0, tzinfo=ahead)
        assert format_datetime(moment) == "2026-03-01T08:59:59.500000Z"

    @given(wide_datetimes)
    def test_round_trip(self, moment):
        """The written text and the zone name give back the same instant in the same zone."""
        text = format_datetime(moment)
        back = parse_datetime(with_zone(text, zone_name(moment)))
        assert back == moment
        assert back.utcoffset() == moment.utcoffset()
        assert format_datetime(back) == text
        assert zoned_text(back) == zoned_text(moment)
        assert parse_datetime(zoned_text(moment)) == moment

    @given(wide_datetimes)
    def test_other_tools_read_the_written_form(self, moment):
        """datetime.fromisoformat reads the written text as the same instant."""
        read = dt.datetime.fromisoformat(format_datetime(moment))
        assert read.utcoffset() is not None
        # As instants: `==` across zones is never true for a time the clocks pass twice.
        assert read.astimezone(dt.UTC) == moment.astimezone(dt.UTC)
        if format_datetime(moment).endswith("Z"):
            assert read.utcoffset() == dt.timedelta(0)
        else:
            assert read.utcoffset() == moment.utcoffset()

    @given(wide_datetimes)
    def test_utc_key_has_a_fixed_width(self, moment):
        """The UTC key is always 27 characters, zero-padded, ending in Z."""
        key = utc_key(moment)
        assert len(key) == 27
        assert key.endswith("Z")
        # As instants: `==` across zones is never true for a time the clocks pass twice.
        assert parse_datetime(key) == moment.astimezone(pendulum.UTC)
        assert utc_key_of(format_datetime(moment)) == key
        assert utc_key_of(zoned_text(moment)) == key
        assert utc_key_of(key) == key

    @given(st.lists(wide_datetimes, min_size=2, max_size=8))
    def test_utc_keys_sort_like_the_instants(self, moments):
        """Sorting the UTC keys orders the times as sorting the instants does."""
        by_instant = sorted(moments, key=lambda m: (m.timestamp(), m.microsecond))
        by_text = sorted(moments, key=lambda m: utc_key_of(format_datetime(m)))
        assert [utc_key(m) for m in by_text] == [utc_key(m) for m in by_instant]
        for earlier, later in itertools.pairwise(by_instant):
            assert (earlier < later) == (utc_key(earlier) < utc_key(later))
            assert (earlier == later) == (utc_key(earlier) == utc_key(later))

    @pytest.mark.parametrize(
        ("zone", "reason"),
        [
            ("Mars/Olympus", "unknown time zone"),
            ("+02:00", "is a UTC offset"),
            ("", "unknown time zone"),
            (5, "must be the name of a time zone"),
        ],
    )
    def test_zone_names_are_checked(self, zone, reason):
        """A zone field holds the name of a zone, not an offset or anything else."""
        with pytest.raises((TimeError, InvalidTypeError), match=reason):
            check_zone_name(zone)
        assert check_zone_name("America/Argentina/Buenos_Aires") == (
            "America/Argentina/Buenos_Aires"
        )


class TestCheckLocalZone:
    """The zone of times written without an offset: a zone's name, or a UTC offset."""

    @pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC", "+02:00", "-03:30"])
    def test_names_and_offsets(self, zone):
        """A zone's name and a UTC offset both say where the wall clock was."""
        assert check_local_zone(zone) == zone

    @pytest.mark.parametrize(
        ("zone", "reason"),
        [
            ("Mars/Base", "names an unknown time zone 'Mars/Base'"),
            ("+24:00", "names an unknown UTC offset"),
            ("", "names an unknown time zone ''"),
            (2, "must be the name of a time zone"),
        ],
    )
    def test_anything_else_is_refused(self, zone, reason):
        """What is neither is refused, the message reading as the end of a sentence."""
        with pytest.raises((TimeError, InvalidTypeError), match=re.escape(reason)):
            check_local_zone(zone)


class TestParseDate:
    def test_dates(self):
        """Dates come from text, dates, or a datetime's own local date."""
        assert parse_date("2026-06-30") == pendulum.Date(2026, 6, 30)
        assert parse_date(dt.date(2026, 6, 30)) == pendulum.Date(2026, 6, 30)
        late_evening = dt.datetime(2026, 6, 30, 23, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        assert parse_date(late_evening) == pendulum.Date(2026, 6, 30)

    def test_bad_dates(self):
        """What is not a date is refused."""
        with pytest.raises(TimeError, match="is not a date such as '2026-06-30'"):
            parse_date("30 June")
        with pytest.raises(TypeError):
            parse_date(20260630)  # type: ignore[arg-type]


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "stored", "seconds"),
        [
            ("P2W", "P14D", 14 * 86400),
            ("P10D", "P10D", 10 * 86400),
            ("PT36H", "PT36H", 36 * 3600),
            ("P1DT12H", "P1DT12H", 36 * 3600),
            ("PT90M", "PT1H30M", 5400),
            ("PT1,5S", "PT1.5S", 1.5),
            ("p1y2m3w4dt5h6m7.25s", "P1Y2M25DT5H6M7.25S", None),
            ("PT0S", "PT0S", 0),
        ],
    )
    def test_iso_durations(self, text, stored, seconds):
        """ISO 8601 durations are read in any case and written in a canonical form."""
        duration = parse_duration(text)
        assert format_duration(duration) == stored
        assert duration_key(parse_duration(stored)) == duration_key(duration)
        if seconds is not None:
            assert duration.total_seconds() == seconds

    def test_two_weeks_equal_fourteen_days(self):
        """P2W and P14D are the same duration."""
        assert TimeBox("P2W") == TimeBox("P14D")

    def test_a_calendar_month_is_not_thirty_days(self):
        """P1M and P30D are kept apart: a month from 31 January ends on 28 February."""
        assert duration_key(parse_duration("P1M")) != duration_key(parse_duration("P30D"))
        assert TimeBox("P1M") != TimeBox("P30D")
        assert TimeBox("P1M", "2026-01-31").end == pendulum.datetime(2026, 2, 28)
        assert TimeBox("P30D", "2026-01-31").end == pendulum.datetime(2026, 3, 2)

    def test_hours_are_clock_time_and_days_calendar_time(self):
        """Across the change to summer time, PT36H lasts 36 hours and P1DT12H 35."""
        start = parse_datetime("2026-03-28T12:00:00[Europe/Copenhagen]")
        by_clock = TimeBox("PT36H", start)
        by_calendar = TimeBox("P1DT12H", start)
        assert (by_clock.end - start).in_hours() == 36
        assert (by_calendar.end - start).in_hours() == 35
        assert by_clock != by_calendar
        for box in (by_clock, by_calendar):
            assert parse_timebox(str(box)).end == box.end
            assert (
                format_timebox(box) == f"2026-03-28T12:00:00+01:00/{format_duration(box.duration)}"
            )

    @pytest.mark.parametrize(
        ("given", "reason"),
        [
            ("-P2W", "is not an ISO 8601 duration such as 'P2W'"),
            ("P", "is not an ISO 8601 duration"),
            ("PT", "is not an ISO 8601 duration"),
            ("P1DT", "is not an ISO 8601 duration"),
            ("2W", "is not an ISO 8601 duration"),
            ("P1.5D", "is not an ISO 8601 duration"),
            (dt.timedelta(days=-1), "is negative"),
            (pendulum.Duration(days=-1), "is negative"),
            (pendulum.Duration(days=1, hours=-30), "is negative"),
            ("P0D", "must be longer than zero"),
            (dt.timedelta(0), "must be longer than zero"),
            ("P99999999999Y", "is too long"),
        ],
    )
    def test_negative_zero_and_malformed_durations_are_refused(self, given, reason):
        """A time box's duration must be a valid, positive ISO 8601 duration."""
        with pytest.raises(ValidationError, match=rf"Experiment\.time_box {reason}"):
            Experiment(title="x", time_box=given)

    @given(durations(), datetimes())
    def test_round_trip_keeps_the_meaning(self, duration, start):
        """The stored text of a duration reads back as a duration that ends at the same time."""
        back = parse_duration(format_duration(duration))
        assert duration_key(back) == duration_key(duration)
        assert start + back == start + duration


class TestTimeBox:
    def test_without_a_start_it_has_no_end(self):
        """A duration alone has no end until it is given a start."""
        box = TimeBox("P2W")
        assert box.start is None
        assert box.end is None
        started = box.starting(pendulum.datetime(2026, 3, 1))
        assert started.end == pendulum.datetime(2026, 3, 15)
        assert started.starting(pendulum.datetime(2027, 1, 1)) is started

    @given(time_boxes)
    def test_it_pickles_and_copies_as_itself(self, box):
        """A time box comes back from pickle and copy with its calendar duration (a month
        stays a month, which pendulum alone pickles as 30 days) and its start's zone."""
        pickled = pickle.loads(pickle.dumps(box))  # noqa: S301 - our own bytes
        for again in (pickled, copy.copy(box), copy.deepcopy(box)):
            assert again == box
            assert str(again) == str(box)

    def test_str_is_the_whole_text(self):
        """str() of a time box is its ISO 8601 text, with the zone of its start (RFC 9557)."""
        assert str(TimeBox("P2W")) == "P14D"
        box = TimeBox("P2W", "2026-03-01T10:00:00+01:00[Europe/Copenhagen]")
        assert str(box) == "2026-03-01T10:00:00+01:00[Europe/Copenhagen]/P14D"
        assert format_timebox(box) == "2026-03-01T10:00:00+01:00/P14D"
        assert str(TimeBox("P2W", "2026-03-01T09:00:00Z")) == "2026-03-01T09:00:00Z/P14D"

    @pytest.mark.parametrize(
        ("arguments", "error", "message"),
        [
            (("P0D",), ValidationError, "TimeBox.duration must be longer than zero"),
            ((pendulum.Duration(days=-3),), ValidationError, "TimeBox.duration is negative"),
            ((14,), InvalidTypeError, "TimeBox.duration must be a duration"),
            (("P2W", "2026-03-01T10:00:00"), ValidationError, "TimeBox.start has no time zone"),
            (("P2W", 2026), InvalidTypeError, "TimeBox.start must be a date-time"),
            (("P2M", "9999-12-01T00:00:00Z"), ValidationError, "ends after the year 9999"),
        ],
    )
    def test_construction_is_validated(self, arguments, error, message):
        """A TimeBox made directly is validated like a record's field."""
        with pytest.raises(error, match=message):
            TimeBox(*arguments)

    @given(time_boxes)
    def test_round_trip(self, box):
        """A time box's text and zone read back as an equal time box with the same end."""
        zone = None if box.start is None else zone_name(box.start)
        for text in (str(box), with_zone(format_timebox(box), zone)):
            back = parse_timebox(text)
            assert back == box
            assert back.end is None if box.end is None else utc_key(back.end) == utc_key(box.end)
            assert str(back) == str(box)
        assert "[" not in format_timebox(box)

    @given(time_boxes)
    def test_the_key_sorts_by_the_start_and_keeps_the_zone(self, box):
        """A time box's key begins with its start's UTC key and reads back as the box."""
        zone = None if box.start is None else zone_name(box.start)
        key = timebox_key(format_timebox(box), zone)
        if box.start is None:
            assert key == format_duration(box.duration)
        else:
            assert key[:UTC_WIDTH] == utc_key(box.start)
            back = parse_timebox(key)
            assert back == box
            assert utc_key(back.end) == utc_key(box.end)  # type: ignore[arg-type]


class TestParseTimebox:
    @pytest.mark.parametrize(
        ("given", "start", "end"),
        [
            ("2026-03-01T00:00:00Z/2026-03-15T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-15"),
            ("2026-03-01/P2W", "2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z"),
            ("P2W/2026-03-15", "2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z"),
            ("P1M/2026-03-31T00:00:00Z", "2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"),
            (
                "2026-03-01T10:00:00+01:00[Europe/Copenhagen]/2026-03-15T10:00:00+01:00[Europe/Oslo]",
                "2026-03-01T09:00:00Z",
                "2026-03-15T09:00:00Z",
            ),
            ("2026-03-01T10:00:00[Europe/Copenhagen]/P2W", "2026-03-01T09:00:00Z", None),
            ("P2W/2026-03-15T10:00:00[Europe/Copenhagen]", None, "2026-03-15T09:00:00Z"),
            (("2026-03-01", "2026-03-15"), "2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z"),
            (("2026-03-01", "P2W"), "2026-03-01T00:00:00Z", "2026-03-15T00:00:00Z"),
            (("2026-03-01", dt.timedelta(weeks=2)), "2026-03-01T00:00:00Z", "2026-03-15"),
            (
                pendulum.interval(pendulum.datetime(2026, 3, 1), pendulum.datetime(2026, 3, 15)),
                "2026-03-01T00:00:00Z",
                "2026-03-15T00:00:00Z",
            ),
        ],
    )
    def test_intervals(self, given, start, end):
        """start/end, start/duration, duration/end, pairs and Intervals all give a time box."""
        box = parse_timebox(given)
        if start is not None:
            assert box.start == instant(start)
        if end is not None:
            assert box.end == instant(end)

    def test_zone_names_with_slashes_inside_intervals(self):
        """The slash in [Europe/Copenhagen] does not split the interval."""
        box = parse_timebox(
            "2026-03-01T10:00:00[Europe/Copenhagen]/2026-03-02T10:00:00[Asia/Shanghai]"
        )
        assert box.start.timezone_name == CPH
        assert box.end == instant("2026-03-02T02:00:00Z")

    @pytest.mark.parametrize(
        ("start", "end", "stored"),
        [
            # Two calendar days that are 47 hours long.
            (
                "2026-03-28T10:00:00[Europe/Copenhagen]",
                "2026-03-30T10:00:00[Europe/Copenhagen]",
                "2026-03-28T10:00:00+01:00[Europe/Copenhagen]/P2D",
            ),
            # 24 hours that are not a calendar day when summer time ends.
            (
                "2022-10-29T04:00:00[Europe/Copenhagen]",
                "2022-10-30T03:00:00[Europe/Copenhagen]",
                "2022-10-29T04:00:00+02:00[Europe/Copenhagen]/PT24H",
            ),
            # Across the change, into another zone.
            (
                "2026-03-28T23:00:00[America/New_York]",
                "2026-03-29T12:00:00+02:00[Europe/Copenhagen]",
                None,
            ),
        ],
    )
    def test_intervals_across_a_dst_change_round_trip(self, start, end, stored):
        """An interval across a change of summer time keeps its start and its end."""
        box = parse_timebox(f"{start}/{end}")
        if stored is not None:
            assert str(box) == stored
        back = parse_timebox(str(box))
        assert (back.start, back.end) == (parse_datetime(start), parse_datetime(end))
        experiment = Experiment(title="x", time_box=f"{start}/{end}")
        assert from_json(to_json(experiment)).time_box.end == parse_datetime(end)

    def test_a_datetime_the_clocks_skip_is_read_as_its_instant(self):
        """02:30 on the night summer time begins, as a datetime, is kept as its instant."""
        skipped = dt.datetime(2026, 3, 29, 2, 30, tzinfo=zoneinfo.ZoneInfo(CPH))
        parsed = parse_datetime(skipped)
        assert parsed.timestamp() == skipped.timestamp()
        assert (parsed.hour, parsed.minute) == (3, 30)
        assert parse_datetime(zoned_text(parsed)) == parsed

    @pytest.mark.parametrize(
        ("given", "reason"),
        [
            ("2026-03-15T00:00:00Z/2026-03-01T00:00:00Z", "ends .* before it starts"),
            ("2026-03-01T00:00:00Z/2026-03-01T00:00:00Z", "ends .* before it starts"),
            ("2026-03-01T10:00:00+01:00/2026-03-01T09:00:00Z", "ends .* before it starts"),
            ("P2W/P1W", "is not a date-time"),
            ("/", "is not an ISO 8601 date-time"),
            ("2026-03-01/P2W/P1W", "is not an ISO 8601 duration"),
            ("2026-03-01/P0D", "must be longer than zero"),
            ("P2M/0001-01-10T00:00:00Z", "would start before the year 1"),
            ("9999-12-01T00:00:00Z/P2M", "ends after the year 9999"),
            (("2026-03-01",), "must be a .start, end. or .start, duration. pair"),
            (
                pendulum.interval(pendulum.datetime(2026, 3, 2), pendulum.datetime(2026, 3, 1)),
                "ends",
            ),
        ],
    )
    def test_bad_intervals_are_refused(self, given, reason):
        """End before start, stray parts and out-of-range ends are refused."""
        with pytest.raises(ValidationError, match=rf"Experiment\.time_box .*{reason}"):
            Experiment(title="x", time_box=given)

    def test_a_time_box_of_the_wrong_type(self):
        """Something that is no time box at all is a type error."""
        with pytest.raises(InvalidTypeError, match=r"Experiment\.time_box must be a TimeBox"):
            Experiment(title="x", time_box=14)

    @given(datetimes(), datetimes())
    def test_any_start_and_end_are_kept(self, first, second):
        """start/end keeps both instants, through its stored text too, whatever the zones."""
        if utc_key(first) == utc_key(second):
            return
        start, end = sorted((first, second), key=utc_key)
        box = parse_timebox((start, end))
        assert box.start is start
        assert utc_key(box.end) == utc_key(end)
        back = parse_timebox(str(box))
        assert back == box
        assert utc_key(back.end) == utc_key(end)

    @given(durations(), datetimes())
    def test_duration_then_end_keeps_the_end(self, duration, end):
        """duration/end ends at the end given, even when the calendar has no such start."""
        box = parse_timebox(f"{format_duration(duration)}/{zoned_text(end)}")
        assert utc_key(box.end) == utc_key(end)
        assert utc_key(parse_timebox(str(box)).end) == utc_key(end)

    @pytest.mark.parametrize("duration", ["P1D", "PT24H", "P1M", "PT1H", "P1DT1H"])
    @pytest.mark.parametrize("end", ["00:30:00Z", "01:30:00Z"], ids=["first-02:30", "second-02:30"])
    def test_an_end_in_the_hour_passed_twice(self, duration, end):
        """An end at either 02:30 of the night summer time ends is kept, to the instant."""
        text = f"{duration}/2026-10-25T{end}[Europe/Copenhagen]"
        wanted = f"2026-10-25T{end[:-1]}.000000Z"
        assert utc_key(parse_timebox(text).end) == wanted
        start = zoned_text(parse_timebox(text).start)
        assert utc_key(parse_timebox(f"{start}/2026-10-25T{end}[Europe/Copenhagen]").end) == wanted
