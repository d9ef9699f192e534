"""The roll-up of the municipality programme, figures computed by hand, on every backend."""

from __future__ import annotations

import datetime as dt
import math
import pickle
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from experiments import (
    Decision,
    Evidence,
    ExcuseReason,
    Experiment,
    ExperimentStatus,
    Hypothesis,
    HypothesisStatus,
    Involvement,
    KeyResult,
    Learning,
    Measurement,
    NotFoundError,
    Objective,
    Outcome,
    Participant,
    Participation,
    Plugins,
    Stance,
    ValidationError,
    connect,
)
from experiments.asof import AsOf
from experiments.checks import run_checks
from experiments.model._time import days_between, parse_duration
from experiments.model.objective import parent_cycles
from experiments.reports import gather
from experiments.rollup import Rollup, rollup
from experiments.stores import Store
from experiments.testing.strategies import datetimes, ids

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
import municipality

LATE = "2026-11-27T12:00:00+01:00"
EARLY = "2026-10-01T12:00:00+02:00"


@pytest.fixture
def programme(any_store: Store) -> dict[str, Any]:
    """The example's programme recorded into an empty store of each backend."""
    return municipality.record_programme(any_store)


def both_ways(store: Store, **options: Any) -> Rollup:
    """The roll-up pushed down and streamed; they must agree, and one is returned."""
    options.setdefault("at", pendulum.now("UTC"))
    pushed = rollup(store, pushdown=True, **options)
    streamed = rollup(store, pushdown=False, **options)
    assert pushed == streamed
    return pushed


