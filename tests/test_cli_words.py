"""The command line speaks its own words: options and arguments, never Python's.

Every option of every command is given a bad value, and the one error line must name
the option as it was typed (or the value, and where to find a good one), with no
argument, field, call or collection of the Python API in it.  The commands and their
options are read from the command line itself, so a new one cannot slip past: a
command without an invocation in :mod:`cli_programme` fails, and so does an option
whose bad value is not refused, unless :data:`ANY_VALUE` says why any value will do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final, NamedTuple

import click
import pytest
from _pytest.mark.structures import ParameterSet
from click.testing import Result

from cli_programme import commands, invocation, invoke
from experiments.cli.words import REPEAT, in_cli_words, names, options_of, repeated

#: What a shell passes for bytes that are not UTF-8: text no store can hold.
NOT_TEXT: Final = "\udcff"


class Bad(NamedTuple):
    """A bad value for an option, and how its error must name what was wrong.

    ``says`` is ``"option"`` (the option as typed), ``"record"`` (the value and where
    to find a good one) or ``"value"`` (the value, with what it should be: a report
    format, a filter); ``base`` replaces the command's usual invocation.
    """

    value: str
    says: str = "option"
    base: tuple[str, ...] | None = None


#: Options whose bad value needs more than the command's usual invocation, or whose
#: error names the value rather than the option.
BAD: Final[dict[tuple[str, str], Bad]] = {
    ("add excuse", "--experiment"): Bad("nowhere", "record", ("add", "excuse", "G", "no-time")),
    ("learn", "--next-owner"): Bad(NOT_TEXT, base=("learn", "cafe", "Seen", "--next-action", "x")),
    ("learn", "--next-due"): Bad(
        "2026-13-45", base=("learn", "cafe", "Seen", "--next-action", "x")
    ),
    ("list", "--where"): Bad("status = (running", "value"),
    ("list", "--order"): Bad("colour", "value"),
    ("report", "--format"): Bad("pdf", "value"),
    ("report", "--lang"): Bad("klingon", "value"),
    ("check", "--disable"): Bad("no/such-check", "value"),
}

#: Options that take any value, and why.
ANY_VALUE: Final[dict[tuple[str, str], str]] = {
    ("import-responses", "--not-answered"): "any cell text may stand for 'not answered'",
}


def _bad(path: str, param: click.Option) -> Bad:
    """The bad value to give ``param`` of the command ``path``, by what it takes."""
    flag = _flag(param)
    if (path, flag) in BAD:
        return BAD[path, flag]
    if isinstance(param.type, click.Choice):
        return Bad("nope")
    if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType):
        return Bad("many")
    by_metavar = {"TIME": "yesterday", "DATE": "2026-13-45", "ISO8601": "2w"}
    if param.metavar in by_metavar:
        return Bad(by_metavar[param.metavar])
    if "see `experiments " in (param.help or ""):
        return Bad("nowhere", "record")
    if param.name == "store":
        return Bad(NOT_TEXT, "value")
    return Bad(NOT_TEXT)


def _flag(param: click.Parameter) -> str:
    return next(opt for opt in param.opts if opt.startswith("--"))


def _takes_a_value(param: click.Parameter) -> bool:
    """An option given a value; a file one is a file error (tests/test_cli.py)."""
    return (
        isinstance(param, click.Option)
        and not param.is_flag
        and not isinstance(param.type, click.Path | click.File)
    )


def _options() -> Iterator[ParameterSet]:
    for path, command in commands():
        for param in command.params:
            if _takes_a_value(param) and (path, _flag(param)) not in ANY_VALUE:
                yield pytest.param(path, _flag(param), id=f"{path} {_flag(param)}")


def _command(path: str) -> click.Command:
    return dict(commands())[path]


#: Python's words in a message: a record's field, a keyword argument, a call, a
#: collection shown back, Python's constants.
_PYTHON: Final = (
    re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\.[a-z_]+\b"),
    re.compile(r"\b[a-z_]+=(?=[\s,;)\[{<]|True\b|False\b|None\b|$)"),
    re.compile(r"\b[A-Za-z_][\w.]*\((?!s\))[^)]*\)"),
    re.compile(r"; got [(\[{]"),
    re.compile(r"\b(?:None|True|False|datetime|timedelta)\b"),
    re.compile(r"\b(?:WorkshopAction|SurveyRound|KeyResult|InterviewNote|NextStep)\b"),
)


def python_words(line: str, command: click.Command) -> list[str]:
    """The words of the Python API in ``line``, an error of ``command``.

    Besides :data:`_PYTHON`: a parameter's Python name written alone (``min_group_size``)
    or as the subject of the message (``at is not ...``).
    """
    found = [match.group(0) for pattern in _PYTHON for match in pattern.finditer(line)]
    python = {param.name for param in command.params if param.name}
    found += [
        word
        for word in re.findall(r"(?<![\w'\"`./-])[a-z]+(?:_[a-z]+)+(?![\w'\"`/-])", line)
        if word in python
    ]
    subject = re.match(r"error: ([a-z_]+) [a-z]", line)
    if subject and subject.group(1) in python:
        found.append(subject.group(1))
    return found


def error_line(done: Result) -> str:
    """The one `error: ...` line a refused command printed."""
    assert done.exit_code == 2, (done.exit_code, done.output, done.exception)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    return lines[0]


def _run(workdir: Path, *args: str) -> Result:
    return invoke(f"sqlite:///{workdir / 'programme.db'}", workdir, *args)


class TestEveryOption:
    """Every option of every command, given a bad value, says so in the command's words."""

    @pytest.mark.parametrize(("path", "flag"), list(_options()))
    def test_a_bad_value_is_told_in_the_command_lines_words(
        self, path: str, flag: str, workdir: Path
    ) -> None:
        """Exit 2, one line naming the option (or the value), and no word of Python."""
        command = _command(path)
        param = next(p for p in command.params if flag in p.opts)
        assert isinstance(param, click.Option)
        bad = _bad(path, param)
        line = error_line(_run(workdir, *(bad.base or invocation(path)), flag, bad.value))
        assert python_words(line, command) == [], line
        if bad.says == "option":
            assert flag in line, line
        else:
            assert repr(bad.value) in line, line
        if bad.says == "record":
            assert "see `experiments " in line, line

    def test_the_tables_name_only_options_there_are(self) -> None:
        """BAD and ANY_VALUE name options the commands have: they cannot go stale."""
        there = {
            (path, _flag(p))
            for path, c in commands()
            for p in c.params
            if isinstance(p, click.Option)
        }
        assert set(BAD) | set(ANY_VALUE) <= there


