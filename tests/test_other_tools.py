"""Every time the library writes is read by the tools people already use.

An export, ``--json`` output of the commands, the JSON report, the CSV report and the
record files of a files store are read
with ``datetime.fromisoformat`` (Python 3.11), pandas (``to_datetime(format="ISO8601")``)
and polars (``str.to_datetime``), each as the aware time the record holds.  The
programme is the one 0.1.0 wrote (times in named zones, at fixed offsets, in UTC, with
and without fractions, one of 1890 in local mean time), imported, and a few written now.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from click.testing import CliRunner

from experiments import Plugins, Record, TimeBox, connect
from experiments.cli import cli
from experiments.model._time import parse_datetime, utc_key
from experiments.query import FieldType, field_types
from experiments.serialization import from_data, zone_field
from formats import export_data

#: Text that is a date and time (not a bare date, not a duration).
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
#: The report is made as of this moment, in a named zone.
AT = "2026-10-01T14:00:00+02:00[Europe/Oslo]"


def _environment() -> dict[str, str]:
    return {"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store with the programme of 0.1.0 and a few records written through the CLI."""
    url = f"sqlite:///{tmp_path_factory.mktemp('tools') / 'programme.db'}"
    with connect(url, plugins=Plugins(autoload=False), create=True) as store:
        store.import_records(from_data(d) for d in export_data())
    for arguments in (
        ["measure", "families reached", "44", "--at", "2026-09-20T09:30:00[Asia/Kolkata]"],
        ["measure", "families reached", "45", "--at", "2026-09-21T09:30:00.5-03:00"],
        ["add", "experiment", "Reading corner", "--slug", "reading-corner", "--time-box", "P3W"],
        ["start", "reading-corner", "--at", "2026-09-28T08:00:00[America/Argentina/Salta]"],
    ):
        done = _run(url, *arguments)
        assert done.exit_code == 0, done.output
    return url


def _run(url: str, *arguments: str) -> Any:
    return CliRunner().invoke(cli, ["--store", url, *arguments], env=_environment())


def _json(url: str, *arguments: str) -> Any:
    done = _run(url, "--json", *arguments)
    assert done.exit_code in (0, 1), done.output  # check exits 1 when it finds something
    return json.loads(done.output)


def _times_in(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, text) of every date-time text in JSON data; a time box gives its start."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _times_in(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _times_in(item, key)
    elif isinstance(value, str) and _TIME.match(value):
        yield key, value.partition("/")[0]


def _read_by_every_tool(texts: list[str]) -> list[dt.datetime]:
    """The instants the three tools read in ``texts``, checked to agree; in UTC."""
    assert texts
    python = [dt.datetime.fromisoformat(text) for text in texts]
    assert all(moment.utcoffset() is not None for moment in python)
    frame = pd.to_datetime(pd.Series(texts), format="ISO8601", utc=True)
    assert str(frame.dtype).startswith("datetime64")
    assert frame.dt.tz is not None
    assert not frame.isna().any()
    series = pl.Series(texts, dtype=pl.String).str.to_datetime(time_unit="us")
    assert isinstance(series.dtype, pl.Datetime)
    assert series.dtype.time_zone is not None
    assert series.null_count() == 0
    instants = [moment.astimezone(dt.UTC) for moment in python]
    assert [t.to_pydatetime() for t in frame] == instants
    assert [t.astimezone(dt.UTC) for t in series.to_list()] == instants
    return instants


def _check_records(rows: list[dict[str, Any]]) -> int:
    """Every time field of record data reads as the instant the record holds, and its
    zone field names the zone of the record's time."""
    texts: list[str] = []
    expected: list[dt.datetime] = []
    for data in rows:
        record = from_data(data)
        for name, info in field_types(data["kind"]).items():
            value = data.get(name)
            if value is None or info.kind not in (FieldType.DATETIME, FieldType.TIMEBOX):
                continue
            moment = getattr(record, name)
            if isinstance(moment, TimeBox):
                if moment.start is None:
                    continue
                moment, value = moment.start, value.partition("/")[0]
            texts.append(value)
            expected.append(moment.astimezone(dt.UTC))
            zone = data.get(zone_field(name))
            if zone is not None:  # the wall clock there is the record's own
                local = pd.Timestamp(value).tz_convert(zone)
                assert local.to_pydatetime().replace(tzinfo=None) == moment.replace(tzinfo=None)
    assert _read_by_every_tool(texts) == expected
    return len(texts)