class TestMunicipalityRollup:
    """The programme's figures as of after its 100 days."""

    def test_experiments_hypotheses_learnings_decisions(
        self, any_store: Store, programme: dict[str, Any]
    ) -> None:
        """Statuses, verdicts, learnings and decisions are counted as recorded."""
        total = both_ways(any_store, at=LATE).total
        assert total.experiments == 4
        assert total.by_status == {
            ExperimentStatus.PLANNED: 1,
            ExperimentStatus.RUNNING: 1,
            ExperimentStatus.CONCLUDED: 0,
            ExperimentStatus.DECIDED: 2,
            ExperimentStatus.ABANDONED: 0,
        }
        assert total.hypotheses == {
            HypothesisStatus.UNTESTED: 2,
            HypothesisStatus.SUPPORTED: 2,
            HypothesisStatus.REFUTED: 0,
            HypothesisStatus.INCONCLUSIVE: 1,
        }
        assert total.learnings == 3
        assert total.decisions == {
            Outcome.SCALE_UP: 1,
            Outcome.ITERATE: 1,
            Outcome.PIVOT: 0,
            Outcome.STOP: 0,
        }

    def test_key_result_progress_counts_late_data_by_when_it_was_measured(
        self, any_store: Store, programme: dict[str, Any]
    ) -> None:
        """The latest measurement by time measured wins, even when logged after a later one."""
        tree = both_ways(any_store, at=LATE).objectives[0]
        families, incidents = sorted(tree.key_results, key=lambda k: k.key_result.metric)[::-1]
        assert families.key_result.metric.startswith("vulnerable families")
        assert families.latest == 31
        assert families.progress == pytest.approx(31 / 40)
        assert families.measurements == 3
        # 29 on 30 Sep, 26 on 31 Oct, then 27 for 15 Oct logged last: 26 is the latest.
        assert incidents.latest == 26
        assert incidents.progress == pytest.approx((26 - 30) / (18 - 30))
        assert tree.progress == pytest.approx((31 / 40 + 4 / 12) / 2)

    def test_involvement_profile(self, any_store: Store, programme: dict[str, Any]) -> None:
        """Distinct participants, external, critical and frontline shares, departments, depth."""
        profile = both_ways(any_store, at=LATE).total.involvement
        # Art: 3 parents, the art association, the family worker, the librarian;
        # walks: 2 residents, the tenants, the police, the SSP worker; café: the librarian
        # again and the supermarket.
        assert profile.participants == 12
        assert profile.external == 9
        assert profile.share_external == pytest.approx(9 / 12)
        assert profile.critical == 2
        assert profile.share_critical == pytest.approx(2 / 12)
        assert profile.frontline == 3
        assert profile.share_frontline == pytest.approx(3 / 12)
        assert profile.pseudonymous == 5
        assert profile.departments == (
            "Crime Prevention",
            "Culture and Libraries",
            "Family Services",
        )
        assert profile.departments_crossed == 3
        assert profile.depth == {
            Involvement.INFORMED: 0,
            Involvement.CONSULTED: 3,
            Involvement.CO_CREATING: 9,
        }

    def test_one_sided_evidence(self, any_store: Store, programme: dict[str, Any]) -> None:
        """The café's snack hypothesis rests on one supportive voice only."""
        one_sided = both_ways(any_store, at=LATE).total.one_sided
        assert len(one_sided) == 1
        assert one_sided[0].hypothesis.title == "Local businesses will pay for the café's snacks"
        assert one_sided[0].stance is Stance.SUPPORTIVE
        assert one_sided[0].voices == 1

    def test_start_small_and_follow_up(self, any_store: Store, programme: dict[str, Any]) -> None:
        """Time boxes, the café running 45 days past its end, and its untested hypothesis."""
        total = both_ways(any_store, at=LATE).total
        assert total.time_boxed == 4
        assert total.share_time_boxed == 1.0
        assert [(o.experiment.title, o.days) for o in total.overdue] == [
            ("Homework café with local businesses", 45)
        ]
        # Its four weeks from 14 Sep 15:00 CEST cover 14 Sep to 11 Oct, as its time box
        # is shown, and ended on 12 Oct at 15:00.
        assert [(o.last_day, o.ended_at) for o in total.overdue] == [
            (dt.date(2026, 10, 11), pendulum.parse("2026-10-12T15:00:00+02:00"))
        ]
        assert total.concluded_without_learning == ()
        assert total.concluded_without_decision == ()
        # Started 14 Sep 15:00 CEST; 30 days allowed; on 27 Nov noon CET that is 43 days over.
        assert [(u.hypothesis.title, u.days_overdue) for u in total.untested] == [
            ("Pupils who get homework help in the library come every week", 43)
        ]

    def test_candidates_to_magnify(self, any_store: Store, programme: dict[str, Any]) -> None:
        """Supported hypotheses, strong evidence with critical voices first."""
        candidates = both_ways(any_store, at=LATE).total.candidates
        assert [
            (c.hypothesis.title, c.evidence, c.participants, c.critical_voices) for c in candidates
        ] == [
            (
                "Families offered art afternoons with their children come back",
                Evidence.STRONG,
                6,
                1,
            ),
            ("Local businesses will pay for the café's snacks", Evidence.WEAK, 2, 0),
        ]
        assert [o.title for o in candidates[0].objectives] == [programme["objective"].title]

    def test_findings_pickle_as_tuples(self, any_store: Store, programme: dict[str, Any]) -> None:
        """A summary pickled (or copied) keeps every finding it lists, as tuples."""
        total = both_ways(any_store, at=LATE).total
        copied = pickle.loads(pickle.dumps(total))  # noqa: S301 - our own bytes
        assert copied == total
        assert isinstance(copied.candidates, tuple)
        assert copied.candidates == tuple(total.candidates)
        assert copied.one_sided[0].hypothesis.title == total.one_sided[0].hypothesis.title

    def test_findings_read_later_name_what_was_rolled_up(
        self, any_store: Store, programme: dict[str, Any]
    ) -> None:
        """Findings made after the roll-up, and after a rename, name things as they were."""
        result = rollup(any_store, at=LATE)
        view = AsOf(any_store, at=LATE)
        with any_store.reading():
            facts = view.facts
        objective = any_store.get(programme["objective"].id)
        any_store.save(objective.evolve(title="Renamed after the roll-up"))
        assert [o.title for o in result.total.candidates[0].objectives] == [objective.title]
        candidates = [
            h.candidate for f in facts.values() for h in f.hypotheses if h.candidate is not None
        ]
        assert candidates
        assert {o.title for c in candidates for o in c.objectives} == {objective.title}

    def test_excuses_by_reason(self, any_store: Store, programme: dict[str, Any]) -> None:
        """Excuses on the objective and on its experiments are counted by reason."""
        tree = both_ways(any_store, at=LATE).objectives[0]
        assert tree.summary.excuses_by_reason == {
            ExcuseReason.NO_TIME: 1,
            ExcuseReason.KNOW_WHAT_THEY_SAY: 1,
            ExcuseReason.BAD_TIMING: 1,
        }
        assert {e.group for e in tree.summary.excuses} == {
            "Young people in Sølvparken",
            "Home-care users over 80",
            "Local businesses in the welfare areas",
        }

    def test_one_objective_by_slug(self, any_store: Store, programme: dict[str, Any]) -> None:
        """Rolling up the objective alone gives the same figures as the whole strategy."""
        whole = both_ways(any_store, at=LATE)
        alone = both_ways(any_store, objective="welfare-in-100-days", at=LATE)
        assert alone.scope is not None
        assert alone.scope.id == programme["objective"].id
        assert alone.total == whole.total
        assert alone.objectives == whole.objectives

    def test_earlier_moment(self, any_store: Store, programme: dict[str, Any]) -> None:
        """As of 1 October: what had happened by then, and nothing after."""
        result = both_ways(any_store, at=EARLY)
        total = result.total
        assert total.by_status[ExperimentStatus.RUNNING] == 3
        assert total.by_status[ExperimentStatus.PLANNED] == 1
        assert total.learnings == 1  # only the café's, observed 28 September
        assert total.hypotheses[HypothesisStatus.SUPPORTED] == 1
        assert total.hypotheses[HypothesisStatus.UNTESTED] == 4
        assert sum(total.decisions.values()) == 0
        assert total.overdue == ()
        assert [(u.experiment.title, u.days_overdue) for u in total.untested] == [
            ("Art and culture afternoons for vulnerable families", 7),
            ("Safety walks with residents and police in Sølvparken", 0),
        ]
        tree = result.objectives[0]
        assert tree.progress == pytest.approx((23 / 40 + 1 / 12) / 2)


