"""`--json` means JSON on standard output, for every command the command line has."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from experiments.cli import cli

#: A store to run commands on: its file, built once from the commands below.
_BUILD: tuple[tuple[str, ...], ...] = (
    ("init",),
    ("add", "objective", "Welfare", "--slug", "welfare"),
    ("add", "objective", "Culture", "--slug", "culture"),
    ("add", "key-result", "welfare", "families", "--baseline", "0", "--target", "40"),
    ("add", "participant", "citizen", "--slug", "anna"),
    ("add", "participant", "citizen", "--slug", "gone"),
    ("delete", "gone"),
    ("add", "experiment", "Walks", "--slug", "walks", "--objective", "welfare"),
    ("add", "experiment", "Cafe", "--slug", "cafe", "--objective", "welfare"),
    ("add", "experiment", "Club", "--slug", "club", "--objective", "welfare"),
    ("link", "walks", "--objective", "culture"),
    ("start", "cafe"),
    ("start", "club"),
    ("conclude", "club"),
    ("learn", "cafe", "Families came", "--next-action", "Call the families"),
    ("add", "sprint", "Autumn", "--slug", "autumn"),
    ("add", "questionnaire", "Citizen orientation", "--slug", "co", "--dimension", "Asking"),
    ("add", "item", "co", "Q1", "We ask citizens first", "--dimension", "Asking"),
    ("add", "survey-round", "co", "Spring", "--slug", "spring", "--department", "Culture"),
    ("add", "term", "co-creation", "--slug", "cocreation"),
    ("add", "workshop-action", "Invite citizens", "--slug", "invite", "--objective", "welfare"),
)

#: Each command, and the arguments that make it do its work, as a script runs it.
COMMANDS: dict[str, tuple[str, ...]] = {
    "abandon": ("abandon", "walks", "--reason", "no room"),
    "access": ("access", "anna"),
    "agree": ("agree", "cocreation", "--definition", "en=Making it with citizens"),
    "check": ("check",),
    "completion": ("completion", "bash"),
    "conclude": ("conclude", "cafe"),
    "consent": ("consent", "anna", "--purpose", "walks", "--how", "signed form"),
    "decide": ("decide", "club", "scale-up", "--rationale", "families came"),
    "delete": ("delete", "anna"),
    "done": ("done", "invite"),
    "edit": ("edit", "walks", "--set", "title=Evening walks"),
    "erase": ("erase", "anna", "--yes"),
    "export": ("export",),
    "follow-up": ("follow-up", "cafe", "1", "--owner", "Bo", "--due", "2026-12-15"),
    "glossary": ("glossary",),
    "history": ("history", "walks"),
    "import": ("import", "programme.jsonl"),
    "import-csv": ("import-csv", "participants", "panel.csv"),
    "import-responses": ("import-responses", "spring", "answers.csv"),
    "init": ("init",),
    "learn": ("learn", "cafe", "Seven families came twice"),
    "link": ("link", "walks", "--participant", "anna"),
    "list": ("list", "experiments"),
    "maturity": ("maturity",),
    "measure": ("measure", "families", "7", "--experiment", "cafe"),
    "next-steps": ("next-steps",),
    "plugins": ("plugins",),
    "purge": ("purge", "anna", "--yes"),
    "report": ("report",),
    "restore": ("restore", "gone"),
    "settings": ("settings", "require-consent-for-external", "true"),
    "show": ("show", "walks"),
    "sprints": ("sprints",),
    "start": ("start", "walks"),
    "templates": ("templates",),
    "unlink": ("unlink", "walks", "--objective", "culture"),
    "verify": ("verify",),
}

#: Each `add` subcommand, and the arguments that make it add a record.
ADDS: dict[str, tuple[str, ...]] = {
    "excuse": ("excuse", "pupils", "already-asked", "--objective", "welfare"),
    "experiment": ("experiment", "Library nights"),
    "hypothesis": ("hypothesis", "walks", "Families walk together"),
    "interpretation": ("interpretation", "cocreation", "Culture", "Inviting artists in"),
    "interview-note": ("interview-note", "People want to be asked"),
    "item": ("item", "co", "Q2", "We listen to what they say", "--dimension", "Asking"),
    "key-result": ("key-result", "welfare", "visits", "--baseline", "0", "--target", "9"),
    "objective": ("objective", "Health"),
    "participant": ("participant", "user"),
    "phase": ("phase", "autumn", "Explore"),
    "prototype": ("prototype", "walks", "A map"),
    "questionnaire": ("questionnaire", "Trust"),
    "sprint": ("sprint", "Spring"),
    "survey-round": ("survey-round", "co", "Autumn"),
    "template": ("template", "Frontline"),
    "term": ("term", "prototype"),
    "workshop-action": ("workshop-action", "Map the services", "--objective", "welfare"),
}

#: What a command may exit with and still have done its work: `check` finds things.
_EXITS: dict[str, tuple[int, ...]] = {"check": (0, 1)}


def _invoke(url: str, where: Path, *args: str) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        return CliRunner().invoke(
            cli,
            ["--store", url, *args],
            env={"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "EXPERIMENTS_STORE": None},
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store file after the commands of ``_BUILD``."""
    root = tmp_path_factory.mktemp("json")
    url = f"sqlite:///{root / 'programme.db'}"
    for args in _BUILD:
        done = _invoke(url, root, *args)
        assert done.exit_code == 0, (args, done.output)
    export = _invoke(url, root, "export", "-o", str(root / "programme.jsonl"))
    assert export.exit_code == 0, export.output
    return root


@pytest.fixture
def workdir(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the store, its export and a sheet of participants."""
    for name in ("programme.db", "programme.jsonl"):
        shutil.copy(built / name, tmp_path / name)
    (tmp_path / "panel.csv").write_bytes(b"\xef\xbb\xbfslug;role\r\nole;citizen\r\n")
    (tmp_path / "answers.csv").write_bytes(b"department;Q1\r\nCulture;4\r\n")
    return tmp_path


def _as_json(workdir: Path, *args: str, at: str = "before") -> Any:
    """What the command prints with --json (before the command or after its arguments)."""
    url = f"sqlite:///{workdir / 'programme.db'}"
    command = (*args, "--json") if at == "after" else ("--json", *args)
    done = _invoke(url, workdir, *command)
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
        done = _invoke(
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
