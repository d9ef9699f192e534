"""Commands for the people in a store: erasure that keeps the counts."""

from __future__ import annotations

import click

from experiments.cli.app import Context, cli, confirm, store_command
from experiments.cli.resolve import find
from experiments.model import Participant

__all__ = ["erase"]


@cli.command()
@click.argument("participant", metavar="PARTICIPANT_ID")
@click.option(
    "--vacuum",
    is_flag=True,
    help="on PostgreSQL, also run VACUUM FULL and CHECKPOINT at once (locks the tables)",
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@store_command
def erase(state: Context, participant: str, vacuum: bool, yes: bool) -> None:
    """Erase a person from every version, keeping what the roll-up counts.

    Removes the participant's name, slug, tags and metadata from every version, and
    their name from the free text of every other record; keeps role, internal or
    external, department and each participation's stance and depth, so the figures
    stay.  Says what was removed, what was kept, and what the backend did with the old
    data.  Asks first, unless --yes.
    """
    store = state.store()
    person = find(store, participant, Participant, include_deleted=True)
    confirm(
        yes,
        f"Erase the personal data of participant {person.id} from every version for good?",
        "erase",
    )
    report = store.erase(person, vacuum=vacuum)
    state.emit(
        {
            "participant": report.participant,
            "removed": list(report.removed),
            "kept": list(report.kept),
            "versions": report.versions,
            "quoted_in": list(report.quoted_in),
            "freed": report.freed,
        },
        str(report),
    )