class TestObjectiveTree:
    """Sub-objectives, weights and objectives left without experiments."""

    def test_progress_is_the_weighted_mean_of_what_has_data(self, any_store: Store) -> None:
        """Key results and sub-objectives weigh in; those with no data are left out."""
        top = any_store.save(Objective(title="Top", slug="top"))
        child = any_store.save(Objective(title="Child", parent=top, weight=3))
        empty_child = any_store.save(Objective(title="Empty child", parent=top, weight=5))
        top_kr = any_store.save(
            KeyResult(objective=top, metric="a", baseline=0, target=10, weight=1)
        )
        child_kr = any_store.save(KeyResult(objective=child, metric="b", baseline=100, target=0))
        any_store.save(KeyResult(objective=empty_child, metric="c", baseline=0, target=1))
        any_store.save(Measurement(key_result=top_kr, value=5, measured_at="2026-01-01"))
        any_store.save(Measurement(key_result=child_kr, value=25, measured_at="2026-01-01"))
        any_store.save(Measurement(key_result=child_kr, value=500, measured_at="2027-01-01"))
        experiment = any_store.save(Experiment(title="Linked to the child", objectives=[child]))
        result = both_ways(any_store, at="2026-06-01T00:00:00Z")
        tree = result.find(top)
        assert result.find(child).progress == pytest.approx(0.75)
        assert result.find(empty_child).progress is None
        assert tree.progress == pytest.approx((0.5 * 1 + 0.75 * 3) / (1 + 3))
        assert tree.summary.experiments == 1
        assert tree.direct_experiments == 0
        assert [r.title for r in result.objectives_without_experiments] == ["Empty child"]
        assert result.unlinked_experiments == ()
        assert experiment.objectives == (child.id,)

    def test_unlinked_experiments_count_in_the_whole_strategy(self, any_store: Store) -> None:
        """Experiments linked to no objective are listed, and counted in the total."""
        lonely = any_store.save(Experiment(title="Nobody's experiment"))
        result = both_ways(any_store)
        assert [r.id for r in result.unlinked_experiments] == [lonely.id]
        assert result.total.experiments == 1
        assert result.objectives == ()
        assert math.isclose(result.total.share_time_boxed or 0, 0)

    def test_unknown_objective(self, any_store: Store) -> None:
        """Rolling up an objective that is not there names it."""
        any_store.save(Objective(title="Something"))
        with pytest.raises(NotFoundError, match="nope"):
            rollup(any_store, "nope")


