"""The ``experiments`` command: shared options, store opening, errors and exit codes."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Concatenate, Final, NoReturn, ParamSpec, TypeVar

import click
import pendulum

from experiments import errors
from experiments._version import __version__
from experiments.cli.words import in_cli_words, names, options_of, repeated
from experiments.model import Record
from experiments.model._time import TimeError, format_datetime, parse_datetime
from experiments.model._validate import checked_name

if TYPE_CHECKING:
    from experiments.cli.progress import Progress

__all__ = [
    "EXIT",
    "Context",
    "Moment",
    "at_option",
    "cli",
    "fail",
    "handle_errors",
    "json_option",
    "pass_context",
    "record_option",
    "repeated_option",
    "store_command",
    "store_options",
]

#: The command's exit codes.
EXIT: Final = {"ok": 0, "findings": 1, "usage": 2, "store": 3}

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

#: The library's errors that are bad input (exit 2); every other one is trouble with the store.
_BAD_INPUT: Final = (errors.ValidationError, errors.TransitionError, errors.NotFoundError)


class _OneLineError(click.ClickException):
    """One of click's own errors (a misspelt option, a missing argument) as one line.

    Usage errors are bad input (exit 2); a file click could not open is a file error
    (exit 3), as for every other error of the command.
    """

    exit_code = EXIT["usage"]

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True, file=file)


class _FileLineError(_OneLineError):
    exit_code = EXIT["store"]


def _one_line(error: click.ClickException) -> _OneLineError:
    """The one-line error for one of click's own, closing what its command had opened."""
    context = getattr(error, "ctx", None)
    if isinstance(context, click.Context):
        context.close()  # a file an argument opened before the error came would stay open
    if isinstance(error, _NO_ARGUMENTS) and context is not None:
        command = context.command
        if isinstance(command, click.Group):
            names = ", ".join(command.list_commands(context))
            message = f"{context.command_path} needs a command: {names}"
        else:
            message = f"{context.command_path} needs arguments"
    else:
        message = " ".join(error.format_message().split())
    if isinstance(error, click.UsageError) and context is not None:
        message += f" (see '{context.command_path} --help')"
    opening = isinstance(error, click.FileError) or isinstance(error.__context__, OSError)
    return (_FileLineError if opening else _OneLineError)(message)


_NO_ARGUMENTS: Final = getattr(click.exceptions, "NoArgsIsHelpError", ())


#: The module of :mod:`experiments.cli` that defines each command: a command line
#: imports only the module of the command it runs (tests/test_cli.py checks the table).
COMMAND_MODULES: Final = {
    "add": "add",
    **dict.fromkeys(
        ("check", "completion", "export", "import", "plugins", "report", "settings", "verify"),
        "admin",
    ),
    **dict.fromkeys(("agree", "done", "glossary", "import-responses", "maturity"), "mental_models"),
    **dict.fromkeys(("abandon", "conclude", "decide", "learn", "measure", "start"), "outcomes"),
    **dict.fromkeys(("follow-up", "next-steps", "sprints", "templates"), "practice"),
    "import-csv": "sheets",
    **dict.fromkeys(("access", "consent", "erase"), "privacy"),
    **dict.fromkeys(
        (
            "delete", "edit", "history", "init", "link", "list", "purge", "restore", "show",
            "unlink",
        ),
        "records",
    ),
}  # fmt: skip


class _Commands(dict[str, click.Command]):
    """The group's commands, each module imported when one of its commands is first wanted.

    Looking up one command imports its module; listing them imports every module.
    """

    def _load(self, name: object = None) -> None:
        module = COMMAND_MODULES.get(name) if isinstance(name, str) else None
        if module is not None:
            if not dict.__contains__(self, name):
                importlib.import_module(f"experiments.cli.{module}")
            return
        for each in dict.fromkeys(COMMAND_MODULES.values()):
            importlib.import_module(f"experiments.cli.{each}")

    def get(self, name: str, default: Any = None) -> Any:
        self._load(name)
        return super().get(name, default)

    def __getitem__(self, name: str) -> click.Command:
        self._load(name)
        return super().__getitem__(name)

    def __contains__(self, name: object) -> bool:
        self._load(name)
        return super().__contains__(name)

    def __iter__(self) -> Iterator[str]:
        self._load()
        return super().__iter__()

    def __len__(self) -> int:
        self._load()
        return super().__len__()

    def keys(self) -> Any:
        self._load()
        return super().keys()

    def values(self) -> Any:
        self._load()
        return super().values()

    def items(self) -> Any:
        self._load()
        return super().items()


