"""Commands that create, change, show and remove records."""

from __future__ import annotations

import functools
import operator
import sys
from typing import Any

import click

from experiments.cli.app import (
    Context,
    cli,
    fail,
    handle_errors,
    json_option,
    pass_context,
    store_options,
)
from experiments.cli.detail import experiment_detail, linked, listed_title
from experiments.cli.resolve import (
    cli_words,
    find,
    parse_assignment,
    plural,
    record_id,
    resolve_references,
)
from experiments.cli.text import describe, hides_identity, one_line, shown_data, table
from experiments.cli.words import SEE
from experiments.errors import NotFoundError, ValidationError
from experiments.model import (
    KINDS,
    Experiment,
    Hypothesis,
    KeyResult,
    Objective,
    Participant,
    Participation,
    Prototype,
    Record,
    Sprint,
)
from experiments.query import Expr, keywords_filter, parse_where

__all__ = ["add"]


def _saved(state: Context, record: Record) -> None:
    state.emit(shown_data(record), lambda: f"saved {one_line(record)}")


def _common(command: Any) -> Any:
    command = click.option("--slug", help="a stable name for scripts, e.g. art-for-families")(
        command
    )
    command = click.option("--tag", "tags", multiple=True, help="a free tag (repeat for more)")(
        command
    )
    command = store_options(command)
    return json_option(command)


@cli.command()
@store_options
@pass_context
@handle_errors
def init(state: Context) -> None:
    """Create the store (if it does not exist yet) and say where it is.

    \b
    experiments init --store sqlite:///programme.db
    """
    store = state.store(create=True)
    click.echo(f"store ready at {store.url.redacted}")


@cli.group()
def add() -> None:
    """Add an objective, key result, experiment, hypothesis, participant, ...

    Each prints the saved record (with --json: its data).  Give --slug to name it
    for later commands; running the same `add` with the same slug again is refused
    instead of making a second one.
    """


