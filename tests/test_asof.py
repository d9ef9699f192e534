"""One truth about the programme as of a moment: the view, held against the definitions."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import (
    Decision,
    Experiment,
    ExperimentStatus,
    Hypothesis,
    HypothesisStatus,
    KeyResult,
    Learning,
    Measurement,
    NotFoundError,
    Objective,
    Outcome,
    Participant,
    Participation,
    Plugins,
    ValidationError,
    connect,
    track,
)
from experiments.asof import AsOf
from experiments.checks import run_checks
from experiments.model import asof as rules
from experiments.reports import build
from experiments.rollup import rollup
from experiments.stores import Store
from experiments.testing.strategies import ZONES

_START = pendulum.datetime(2026, 1, 5, 9, tz="UTC")
_LENGTHS = ("P1D", "PT36H", "P2W", "P1M", "P1M2D", "P1Y")
_ALLOWANCES = ("P30D", "P1M", "PT12H")


def _moment(day: int, minute: int, zone: str) -> pendulum.DateTime:
    return _START.add(days=day, minutes=minute).in_tz(zone)


@st.composite
def _experiments(draw: st.DrawFn) -> dict[str, Any]:
    """One experiment's plan: where its life goes, when, in which zone, and what it learns."""
    zone = draw(st.sampled_from(ZONES))
    fate = draw(st.sampled_from(["planned", "running", "concluded", "decided", "abandoned"]))
    days = sorted(draw(st.lists(st.integers(0, 400), min_size=4, max_size=4)))
    minutes = draw(st.integers(0, 24 * 60 - 1))
    anchored = draw(st.booleans())
    length = draw(st.one_of(st.none(), st.sampled_from(_LENGTHS)))
    verdicts = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["supports", "refutes", "inconclusive"]),
                st.sampled_from(["weak", "moderate", "strong"]),
                st.integers(0, 420),
            ),
            max_size=3,
        )
    )
    outcomes = draw(st.lists(st.sampled_from(list(Outcome)), min_size=1, max_size=3))
    return {
        "zone": zone,
        "fate": fate,
        "days": days,
        "minutes": minutes,
        "anchored": anchored,
        "length": length,
        "verdicts": verdicts,
        "outcomes": outcomes,
        "abandon_running": draw(st.booleans()),
    }


def _record(store: Store, plans: list[dict[str, Any]]) -> None:
    """The programme the plans describe, saved through the store's rules."""
    objective = store.save(Objective(title="Welfare"))
    for n, plan in enumerate(plans):
        zone, days, minute = plan["zone"], plan["days"], plan["minutes"]
        start = _moment(days[0], minute, zone)
        box = plan["length"]
        if box is not None and plan["anchored"]:
            box = f"{start.isoformat()}[{zone}]/{box}"
        experiment = store.save(
            Experiment(title=f"Experiment {n}", objectives=[objective], time_box=box)
        )
        fate = plan["fate"]
        if fate == "abandoned" and not plan["abandon_running"]:
            experiment = store.save(experiment.abandon(at=start, reason="no"))
        elif fate != "planned":
            experiment = store.save(experiment.start(at=start))
        if fate == "abandoned" and plan["abandon_running"]:
            experiment = store.save(
                experiment.abandon(at=_moment(days[1], minute, zone), reason="no")
            )
        if fate in ("concluded", "decided"):
            experiment = store.save(experiment.conclude(at=_moment(days[1], minute, zone)))
        hypothesis = store.save(Hypothesis(experiment=experiment, statement=f"Idea {n}"))
        for k, (verdict, evidence, day) in enumerate(plan["verdicts"]):
            store.save(
                Learning(
                    experiment=experiment,
                    hypothesis=hypothesis,
                    observation=f"Seen {k}",
                    verdict=verdict,
                    evidence=evidence,
                    observed_at=_moment(day, k, zone),
                )
            )
        if fate == "decided":
            previous: Decision | None = None
            for k, outcome in enumerate(plan["outcomes"]):
                moment = _moment(days[2] + k * (days[3] - days[2] + 1), minute + k, zone)
                decision = store.save(
                    Decision(experiment=experiment, outcome=outcome, decided_at=moment)
                    if previous is None
                    else previous.revised(outcome, rationale="changed", decided_at=moment)
                )
                if previous is None:
                    experiment = store.save(experiment.decide(decision))
                previous = decision


