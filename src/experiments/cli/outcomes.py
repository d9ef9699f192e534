"""Commands that move experiments along and log what happened in them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from experiments.cli.app import (
    Context,
    Number,
    at_option,
    cli,
    record_option,
    repeated_option,
    store_command,
)
from experiments.cli.kinds import EnumChoice, default_of
from experiments.cli.resolve import find
from experiments.cli.text import one_line, shown_data
from experiments.errors import ValidationError
from experiments.model import (
    Evidence,
    Experiment,
    Hypothesis,
    KeyResult,
    Learning,
    NextStep,
    Outcome,
    Participant,
    Verdict,
)
from experiments.tracking import Run

if TYPE_CHECKING:
    from pendulum import DateTime

__all__: list[str] = []

_AT = at_option("when it happened")


def _run(state: Context, experiment: str) -> Run:
    store = state.store()
    return Run(store, find(store, experiment, Experiment), by=state.actor)


def _move_command(move: str, done: str, help: str) -> None:  # noqa: A002 - click's word
    """`experiments MOVE EXPERIMENT [--at]`: a move that needs nothing but its moment."""

    @cli.command(move, help=help)
    @click.argument("experiment")
    @_AT
    @store_command
    def command(state: Context, experiment: str, at: DateTime | None) -> None:
        state.wrote(_run(state, experiment).move(move, at=at), done)


_move_command(
    "start", "started", "Start a planned EXPERIMENT (its time box starts now, or at --at)."
)
_move_command(
    "conclude",
    "concluded",
    "Conclude a running EXPERIMENT: the test is over; learn and decide next.",
)


@cli.command()
@click.argument("experiment")
@click.argument("outcome", type=EnumChoice(Outcome))
@click.option("--rationale", default="", help="why")
@click.option("--decided-by", help="who decided")
@repeated_option(
    "--next-step",
    "next_steps",
    help="what happens next; give each an owner and a due date with `follow-up`",
)
@click.option(
    "--revise",
    is_flag=True,
    help="change the decision in force (give --rationale: why it no longer holds)",
)
@_AT
@store_command
def decide(
    state: Context,
    experiment: str,
    outcome: str,
    rationale: str,
    decided_by: str | None,
    next_steps: tuple[str, ...],
    revise: bool,
    at: DateTime | None,
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
@click.option(  # named as the field it fills: the model's errors name --reason
    "--reason", "abandon_reason", required=True, help="why it is abandoned"
)
@_AT
@store_command
def abandon(state: Context, experiment: str, abandon_reason: str, at: DateTime | None) -> None:
    """Abandon a planned or running EXPERIMENT, saying why."""
    moved = _run(state, experiment).move("abandon", reason=abandon_reason, at=at)
    state.wrote(moved, "abandoned")


@cli.command()
@click.argument("metric")
@click.argument("value", type=Number())
@record_option("--experiment", kind="experiment", what="the experiment it was measured in")
@click.option("--unit", help="e.g. families")
@record_option("--participant", kind="participant", what="whose value it is")
@_AT
@store_command
def measure(
    state: Context,
    metric: str,
    value: float,
    experiment: str | None,
    unit: str | None,
    participant: str | None,
    at: DateTime | None,
) -> None:
    """Log VALUE for METRIC: a key result (by id or slug) or any metric name.

    \b
    experiments measure families-in-culture 31 --at 2026-10-05T18:00:00+02:00
    experiments measure "families returning" 17 --experiment art-for-families
    """
    if not metric.strip():
        raise ValidationError(
            "METRIC must not be empty; give a key result (its id or slug) or a metric's name"
        )
    store = state.store()
    person = find(store, participant, Participant).id if participant else None
    if experiment is not None:
        import warnings  # noqa: PLC0415 - only when measuring in an experiment

        from experiments.tracking import MetricWarning  # noqa: PLC0415

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", MetricWarning)
            record = _run(state, experiment).measure(
                metric, value, at=at, unit=unit, participant=person
            )
        for warning in caught:
            click.echo(f"warning: {warning.message}", err=True)
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
    state.wrote(record, "measured")


@cli.command()
@click.argument("experiment")
@click.argument("observation")
@record_option("--hypothesis", kind="hypothesis", what="the hypothesis it bears on", metavar="ID")
@click.option("--verdict", type=EnumChoice(Verdict), help="needed with --hypothesis")
@click.option(
    "--evidence",
    type=EnumChoice(Evidence),
    default=default_of(Learning, "evidence"),
    show_default=True,
)
@click.option("--insight", default="", help="what it means")
@record_option(
    "--participant",
    "participants",
    kind="participant",
    what="whose voice it rests on",
    multiple=True,
)
@click.option("--next-action", "action", default="", help="what will be done about it")
@click.option("--next-owner", "owner", help="who will do the next action")
@click.option("--next-due", "due", metavar="DATE", help="by when, e.g. 2026-12-15")
@_AT
@store_command
def learn(
    state: Context,
    experiment: str,
    observation: str,
    hypothesis: str | None,
    verdict: str | None,
    evidence: str,
    insight: str,
    participants: tuple[str, ...],
    action: str,
    owner: str | None,
    due: str | None,
    at: DateTime | None,
) -> None:
    """Record a learning in EXPERIMENT: what was observed, and the verdict on a hypothesis.

    EXPERIMENT is an id or slug (see `experiments list experiments`); `experiments show
    EXPERIMENT` lists its hypotheses with the ids --hypothesis takes.

    \b
    experiments learn art-for-families "17 families came back twice" \\
        --hypothesis ID --verdict supports --evidence strong --participant parent-3
    """
    if (owner or due) and not action.strip():
        raise ValidationError("--next-owner and --next-due need the --next-action they are for")
    # The parameters are named as NextStep's fields: its errors name the options.
    step = NextStep(action, owner=owner, due=due) if action.strip() else None
    run = _run(state, experiment)
    store = run.store
    learning = run.learn(
        observation,
        hypothesis=find(store, hypothesis, Hypothesis) if hypothesis else None,
        verdict=verdict,
        evidence=evidence,
        insight=insight,
        participants=[find(store, p, Participant) for p in participants],
        next_action=step,
        at=at,
    )
    state.wrote(learning, "learned")
