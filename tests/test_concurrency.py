"""Several processes writing into one store at once lose nothing and duplicate nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workers
from experiments import Experiment, Measurement, Objective, Plugins, connect
from racing import at_once

WORKERS = Path(__file__).with_name("workers.py")

pytestmark = pytest.mark.slow


def run_at_once(*tasks: list[str], timeout: float = 300) -> list[dict[str, object]]:
    """Start every task as its own process, all released at the same moment."""
    start_at = str(time.time() + 2.0)
    env = {**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKERS), *task, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for task in tasks
    ]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=timeout)
            assert process.returncode == 0, f"worker failed:\n{err}"
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:  # a failure above leaves none running
            process.kill()
            process.communicate()
    return results


@pytest.fixture
def processes(shared_url: str) -> int:
    """How many processes write at once: a shared server is asked for 8."""
    return 8 if shared_url.startswith("postgresql") else 4


class TestManyProcesses:
    """Concurrent processes against one store."""

    def test_parallel_saves_are_all_there(self, shared_url: str, processes: int) -> None:
        """4 (8 on PostgreSQL) processes x 500 saves: every save present, none twice."""
        tasks = [["save_many", shared_url, str(w), "500"] for w in range(processes)]
        results = run_at_once(*tasks)
        reported = [i for r in results for i in r["ids"]]  # type: ignore[attr-defined]
        assert len(reported) == processes * 500
        assert len(set(reported)) == processes * 500
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            stored = [m.id for m in store.query(Measurement)]
            assert sorted(stored) == sorted(reported)
            for worker in range(processes):
                assert store.count(Measurement, metric=f"worker-{worker}") == 500

    def test_racing_updates_lose_nothing(self, shared_url: str, processes: int) -> None:
        """4 (8) processes racing read-modify-save on 10 objects: every lost race a conflict."""
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            shared = [store.save(Objective(title=f"Counter {n}", weight=1)).id for n in range(10)]
        attempts = 150
        results = run_at_once(
            *[
                ["race_updates", shared_url, ",".join(shared), str(attempts), str(w)]
                for w in range(processes)
            ]
        )
        won = {i: sum(r["won"][i] for r in results) for i in shared}  # type: ignore[index]
        conflicts = sum(int(r["conflicts"]) for r in results)  # type: ignore[call-overload]
        assert sum(won.values()) + conflicts == processes * attempts
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            for record_id in shared:
                stored = store.get(record_id, Objective)
                # Each successful save added exactly one: no update was silently lost.
                assert stored.weight == 1 + won[record_id]
                assert stored.revision == 1 + won[record_id]
                assert len(store.history(record_id)) == stored.revision

    def test_a_certain_race_has_one_winner_per_round(self, shared_url: str, processes: int) -> None:
        """All read one revision, then all save at once: one wins each round, the rest conflict."""
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            target = store.save(Objective(title="Raced for", weight=1))
        rounds = 20
        results = at_once(
            workers.race_rounds, *[(shared_url, target.id, rounds) for _ in range(processes)]
        )
        assert sum(r["won"] for r in results) == rounds
        assert sum(r["conflicts"] for r in results) == (processes - 1) * rounds
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            stored = store.get(target.id, Objective)
            assert stored.weight == 1 + rounds
            assert len(store.history(target.id)) == 1 + rounds

    def test_same_slug_is_one_record(self, shared_url: str) -> None:
        """8 processes creating the same slug at once make one experiment."""
        results = run_at_once(*[["same_slug", shared_url, "pop-up-library"] for _ in range(8)])
        assert len({r["id"] for r in results}) == 1
        assert len({r["title"] for r in results}) == 1
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            assert store.count(Experiment) == 1
            assert store.get_by_slug(Experiment, "pop-up-library").revision == 1

    def test_tracking_one_slug_from_many_processes(self, shared_url: str) -> None:
        """8 processes open one experiment by slug and log: one experiment, every measurement."""
        results = run_at_once(
            *[["track_same_slug", shared_url, "shared-run", str(w), "25"] for w in range(8)]
        )
        assert len({r["experiment"] for r in results}) == 1
        reported = {i for r in results for i in r["ids"]}  # type: ignore[attr-defined]
        assert len(reported) == 200
        with connect(shared_url, plugins=Plugins(autoload=False)) as store:
            assert store.count(Experiment) == 1
            experiment = store.get_by_slug(Experiment, "shared-run")
            assert experiment.status.value == "running"
            assert {m.id for m in store.query(Measurement, experiment=experiment.id)} == reported