class _Reference:
    """The definitions of docs/rollup.md, written out plainly over whole records."""

    def __init__(self, store: Store, at: pendulum.DateTime, allowance: str) -> None:
        self.at = at.in_tz("UTC")
        self.allowance = _duration(allowance)
        self.experiments = list(store.query(Experiment))
        self.hypotheses = list(store.query(Hypothesis))
        self.learnings = list(store.query(Learning))
        self.decisions = list(store.query(Decision))

    def counts(self, moment: pendulum.DateTime | None) -> bool:
        return moment is not None and moment.in_tz("UTC") <= self.at

    def status(self, e: Experiment) -> ExperimentStatus:
        for moment, status in (
            (e.abandoned_at, ExperimentStatus.ABANDONED),
            (e.decided_at, ExperimentStatus.DECIDED),
            (e.concluded_at, ExperimentStatus.CONCLUDED),
            (e.started_at, ExperimentStatus.RUNNING),
        ):
            if self.counts(moment):
                return status
        return ExperimentStatus.PLANNED

    def end(self, e: Experiment) -> pendulum.DateTime | None:
        if e.time_box is None:
            return None
        anchor = e.time_box.start if e.time_box.start is not None else e.started_at
        return None if anchor is None else anchor + e.time_box.duration  # on anchor's calendar

    def overdue(self) -> dict[str, int]:
        found = {}
        for e in self.experiments:
            end = self.end(e)
            running = self.status(e) is ExperimentStatus.RUNNING
            if running and end is not None and end.in_tz("UTC") < self.at:
                found[e.id] = (self.at - end.in_tz("UTC")).days
        return found

    def decision(self, e: Experiment) -> Outcome | None:
        dated = [d for d in self.decisions if d.experiment == e.id and self.counts(d.decided_at)]
        if self.status(e) is not ExperimentStatus.DECIDED or not dated:
            return None
        return max(dated, key=lambda d: (d.decided_at.in_tz("UTC"), d.id)).outcome

    def verdict(self, h: Hypothesis) -> tuple[HypothesisStatus, str | None]:
        on_it = [x for x in self.learnings if x.hypothesis == h.id and self.counts(x.observed_at)]
        if not on_it:
            return HypothesisStatus.UNTESTED, None
        last = max(on_it, key=lambda x: (x.observed_at.in_tz("UTC"), x.id))
        assert last.verdict is not None
        return last.verdict.status, last.evidence.value

    def untested(self) -> dict[str, int]:
        found = {}
        by_id = {e.id: e for e in self.experiments}
        for h in self.hypotheses:
            e = by_id[h.experiment]
            status = self.status(e)
            if status in (ExperimentStatus.PLANNED, ExperimentStatus.ABANDONED):
                continue
            if self.verdict(h)[0] is not HypothesisStatus.UNTESTED:
                continue
            assert e.started_at is not None
            deadline = (e.started_at + self.allowance).in_tz("UTC")  # started_at's calendar
            if deadline < self.at:
                found[h.id] = (self.at - deadline).days
        return found

    def candidates(self) -> dict[str, bool]:
        """Ready to magnify, by hypothesis id: whether decided for scale-up."""
        found = {}
        by_id = {e.id: e for e in self.experiments}
        for h in self.hypotheses:
            e = by_id[h.experiment]
            status, evidence = self.verdict(h)
            decision = self.decision(e)
            if status is not HypothesisStatus.SUPPORTED or evidence is None:
                continue
            if self.status(e) is ExperimentStatus.ABANDONED:
                continue
            if decision in (Outcome.STOP, Outcome.PIVOT):
                continue
            found[h.id] = decision is Outcome.SCALE_UP
        return found


def _duration(text: str) -> pendulum.Duration:
    from experiments.model._time import parse_duration  # noqa: PLC0415 - the one parser

    return parse_duration(text)