class TestParentCycles:
    """Objectives whose parent links loop back on themselves."""

    def _loop(self, store: Store) -> tuple[Objective, Objective]:
        first = store.save(Objective(title="Welfare", slug="welfare"))
        second = store.save(Objective(title="Safety", slug="safety", parent=first))
        first = store.save(first.evolve(parent=second))  # each save is valid on its own
        return first, second

    def test_the_roll_up_names_the_loop_and_how_to_break_it(self, any_store: Store) -> None:
        """A loop is a ValidationError naming both objectives and the edit that fixes it."""
        first, second = self._loop(any_store)
        for scope in (None, first, second):
            with pytest.raises(ValidationError) as caught:
                rollup(any_store, scope)
            message = str(caught.value)
            assert first.id in message
            assert second.id in message
            assert "--set parent=" in message

    def test_objectives_outside_the_loop_still_roll_up(self, any_store: Store) -> None:
        """Rolling up an objective in another tree, or hanging below the loop, works."""
        first, _ = self._loop(any_store)
        other = any_store.save(Objective(title="Culture", slug="culture"))
        below = any_store.save(Objective(title="Below", slug="below", parent=first))
        assert rollup(any_store, other).scope is not None
        assert rollup(any_store, below).find(below).objective == below

    def test_breaking_the_loop_restores_the_roll_up(self, any_store: Store) -> None:
        """With one parent cleared the tree rolls up again."""
        first, second = self._loop(any_store)
        any_store.save(first.evolve(parent=None))
        assert [o.objective.id for o in both_ways(any_store).objectives] == [first.id]
        assert both_ways(any_store).find(second).objective.parent == first.id

    def test_verify_reports_the_loop(self, any_store: Store) -> None:
        """verify() lists the loop once, at its objective with the smallest id."""
        first, second = self._loop(any_store)
        damage = any_store.verify()
        assert len(damage) == 1
        assert damage[0].id == min(first.id, second.id)
        assert "their own ancestors" in damage[0].problem
        any_store.delete(second)
        assert any_store.verify() == []


class TestParentCyclesFunction:
    """parent_cycles() on any parent links."""

    @given(st.lists(st.integers(0, 7) | st.none(), min_size=1, max_size=8))
    def test_finds_exactly_the_objectives_that_are_their_own_ancestors(
        self, parents: list[int | None]
    ) -> None:
        """Each objective in a loop is found once; none outside a loop is."""
        ids = [f"obj_{n}" for n in range(len(parents))]
        objectives = [
            Objective(
                id=ids[n],
                title=f"Objective {n}",
                parent=None if p is None or p == n else f"obj_{p}",
            )
            for n, p in enumerate(parents)
        ]
        by_id = {o.id: o for o in objectives}

        def own_ancestor(objective: Objective) -> bool:
            seen, current = set(), objective.parent
            while current in by_id and current not in seen:
                if current == objective.id:
                    return True
                seen.add(current)
                current = by_id[current].parent
            return False

        found = [o.id for cycle in parent_cycles(objectives) for o in cycle]
        assert sorted(found) == sorted(o.id for o in objectives if own_ancestor(o))
        for cycle in parent_cycles(objectives):
            assert cycle[0].id == min(o.id for o in cycle)
            for child, parent in zip(cycle, cycle[1:] + cycle[:1], strict=True):
                assert child.parent == parent.id


