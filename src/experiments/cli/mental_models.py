"""Commands of the maturity analysis and the shared vocabulary.

`import-responses` reads a survey tool's export into a round, `maturity` prints the
analysis, `agree` records a term's agreed definitions, `done` marks a workshop action
done, and `glossary` lists the terms with what they mean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from experiments.cli.app import (
    Context,
    Number,
    at_option,
    cli,
    fail,
    record_option,
    repeated_option,
    store_command,
)
from experiments.cli.kinds import EnumChoice
from experiments.cli.resolve import find
from experiments.maturity import GroupBy
from experiments.model import LanguageCode, SurveyRound, WorkshopAction
from experiments.model.small_groups import DEFAULT_MIN_GROUP

if TYPE_CHECKING:
    from pendulum import DateTime

    from experiments.maturity import Maturity, RoundAnalysis, Score, Spread
    from experiments.vocabulary import Glossary

__all__ = ["analysis_options"]

F = TypeVar("F", bound=Callable[..., Any])

_DASH = "-"


def analysis_options(command: F) -> F:
    """--group-by and --min-group-size: how the maturity analysis groups and protects."""
    command = click.option(
        "--min-group-size",
        type=Number(whole=True),
        default=DEFAULT_MIN_GROUP,
        show_default=True,
        help="the fewest respondents whose figures are shown for a group",
    )(command)
    return click.option(
        "--group-by",
        "group_by",
        type=EnumChoice(GroupBy),
        default=GroupBy.DEPARTMENT.value,
        show_default=True,
        help="what the maturity analysis groups respondents by",
    )(command)


def _pairs(values: tuple[str, ...], option: str, form: str, example: str) -> dict[str, str]:
    """NAME=VALUE options as a mapping; a usage error for one without a name or a value.

    ``form`` is the option's placeholder (``LANG=TEXT``), for the error.
    """
    found: dict[str, str] = {}
    for text in values:
        name, equals, value = text.partition("=")
        if not equals or not name.strip() or not value.strip():
            fail(f"{option} needs {form}, e.g. {example}; got {text!r}")
        found[name.strip()] = value
    return found


@cli.command("import-responses")
@click.argument("survey_round", metavar="ROUND")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@repeated_option(
    "--column",
    "columns",
    metavar="HEADING=NAME",
    help="the file's heading for department, level, answered_at, response_id, participant "
    "or an item's code, e.g. --column Afdeling=department",
)
@click.option("--delimiter", metavar="CHAR", help="',' or ';' (default: the one the header uses)")
@click.option(
    "--zone",
    metavar="ZONE",
    help="time zone of answered_at times without an offset, e.g. Europe/Oslo",
)
@repeated_option(
    "--not-answered",
    "not_answered",
    metavar="TEXT",
    help="a cell text meaning 'not answered' besides an empty cell, e.g. 'vet ikke'",
)
@store_command
def import_responses(
    state: Context,
    survey_round: str,
    file: str,
    columns: tuple[str, ...],
    delimiter: str | None,
    zone: str | None,
    not_answered: tuple[str, ...],
) -> None:
    """Import the responses of ROUND from FILE, a survey tool's CSV export (- for stdin).

    \b
    The header names the columns: department (required), level, answered_at,
    response_id, participant, and each item's code.  Comma or semicolon, UTF-8 with
    or without a byte order mark, as Excel and LibreOffice save it.  A file with a
    bad row imports nothing and lists every bad row by its line; importing the same
    file again changes nothing.
    """
    from experiments.surveys import import_responses as run  # noqa: PLC0415 - when used

    store = state.store()
    target = find(store, survey_round, SurveyRound)
    renames = _pairs(columns, "--column", "HEADING=NAME", "Afdeling=department")
    source: Any = sys.stdin.buffer if file == "-" else Path(file)
    result = run(
        store,
        target,
        source,
        columns=renames,
        delimiter=delimiter,
        zone=zone,
        not_answered=not_answered,
        by=state.actor,
    )
    state.emit(
        {
            "round": result.round,
            "added": result.added,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
        f"imported {result.responses} responses into round {target.title!r}: "
        f"{result.added} new, {result.updated} updated, {result.unchanged} unchanged",
    )


def _cell(score: Score | None) -> str:
    if score is None:
        return _DASH
    text = f"{score.mean:.1f}"
    if score.change is not None:
        change = f"{score.change:+.1f}"
        text += " " + (" 0.0" if float(change) == 0 else change)
    return text


def _spread_cell(spread: Spread | None) -> str:
    return _DASH if spread is None else f"{spread.points:.1f}"


def _round_heading(maturity: Maturity, title: str, analysis: RoundAnalysis) -> str:
    """The round's line: when it was asked, how many responses, the grouping."""
    when = f"opened {analysis.opened_at.to_date_string()}"
    if analysis.closed_at is not None:
        when += f", closed {analysis.closed_at.to_date_string()}"
    elif analysis.open:
        when += ", still open"
    return (
        f"{title}: {analysis.round.title} ({when}), {analysis.respondents} responses shown, "
        f"by {maturity.group_by.value}"
        + (f"; change since {analysis.previous.title}" if analysis.previous else "")
    )


