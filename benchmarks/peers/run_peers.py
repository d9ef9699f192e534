"""The same workloads on MLflow and Sacred as on this library, measured in one run.

Run it with the Python of ``benchmarks/peers/.venv`` (``setup.sh`` makes it, with the
pinned peers and this library installed); a peer not installed in the Python running
this is skipped with the reason.  Every figure comes from a fresh process of its own,
the tools taking turns round after round, each logging into a new local store:

``per_call``
    N values logged one call each inside one open run: ``run.measure()``,
    ``mlflow.log_metric()``, Sacred's ``_run.log_scalar()``.  The first two are written
    before the call returns; Sacred keeps them in memory until its heartbeat or the
    end of the run, so its figure is the whole run's and says ``durable_per_call``:
    false.
``unit``
    N units of "open a run, log a value, close it": ``track()`` and ``run.measure()``;
    ``mlflow.start_run()`` and ``log_metric()``; ``ex.run()`` logging a scalar, with a
    ``FileStorageObserver``.
``bulk``
    N values built and written in one batch: ``run.bulk()``; MLflow's ``log_batch()``
    (at most 1,000 metrics a call, its limit).  Sacred has no batch path.
``aggregate``
    What the roll-up is for, over M experiments (runs) and what they hold, in a fresh
    process, import included: our roll-up of the whole strategy against
    ``mlflow.search_runs()`` and a pandas group-by per objective (runs by status,
    verdicts, decisions, mean progress, mean share of external and critical voices).
    Sacred stores runs in files it offers no way to query.
``listing``
    ``experiments list experiments`` against ``mlflow runs list`` on L experiments
    (runs) as whole processes.  Sacred has no listing command.

Memory is each process's own peak (``VmHWM``) in the ``unit`` and ``aggregate``
workloads.  ``ratio`` is the peer's figure over ours in the same round: 10 means we
took a tenth of the peer's time (or memory).

    benchmarks/peers/.venv/bin/python benchmarks/peers/run_peers.py
    benchmarks/peers/.venv/bin/python benchmarks/peers/run_peers.py --quick

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import _measure  # noqa: E402 - the benchmarks' own helpers, found once the path is set

TOOLS = ("ours", "mlflow", "sacred")
METRIC = "families returning"
AT = "2027-01-01T00:00:00Z"
STATUSES = ("planned", "running", "concluded", "decided")
VERDICTS = ("supports", "refutes", "inconclusive")
OUTCOMES = ("scale-up", "iterate", "pivot", "stop")
SIZES = {"per_call": 200, "unit": 20, "bulk": 10_000, "aggregate": 2000, "listing": 1000}
QUICK_SIZES = {"per_call": 5, "unit": 2, "bulk": 20, "aggregate": 20, "listing": 10}


# --- what each child process does: (directory, size) -> figures ---------------------


def _ours_store(directory: Path, name: str = "ours.db") -> Any:
    import experiments  # noqa: PLC0415 - each tool is imported in its own process only

    url = f"sqlite:///{directory / name}"
    return experiments.connect(url, plugins=experiments.Plugins(autoload=False), create=True)


def ours_per_call(directory: Path, n: int) -> dict[str, Any]:
    import experiments  # noqa: PLC0415

    with _ours_store(directory) as store, experiments.track("per-call", store=store) as run:
        return {"seconds": _measure.timed(lambda: [run.measure(METRIC, i) for i in range(n)])}


def ours_unit(directory: Path, n: int) -> dict[str, Any]:
    import experiments  # noqa: PLC0415

    with _ours_store(directory) as store:

        def units() -> None:
            for i in range(n):
                with experiments.track(f"unit-{i}", store=store) as run:
                    run.measure(METRIC, i)

        return {"seconds": _measure.timed(units)}


def ours_bulk(directory: Path, n: int) -> dict[str, Any]:
    import experiments  # noqa: PLC0415

    with _ours_store(directory) as store, experiments.track("bulk", store=store) as run:

        def batch() -> None:
            with run.bulk():
                for i in range(n):
                    run.measure(METRIC, i)

        return {"seconds": _measure.timed(batch)}


def ours_aggregate(directory: Path, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    import experiments  # noqa: PLC0415
    from experiments.rollup import rollup  # noqa: PLC0415

    imported = time.perf_counter()
    url = f"sqlite:///{directory / 'aggregate.db'}"
    with experiments.connect(url, plugins=experiments.Plugins(autoload=False)) as store:
        result = rollup(store, at=AT)
    assert result.total.experiments == n, f"rolled up {result.total.experiments}, not {n}"
    done = time.perf_counter()
    return {"seconds": done - started, "compute_seconds": done - imported}


def ours_setup(directory: Path, sizes: dict[str, int]) -> dict[str, Any]:
    from bench_cli import fill as fill_listing  # noqa: PLC0415
    from bench_rollup import fill as fill_programme  # noqa: PLC0415

    fill_programme(f"sqlite:///{directory / 'aggregate.db'}", sizes["aggregate"])
    url = f"sqlite:///{directory / 'listing.db'}"
    fill_listing(url, sizes["listing"])
    return {"listing": {"EXPERIMENTS_STORE": url}}


def _mlflow(directory: Path, name: str = "mlflow.db") -> Any:
    import mlflow  # noqa: PLC0415

    mlflow.set_tracking_uri(f"sqlite:///{directory / name}")
    return mlflow


def mlflow_per_call(directory: Path, n: int) -> dict[str, Any]:
    mlflow = _mlflow(directory)
    mlflow.set_experiment("per-call")
    with mlflow.start_run():
        return {
            "seconds": _measure.timed(
                lambda: [mlflow.log_metric(METRIC, i, step=i) for i in range(n)]
            )
        }


def mlflow_unit(directory: Path, n: int) -> dict[str, Any]:
    mlflow = _mlflow(directory)
    mlflow.set_experiment("units")

    def units() -> None:
        for i in range(n):
            with mlflow.start_run(run_name=f"unit-{i}"):
                mlflow.log_metric(METRIC, i)

    return {"seconds": _measure.timed(units)}


def mlflow_bulk(directory: Path, n: int) -> dict[str, Any]:
    mlflow = _mlflow(directory)
    from mlflow.entities import Metric  # noqa: PLC0415

    mlflow.set_experiment("bulk")
    client = mlflow.MlflowClient()
    with mlflow.start_run() as run:

        def batch() -> None:
            now = int(time.time() * 1000)
            metrics = [Metric(METRIC, float(i), now, i) for i in range(n)]
            for start in range(0, n, 1000):  # MLflow takes at most 1,000 a call
                client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])

        return {"seconds": _measure.timed(batch)}


def mlflow_aggregate(directory: Path, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    mlflow = _mlflow(directory, "aggregate.db")
    imported = time.perf_counter()
    runs = mlflow.search_runs(experiment_names=["programme"], max_results=100_000)
    assert len(runs) == n, f"read {len(runs)} runs, not {n}"
    by_objective = runs.groupby("tags.objective")
    summary = by_objective.agg(
        experiments=("run_id", "count"),
        progress=("metrics.progress", "mean"),
        external=("metrics.external_share", "mean"),
        critical=("metrics.critical_share", "mean"),
    )
    counts = [
        runs.groupby(["tags.objective", f"tags.{tag}"]).size()
        for tag in ("status", "verdict", "decision")
    ]
    assert int(summary["experiments"].sum()) == n
    assert all(len(count) for count in counts)
    done = time.perf_counter()
    return {"seconds": done - started, "compute_seconds": done - imported}


def mlflow_setup(directory: Path, sizes: dict[str, int]) -> dict[str, Any]:
    mlflow = _mlflow(directory, "aggregate.db")
    from mlflow.entities import Metric, Param, RunTag  # noqa: PLC0415

    chooser = random.Random(7)  # noqa: S311 - test data, not secrets
    client = mlflow.MlflowClient()
    programme = client.create_experiment("programme")
    now = int(time.time() * 1000)
    for number in range(sizes["aggregate"]):
        objective = f"objective-{chooser.randrange(max(1, sizes['aggregate'] // 100))}"
        run = client.create_run(
            programme,
            run_name=f"experiment-{number}",
            tags={
                "objective": objective,
                "status": chooser.choice(STATUSES),
                "verdict": chooser.choice(VERDICTS),
                "decision": chooser.choice(OUTCOMES),
            },
        )
        client.log_batch(
            run.info.run_id,
            metrics=[
                Metric("progress", chooser.uniform(0, 100), now, 0),
                Metric("visits", chooser.randrange(50), now, 0),
                Metric("visits", chooser.randrange(50), now + 1, 1),
                Metric("external_share", chooser.random(), now, 0),
                Metric("critical_share", chooser.random(), now, 0),
            ],
            params=[Param("time_box", chooser.choice(("P2W", "P4W", "P6W")))],
            tags=[RunTag("owner", "Culture")],
        )
        client.set_terminated(run.info.run_id)
    listing = client.create_experiment("listing")
    for number in range(sizes["listing"]):
        run = client.create_run(listing, run_name=f"experiment-{number}")
        client.set_terminated(run.info.run_id)
    return {
        "listing": {"MLFLOW_TRACKING_URI": f"sqlite:///{directory / 'aggregate.db'}"},
        "experiment": listing,
    }


def _sacred(directory: Path, name: str, main: Callable[..., None], **config: Any) -> Any:
    from sacred import Experiment  # noqa: PLC0415
    from sacred.observers import FileStorageObserver  # noqa: PLC0415

    experiment = Experiment(name, save_git_info=False)
    experiment.observers.append(FileStorageObserver(str(directory / "sacred")))
    if config:
        experiment.add_config(**config)
    experiment.main(main)
    return experiment


def sacred_per_call(directory: Path, n: int) -> dict[str, Any]:
    def main(_run: Any) -> None:
        for i in range(n):
            _run.log_scalar(METRIC, i)

    experiment = _sacred(directory, "per_call", main)
    return {"seconds": _measure.timed(experiment.run), "durable_per_call": False}


def sacred_unit(directory: Path, n: int) -> dict[str, Any]:
    def main(_run: Any, number: int) -> None:
        _run.log_scalar(METRIC, number)

    experiment = _sacred(directory, "unit", main, number=0)

    def units() -> None:
        for i in range(n):
            experiment.run(config_updates={"number": i})

    return {"seconds": _measure.timed(units)}


WORKLOADS: dict[str, dict[str, Callable[[Path, int], dict[str, Any]] | str]] = {
    "per_call": {"ours": ours_per_call, "mlflow": mlflow_per_call, "sacred": sacred_per_call},
    "unit": {"ours": ours_unit, "mlflow": mlflow_unit, "sacred": sacred_unit},
    "bulk": {
        "ours": ours_bulk,
        "mlflow": mlflow_bulk,
        "sacred": "Sacred has no batch path: log_scalar() is its one way to log",
    },
    "aggregate": {
        "ours": ours_aggregate,
        "mlflow": mlflow_aggregate,
        "sacred": "Sacred writes runs to files (or MongoDB) and offers no query over them",
    },
}
LISTING_SACRED = "Sacred has no command that lists runs"
SETUPS: dict[str, Callable[[Path, dict[str, int]], dict[str, Any]]] = {
    "ours": ours_setup,
    "mlflow": mlflow_setup,
}
MEMORY = ("unit", "aggregate")


def child(tool: str, task: str, directory: Path, argument: str) -> None:
    """In a fresh process: one workload (or a tool's setup); its figures as JSON."""
    if task == "setup":
        figures = SETUPS[tool](directory, json.loads(argument))
    else:
        work = WORKLOADS[task][tool]
        assert callable(work)
        figures = work(directory, int(argument))
    figures["peak_rss_mib"] = _measure.peak_rss_mib()
    print(json.dumps(figures))


# --- the runner ----------------------------------------------------------------------


def in_child(tool: str, task: str, directory: Path, argument: str) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", tool, task, str(directory), argument],
        capture_output=True,
        text=True,
        check=False,
        env=_measure.process_environment(),
    )
    if done.returncode != 0:
        raise SystemExit(f"{tool} {task} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def installed(wanted: list[str]) -> dict[str, str]:
    """Each tool's version, or why it is skipped."""
    unknown = set(wanted) - set(TOOLS)
    if unknown or "ours" not in wanted:
        raise SystemExit(f"--only takes ours and any of mlflow, sacred; got {','.join(wanted)}")
    found: dict[str, str] = {"ours": importlib.metadata.version("strategy-experiments")}
    for tool in ("mlflow", "sacred"):
        if tool not in wanted:
            found[tool] = "skipped: not asked for (--only)"
        elif importlib.util.find_spec(tool) is None:
            found[tool] = (
                f"skipped: {tool} is not installed in {sys.executable}; run "
                "benchmarks/peers/setup.sh and use benchmarks/peers/.venv/bin/python"
            )
        else:
            found[tool] = importlib.metadata.version(tool)
    return found


def _tool_runs(tools: list[str], run: Callable[[str, int], float]) -> dict[str, Any]:
    return {tool: (lambda number, _, tool=tool: run(tool, number)) for tool in tools}


def measure(scratch: Path, sizes: dict[str, int], rounds: int, tools: list[str]) -> dict[str, Any]:
    """Every workload in turns, round after round; figures by workload and tool."""
    setups = {
        tool: in_child(tool, "setup", scratch / "kept" / tool, json.dumps(sizes))
        for tool in tools
        if tool in SETUPS
    }
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for workload, by_tool in WORKLOADS.items():
        offered = [tool for tool in tools if callable(by_tool[tool])]
        runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in offered}

        def one(tool: str, number: int, workload: str = workload, runs: Any = runs) -> float:
            kept = workload == "aggregate"
            directory = scratch / ("kept" if kept else f"{workload}-{number}") / tool
            figures = in_child(tool, workload, directory, str(sizes[workload]))
            runs[tool].append(figures)
            return float(figures["seconds"])

        _measure.interleaved(rounds, _tool_runs(offered, one))
        results[workload] = runs
    results["listing"] = _listing(setups, rounds)
    return results