_DAY0 = pendulum.datetime(2026, 5, 1, 9, tz="UTC")
_STAGES = ("planned", "running", "concluded", "decided", "abandoned")
_STRAY = st.lists(st.tuples(st.sampled_from(Outcome), st.integers(0, 20)), max_size=2)
_PROGRAMME = st.lists(
    st.tuples(st.sampled_from(_STAGES), st.sampled_from(Outcome), _STRAY), min_size=1, max_size=4
)


def _day(n: int) -> pendulum.DateTime:
    return _DAY0.add(days=n)


def _record(store: Store, programme: list[tuple[str, Outcome, list[tuple[Outcome, int]]]]) -> None:
    """Experiments at each stage, decided on day 12, with decisions saved beside the lifecycle.

    The stray decisions are saved alone (the experiment does not move with them), in the
    order of their days, each revising the one before it, as the store requires.
    """
    objective = store.save(Objective(title="Welfare"))
    for n, (stage, outcome, strays) in enumerate(programme):
        experiment = store.save(Experiment(title=f"Experiment {n}", objectives=[objective]))
        if stage == "abandoned":
            experiment = store.save(experiment.abandon(at=_day(3)))
        elif stage != "planned":
            experiment = store.save(experiment.start(at=_day(1)))
        if stage in ("concluded", "decided"):
            experiment = store.save(experiment.conclude(at=_day(8)))
        dated = [(day, k, stray, False) for k, (stray, day) in enumerate(strays)]
        if stage == "decided":
            dated.append((12, len(strays), outcome, True))
        previous: Decision | None = None
        for day, k, chosen, moves in sorted(dated):
            moment = _day(day).add(seconds=k)  # distinct times: one order for everyone
            decision = store.save(
                Decision(experiment=experiment, outcome=chosen, decided_at=moment)
                if previous is None
                else previous.revised(chosen, rationale="changed", decided_at=moment)
            )
            if moves:
                experiment = store.save(experiment.decide(decision))
            previous = decision


class TestDecisionsAgree:
    """The roll-up, the check and the report count decisions by one definition."""

    @given(programme=_PROGRAMME, day=st.integers(0, 20))
    def test_roll_up_check_and_report_agree(
        self, programme: list[tuple[str, Outcome, list[tuple[Outcome, int]]]], day: int
    ) -> None:
        """Concluded without decision is what follow-up/no-decision finds; outcomes as reported."""
        at = _day(day)
        with connect(f"memory://{uuid.uuid4().hex}", plugins=Plugins(autoload=False)) as store:
            _record(store, programme)
            result = rollup(store, at=at)
            checks = run_checks(store, at=at, options={"follow-up/no-decision": {"grace": "P0D"}})
            report = gather(store, result)
        flagged = {f.concerns[0].id for f in checks.findings if f.check == "follow-up/no-decision"}
        assert {r.id for r in result.total.concluded_without_decision} == flagged
        shown = Counter(d.decision.outcome for d in report.experiments if d.decision is not None)
        assert {o: n for o, n in result.total.decisions.items() if n} == dict(shown)
        for detail in report.experiments:
            assert (detail.decision is not None) == (detail.status is ExperimentStatus.DECIDED)
        assert (
            sum(result.total.decisions.values()) == result.total.by_status[ExperimentStatus.DECIDED]
        )

    def test_a_decision_saved_without_moving_the_experiment_is_none_yet(
        self, any_store: Store
    ) -> None:
        """A concluded experiment with a decision record beside it still waits for its decision."""
        _record(any_store, [("concluded", Outcome.STOP, [(Outcome.SCALE_UP, 9)])])
        at = _day(30)  # past the check's grace of 14 days
        result = both_ways(any_store, at=at)
        assert [r.title for r in result.total.concluded_without_decision] == ["Experiment 0"]
        assert sum(result.total.decisions.values()) == 0
        found = run_checks(any_store, at=at).by_check()["follow-up/no-decision"]
        assert [f.concerns[0].title for f in found] == ["Experiment 0"]
        assert gather(any_store, result).experiments[0].decision is None