def _score_rows(analysis: RoundAnalysis, columns: list[str]) -> list[list[str]]:
    """A row per dimension, each followed by a row per item of it."""
    rows: list[list[str]] = []
    for dimension, items in analysis.by_dimension():
        rows.append(
            [dimension.dimension]
            + [_cell(dimension.score(c)) for c in columns]
            + [_spread_cell(dimension.spread)]
        )
        rows.extend(
            [f"  {item.code}"]
            + [_cell(item.score(c)) for c in columns]
            + [_spread_cell(item.spread)]
            for item in items
        )
    return rows


def _aligned(rows: list[list[str]]) -> list[str]:
    """The rows as lines: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    return [
        "  "
        + row[0].ljust(widths[0])
        + "".join("  " + cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        for row in rows
    ]


def _round_notes(maturity: Maturity, analysis: RoundAnalysis) -> list[str]:
    """Which small groups were merged or left out, and where the groups differ most."""
    from experiments.maturity import OTHER  # noqa: PLC0415 - when used

    lines: list[str] = []
    for merged, suppressed, items in analysis.notes():
        where = (
            "every item" if len(items) == len(analysis.items) else ", ".join(i.code for i in items)
        )
        what = "not shown" if suppressed else f"shown together as {OTHER}"
        lines.append(
            f"  fewer than {maturity.min_group_size} respondents: {', '.join(merged)} "
            f"({what}, {where})"
        )
    lines.extend(
        f"  differ most on {item.code}: {item.spread.points:.1f} points between "
        f"{item.spread.highest} and {item.spread.lowest}"
        for item in analysis.ranking[:3]
        if item.spread is not None
    )
    return lines


def _round_text(maturity: Maturity, title: str, analysis: RoundAnalysis) -> list[str]:
    """One round as text: its heading, the table of scores, the items' titles, notes."""
    from experiments.maturity import ALL, OTHER  # noqa: PLC0415 - when used

    columns = [*analysis.groups, *([OTHER] if analysis.has_other else []), ALL]
    header = ["", *columns, "spread"]
    return [
        _round_heading(maturity, title, analysis),
        *_aligned([header, *_score_rows(analysis, columns)]),
        *(f"  {item.code}: {item.item.title}" for item in analysis.items),
        *_round_notes(maturity, analysis),
    ]


def _maturity_text(maturity: Maturity, survey_round: str | None) -> str:
    lines: list[str] = []
    for questionnaire in maturity.questionnaires:
        title = questionnaire.questionnaire.title
        if survey_round is None:
            shown = questionnaire.rounds[-1:]
            if not shown:
                lines.append(f"{title}: no round asked yet")
        else:
            shown = tuple(r for r in questionnaire.rounds if r.round.id == survey_round)
        for analysis in shown:
            lines += _round_text(maturity, title, analysis)
    for action in maturity.actions:
        if action.done_at is not None:
            state = f"done {action.done_at.to_date_string()}"
        elif action.overdue_days is not None:
            state = f"{action.overdue_days} days past due {action.due}"
        else:
            state = f"due {action.due}" if action.due else "open, no due date"
        owner = f" ({action.owner})" if action.owner else ""
        lines.append(f"workshop action: {action.ref.title}{owner}: {state}")
    return "\n".join(lines) or "no questionnaire, interview or workshop action in scope"


