"""The command line, driven as a user would drive it: in subprocesses, from a shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import Plugins, reports
from experiments.serialization import to_json

pytestmark = pytest.mark.slow


class Shell:
    """Runs `experiments ...` in a subprocess against one store."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.url = url
        self.cwd = cwd

    def __call__(
        self, *args: str, stdin: str | None = None, store: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "COLUMNS": "120"}
        env.pop("EXPERIMENTS_STORE", None)
        if store:
            env["EXPERIMENTS_STORE"] = self.url
        return subprocess.run(
            [sys.executable, "-m", "experiments", *args],
            capture_output=True,
            text=True,
            input=stdin,
            env=env,
            cwd=self.cwd,
            check=False,
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
    source, _ = built
    with experiments.connect(f"sqlite:///{source}", plugins=Plugins(autoload=False)) as store:
        records = list(store.export())
    with experiments.connect(
        f"sqlite:///{tmp_path}/programme.db", plugins=Plugins(autoload=False), create=True
    ) as copy:
        copy.import_records(records)
    return Shell(f"sqlite:///{tmp_path}/programme.db", tmp_path)


def build_programme(sh: Shell) -> dict[str, str]:
    """The municipality's programme, typed into a shell."""
    sh.ok("init")
    sh.ok("add", "objective", "Welfare in 100 days", "--slug", "welfare", "--owner", "Board")
    sh.ok(
        "add", "key-result", "welfare", "families in culture activities",
        "--baseline", "0", "--target", "40", "--unit", "families", "--slug", "families",
    )  # fmt: skip
    for slug, role, extra in (
        ("parent-1", "citizen", ["--pseudonymous", "--name", "Sara M."]),
        ("worker", "frontline-employee", ["--department", "Family Services", "--name", "Lise"]),
        ("librarian", "frontline-employee", ["--department", "Culture"]),
        ("association", "association", ["--name", "Art Association"]),
    ):
        sh.ok("add", "participant", role, "--slug", slug, *extra)
    sh.ok(
        "add", "sprint", "100-day sprint", "--slug", "sprint", "--member", "worker",
        "--member", "librarian", "--facilitator", "Mette Holm", "--time-box", "2026-08-17/P100D",
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
        "parent-1",
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
        "--verdict", "supports", "--evidence", "strong", "--participant", "parent-1",
        "--participant", "worker", "--at", "2026-10-06T09:00:00+02:00",
    )  # fmt: skip
    sh.ok("conclude", "art", "--at", "2026-10-05T20:00:00+02:00")
    sh.ok(
        "decide", "art", "scale-up", "--rationale", "Strong support", "--decided-by", "Board",
        "--next-step", "Two more libraries", "--at", "2026-10-12T10:00:00+02:00",
    )  # fmt: skip
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
    return {"hypothesis": hypothesis}


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
        shown = shell.ok("show", "parent-1")
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
        assert "<script" not in html
        data = json.loads(programme.ok("report", "--format", "json", "--at", at))
        jsonschema.validate(data, reports.schema())
        csv_bytes = programme("report", "--format", "csv", "--lang", "sv", "--at", at)
        assert csv_bytes.returncode == 0
        assert "Art afternoons for families" in csv_bytes.stdout
        bad = programme("report", "--format", "pdf")
        assert bad.returncode == 2
        assert "md, json, csv, html" in bad.stderr

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
        refused = shell("purge", "parent-1")
        assert refused.returncode == 2
        assert "--yes" in refused.stderr
        result = shell.json("purge", "parent-1", "--yes")
        assert len(result["purged"]) == 2  # the participant and their participation
        assert shell("show", "parent-1").returncode == 2

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
    ("link", "art", "--objective", "nowhere"),
    ("link", "art"),
    ("unlink", "art", "--participant", "librarian"),
    ("show", "nothing-here"),
    ("list", "unicorns"),
    ("list", "experiments", "--where", "status = finished"),
    ("list", "experiments", "--where", "status = (running"),
    ("list", "experiments", "--filter", "status"),
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
        assert lines, "nothing said on stderr"
        assert "Traceback" not in done.stderr
        if lines[0].startswith("error:"):
            assert len(lines) == 1, done.stderr
        assert programme.snapshot() == before

    def test_debug_shows_the_traceback(self, programme: Shell) -> None:
        """--debug trades the one line for the full traceback."""
        done = programme("--debug", "show", "nothing-here")
        assert done.returncode != 0
        assert "Traceback" in done.stderr
