"""The command line of the practice: templates, follow-up of next steps, sprints."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_cli import Shell

pytestmark = pytest.mark.slow


@pytest.fixture
def sh(tmp_path: Path) -> Shell:
    shell = Shell(f"sqlite:///{tmp_path}/cli.db", tmp_path)
    shell.ok("init")
    shell.ok("add", "objective", "Welfare", "--slug", "welfare")
    return shell


class TestMandatoryTemplate:
    """An experiment made from a mandatory template starts only once it is satisfied."""

    def test_start_is_refused_until_roles_and_fields_are_there(self, sh: Shell) -> None:
        """Exit 2 naming what is missing; after linking a frontline employee and naming an
        owner, the start goes through."""
        sh.ok("templates", "install", "frontline-experiment", "--mandatory-for", "welfare")
        sh.ok(
            "add", "experiment", "Booking", "--slug", "booking", "--objective", "welfare",
            "--template", "frontline-experiment",
        )  # fmt: skip
        refused = sh("start", "booking")
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: cannot start experiment 'Booking'")
        assert "a frontline employee taking part, an owner" in refused.stderr
        assert "`experiments show booking` lists it" in refused.stderr
        shown = sh.ok("show", "booking")
        assert (
            "to start: mandatory template 'Frontline experiment' still needs a frontline "
            "employee taking part, an owner"
        ) in shown
        sh.ok("add", "participant", "frontline-employee", "--slug", "carer", "--department", "Care")
        sh.ok("link", "booking", "--participant", "carer")
        still = sh("start", "booking")
        assert still.returncode == 2
        assert "needs an owner;" in still.stderr
        assert sh.json("show", "booking")["status"] == "planned"
        sh.ok("edit", "booking", "--set", "owner=Home Care")
        assert "started experiment" in sh.ok("start", "booking")
        data = sh.json("show", "booking")
        assert data["status"] == "running"
        assert data["template_gaps"] == []

    def test_the_template_gives_its_defaults(self, sh: Shell) -> None:
        """--template fills the time box, scope and description; --scope plans one's own."""
        sh.ok("templates", "install")
        made = sh.json(
            "add", "experiment", "Sprint", "--template", "citizen-co-creation-sprint",
            "--scope", "participants=12, budget=5000 DKK",
        )  # fmt: skip
        assert made["time_box"] == "P28D"
        assert made["scope"] == {
            "participants": 12,
            "sites": None,
            "budget": 5000.0,
            "currency": "DKK",
        }
        assert made["description"].startswith("We believe that")

    def test_installing_twice_lists_them_as_installed(self, sh: Shell) -> None:
        """`templates` lists the shipped ones and marks those in the store."""
        assert "shipped" in sh.ok("templates")
        sh.ok("templates", "install")
        sh.ok("templates", "install")
        listed = sh.json("templates")
        assert [t["slug"] for t in listed] == [
            "citizen-co-creation-sprint",
            "frontline-experiment",
            "cross-border-leadership-challenge",
        ]
        assert all(t["installed"] for t in listed)
        assert len(sh.json("list", "templates")) == 3

    def test_mandatory_needs_names(self, sh: Shell) -> None:
        """--mandatory-for without naming the templates is refused, nothing installed."""
        done = sh("templates", "install", "--mandatory-for", "welfare")
        assert done.returncode == 2
        assert "name the templates to make mandatory" in done.stderr
        assert sh.json("list", "templates") == []


class TestFollowUp:
    """`learn --next-*`, `next-steps` and `follow-up`."""

    def test_a_next_step_is_recorded_listed_and_done(self, sh: Shell) -> None:
        """A learning's next step with owner and date, listed, then marked done."""
        sh.ok("add", "experiment", "Walks", "--slug", "walks", "--objective", "welfare")
        learning = sh.json(
            "learn", "walks", "Residents feel safer", "--next-action", "Evening walks",
            "--next-owner", "Karin", "--next-due", "2026-05-20", "--at", "2026-05-01T10:00:00Z",
        )  # fmt: skip
        assert learning["next_action"]["owner"] == "Karin"
        listed = sh.json("next-steps", "--overdue", "--at", "2026-06-01T12:00:00Z")
        assert [(s["action"], s["overdue_days"], s["source"]) for s in listed] == [
            ("Evening walks", 12, learning["id"])
        ]
        assert "12 days overdue" in sh.ok("next-steps", "--at", "2026-06-01T12:00:00Z")
        sh.ok("follow-up", learning["id"], "--done", "--at", "2026-05-30T10:00:00Z")
        assert sh.json("next-steps", "--open", "--at", "2026-06-01T12:00:00Z") == []

    def test_decision_steps_get_owners(self, sh: Shell) -> None:
        """A decision's step is named by number; nothing to change is refused."""
        sh.ok("add", "experiment", "Walks", "--slug", "walks", "--objective", "welfare")
        sh.ok("start", "walks", "--at", "2026-05-01T10:00:00Z")
        sh.ok("conclude", "walks", "--at", "2026-05-10T10:00:00Z")
        decided = sh.json(
            "decide", "walks", "iterate", "--next-step", "Evening walks",
            "--next-step", "Youth club", "--at", "2026-05-12T10:00:00Z",
        )  # fmt: skip
        decision = decided["decision"]["id"]
        saved = sh.json("follow-up", decision, "2", "--owner", "Karin", "--due", "2026-06-15")
        assert saved["next_steps"][1] == {
            "action": "Youth club",
            "owner": "Karin",
            "due": "2026-06-15",
            "done_at": None,
        }
        vague = sh("follow-up", decision, "--owner", "Karin")
        assert vague.returncode == 2
        assert "has 2 next steps; say which" in vague.stderr
        nothing = sh("follow-up", decision, "1")
        assert nothing.returncode == 2
        assert "give --owner, --due, --done or --not-done" in nothing.stderr
        undone = sh("follow-up", decision, "1", "--owner", "Karin", "--at", "2026-06-01T10:00:00Z")
        assert undone.returncode == 2
        assert "error: --at needs --done: it says when the step was done" in undone.stderr


class TestSprints:
    """`add phase` and `sprints`."""

    def test_a_sprint_with_its_process_design(self, sh: Shell) -> None:
        """Phases added on the command line show in the sprint's roll-up."""
        sh.ok("add", "participant", "citizen", "--slug", "resident", "--pseudonymous")
        sh.ok("add", "participant", "frontline-employee", "--slug", "lise", "--name", "Lise")
        sh.ok("add", "sprint", "Welfare sprint", "--slug", "welfare-sprint", "--member", "lise",
              "--facilitator", "Mette")  # fmt: skip
        sh.ok("add", "phase", "welfare-sprint", "Test day", "--position", "2", "--role", "Citizen",
              "--participant", "lise", "--involvement", "consulted")  # fmt: skip
        sh.ok("add", "phase", "welfare-sprint", "Kick-off", "--position", "1")
        (sprint,) = sh.json("sprints")
        assert [p["title"] for p in sprint["phases"]] == ["Kick-off", "Test day"]
        assert sprint["phases"][1]["roles"] == ["citizen"]
        assert sprint["phases"][1]["people"] == ["Lise"]
        text = sh.ok("sprints")
        assert "2. Test day: Lise, citizen (consulted)" in text
        bad = sh("add", "phase", "welfare-sprint", "X", "--role", "wizard")
        assert bad.returncode == 2
        assert "'citizen'" in bad.stderr
