"""`experiments import-csv`: participants, participations and measurements from a spreadsheet."""

from __future__ import annotations

from typing import IO, Final

import click

from experiments import spreadsheets
from experiments.cli.app import Context, cli, store_command
from experiments.model import plural

__all__: list[str] = []

#: What `experiments import-csv KIND` takes: each kind a sheet can hold, and its plural.
CSV_NAMES: Final[dict[str, str]] = {
    **{kind: kind for kind in spreadsheets.COLUMNS},
    **{plural(kind): kind for kind in spreadsheets.COLUMNS},
}


@cli.command("import-csv")
@click.argument("kind", type=click.Choice(sorted(CSV_NAMES)), metavar="KIND")
@click.argument("source", metavar="FILE", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="check every row and say what would change")
@click.option(
    "--zone",
    metavar="ZONE",
    help="time zone of times written without one, e.g. Europe/Copenhagen",
)
@store_command
def import_csv(
    state: Context, kind: str, source: IO[bytes], dry_run: bool, zone: str | None
) -> None:
    """Import participants, participations or measurements from a CSV FILE (- for stdin).

    KIND: participants, participations or measurements.  The first line names the
    columns; `,` or `;` separates them, as Excel and LibreOffice write it.  Every row is
    checked first: if one is bad, every bad row is listed and nothing is imported.
    Importing the same file again changes nothing.
    """
    with state.progress("importing") as progress:
        done = spreadsheets.import_csv(
            state.store(),
            source,
            CSV_NAMES[kind],
            dry_run=dry_run,
            zone=zone,
            by=state.actor,
            progress=progress.over,
        )
    counts = f"{done.added} added, {done.updated} updated, {done.unchanged} unchanged"
    state.emit(
        {
            "kind": done.kind,
            "rows": done.rows,
            "added": done.added,
            "updated": done.updated,
            "unchanged": done.unchanged,
            "dry_run": done.dry_run,
        },
        f"dry run, nothing written: {counts} of {done.rows} row(s)"
        if dry_run
        else f"imported {done.rows} row(s): {counts}",
    )