#: Commands people try that are not ours, and the one that does what they want.
TRIED_INSTEAD: Final = {
    "rollup": "report",
    "roll-up": "report",
    "ls": "list",
    "rm": "delete",
    "new": "add",
    "create": "add",
}


class _Command(click.Group):
    """The `experiments` group: click's own errors are one `error:` line too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            ours = TRIED_INSTEAD.get(args[0]) if args else None
            if ours is None:
                raise
            ctx.fail(f"No such command {args[0]!r}; `{ctx.command_path} {ours}` does that.")

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _OneLineError:
            raise
        except click.ClickException as error:
            raise _one_line(error) from error

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _OneLineError:
            raise
        except click.ClickException as error:
            raise _one_line(error) from error


class Context:
    """What every command shares: where the store is, who is writing, how to print."""

    def __init__(self) -> None:
        self.store_url: str | None = None
        self.actor: str | None = None
        self.as_json = False
        self.debug = False
        self._store: Any = None

    def store(self, *, create: bool | None = None) -> Any:
        """The store named by --store, EXPERIMENTS_STORE or the default, opened once."""
        if self._store is None:
            from experiments.stores import connect  # noqa: PLC0415 - only when a command runs

            checked_name(self.actor, "--by")  # said as the option, before the store is named
            self._store = connect(self.store_url, create=create, actor=self.actor)
        return self._store

    def about_the_store(self, error: errors.ExperimentsError) -> errors.ExperimentsError:
        """``error``, saying that the store URL came from EXPERIMENTS_STORE if it is about
        the store and the URL did."""
        from experiments.stores._connect import (  # noqa: PLC0415 - only on an error
            STORE_ENV,
            named_by_environment,
        )

        if not isinstance(error, errors.StoreError | errors.SchemaError):
            return error
        if self.store_url is not None or not os.environ.get(STORE_ENV):
            return error
        return named_by_environment(error)

    def mask(self, text: str) -> str:
        """``text`` with the store URL's password and secret parameters masked.

        The last line of defence: every error a command prints passes through here, so a
        plugin's or a driver's message that quotes the URL shows no secret.
        """
        from experiments.stores._connect import STORE_ENV  # noqa: PLC0415 - on an error only
        from experiments.stores.url import StoreURL  # noqa: PLC0415

        raw = self.store_url or os.environ.get(STORE_ENV)
        if not raw:
            return text
        try:
            return StoreURL.parse(raw).mask(text)
        except errors.ExperimentsError:
            return text

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def emit(self, data: Any, text: str | Callable[[], str]) -> None:
        """Print ``data`` as JSON with --json, else ``text``."""
        if self.as_json:
            import json  # noqa: PLC0415 - only for --json

            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_json_value))
        else:
            click.echo(text() if callable(text) else text)

    def done(self, data: Any, text: str) -> None:
        """Say what a command that wrote a file did: JSON on stdout with --json, else
        ``text`` on stderr (standard output may be what was written)."""
        if self.as_json:
            self.emit(data, text)
        else:
            click.echo(text, err=True)

    def wrote(self, record: Record, verb: str = "saved") -> None:
        """Print a record just written: its data with --json, else ``verb`` and its line."""
        from experiments.cli.text import one_line, shown_data  # noqa: PLC0415 - on a write only

        self.emit(shown_data(record), lambda: f"{verb} {one_line(record)}")

    def progress(self, label: str) -> Progress:
        """A progress bar for the command's work: on a terminal only, never when piped."""
        from experiments.cli.progress import Progress  # noqa: PLC0415 - only for long commands

        return Progress(label)


def _json_value(value: object) -> str:
    """What --json prints for a value JSON has no type for: times in RFC 3339."""
    if isinstance(value, pendulum.DateTime):
        return format_datetime(value)
    return str(value)


pass_context = click.make_pass_decorator(Context, ensure=True)


