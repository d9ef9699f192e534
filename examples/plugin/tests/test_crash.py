"""A writer killed with SIGKILL at a random moment loses nothing that had returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.testing.crash import run_crash_trial

TRIALS = 20


@pytest.mark.slow
def test_sigkill_mid_write_loses_nothing(tmp_path: Path) -> None:
    """20 kills during saves, updates, batches and purges: every reported write intact."""
    operations = 0
    batches = 0
    for trial in range(TRIALS):
        url = f"jsonl:///{tmp_path}/trial-{trial}.jsonl"
        report = run_crash_trial(url, seed=trial, plugins=["experiments_jsonl"])
        assert report.damage == (), f"seed {trial}: {report.damage}"
        operations += report.operations
        batches += report.batches
    assert operations > TRIALS
    assert batches > 0
