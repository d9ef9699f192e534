"""Processes released together by a barrier, so that a race is certain, not hoped for.

``at_once(task, args_a, args_b, ...)`` starts one process per argument tuple; each calls
``task(barrier, *args)``, and the task waits at ``barrier`` right before the step that
races (more than once, for rounds).  Tasks live in ``workers.py`` (processes are
spawned, so they import them afresh).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import traceback
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any

CONTEXT = multiprocessing.get_context("spawn")


def at_once(
    task: Callable[..., Any], *arguments: tuple[Any, ...], timeout: float = 300
) -> list[Any]:
    """What ``task`` returned in each process, in the order of ``arguments``."""
    barrier = CONTEXT.Barrier(len(arguments), timeout=timeout)
    results: Any = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(target=_run, args=(task, index, barrier, args, results))
        for index, args in enumerate(arguments)
    ]
    for process in processes:
        process.start()
    found: dict[int, Any] = {}
    failures: list[str] = []
    try:
        for _ in processes:
            try:
                index, outcome, value = results.get(timeout=timeout)
            except queue.Empty:
                failures.append(f"no answer within {timeout}s")
                break
            if outcome == "error":
                failures.append(value)
            found[index] = value
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()
    assert not failures, "\n".join(failures)
    return [found[index] for index in range(len(arguments))]


def _run(
    task: Callable[..., Any], index: int, barrier: Barrier, args: tuple[Any, ...], results: Any
) -> None:
    try:
        value = task(barrier, *args)
    except BaseException:  # noqa: BLE001 - every failure goes back to the test
        with contextlib.suppress(Exception):
            barrier.abort()  # nobody waits for a process that is gone
        results.put((index, "error", traceback.format_exc()))
    else:
        results.put((index, "ok", value))
