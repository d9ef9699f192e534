"""Commands that move experiments along and log what happened in them."""

from __future__ import annotations

from typing import Any

import click

from experiments.cli.app import (
    Context,
    cli,
    handle_errors,
    json_option,
    pass_context,
    store_options,
)
from experiments.cli.resolve import find
from experiments.cli.text import one_line, shown_data
from experiments.cli.words import SEE
from experiments.model import Experiment, Hypothesis, KeyResult, Participant, Record
from experiments.tracking import Run

__all__: list[str] = []

_AT = click.option("--at", metavar="TIME", help="when it happened (ISO 8601; default now)")


def _run(state: Context, experiment: str) -> Run:
    store = state.store()
    return Run(store, find(store, experiment, Experiment), by=state.actor)


def _done(state: Context, record: Record, verb: str) -> None:
    state.emit(shown_data(record), lambda: f"{verb} {one_line(record)}")


@cli.command()
@click.argument("experiment")
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def start(state: Context, experiment: str, at: str | None) -> None:
    """Start a planned EXPERIMENT (its time box starts now, or at --at)."""
    _done(state, _run(state, experiment).move("start", at=at), "started")


@cli.command()
@click.argument("experiment")
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def conclude(state: Context, experiment: str, at: str | None) -> None:
    """Conclude a running EXPERIMENT: the test is over; learn and decide next."""
    _done(state, _run(state, experiment).move("conclude", at=at), "concluded")


@cli.command()
@click.argument("experiment")
@click.argument("outcome", type=click.Choice(["scale-up", "iterate", "pivot", "stop"]))
@click.option("--rationale", default="", help="why")
@click.option("--decided-by", help="who decided")
@click.option("--next-step", "next_steps", multiple=True, help="what happens next (repeat)")
@click.option(
    "--revise",
    is_flag=True,
    help="change the decision in force (give --rationale: why it no longer holds)",
)
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def decide(
    state: Context,
    experiment: str,
    outcome: str,
    rationale: str,
    decided_by: str | None,
    next_steps: tuple[str, ...],
    revise: bool,
    at: str | None,
) -> None:
    """Decide what follows a concluded EXPERIMENT: scale-up, iterate, pivot or stop.

    A decided experiment keeps its decision; to change it, decide again with --revise
    and a --rationale: the earlier decision stays in the record of what was decided when.
    """
    run = _run(state, experiment)
    decision = run.decide(
        outcome,
        rationale=rationale,
        decided_by=decided_by,
        next_steps=next_steps,
        at=at,
        revise=revise,
    )
    state.emit(
        {"experiment": shown_data(run.experiment), "decision": shown_data(decision)},
        lambda: f"decided {one_line(run.experiment)}: {decision.outcome.value}",
    )


@cli.command()
@click.argument("experiment")
@click.option("--reason", required=True, help="why it is abandoned")
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def abandon(state: Context, experiment: str, reason: str, at: str | None) -> None:
    """Abandon a planned or running EXPERIMENT, saying why."""
    _done(state, _run(state, experiment).move("abandon", reason=reason, at=at), "abandoned")


@cli.command()
@click.argument("metric")
@click.argument("value", type=float)
@click.option(
    "--experiment",
    metavar="EXPERIMENT",
    help=f"the experiment it was measured in: its id or slug ({SEE['experiment']})",
)
@click.option("--unit", help="e.g. families")
@click.option(
    "--participant",
    metavar="PARTICIPANT",
    help=f"whose value it is: their id or slug ({SEE['participant']})",
)
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def measure(
    state: Context,
    metric: str,
    value: float,
    experiment: str | None,
    unit: str | None,
    participant: str | None,
    at: str | None,
) -> None:
    """Log VALUE for METRIC: a key result (by id or slug) or any metric name.

    \b
    experiments measure families-in-culture 31 --at 2026-10-05T18:00:00+02:00
    experiments measure "families returning" 17 --experiment art-for-families
    """
    store = state.store()
    person = find(store, participant, Participant).id if participant else None
    if experiment is not None:
        record = _run(state, experiment).measure(
            metric, value, at=at, unit=unit, participant=person
        )
    else:
        from experiments.model import Measurement  # noqa: PLC0415
        from experiments.tracking import key_result_named  # noqa: PLC0415

        target = key_result_named(store, metric) or metric
        fields: dict[str, Any] = (
            {"key_result": target.id, "metric": target.metric, "unit": unit or target.unit}
            if isinstance(target, KeyResult)
            else {"metric": target, "unit": unit}
        )
        extra: dict[str, Any] = {} if at is None else {"measured_at": at}
        record = store.save(Measurement(value=value, participant=person, **fields, **extra))
    _done(state, record, "measured")


@cli.command()
@click.argument("experiment")
@click.argument("observation")
@click.option(
    "--hypothesis",
    metavar="ID",
    help=f"the hypothesis it bears on: its id or slug ({SEE['hypothesis']})",
)
@click.option(
    "--verdict",
    type=click.Choice(["supports", "refutes", "inconclusive"]),
    help="needed with --hypothesis",
)
@click.option(
    "--evidence",
    type=click.Choice(["weak", "moderate", "strong"]),
    default="weak",
    show_default=True,
)
@click.option("--insight", default="", help="what it means")
@click.option(
    "--participant",
    "participants",
    multiple=True,
    metavar="PARTICIPANT",
    help=f"whose voice it rests on: their id or slug ({SEE['participant']}; repeat)",
)
@click.option("--next-action", default="", help="what will be done about it")
@_AT
@store_options
@json_option
@pass_context
@handle_errors
def learn(
    state: Context,
    experiment: str,
    observation: str,
    hypothesis: str | None,
    verdict: str | None,
    evidence: str,
    insight: str,
    participants: tuple[str, ...],
    next_action: str,
    at: str | None,
) -> None:
    """Record a learning in EXPERIMENT: what was observed, and the verdict on a hypothesis.

    EXPERIMENT is an id or slug (see `experiments list experiments`); `experiments show
    EXPERIMENT` lists its hypotheses with the ids --hypothesis takes.

    \b
    experiments learn art-for-families "17 families came back twice" \\
        --hypothesis ID --verdict supports --evidence strong --participant parent-3
    """
    run = _run(state, experiment)
    store = run.store
    learning = run.learn(
        observation,
        hypothesis=find(store, hypothesis, Hypothesis) if hypothesis else None,
        verdict=verdict,
        evidence=evidence,
        insight=insight,
        participants=[find(store, p, Participant) for p in participants],
        next_action=next_action,
        at=at,
    )
    _done(state, learning, "learned")
