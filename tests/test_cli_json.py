"""`--json` means JSON on standard output, for every command the command line has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from cli_programme import ADDS, COMMANDS, invoke
from experiments.cli import cli

#: What a command may exit with and still have done its work: `check` finds things.
_EXITS: dict[str, tuple[int, ...]] = {"check": (0, 1)}


def _as_json(workdir: Path, *args: str, at: str = "before") -> Any:
    """What the command prints with --json (before the command or after its arguments)."""
    url = f"sqlite:///{workdir / 'programme.db'}"
    command = (*args, "--json") if at == "after" else ("--json", *args)
    done = invoke(url, workdir, *command)
    assert done.exit_code in _EXITS.get(args[0], (0,)), done.output
    if args[0] == "export" and "-o" not in args:
        return [json.loads(line) for line in done.stdout.splitlines()]  # JSON Lines
    return json.loads(done.stdout)


def _names(group: click.Group) -> set[str]:
    return set(group.commands)


class TestEveryCommand:
    """Every command prints JSON with --json, given before or after the command."""

    def test_the_tables_name_every_command(self):
        """A command the CLI gains without a case here fails this test."""
        add = cli.commands["add"]
        assert isinstance(add, click.Group)
        assert _names(cli) - {"add"} == set(COMMANDS)
        assert _names(add) == set(ADDS)

    @pytest.mark.parametrize("name", sorted(COMMANDS))
    @pytest.mark.parametrize("at", ["before", "after"])
    def test_prints_json(self, name: str, at: str, workdir: Path):
        """The command's standard output parses as JSON."""
        data = _as_json(workdir, *COMMANDS[name], at=at)
        assert data is not None

    @pytest.mark.parametrize("name", sorted(ADDS))
    def test_add_prints_the_record(self, name: str, workdir: Path):
        """`add KIND --json` prints the record it added, with its id."""
        data = _as_json(workdir, "add", *ADDS[name], at="after")
        assert data["id"]


class TestReport:
    """`experiments --json report` is the JSON report, whatever else is asked."""

    def test_json_report_on_standard_output(self, workdir: Path):
        """--json without --format prints the JSON report, not Markdown."""
        data = _as_json(workdir, "report")
        assert {"summary", "experiments"} <= set(data)

    def test_json_with_another_format_is_refused(self, workdir: Path):
        """--json with --format md and no -o: exit 2, saying how to have either."""
        done = invoke(
            f"sqlite:///{workdir / 'programme.db'}", workdir, "--json", "report", "--format", "md"
        )
        assert done.exit_code == 2
        assert "leave out --format md, or --json" in done.stderr
        assert done.stdout == ""

    def test_written_to_a_file_says_where_as_json(self, workdir: Path):
        """With -o, the report goes to the file and stdout says where, as JSON."""
        data = _as_json(workdir, "report", "-o", "board.html")
        assert data == {"report": "board.html"}
        assert (workdir / "board.html").read_text(encoding="utf-8").startswith("<!")

    def test_a_directory_gets_the_json_report(self, workdir: Path):
        """With -o DIRECTORY/ and --json, the report written there is JSON."""
        data = _as_json(workdir, "report", "-o", "board/")
        written = Path(data["report"])
        assert written.name == "report.json"
        assert "summary" in json.loads((workdir / written).read_text(encoding="utf-8"))


class TestExport:
    """An export is JSON Lines; written to a file, --json says where and how much."""

    def test_to_a_file(self, workdir: Path):
        """`export -o FILE --json`: where it went and how many versions, as JSON."""
        data = _as_json(workdir, "export", "-o", "again.jsonl")
        lines = (workdir / "again.jsonl").read_text(encoding="utf-8").splitlines()
        assert data == {"output": "again.jsonl", "versions": len(lines)}
        assert all(json.loads(line)["id"] for line in lines)