class TestExport:
    def test_an_export_is_read_by_every_tool(self, store_url: str, tmp_path: Path) -> None:
        """``experiments export``: every time of every version, in every tool."""
        path = tmp_path / "export.jsonl"
        done = _run(store_url, "export", "-o", str(path))
        assert done.exit_code == 0, done.output
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert _check_records(rows) > 60

    def test_pandas_reads_one_kind_of_an_export_as_a_table(
        self, store_url: str, tmp_path: Path
    ) -> None:
        """The measurements of an export, as pandas reads JSON Lines, have aware times."""
        path = tmp_path / "export.jsonl"
        _run(store_url, "export", "-o", str(path))
        lines = [line for line in path.read_text().splitlines() if '"kind":"measurement"' in line]
        frame = pd.read_json(io.StringIO("\n".join(lines)), lines=True, dtype=False)
        measured = pd.to_datetime(frame["measured_at"], format="ISO8601", utc=True)
        assert measured.notna().all()
        table = pl.read_ndjson(io.StringIO("\n".join(lines)))
        parsed = table.get_column("measured_at").str.to_datetime(time_unit="us")
        assert parsed.null_count() == 0
        assert [utc_key(parse_datetime(t)) for t in frame["measured_at"]] == [
            t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for t in parsed.dt.convert_time_zone("UTC")
        ]


class TestCommands:
    @pytest.mark.parametrize(
        "kind",
        ["experiments", "measurements", "learnings", "decisions", "prototypes", "notes",
         "sprints", "objectives", "participants"],
    )  # fmt: skip
    def test_list_is_read_by_every_tool(self, store_url: str, kind: str) -> None:
        """``--json list``: every time of every record listed."""
        _check_records(_json(store_url, "list", kind))

    def test_every_command_writes_times_the_tools_read(self, store_url: str) -> None:
        """Each command's --json output has only times the three tools read."""
        outputs = [
            _json(store_url, "show", "art-for-families"),
            _json(store_url, "history", "art-for-families"),
            _json(store_url, "check", "--at", AT),
            _json(store_url, "measure", "visits", "3", "--at", "2026-09-29T12:00:00[Asia/Tokyo]"),
            _json(store_url, "conclude", "reading-corner", "--at", "2026-10-10T18:00:00+02:00"),
        ]
        texts = [text for output in outputs for _, text in _times_in(output)]
        assert {key for output in outputs for key, _ in _times_in(output)} >= {
            "at", "started_at", "measured_at", "concluded_at", "created_at", "time_box"
        }  # fmt: skip
        _read_by_every_tool(texts)


class TestReports:
    def test_the_json_report_is_read_by_every_tool(self, store_url: str) -> None:
        """Every time in the JSON report, in the zone of its ``at``, with that zone named."""
        report = _json(store_url, "report", "--format", "json", "--at", AT)
        found = list(_times_in(report))
        assert {key for key, _ in found} >= {"at", "started_at", "planned_start", "measured_at"}
        assert report["at"] == "2026-10-01T14:00:00+02:00"
        assert report["at_zone"] == "Europe/Oslo"
        instants = _read_by_every_tool([text for _, text in found])
        assert len(instants) == len(found)
        for _, text in found:
            assert dt.datetime.fromisoformat(text).utcoffset() in (
                dt.timedelta(hours=1),
                dt.timedelta(hours=2),
            )  # Oslo's offsets, summer and winter

    @pytest.mark.parametrize("format_name", ["csv", "csv-comma"])
    def test_the_csv_report_is_read_by_every_tool(self, store_url: str, format_name: str) -> None:
        """The dates of the CSV experiment list are ISO dates every tool reads."""
        done = _run(store_url, "report", "--format", format_name, "--at", AT)
        assert done.exit_code == 0, done.output
        text = done.output_bytes.decode("utf-8-sig")
        columns = ["Time box start", "Time box end", "Started", "Concluded", "Decided"]
        rows = list(csv.DictReader(io.StringIO(text), delimiter=","))
        days = [row[c] for row in rows for c in columns if row[c]]
        assert len(days) >= 6
        assert [dt.datetime.fromisoformat(day).date() for day in days] == [
            dt.date.fromisoformat(day) for day in days
        ]
        frame = pd.read_csv(io.StringIO(text), dtype=str)
        table = pl.read_csv(io.StringIO(text), infer_schema=False)
        for column in columns:
            given = frame[column].dropna()
            assert pd.to_datetime(given, format="ISO8601").notna().all()
            parsed = table.get_column(column).drop_nulls().str.to_date()
            assert parsed.null_count() == 0
            assert [d.isoformat() for d in parsed.to_list()] == list(given)


class TestFilesStore:
    def test_every_record_file_is_read_by_every_tool(self, tmp_path: Path) -> None:
        """Each file of a files store, current version and history, in every tool."""
        url = f"files:///{tmp_path / 'programme'}"
        with connect(url, plugins=Plugins(autoload=False), create=True) as store:
            store.import_records(from_data(d) for d in export_data())
        done = _run(url, "measure", "visits", "3", "--at", "2026-09-29T12:00:00[Asia/Tokyo]")
        assert done.exit_code == 0, done.output
        files = sorted((tmp_path / "programme" / "records").glob("*/*.json"))
        rows = [json.loads(path.read_text(encoding="utf-8")) for path in files]
        assert len(rows) > 20
        assert _check_records(rows) > 60


def test_records_in_python_are_the_ones_read(store_url: str) -> None:
    """The records the tools read are the store's own (the data is not a copy of a copy)."""
    with connect(store_url, plugins=Plugins(autoload=False)) as store:
        records: list[Record] = list(store.query())
    assert len(records) > 20
