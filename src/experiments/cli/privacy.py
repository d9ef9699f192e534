"""Commands for the people in a store: consent, and erasure that keeps the counts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from experiments.cli.app import Context, at_option, cli, confirm, fail, store_command
from experiments.cli.resolve import find
from experiments.model import Consent, Participant
from experiments.stores.changes import ErasureReport

if TYPE_CHECKING:
    from pendulum import DateTime

__all__ = ["access", "consent", "erase"]


def _told(report: ErasureReport) -> dict[str, Any]:
    return {
        "participant": report.participant,
        "removed": list(report.removed),
        "kept": list(report.kept),
        "versions": report.versions,
        "quoted_in": list(report.quoted_in),
        "freed": report.freed,
        "warnings": list(report.warnings),
    }


@cli.command()
@click.argument("participant", metavar="PARTICIPANT_ID", required=False)
@click.option(
    "--due",
    is_flag=True,
    help="erase everyone whose consent is withdrawn or whose retention period has passed",
)
@at_option("with --due: due as of this time")
@click.option(
    "--vacuum",
    is_flag=True,
    help="on PostgreSQL, also run VACUUM FULL and CHECKPOINT at once (locks the tables)",
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@store_command
def erase(
    state: Context, participant: str | None, due: bool, at: DateTime | None, vacuum: bool, yes: bool
) -> None:
    """Erase a person from every version, keeping what the roll-up counts.

    Removes the participant's name, slug, consent, retention, tags and metadata from
    every version, and their name from the free text of every other record; keeps
    role, internal or external, department and each participation's stance and depth,
    so the figures stay.  Says what was removed, what was kept, and what the backend
    did with the old data.  --due erases everyone whose consent is withdrawn or
    retention has passed.  Asks first, unless --yes.
    """
    if due == (participant is not None):
        fail("give a PARTICIPANT_ID or --due, not both and not neither")
    if at is not None and not due:
        fail("--at goes with --due")
    store = state.store()
    if due:
        people = store.due_for_erasure(at)
        if people:
            confirm(yes, f"Erase the personal data of {len(people)} participant(s)?", "erase")
        reports = store.erase_due(at, vacuum=vacuum)
        for warning in (w for r in reports for w in r.warnings):
            click.echo(f"warning: {warning}", err=True)
        state.emit(
            [_told(r) for r in reports],
            lambda: "\n".join(str(r) for r in reports) or "nobody is due for erasure",
        )
        return
    assert participant is not None
    person = find(store, participant, Participant, include_deleted=True)
    confirm(
        yes,
        f"Erase the personal data of participant {person.id} from every version for good?",
        "erase",
    )
    report = store.erase(person, vacuum=vacuum)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    state.emit(_told(report), str(report))


@cli.command()
@click.argument("participant", metavar="PARTICIPANT_ID")
@click.option("--purpose", help="what they agreed to: an experiment, objective or tag (slug)")
@click.option("--how", help='how it was given, e.g. "signed form"')
@click.option("--given-at", metavar="TIME", help="when it was given (default now)")
@click.option("--recorded-by", metavar="NAME", help="who recorded it")
@click.option("--withdraw", is_flag=True, help="record that the consent was withdrawn")
@at_option("with --withdraw: when")
@store_command
def consent(
    state: Context,
    participant: str,
    purpose: str | None,
    how: str | None,
    given_at: str | None,
    recorded_by: str | None,
    withdraw: bool,
    at: DateTime | None,
) -> None:
    """Record a participant's consent (--purpose, --how), or its withdrawal (--withdraw)."""
    from experiments.model._time import now  # noqa: PLC0415 - only when recording

    store = state.store()
    person = find(store, participant, Participant)
    if withdraw:
        if person.consent is None:
            fail(f"participant {person.id} has no consent to withdraw")
        changed = person.evolve(consent=person.consent.withdraw(at or now()))
    else:
        if purpose is None or how is None:
            fail("recording a consent needs --purpose and --how")
        given = Consent(
            purpose=purpose, how=how, given_at=given_at or now(), recorded_by=recorded_by
        )
        changed = person.evolve(consent=given)
    saved = store.save(changed)
    state.wrote(saved)


@cli.command()
@click.argument("participant", metavar="PARTICIPANT_ID")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    help="file to write (default, or -: standard output)",
)
@store_command
def access(state: Context, participant: str, output: Path | None) -> None:
    """Write everything held on one person as one JSON document (a right of access).

    Their record in every version, and every version of every record that refers to
    them or quotes their name.  Like `export`, it holds their name: it is for them.
    With -o, --json prints where it went as JSON.
    """
    from experiments import access as documents  # noqa: PLC0415 - only when asked

    store = state.store()
    person = find(store, participant, Participant, include_deleted=True)
    document = documents.gather(store, person)
    if output is None or str(output) == "-":
        sys.stdout.write(documents.render(document))
        return
    documents.write(document, output)
    state.done({"output": str(output)}, f"access document written to {output}")
