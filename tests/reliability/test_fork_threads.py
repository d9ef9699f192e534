"""One store object shared by threads, and inherited by children of fork().

Threads share a store object on every backend.  Children forked from a process whose
threads have used the store use the store they inherited: SQLite opens connections of
its own there, and no lock a parent's thread held (or was about to take) stays held in
a child.  The JSON directory store may even be forked while those threads write.
SQLite may not: a thread inside SQLite at the moment of the fork may hold one of
SQLite's own locks, which the child can never take (POSIX allows a multi-threaded
child only what is safe in a signal handler; Python 3.12 warns about such forks).  A
PostgreSQL store is opened in each process instead: its pool does not cross a fork.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from experiments import ConflictError, Measurement, Objective, Plugins, connect
from experiments.stores import Store
from reliability_table import Figures

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


class TestThreads:
    """Threads writing, racing and reading through one store object."""

    def test_threads_share_one_store(self, backend_url: str, reliability: Figures) -> None:
        """8 threads: 50 saves each, racing updates on one record, reads meanwhile: all exact."""
        threads, saves = 8, 50
        with connect(backend_url, plugins=Plugins(autoload=False), create=True) as store:
            counter = store.save(Objective(title="Counter", weight=1))
            saved: list[str] = []
            won: list[int] = []
            conflicts: list[int] = []
            errors: list[BaseException] = []
            reads: list[int] = []
            barrier = threading.Barrier(threads)

            def work(number: int) -> None:
                try:
                    barrier.wait()
                    for value in range(saves):
                        saved.append(store.save(Measurement(metric=f"t{number}", value=value)).id)
                        current = store.get(counter.id, Objective)
                        try:
                            store.save(current.evolve(weight=current.weight + 1))
                        except ConflictError:
                            conflicts.append(1)
                        else:
                            won.append(1)
                        reads.append(store.count(Measurement))
                except BaseException as exc:  # noqa: BLE001 - the test reports every failure
                    errors.append(exc)

            workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            assert errors == []
            assert len(set(saved)) == threads * saves
            assert {m.id for m in store.query(Measurement)} == set(saved)
            final = store.get(counter.id, Objective)
            assert final.weight == 1 + len(won)
            assert final.revision == 1 + len(won)
        reliability.record(
            "threads sharing a store",
            backend_url.partition(":")[0],
            tried=threads * saves,
            figures=(
                f"{threads} threads: {threads * saves} saves all there; racing updates: "
                f"{len(won)} kept, conflicts: {len(conflicts)}, lost: 0; {len(reads)} reads"
            ),
        )


def _fork(child: Callable[[], object]) -> tuple[int, int]:
    """Fork; the child runs ``child`` and writes its JSON result to a pipe, then exits."""
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking with threads: on purpose
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(read_end)
            try:
                result: object = child()
            except BaseException:  # noqa: BLE001 - reported to the parent
                result = {"error": traceback.format_exc()}
            os.write(write_end, json.dumps(result).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


class TestFork:
    """Children forked while the parent's threads write, each using the inherited store."""

    @pytest.mark.parametrize(
        ("scheme", "writing"),
        [("sqlite", False), ("files", False), ("files", True)],
        ids=["sqlite", "files", "files-while-writing"],
    )
    def test_children_write_through_the_inherited_store(
        self, scheme: str, writing: bool, tmp_path: Path, reliability: Figures
    ) -> None:
        """4 children forked beside 2 threads using the store write 20 each: all there, once."""
        url = (
            f"sqlite:///{tmp_path}/forked.db"
            if scheme == "sqlite"
            else f"files:///{tmp_path}/forked"
        )
        children, each = 4, 20
        store: Store = connect(url, plugins=Plugins(autoload=False), create=True)
        store.save(Objective(title="Before the fork"))
        stop, go_on = threading.Event(), threading.Event()
        by_threads: list[str] = []

        def write() -> None:
            # Each thread has used the store by now; unless they write through the fork,
            # the threads wait for it to be over.
            by_threads.append(store.save(Measurement(metric="parent", value=0)).id)
            if not writing:
                go_on.wait(60)
            while not stop.is_set():
                by_threads.append(store.save(Measurement(metric="parent", value=1)).id)

        threads = [threading.Thread(target=write) for _ in range(2)]
        for thread in threads:
            thread.start()
        forked = []
        try:
            while len(by_threads) < len(threads):
                stop.wait(0.01)
            for number in range(children):
                if writing:  # fork amid the threads' writes, not between two bursts
                    seen = len(by_threads)
                    while len(by_threads) < seen + 3:
                        stop.wait(0.001)

                def child(number: int = number) -> list[str]:
                    return [
                        store.save(Measurement(metric=f"child-{number}", value=n)).id
                        for n in range(each)
                    ]

                forked.append(_fork(child))
        finally:
            go_on.set()
            stop.set()
            for thread in threads:
                thread.join()
        by_children: list[str] = []
        failures: list[str] = []
        for pid, pipe in forked:
            with os.fdopen(pipe, "rb") as done:
                raw = done.read()
            _, status = os.waitpid(pid, 0)
            result = json.loads(raw) if raw else {"error": "no report"}
            if os.waitstatus_to_exitcode(status) != 0 or isinstance(result, dict):
                failures.append(str(result))
                continue
            by_children += result
        store.save(Objective(title="After the children"))
        store.close()
        with connect(url, plugins=Plugins(autoload=False)) as again:
            stored = {m.id for m in again.query(Measurement)}
            damage = [d for d in again.verify() if "temporary file" not in d.problem]
        assert failures == [], "\n".join(failures)
        assert len(by_children) == children * each
        assert stored == set(by_children) | set(by_threads)
        assert damage == []
        reliability.record(
            "fork while threads write" if writing else "fork beside threads",
            scheme,
            tried=children,
            failed=len(failures),
            figures=(
                f"{children} children x {each} writes, {len(by_threads)} by 2 parent threads: "
                "all there once, verify() clean"
            ),
        )
