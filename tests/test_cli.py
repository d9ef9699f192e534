"""The command line, driven as a user would drive it: in subprocesses, from a shell."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import re
import resource
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import experiments
from experiments import Plugins, Record, reports
from experiments.cli import cli as experiments_cli
from experiments.cli import text as text_module
from experiments.cli.app import TRIED_INSTEAD
from experiments.cli.detail import titled_by_itself
from experiments.cli.text import data_table, fields_table, listed_fields, table
from experiments.serialization import from_data, to_data, to_json
from experiments.testing.strategies import records
from fake_plugins import fake_distribution
from old_stores import schema_2_records
from special_files import SpecialFile

pytestmark = pytest.mark.slow


class Shell:
    """Runs `experiments ...` in a subprocess against one store."""

    def __init__(self, url: str, cwd: Path, names: dict[str, str] | None = None) -> None:
        self.url = url
        self.cwd = cwd
        self.names = names or {}  # ids of what the programme made, e.g. "parent"

    def __call__(
        self,
        *args: str,
        stdin: str | None = None,
        store: bool = True,
        stdout: IO[Any] | int = subprocess.PIPE,
        env: dict[str, str] | None = None,
        max_file_size: int | None = None,
    ) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "120"}
        environment.pop("EXPERIMENTS_STORE", None)
        if store:
            environment["EXPERIMENTS_STORE"] = self.url
        environment.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "experiments", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            input=stdin,
            env=environment,
            cwd=self.cwd,
            check=False,
            preexec_fn=None if max_file_size is None else _file_size_limit(max_file_size),
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self(*args, stdin=stdin)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok("--json", *args))

    def snapshot(self) -> list[str]:
        with experiments.connect(self.url, plugins=Plugins(autoload=False), create=True) as store:
            return [to_json(r) for r in store.export()]


def _file_size_limit(size: int) -> Callable[[], None]:
    """A child-process hook that makes writing more than ``size`` bytes to a file fail."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    return Shell(f"sqlite:///{tmp_path}/programme.db", tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The programme typed into a shell once; tests get copies of the store file."""
    root = tmp_path_factory.mktemp("built")
    names = build_programme(Shell(f"sqlite:///{root}/programme.db", root))
    return root / "programme.db", names


@pytest.fixture
def programme(built: tuple[Path, dict[str, str]], tmp_path: Path) -> Shell:
    """A shell on a fresh copy of the built programme."""
    source, names = built
    with experiments.connect(f"sqlite:///{source}", plugins=Plugins(autoload=False)) as store:
        records = list(store.export())
    with experiments.connect(
        f"sqlite:///{tmp_path}/programme.db", plugins=Plugins(autoload=False), create=True
    ) as copy:
        copy.import_records(records)
    return Shell(f"sqlite:///{tmp_path}/programme.db", tmp_path, names)


def build_programme(sh: Shell) -> dict[str, str]:
    """The municipality's programme, typed into a shell."""
    sh.ok("init")
    sh.ok("add", "objective", "Welfare in 100 days", "--slug", "welfare", "--owner", "Board")
    sh.ok(
        "add", "key-result", "welfare", "families in culture activities",
        "--baseline", "0", "--target", "40", "--unit", "families", "--slug", "families",
    )  # fmt: skip
    for slug, role, extra in (
        ("worker", "frontline-employee", ["--department", "Family Services", "--name", "Lise"]),
        ("librarian", "frontline-employee", ["--department", "Culture"]),
        ("association", "association", ["--name", "Art Association"]),
    ):
        sh.ok("add", "participant", role, "--slug", slug, *extra)
    # A pseudonymous participant is referred to by id: a slug would confirm a name.
    parent = sh.json(
        "add", "participant", "citizen", "--slug", "parent-1", "--pseudonymous", "--name", "Sara M."
    )["id"]
    sh.ok(
        "add", "sprint", "100-day sprint", "--slug", "sprint", "--member", "worker",
        "--member", "librarian", "--facilitator", "Mette Holm", "--time-box", "2026-08-17/P100D",
    )  # fmt: skip
    sh.ok(
        "add", "phase", "sprint", "Design days with citizens", "--position", "1",
        "--participant", "association", "--role", "citizen",
    )  # fmt: skip
    sh.ok(
        "add", "experiment", "Art afternoons for families", "--slug", "art", "--objective",
        "welfare", "--time-box", "P6W", "--owner", "Family Services", "--sprint", "sprint",
        "--tag", "culture",
    )  # fmt: skip
    hypothesis = sh.json(
        "add", "hypothesis", "art", "Families come back", "--criterion", "families returning >= 15",
        "--assumption", "desirability",
    )["id"]  # fmt: skip
    sh.ok(
        "add",
        "prototype",
        "art",
        "Leaflet",
        "--fidelity",
        "mock-up",
        "--shown-at",
        "2026-08-20T10:00:00+02:00",
    )
    sh.ok(
        "link",
        "art",
        "--participant",
        parent,
        "--stance",
        "critical",
        "--involvement",
        "co-creating",
    )
    sh.ok(
        "link",
        "art",
        "--participant",
        "worker",
        "--stance",
        "supportive",
        "--involvement",
        "co-creating",
    )
    sh.ok("link", "art", "--participant", "association", "--stance", "supportive")
    sh.ok("start", "art", "--at", "2026-08-24T14:00:00+02:00")
    sh.ok("measure", "families", "12", "--experiment", "art", "--at", "2026-09-07T18:00:00+02:00")
    sh.ok("measure", "families", "31", "--experiment", "art", "--at", "2026-10-05T18:00:00+02:00")
    sh.ok(
        "measure",
        "families returning",
        "17",
        "--experiment",
        "art",
        "--at",
        "2026-10-05T18:00:00+02:00",
    )
    sh.ok(
        "learn", "art", "17 families came back at least twice", "--hypothesis", hypothesis,
        "--verdict", "supports", "--evidence", "strong", "--participant", parent,
        "--participant", "worker", "--at", "2026-10-06T09:00:00+02:00",
    )  # fmt: skip
    sh.ok("conclude", "art", "--at", "2026-10-05T20:00:00+02:00")
    decision = sh.json(
        "decide", "art", "scale-up", "--rationale", "Strong support", "--decided-by", "Board",
        "--next-step", "Two more libraries", "--at", "2026-10-12T10:00:00+02:00",
    )["decision"]["id"]  # fmt: skip
    sh.ok("follow-up", decision, "--owner", "Family Services", "--due", "2027-01-15")
    sh.ok(
        "add",
        "experiment",
        "Digital booking",
        "--slug",
        "booking",
        "--objective",
        "welfare",
        "--time-box",
        "P3W",
    )
    sh.ok(
        "add", "excuse", "Home-care users over 80", "know-what-they-say", "--experiment", "booking"
    )
    return {"hypothesis": hypothesis, "parent": parent}


