"""The benchmarks still run, end with the JSON line runs are compared by, and stay fair.

Their figures are not checked here (speed is not a test's business): only that each
script works on a tiny programme (``--quick``) and prints what it promises, that its
floor writes what the store writes, and that memory is the measured process's own.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import Plugins
from experiments.stores import StoreURL

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def last_json_line(*argv: str, cwd: Path) -> dict[str, Any]:
    environment = {**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(figures, dict)
    return figures


def assert_spread(figure: dict[str, float]) -> None:
    """A figure over rounds: its median within its range."""
    assert set(figure) == {"median", "min", "max"}, figure
    assert figure["min"] <= figure["median"] <= figure["max"], figure


def assert_row(row: dict[str, Any]) -> None:
    """One measure against its floor: rates and a ratio, each a median and a range."""
    assert_spread(row["ratio"])
    assert_spread(row["ours"])
    assert_spread(row["floor"])
    assert "goal_ratio" in row


@pytest.fixture
def bench_path() -> Any:
    """The benchmarks' directory on the import path, for their helpers."""
    sys.path.insert(0, str(BENCHMARKS))
    yield
    sys.path.remove(str(BENCHMARKS))


@pytest.mark.slow
class TestLoggingBenchmark:
    def test_sqlite_measures_every_row_against_its_floor(self, tmp_path: Path) -> None:
        """Per call, bulk and track()+measure() each come with a ratio to the floor."""
        url = f"sqlite:///{tmp_path}/bench.db"
        figures = last_json_line(
            str(BENCHMARKS / "bench_logging.py"), "--quick", "--store", url, cwd=tmp_path
        )
        assert figures["store"] == url
        assert figures["rounds"] == 2
        for name in ("per_call", "bulk", "track_measure"):
            assert_row(figures[name])
        assert figures["per_call"]["goal_ratio"] == 1.3
        assert figures["rows_written"]["records"] > 0
        assert not list(tmp_path.glob("bench-floor.db*")), "the floor's file is left behind"

    def test_default_store_is_a_temporary_sqlite_file(self, tmp_path: Path) -> None:
        """Without --store the benchmark runs on SQLite in a directory it removes."""
        figures = last_json_line(
            str(BENCHMARKS / "bench_logging.py"), "--quick", "--rounds", "1", cwd=tmp_path
        )
        assert figures["store"].startswith("sqlite:///")
        assert not Path(StoreURL.parse(figures["store"]).file_path).exists()

    @pytest.mark.postgres
    def test_postgresql_against_raw_psycopg(
        self, tmp_path: Path, postgres_url: Callable[..., str]
    ) -> None:
        """On PostgreSQL the floor is raw psycopg on a schema of its own, dropped after."""
        url = postgres_url()
        figures = last_json_line(
            str(BENCHMARKS / "bench_logging.py"), "--quick", "--store", url, cwd=tmp_path
        )
        for name in ("per_call", "bulk", "track_measure"):
            assert_row(figures[name])
        assert figures["bulk"]["goal_ratio"] == 2.0
        assert "***" in figures["store"]


class TestFloor:
    def test_floor_fills_the_columns_the_store_fills(self, tmp_path: Path, bench_path: Any) -> None:
        """For every kind, the floor's records rows hold values in the store's columns."""
        from _floor import SQLiteFloor  # noqa: PLC0415 - found on the benchmarks' path
        from _workload import programme, raw_programme, templates  # noqa: PLC0415

        url = StoreURL.parse(f"sqlite:///{tmp_path}/store.db")
        with experiments.connect(url.raw, plugins=Plugins(autoload=False), create=True) as store:
            store.save_all(programme(2, "store"))
        floor = SQLiteFloor(url)
        try:
            floor.save_many(raw_programme(2, "floor", templates()))
            floor_columns = filled_columns(floor.path)
        finally:
            floor.close()
        assert filled_columns(tmp_path / "store.db") == floor_columns

    def test_floor_writes_each_object_in_a_transaction_of_its_own(
        self, tmp_path: Path, bench_path: Any
    ) -> None:
        """One object saved by the floor is one records row and one versions row."""
        from _floor import SQLiteFloor  # noqa: PLC0415
        from _workload import raw_programme, templates  # noqa: PLC0415

        floor = SQLiteFloor(StoreURL.parse(f"sqlite:///{tmp_path}/store.db"))
        try:
            for data in raw_programme(1, "one", templates()):
                floor.save_one(data)
            assert floor.rows() == {"records": 12, "versions": 12}
        finally:
            floor.close()


def filled_columns(path: Path) -> dict[str, set[str]]:
    """Per kind, the columns of ``records`` that hold a value in some row."""
    connection = sqlite3.connect(path)
    try:
        cursor = connection.execute("SELECT * FROM records")
        names = [d[0] for d in cursor.description]
        filled: dict[str, set[str]] = {}
        for row in cursor:
            values = dict(zip(names, row, strict=True))
            filled.setdefault(values["kind"], set()).update(
                name for name, value in values.items() if value is not None
            )
        return filled
    finally:
        connection.close()


