"""How long the shell waits for `experiments`, as a ratio to importing the library alone.

A person at a terminal and a cron job both pay for the interpreter, the imports,
opening the store and printing.  The floor is ``python -c "import experiments"``: the
least any command of the library can cost.  In turns, several times a round, fresh
processes run the floor, ``experiments --version`` and ``experiments list experiments``
on a store of N experiments (filled once; a store already holding N is used as it is).

``ratio`` is a command's time over the floor's in the same round, by the wall clock;
``cpu_ratio`` the same by the CPU time the processes took, which other work on a busy
machine disturbs less (a process waiting for a core uses none).  The command is the
``experiments`` script installed next to this Python (``python -m experiments`` when
there is none), as users run it.

    python benchmarks/bench_cli.py
    python benchmarks/bench_cli.py --store sqlite:///cli.db --n 1000

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _measure

import experiments
from experiments import Experiment, Objective, Plugins
from experiments.stores import StoreURL

#: The ratio to the floor each command should stay at or under.
GOALS = {"version": 1.1, "list": 1.3}
RUNS_PER_ROUND = 3


def fill(url: str, n: int) -> None:
    """N experiments in the store, unless it holds N already."""
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        held = store.count(Experiment)
        if held >= n:
            return
        objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
        store.save_all(
            Experiment(
                title=f"Experiment {k}", objectives=[objective], time_box="P4W", owner="Culture"
            )
            for k in range(held, n)
        )


def command() -> list[str]:
    """How users start the command line: the installed script, else ``python -m``."""
    script = Path(sys.executable).parent / "experiments"
    return [str(script)] if script.exists() else [sys.executable, "-m", "experiments"]


def run(argv: list[str], url: str, cpu: list[float] | None = None) -> float:
    """Seconds one fresh process takes (it must succeed); its CPU seconds onto ``cpu``."""
    environment = _measure.process_environment(EXPERIMENTS_STORE=url)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def go() -> None:
        done = subprocess.run(argv, capture_output=True, text=True, env=environment, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")

    seconds = _measure.timed(go)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return seconds


def main() -> None:
    parser = _measure.parser(__doc__)
    parser.add_argument("--n", type=int, help="experiments in the store (default 1000)")
    options = parser.parse_args()
    rounds = _measure.rounds_of(options)
    n = options.n or (12 if options.quick else 1000)
    runs_per_round = 1 if options.quick else RUNS_PER_ROUND
    load_before = _measure.load()
    with tempfile.TemporaryDirectory() as scratch:
        url = options.store or f"sqlite:///{Path(scratch) / 'cli.db'}"
        fill(url, n)
        contenders = {
            "floor": [sys.executable, "-c", "import experiments"],
            "version": [*command(), "--version"],
            "list": [*command(), "list", "experiments"],
        }
        for argv in contenders.values():  # bytecode written, files in the page cache
            run(argv, url)
        cpu: dict[str, list[float]] = {name: [] for name in contenders}
        seconds = _measure.interleaved(
            rounds,
            {
                name: (lambda _, __, argv=argv, spent=cpu[name]: run(argv, url, spent))
                for name, argv in contenders.items()
            },
            runs_per_round,
        )
    cpu_per_round = {
        name: [sum(spent[k : k + runs_per_round]) for k in range(0, len(spent), runs_per_round)]
        for name, spent in cpu.items()
    }
    rows: dict[str, Any] = {
        name: _measure.against_floor(
            seconds[name],
            seconds["floor"],
            work=runs_per_round,
            unit="runs/s",
            goal=GOALS[name],
        )
        for name in ("version", "list")
    }
    for name, row in rows.items():
        row["seconds"] = _measure.spread([s / runs_per_round for s in seconds[name]])
        row["cpu_ratio"] = _measure.spread(
            _measure.ratios(cpu_per_round[name], cpu_per_round["floor"])
        )
    figures = {
        "benchmark": "cli",
        "store": StoreURL.parse(url).redacted,
        "n": n,
        "rounds": rounds,
        "runs_per_round": runs_per_round,
        "command": " ".join(Path(part).name for part in command()),
        "load_before": load_before,
        "load_after": _measure.load(),
        "floor_seconds": _measure.spread([s / runs_per_round for s in seconds["floor"]]),
        **rows,
    }
    version, listing = rows["version"], rows["list"]
    _measure.report(
        figures,
        f"`experiments --version`: {version['ratio']['median']}x the import's time "
        f"({version['ratio']['min']}-{version['ratio']['max']}); "
        f"`experiments list experiments` on {n}: {listing['seconds']['median']}s, "
        f"{listing['ratio']['median']}x ({listing['ratio']['min']}-{listing['ratio']['max']}); "
        f"by CPU time {version['cpu_ratio']['median']}x and {listing['cpu_ratio']['median']}x; "
        f"{rounds} rounds of {runs_per_round}",
    )


if __name__ == "__main__":
    main()
