"""Commands that change, link, show, list and remove records (`experiments add` is in add.py)."""

from __future__ import annotations

import enum
import functools
import operator
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from experiments.cli.app import (
    Context,
    cli,
    confirm,
    fail,
    record_option,
    repeated_option,
    store_command,
)
from experiments.cli.detail import experiment_detail, linked, listed_title, titled_by_itself
from experiments.cli.kinds import LIST_NAMES, EnumChoice, default_of
from experiments.cli.resolve import (
    cli_words,
    find,
    parse_assignment,
    record_id,
    resolve_references,
)
from experiments.cli.text import (
    data_table,
    describe,
    fields_table,
    hides_identity,
    listed_fields,
    shown_data,
    table,
)
from experiments.errors import NotFoundError, ValidationError
from experiments.model import (
    Experiment,
    Involvement,
    Objective,
    Participant,
    Participation,
    Record,
    Stance,
)
from experiments.model._time import format_datetime
from experiments.query import Expr, keywords_filter, parse_where

if TYPE_CHECKING:
    from experiments.stores import Store

__all__: list[str] = []

F = TypeVar("F", bound=Callable[..., Any])


@cli.command()
@store_command
def init(state: Context) -> None:
    """Create the store (if it does not exist yet) and say where it is.

    \b
    experiments init --store sqlite:///programme.db
    """
    store = state.store(create=True)
    state.emit({"store": store.url.redacted}, f"store ready at {store.url.redacted}")


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@repeated_option(
    "--set",
    "assignments",
    metavar="FIELD=VALUE",
    help=(
        "a field to change; lists as a,b,c; the fields are those "
        "`experiments show ID_OR_SLUG` prints"
    ),
)
@store_command
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
    state.wrote(store.save(record.evolve(**changes)))


def _link_options(objective: str, participant: str) -> Callable[[F], F]:
    """EXPERIMENT and the repeatable --objective and --participant of link and unlink."""

    def decorate(command: F) -> F:
        command = record_option(
            "--participant", "participants", kind="participant", what=participant, multiple=True
        )(command)
        command = record_option(
            "--objective", "objectives", kind="objective", what=objective, multiple=True
        )(command)
        return click.argument("experiment")(command)

    return decorate


def _participation_option(field: str, choices: type[enum.Enum]) -> Callable[[F], F]:
    """``--stance`` or ``--involvement``: a field of the participations link makes."""
    return click.option(
        f"--{field}",
        type=EnumChoice(choices),
        default=default_of(Participation, field),
        show_default=True,
        help="for --participant",
    )


def _experiment_to_link(
    state: Context, experiment: str, *links: tuple[str, ...], verb: str
) -> tuple[Store, Experiment]:
    """The store and the experiment to ``verb``, once there is something to (un)link."""
    if not any(links):
        fail(f"nothing to {verb}; give --objective or --participant")
    store = state.store()
    return store, find(store, experiment, Experiment)


@cli.command()
@_link_options("link to this objective", "let this participant take part")
@_participation_option("stance", Stance)
@_participation_option("involvement", Involvement)
@store_command
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
    store, record = _experiment_to_link(state, experiment, objectives, participants, verb="link")
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
@_link_options("unlink from this objective", "take this participant out")
@store_command
def unlink(
    state: Context, experiment: str, objectives: tuple[str, ...], participants: tuple[str, ...]
) -> None:
    """Unlink EXPERIMENT from objectives, or take participants out of it."""
    store, record = _experiment_to_link(state, experiment, objectives, participants, verb="unlink")
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
@store_command
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


@cli.command("list")
@click.argument("kind", type=click.Choice(sorted(LIST_NAMES)), metavar="KIND")
@click.option(
    "--where",
    "where",
    metavar="FILTER",
    help="e.g. \"status in (planned, running) and (tag = pilot or owner = 'Culture')\"",
)
@repeated_option(
    "--filter",
    "filters",
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
@store_command
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
    name = LIST_NAMES[kind]
    store = state.store()
    try:
        expression = store.resolve_where(name, _filter_expression(where, filters))
    except NotFoundError as exc:
        raise cli_words(exc) from None
    chosen = {"order_by": order, "limit": limit, "include_deleted": deleted}
    if not state.as_json and titled_by_itself(name):
        if order is None and limit is None:  # all of them, by id: read the fields alone
            fields = listed_fields(name)
            read = store.aggregate_tuples(
                name, group_by=fields, measures={}, where=expression, include_deleted=deleted
            )
            click.echo(fields_table(name, sorted(read, key=operator.itemgetter(0))))
        else:
            click.echo(data_table(store.select_data(name, expression, **chosen)))
        return
    records = store.query(name, expression, **chosen)
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
@store_command
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
                f"revision {version.revision} at {format_datetime(version.updated_at)}"
                f"{who}{what}{deleted}"
            )
            previous = data
        return "\n".join(lines)

    state.emit([shown_data(v, hide=hide) for v in versions], text)


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_command
def delete(state: Context, reference: str) -> None:
    """Soft delete: hidden from lists and reports, kept in history, undone by `restore`."""
    store = state.store()
    state.wrote(store.delete(find(store, reference)))


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@store_command
def restore(state: Context, reference: str) -> None:
    """Undo a soft delete."""
    store = state.store()
    state.wrote(store.restore(find(store, reference, include_deleted=True)))


@cli.command()
@click.argument("reference", metavar="ID_OR_SLUG")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@store_command
def purge(state: Context, reference: str, yes: bool) -> None:
    """Remove a record and every version of it for good (the right to erasure).

    Records that cannot stand without it are purged too (a participant's
    participations); records that only mention it lose the mention.  Asks first,
    unless --yes.
    """
    store = state.store()
    record = find(store, reference, include_deleted=True)
    confirm(yes, f"Purge {record.label()} and all its versions for good?", "purge")
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