class TestTimeLimits:
    """Overdue time boxes and untested hypotheses follow the calendar, in every zone."""

    @settings(max_examples=150, deadline=None)
    @given(
        start=datetimes(),
        length=st.sampled_from(["PT36H", "P1D", "P3DT12H", "P2W", "P1M", "P1Y2M"]),
        allowance=st.sampled_from(["PT12H", "P30D", "P1M"]),
        minutes=st.integers(-60 * 24 * 500, 60 * 24 * 500),
        anchored=st.booleans(),
    )
    @example(  # a box that ends on the wall clock, an hour after UTC days would end it
        start=pendulum.datetime(2000, 10, 28, 12, tz="Europe/Copenhagen"),
        length="P2D",
        allowance="PT12H",
        minutes=2 * 24 * 60 + 30,
        anchored=True,
    )
    @example(  # untested after 30 days on the zone's calendar: the clocks went back between
        start=pendulum.datetime(2000, 10, 1, 2, tz="Europe/Copenhagen"),
        length="PT36H",
        allowance="P30D",
        minutes=125 * 24 * 60,
        anchored=False,
    )
    @example(  # a month from 29 February 19:00 in New York ends on 29 March, 19:00 there
        start=pendulum.datetime(2000, 2, 29, 19, tz="America/New_York"),
        length="P1M",
        allowance="P1M",
        minutes=41_761,
        anchored=False,
    )
    def test_against_the_definition(
        self, start: pendulum.DateTime, length: str, allowance: str, minutes: int, anchored: bool
    ) -> None:
        """Overdue exactly when start + length < at; untested when start + allowance < at.

        Both count on the calendar of the start's zone (docs/rollup.md): a DST change
        between the start and the end moves the end by an hour, and a month ends on the
        same day of the next month there, which the examples find.
        """
        with connect("memory://", plugins=Plugins(autoload=False)) as store:
            started = Experiment(title="Pilot", time_box=length).start(at=start)
            if not anchored:  # a box without its own start runs from started_at
                started = attrs.evolve(started, time_box=length)
            experiment = store.save(started)
            store.save(Hypothesis(experiment=experiment.id, statement="It helps"))
            at = start.add(minutes=minutes)
            total = rollup(store, at=at, untested_after=allowance).total
        # A box that names its start counts on that start's calendar; a bare length counts
        # from started_at on the calendar of started_at's zone: here both are `start`.
        end = start + parse_duration(length)
        assert [o.days for o in total.overdue] == ([days_between(end, at)] if end < at else [])
        # The last day it covered: the day the end falls on, less one where the end comes
        # no later in that day than the start did in its own (days count from its time).
        last = end.date() - dt.timedelta(days=1) if end.time() <= start.time() else end.date()
        assert [o.last_day for o in total.overdue] == (
            [max(last, start.date())] if end < at else []
        )
        deadline = start + parse_duration(allowance)
        assert [u.days_overdue for u in total.untested] == (
            [days_between(deadline, at)] if deadline < at else []
        )