#: Messages once in Python's words: the command, what it now says, what it said.
ONCE_IN_PYTHON: Final = [
    (("add", "objective", ""), "TITLE must not be empty", "Objective.title"),
    (("add", "participant", "nope"), "ROLE must be one of", "Participant.role"),
    (("learn", "cafe", ""), "OBSERVATION must not be empty", "Learning.observation"),
    (("measure", "families", "nan"), "VALUE must be a finite number", "Measurement.value"),
    (("measure", "", "3"), "METRIC must not be empty", "key_result"),
    (("abandon", "walks", "--reason", NOT_TEXT), "--reason holds", "abandon_reason"),
    (
        ("learn", "cafe", "Seen", "--next-action", "x", "--next-due", "2026-13-45"),
        "--next-due is not a date",
        "NextStep.due",
    ),
    (("start", "walks", "--at", "yesterday"), "'--at'", "started_at"),
    (("check", "--at", "yesterday"), "'--at'", "error: at is"),
    (
        ("conclude", "cafe", "--at", "2000-01-01"),
        "concluded at 2000-01-01T00:00:00Z, before it started",
        "started_at",
    ),
    (
        ("done", "invite", "--at", "2000-01-01"),
        "workshop-action 'Invite citizens' is done",
        "done_at",
    ),
    (("report", "--min-group-size", "1"), "--min-group-size must be 2 or more", "min_group"),
    (("maturity", "--min-group-size", "1"), "--min-group-size must be 2 or more", "min_group"),
    (("report", "-o", "board.pdf"), "give --format FORMAT (one of", "format="),
    (
        ("add", "template", "T", "--time-box", "P8W", "--max-time-box", "P4W"),
        "longer than its --max-time-box P28D",
        "max_time_box",
    ),
    (
        (
            "add",
            "survey-round",
            "co",
            "R",
            "--opened-at",
            "2026-02-01",
            "--closed-at",
            "2026-01-01",
        ),
        "survey-round 'R' closes",
        "closed_at after opened_at",
    ),
    (
        ("add", "workshop-action", "W"),
        "give --objective OBJECTIVE (see `experiments list objectives`) or --experiment",
        "objectives=[...]",
    ),
    (("decide", "club", "stop", "--revise"), "decide without --revise", "revise=True"),
    (
        ("import-responses", "spring", "answers.csv", "--delimiter", "|"),
        "--delimiter must be ',', ';' or a tab",
        "error: delimiter",
    ),
    (
        ("import-responses", "spring", "answers.csv", "--zone", "Mars/Base"),
        "--zone names an unknown time zone 'Mars/Base'",
        "error: zone",
    ),
    (
        ("import-csv", "participants", "panel.csv", "--zone", "Mars/Base"),
        "--zone names an unknown time zone 'Mars/Base'",
        "[Mars/Base]",
    ),
    (("add", "objective", "X", "--by", NOT_TEXT), "--by holds a lone surrogate", "actor"),
    (("list", "objectives", "--filter", "weight=abc"), "it is not a number", "convert"),
    (("add", "questionnaire", "Q", "--scale", "5-1"), "e.g. 1-5", "Scale(1, 5)"),
    (("agree", "cocreation", "--definition", "en="), "--definition needs LANG=TEXT", "agreed_at"),
    (("show", ""), "a record is named by its id or its slug", "by the record"),
    (
        ("check", "--at", "2026-11-27T12:00"),
        "give an aware time such as '2026-03-01T10:00:00+01:00'",
        "datetime(",
    ),
    (
        ("list", "experiments", "--order", "colour"),
        "an experiment has no field 'colour' to order by",
        "filter or group on",
    ),
    (("measure", "visits", "abc"), "'abc' is not a number", "float"),
    (
        ("edit", "walks", "--set", "colour=blue"),
        "an experiment has no field 'colour' to set",
        "filter or group on",
    ),
    (
        ("show", "wlaks"),
        "did you mean the experiment 'walks'? See `experiments list KIND`",
        "mean 'walks'",
    ),
    (
        ("check", "--objective", "nowhere"),
        "see `experiments list objectives`",
        "`experiments list`;",
    ),
]


