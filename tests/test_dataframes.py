"""DataFrames: records, measurement series and the roll-up's tables in pandas and polars."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import (
    Experiment,
    KeyResult,
    Measurement,
    Objective,
    Participant,
    Plugins,
)
from experiments.dataframes import TABLES, to_pandas, to_polars
from experiments.errors import MissingExtraError, ValidationError
from experiments.rollup import rollup
from experiments.stores._views import view_columns

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")


@pytest.fixture
def store(tmp_path: Path) -> experiments.Store:
    """A small programme: an objective, a key result, measurements, people, experiments."""
    made = experiments.connect(
        f"sqlite:///{tmp_path / 'df.db'}", plugins=Plugins(autoload=False), create=True
    )
    welfare = made.save(Objective(title="Welfare", slug="welfare"))
    result = made.save(
        KeyResult(objective=welfare, metric="families", baseline=0, target=40, due="2026-11-25")
    )
    for day, value in ((7, 12), (21, 23), (28, 31)):
        made.save(
            Measurement(
                key_result=result, value=value, measured_at=f"2026-09-{day:02d}T18:00:00+02:00"
            )
        )
    made.save(Participant(role="citizen", name="Sara M.", slug="sara", pseudonymous=True))
    made.save(Participant(role="employee", name="Lise", slug="lise"))
    walks = made.save(
        Experiment(
            title="Walks",
            objectives=[welfare],
            time_box="2026-01-31T10:00:00[America/Argentina/Buenos_Aires]/P1M",
        )
    )
    made.save(walks.start(at="2026-02-01T00:00:00Z"))
    made.save(Experiment(title="Booking", objectives=[welfare], time_box="P3W"))
    return made


class TestPandas:
    """pandas DataFrames of records and roll-ups, typed."""

    def test_records_have_typed_columns(self, store):
        """Times are aware UTC datetimes, enums categoricals, counts integers."""
        frame = to_pandas(store.query(Experiment, order_by="title"))
        assert list(frame.columns) == [c.name for c in view_columns("experiment")]
        assert str(frame["started_at"].dtype) == "datetime64[us, UTC]"
        assert frame["status"].dtype.name == "category"
        assert "abandoned" in frame["status"].cat.categories
        assert str(frame["revision"].dtype) == "Int64"
        assert frame["time_box_end"].iloc[1] == pd.Timestamp("2026-02-28T13:00:00Z")
        assert frame["time_box_end"].isna().iloc[0]

    def test_measurement_series_in_time_order(self, store):
        """A query of measurements ordered by time is the series, its times in UTC."""
        frame = to_pandas(store.query(Measurement, order_by="measured_at"))
        series = frame.set_index("measured_at")["value"]
        assert series.index.tz is not None
        assert list(series) == [12.0, 23.0, 31.0]
        assert series.index[0] == pd.Timestamp("2026-09-07T16:00:00Z")

    def test_pseudonymous_people_are_masked(self, store):
        """A pseudonymous participant's name and slug are missing."""
        frame = to_pandas(store.query(Participant, order_by="role"))
        assert frame["name"].isna().tolist() == [True, False]
        assert frame["slug"].isna().tolist() == [True, False]

    def test_every_rollup_table(self, store):
        """Each roll-up table is a DataFrame with its documented shape."""
        result = rollup(store, at="2026-10-01T00:00:00Z")
        frames = {table: to_pandas(result, table) for table in TABLES}
        assert sorted(frames["experiments"]["title"]) == ["Booking", "Walks"]
        assert frames["experiments"]["status"].dtype.name == "category"
        assert frames["key_results"]["latest"].tolist() == [31.0]
        assert frames["key_results"]["progress"].tolist() == [31 / 40]
        assert frames["participation"]["objective"].isna().tolist() == [False, True]
        assert len(frames["candidates"]) == 0


class TestPolars:
    """polars DataFrames of records and roll-ups, typed."""

    def test_records_have_typed_columns(self, store):
        """Times are Datetime in UTC, enums Enum, lists List, counts Int64."""
        frame = to_polars(store.query(Experiment, order_by="title"))
        schema = frame.schema
        assert schema["started_at"] == pl.Datetime("us", "UTC")
        assert schema["status"] == pl.Enum(
            ["planned", "running", "concluded", "decided", "abandoned"]
        )
        assert schema["objectives"] == pl.List(pl.String)
        assert schema["revision"] == pl.Int64
        assert frame["time_box_end"][1] == dt.datetime(2026, 2, 28, 13, tzinfo=dt.UTC)

    def test_measurement_series_in_time_order(self, store):
        """A query of measurements ordered by time is the series."""
        frame = to_polars(store.query(Measurement, order_by="measured_at"))
        assert frame["value"].to_list() == [12.0, 23.0, 31.0]
        assert frame["measured_at"][0] == dt.datetime(2026, 9, 7, 16, tzinfo=dt.UTC)

    def test_every_rollup_table(self, store):
        """Each roll-up table is a DataFrame; enums are Enum columns."""
        result = rollup(store, at="2026-10-01T00:00:00Z")
        frames = {table: to_polars(result, table) for table in TABLES}
        assert frames["experiments"].schema["decision"] == pl.Enum(
            ["scale-up", "iterate", "pivot", "stop"]
        )
        assert frames["key_results"]["measurements"].to_list() == [3]
        assert frames["participation"]["participants"].to_list() == [0, 0]

    def test_empty_query_with_a_kind_has_the_columns(self, store):
        """No record, but the kind named: an empty DataFrame with the kind's columns."""
        frame = to_polars(store.query(Experiment, status="abandoned"), kind=Experiment)
        assert frame.height == 0
        assert frame.columns == [c.name for c in view_columns("experiment")]


class TestErrors:
    """Bad sources, and libraries that are not installed, are clear errors."""

    def test_records_of_several_kinds_are_refused(self, store):
        """A DataFrame is of one kind; a mix says so."""
        mixed = [*store.query(Experiment), *store.query(Participant)]
        with pytest.raises(ValidationError, match="one kind"):
            to_pandas(mixed)

    def test_unknown_rollup_table_names_the_tables(self, store):
        """A table a roll-up does not have is refused with the list of tables."""
        with pytest.raises(ValidationError, match="experiments, key_results"):
            to_polars(rollup(store), "people")

    @pytest.mark.parametrize(("library", "make"), [("pandas", to_pandas), ("polars", to_polars)])
    def test_missing_library_names_the_extra(
        self, store, monkeypatch: pytest.MonkeyPatch, library: str, make: Any
    ):
        """Without the library, the error is an ExperimentsError naming the extra."""
        monkeypatch.setitem(sys.modules, library, None)
        with pytest.raises(MissingExtraError, match=r"strategy-experiments\[dataframes\]"):
            make(store.query(Experiment))

    def test_importing_the_library_loads_neither(self):
        """`import experiments` and `import experiments.dataframes` load no DataFrame library."""
        code = (
            "import sys, experiments, experiments.dataframes\n"
            "assert 'pandas' not in sys.modules and 'polars' not in sys.modules\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