class TestIdOrder:
    """What is listed per hypothesis comes in id order, whatever order the store answers in."""

    def test_hypotheses_and_one_sided_evidence_by_id(self, any_store: Store) -> None:
        """An experiment's hypotheses and its one-sided evidence are in id order, both ways.

        PostgreSQL groups in no particular order and sorts text by its collation; ids of
        mixed case and length, saved in no order, find out whether the roll-up relies on
        either.
        """
        started = pendulum.datetime(2026, 1, 5, 9, tz="UTC")
        at = started.add(days=60)
        critic = any_store.save(Participant(role="citizen"))
        if any_store.scheme == "postgresql":  # enough rows that it groups by hashing
            any_store.save_all(Participant(role="citizen") for _ in range(2000))

        @settings(max_examples=20, deadline=None)
        @given(
            drawn=st.lists(ids, min_size=2, max_size=6, unique_by=str.casefold),
            heard=st.lists(st.booleans(), min_size=6, max_size=6),
            order=st.randoms(use_true_random=False),
        )
        def check(drawn: list[str], heard: list[bool], order: Any) -> None:
            prefix = uuid.uuid4().hex[:8]  # ids of earlier examples stay in the store
            hypothesis_ids = [f"{prefix}{i}" for i in drawn]
            experiment = any_store.save(Experiment(title="Walks").start(at=started))
            any_store.save(
                Participation(experiment=experiment, participant=critic, stance="critical")
            )
            saving = list(zip(hypothesis_ids, heard, strict=False))
            order.shuffle(saving)
            for hypothesis_id, with_voice in saving:
                any_store.save(
                    Hypothesis(
                        id=hypothesis_id, experiment=experiment, statement=f"{hypothesis_id} helps"
                    )
                )
                if with_voice:
                    any_store.save(
                        Learning(
                            experiment=experiment,
                            hypothesis=hypothesis_id,
                            observation="Heard",
                            verdict="supports",
                            participants=[critic],
                            observed_at=started.add(days=1),
                        )
                    )
            one_sided = sorted(i for i, with_voice in saving if with_voice)
            for pushdown in (True, False):
                result = rollup(any_store, at=at, pushdown=pushdown)
                facts = result.view.facts[experiment.id]
                assert [h.id for h in facts.hypotheses] == sorted(hypothesis_ids)
                assert [h.statement for h in facts.hypotheses] == [
                    f"{i} helps" for i in sorted(hypothesis_ids)
                ]
                found = [o.hypothesis.id for o in result.total.one_sided]
                assert [i for i in found if i.startswith(prefix)] == one_sided
                untested = [u.hypothesis.id for u in result.total.untested]
                assert [i for i in untested if i.startswith(prefix)] == sorted(
                    set(hypothesis_ids) - set(one_sided)
                )

        check()


class TestArguments:
    @pytest.fixture
    def store(self) -> Store:
        return connect("memory://", plugins=Plugins(autoload=False))

    def test_bad_moments_and_allowances_name_the_argument(self, store: Store) -> None:
        with pytest.raises(ValidationError, match=r"^at "):
            rollup(store, at="garbage")
        with pytest.raises(ValidationError, match=r"^untested_after "):
            rollup(store, untested_after="fortnight")

    def test_find_an_objective_not_in_the_roll_up(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="not in this roll-up"):
            rollup(store).find("obj_nowhere")

    def test_time_limits_at_the_ends_of_the_calendar(self, store: Store) -> None:
        """Boxes and allowances longer than the calendar reaches, and moments near its end."""
        long_box = Experiment(title="Long", time_box="2026-01-01T00:00:00Z/P800000D")
        store.save(long_box.start(at="2026-01-02T00:00:00Z"))
        oslo = pendulum.datetime(2026, 3, 1, tz="Europe/Oslo")
        hour = store.save(Experiment(title="Hour", time_box=(oslo, "PT1H")).start(at=oslo))
        store.save(Hypothesis(experiment=hour.id, statement="It helps"))
        assert (
            rollup(store, at="2026-06-01T00:00:00Z", untested_after="P800000D").total.untested == ()
        )
        assert (
            rollup(store, at="2026-06-01T00:00:00Z", untested_after="P20000Y").total.untested == ()
        )
        late = rollup(store, at="9999-12-31T12:00:00Z").total
        assert [o.experiment.title for o in late.overdue] == ["Hour", "Long"]  # by end
        assert [u.hypothesis.title for u in late.untested] == ["It helps"]
