"""Commands about the store as a whole: checks, export and import, verify, plugins."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from experiments.cli.app import (
    EXIT,
    Context,
    at_option,
    cli,
    fail,
    handle_errors,
    json_option,
    pass_context,
    record_option,
    repeated_option,
    store_command,
)
from experiments.cli.mental_models import analysis_options
from experiments.cli.progress import Progress, lines_in
from experiments.cli.words import SEE
from experiments.errors import ValidationError
from experiments.model._time import format_datetime

if TYPE_CHECKING:
    from pendulum import DateTime

__all__: list[str] = []


@cli.command()
@record_option("--experiment", kind="experiment", what="check one experiment")
@record_option("--objective", kind="objective", what="check one objective and its sub-objectives")
@at_option("check as of this time")
@repeated_option(
    "--disable",
    "disabled",
    metavar="CHECK",
    help=f"switch a check off, e.g. engine-room/no-critical-voice; {SEE['check']}",
)
@repeated_option(
    "--option",
    "options",
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
    at: DateTime | None,
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
    with state.progress("checking") as progress:
        report = run_checks(
            state.store(),
            experiment=experiment,
            objective=objective,
            at=at,
            options=configured,
            disabled=disabled,
            progress=progress.over,
        )
    state.emit(
        {
            "at": format_datetime(report.at),
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
@store_command
def export_records(state: Context, output: Path | None, redact: bool) -> None:
    """Write every version of every record as JSON Lines: a lossless copy of the store.

    Import it into any store, of any backend, with `experiments import`.  With --redact
    no participant's name or slug is written: for a consultant, not for a backup.  With
    -o, --json prints where it went and how many versions as JSON.
    """
    from experiments._output import output_file  # noqa: PLC0415
    from experiments.serialization import to_json  # noqa: PLC0415

    store = state.store()
    with state.progress("exporting") as progress:
        records = progress.over(store.export(redact=redact), store.count_versions)
        if output is None or str(output) == "-":
            _write_lines(sys.stdout, (to_json(r) for r in records))
            return
        written = 0
        try:
            with output_file(output) as handle:
                for written, record in enumerate(records, start=1):  # noqa: B007 - counted
                    handle.write(to_json(record).encode("utf-8") + b"\n")
        except OSError as exc:
            reason = f"cannot write the export: {exc.strerror or exc}"
            raise OSError(exc.errno, reason, str(output)) from exc
    state.done({"output": str(output), "versions": written}, f"exported to {output}")


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

    def records(progress: Progress) -> Iterator[Any]:
        number = 0
        try:
            lines = progress.over(source, lambda: lines_in(source))
            for number, line in enumerate(lines, start=1):
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

    with state.progress("importing") as progress:
        report = state.store().import_records(records(progress))
    state.emit(
        {"added": report.added, "unchanged": report.unchanged},
        f"imported {report.added} version(s); {report.unchanged} were already there",
    )


@cli.command()
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--unset", is_flag=True, help="remove the setting NAME")
@store_command
def settings(state: Context, name: str | None, value: str | None, unset: bool) -> None:
    """Show the store's settings, or set NAME to VALUE (or --unset it).

    require-consent-for-external: whether an external participant must have recorded
    consent to take part (the check privacy/consent-missing); true or false.
    """
    from experiments.errors import ValidationError as Invalid  # noqa: PLC0415

    store = state.store()
    if name is not None:
        if value is None and not unset:
            raise Invalid(f"give {name} a VALUE (true or false), or --unset it")
        if value is not None and unset:
            raise Invalid("give a VALUE or --unset, not both")
        store.configure(name, None if unset else value)
    shown = store.configuration()
    state.emit(
        shown,
        lambda: "\n".join(f"{key}: {'(not set)' if v is None else v}" for key, v in shown.items()),
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
@json_option
@pass_context
def completion(state: Context, shell: str) -> None:
    """Print the shell completion script for SHELL.

    \b
    bash: eval "$(experiments completion bash)"    (in ~/.bashrc)
    zsh:  eval "$(experiments completion zsh)"     (in ~/.zshrc)
    fish: experiments completion fish > ~/.config/fish/completions/experiments.fish
    """
    from click.shell_completion import get_completion_class  # noqa: PLC0415

    completer = get_completion_class(shell)
    assert completer is not None  # the choices above are click's own shells
    script = completer(cli, {}, "experiments", "_EXPERIMENTS_COMPLETE").source()
    state.emit({"shell": shell, "script": script}, script)


@cli.command()
@record_option(
    "--objective", kind="objective", what="report on one objective and its sub-objectives"
)
@click.option(
    "--format",
    "format_",
    metavar="FORMAT",
    help=(
        "md, json, csv, csv-comma, html, maturity-csv, glossary-csv or a plugin's format "
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
@at_option("report as of this time")
@click.option("--no-checks", is_flag=True, help="leave out what the checks find")
@analysis_options
@store_command
def report(
    state: Context,
    objective: str | None,
    format_: str | None,
    lang: str,
    output: str | None,
    at: DateTime | None,
    no_checks: bool,
    group_by: str,
    min_group_size: int,
) -> None:
    """Write the roll-up report of the strategy, or of one objective, for a board.

    \b
    experiments report --objective welfare-in-100-days --format html --lang da -o board.html
    experiments report --format csv -o experiments.csv     (the experiment list)
    experiments report --format json | jq .summary        (for scripts)

    With --json the format is json unless --format or the -o file's extension says
    otherwise; with -o, --json prints where the report went as JSON.
    """
    from experiments import reports  # noqa: PLC0415 - Jinja2 and friends load only here

    to_stdout = output is None or output == "-"
    if state.as_json and to_stdout and format_ not in (None, "json"):
        fail(
            f"--json prints the report as JSON, not {format_}; leave out --format {format_}, "
            "or --json, or write the report to a file with -o"
        )
    if state.as_json and format_ is None and (to_stdout or _is_directory(output)):
        format_ = "json"
    store = state.store()
    with state.progress("report") as progress:
        progress.expect(1)  # the rendering, after what build() counts in
        built = reports.build(
            store,
            objective,
            at=at,
            checks=not no_checks,
            plugins=store.plugins,
            group_by=group_by,
            min_group_size=min_group_size,
            progress=progress.over,
        )
        written: Path | None = None
        rendered: str | bytes = ""
        if output is not None and not to_stdout:
            chosen = format_ or ("md" if _is_directory(output) else None)
            written = reports.write(built, output, chosen, lang, plugins=store.plugins)
        else:
            rendered = reports.render(built, format_ or "md", lang, plugins=store.plugins)
        progress.step()
    if written is not None:
        state.done({"report": str(written)}, f"report written to {written}")
    elif isinstance(rendered, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered)
        sys.stdout.buffer.flush()
    else:
        click.echo(rendered, nl=not rendered.endswith("\n"))


def _is_directory(output: str | None) -> bool:
    """Whether -o names a directory: one that exists, or written with a trailing slash."""
    return output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir())