class TestAgainstTheDefinitions:
    """The view, and the roll-up, checks and report read from it, say what the docs define."""

    @settings(max_examples=60, deadline=None)
    @given(
        plans=st.lists(_experiments(), min_size=1, max_size=5),
        day=st.integers(0, 450),
        minute=st.integers(0, 24 * 60 - 1),
        zone=st.sampled_from(ZONES),
        allowance=st.sampled_from(_ALLOWANCES),
        backend=st.sampled_from(["memory", "sqlite", "sqlite-streamed"]),
    )
    def test_every_rule(
        self,
        plans: list[dict[str, Any]],
        day: int,
        minute: int,
        zone: str,
        allowance: str,
        backend: str,
    ) -> None:
        """Statuses, ends, overdue, decisions, verdicts, untested and candidates all agree.

        On SQLite the facts are aggregated in SQL, or streamed through Python.
        """
        at = _moment(day, minute, zone)
        pushdown = backend != "sqlite-streamed"
        with tempfile.TemporaryDirectory() as directory:
            url = f"memory://{uuid.uuid4().hex}"
            if backend != "memory":
                url = f"sqlite:///{directory}/programme.db"
            self._check(plans, at, allowance, url, pushdown=pushdown)

    @staticmethod
    def _check(
        plans: list[dict[str, Any]],
        at: pendulum.DateTime,
        allowance: str,
        url: str,
        *,
        pushdown: bool,
    ) -> None:
        with connect(url, plugins=Plugins(autoload=False), create=True) as store:
            _record(store, plans)
            expected = _Reference(store, at, allowance)
            view = AsOf(store, at=at, untested_after=allowance, pushdown=pushdown)
            total = rollup(view).total
            checks = run_checks(view, options={"follow-up/no-decision": {"grace": "P0D"}})
            for experiment in expected.experiments:
                assert view.status(experiment) is expected.status(experiment)
                assert view.facts[experiment.id].status is expected.status(experiment)
                assert view.time_box_end(experiment) == expected.end(experiment)
                decided = view.decision(experiment)
                assert (None if decided is None else decided.outcome) == expected.decision(
                    experiment
                )
        assert {o.experiment.id: o.days for o in total.overdue} == expected.overdue()
        assert {u.hypothesis.id: u.days_overdue for u in total.untested} == expected.untested()
        assert {c.hypothesis.id: c.scaling_up for c in total.candidates} == expected.candidates()
        decisions = Counter(expected.decision(e) for e in expected.experiments)
        assert {o: n for o, n in total.decisions.items() if n} == {
            o: n for o, n in decisions.items() if o is not None
        }
        flagged = {f.concerns[0].id for f in checks.findings if f.check == "follow-up/overdue"}
        assert flagged == set(expected.overdue())
        awaiting = {f.concerns[0].id for f in checks.findings if f.check == "follow-up/no-decision"}
        assert awaiting == {r.id for r in total.concluded_without_decision}
        assert awaiting == {
            e.id for e in expected.experiments if expected.status(e) is ExperimentStatus.CONCLUDED
        }


@pytest.fixture
def magnify(any_store: Store) -> dict[str, Any]:
    """Four supported hypotheses whose experiments ended four ways, one still running."""
    store = any_store
    objective = store.save(Objective(title="Welfare", slug="welfare"))
    made: dict[str, Any] = {"objective": objective}
    for name, outcome in (
        ("scaled", Outcome.SCALE_UP),
        ("stopped", Outcome.STOP),
        ("pivoted", Outcome.PIVOT),
        ("running", None),
        ("abandoned", None),
    ):
        with track(name, store=store, objectives=objective, start=False) as run:
            run.start(at="2026-03-01T09:00:00Z")
            hypothesis = run.hypothesis(f"{name} works", criterion="visits >= 10")
            run.measure("visits", 12 if name != "running" else 4, at="2026-03-10T09:00:00Z")
            run.learn(
                f"{name}: it worked",
                hypothesis=hypothesis,
                verdict="supports",
                evidence="strong",
                at="2026-03-11T09:00:00Z",
            )
            if name == "abandoned":
                run.abandon("no money", at="2026-03-12T09:00:00Z")
            elif outcome is not None:
                run.conclude(at="2026-03-12T09:00:00Z")
                run.decide(outcome, at="2026-03-13T09:00:00Z")
        made[name] = hypothesis
    return made


class TestFindAndMagnify:
    """Candidates leave out what was dropped, split by decision, and carry their criterion."""

    def test_dropped_experiments_are_no_candidates(
        self, any_store: Store, magnify: dict[str, Any]
    ) -> None:
        """Abandoned, stopped and pivoted experiments' hypotheses are left out; two groups stay."""
        total = rollup(any_store, at="2026-04-01T00:00:00Z").total
        assert {c.hypothesis.title for c in total.candidates} == {"scaled works", "running works"}
        assert [c.hypothesis.title for c in total.scaling_up] == ["scaled works"]
        assert [c.hypothesis.title for c in total.awaiting_decision] == ["running works"]
        assert total.candidates[0].decision is Outcome.SCALE_UP  # decided ones come first

    def test_a_criterion_not_met_is_flagged_on_the_candidate_and_by_a_check(
        self, any_store: Store, magnify: dict[str, Any]
    ) -> None:
        """Supported, but 4 visits do not meet 'visits >= 10': the candidate and a check say so."""
        at = "2026-04-01T00:00:00Z"
        total = rollup(any_store, at=at).total
        met = {c.hypothesis.title: (c.measured, c.criterion_met) for c in total.candidates}
        assert met == {"scaled works": (12.0, True), "running works": (4.0, False)}
        found = run_checks(any_store, at=at).by_check()["magnify/criterion-not-met"]
        assert [f.concerns[0].id for f in found] == [magnify["running"].id]
        assert "'visits >= 10'" in found[0].message
        assert "(4)" in found[0].message
        before = rollup(any_store, at="2026-03-10T08:00:00Z").total  # not measured yet then
        assert all(c.criterion_met is None for c in before.candidates)

    def test_reports_show_the_two_groups(self, any_store: Store, magnify: dict[str, Any]) -> None:
        """The report data carries what the roll-up found, in every format."""
        from experiments.reports import render  # noqa: PLC0415

        report = build(any_store, at="2026-04-01T00:00:00Z")
        markdown = render(report, "md")
        assert "### Decided for scale-up" in markdown
        assert "### Awaiting a decision" in markdown
        assert "visits \\>= 10 (not met: 4)" in markdown