def _listing(setups: dict[str, dict[str, Any]], rounds: int) -> dict[str, list[dict[str, Any]]]:
    scripts = Path(sys.executable).parent
    argv = {
        "ours": [str(scripts / "experiments"), "list", "experiments"],
        "mlflow": [
            str(scripts / "mlflow"),
            "runs",
            "list",
            "--experiment-id",
            str(setups.get("mlflow", {}).get("experiment")),
        ],
    }
    commands = {tool: (argv[tool], setup["listing"]) for tool, setup in setups.items()}
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in commands}

    def one(tool: str, _: int) -> float:
        argv, extra = commands[tool]
        environment = _measure.process_environment(**extra)

        def go() -> None:
            done = subprocess.run(
                argv, capture_output=True, text=True, env=environment, check=False
            )
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")

        seconds = _measure.timed(go)
        runs[tool].append({"seconds": seconds})
        return seconds

    listed = list(commands)
    for tool in listed:  # bytecode written, files in the page cache
        one(tool, 0)
        runs[tool].clear()
    _measure.interleaved(rounds, _tool_runs(listed, one))
    return runs


def summarise(
    results: dict[str, dict[str, list[dict[str, Any]]]],
    sizes: dict[str, int],
    found: dict[str, str],
) -> dict[str, Any]:
    """Per workload: our seconds, and each peer's with its ratio to ours (peer / ours)."""
    figures: dict[str, Any] = {}
    for workload, runs in results.items():
        ours = [r["seconds"] for r in runs["ours"]]
        row: dict[str, Any] = {"size": sizes[workload], "ours": {"seconds": _measure.spread(ours)}}
        for peer in ("mlflow", "sacred"):
            offered = WORKLOADS.get(workload, {}).get(
                peer, LISTING_SACRED if peer == "sacred" else ""
            )
            if not found[peer][0].isdigit():
                row[peer] = {"skipped": f"{peer} not measured (see versions)"}
            elif peer not in runs:
                row[peer] = {"skipped": offered}
            else:
                theirs = [r["seconds"] for r in runs[peer]]
                row[peer] = {
                    "seconds": _measure.spread(theirs),
                    "ratio": _measure.spread(_measure.ratios(theirs, ours), 2),
                }
                if any(r.get("durable_per_call") is False for r in runs[peer]):
                    row[peer]["durable_per_call"] = False
        if workload in MEMORY:
            row["ours"]["peak_rss_mib"] = _measure.spread(
                [r["peak_rss_mib"] for r in runs["ours"]], 1
            )
            for peer in ("mlflow", "sacred"):
                if peer in runs:
                    theirs = [r["peak_rss_mib"] for r in runs[peer]]
                    row[peer]["peak_rss_mib"] = _measure.spread(theirs, 1)
                    row[peer]["memory_ratio"] = _measure.spread(
                        _measure.ratios(theirs, [r["peak_rss_mib"] for r in runs["ours"]]), 2
                    )
        figures[workload] = row
    return figures


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        tool, task, directory, argument = sys.argv[2:6]
        child(tool, task, Path(directory), argument)
        return
    parser = _measure.parser(__doc__, store=False)
    parser.add_argument(
        "--only", help=f"the tools to measure, comma-separated (default: {','.join(TOOLS)})"
    )
    options = parser.parse_args()
    rounds = _measure.rounds_of(options)
    sizes = QUICK_SIZES if options.quick else SIZES
    found = installed(options.only.split(",") if options.only else list(TOOLS))
    tools = [tool for tool in TOOLS if found[tool][0].isdigit()]
    load_before = _measure.load()
    with tempfile.TemporaryDirectory() as scratch:
        results = measure(Path(scratch), sizes, rounds, tools)
    workloads = summarise(results, sizes, found)
    figures = {
        "benchmark": "peers",
        "versions": found,
        "python": sys.version.split()[0],
        "rounds": rounds,
        "load_before": load_before,
        "load_after": _measure.load(),
        "workloads": workloads,
    }
    lines = []
    for workload, row in workloads.items():
        for peer in ("mlflow", "sacred"):
            if "ratio" in row[peer]:
                ratio = row[peer]["ratio"]
                lines.append(
                    f"{workload}: {peer} {ratio['median']}x our time "
                    f"({ratio['min']}-{ratio['max']})"
                )
            if "memory_ratio" in row[peer]:
                lines.append(
                    f"{workload}: {peer} {row[peer]['memory_ratio']['median']}x our memory"
                )
    _measure.report(figures, "\n".join(lines) or "no peer installed: ours measured alone")


if __name__ == "__main__":
    main()