class TestMessagesOnceInPython:
    """The messages that spoke Python on the command line, each as it reads now."""

    @pytest.mark.parametrize(
        ("args", "said", "not_said"), ONCE_IN_PYTHON, ids=[" ".join(a) for a, *_ in ONCE_IN_PYTHON]
    )
    def test_now_in_the_command_lines_words(
        self, args: tuple[str, ...], said: str, not_said: str, workdir: Path
    ) -> None:
        """The message says what was wrong with the option or argument as typed."""
        line = error_line(_run(workdir, *args))
        assert said in line, line
        assert not_said not in line, line
        assert python_words(line, _command(_path_of(args))) == [], line

    def test_a_decided_experiment_is_revised_by_the_command(self, workdir: Path) -> None:
        """Deciding again says which command revises, not which Python call."""
        assert _run(workdir, "decide", "club", "scale-up").exit_code == 0
        line = error_line(_run(workdir, "decide", "club", "stop"))
        assert "revise it with the reason why: `experiments decide club stop --revise" in line
        assert "run.decide" not in line
        assert python_words(line, _command("decide")) == [], line


def _path_of(args: tuple[str, ...]) -> str:
    """The command ``args`` run: `add objective`, `list`."""
    known = dict(commands())
    return " ".join(args[:2]) if " ".join(args[:2]) in known else args[0]


