"""Where the time goes: cProfile of saves one call each, and of the whole roll-up.

Profiles two things on SQLite stores:

``save``
    N experiments' worth of objects (``_workload.py``) saved one call each into a new
    store, the objects built before profiling starts.
``rollup``
    The roll-up of the whole strategy on a store of M experiments (filled as
    ``bench_rollup.py`` fills it, or used as it is when it holds M already), after the
    store is open.

For each, the functions that take most of the time themselves (``own``) are listed
with their share of the total, and the library's functions that take most in all
(``cumulative``).  Profiling slows Python code more than SQLite's, so shares are a map
of the costs, not a measurement of them: the benchmarks measure.

    python benchmarks/profile_costs.py
    python benchmarks/profile_costs.py --store "sqlite:///rollup-{n}.db" --rollup-n 10000

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import cProfile
import pstats
import tempfile
from pathlib import Path
from typing import Any

import _measure
from _workload import programme
from bench_rollup import AT, fill

import experiments
from experiments import Plugins
from experiments.rollup import rollup

TOP = 12


def _name(function: tuple[str, int, str]) -> str:
    """``experiments/stores/sqlite.py:413 _commit``, or a built-in's own name."""
    path, line, name = function
    if path == "~":
        return name
    parts = Path(path).parts
    start = parts.index("experiments") if "experiments" in parts else len(parts) - 1
    return f"{'/'.join(parts[start:])}:{line} {name}"


def costs(profile: cProfile.Profile) -> dict[str, Any]:
    """The profile's top functions by own time, and the library's by cumulative time."""
    stats: Any = pstats.Stats(profile)
    total = stats.total_tt
    rows = [
        {
            "function": _name(function),
            "calls": calls,
            "own_seconds": round(own, 4),
            "own_share": round(own / total, 3),
            "cumulative_seconds": round(cumulative, 4),
            "cumulative_share": round(cumulative / total, 3),
        }
        for function, (_, calls, own, cumulative, _) in stats.stats.items()
    ]
    library = [r for r in rows if r["function"].startswith("experiments/")]
    return {
        "total_seconds": round(total, 3),
        "own": sorted(rows, key=lambda r: -r["own_seconds"])[:TOP],
        "cumulative": sorted(library, key=lambda r: -r["cumulative_seconds"])[:TOP],
    }


def profile_saves(scratch: Path, n: int) -> dict[str, Any]:
    records = programme(n, "profile")
    url = f"sqlite:///{scratch / 'save.db'}"
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
        for record in programme(1, "warm-up"):
            store.save(record)
        profile = cProfile.Profile()
        profile.enable()
        for record in records:
            store.save(record)
        profile.disable()
    return {"objects": len(records), **costs(profile)}


def profile_rollup(url: str, n: int) -> dict[str, Any]:
    fill(url, n)
    with experiments.connect(url, plugins=Plugins(autoload=False), create=False) as store:
        profile = cProfile.Profile()
        profile.enable()
        result = rollup(store, at=AT)
        profile.disable()
    assert result.total.experiments == n, f"rolled up {result.total.experiments}, not {n}"
    return {"experiments": n, **costs(profile)}


def _table(title: str, rows: list[dict[str, Any]], share: str) -> str:
    lines = [title]
    lines += [f"  {r[share]:6.1%}  {r['calls']:>8}  {r['function']}" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = _measure.parser(__doc__)
    parser.add_argument("--n", type=int, help="experiments saved one call each (default 100)")
    parser.add_argument("--rollup-n", type=int, help="experiments rolled up (default 10000)")
    options = parser.parse_args()
    n = options.n or (2 if options.quick else 100)
    rollup_n = options.rollup_n or (20 if options.quick else 10_000)
    with tempfile.TemporaryDirectory() as scratch:
        pattern = options.store or f"sqlite:///{Path(scratch) / 'rollup-{n}.db'}"
        figures = {
            "benchmark": "profile",
            "load_before": _measure.load(),
            "save": profile_saves(Path(scratch), n),
            "rollup": profile_rollup(pattern.replace("{n}", str(rollup_n)), rollup_n),
            "load_after": _measure.load(),
        }
    _measure.report(
        figures,
        "\n".join(
            [
                _table(f"save, own time of {figures['save']['total_seconds']}s:",
                       figures["save"]["own"], "own_share"),
                _table("save, the library's cumulative time:",
                       figures["save"]["cumulative"], "cumulative_share"),
                _table(f"roll-up, own time of {figures['rollup']['total_seconds']}s:",
                       figures["rollup"]["own"], "own_share"),
                _table("roll-up, the library's cumulative time:",
                       figures["rollup"]["cumulative"], "cumulative_share"),
            ]
        ),
    )  # fmt: skip


if __name__ == "__main__":
    main()
