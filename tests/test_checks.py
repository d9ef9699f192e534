"""Every built-in check fires when it should and stays quiet when it should, on every backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest

import experiments
from experiments import (
    Decision,
    Experiment,
    Learning,
    Objective,
    Participant,
    Participation,
    PluginError,
    Plugins,
    Prototype,
    Sprint,
    ValidationError,
)
from experiments.checks import (
    DURATION_OPTION,
    Check,
    Finding,
    Message,
    Severity,
    Share,
    plural,
    run_checks,
)
from experiments.checks.builtin import BUILTIN_CHECKS
from experiments.rollup import rollup
from experiments.stores import Store
from fake_plugins import fake_distribution

NOW = "2026-06-01T12:00:00Z"
DOCS = Path(__file__).parents[1] / "docs" / "checks.md"


def findings(store: Store, check_id: str, **options: Any) -> list[Finding]:
    report = run_checks(store, at=NOW, **options)
    return [f for f in report.findings if f.check == check_id]


def good_experiment(store: Store, **fields: Any) -> Experiment:
    """A running experiment that keeps every rule: objective, time box, the right people."""
    objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
    experiment = store.save(
        Experiment(
            title=fields.pop("title", "Good experiment"),
            objectives=[objective],
            time_box=fields.pop("time_box", "2026-05-01T00:00:00Z/P6W"),
            **fields,
        )
    )
    experiment = store.save(experiment.start(at="2026-05-01T00:00:00Z"))
    people = [
        (Participant(role="citizen"), "critical"),
        (Participant(role="frontline-employee", department="Health"), "supportive"),
    ]
    for person, stance in people:
        saved = store.save(person)
        store.save(Participation(experiment=experiment, participant=saved, stance=stance))
    store.save(
        Prototype(experiment=experiment, title="Paper mock-up", shown_at="2026-05-03T00:00:00Z")
    )
    return experiment


def conclude(store: Store, experiment: Experiment, at: str = "2026-05-20T00:00:00Z") -> Experiment:
    return store.save(experiment.conclude(at=at))


class TestThinkBigStartSmall:
    """think-big/no-objective, start-small/no-time-box, start-small/long-time-box."""

    def test_no_objective_fires(self, any_store: Store) -> None:
        """An experiment linked to no objective is found."""
        lonely = any_store.save(Experiment(title="Lonely", time_box="P2W"))
        found = findings(any_store, "think-big/no-objective")
        assert [f.concerns[0].id for f in found] == [lonely.id]
        assert "link it" in found[0].message

    def test_no_objective_fires_when_every_objective_is_gone(self, any_store: Store) -> None:
        """Links only to deleted or never-stored objectives count as none, as in the roll-up."""
        gone = any_store.save(Objective(title="Gone", slug="gone"))
        dangling = any_store.save(Experiment(title="Dangling", objectives=["obj_missing"]))
        orphaned = any_store.save(Experiment(title="Orphaned", objectives=[gone]))
        any_store.delete(gone)
        found = findings(any_store, "think-big/no-objective")
        assert sorted(f.concerns[0].id for f in found) == sorted([dangling.id, orphaned.id])
        assert all("deleted or not in the store" in f.message for f in found)
        unlinked = rollup(any_store, at=NOW).unlinked_experiments
        assert sorted(r.id for r in unlinked) == sorted([dangling.id, orphaned.id])

    def test_no_objective_quiet(self, any_store: Store) -> None:
        """A linked experiment passes."""
        good_experiment(any_store)
        assert findings(any_store, "think-big/no-objective") == []

    def test_no_time_box_fires(self, any_store: Store) -> None:
        """A running experiment without a time box is found."""
        experiment = good_experiment(any_store, time_box=None)
        assert [f.concerns[0].id for f in findings(any_store, "start-small/no-time-box")] == [
            experiment.id
        ]

    def test_no_time_box_quiet(self, any_store: Store) -> None:
        """A time-boxed experiment passes."""
        good_experiment(any_store)
        assert findings(any_store, "start-small/no-time-box") == []

    def test_long_time_box_fires_over_the_configured_limit(self, any_store: Store) -> None:
        """Six weeks is fine by default but too long when the limit is four."""
        good_experiment(any_store)
        assert findings(any_store, "start-small/long-time-box") == []
        options = {"start-small/long-time-box": {"max": "P4W"}}
        found = findings(any_store, "start-small/long-time-box", options=options)
        assert len(found) == 1
        assert "longer than 4 weeks" in found[0].message

    def test_long_time_box_quiet(self, any_store: Store) -> None:
        """Three weeks is within the default twelve."""
        good_experiment(any_store, time_box="2026-05-01T00:00:00Z/P3W")
        assert findings(any_store, "start-small/long-time-box") == []


class TestEngineRoom:
    """engine-room/no-external, engine-room/no-critical-voice, frontline/no-frontline."""

    def test_only_internal_supportive_staff_fires_all_three(self, any_store: Store) -> None:
        """An experiment of managers agreeing with each other breaks three rules."""
        objective = any_store.save(Objective(title="Welfare"))
        experiment = any_store.save(
            Experiment(title="Behind closed doors", objectives=[objective], time_box="P2W")
        )
        manager = any_store.save(Participant(role="manager", department="Board"))
        any_store.save(
            Participation(experiment=experiment, participant=manager, stance="supportive")
        )
        for check_id in (
            "engine-room/no-external",
            "engine-room/no-critical-voice",
            "frontline/no-frontline",
        ):
            found = findings(any_store, check_id)
            assert [f.concerns[0].id for f in found] == [experiment.id], check_id

    def test_citizens_critics_and_frontline_pass(self, any_store: Store) -> None:
        """With a critical citizen and a frontline employee, all three stay quiet."""
        good_experiment(any_store)
        for check_id in (
            "engine-room/no-external",
            "engine-room/no-critical-voice",
            "frontline/no-frontline",
        ):
            assert findings(any_store, check_id) == [], check_id

    def test_abandoned_experiments_are_not_held_to_it(self, any_store: Store) -> None:
        """An abandoned experiment is not asked for participants any more."""
        dropped = any_store.save(Experiment(title="Dropped", time_box="P2W"))
        any_store.save(dropped.abandon(reason="no money", at="2026-05-01T00:00:00Z"))
        assert findings(any_store, "engine-room/no-external") == []


class TestUnfinished:
    """unfinished/no-prototype-shown."""

    def test_concluded_without_showing_a_prototype_fires(self, any_store: Store) -> None:
        """A prototype shown only after the conclusion does not count."""
        objective = any_store.save(Objective(title="Welfare"))
        experiment = any_store.save(Experiment(title="Hidden", objectives=[objective]))
        experiment = any_store.save(experiment.start(at="2026-05-01T00:00:00Z"))
        experiment = conclude(any_store, experiment)
        any_store.save(
            Prototype(experiment=experiment, title="Too late", shown_at="2026-05-25T00:00:00Z")
        )
        found = findings(any_store, "unfinished/no-prototype-shown")
        assert [(f.severity, f.concerns[0].id) for f in found] == [
            (Severity.WARNING, experiment.id)
        ]

    def test_running_without_prototype_is_a_reminder(self, any_store: Store) -> None:
        """A running experiment gets an informational reminder."""
        objective = any_store.save(Objective(title="Welfare"))
        experiment = any_store.save(Experiment(title="Early", objectives=[objective]))
        any_store.save(experiment.start(at="2026-05-01T00:00:00Z"))
        found = findings(any_store, "unfinished/no-prototype-shown")
        assert [f.severity for f in found] == [Severity.INFO]

    def test_prototype_shown_in_time_passes(self, any_store: Store) -> None:
        """A prototype shown before the conclusion keeps the rule."""
        conclude(any_store, good_experiment(any_store))
        assert findings(any_store, "unfinished/no-prototype-shown") == []


class TestSprint:
    """sprint/no-facilitator and sprint/single-department."""

    def test_sprint_without_facilitator_from_one_department_fires_both(
        self, any_store: Store
    ) -> None:
        """A sprint team from one department with nobody facilitating breaks both rules."""
        a = any_store.save(Participant(role="employee", department="Finance"))
        b = any_store.save(Participant(role="manager", department="Finance"))
        sprint = any_store.save(Sprint(title="Budget sprint", team=[a, b]))
        assert [f.concerns[0].id for f in findings(any_store, "sprint/no-facilitator")] == [
            sprint.id
        ]
        found = findings(any_store, "sprint/single-department")
        assert [f.concerns[0].id for f in found] == [sprint.id]
        assert "only Finance" in found[0].message

    def test_facilitated_cross_silo_sprint_passes(self, any_store: Store) -> None:
        """Two departments and a facilitator keep both rules."""
        a = any_store.save(Participant(role="frontline-employee", department="Health"))
        b = any_store.save(Participant(role="employee", department="Culture"))
        citizen = any_store.save(Participant(role="citizen"))
        any_store.save(Sprint(title="Shared sprint", team=[a, b, citizen], facilitators=["Mette"]))
        assert findings(any_store, "sprint/no-facilitator") == []
        assert findings(any_store, "sprint/single-department") == []


class TestFollowUp:
    """follow-up/no-learning, follow-up/no-decision and follow-up/overdue."""

    def test_concluded_without_learning_or_decision_fires(self, any_store: Store) -> None:
        """Concluded in May, nothing learned or decided by June: both are found."""
        experiment = conclude(any_store, good_experiment(any_store), at="2026-05-10T00:00:00Z")
        assert [f.concerns[0].id for f in findings(any_store, "follow-up/no-learning")] == [
            experiment.id
        ]
        found = findings(any_store, "follow-up/no-decision")
        assert [f.concerns[0].id for f in found] == [experiment.id]
        assert "22 days ago" in found[0].message

    def test_decision_grace_period_is_configurable(self, any_store: Store) -> None:
        """Within the grace period no decision is asked for yet."""
        conclude(any_store, good_experiment(any_store), at="2026-05-10T00:00:00Z")
        options = {"follow-up/no-decision": {"grace": "P30D"}}
        assert findings(any_store, "follow-up/no-decision", options=options) == []

    def test_learning_and_decision_pass(self, any_store: Store) -> None:
        """A learning and a decision close the loop."""
        experiment = conclude(any_store, good_experiment(any_store))
        any_store.save(
            Learning(
                experiment=experiment, observation="It worked", observed_at="2026-05-21T00:00:00Z"
            )
        )
        decision = Decision(
            experiment=experiment.id, outcome="scale-up", decided_at="2026-05-22T00:00:00Z"
        )
        with any_store.batch() as batch:
            batch.save(decision)
            batch.save(experiment.decide(decision))
        assert findings(any_store, "follow-up/no-learning") == []
        assert findings(any_store, "follow-up/no-decision") == []

    def test_running_past_its_end_fires(self, any_store: Store) -> None:
        """Started 1 May for two weeks, still running on 1 June: 17 days over."""
        experiment = good_experiment(any_store, time_box="P2W")
        found = findings(any_store, "follow-up/overdue")
        assert [(f.severity, f.concerns[0].id) for f in found] == [(Severity.ERROR, experiment.id)]
        assert "17 days" in found[0].message

    def test_within_its_time_box_passes(self, any_store: Store) -> None:
        """Six weeks from 1 May have not ended on 1 June."""
        good_experiment(any_store)
        assert findings(any_store, "follow-up/overdue") == []


class TestRunningChecks:
    """Scopes, configuration, plugins and failures."""

    def test_scopes(self, any_store: Store) -> None:
        """One experiment, one objective or the whole store."""
        good = good_experiment(any_store)
        lonely = any_store.save(Experiment(title="Lonely"))
        everything = run_checks(any_store, at=NOW)
        assert {r.id for f in everything.findings for r in f.concerns} >= {lonely.id}
        alone = run_checks(any_store, experiment=lonely, at=NOW)
        assert {r.id for f in alone.findings for r in f.concerns} == {lonely.id}
        by_objective = run_checks(any_store, objective="welfare", at=NOW)
        assert {r.id for f in by_objective.findings for r in f.concerns} <= {good.id}

    def test_checks_can_be_switched_off(self, any_store: Store) -> None:
        """A disabled check neither runs nor finds anything."""
        any_store.save(Experiment(title="Lonely"))
        report = run_checks(any_store, at=NOW, disabled={"think-big/no-objective"})
        assert "think-big/no-objective" not in report.checks
        assert not [f for f in report.findings if f.check == "think-big/no-objective"]

    def test_unknown_check_or_option_is_refused(self, any_store: Store) -> None:
        """Misspelt configuration is an error that lists what exists."""
        with pytest.raises(ValidationError, match="known"):
            run_checks(any_store, disabled={"think-big/typo"})
        with pytest.raises(ValidationError, match="max"):
            run_checks(any_store, options={"start-small/long-time-box": {"maximum": "P1W"}})

    @pytest.mark.parametrize("value", ["14 days", "-P1D", "", 14, None, ["P1D"]])
    def test_option_values_are_read_before_any_check_runs(
        self, any_store: Store, value: Any
    ) -> None:
        """A duration option of the wrong form names the check, the option and the forms."""
        any_store.save(Experiment(title="Lonely"))
        with pytest.raises(ValidationError) as caught:
            run_checks(any_store, at=NOW, options={"follow-up/no-decision": {"grace": value}})
        message = str(caught.value)
        assert "'follow-up/no-decision'" in message
        assert "'grace'" in message
        assert "ISO 8601 duration such as 'P14D'" in message

    def test_durations_as_text_or_timedelta(self, any_store: Store) -> None:
        """ISO 8601 text and a timedelta both set a duration option."""
        good_experiment(any_store)
        for limit in ("p4w", dt.timedelta(weeks=4), pendulum.duration(weeks=4)):
            options = {"start-small/long-time-box": {"max": limit}}
            assert len(findings(any_store, "start-small/long-time-box", options=options)) == 1

    @pytest.mark.parametrize(
        ("disabled", "options"),
        [
            ("think-big/no-objective", None),
            (b"think-big/no-objective", None),
            (42, None),
            ([42], None),
            ((), "start-small/long-time-box"),
            ((), {"start-small/long-time-box": "P4W"}),
            ((), {"start-small/long-time-box": [("max", "P4W")]}),
        ],
    )
    def test_a_text_is_not_a_collection(
        self, any_store: Store, disabled: Any, options: Any
    ) -> None:
        """One id or one value where a collection belongs is refused, not read letter by letter."""
        with pytest.raises(ValidationError, match=r"disabled|options") as caught:
            run_checks(any_store, at=NOW, disabled=disabled, options=options)
        assert "e.g." in str(caught.value)

    def test_plugin_options_are_read_by_their_kind(self, plugins: Plugins) -> None:
        """Declared or inferred from the default: numbers, booleans, lists, durations."""
        seen: list[dict[str, Any]] = []

        def record(context: Any, options: Any) -> list[Finding]:
            seen.append(dict(options))
            return []

        check = Check(
            "budget/limits",
            "info",
            "Follow up",
            "Reads its options.",
            record,
            {"limit": 1000, "strict": False, "tags": ["money"], "within": "P7D", "note": "x"},
            {"within": DURATION_OPTION},
        )

        class Budget:
            @experiments.hookimpl
            def register_checks(self, register: Callable[[Check], None]) -> None:
                register(check)

        plugins.register(Budget(), name="budget")
        with experiments.connect("memory://", plugins=plugins) as store:
            given = {"limit": "2.5", "strict": "yes", "tags": ("a", "b"), "note": 3}
            run_checks(store, at=NOW, options={"budget/limits": given})
            assert seen[-1] == {
                "limit": 2.5,
                "strict": True,
                "tags": ("a", "b"),
                "within": pendulum.duration(days=7),
                "note": 3,
            }
            for text, items in [(" a, b ,,c ", ("a", "b", "c")), ("money", ("money",)), ("", ())]:
                run_checks(store, at=NOW, options={"budget/limits": {"tags": text}})
                assert seen[-1]["tags"] == items
            bad: list[tuple[str, Any, str]] = [
                ("limit", "lots", "a finite number"),
                ("limit", float("nan"), "a finite number"),
                ("limit", True, "a finite number"),
                ("strict", "maybe", "true or false"),
                ("tags", 5, "a list"),
                ("tags", {"a": 1}, "a list"),
                ("tags", b"a,b", "a list"),
            ]
            for name, value, accepts in bad:
                with pytest.raises(ValidationError, match=f"'budget/limits'.*'{name}'.*{accepts}"):
                    run_checks(store, at=NOW, options={"budget/limits": {name: value}})
        assert len(seen) == 4

    @pytest.mark.parametrize(
        ("defaults", "message"),
        [({"within": "soon"}, r"'budget/odd'.*'within'.*ISO 8601"), ({}, "no default")],
    )
    def test_a_check_with_an_unreadable_default_is_refused(
        self, defaults: dict[str, Any], message: str
    ) -> None:
        """A default its kind does not accept, or a kind without a default, is refused."""
        kinds = {"within": DURATION_OPTION}
        with pytest.raises(ValidationError, match=message):
            Check("budget/odd", "info", "Follow up", "Odd.", lambda c, o: [], defaults, kinds)

    def test_a_check_that_raises_is_reported_and_others_still_run(self, any_store: Store) -> None:
        """The failure becomes a PluginError finding naming the check and its plugin."""

        def broken(context: Any, options: Any) -> list[Finding]:
            raise RuntimeError("division by zero in the budget")

        class Plugin:
            @experiments.hookimpl
            def register_checks(self, register: Callable[[Check], None]) -> None:
                register(Check("budget/broken", "warning", "Follow up", "Always fails.", broken))

        any_store.plugins.register(Plugin(), name="budget-plugin")
        any_store.save(Experiment(title="Lonely"))
        report = run_checks(any_store, at=NOW)
        failed = [f for f in report.findings if f.check == "budget/broken"]
        assert len(failed) == 1
        assert failed[0].severity is Severity.ERROR
        assert "budget-plugin" in failed[0].message
        assert "division by zero" in failed[0].message
        assert isinstance(report.errors[0], PluginError)
        assert any(f.check == "think-big/no-objective" for f in report.findings)

    def test_check_from_an_installed_plugin_package(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_url: str
    ) -> None:
        """A check announced through the `experiments` entry point runs beside the built-ins."""
        fake_distribution(
            tmp_path,
            "budget-checks",
            "budget_checks",
            """
            import experiments
            from experiments.checks import Check

            def _needs_budget(context, options):
                for experiment in context.experiments:
                    if "budget" not in experiment.metadata:
                        yield BUDGET.finding("has no budget; say what it may cost", experiment)

            BUDGET = Check("budget/missing", "info", "Concrete measures with money behind them",
                           "An experiment without a budget.", _needs_budget)

            @experiments.hookimpl
            def register_checks(register):
                register(BUDGET)
            """,
            entry="budget",
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        plugins = Plugins()
        assert plugins.checks()["budget/missing"].plugin == "budget"
        with experiments.connect(backend_url, plugins=plugins) as store:
            store.save(Experiment(title="Costly", metadata={"budget": 1000}))
            free = store.save(Experiment(title="Free"))
            report = run_checks(store, at=NOW)
        budget = [f for f in report.findings if f.check == "budget/missing"]
        assert [f.concerns[0].id for f in budget] == [free.id]
        assert budget[0].plugin == "budget"
        assert any(f.check == "think-big/no-objective" for f in report.findings)

    def test_duplicate_check_ids_are_refused(self) -> None:
        """Two plugins cannot register the same check id."""

        class Copycat:
            @experiments.hookimpl
            def register_checks(self, register: Callable[[Check], None]) -> None:
                register(BUILTIN_CHECKS[0])

        plugins = Plugins(autoload=False, plugins=[Copycat()])
        with pytest.raises(PluginError, match="registered by both"):
            plugins.checks()

    def test_plugin_checks_are_listed_after_the_builtin_ones(self) -> None:
        """Registration follows the order plugins were registered in, built-in ones first."""

        class Budget:
            @experiments.hookimpl
            def register_checks(self, register: Callable[[Check], None]) -> None:
                register(Check("budget/none", "info", "Follow up", "No budget.", lambda c, o: []))

        listed = list(Plugins(autoload=False, plugins=[Budget()]).checks())
        assert listed == [c.id for c in BUILTIN_CHECKS] + ["budget/none"]


class TestDocumentation:
    """docs/checks.md lists every built-in check."""

    @pytest.mark.parametrize("check", BUILTIN_CHECKS, ids=lambda c: c.id)
    def test_every_builtin_check_is_documented(self, check: Check) -> None:
        """Its id, the move it comes from, and each of its options appear in the docs."""
        text = DOCS.read_text(encoding="utf-8")
        assert f"`{check.id}`" in text
        assert check.move in text
        for option in check.defaults:
            assert f"`{option}`" in text


class TestMessages:
    """A finding's words: a message id and its values, English by default."""

    def test_a_message_without_values_keeps_its_percent_signs(self) -> None:
        """A plugin's plain message with a "%" is shown as written, in reports too."""
        check = Check("budget/over", "warning", "Move", "Over budget.", lambda c, o: [])
        finding = check.finding("is 50% over budget")
        assert finding.message == "is 50% over budget"
        assert finding.wording == Message("is 50% over budget")

    def test_values_fill_the_placeholders_in_plain_english(self) -> None:
        """Numbers, shares, dates, durations and lists are written out for the message."""
        message = Message(
            "%(n)s, %(share)s, %(day)s, %(length)s, %(names)s",
            n=1234,
            share=Share(0.25),
            day=pendulum.date(2026, 4, 1),
            length=pendulum.duration(weeks=2),
            names=["a", "b"],
        )
        assert str(message) == "1,234, 25%, 2026-04-01, 2 weeks, a, b"

    def test_a_plural_is_chosen_by_its_count(self) -> None:
        """``count`` picks the singular or the plural form."""
        one = plural("%(count)s day late", "%(count)s days late", count=1)
        many = plural("%(count)s day late", "%(count)s days late", count=3)
        assert (str(one), str(many)) == ("1 day late", "3 days late")

    def test_values_go_to_the_message_or_to_finding_not_both(self) -> None:
        """Giving a made Message and values as well is refused."""
        check = Check("budget/over", "warning", "Move", "Over budget.", lambda c, o: [])
        with pytest.raises(ValidationError, match="not to finding"):
            check.finding(Message("is %(n)s over", n=1), n=2)
