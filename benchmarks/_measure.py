"""What every benchmark shares: interleaved rounds, their spread, memory, the JSON line.

A benchmark compares the library with its floor (the least any program must do for the
same result) in the same run: the two take turns, round after round, so that a busy
machine slows both alike, and each round gives one ratio.  The figures are the median
and the range (min-max) of those ratios, never a single best run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: Rounds each benchmark runs unless told otherwise; at least five give a median and a range.
ROUNDS = 5
#: Rounds in ``--quick`` mode, which only shows that a benchmark works.
QUICK_ROUNDS = 2


def parser(description: str, *, store: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--rounds``, ``--quick`` and, if any, ``--store``."""
    made = argparse.ArgumentParser(description=description.split("\n\n", 1)[0])
    if store:
        made.add_argument(
            "--store",
            help="store URL (default: a SQLite file in a temporary directory)",
        )
    made.add_argument("--rounds", type=int, help=f"interleaved rounds (default {ROUNDS})")
    made.add_argument(
        "--quick",
        action="store_true",
        help=f"a tiny programme and {QUICK_ROUNDS} rounds: shows the benchmark works",
    )
    return made


def rounds_of(options: argparse.Namespace) -> int:
    """The rounds asked for (``--quick`` lowers the default), at least one."""
    rounds: int = options.rounds or (QUICK_ROUNDS if options.quick else ROUNDS)
    if rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    return rounds


def interleaved(
    rounds: int, contenders: Mapping[str, Callable[[int, int], float]], slices: int = 1
) -> dict[str, list[float]]:
    """Run each contender in turns, ``slices`` times a round; its seconds per round.

    Each contender is called with the round's and the slice's number and returns the
    seconds that slice took.  Turns are as short as a slice (one experiment's objects,
    one unit), so a burst of a neighbour's disk traffic falls on both sides alike, and
    who goes first rotates every slice.
    """
    names = list(contenders)
    figures: dict[str, list[float]] = {name: [] for name in names}
    turn = 0
    for number in range(rounds):
        totals = dict.fromkeys(names, 0.0)
        for piece in range(slices):
            shift = turn % len(names)
            turn += 1
            for name in names[shift:] + names[:shift]:
                totals[name] += contenders[name](number, piece)
        for name in names:
            figures[name].append(totals[name])
    return figures


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    """Median and range of a figure over rounds."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """The ratio of each round's pair: rounds are compared with themselves only."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def against_floor(
    ours: Sequence[float],
    floor: Sequence[float],
    *,
    work: float,
    unit: str,
    goal: float | None,
) -> dict[str, Any]:
    """One row of the table: our seconds and the floor's over rounds, as rates and a ratio.

    ``work`` is what each round did (objects saved, units logged) and ``unit`` names
    its rate; ``ratio`` is how many times longer we took than the floor in the same
    round, and ``goal`` the ratio to stay at or under (None: no goal yet).
    """
    per_round = ratios(ours, floor)
    row: dict[str, Any] = {
        "work_per_round": work,
        "unit": unit,
        "ours": spread([work / s for s in ours], 1),
        "floor": spread([work / s for s in floor], 1),
        "ratio": spread(per_round, 3),
        "goal_ratio": goal,
    }
    if goal is not None:
        row["meets_goal"] = statistics.median(per_round) <= goal
    return row


def load() -> list[float]:
    """The machine's load averages (1, 5, 15 minutes): how busy it was while measuring."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - a platform without load averages
        return []


def python_speed(additions: int = 10_000_000, tries: int = 3) -> float:
    """Seconds this machine's Python takes for ``additions`` additions in a loop, at best.

    A yardstick for figures that have no floor to be measured against in the same
    rounds (the roll-up's seconds): the same code takes twice as long on a machine, or
    at an hour, where this takes twice as long.  The loop runs as a script's top level
    runs it (its names global), as ``python -c`` does; the least of ``tries`` runs.
    """
    loop = compile(
        "total = 0\nfor number in range(additions):\n    total += number", "loop", "exec"
    )
    best = float("inf")
    for _ in range(tries):
        names = {"additions": additions}
        started = time.perf_counter()
        exec(loop, names)  # noqa: S102 - our own constant code
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def peak_rss_mib() -> float:
    """This process's own peak resident memory, in MiB.

    Linux's ``VmHWM`` belongs to the process's address space, made new by ``exec``;
    ``ru_maxrss`` is not: a child started from a large process inherits its parent's
    high-water mark, which is how a benchmark once reported the filling parent's memory
    as the roll-up's.  Elsewhere ``ru_maxrss`` is the best there is.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mib() -> float:
    """This process's resident memory now, in MiB (0.0 where the system does not say)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes, by the wall clock (a disk's wait counts)."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def process_environment(**extra: str) -> dict[str, str]:
    """The environment for measured child processes: no stray plugins, bytecode as installed."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    environment["EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    environment.update(extra)
    return environment


def report(figures: Mapping[str, Any], summary: str) -> None:
    """Print a sentence for people, then the one JSON line scripts read (always last)."""
    print(summary)
    print(json.dumps(figures))