class TestInCliWords:
    """The one translation of library messages into the command line's words."""

    def test_arguments_become_the_running_commands_options(self) -> None:
        """name=<id>, name='a' or 'b' and Class.name become options; others stay."""
        options = {"hypothesis": "--hypothesis", "verdict": "--verdict"}
        assert in_cli_words("Learning.verdict needs hypothesis=<id>", options) == (
            "--verdict needs --hypothesis ID (see `experiments show EXPERIMENT`)"
        )
        assert in_cli_words("give verdict='supports' or 'refutes'", options) == (
            "give --verdict supports or refutes"
        )
        assert in_cli_words("give format=, or a name", options) == "give format=, or a name"
        assert in_cli_words("Experiment.time_box is wrong", options) == (
            "Experiment.time_box is wrong"
        )

    def test_python_calls_become_commands(self) -> None:
        """connect(url, create=True) becomes `experiments init`; asides for Python go."""
        assert in_cli_words(
            "create one with `experiments init` (or connect(url, create=True))"
        ) == ("create one with `experiments init`")
        assert (
            in_cli_words(
                "or create the store with connect(url, create=True) "
                "(a first write through connect(url) creates it too)"
            )
            == "or create the store with `experiments init` (a first write creates it too)"
        )
        assert in_cli_words("such as 'P14D' (or a datetime.timedelta); got") == (
            "such as 'P14D'; got"
        )

    @pytest.mark.parametrize(
        ("python", "cli"),
        [
            (
                "run verify() (`experiments verify`) to list them",
                "run `experiments verify` to list them",
            ),
            (
                "move it with start(), conclude() and abandon() (`experiments start|conclude`)",
                "move it with `experiments start|conclude`",
            ),
            (
                (
                    "the reason (Decision.revised(), run.decide(..., revise=True), "
                    "`experiments decide EXPERIMENT OUTCOME --revise`)"
                ),
                "the reason (`experiments decide EXPERIMENT OUTCOME --revise`)",
            ),
            ("list them with query() or `experiments list`", "list them with `experiments list`"),
            (
                "look up x (get() or history(), or `experiments history ID`) first",
                "look up x (`experiments history ID`) first",
            ),
        ],
    )
    def test_a_call_beside_a_command_leaves_the_command(self, python: str, cli: str) -> None:
        """Where the library gives a Python call and the command alike, the command stays."""
        assert in_cli_words(python) == cli

    @pytest.mark.parametrize(
        ("python", "cli"),
        [
            ("min_group_size must be 2 or more", "--min-group-size must be 2 or more"),
            ("at is not an ISO 8601 date-time", "--at is not an ISO 8601 date-time"),
            ("its max_time_box P28D", "its --max-time-box P28D"),
            ("give objectives=[...] or sprint=", (
                "give --objective OBJECTIVE (see `experiments list objectives`) or --sprint "
                "SPRINT (see `experiments list sprints`)"
            )),
            ("decide without revise=True", "decide without --revise"),
            ("Experiment.title must not be empty", "TITLE must not be empty"),
            ("title must not be empty", "TITLE must not be empty"),
            ("give format= (one of md, html)", "give --format FORMAT (one of md, html)"),
            ("holds ''; a tag is short; got ('',)", "holds ''; a tag is short"),
            ("SurveyRound 'Spring' closes", "survey-round 'Spring' closes"),
        ],
    )  # fmt: skip
    def test_names_become_what_the_command_takes(self, python: str, cli: str) -> None:
        """Bare names, name=[...], name=True, fields of arguments, collections, classes."""
        options = {
            "min_group_size": "--min-group-size",
            "at": "--at",
            "max_time_box": "--max-time-box",
            "objectives": "--objective",
            "sprint": "--sprint",
            "revise": "--revise",
            "title": "TITLE",
            "format": "--format",
        }
        assert in_cli_words(python, options) == cli

    @pytest.mark.parametrize(
        "message",
        [
            "unknown report format 'min_group_size'",
            "experiment 'at' is at the end",
            "no objective with id or slug 'at'",
            "answered_at '2026-01-01' has no time zone",
        ],
    )
    def test_what_a_person_typed_and_prose_stay(self, message: str) -> None:
        """Quoted values, a name that is not the subject, and names it has no option for."""
        assert in_cli_words(message, {"min_group_size": "--min-group-size", "at": "--at"}) == (
            message
        )


class TestOptionsOf:
    """A command's parameters by the names the library gives them."""

    def test_options_arguments_and_their_own_names(self) -> None:
        """Options by Python name and by their own; arguments by their placeholder."""
        command = click.Command(
            "x",
            params=[
                click.Argument(["title"]),
                click.Argument(["reference"], metavar="ID_OR_SLUG"),
                click.Option(["--format", "format_"]),
                click.Option(["--reason", "abandon_reason"]),
                click.Option(["-o", "--output"]),
            ],
        )
        assert options_of(command) == {
            "title": "TITLE",
            "reference": "ID_OR_SLUG",
            "format_": "--format",
            "format": "--format",
            "abandon_reason": "--reason",
            "reason": "--reason",
            "output": "--output",
        }


def _helps() -> Iterator[ParameterSet]:
    for path, command in commands():
        for param in command.params:
            if isinstance(param, click.Option) and param.help is not None:
                yield pytest.param(param, id=f"{path} {_flag(param)}")


class TestRepeatableHelp:
    """Every option given once per value says so in one wording, and no other does."""

    @pytest.mark.parametrize("param", list(_helps()))
    def test_one_wording(self, param: click.Option) -> None:
        """A repeatable option's help ends "(... repeat for more)"; another never says it."""
        text = param.help or ""
        if param.multiple:
            assert text.endswith((f" ({REPEAT})", f"; {REPEAT})")), text
            assert text.count("repeat") == 1, text
        else:
            assert "repeat" not in text, text

    def test_the_wording_comes_from_one_place(self) -> None:
        """names() and repeated() say it with REPEAT."""
        assert repeated("a tag") == f"a tag ({REPEAT})"
        assert names("a sprint", "sprint", repeats=True).endswith(f"; {REPEAT})")
        assert REPEAT not in names("a sprint", "sprint")

    def test_help_shows_it(self, tmp_path: Path) -> None:
        """`--help` prints the wording as the option's help has it."""
        shown = " ".join(
            invoke("memory://", tmp_path, "add", "experiment", "--help").stdout.split()
        )
        assert f"a free tag ({REPEAT})" in shown
        assert f"a facilitator ({REPEAT})" in shown