@add.command("objective")
@click.argument("title")
@click.option("--description", default="", help="what the objective means")
@click.option(
    "--parent",
    metavar="OBJECTIVE",
    help=f"the objective this one serves: its id or slug ({SEE['objective']})",
)
@click.option("--owner", help="who is accountable")
@click.option(
    "--weight", type=float, default=1.0, show_default=True, help="share in the parent's progress"
)
@_common
@pass_context
@handle_errors
def add_objective(
    state: Context,
    title: str,
    description: str,
    parent: str | None,
    owner: str | None,
    weight: float,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a strategy objective ("think big")."""
    store = state.store()
    parent_id = record_id(store, parent, Objective) if parent else None
    record = Objective(
        title=title,
        description=description,
        parent=parent_id,
        owner=owner,
        weight=weight,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("key-result")
@click.argument("objective")
@click.argument("metric")
@click.option("--baseline", type=float, required=True, help="where the metric starts")
@click.option("--target", type=float, required=True, help="where it should get to")
@click.option("--unit", help="e.g. families, incidents, %")
@click.option("--due", metavar="DATE", help="by when, e.g. 2026-11-25")
@click.option("--weight", type=float, default=1.0, show_default=True)
@_common
@pass_context
@handle_errors
def add_key_result(
    state: Context,
    objective: str,
    metric: str,
    baseline: float,
    target: float,
    unit: str | None,
    due: str | None,
    weight: float,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a key result measuring OBJECTIVE: METRIC from --baseline to --target."""
    store = state.store()
    record = KeyResult(
        objective=record_id(store, objective, Objective),
        metric=metric,
        baseline=baseline,
        target=target,
        unit=unit,
        due=due,
        weight=weight,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("experiment")
@click.argument("title")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    metavar="OBJECTIVE",
    help=f"objective it serves: its id or slug ({SEE['objective']}; repeat for more)",
)
@click.option("--time-box", metavar="ISO8601", help="e.g. P4W, or 2026-09-01/P6W")
@click.option("--owner", help="who runs it")
@click.option(
    "--facilitator", "facilitators", multiple=True, help="a facilitator (repeat for more)"
)
@click.option(
    "--sprint",
    metavar="SPRINT",
    help=f"the sprint it belongs to: its id or slug ({SEE['sprint']})",
)
@click.option("--description", default="")
@_common
@pass_context
@handle_errors
def add_experiment(
    state: Context,
    title: str,
    objectives: tuple[str, ...],
    time_box: str | None,
    owner: str | None,
    facilitators: tuple[str, ...],
    sprint: str | None,
    description: str,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a planned experiment ("start small")."""
    store = state.store()
    record = Experiment(
        title=title,
        objectives=[record_id(store, o, Objective) for o in objectives],
        time_box=time_box,
        owner=owner,
        facilitators=facilitators,
        sprint=record_id(store, sprint, Sprint) if sprint else None,
        description=description,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("hypothesis")
@click.argument("experiment")
@click.argument("statement")
@click.option("--criterion", help='when it holds, e.g. "families returning >= 15"')
@click.option("--assumption", type=click.Choice(["desirability", "feasibility", "viability"]))
@_common
@pass_context
@handle_errors
def add_hypothesis(
    state: Context,
    experiment: str,
    statement: str,
    criterion: str | None,
    assumption: str | None,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a hypothesis to EXPERIMENT: "we believe that STATEMENT"."""
    store = state.store()
    record = Hypothesis(
        experiment=record_id(store, experiment, Experiment),
        statement=statement,
        criterion=criterion,
        assumption=assumption,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("participant")
@click.argument("role")
@click.option("--name", help="optional; leave out to record nobody's name")
@click.option("--department", help="department or unit")
@click.option("--external/--internal", default=None, help="default from the role")
@click.option(
    "--pseudonymous",
    is_flag=True,
    help="never show the name or slug (only `export` keeps them)",
)
@_common
@pass_context
@handle_errors
def add_participant(
    state: Context,
    role: str,
    name: str | None,
    department: str | None,
    external: bool | None,
    pseudonymous: bool,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a participant with ROLE: citizen, customer, user, frontline-employee, ..."""
    fields: dict[str, Any] = {} if external is None else {"external": external}
    record = Participant(
        role=role,
        name=name,
        department=department,
        pseudonymous=pseudonymous,
        slug=slug,
        tags=tags,
        **fields,
    )
    _saved(state, state.store().save(record))


@add.command("prototype")
@click.argument("experiment")
@click.argument("title")
@click.option(
    "--fidelity",
    type=click.Choice(["sketch", "mock-up", "working-prototype", "pilot"]),
    default="sketch",
    show_default=True,
)
@click.option("--link", help="where it can be seen")
@click.option("--shown-at", metavar="TIME", help="when it was first shown to participants")
@click.option("--description", default="")
@_common
@pass_context
@handle_errors
def add_prototype(
    state: Context,
    experiment: str,
    title: str,
    fidelity: str,
    link: str | None,
    shown_at: str | None,
    description: str,
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a prototype shown in EXPERIMENT ("invite into the unfinished")."""
    store = state.store()
    record = Prototype(
        experiment=record_id(store, experiment, Experiment),
        title=title,
        fidelity=fidelity,
        link=link,
        shown_at=shown_at,
        description=description,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("sprint")
@click.argument("title")
@click.option("--challenge", default="", help="the predefined challenge the team works on")
@click.option("--time-box", metavar="ISO8601", help="e.g. 2026-08-17/P100D")
@click.option(
    "--member",
    "members",
    multiple=True,
    metavar="PARTICIPANT",
    help=f"team member: their id or slug ({SEE['participant']}; repeat)",
)
@click.option("--facilitator", "facilitators", multiple=True, help="facilitator (repeat)")
@_common
@pass_context
@handle_errors
def add_sprint(
    state: Context,
    title: str,
    challenge: str,
    time_box: str | None,
    members: tuple[str, ...],
    facilitators: tuple[str, ...],
    slug: str | None,
    tags: tuple[str, ...],
) -> None:
    """Add a sprint: a short intensive period for a cross-cutting team."""
    store = state.store()
    record = Sprint(
        title=title,
        challenge=challenge,
        time_box=time_box,
        team=[record_id(store, m, Participant) for m in members],
        facilitators=facilitators,
        slug=slug,
        tags=tags,
    )
    _saved(state, store.save(record))


@add.command("excuse")
@click.argument("group")
@click.argument(
    "reason",
    type=click.Choice(
        [
            "already-asked",
            "know-what-they-say",
            "no-time",
            "rules-forbid",
            "disturbs-work",
            "nothing-good-comes",
            "bad-timing",
            "not-ready",
            "other",
        ]
    ),
)
@click.option(
    "--objective",
    metavar="OBJECTIVE",
    help=f"the objective the group was left out of: its id or slug ({SEE['objective']})",
)
@click.option(
    "--experiment",
    metavar="EXPERIMENT",
    help=f"the experiment the group was left out of: its id or slug ({SEE['experiment']})",
)
@click.option("--statement", default="", help="the words the reason was given in")
@store_options
@json_option
@pass_context
@handle_errors
def add_excuse(
    state: Context,
    group: str,
    reason: str,
    objective: str | None,
    experiment: str | None,
    statement: str,
) -> None:
    """Write down a GROUP that was not let in, and the REASON given ("no bad excuses")."""
    from experiments.tracking import record_excuse  # noqa: PLC0415 - keeps startup light

    store = state.store()
    if (objective is None) == (experiment is None):
        raise ValidationError("give exactly one of --objective or --experiment")
    excuse = record_excuse(
        store,
        group=group,
        reason=reason,
        statement=statement,
        objective=record_id(store, objective, Objective) if objective else None,
        experiment=record_id(store, experiment, Experiment) if experiment else None,
    )
    _saved(state, excuse)


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="FIELD=VALUE",
    help=(
        "a field to change (repeat); lists as a,b,c; the fields are those "
        "`experiments show ID_OR_SLUG` prints"
    ),
)
@store_options
@json_option
@pass_context
@handle_errors
def edit(state: Context, reference: str, assignments: tuple[str, ...]) -> None:
    """Change fields of a record: a new version, kept in its history.

    Fields that name other records (parent, objectives, experiment, hypothesis,
    participant, team, ...) take their ids or slugs; an empty value clears one.

    \b
    experiments edit art-for-families --set owner="Culture" --set tags=culture,families
    experiments edit art-for-families --set objectives=welfare,culture-for-all
    """
    if not assignments:
        fail("nothing to change; give --set FIELD=VALUE")
    store = state.store()
    record = find(store, reference)
    changes = dict(parse_assignment(record.kind, a) for a in assignments)
    if "slug" in changes:
        raise ValidationError(
            "a slug determines the id and cannot change; add a new record instead"
        )
    if "status" in changes or any(
        name.endswith(("started_at", "concluded_at", "decided_at", "abandoned_at"))
        for name in changes
    ):
        raise ValidationError(
            "use start, conclude, decide or abandon to move an experiment through its lifecycle"
        )
    changes = resolve_references(store, record.kind, changes)
    _saved(state, store.save(record.evolve(**changes)))


@cli.command()
@click.argument("experiment")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    metavar="OBJECTIVE",
    help=f"link to this objective: its id or slug ({SEE['objective']}; repeat)",
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    metavar="PARTICIPANT",
    help=f"let this participant take part: their id or slug ({SEE['participant']}; repeat)",
)
@click.option(
    "--stance",
    type=click.Choice(["supportive", "neutral", "critical"]),
    default="neutral",
    show_default=True,
    help="for --participant",
)
@click.option(
    "--involvement",
    type=click.Choice(["informed", "consulted", "co-creating"]),
    default="consulted",
    show_default=True,
    help="for --participant",
)
@store_options
@json_option
@pass_context
@handle_errors
def link(
    state: Context,
    experiment: str,
    objectives: tuple[str, ...],
    participants: tuple[str, ...],
    stance: str,
    involvement: str,
) -> None:
    """Link EXPERIMENT to objectives, or let participants take part in it.

    \b
    experiments link safety-walks --objective welfare-in-100-days
    experiments link safety-walks --participant resident-2 --stance critical
    """
    if not objectives and not participants:
        fail("nothing to link; give --objective or --participant")
    store = state.store()
    record = find(store, experiment, Experiment)
    saved: list[Record] = []
    with store.batch() as batch:
        if objectives:
            ids = [record_id(store, o, Objective) for o in objectives]
            saved.append(batch.save(record.evolve(objectives=(*record.objectives, *ids))))
        for reference in participants:
            person = find(store, reference, Participant)
            draft = Participation(
                experiment=record.id, participant=person.id, stance=stance, involvement=involvement
            )
            existing = store.find(draft.id, include_deleted=True)
            base = (
                existing.evolve(stance=stance, involvement=involvement, deleted_at=None)
                if existing
                else draft
            )
            saved.append(batch.save(base))
    state.emit([shown_data(r) for r in saved], lambda: linked(store, record, saved, took=False))


@cli.command()
@click.argument("experiment")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    metavar="OBJECTIVE",
    help=f"unlink from this objective: its id or slug ({SEE['objective']}; repeat)",
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    metavar="PARTICIPANT",
    help=f"take this participant out: their id or slug ({SEE['participant']}; repeat)",
)
@store_options
@json_option
@pass_context
@handle_errors
def unlink(
    state: Context, experiment: str, objectives: tuple[str, ...], participants: tuple[str, ...]
) -> None:
    """Unlink EXPERIMENT from objectives, or take participants out of it."""
    if not objectives and not participants:
        fail("nothing to unlink; give --objective or --participant")
    store = state.store()
    record = find(store, experiment, Experiment)
    saved: list[Record] = []
    with store.batch() as batch:
        if objectives:
            ids = {record_id(store, o, Objective) for o in objectives}
            missing = ids - set(record.objectives)
            if missing:
                raise ValidationError(
                    f"{record.label()} is not linked to {', '.join(sorted(missing))}"
                )
            saved.append(
                batch.save(record.evolve(objectives=[o for o in record.objectives if o not in ids]))
            )
        for reference in participants:
            person = find(store, reference, Participant)
            participation = store.find(
                Participation(experiment=record.id, participant=person.id).id
            )
            if participation is None:
                raise ValidationError(
                    f"{person.display_name} does not take part in {record.label()}"
                )
            saved.append(batch.delete(participation))
    state.emit([shown_data(r) for r in saved], lambda: linked(store, record, saved, took=True))


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_options
@json_option
@pass_context
@handle_errors
def show(state: Context, reference: str) -> None:
    """Show one record, every field.

    An experiment is shown with its hypotheses (with the ids `learn --hypothesis`
    takes), learnings, decisions, participants and prototypes.

    \b
    experiments show art-for-families
    experiments show --json art-for-families
    """
    store = state.store()
    record = find(store, reference)
    if isinstance(record, Experiment):
        data, text = experiment_detail(store, record)
        state.emit(data, text)
        return
    state.emit(shown_data(record), lambda: describe(record))


_KIND_NAMES = {**{k: k for k in KINDS}, **{plural(k): k for k in KINDS}}


@cli.command("list")
@click.argument("kind", type=click.Choice(sorted(_KIND_NAMES)), metavar="KIND")
@click.option(
    "--where",
    "where",
    metavar="FILTER",
    help="e.g. \"status in (planned, running) and (tag = pilot or owner = 'Culture')\"",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="FIELD=VALUE",
    help="AND-ed equality; a,b means one of them",
)
@click.option(
    "--order",
    "order",
    metavar="FIELD",
    help="sort by a field (those `experiments show ID_OR_SLUG` prints); -field for descending",
)
@click.option("--limit", type=click.IntRange(min=0), help="at most this many")
@click.option("--deleted", is_flag=True, help="include soft-deleted records")
@store_options
@json_option
@pass_context
@handle_errors
def list_records(
    state: Context,
    kind: str,
    where: str | None,
    filters: tuple[str, ...],
    order: str | None,
    limit: int | None,
    deleted: bool,
) -> None:
    """List records of KIND (experiments, objectives, participants, ...), filtered.

    \b
    experiments list experiments --where "status = running or tag = pilot"
    experiments list participations --filter stance=critical --filter experiment=SLUG
    experiments list measurements --where "measured_at >= 2026-09-01" --order -measured_at
    """
    name = _KIND_NAMES[kind]
    store = state.store()
    try:
        expression = store.resolve_where(name, _filter_expression(where, filters))
    except NotFoundError as exc:
        raise cli_words(exc) from None
    records = store.query(
        name,
        expression,
        order_by=order,
        limit=limit,
        include_deleted=deleted,
    )
    if state.as_json:
        import json  # noqa: PLC0415

        out = sys.stdout
        out.write("[")
        for index, record in enumerate(records):
            out.write(
                ("," if index else "") + "\n  " + json.dumps(shown_data(record), ensure_ascii=False)
            )
        out.write("\n]\n")
        return
    click.echo(table(records, listed_title(state.store())))


def _filter_expression(where: str | None, filters: tuple[str, ...]) -> Expr | None:
    """``--where`` AND every ``--filter FIELD=VALUE`` (``a,b`` meaning one of them).

    The filters become an expression rather than keyword arguments of ``query``, so a
    field named like one of its parameters (``kind``, ``limit``) is a field like any
    other, and an unknown one is refused with the fields the kind has.
    """
    parts: list[Expr] = []
    if where is not None and (parsed := parse_where(where)) is not None:
        parts.append(parsed)
    for text in filters:
        field, equals, value = text.partition("=")
        if not equals or not field.strip():
            raise ValidationError(
                f"--filter needs FIELD=VALUE, e.g. --filter stance=critical; got {text!r}"
            )
        wanted: object = [v.strip() for v in value.split(",")] if "," in value else value
        condition = keywords_filter({field.strip(): wanted})
        if condition is not None:
            parts.append(condition)
    return functools.reduce(operator.and_, parts) if parts else None


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_options
@json_option
@pass_context
@handle_errors
def history(state: Context, reference: str) -> None:
    """Every version of a record, deleted ones too: what changed, when, and by whom.

    If the record is a pseudonymous participant in any version, no version shows its
    name or slug.
    """
    store = state.store()
    versions = store.history(find(store, reference, include_deleted=True).id)
    hide = any(hides_identity(v) for v in versions)

    def text() -> str:
        lines = []
        previous: dict[str, Any] = {}
        for version in versions:
            data = shown_data(version, hide=hide)
            changed = [
                k
                for k, v in data.items()
                if previous
                and previous.get(k) != v
                and k not in ("revision", "updated_at", "changed_by")
            ]
            who = f" by {version.changed_by}" if version.changed_by else ""
            what = f": {', '.join(changed)}" if changed else (": created" if not previous else "")
            deleted = " (deleted)" if version.deleted else ""
            lines.append(
                f"revision {version.revision} at {version.updated_at.to_iso8601_string()}"
                f"{who}{what}{deleted}"
            )
            previous = data
        return "\n".join(lines)

    state.emit([shown_data(v, hide=hide) for v in versions], text)


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_options
@json_option
@pass_context
@handle_errors
def delete(state: Context, reference: str) -> None:
    """Soft delete: hidden from lists and reports, kept in history, undone by `restore`."""
    store = state.store()
    _saved(state, store.delete(find(store, reference)))


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_options
@json_option
@pass_context
@handle_errors
def restore(state: Context, reference: str) -> None:
    """Undo a soft delete."""
    store = state.store()
    _saved(state, store.restore(find(store, reference, include_deleted=True)))


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@store_options
@json_option
@pass_context
@handle_errors
def purge(state: Context, reference: str, yes: bool) -> None:
    """Remove a record and every version of it for good (the right to erasure).

    Records that cannot stand without it are purged too (a participant's
    participations); records that only mention it lose the mention.  Asks first,
    unless --yes.
    """
    store = state.store()
    record = find(store, reference, include_deleted=True)
    if not yes:
        if not sys.stdin.isatty():
            fail("purge cannot be undone; confirm with --yes")
        click.confirm(
            f"Purge {record.label()} and all its versions for good?", abort=True, err=True
        )
    report = store.purge(record)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    state.emit(
        {
            "purged": list(report.purged),
            "unlinked": list(report.unlinked),
            "warnings": list(report.warnings),
        },
        lambda: (
            f"purged {len(report.purged)} record(s): {', '.join(report.purged)}"
            + (f"; removed the reference from {len(report.unlinked)}" if report.unlinked else "")
        ),
    )
