"""The reliability suite's summary table: what each test tried, and what it found.

A test of the suite asks for the ``reliability`` fixture and records a row per backend
(``reliability.record("racing updates", "sqlite", tried=..., failed=...,
figures="...")``); the rows travel with the test reports (across pytest-xdist workers
too) and are printed as one table at the end of the run.
"""

from __future__ import annotations

from typing import Any, Final

import pytest

KEY: Final = "reliability"
COLUMNS: Final = ("test", "backend", "tried", "passed", "failed", "figures")


class Figures:
    """Rows of the table for one test."""

    def __init__(self, node: pytest.Item) -> None:
        self._node = node

    def record(
        self,
        test: str,
        backend: str,
        *,
        tried: int,
        failed: int = 0,
        figures: str = "",
    ) -> None:
        """Add a row: ``tried`` cases, of which ``failed`` broke a promise and the rest kept all."""
        row = {
            "test": test,
            "backend": backend,
            "tried": tried,
            "passed": tried - failed,
            "failed": failed,
            "figures": figures,
        }
        self._node.user_properties.append((KEY, row))


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Figures:
    """Where a reliability test records its figures for the summary table."""
    assert isinstance(request.node, pytest.Item)
    return Figures(request.node)


class _Table:
    """Collects the rows from every test report and prints them at the end."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.rows += [value for name, value in report.user_properties if name == KEY]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.rows:
            return
        rows = sorted(self.rows, key=lambda row: (row["test"], row["backend"]))
        text = [[str(row[column]) for column in COLUMNS] for row in rows]
        widths = [max(len(column), *(len(r[i]) for r in text)) for i, column in enumerate(COLUMNS)]
        right = {"tried", "passed", "failed"}

        def line(cells: list[str]) -> str:
            return " | ".join(
                cell.rjust(width) if column in right else cell.ljust(width)
                for cell, width, column in zip(cells, widths, COLUMNS, strict=True)
            ).rstrip()

        terminalreporter.write_sep("=", "reliability summary")
        terminalreporter.write_line(line(list(COLUMNS)))
        terminalreporter.write_line("-+-".join("-" * width for width in widths))
        for cells in text:
            terminalreporter.write_line(line(cells))
        failed = sum(int(row["failed"]) for row in rows)
        tried = sum(int(row["tried"]) for row in rows)
        terminalreporter.write_line(f"{len(rows)} rows, {tried} cases tried, {failed} failed")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Table(), "reliability-table")
