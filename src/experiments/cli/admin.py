"""Commands about the store as a whole: checks, export and import, verify, plugins."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from experiments.cli.app import (
    EXIT,
    Context,
    cli,
    fail,
    handle_errors,
    json_option,
    pass_context,
    record_option,
    store_command,
    store_options,
)
from experiments.cli.words import SEE
from experiments.errors import ValidationError

__all__: list[str] = []


@cli.command()
@record_option("--experiment", kind="experiment", what="check one experiment")
@record_option("--objective", kind="objective", what="check one objective and its sub-objectives")
@click.option("--at", metavar="TIME", help="check as of this time (ISO 8601; default now)")
@click.option(
    "--disable",
    "disabled",
    multiple=True,
    metavar="CHECK",
    help=f"switch a check off, e.g. engine-room/no-critical-voice ({SEE['check']}; repeat)",
)
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="CHECK:NAME=VALUE",
    help=(
        "set a threshold, e.g. start-small/long-time-box:max=P8W (a list: a,b); the checks "
        "and their options are in the documentation's Checks page"
    ),
)
@store_command
def check(
    state: Context,
    experiment: str | None,
    objective: str | None,
    at: str | None,
    disabled: tuple[str, ...],
    options: tuple[str, ...],
) -> None:
    """Hold the programme to the brave moves; exit 1 if anything is found.

    Checks: no objective, no or too long a time box, no external participant, no
    critical voice, no frontline employee, no prototype shown, sprints without a
    facilitator or from one department, concluded without a learning or decision,
    running past the end.  `experiments plugins` lists them with plugins' own.
    """
    from experiments.checks import run_checks  # noqa: PLC0415 - only when checking

    configured: dict[str, dict[str, Any]] = {}
    for text in options:
        check_id, colon, setting = text.partition(":")
        name, equals, value = setting.partition("=")
        if not colon or not equals:
            fail(f"--option needs CHECK:NAME=VALUE; got {text!r}")
        configured.setdefault(check_id, {})[name] = value
    report = run_checks(
        state.store(),
        experiment=experiment,
        objective=objective,
        at=at,
        options=configured,
        disabled=disabled,
    )
    state.emit(
        {
            "at": report.at.to_iso8601_string(),
            "checks": list(report.checks),
            "findings": [
                {
                    "check": f.check,
                    "severity": f.severity.value,
                    "message": f.message,
                    "concerns": [{"id": r.id, "title": r.title} for r in f.concerns],
                    "plugin": f.plugin,
                }
                for f in report.findings
            ],
        },
        lambda: (
            "\n".join(str(f) for f in report.findings)
            or f"{len(report.checks)} checks, nothing found"
        ),
    )
    if report.findings:
        raise SystemExit(EXIT["findings"])


@cli.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True, path_type=Path),
    help="file to write (default, or -: standard output)",
)
@click.option(
    "--redact",
    is_flag=True,
    help="leave out every participant's name and slug, for sharing; no backup then",
)
@store_options
@pass_context
@handle_errors
def export_records(state: Context, output: Path | None, redact: bool) -> None:
    """Write every version of every record as JSON Lines: a lossless copy of the store.

    Import it into any store, of any backend, with `experiments import`.  With --redact
    no participant's name or slug is written: for a consultant, not for a backup.
    """
    from experiments._output import output_file  # noqa: PLC0415
    from experiments.serialization import to_json  # noqa: PLC0415

    store = state.store()
    records = state.progress(store.export(redact=redact), "exporting")
    if output is None or str(output) == "-":
        _write_lines(sys.stdout, (to_json(r) for r in records))
        return
    try:
        with output_file(output) as handle:
            for record in records:
                handle.write(to_json(record).encode("utf-8") + b"\n")
    except OSError as exc:
        reason = f"cannot write the export: {exc.strerror or exc}"
        raise OSError(exc.errno, reason, str(output)) from exc
    click.echo(f"exported to {output}", err=True)


def _write_lines(handle: TextIO, lines: Iterator[str]) -> None:
    for line in lines:
        handle.write(line)
        handle.write("\n")


@cli.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@store_command
def import_records(state: Context, source: TextIO) -> None:
    """Import an export (JSON Lines; - for standard input) exactly as it was.

    Ids, revisions, times and authors are kept.  Importing the same file twice changes
    nothing the second time; a version that contradicts one already stored stops the
    import, and then nothing is imported.
    """
    from experiments.errors import SchemaError  # noqa: PLC0415
    from experiments.serialization import from_json  # noqa: PLC0415

    def records() -> Iterator[Any]:
        number = 0
        try:
            for number, line in enumerate(state.progress(source, "importing"), start=1):
                if not line.strip():
                    continue
                try:
                    yield from_json(line)
                except (SchemaError, ValidationError) as exc:
                    raise ValidationError(f"{source.name} line {number}: {exc}") from None
        except UnicodeDecodeError as exc:
            where = f" after line {number}" if number else ""
            raise ValidationError(
                f"{source.name} is not UTF-8 text{where} ({exc.reason}); "
                "an export is always UTF-8, so import the file as it was exported"
            ) from None

    report = state.store().import_records(records())
    state.emit(
        {"added": report.added, "unchanged": report.unchanged},
        f"imported {report.added} version(s); {report.unchanged} were already there",
    )


@cli.command()
@store_command
def verify(state: Context) -> None:
    """List what is damaged in the store, changing nothing; exit 3 if anything is."""
    damage = state.store().verify()
    state.emit(
        [{"location": d.location, "problem": d.problem, "id": d.id} for d in damage],
        lambda: "\n".join(str(d) for d in damage) or "no damage found",
    )
    if damage:
        raise SystemExit(EXIT["store"])


@cli.command()
@json_option
@pass_context
@handle_errors
def plugins(state: Context) -> None:
    """The plugins found, and the backends and checks each one brings."""
    from experiments.plugins import Plugins  # noqa: PLC0415

    found = Plugins()
    listing = found.plugins()
    backends = found.backends()
    checks = found.checks()
    data = {
        "plugins": [
            {
                "name": p.name,
                "source": p.source,
                "distribution": p.distribution,
                "version": p.version,
            }
            for p in listing
        ],
        "backends": {
            s: {"plugin": b.plugin, "description": b.description} for s, b in backends.items()
        },
        "checks": {
            c: {"plugin": i.plugin, "severity": i.check.severity.value, "summary": i.check.summary}
            for c, i in checks.items()
        },
    }

    def text() -> str:
        lines = ["plugins:"]
        for plugin in listing:
            origin = f" ({plugin.distribution} {plugin.version})" if plugin.distribution else ""
            lines.append(f"  {plugin.name}: {plugin.source}{origin}")
        lines.append("backends:")
        lines += [
            f"  {scheme}:// from {b.plugin}: {b.description}"
            for scheme, b in sorted(backends.items())
        ]
        lines.append("checks:")
        lines += [
            f"  {check_id} from {i.plugin}: {i.check.summary}" for check_id, i in checks.items()
        ]
        return "\n".join(lines)

    state.emit(data, text)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash: eval "$(experiments completion bash)"    (in ~/.bashrc)
    zsh:  eval "$(experiments completion zsh)"     (in ~/.zshrc)
    fish: experiments completion fish > ~/.config/fish/completions/experiments.fish
    """
    from click.shell_completion import get_completion_class  # noqa: PLC0415

    completer = get_completion_class(shell)
    assert completer is not None  # the choices above are click's own shells
    click.echo(completer(cli, {}, "experiments", "_EXPERIMENTS_COMPLETE").source())