def confirm(yes: bool, question: str, what: str) -> None:
    """Ask ``question`` unless ``yes``; without a terminal to ask on, demand --yes.

    ``what`` names the command that cannot be undone, for the refusal.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{what} cannot be undone; confirm with --yes")
    click.confirm(question, abort=True, err=True)


def fail(message: str, code: str = "usage") -> NoReturn:
    """Stop with one line on stderr and the exit code for ``code``."""
    click.echo(f"error: {' '.join(message.split())}", err=True)
    raise SystemExit(EXIT[code])


def _set_store(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(Context).store_url = value
    return value


def _set_json(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(Context).as_json = True
    return value


def _set_by(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(Context).actor = value
    return value


_STORE_HELP = (
    "store URL, e.g. sqlite:///programme.db (default: EXPERIMENTS_STORE, else experiments.db)"
)


def store_options(command: F) -> F:
    """--store and --by, accepted after the subcommand as well as before it."""
    command = click.option(
        "--by",
        metavar="NAME",
        expose_value=False,
        callback=_set_by,
        help="who is making the change (recorded in the history)",
    )(command)
    return click.option(
        "--store",
        metavar="URL",
        expose_value=False,
        callback=_set_store,
        help=_STORE_HELP,
    )(command)


def json_option(command: F) -> F:
    """--json: print objects as JSON, for scripts."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="print JSON instead of text, for scripts",
    )(command)


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click.ParamType takes a type argument only from click 8.2
    _ParamType = click.ParamType


class Moment(_ParamType):
    """A moment as ``--at`` takes it: ISO 8601 text, read by the model's one rule.

    Every command's ``--at`` is read here, before the command runs, so that a time that
    is not one is refused naming ``--at``, whichever field of which record the library
    would have put it in (``started_at``, ``decided_at``, ...).
    """

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_datetime(value)
        except (TimeError, ValueError, OverflowError) as exc:  # as the model's fields catch
            self.fail(in_cli_words(f"{value!r} {exc}"), param, ctx)


class Number(_ParamType):
    """A number (``whole``: a whole one), refused in words rather than Python's type names."""

    def __init__(self, *, whole: bool = False) -> None:
        self.whole = whole
        self.name = "whole number" if whole else "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return int(value) if self.whole else float(value)
        except ValueError:
            self.fail(f"{value!r} is not a {self.name}", param, ctx)


def at_option(what: str) -> Callable[[F], F]:
    """``--at TIME``: the moment a command reads as of, or when what it records happened."""
    return click.option(
        "--at", type=Moment(), metavar="TIME", help=f"{what} (ISO 8601; default now)"
    )


def repeated_option(*decls: str, help: str, **how: Any) -> Callable[[F], F]:  # noqa: A002
    """An option given once for each value, whose help says so in the one wording
    (:func:`~experiments.cli.words.repeated`)."""
    return click.option(*decls, multiple=True, help=repeated(help), **how)


def record_option(
    *decls: str,
    kind: str,
    what: str,
    multiple: bool = False,
    metavar: str | None = None,
) -> Callable[[F], F]:
    """An option that names a record of ``kind`` by its id or slug.

    Its placeholder is the kind (``OBJECTIVE``) and its help says where to find a value
    (:func:`~experiments.cli.words.names`); an option given once per record says so.
    """
    return click.option(
        *decls,
        multiple=multiple,
        metavar=metavar or kind.upper(),
        help=names(what, kind, repeats=multiple),
    )


def store_command(command: Callable[Concatenate[Context, P], R]) -> Callable[P, R]:
    """What a command on the store takes: --store, --by, --json and the shared Context.

    Its errors become one line on stderr and the documented exit code
    (:func:`handle_errors`).
    """
    return store_options(json_option(pass_context(handle_errors(command))))


