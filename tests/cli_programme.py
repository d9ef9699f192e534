"""A small programme to run every command of the command line on, in this process.

What a test of every command needs: the store built once (:func:`build`, the
``cli_built`` fixture), a fresh copy of it per test (:func:`copy_into`, ``workdir``),
and for each command the arguments that make it do its work (:data:`COMMANDS`,
:data:`ADDS`, :data:`GROUPED`, :func:`invocation`).  A command the command line gains
without an entry here fails the tests that run every command.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from experiments.cli import cli

#: A store to run commands on: its file, built once from the commands below.
BUILD: tuple[tuple[str, ...], ...] = (
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

#: The subcommands of the other groups, and the arguments that make each do its work.
GROUPED: dict[str, tuple[str, ...]] = {
    "templates install": ("templates", "install", "frontline-experiment"),
}


def commands(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    """Every command that does work, by the words that run it (`add objective`).

    A group runs too when it does work of its own (`templates` lists the templates).
    """
    for name, command in sorted(group.commands.items()):
        words = (*path, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield " ".join(words), command
            yield from commands(command, words)
        else:
            yield " ".join(words), command


def invocation(path: str) -> tuple[str, ...]:
    """The arguments that make the command ``path`` (`add objective`) do its work."""
    if path in GROUPED:
        return GROUPED[path]
    if path.startswith("add "):
        return ("add", *ADDS[path.removeprefix("add ")])
    return COMMANDS[path]


def invoke(url: str, where: Path, *args: str) -> Result:
    """`experiments --store URL ARGS` in this process, in the directory ``where``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(where)
        return CliRunner().invoke(
            cli,
            ["--store", url, *args],
            env={"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "EXPERIMENTS_STORE": None},
        )


def build(root: Path) -> Path:
    """``root`` with the store the commands of :data:`BUILD` make, and its export."""
    url = f"sqlite:///{root / 'programme.db'}"
    for args in BUILD:
        done = invoke(url, root, *args)
        assert done.exit_code == 0, (args, done.output)
    export = invoke(url, root, "export", "-o", str(root / "programme.jsonl"))
    assert export.exit_code == 0, export.output
    return root


def copy_into(built: Path, where: Path) -> Path:
    """``where`` with a fresh copy of the store, its export and a sheet of participants."""
    for name in ("programme.db", "programme.jsonl"):
        shutil.copy(built / name, where / name)
    (where / "panel.csv").write_bytes(b"\xef\xbb\xbfslug;role\r\nole;citizen\r\n")
    (where / "answers.csv").write_bytes(b"department;Q1\r\nCulture;4\r\n")
    return where