class TestMeasure:
    def test_turns_rotate_so_no_contender_always_goes_first(self, bench_path: Any) -> None:
        """Who goes first changes every slice, and each round sums its slices."""
        import _measure  # noqa: PLC0415

        order: list[str] = []

        def contender(name: str) -> Callable[[int, int], float]:
            def run(number: int, piece: int) -> float:
                order.append(name)
                return float(number + piece)

            return run

        figures = _measure.interleaved(2, {"a": contender("a"), "b": contender("b")}, slices=2)
        assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
        assert figures == {"a": [1.0, 3.0], "b": [1.0, 3.0]}

    def test_ratio_is_taken_round_by_round(self, bench_path: Any) -> None:
        """Each round's ratio pairs that round's times; the spread is over rounds."""
        import _measure  # noqa: PLC0415

        row = _measure.against_floor([2.0, 3.0, 8.0], [1.0, 2.0, 2.0], work=10, unit="x/s", goal=2)
        assert row["ratio"] == {"median": 2.0, "min": 1.5, "max": 4.0}
        assert row["meets_goal"] is True

    @pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux's /proc only")
    def test_a_childs_peak_memory_is_its_own(self, tmp_path: Path) -> None:
        """A small child of a large parent reports its own peak, not the parent's."""
        script = (
            "import subprocess, sys\n"
            "big = bytearray(200 * 1024 * 1024)\n"
            "big[::4096] = b'x' * len(big[::4096])\n"
            "code = 'import _measure; print(_measure.peak_rss_mib())'\n"
            "print(subprocess.run([sys.executable, '-c', code], capture_output=True,\n"
            "      text=True, check=True, cwd=sys.argv[1]).stdout.strip())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(BENCHMARKS)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert float(done.stdout.strip()) < 100


@pytest.mark.slow
class TestOtherBenchmarks:
    def test_rollup_reports_its_own_process_per_size(self, tmp_path: Path) -> None:
        """Each size gets times and peak memory of its fresh roll-up process, and linearity."""
        pattern = f"sqlite:///{tmp_path}/rollup-{{n}}.db"
        figures = last_json_line(
            str(BENCHMARKS / "bench_rollup.py"), "--quick", "--store", pattern, cwd=tmp_path
        )
        small, large = figures["sizes"]["20"], figures["sizes"]["40"]
        for row in (small, large):
            for key in ("seconds", "rollup_seconds", "process_seconds", "peak_rss_mib"):
                assert_spread(row[key])
            assert row["filled"] is True
        assert_spread(large["linearity"])
        loop = figures["python_loop"]
        assert loop["additions"] == 1_000_000
        assert 0 < loop["seconds_before"] < 60
        assert 0 < loop["seconds_after"] < 60
        again = last_json_line(
            str(BENCHMARKS / "bench_rollup.py"), "--quick", "--rounds", "1", "--store",
            pattern, cwd=tmp_path,
        )  # fmt: skip
        assert again["sizes"]["20"]["filled"] is False, "a filled store is used as it is"

    def test_rollup_needs_a_store_per_size(self, tmp_path: Path) -> None:
        """Several sizes and a URL without {n} is refused, saying what to write."""
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / "bench_rollup.py"), "--quick", "--store",
             f"sqlite:///{tmp_path}/one.db"],
            capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode != 0
        assert "{n}" in done.stderr

    def test_cli_against_importing_the_library(self, tmp_path: Path) -> None:
        """--version and list each come with a ratio to `python -c "import experiments"`,
        by the wall clock and by CPU time."""
        url = f"sqlite:///{tmp_path}/cli.db"
        figures = last_json_line(
            str(BENCHMARKS / "bench_cli.py"), "--quick", "--store", url, cwd=tmp_path
        )
        assert figures["store"] == url
        for name in ("version", "list"):
            assert_row(figures[name])
            assert_spread(figures[name]["seconds"])
            assert_spread(figures[name]["cpu_ratio"])

    def test_import_against_its_dependencies(self, tmp_path: Path) -> None:
        """The import costs a ratio of the dependencies' import."""
        figures = last_json_line(str(BENCHMARKS / "bench_import.py"), "--quick", cwd=tmp_path)
        assert_spread(figures["ratio"])
        assert_spread(figures["import_experiments_ms"])

    def test_model_builds_records(self, tmp_path: Path) -> None:
        """Building each kind of record costs microseconds a record, over rounds."""
        figures = last_json_line(str(BENCHMARKS / "bench_model.py"), "--quick", cwd=tmp_path)
        assert_spread(figures["experiment_us"])
        assert_spread(figures["measurement_us"])

    def test_profile_lists_top_costs(self, tmp_path: Path) -> None:
        """The profile names the costliest functions of saving and of the roll-up."""
        figures = last_json_line(str(BENCHMARKS / "profile_costs.py"), "--quick", cwd=tmp_path)
        for part in ("save", "rollup"):
            assert figures[part]["own"], part
            assert all(row["function"].startswith("experiments/") for row in
                       figures[part]["cumulative"])  # fmt: skip

    def test_peers_without_peers_measures_ours_alone(self, tmp_path: Path) -> None:
        """Peers not asked for are skipped with the reason; our side is still measured."""
        figures = last_json_line(
            str(BENCHMARKS / "peers" / "run_peers.py"), "--quick", "--only", "ours", cwd=tmp_path
        )
        workloads = figures["workloads"]
        assert set(workloads) == {"per_call", "unit", "bulk", "aggregate", "listing"}
        for row in workloads.values():
            assert_spread(row["ours"]["seconds"])
            assert "skipped" in row["mlflow"]
            assert "skipped" in row["sacred"]

    def test_all_prints_the_table_and_skips_postgresql_without_a_server(
        self, tmp_path: Path
    ) -> None:
        """Every row is measured in turn; without --postgres that row says why it is missing."""
        done = subprocess.run(
            [sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--rounds", "1"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert {"logging", "rollup", "cli", "postgresql"} <= set(figures)
        assert "no PostgreSQL server given" in figures["postgresql"]["skipped"]
        assert "| per-call save |" in done.stdout
        assert "s; by CPU time " in done.stdout  # the command line's rows say both
        assert "| PostgreSQL per call and bulk | raw psycopg | skipped" in done.stdout