class TestDecisionRevised:
    """A decision changes only by a revision; the roll-up counts the one in force."""

    def test_revision_through_a_run(self, any_store: Store) -> None:
        """run.decide(revise=True) needs a rationale; the earlier decision stays in the record."""
        with track("bus", store=any_store, start=False) as run:
            run.start(at="2026-03-01T09:00:00Z")
            run.conclude(at="2026-03-20T09:00:00Z")
            first = run.decide("iterate", at="2026-03-21T09:00:00Z")
            with pytest.raises(ValidationError, match="already decided: iterate"):
                run.decide("stop", rationale="changed our mind")
            with pytest.raises(ValidationError, match="rationale is required"):
                run.decide("stop", revise=True, at="2026-03-28T09:00:00Z")
            second = run.decide(
                "stop", rationale="changed our mind", revise=True, at="2026-03-28T09:00:00Z"
            )
            again = run.decide(
                "stop", rationale="changed our mind", revise=True, at="2026-03-28T09:00:00Z"
            )
        assert again == second  # a script run twice revises once
        assert second.revises == first.id
        between = rollup(any_store, at="2026-03-25T00:00:00Z").total.decisions
        after = rollup(any_store, at="2026-04-01T00:00:00Z").total.decisions
        assert (between[Outcome.ITERATE], between[Outcome.STOP]) == (1, 0)
        assert (after[Outcome.ITERATE], after[Outcome.STOP]) == (0, 1)
        assert any_store.count(Decision) == 2

    def test_nothing_to_revise(self, any_store: Store) -> None:
        """Revising an experiment not yet decided is an error that says to decide."""
        with track("walks", store=any_store, start=False) as run:
            run.start(at="2026-03-01T09:00:00Z")
            run.conclude(at="2026-03-20T09:00:00Z")
            with pytest.raises(ValidationError, match="no decision to revise"):
                run.decide("stop", rationale="x", revise=True)
        assert any_store.count(Decision) == 0


class TestReferences:
    """Records are named by record, id or slug wherever a reference is taken."""

    def test_a_key_result_by_its_slug(self, any_store: Store) -> None:
        """run.measure('<key result slug>') counts towards that key result's progress."""
        objective = any_store.save(Objective(title="Welfare", slug="welfare"))
        any_store.save(
            KeyResult(
                slug="families", objective=objective, metric="families", baseline=0, target=40
            )
        )
        with track("art", store=any_store, objectives="welfare") as run:
            measured = run.measure("families", 10, at="2026-03-01T09:00:00Z")
            plain = run.measure("visits", 3, at="2026-03-01T09:00:00Z")
        assert measured.key_result == KeyResult.id_for_slug("families")
        assert plain.key_result is None
        progress = rollup(any_store, "welfare").find("welfare").key_results[0]
        assert progress.progress == 0.25

    def test_roll_up_and_checks_take_slugs(self, any_store: Store) -> None:
        """An objective or experiment by slug; an unknown one is an error, never empty."""
        objective = any_store.save(Objective(title="Welfare", slug="welfare"))
        any_store.save(Experiment(title="Walks", slug="walks", objectives=[objective]))
        result = rollup(any_store, "welfare")
        assert result.find("welfare").objective == objective
        assert result.find(objective.id) is result.find("welfare")
        assert run_checks(any_store, experiment="walks").checks
        with pytest.raises(NotFoundError, match="did you mean 'welfare'"):
            rollup(any_store, "welfar")
        with pytest.raises(NotFoundError, match="no experiment with id or slug 'walk'"):
            run_checks(any_store, experiment="walk")
        with pytest.raises(NotFoundError, match="not in this roll-up"):
            result.find("welfar")

    def test_participants_by_slug_unless_pseudonymous(self, any_store: Store) -> None:
        """run.participant takes a slug; a pseudonymous person only by id."""
        any_store.save(Participant(role="frontline-employee", slug="lise"))
        hidden = any_store.save(
            Participant(role="citizen", slug="anna-k", name="Anna K.", pseudonymous=True)
        )
        with track("art", store=any_store) as run:
            run.participant("lise", stance="critical")
            with pytest.raises(NotFoundError, match="anna-k"):
                run.participant("anna-k")
            run.participant(hidden.id)
        assert any_store.count(Participation) == 2
        assert any_store.count(Measurement) == 0