@cli.command()
@record_option(
    "--objective", kind="objective", what="report on one objective and its sub-objectives"
)
@click.option(
    "--format",
    "format_",
    metavar="FORMAT",
    help=(
        "md, json, csv, csv-comma, html or a plugin's format "
        "(default: the -o file's extension, else md)"
    ),
)
@click.option("--lang", default="en", show_default=True, metavar="LANG", help="en, da, nb or sv")
@click.option(
    "-o",
    "--output",
    type=click.Path(writable=True, allow_dash=True, path_type=str),  # "board/" keeps its slash
    help="file or directory to write; 'board/' makes the directory (default, or -: standard "
    "output)",
)
@click.option("--at", metavar="TIME", help="report as of this time (ISO 8601; default now)")
@click.option("--no-checks", is_flag=True, help="leave out what the checks find")
@store_options
@pass_context
@handle_errors
def report(
    state: Context,
    objective: str | None,
    format_: str | None,
    lang: str,
    output: str | None,
    at: str | None,
    no_checks: bool,
) -> None:
    """Write the roll-up report of the strategy, or of one objective, for a board.

    \b
    experiments report --objective welfare-in-100-days --format html --lang da -o board.html
    experiments report --format csv -o experiments.csv     (the experiment list)
    experiments report --format json | jq .summary        (for scripts)
    """
    from experiments import reports  # noqa: PLC0415 - Jinja2 and friends load only here

    store = state.store()
    steps = ["rolling up", "checking", "rendering"]
    built = None
    rendered: str | bytes = ""
    for step in state.progress(steps, "report"):
        if step == "rolling up":
            built = reports.build(
                store, objective, at=at, checks=not no_checks, plugins=store.plugins
            )
        elif step == "rendering":
            assert built is not None
            if output is not None and output != "-":
                directory = output.endswith(("/", os.sep)) or Path(output).is_dir()
                chosen = format_ or ("md" if directory else None)
                written = reports.write(built, output, chosen, lang, plugins=store.plugins)
                click.echo(f"report written to {written}", err=True)
                return
            rendered = reports.render(built, format_ or "md", lang, plugins=store.plugins)
    if isinstance(rendered, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered)
        sys.stdout.buffer.flush()
    else:
        click.echo(rendered, nl=not rendered.endswith("\n"))