class TestProgrammeFromTheShell:
    """The whole programme, typed into a shell, then read back, checked and exported."""

    def test_build_list_show_check(self, programme: Shell) -> None:
        """Every step succeeds, lists and shows what was made, and checks find the gaps."""
        shell = programme
        listing = shell.json("list", "experiments", "--order", "title")
        assert [e["title"] for e in listing] == ["Art afternoons for families", "Digital booking"]
        assert [e["status"] for e in listing] == ["decided", "planned"]
        art = shell.json("show", "art")
        assert art["status"] == "decided"
        assert shell.json("list", "participations", "--filter", "stance=critical")[0]["participant"]
        either = shell.json("list", "experiments", "--where", "status = planned or tag = culture")
        assert len(either) == 2
        assert shell("show", "parent-1").returncode == 2  # no name confirmed by its slug
        shown = shell.ok("show", shell.names["parent"])
        assert "Sara M." not in shown  # pseudonymous: never by name on screen
        history = shell.ok("history", "art")
        assert "status" in history.splitlines()[-1]
        done = shell("check", "--objective", "welfare", "--at", "2026-11-27T12:00:00+01:00")
        assert done.returncode == 1
        assert "Digital booking" in done.stdout
        assert "engine-room/no-external" in done.stdout
        quiet = shell(
            "check", "--experiment", "art", "--at", "2026-11-27T12:00:00+01:00",
            "--disable", "engine-room/no-external",
        )  # fmt: skip
        assert quiet.returncode == 0, quiet.stdout

    def test_a_plugin_check_takes_a_list_option_from_the_shell(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """--option CHECK:NAME=a,b reaches an installed check's list option as a tuple."""
        plugin = tmp_path / "plugin"
        plugin.mkdir()
        fake_distribution(
            plugin,
            "tag-checks",
            "tag_checks",
            """
            import experiments
            from experiments.checks import Check

            def _flagged(context, options):
                for experiment in context.experiments:
                    if set(experiment.tags) & set(options["tags"]):
                        message = f"tagged {sorted(options['tags'])}"
                        yield FLAGGED.finding(message, experiment)

            FLAGGED = Check("tags/flagged", "info", "Follow up", "Tagged for review.",
                            _flagged, {"tags": ["review"]})

            @experiments.hookimpl
            def register_checks(register):
                register(FLAGGED)
            """,
            entry="tags",
        )
        env = {"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "", "PYTHONPATH": str(plugin)}
        at = "2026-11-27T12:00:00+01:00"
        args = ("--json", "check", "--experiment", "art", "--at", at, "--disable")
        quiet = [*args, "engine-room/no-external"]
        found = programme(*quiet, "--option", "tags/flagged:tags=sport, culture", env=env)
        assert found.returncode == 1, found.stderr
        [finding] = json.loads(found.stdout)["findings"]
        assert finding["check"] == "tags/flagged"
        assert "['culture', 'sport']" in finding["message"]
        assert finding["plugin"] == "tags"
        missed = programme(*quiet, "--option", "tags/flagged:tags=sport", env=env)
        assert missed.returncode == 0, missed.stdout + missed.stderr

    def test_report_in_every_format(self, programme: Shell, tmp_path: Path) -> None:
        """The programme's report, as a board would get it, in each format and language."""
        jsonschema = pytest.importorskip("jsonschema")

        at = "2026-11-27T12:00:00+01:00"
        markdown = programme.ok("report", "--objective", "welfare", "--at", at)
        assert markdown.startswith("# Welfare in 100 days")
        assert "Sara M." not in markdown
        page = tmp_path / "board.html"
        done = programme(
            "report", "--objective", "welfare", "--at", at, "--lang", "da", "-o", str(page)
        )
        assert done.returncode == 0, done.stderr
        assert "report written to" in done.stderr
        html = page.read_text(encoding="utf-8")
        assert 'lang="da"' in html
        assert html.count("<script") == 1  # the page's own, which searches its table
        data = json.loads(programme.ok("report", "--format", "json", "--at", at))
        jsonschema.validate(data, reports.schema())
        csv_bytes = programme("report", "--format", "csv", "--lang", "sv", "--at", at)
        assert csv_bytes.returncode == 0
        assert "Art afternoons for families" in csv_bytes.stdout
        bad = programme("report", "--format", "pdf")
        assert bad.returncode == 2
        assert "md, json, csv, csv-comma, html" in bad.stderr
        board = programme.ok("report", "--at", at, "-o", f"{tmp_path}/board/")
        assert board == ""  # the report went to the file, the note to stderr
        assert (tmp_path / "board" / "report.md").read_text(encoding="utf-8").startswith("# ")

    def test_export_import_across_backends_is_lossless_and_idempotent(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """SQLite -> JSON Lines -> a fresh store of another backend -> the same bytes again."""
        shell = programme
        exported = tmp_path / "export.jsonl"
        shell.ok("export", "-o", str(exported))
        other = Shell(f"sqlite:///{tmp_path}/copy.db", tmp_path)
        first = other.json("import", str(exported))
        assert first["added"] > 20
        assert first["unchanged"] == 0
        before = other.snapshot()
        again = other.json("import", str(exported))
        assert again == {"added": 0, "unchanged": first["added"]}
        assert other.snapshot() == before
        assert other.ok("export") == exported.read_text(encoding="utf-8")
        assert shell.ok("export") == exported.read_text(encoding="utf-8")

    def test_purge_asks_unless_told(self, programme: Shell) -> None:
        """Without a terminal and without --yes, purge refuses; with --yes it purges."""
        shell = programme
        parent = shell.names["parent"]
        refused = shell("purge", parent)
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        result = shell.json("purge", parent, "--yes")
        assert len(result["purged"]) == 2  # the participant and their participation
        assert shell("show", parent).returncode == 2

    def test_a_mistyped_key_result_is_warned_of_in_words(self, programme: Shell) -> None:
        """A metric named like a key result's slug, mistyped, is logged and warned of on
        stderr, naming the key result meant; no Python warning text."""
        done = programme("measure", "familie", "3", "--experiment", "art")
        assert done.returncode == 0
        assert "measured" in done.stdout
        assert done.stderr.startswith("warning: 'familie' names no key result")
        assert "did you mean the key result 'families'?" in done.stderr
        assert "MetricWarning" not in done.stderr

    def test_read_of_a_missing_store_suggests_init(self, tmp_path: Path) -> None:
        """Listing a store that does not exist fails, suggests init, and creates nothing."""
        sh = Shell(f"sqlite:///{tmp_path}/missing.db", tmp_path)
        done = sh("list", "experiments")
        assert done.returncode == 3
        assert "experiments init" in done.stderr
        assert not (tmp_path / "missing.db").exists()

    def test_store_option_before_or_after_the_subcommand(
        self, shell: Shell, tmp_path: Path
    ) -> None:
        """--store works in either place, and beats EXPERIMENTS_STORE."""
        url = f"sqlite:///{tmp_path}/elsewhere.db"
        assert shell("--store", url, "init").returncode == 0
        assert shell("add", "objective", "Here", "--store", url).returncode == 0
        assert (
            json.loads(shell.ok("--store", url, "--json", "list", "objectives"))[0]["title"]
            == "Here"
        )
        assert shell("list", "objectives").returncode == 3  # the default store was never made

    def test_help_is_complete(self, shell: Shell) -> None:
        """Every command has help that shows how to use it."""
        top = shell.ok("--help")
        for command in (
            "init",
            "add",
            "measure",
            "learn",
            "list",
            "check",
            "report",
            "export",
            "import",
            "verify",
            "plugins",
        ):
            assert command in top
            assert shell(command, "--help").returncode == 0
        assert "Exit codes" in top
        assert "families returning" in shell.ok("measure", "--help")

    def test_completion_scripts(self, shell: Shell) -> None:
        """bash, zsh and fish completion scripts are printed."""
        for name in ("bash", "zsh", "fish"):
            assert "_EXPERIMENTS_COMPLETE" in shell.ok("completion", name)

    def test_plugins_and_verify(self, programme: Shell) -> None:
        """plugins lists where backends and checks come from; verify finds no damage."""
        shell = programme
        listing = shell.json("plugins")
        assert listing["backends"]["sqlite"]["plugin"] == "experiments.stores.builtin"
        assert "follow-up/overdue" in listing["checks"]
        assert shell.ok("verify").strip() == "no damage found"


BAD_INPUT = [
    ("add", "objective", ""),
    ("add", "objective", "Title", "--parent", "no-such-objective"),
    ("add", "objective", "Title", "--slug", "Not A Slug"),
    ("add", "key-result", "welfare", "x", "--baseline", "5", "--target", "5"),
    ("add", "experiment", "X", "--time-box", "P-1W"),
    ("add", "experiment", "X", "--time-box", "2026-03-10/2026-03-01"),
    ("add", "experiment", "X", "--objective", "nowhere"),
    ("add", "hypothesis", "art", "Statement", "--criterion", "nonsense"),
    ("add", "participant", "wizard"),
    ("add", "participant", "other"),
    ("add", "prototype", "art", "P", "--shown-at", "yesterday"),
    ("add", "sprint", "S", "--member", "nobody"),
    ("add", "excuse", "Group", "no-time"),
    ("add", "excuse", "Group", "because"),
    ("edit", "art", "--set", "weight"),
    ("edit", "art", "--set", "colour=red"),
    ("edit", "art", "--set", "status=decided"),
    ("edit", "welfare", "--set", "weight=-1"),
    ("edit", "nothing-here", "--set", "owner=x"),
    ("edit", "art", "--set", "objectives=welfare,nowhere"),
    ("edit", "welfare", "--set", "parent=nowhere"),
    ("edit", "art", "--set", "sprint=welfare"),
    ("link", "art", "--objective", "nowhere"),
    ("link", "art"),
    ("unlink", "art", "--participant", "librarian"),
    ("show", "nothing-here"),
    ("list", "unicorns"),
    ("list", "experiments", "--where", "status = finished"),
    ("list", "experiments", "--where", "status = (running"),
    ("list", "experiments", "--filter", "status"),
    ("list", "experiments", "--filter", "=planned"),
    ("list", "experiments", "--filter", "limit=3"),
    ("list", "experiments", "--filter", "colour=red"),
    ("list", "experiments", "--order", "colour"),
    ("history", "nothing-here"),
    ("delete", "nothing-here"),
    ("restore", "nothing-here"),
    ("purge", "nothing-here", "--yes"),
    ("start", "art"),
    ("conclude", "booking"),
    ("decide", "booking", "scale-up"),
    ("decide", "art", "celebrate"),
    ("abandon", "art", "--reason", "too late"),
    ("measure", "families", "lots"),
    ("measure", "families", "3", "--at", "2026-13-45"),
    ("learn", "art", "Seen", "--verdict", "supports"),
    ("learn", "art", "Seen", "--hypothesis", "nothing-here", "--verdict", "supports"),
    ("check", "--disable", "no/such-check"),
    ("check", "--option", "follow-up/overdue"),
    ("import", "-"),
    ("report", "--lang", "klingon"),
    ("report", "--objective", "nowhere"),
    ("report", "--format", "pdf"),
    ("list", "experiments", "--bogus"),
    ("list", "experiments", "--limit", "many"),
    ("list",),
    ("add",),
    ("frobnicate",),
    ("completion", "tcsh"),
    ("--store", "programme.db", "list", "experiments"),
    ("--store", "sqlite:///programme.db?cache=big", "list", "experiments"),
    ("--store", "sqlite:///programme.db?timeout=-1", "list", "experiments"),
    ("--store", "mongodb://localhost/x", "list", "experiments"),
    ("--store", "files:///plan#2", "list", "experiments"),
    ("list", "experiments", "--limit", str(2**70)),
    ("list", "experiments", "--where", "title = '\udcff'"),
]


class TestBadInput:
    """Every command refuses bad input with exit 2, one line on stderr, and no change."""

    @pytest.mark.parametrize("args", BAD_INPUT, ids=lambda a: " ".join(a)[:60])
    def test_refused_and_nothing_changed(self, programme: Shell, args: tuple[str, ...]) -> None:
        """Exit code 2, a single line naming the problem, and the store as it was."""
        before = programme.snapshot()
        stdin = '{"kind": "objective", "schema": 99}\n' if args == ("import", "-") else None
        done = programme(*args, stdin=stdin)
        assert done.returncode == 2, f"exit {done.returncode}: {done.stdout}{done.stderr}"
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: "), done.stderr
        assert "Traceback" not in done.stderr
        assert programme.snapshot() == before

    def test_a_file_that_cannot_be_opened_is_a_file_error(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """import of a file that is not there: one line, exit 3 as for every file error."""
        done = programme("import", str(tmp_path / "missing.jsonl"))
        assert done.returncode == 3
        assert "missing.jsonl" in _one_error_line(done)

    def test_a_usage_error_closes_the_file_an_argument_opened(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """import FILE extra: one error line, and FILE closed again (no ResourceWarning)."""
        from click.testing import CliRunner  # noqa: PLC0415 - in this process, for gc

        from experiments.cli import cli  # noqa: PLC0415

        source = tmp_path / "programme.jsonl"
        source.write_text("", encoding="utf-8")
        monkeypatch.setenv("EXPERIMENTS_STORE", f"sqlite:///{tmp_path}/programme.db")
        left_open: list[object] = []
        monkeypatch.setattr(sys, "unraisablehook", lambda raised: left_open.append(raised.object))
        result = CliRunner().invoke(cli, ["import", str(source), "extra"])
        code, stderr = result.exit_code, result.stderr
        del result  # with its traceback, which holds the command's context
        gc.collect()  # an unclosed file is reported here
        assert code == 2
        assert stderr.startswith("error: Got unexpected extra argument")
        assert left_open == []

    def test_store_errors_say_the_url_came_from_the_environment(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """EXPERIMENTS_STORE naming a missing or malformed store: the error names the variable."""
        missing = {"EXPERIMENTS_STORE": f"sqlite:///{tmp_path}/missing.db"}
        done = programme("list", "experiments", store=False, env=missing)
        assert done.returncode == 3
        assert "EXPERIMENTS_STORE" in _one_error_line(done)
        done = programme("list", "experiments", store=False, env={"EXPERIMENTS_STORE": "nope"})
        assert done.returncode == 2
        assert "EXPERIMENTS_STORE" in _one_error_line(done)
        given = programme(
            "--store", f"sqlite:///{tmp_path}/missing.db", "list", "experiments", store=False
        )
        assert given.returncode == 3
        assert "EXPERIMENTS_STORE" not in _one_error_line(given)

    def test_debug_shows_the_traceback(self, programme: Shell) -> None:
        """--debug trades the one line for the full traceback."""
        done = programme("--debug", "show", "nothing-here")
        assert done.returncode != 0
        assert "Traceback" in done.stderr


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single `error: ...` line a failed command printed, with no traceback."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), done.stderr
    return lines[0]


class TestPseudonymousParticipants:
    """A pseudonymous participant's name and slug appear in no output but the export."""

    SECRETS = ("Sara M.", "parent-1", "Ole K.", "ole-k", "Nina Berg", "nina-b")

    def _quiet(self, shell: Shell, *args: str) -> str:
        done = shell(*args)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr}"
        for secret in self.SECRETS:
            assert secret not in done.stdout, f"{args} printed {secret!r}:\n{done.stdout}"
            assert secret not in done.stderr, f"{args} printed {secret!r}:\n{done.stderr}"
        return done.stdout

    def test_no_command_shows_the_name_or_slug(self, programme: Shell) -> None:
        """show, list, history, add, edit, link, delete, restore and purge mask them alike."""
        shell = programme
        refused = shell("show", "parent-1")  # by slug, a pseudonymous person is not found
        assert refused.returncode == 2
        assert "parent-1" in refused.stderr  # what was typed, repeated: nothing more
        person = json.loads(self._quiet(shell, "--json", "show", shell.names["parent"]))
        assert person["name"] is None
        assert person["slug"] is None
        assert person["pseudonymous"] is True
        person_id = person["id"]
        shown = self._quiet(shell, "show", person_id)
        assert "pseudonymous" in shown
        listing = json.loads(self._quiet(shell, "--json", "list", "participants"))
        masked = [p for p in listing if p["pseudonymous"]]
        assert [(p["name"], p["slug"]) for p in masked] == [(None, None)]
        assert any(p["name"] == "Lise" for p in listing)  # others keep their names
        assert person_id in self._quiet(shell, "list", "participants")
        new = ("add", "participant", "citizen", "--pseudonymous", "--name", "Ole K.")
        added = json.loads(self._quiet(shell, "--json", *new, "--slug", "ole-k"))
        assert (added["name"], added["slug"]) == (None, None)
        self._quiet(shell, *new)
        self._quiet(shell, "edit", person_id, "--set", "department=Culture")
        edited = json.loads(self._quiet(shell, "--json", "edit", person_id, "--set", "tags=x"))
        assert (edited["name"], edited["slug"]) == (None, None)
        self._quiet(shell, "link", "booking", "--participant", person_id)
        self._quiet(shell, "--json", "delete", person_id)
        self._quiet(shell, "--json", "restore", person_id)
        self._quiet(shell, "delete", person_id)
        self._quiet(shell, "restore", person_id)
        self._quiet(shell, "history", person_id)
        versions = json.loads(self._quiet(shell, "--json", "history", person_id))
        assert {(v["name"], v["slug"]) for v in versions} == {(None, None)}
        exported = shell.ok("export")
        assert "Sara M." in exported  # the backup stays lossless
        assert "parent-1" in exported
        self._quiet(shell, "--json", "purge", person_id, "--yes")

    def test_history_hides_versions_from_before_the_participant_became_pseudonymous(
        self, programme: Shell
    ) -> None:
        """Once pseudonymous in any version, no version shows the name or slug."""
        shell = programme
        shell.ok(
            "add", "participant", "citizen", "--name", "Nina Berg", "--slug", "nina-b"
        )  # fmt: skip
        person_id = shell.json("show", "nina-b")["id"]
        self._quiet(shell, "edit", person_id, "--set", "pseudonymous=true")
        versions = json.loads(self._quiet(shell, "--json", "history", person_id))
        assert len(versions) == 2
        assert {(v["name"], v["slug"]) for v in versions} == {(None, None)}
        assert "revision 2" in self._quiet(shell, "history", person_id)


class TestFilesAndText:
    """Trouble with files and encodings is one line and a documented exit code."""

    def test_unwritable_output_is_a_store_error(self, programme: Shell, tmp_path: Path) -> None:
        """export -o into a missing directory: exit 3, one line naming the file, no litter."""
        target = tmp_path / "missing" / "programme.jsonl"
        done = programme("export", "-o", str(target))
        assert done.returncode == 3
        assert str(target) in _one_error_line(done)
        assert not target.parent.exists()

    def test_export_writes_through_a_pipe_or_device(
        self, programme: Shell, special_file: SpecialFile
    ) -> None:
        """-o naming a named pipe or a device writes into it and leaves it what it was."""
        exported = programme.snapshot()
        programme.ok("export", "-o", str(special_file.path))
        assert special_file.is_intact()
        received = special_file.received()
        if received is not None:
            assert received.decode("utf-8").splitlines() == exported

    def test_report_writes_through_a_pipe_or_device(
        self, programme: Shell, special_file: SpecialFile
    ) -> None:
        """report -o with a format into a pipe or device: written there, not replaced."""
        programme.ok("report", "--format", "md", "-o", str(special_file.path))
        assert special_file.is_intact()
        received = special_file.received()
        if received is not None:
            assert received.startswith(b"# ")

    def test_a_dash_is_standard_output(self, programme: Shell) -> None:
        """-o - writes to standard output, as without -o, and makes no file called '-'."""
        assert programme.ok("export", "-o", "-") == programme.ok("export")
        assert programme.ok("report", "-o", "-").startswith("# ")
        assert not (programme.cwd / "-").exists()

    def test_export_replaces_a_file_keeping_its_permissions(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """An existing export is replaced whole, with the permissions it had."""
        target = tmp_path / "programme.jsonl"
        target.write_text("old\n", encoding="utf-8")
        target.chmod(0o600)
        programme.ok("export", "-o", str(target))
        assert target.read_text(encoding="utf-8").splitlines() == programme.snapshot()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert sorted(p.name for p in tmp_path.glob(".*")) == []

    def test_export_that_runs_out_of_room_leaves_nothing(self, tmp_path: Path) -> None:
        """A write that fails half way: exit 3, one line naming the file, no partial file."""
        sh = Shell(f"files:///{tmp_path}/programme", tmp_path)
        sh.ok("init")
        for number in range(5):
            sh.ok("add", "objective", f"Objective {number} with a title long enough")
        out = tmp_path / "out"
        out.mkdir()
        done = sh("export", "-o", str(out / "programme.jsonl"), max_file_size=1000)
        assert done.returncode == 3
        assert str(out / "programme.jsonl") in _one_error_line(done)
        assert list(out.iterdir()) == []

    def test_full_disk_is_a_store_error(self, programme: Shell) -> None:
        """Output to a full device: exit 3 and one line, however much was written."""
        with Path("/dev/full").open("w", encoding="utf-8") as full:
            for args in (("export",), ("--json", "list", "experiments"), ("show", "art")):
                done = programme(*args, stdout=full)
                assert done.returncode == 3, f"{args}: {done.stderr}"
                assert "No space left" in _one_error_line(done)

    def test_import_of_text_that_is_not_utf8_is_bad_input(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """An import file in another encoding: exit 2, one line naming it, nothing imported."""
        source = tmp_path / "latin.jsonl"
        source.write_bytes('{"kind": "objective", "title": "Velfærd"}\n'.encode("latin-1"))
        before = programme.snapshot()
        done = programme("import", str(source))
        assert done.returncode == 2
        assert "latin.jsonl" in _one_error_line(done)
        assert programme.snapshot() == before

    def test_output_the_terminal_cannot_encode_is_bad_input(self, programme: Shell) -> None:
        """A character the output's encoding lacks: exit 2 and one line saying what to set."""
        programme.ok("add", "objective", "Velfærd for alle", "--slug", "velfaerd")
        done = programme(
            "--json", "list", "objectives", env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"}
        )
        assert done.returncode == 2
        assert "PYTHONIOENCODING" in _one_error_line(done)

    def test_debug_shows_the_traceback_of_a_file_error(
        self, programme: Shell, tmp_path: Path
    ) -> None:
        """--debug trades the line for the traceback here too."""
        done = programme("--debug", "export", "-o", str(tmp_path / "missing" / "x.jsonl"))
        assert done.returncode != 0
        assert "Traceback" in done.stderr


class TestListFilters:
    """--filter builds a filter expression: checked fields, IN for a,b, ANDed with --where."""

    def test_fields_named_like_query_parameters_are_fields(self, programme: Shell) -> None:
        """--filter kind=... filters on the kind field instead of failing."""
        listing = programme.json("list", "participants", "--filter", "kind=participant")
        assert len(listing) == 4
        assert programme.json("list", "participants", "--filter", "kind=experiment") == []

    def test_unknown_field_is_named_with_the_kinds_fields(self, programme: Shell) -> None:
        """A field the kind lacks is refused, naming it and listing the fields there are."""
        done = programme("list", "participants", "--filter", "limit=3")
        assert done.returncode == 2
        line = _one_error_line(done)
        assert "'limit'" in line
        assert "role" in line
        assert "pseudonymous" in line

    def test_filters_and_where_are_anded(self, programme: Shell) -> None:
        """Every --filter and the --where must hold; a,b means one of them."""
        stances = programme.json(
            "list", "participations", "--filter", "stance=critical, supportive"
        )
        assert len(stances) == 3
        both = programme.json(
            "list", "participations", "--filter", "stance=critical,supportive",
            "--where", "involvement = co-creating",
        )  # fmt: skip
        assert sorted(p["stance"] for p in both) == ["critical", "supportive"]
        assert (
            programme.json("list", "experiments", "--filter", "tag=none", "--filter", "tag=culture")
            == []
        )
        assert (
            programme.json(
                "list", "experiments", "--filter", "tag=culture", "--where", "status = planned"
            )
            == []
        )


class TestDeletedRecordsBySlug:
    """history, restore and purge find a deleted record by its slug; other commands refuse it."""

    def test_history_restore_purge_by_slug(self, programme: Shell) -> None:
        """A deleted record's slug works where a deleted record makes sense."""
        shell = programme
        shell.ok("delete", "booking")
        refused = shell("show", "booking")
        assert refused.returncode == 2
        assert "experiments restore booking" in _one_error_line(refused)
        versions = shell.json("history", "booking")
        assert versions[-1]["deleted_at"] is not None
        assert "(deleted)" in shell.ok("history", "booking")
        restored = shell.json("restore", "booking")
        assert restored["deleted_at"] is None
        assert shell.json("show", "booking")["title"] == "Digital booking"
        shell.ok("delete", "booking")
        purged = shell.json("purge", "booking", "--yes")
        assert restored["id"] in purged["purged"]
        gone = shell("history", "booking")
        assert gone.returncode == 2
        _one_error_line(gone)


class TestFind:
    """resolve.find: ids and slugs, deleted records only when asked for."""

    @pytest.fixture
    def store(self) -> Any:
        with experiments.connect(
            "memory://", plugins=Plugins(autoload=False), create=True
        ) as store:
            yield store

    def test_deleted_record_only_with_include_deleted(self, store: Any) -> None:
        """By id or slug, a deleted record is refused with a hint, or found when asked for."""
        from experiments.cli.resolve import find  # noqa: PLC0415

        saved = store.save(experiments.Objective(title="Welfare", slug="welfare"))
        store.delete(saved)
        for reference in (saved.id, "welfare"):
            with pytest.raises(experiments.NotFoundError, match="experiments restore"):
                find(store, reference)
            assert find(store, reference, include_deleted=True).id == saved.id
            assert find(store, reference, experiments.Objective, include_deleted=True).deleted

    def test_live_record_beats_a_deleted_one_of_another_kind(self, store: Any) -> None:
        """Without a kind, a slug shared by a deleted and a live record finds the live one."""
        from experiments.cli.resolve import find  # noqa: PLC0415

        gone = store.save(experiments.Objective(title="Pilot", slug="pilot"))
        store.delete(gone)
        live = store.save(experiments.Experiment(title="Pilot", slug="pilot"))
        assert find(store, "pilot").id == live.id
        assert find(store, "pilot", include_deleted=True).id == live.id


class TestEditReferences:
    """Fields that name other records take ids or slugs of the right kind."""

    def test_slugs_in_reference_fields(self, programme: Shell) -> None:
        """objectives, parent, sprint and a measurement's experiment resolve their slugs."""
        shell = programme
        other = shell.json("add", "objective", "Safer streets", "--slug", "streets")["id"]
        welfare = shell.json("show", "welfare")["id"]
        edited = shell.json("edit", "booking", "--set", "objectives=welfare,streets")
        assert edited["objectives"] == [welfare, other]
        assert shell.json("edit", "streets", "--set", "parent=welfare")["parent"] == welfare
        assert shell.json("edit", "streets", "--set", "parent=")["parent"] is None
        sprint = shell.json("show", "sprint")["id"]
        assert shell.json("edit", "booking", "--set", "sprint=sprint")["sprint"] == sprint
        by_id = shell.json("edit", "booking", "--set", f"objectives={other}")
        assert by_id["objectives"] == [other]

    def test_a_slug_of_the_wrong_kind_is_not_found(self, programme: Shell) -> None:
        """A slug that names a record of another kind is refused: nothing is saved."""
        before = programme.snapshot()
        done = programme("edit", "booking", "--set", "objectives=art")
        assert done.returncode == 2
        assert "no objective with id or slug 'art'" in _one_error_line(done)
        assert programme.snapshot() == before


class TestExitCodes:
    """The exit codes in --help are the ones the commands use."""

    @staticmethod
    def _documented(help_text: str, what: str) -> int:
        found = re.search(rf"(\d+)[^;\d]*{re.escape(what)}", " ".join(help_text.split()))
        assert found, f"--help does not document the exit code for {what!r}:\n{help_text}"
        return int(found.group(1))

    def test_verify_exits_with_the_documented_code(self, tmp_path: Path) -> None:
        """verify on a damaged store exits with the code --help gives for its damage."""
        sh = Shell(f"files:///{tmp_path}/programme", tmp_path)
        sh.ok("init")
        sh.ok("add", "objective", "Welfare", "--slug", "welfare")
        [version] = (tmp_path / "programme").glob("records/*/*.json")
        version.with_name(f"{version.name}.orig").write_text("{}", encoding="utf-8")
        done = sh("verify")
        assert done.returncode == self._documented(sh.ok("--help"), "damage found by `verify`")
        assert "orig" in done.stdout

    def test_check_exits_with_the_documented_code(self, programme: Shell) -> None:
        """check with findings exits with the code --help gives for findings."""
        done = programme("check", "--objective", "welfare", "--at", "2026-11-27T12:00:00+01:00")
        assert done.returncode == self._documented(programme.ok("--help"), "findings from `check`")


class TestOneTruthFromTheShell:
    """Decisions change only by revision, and filters take slugs, from the command line too."""

    def test_a_second_decision_needs_revise(self, programme: Shell) -> None:
        """decide on a decided experiment is refused; with --revise it replaces the one in force."""
        shell = programme
        refused = shell("decide", "art", "stop", "--rationale", "changed our mind")
        assert refused.returncode == 2
        assert "--revise" in _one_error_line(refused)
        assert len(shell.json("list", "decisions")) == 1
        revised = shell.json(
            "decide", "art", "stop", "--revise", "--rationale", "changed our mind",
            "--at", "2026-10-20T10:00:00+02:00",
        )  # fmt: skip
        assert revised["decision"]["outcome"] == "stop"
        assert revised["decision"]["revises"]
        outcomes = sorted(d["outcome"] for d in shell.json("list", "decisions"))
        assert outcomes == ["scale-up", "stop"]
        report = shell.json("report", "--format", "json", "--at", "2026-11-01T00:00:00+01:00")
        art = next(e for e in report["experiments"] if e["slug"] == "art")
        assert art["decision"]["outcome"] == "stop"

    def test_filters_take_slugs(self, programme: Shell) -> None:
        """--filter and --where on a reference field take a slug; an unknown one is exit 2."""
        shell = programme
        hypothesis = shell.names["hypothesis"]
        by_filter = shell.json("list", "hypotheses", "--filter", "experiment=art")
        by_where = shell.json("list", "hypotheses", "--where", "experiment = art")
        assert [h["id"] for h in by_filter] == [h["id"] for h in by_where] == [hypothesis]
        missing = shell("list", "hypotheses", "--filter", "experiment=atr")
        assert missing.returncode == 2
        line = _one_error_line(missing)
        assert "no experiment with id or slug 'atr'" in line
        assert "did you mean 'art'" in line
        assert "See `experiments list experiments`" in line


class TestShowExperiment:
    """`show EXPERIMENT` lists the experiment's own records, with the ids commands take."""

    def test_text_lists_every_kind_with_ids(self, programme: Shell) -> None:
        """Hypotheses with id and status, learnings, decisions, participants, prototypes."""
        hypothesis = programme.json("list", "hypotheses")[0]["id"]
        shown = programme.ok("show", "art")
        assert f"{hypothesis}  supported" in shown
        for heading in ("hypotheses (1):", "learnings (1):", "decisions (1):", "prototypes (1):"):
            assert heading in shown
        assert "participants (3):" in shown
        assert "17 families came back at least twice" in shown
        assert "scale-up: Strong support" in shown
        assert "Leaflet (first shown 2026-08-20 as a mock-up)" in shown
        assert "Two more libraries (Family Services, due 2027-01-15)" in shown
        assert "(critical, co-creating)" in shown
        assert "Sara M." not in shown  # pseudonymous: by display name only
        assert "parent-1" not in shown

    def test_json_holds_the_same_records(self, programme: Shell) -> None:
        """--json adds the lists beside the experiment's own fields, masking as the text does."""
        shown = programme.json("show", "art")
        assert shown["status"] == "decided"
        assert [h["status"] for h in shown["hypotheses"]] == ["supported"]
        assert [d["outcome"] for d in shown["decisions"]] == ["scale-up"]
        assert len(shown["learnings"]) == 1
        assert [p["title"] for p in shown["prototypes"]] == ["Leaflet"]
        people = {p["stance"]: p for p in shown["participants"]}
        assert (people["critical"]["name"], people["critical"]["slug"]) == (None, None)
        assert people["critical"]["involvement"] == "co-creating"
        assert people["critical"]["participation"].startswith("ppn_")

    def test_empty_sections_say_how_to_fill_them(self, programme: Shell) -> None:
        """An experiment with nothing yet says which command adds each kind."""
        shown = programme.ok("show", "booking")
        assert "hypotheses: none; add one with `experiments add hypothesis booking" in shown
        assert "participants: none; let someone take part with `experiments link booking" in shown

    def test_the_id_shown_is_the_one_learn_takes(self, programme: Shell) -> None:
        """The id `show` prints for a hypothesis is accepted by `learn --hypothesis`."""
        programme.ok("add", "hypothesis", "booking", "Relatives book online", "--slug", "online")
        programme.ok("start", "booking")
        line = next(
            row for row in programme.ok("show", "booking").splitlines() if "Relatives" in row
        )
        hypothesis = line.split()[0]
        programme.ok(
            "learn", "booking", "Half booked online", "--hypothesis", hypothesis,
            "--verdict", "supports",
        )  # fmt: skip
        assert f"{hypothesis}  supported" in programme.ok("show", "booking")


class TestCommandLineWords:
    """Messages name options and commands, never Python arguments or calls."""

    def test_verdict_without_hypothesis_names_the_option_and_where_to_find_it(
        self, programme: Shell
    ) -> None:
        """The library's hypothesis=<id> reads --hypothesis ID with where ids are listed."""
        line = _one_error_line(programme("learn", "art", "Seen", "--verdict", "supports"))
        assert "--hypothesis ID (see `experiments show EXPERIMENT`)" in line
        assert "hypothesis=" not in line
        assert "Learning." not in line

    def test_hypothesis_without_verdict_lists_the_verdicts_as_typed(self, programme: Shell) -> None:
        """verdict='supports', ... reads --verdict supports, refutes or inconclusive."""
        hypothesis = programme.json("list", "hypotheses")[0]["id"]
        line = _one_error_line(programme("learn", "art", "Seen", "--hypothesis", hypothesis))
        assert "give --verdict supports, refutes or inconclusive" in line

    def test_missing_store_points_to_init_only(self, tmp_path: Path) -> None:
        """No connect(url, create=True) for a reader at a terminal."""
        shell = Shell(f"sqlite:///{tmp_path}/none.db", tmp_path)
        line = _one_error_line(shell("list", "experiments"))
        assert "`experiments init`" in line
        assert "connect(" not in line

    def test_duration_option_speaks_iso_8601_only(self, programme: Shell) -> None:
        """The check option error leaves out datetime.timedelta."""
        line = _one_error_line(programme("check", "--option", "follow-up/no-decision:grace=2w"))
        assert "ISO 8601" in line
        assert "timedelta" not in line

    def test_existing_slug_says_show_or_edit(self, programme: Shell) -> None:
        """Adding a slug again points to show and edit, not to get() or create_if_absent()."""
        line = _one_error_line(programme("add", "objective", "Again", "--slug", "welfare"))
        assert "`experiments show`" in line
        assert "create_if_absent" not in line

    def test_edit_keeps_the_field_names_it_was_given(self, programme: Shell) -> None:
        """`edit --set` errors name fields as --set gives them: no option is invented."""
        line = _one_error_line(programme("edit", "art", "--set", "time_box=3w"))
        assert "time_box" in line
        assert "--time-box" not in line

    def test_help_placeholders_say_where_to_find_values(self, shell: Shell) -> None:
        """Every option of every command that names a record says which command lists it."""
        import click  # noqa: PLC0415

        from experiments.cli import cli  # noqa: PLC0415

        def commands(group: click.Group, path: tuple[str, ...]) -> Any:
            for name, command in group.commands.items():
                if isinstance(command, click.Group):
                    yield from commands(command, (*path, name))
                else:
                    yield (*path, name), command

        naming = {"OBJECTIVE", "EXPERIMENT", "PARTICIPANT", "SPRINT", "ID", "CHECK"}
        checked = 0
        for path, command in commands(cli, ()):
            for param in command.params:
                if isinstance(param, click.Option) and param.metavar in naming:
                    assert "see `experiments " in (param.help or ""), (path, param.opts)
                    checked += 1
        assert checked >= 15
        for args in (("--help",), ("learn", "--help"), ("list", "--help")):
            assert "<id>" not in shell.ok(*args)

    def test_postgres_refusal_reads_as_sentences(self, tmp_path: Path) -> None:
        """The driver's refusal and its hint are separate sentences, not run together."""
        pytest.importorskip("psycopg", reason="needs the postgres extra")
        import socket  # noqa: PLC0415

        with socket.socket() as probe:  # a port nothing listens on once it is closed
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        shell = Shell(f"postgresql://nobody:pw@127.0.0.1:{port}/none", tmp_path)
        line = _one_error_line(shell("list", "experiments"))
        assert "refused. Is the server running" in line
        assert "connections? Check the host" in line


class TestLinkAndDecisionsInWords:
    """`link`, `unlink` and `list decisions` say what they did and what a record is."""

    def test_link_says_who_takes_part_and_what_is_served(self, programme: Shell) -> None:
        """No ids standing in for titles: names, titles, stance and involvement."""
        said = programme.ok("link", "booking", "--participant", "worker", "--stance", "critical")
        assert said.strip() == "Lise takes part in 'Digital booking' (critical, consulted)"
        said = programme.ok("link", "booking", "--objective", "welfare")
        assert said.strip() == "'Digital booking' now serves: 'Welfare in 100 days'"
        said = programme.ok("unlink", "booking", "--participant", "worker")
        assert said.strip() == "Lise no longer takes part in 'Digital booking'"

    def test_link_masks_a_pseudonymous_participant(self, programme: Shell) -> None:
        """A pseudonymous participant is named by display name in what link says."""
        said = programme.ok("link", "booking", "--participant", programme.names["parent"])
        assert said.startswith("citizen ")
        assert "Sara" not in said
        assert "parent-1" not in said

    def test_list_decisions_shows_the_experiment_and_outcome(self, programme: Shell) -> None:
        """The title column of a decision: its experiment's title and the outcome."""
        listing = programme.ok("list", "decisions")
        assert listing.rstrip().endswith("Art afternoons for families: scale-up")

    def test_list_participations_names_who_and_where(self, programme: Shell) -> None:
        """A participation is listed as its participant in its experiment, masked as ever."""
        listing = programme.ok("list", "participations")
        assert "Lise in Art afternoons for families" in listing
        assert "Sara" not in listing
        assert "parent-1" not in listing
        assert "ppn_" in listing  # the id column stays


_MODULES_OF_COMMANDS = """
import importlib, json, pkgutil
import experiments.cli
from experiments.cli import cli
for module in pkgutil.iter_modules(experiments.cli.__path__):
    importlib.import_module(f"experiments.cli.{module.name}")
print(json.dumps({
    name: command.callback.__module__.rpartition(".")[2]
    for name, command in dict.items(cli.commands)
}))
"""

_IMPORTED_BY = """
import sys
from experiments.cli import main
sys.argv = ["experiments", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted(m for m in sys.modules if m.startswith("experiments.cli."))))
print(" ".join(sorted(sys.modules)))
"""


def _run_importing(cwd: Path, *argv: str) -> list[str]:
    """What `experiments ARGV` prints, then the command line's modules and every module."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_BY, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return done.stdout.splitlines()


class TestCommandModules:
    """Only the module of the command that runs is imported."""

    def test_the_table_names_the_module_of_every_command(self) -> None:
        """COMMAND_MODULES says, for every command, the module that defines it."""
        from experiments.cli.app import COMMAND_MODULES  # noqa: PLC0415 - what is tested

        done = subprocess.run(
            [sys.executable, "-c", _MODULES_OF_COMMANDS], capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout) == COMMAND_MODULES

    def test_version_imports_no_command(self, tmp_path: Path) -> None:
        """`experiments --version` imports none of the commands' modules."""
        imported = _run_importing(tmp_path, "--version")[-2].split()
        assert set(imported) == {"experiments.cli.app", "experiments.cli.words"}

    def test_a_command_imports_its_own_module(self, tmp_path: Path) -> None:
        """`experiments list` imports the records commands, not add, the reports or others."""
        lines = _run_importing(tmp_path, "--store", "memory://", "list", "experiments")
        imported = set(lines[-2].split())
        assert "experiments.cli.records" in imported
        assert not imported & {
            "experiments.cli.add",
            "experiments.cli.admin",
            "experiments.cli.mental_models",
            "experiments.cli.outcomes",
            "experiments.cli.practice",
        }

    def test_listing_imports_no_checks_reports_converter_or_writes(self, tmp_path: Path) -> None:
        """`experiments list` on a SQLite store imports no checks, report formats or cattrs,
        and none of what a write needs (batches and the changes they hand the backend)."""
        url = f"sqlite:///{tmp_path / 'programme.db'}"
        with experiments.connect(url, create=True, plugins=Plugins(autoload=False)) as store:
            store.save(experiments.Experiment(title="Art afternoons for families"))
        lines = _run_importing(tmp_path, "--store", url, "list", "experiments")
        assert "Art afternoons for families" in lines[0]
        imported = set(lines[-1].split())
        assert "experiments.stores.sqlite" in imported
        assert not imported & {
            "cattrs",
            "experiments.checks",
            "experiments.checks.builtin",
            "experiments.reports",
            "experiments.reports.builtin",
            "experiments.stores.batch",
            "experiments.stores.changes",
        }

    def test_every_command_is_listed(self) -> None:
        """The group lists every command of every module, as help and completion need."""
        import click  # noqa: PLC0415

        from experiments.cli import cli  # noqa: PLC0415 - what is tested
        from experiments.cli.app import COMMAND_MODULES  # noqa: PLC0415

        assert cli.list_commands(click.Context(cli)) == sorted(COMMAND_MODULES)


class TestListFromData:
    """`experiments list` prints a kind titled by itself from stored data, as from records."""

    @given(records())
    def test_a_row_from_data_is_the_records_row(self, record: Record) -> None:
        """A record's stored data lists as the record itself does, for every such kind."""
        assume(titled_by_itself(record.kind))
        assert data_table([to_data(record)]) == table([record])

    def test_data_of_an_older_schema_lists_as_its_records(self) -> None:
        """Data of an older schema version is upgraded before it is listed."""
        listed = [data for data in schema_2_records() if titled_by_itself(data["kind"])]
        assert {data["kind"] for data in listed} == {
            "objective",
            "experiment",
            "prototype",
            "learning",
        }
        assert data_table(listed) == table([from_data(data) for data in listed])

    def test_kinds_titled_by_others_come_from_records(self) -> None:
        """Participants (masked by name), participations and decisions come from records."""
        for kind in ("participant", "participation", "decision"):
            assert not titled_by_itself(kind)
        assert titled_by_itself("experiment")

    def test_columns_are_aligned(self) -> None:
        """Each column is as wide as its widest cell, two spaces apart; the title last."""
        walks = experiments.Experiment(title="Walks", created_at="2026-09-14T10:05:00Z")
        welfare = experiments.Objective(title="Welfare", created_at="2026-09-15T08:30:59Z")
        width = max(len(walks.id), len(welfare.id))
        assert table([walks, welfare]).splitlines() == [
            walks.id.ljust(width) + "  experiment  planned  2026-09-14 10:05 UTC  Walks",
            welfare.id.ljust(width) + "  objective" + " " * 12 + "2026-09-15 08:30 UTC  Welfare",
        ]

    def test_times_say_their_zone(self) -> None:
        """A time written with another offset is listed in UTC, and says so."""
        walks = experiments.Experiment(title="Walks", created_at="2026-09-14T10:05:00+02:00")
        assert "  2026-09-14 08:05 UTC  " in table([walks])
        assert "  2026-09-14 08:05 UTC  " in data_table([to_data(walks)])

    @given(
        st.datetimes(
            max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001 - naive, as Hypothesis takes it; in UTC too
            timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5))]),
        ),
        st.sampled_from(["auto", "minutes", "seconds", "microseconds"]),
        st.booleans(),
    )
    def test_a_time_as_text_lists_as_the_time(
        self, moment: dt.datetime, timespec: str, zulu: bool
    ) -> None:
        """A time's text, however it is written, lists as the time it stands for."""
        text = moment.isoformat(timespec=timespec)
        if zulu and moment.utcoffset() == dt.timedelta(0):
            text = text.removesuffix("+00:00") + "Z"
        assert text_module._minute_of(text) == text_module._minute(moment)

    def test_nothing_to_list(self) -> None:
        """No rows are "(nothing)", from data as from records."""
        assert data_table([]) == table([]) == "(nothing)" == fields_table("experiment", [])

    @pytest.mark.parametrize(
        "scheme",
        ["memory", "sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)],
    )
    def test_a_row_from_fields_is_the_records_row(
        self, scheme: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        """A record's listed fields, as a store aggregates them, list as the record does."""
        number = iter(range(10**6))
        postgres = request.getfixturevalue("postgres_url") if scheme == "postgres" else None

        def fresh_url() -> str:
            where = f"{tmp_path}/{next(number)}"
            if postgres is not None:
                return str(postgres())
            return {"memory": "memory://", "sqlite": f"sqlite:///{where}.db"}.get(
                scheme, f"files:///{where}"
            )

        @settings(max_examples=25, deadline=None)
        @given(records())
        def check(record: Record) -> None:
            assume(titled_by_itself(record.kind))
            url = fresh_url()
            with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as store:
                store.import_records([record.evolve(revision=1)])
                read = store.aggregate_tuples(
                    record.kind, group_by=listed_fields(record.kind), measures={}
                )
                assert fields_table(record.kind, read) == table([record])

        check()


class TestListFromFields:
    """Without ``--order`` or ``--limit``, `experiments list` reads the fields it shows."""

    def test_every_kind_lists_as_in_the_engines_order(self, programme: Shell) -> None:
        """Each kind titled by itself lists the same rows as ordered by id in the engine."""
        from experiments.cli.kinds import LIST_NAMES  # noqa: PLC0415 - what is tested

        def listed(*args: str) -> str:
            done = CliRunner().invoke(experiments_cli, ["--store", programme.url, "list", *args])
            assert done.exit_code == 0, done.output
            return done.output

        shown = 0
        for name in sorted({name for name, kind in LIST_NAMES.items() if titled_by_itself(kind)}):
            for extra in ([], ["--deleted"], ["--where", "tag = culture"], ["--filter", "id=x"]):
                from_fields = listed(name, *extra)
                assert from_fields == listed(name, *extra, "--order", "id"), (name, extra)
                shown += from_fields != "(nothing)\n"
        assert shown >= 20  # the programme has rows of most kinds

    def test_limit_takes_the_first_by_id(self, programme: Shell) -> None:
        """``--limit`` keeps the first rows by id, as the engine's order would."""
        every = programme.ok("list", "experiments").splitlines()
        assert len(every) == 2
        assert every == sorted(every)
        assert programme.ok("list", "experiments", "--limit", "1").splitlines() == every[:1]
        assert programme.ok("list", "experiments", "--limit", "0") == "(nothing)\n"


class TestCommandsTriedInstead:
    """A command people try that is not one of ours is answered with the one that is."""

    @pytest.mark.parametrize(("tried", "ours"), sorted(TRIED_INSTEAD.items()))
    def test_the_error_names_our_command(self, tried: str, ours: str) -> None:
        """Exit 2, one line naming the command that does it, which exists."""
        done = CliRunner().invoke(experiments_cli, [tried], prog_name="experiments")
        assert done.exit_code == 2
        assert f"`experiments {ours}` does that" in done.output
        assert ours in experiments_cli.list_commands(click.Context(experiments_cli))
        assert tried not in experiments_cli.list_commands(click.Context(experiments_cli))

    def test_another_unknown_command_keeps_clicks_words(self) -> None:
        """A word not in the table gets click's own error and suggestion."""
        done = CliRunner().invoke(experiments_cli, ["rport"], prog_name="experiments")
        assert done.exit_code == 2
        assert "No such command 'rport'" in done.output
        assert "does that" not in done.output