@cli.command()
@record_option("--objective", kind="objective", what="the analysis of one objective")
@record_option(
    "--round", "survey_round", kind="survey-round", what="show this round (default: the latest)"
)
@at_option("as of this time")
@analysis_options
@store_command
def maturity(
    state: Context,
    objective: str | None,
    survey_round: str | None,
    at: DateTime | None,
    group_by: str,
    min_group_size: int,
) -> None:
    """Print the maturity analysis: scores by group, spread, change since the last round.

    A group of fewer than --min-group-size respondents is never shown on its own; with
    --json, every round of every questionnaire, as the JSON report's maturity section.
    """
    from experiments.maturity import analyse  # noqa: PLC0415 - when used

    store = state.store()
    round_id = None if survey_round is None else find(store, survey_round, SurveyRound).id
    result = analyse(store, objective, at=at, group_by=group_by, min_group_size=min_group_size)
    state.emit(result.to_data(), lambda: _maturity_text(result, round_id))


def _glossary_text(glossary: Glossary, language: str) -> str:
    lines = []
    for entry in glossary.entries:
        found = entry.definition(language)
        if found is not None:
            code, text = found
            agreed = ", ".join(entry.agreed_by)
            when = "" if entry.agreed_at is None else entry.agreed_at.to_date_string()
            by = f" (agreed by {agreed}, {when})" if agreed else f" (agreed {when})"
            lines.append(f"{entry.word}: {text}" + ("" if code == language else f" [{code}]") + by)
        else:
            lines.append(
                f"{entry.word}: " + ("not agreed yet" if entry.readings else "not defined")
            )
        lines += [
            f"  {r.department}: {r.text} [{r.language.value}]"
            for r in entry.readings
            if not entry.agreed
        ]
        if entry.competing:
            lines.append(f"  competing readings: {', '.join(entry.competing)}")
    return "\n".join(lines) or "no terms in scope"


@cli.command()
@record_option("--objective", kind="objective", what="the terms one objective's scope uses")
@at_option("as of this time")
@click.option(
    "--lang",
    type=EnumChoice(LanguageCode),
    default="en",
    show_default=True,
    help="the language of the definitions shown",
)
@store_command
def glossary(state: Context, objective: str | None, at: DateTime | None, lang: str) -> None:
    """List the terms of the shared vocabulary with what they mean (as of --at)."""
    from experiments.vocabulary import glossary as read  # noqa: PLC0415 - when used

    result = read(state.store(), objective, at=at)
    state.emit(result.to_data(), lambda: _glossary_text(result, lang))


@cli.command()
@click.argument("term")
@repeated_option(
    "--definition",
    "definitions",
    required=True,
    metavar="LANG=TEXT",
    help="the agreed definition in a language (en, da, nb, sv), e.g. --definition "
    "'da=Alle kommunen betjener'",
)
@repeated_option("--agreed-by", "agreed_by", metavar="NAME", help="who agreed it")
@at_option("when it was agreed")
@store_command
def agree(
    state: Context,
    term: str,
    definitions: tuple[str, ...],
    agreed_by: tuple[str, ...],
    at: DateTime | None,
) -> None:
    """Record what TERM means, as a workshop agreed it; the earlier agreement stays in
    its history.  A TERM slug not recorded yet is added."""
    from experiments.vocabulary import agree as record  # noqa: PLC0415 - when used

    agreed = _pairs(
        definitions, "--definition", "LANG=TEXT", "'en=Everyone the municipality serves'"
    )
    store = state.store()
    made = record(store, term, agreed, by=agreed_by, at=at, changed_by=state.actor)
    state.wrote(made, "agreed")


@cli.command()
@click.argument("action")
@at_option("when it was done")
@store_command
def done(state: Context, action: str, at: DateTime | None) -> None:
    """Mark a workshop ACTION done (see `experiments list workshop-actions`)."""
    store = state.store()
    current = find(store, action, WorkshopAction)
    state.wrote(store.save(current.done(at=at), by=state.actor), "done")
