"""A writer killed with SIGKILL at a random moment loses nothing that had returned."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.testing.crash import run_crash_trial

pytestmark = pytest.mark.slow

TRIALS = 20


def _url(backend: str, directory: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{directory}/crash.db"
    return f"files:///{directory}/crash"


@pytest.mark.parametrize("backend", ["sqlite", "files"])
def test_sigkill_mid_write_loses_nothing(backend: str, tmp_path: Path) -> None:
    """20 kills during saves, updates, batches and purges: every reported write intact."""
    operations = 0
    batches = 0
    for trial in range(TRIALS):
        directory = tmp_path / f"trial-{trial}"
        directory.mkdir()
        report = run_crash_trial(_url(backend, directory), seed=trial)
        # A save killed between writing its temporary file and renaming it leaves that
        # file behind: verify() lists it, and it is no damage to any record.
        damage = [d for d in report.damage if "temporary file" not in d.problem]
        assert damage == [], f"seed {trial}: {damage}"
        operations += report.operations
        batches += report.batches
    assert operations > TRIALS  # the kills came while the writer was busy
    assert batches > 0