def handle_errors(command: F) -> F:
    """Turn errors into one line on stderr and the documented exit code.

    The library's own errors say what was wrong, in the command line's words
    (:func:`~experiments.cli.words.in_cli_words`); an ``OSError`` (a file that cannot be
    written, a full disk, a closed pipe) is trouble with storage, and a ``UnicodeError``
    is text that is not in the expected encoding, which is bad input.  Standard output
    is flushed here, so that a failure to write it is reported like any other.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        state = ctx.ensure_object(Context)
        try:
            result = command(*args, **kwargs)
            sys.stdout.flush()
            return result  # noqa: TRY300 - the flush belongs to the command's work
        except errors.ExperimentsError as exc:
            if state.debug:
                raise
            fail(state.mask(_told(state, exc, ctx.command)), _code(exc))
        except OSError as exc:
            _forget_stdout()
            if state.debug:
                raise
            fail(state.mask(_os_message(exc)), "store")
        except UnicodeError as exc:
            if state.debug:
                raise
            fail(_unicode_message(exc), "usage")
        finally:
            state.close()

    return wrapper  # type: ignore[return-value]


def _told(state: Context, error: errors.ExperimentsError, command: click.Command) -> str:
    """What the command line says for one of the library's errors: in its own words.

    A record the library could not find (one named by an option the library resolves
    itself, such as ``--objective``) is told with where to find one, as the command
    line's own look-ups tell it (:func:`~experiments.cli.resolve.cli_words`).
    """
    if isinstance(error, errors.NotFoundError) and "`experiments " not in str(error):
        from experiments.cli.resolve import cli_words  # noqa: PLC0415 - on an error only

        error = cli_words(error)
    return in_cli_words(str(state.about_the_store(error)), options_of(command))


def _code(error: errors.ExperimentsError) -> str:
    """The exit code for one of the library's errors: bad input, or trouble with the store."""
    return "usage" if isinstance(error, _BAD_INPUT) else "store"


def _forget_stdout() -> None:
    """Send what is left of standard output nowhere if it can no longer be written.

    Without this, Python's own last flush at exit fails again, prints a second message
    and changes the exit code.
    """
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass


def _os_message(exc: OSError) -> str:
    """What failed, on which file, and what to look at."""
    if isinstance(exc, BrokenPipeError):
        return "the output was closed before everything was written (broken pipe)"
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return f"{what}; check where the output goes and that the disk has room"
    return (
        f"{what}: {exc.filename}; check that the path exists, may be written, and the disk has room"
    )


def _unicode_message(exc: UnicodeError) -> str:
    """Which encoding the text did not fit, and how to fix that."""
    if isinstance(exc, UnicodeDecodeError):
        return f"the input is not {exc.encoding} text ({exc.reason}); save it as UTF-8"
    if isinstance(exc, UnicodeEncodeError):
        shown = exc.object[exc.start : exc.end]
        return (
            f"{shown!r} cannot be written as {exc.encoding} ({exc.reason}); "
            "use a UTF-8 locale or set PYTHONIOENCODING=utf-8"
        )
    return f"text that is not valid Unicode: {exc}"


_EPILOG = f"""\b
Exit codes: {EXIT["ok"]} ok; {EXIT["findings"]} findings from `check`, or stopped (Ctrl-C, or
a question answered no); {EXIT["usage"]} bad usage or bad input (nothing was changed);
{EXIT["store"]} a store or file error, or damage found by `verify`.

\b
Log an outcome from a shell script:
  experiments measure --experiment art-for-families "families returning" 7
  experiments show art-for-families     (its hypotheses, with the ids --hypothesis takes)
  experiments learn art-for-families "Seven families came twice" \\
      --hypothesis ID --verdict supports --evidence moderate
"""


@click.group(cls=_Command, epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--store", metavar="URL", expose_value=False, callback=_set_store, help=_STORE_HELP)
@click.option(
    "--by", metavar="NAME", expose_value=False, callback=_set_by, help="who is making the change"
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    expose_value=False,
    callback=_set_json,
    help="print JSON, for scripts",
)
@click.option("--debug", is_flag=True, help="show tracebacks instead of one-line errors")
@click.version_option(__version__, prog_name="experiments")
@pass_context
def cli(state: Context, debug: bool) -> None:
    """Record "think big, start small" experiments and roll them up into the strategy.

    Every command works on one store: --store URL, else the EXPERIMENTS_STORE
    environment variable, else experiments.db in the working directory.  Create one with
    `experiments init`.  Records are named by their id or their slug: `experiments list
    KIND` lists them (KIND: experiments, objectives, participants, ...), and
    `experiments show EXPERIMENT` an experiment's hypotheses, learnings, decisions,
    participants and prototypes, with their ids.
    """
    state.debug = debug or os.environ.get("EXPERIMENTS_DEBUG") == "1"