#: A wall-clock start, a number of whole days and a part of a further day in seconds.
_WALL_CLOCK = st.datetimes(
    min_value=pendulum.datetime(2000, 1, 1).naive(),
    max_value=pendulum.datetime(2090, 1, 1).naive(),
)
_DAYS = st.integers(min_value=1, max_value=800)
_PART_OF_A_DAY = st.integers(min_value=0, max_value=86_399)


class TestDaysCovered:
    """A time box's days as reports show them: the dates and the count agree."""

    def test_a_box_ending_at_midnight_ends_the_day_before(self) -> None:
        """1 April 00:00 to 30 April 00:00 is 1 to 29 April: 29 days, both counted."""
        start = pendulum.datetime(2026, 4, 1, tz="Europe/Copenhagen")
        end = pendulum.datetime(2026, 4, 30, tz="Europe/Copenhagen")
        assert rules.days_covered(start, end) == (
            pendulum.date(2026, 4, 1),
            pendulum.date(2026, 4, 29),
            29,
        )

    def test_a_box_ending_later_in_the_day_covers_that_day(self) -> None:
        """Ending at 17:00 on 30 April after starting at 09:00 covers 30 April: 30 days."""
        start = pendulum.datetime(2026, 4, 1, 9, tz="UTC")
        end = pendulum.datetime(2026, 4, 30, 17, tz="UTC")
        assert rules.days_covered(start, end)[1:] == (pendulum.date(2026, 4, 30), 30)

    def test_days_count_on_the_box_s_own_calendar(self) -> None:
        """100 days across the end of summer time are 100 days, seen from any zone."""
        start = pendulum.datetime(2026, 8, 17, 8, tz="Europe/Copenhagen")
        end = rules.after(start, pendulum.duration(days=100))
        assert end is not None
        first, last, count = rules.days_covered(start, end.in_timezone("UTC"))
        assert (first, last, count) == (
            pendulum.date(2026, 8, 17),
            pendulum.date(2026, 11, 24),
            100,
        )

    @settings(deadline=None)
    @given(
        zone=st.sampled_from(ZONES),
        start=_WALL_CLOCK,
        days=_DAYS,
        extra=_PART_OF_A_DAY,
    )
    def test_the_dates_shown_give_the_count_shown(
        self, zone: str, start: Any, days: int, extra: int
    ) -> None:
        """In any zone the first day is the start's and both shown days are counted."""
        begin = pendulum.instance(start, tz=zone)
        end = rules.after(begin, pendulum.duration(days=days, seconds=extra))
        assert end is not None
        first, last, count = rules.days_covered(begin, end)
        assert first == begin.date()
        assert count == (last - first).days + 1
        assert days <= count <= days + 1

    @given(
        start=_WALL_CLOCK,
        days=_DAYS,
        extra=_PART_OF_A_DAY,
    )
    def test_whole_days_count_as_themselves_and_a_part_as_one(
        self, start: Any, days: int, extra: int
    ) -> None:
        """A box of whole days has that many; any part of a further day adds one."""
        begin = pendulum.instance(start, tz="UTC")
        end = begin + pendulum.duration(days=days, seconds=extra)
        assert rules.days_covered(begin, end)[2] == (days if extra == 0 else days + 1)


class TestThreads:
    """Views read from several threads at once never wait for each other for ever."""

    def _run(self, scenario: str) -> dict[str, Any]:
        """A scenario of view_threads.py, in a process of its own (a hang stays there)."""
        finished = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("view_threads.py")), scenario],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return dict(json.loads(finished.stdout))

    def test_a_roll_up_beside_another_view_s_facts(self) -> None:
        """A roll-up in its reading block and another view's facts, read meanwhile, finish."""
        done = self._run("another-view")
        assert done == {"waiting": [], "inside": 1, "outside": 1}

    def test_a_view_reused_after_its_roll_up_beside_the_checks(self) -> None:
        """A roll-up's view read again (its records, a status) while the checks read finishes."""
        done = self._run("reused-view")
        assert done["waiting"] == []
        assert done["outside"] == [1, "planned"]
        assert "follow-up/no-objective" not in done["inside"]
