"""A writer killed with SIGKILL at a random moment loses nothing that had returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.testing.crash import run_crash_trial
from reliability_table import Figures

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

TRIALS = 50


def _url(backend: str, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory}/crash.db"
    return f"files:///{directory}/crash"


@pytest.mark.parametrize("backend", ["sqlite", "files"])
def test_sigkill_mid_write_loses_nothing(
    backend: str, tmp_path: Path, reliability: Figures
) -> None:
    """50 kills during saves, updates, batches and purges: every reported write intact."""
    operations = batches = strays = 0
    damaged: list[str] = []
    for trial in range(TRIALS):
        directory = tmp_path / f"trial-{trial}"
        directory.mkdir()
        report = run_crash_trial(_url(backend, directory), seed=trial)
        # A save killed between writing its temporary file and renaming it leaves that
        # file behind: verify() lists it, and it is no damage to any record.
        strays += sum(1 for d in report.damage if "temporary file" in d.problem)
        damage = [d for d in report.damage if "temporary file" not in d.problem]
        if damage:
            damaged.append(f"seed {trial}: {damage}")
        operations += report.operations
        batches += report.batches
    reliability.record(
        "SIGKILL crash trials",
        backend,
        tried=TRIALS,
        failed=len(damaged),
        figures=(
            f"{operations} writes returned before the kills, {batches} batches whole, "
            f"0 lost, 0 partial; {strays} stray temporary files (listed by verify)"
        ),
    )
    assert damaged == []
    assert operations > TRIALS  # the kills came while the writer was busy
    assert batches > 0
