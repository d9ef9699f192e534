"""The benchmarks still run, and end with the one JSON line runs are compared by.

Their figures are not checked here (speed is not a test's business); only that each
script works on a tiny programme and prints the keys its issue promised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def last_json_line(*argv: str, cwd: Path) -> dict[str, object]:
    environment = {**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(figures, dict)
    return figures


@pytest.mark.slow
@pytest.mark.parametrize(
    ("script", "arguments", "keys"),
    [
        (
            "bench_logging.py",
            ["--n", "3", "--repeat", "2"],
            [
                "n",
                "store",
                "per_call_objects_per_s",
                "bulk_objects_per_s",
                "raw_per_call_objects_per_s",
                "raw_bulk_objects_per_s",
            ],
        ),
        (
            "bench_rollup.py",
            ["--n", "12", "--repeat", "1"],
            ["n", "store", "rollup_seconds", "peak_rss_mib"],
        ),
        ("bench_cli.py", ["--n", "12", "--repeat", "1"], ["n", "store", "list_median_seconds"]),
    ],
)
def test_store_benchmarks_print_their_figures(
    script: str, arguments: list[str], keys: list[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/bench.db"
    figures = last_json_line(str(BENCHMARKS / script), "--store", url, *arguments, cwd=tmp_path)
    assert set(keys) <= set(figures), sorted(figures)
    assert figures["store"] == url
    assert all(isinstance(figures[k], int | float) for k in keys if k != "store")


@pytest.mark.slow
def test_import_benchmark_prints_its_figures(tmp_path: Path) -> None:
    figures = last_json_line(str(BENCHMARKS / "bench_import.py"), "--runs", "1", cwd=tmp_path)
    assert {"import_experiments_ms", "import_dependencies_ms", "ratio"} <= set(figures)
