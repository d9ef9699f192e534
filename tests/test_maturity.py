"""The maturity analysis: figures worked out by hand, the small-group rule, and its time rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import experiments
from experiments import (
    Item,
    Objective,
    Plugins,
    Questionnaire,
    Response,
    SurveyRound,
    ValidationError,
    reports,
)
from experiments.asof import AsOf
from experiments.cli import cli
from experiments.errors import InvalidTypeError
from experiments.maturity import ALL, OTHER, Maturity, analyse
from experiments.model.shared_asof import (
    action_overdue_days,
    in_force,
    previous_round,
    response_counts,
)
from experiments.model.small_groups import protect
from experiments.stores import Store

AT = "2026-09-15T12:00:00+02:00"

#: The small programme the figures below are worked out from, by hand.  Round 1: A has
#: four respondents, B three, C two and D one (C and D merge into "other", three in
#: all); round 2: A four, B three, C two (alone in "other": suppressed).
ROUND_1 = {
    "A": [(4, 3, 2), (5, 3, 2), (3, 3, 2), (4, 3, 2)],
    "B": [(2, 4, 5), (2, 5, 4), (2, 3, 3)],
    "C": [(1, 1, 1), (3, 1, 1)],
    "D": [(5, 5, 5)],
}
ROUND_2 = {
    "A": [(5, 4, 3)] * 4,
    "B": [(3, 4, 4)] * 3,
    "C": [(2, 2, 2)] * 2,
}
CODES = ("L1", "L2", "C1")


def record(store: Store) -> dict[str, Any]:
    """The hand-worked programme: one objective, a questionnaire of 3 items, 2 rounds."""
    objective = store.save(Objective(slug="customers", title="Customer orientation"))
    questionnaire = store.save(
        Questionnaire(
            slug="maturity",
            title="Maturity",
            scale="1-5",
            dimensions=["Lead", "Cult"],
            objectives=[objective],
        )
    )
    for code, dimension in zip(CODES, ("Lead", "Lead", "Cult"), strict=True):
        store.save(
            Item(
                questionnaire=questionnaire,
                code=code,
                dimension=dimension,
                statement=f"Statement {code}",
            )
        )
    first = store.save(
        SurveyRound(
            slug="spring",
            questionnaire=questionnaire,
            title="Spring",
            opened_at="2026-03-01T09:00:00Z",
            closed_at="2026-03-31T00:00:00Z",
            departments=["A", "B", "C", "D"],
        )
    )
    second = store.save(
        SurveyRound(
            slug="autumn",
            questionnaire=questionnaire,
            title="Autumn",
            opened_at="2026-09-01T09:00:00Z",
            departments=["A", "B", "C", "D"],
        )
    )
    responses = [
        Response(
            round=survey_round,
            department=department,
            answers=dict(zip(CODES, answers, strict=True)),
            answered_at=when,
        )
        for survey_round, when, groups in (
            (first, "2026-03-10T10:00:00Z", ROUND_1),
            (second, "2026-09-10T10:00:00Z", ROUND_2),
        )
        for department, rows in groups.items()
        for answers in rows
    ]
    # Answered after the spring round closed, and after the moment: neither counts.
    responses.append(
        Response(round=first, department="D", answers={"L1": 1}, answered_at="2026-04-02T10:00:00Z")
    )
    responses.append(
        Response(
            round=second, department="D", answers={"L1": 1}, answered_at="2026-09-20T10:00:00Z"
        )
    )
    store.save_all(responses)
    return {"objective": objective, "questionnaire": questionnaire, "rounds": (first, second)}


def mean(*values: float) -> float:
    return sum(values) / len(values)


def scores(entry: Any) -> dict[str, float]:
    """Every group's mean of an item or a dimension, "other" and "all" included."""
    found = {s.group: s.mean for s in entry.scores}
    for extra in (entry.other, entry.total):
        if extra is not None:
            found[extra.group] = extra.mean
    return found


@pytest.fixture
def analysed(any_store: Store) -> Maturity:
    """The hand-worked programme, analysed as of mid-September, on each backend."""
    record(any_store)
    return analyse(any_store, "customers", at=AT)


class TestHandWorked:
    """The figures of a small programme are the ones worked out by hand, on every backend."""

    def test_first_round_scores_per_group(self, analysed: Maturity) -> None:
        """Groups of three or more on their own; C and D together as "other"; all shown."""
        (questionnaire,) = analysed.questionnaires
        spring = questionnaire.rounds[0]
        assert spring.round.title == "Spring"
        assert spring.groups == ("A", "B")
        assert spring.respondents == 10  # the late response does not count
        l1, l2, c1 = spring.items
        assert [i.code for i in spring.items] == ["L1", "L2", "C1"]
        assert scores(l1) == pytest.approx({"A": 4.0, "B": 2.0, OTHER: mean(1, 3, 5), ALL: 3.1})
        assert scores(l2) == pytest.approx({"A": 3.0, "B": 4.0, OTHER: mean(1, 1, 5), ALL: 3.1})
        assert scores(c1) == pytest.approx({"A": 2.0, "B": 4.0, OTHER: mean(1, 1, 5), ALL: 2.7})
        for item in spring.items:
            assert item.merged == ("C", "D")
            assert not item.suppressed
            assert item.other is not None
            assert item.other.members == ("C", "D")
            assert item.other.respondents == 3
            assert [s.respondents for s in item.scores] == [4, 3]

    def test_first_round_spread_and_ranking(self, analysed: Maturity) -> None:
        """The spread is the highest group's mean less the lowest's; widest first, ties in order."""
        spring = analysed.questionnaires[0].rounds[0]
        l1, l2, c1 = spring.items
        assert (l1.spread.points, l1.spread.highest, l1.spread.lowest) == (2.0, "A", "B")
        assert (l2.spread.points, l2.spread.highest, l2.spread.lowest) == (1.0, "B", "A")
        assert (c1.spread.points, c1.spread.highest, c1.spread.lowest) == (2.0, "B", "A")
        assert [i.code for i in spring.ranking] == ["L1", "C1", "L2"]

    def test_first_round_dimensions(self, analysed: Maturity) -> None:
        """A dimension's score for a group is the mean of its item scores there."""
        spring = analysed.questionnaires[0].rounds[0]
        lead, cult = spring.dimensions
        assert (lead.dimension, lead.items, cult.dimension, cult.items) == ("Lead", 2, "Cult", 1)
        assert scores(lead) == pytest.approx(
            {"A": 3.5, "B": 3.0, OTHER: mean(3.0, 7 / 3), ALL: 3.1}
        )
        assert lead.spread is not None
        assert (lead.spread.points, lead.spread.highest) == (pytest.approx(0.5), "A")
        assert scores(cult) == pytest.approx({"A": 2.0, "B": 4.0, OTHER: 7 / 3, ALL: 2.7})
        assert [d.dimension for d in spring.dimension_ranking] == ["Cult", "Lead"]

    def test_second_round_and_its_change(self, analysed: Maturity) -> None:
        """Change since the previous round, for each group shown in both; C alone is not shown."""
        autumn = analysed.questionnaires[0].latest
        assert autumn is not None
        assert autumn.previous is not None
        assert autumn.previous.title == "Spring"
        assert autumn.respondents == 7
        assert autumn.open  # not closed: a response after the moment may still come
        l1, l2, c1 = autumn.items
        assert scores(l1) == pytest.approx({"A": 5.0, "B": 3.0, ALL: 29 / 7})
        assert scores(c1) == pytest.approx({"A": 3.0, "B": 4.0, ALL: 24 / 7})
        changes = {
            item.code: {s.group: s.change for s in (*item.scores, item.total)}
            for item in autumn.items
        }
        assert changes == {
            "L1": {
                "A": pytest.approx(1.0),
                "B": pytest.approx(1.0),
                ALL: pytest.approx(29 / 7 - 3.1),
            },
            "L2": {"A": pytest.approx(1.0), "B": pytest.approx(0.0), ALL: pytest.approx(0.9)},
            "C1": {
                "A": pytest.approx(1.0),
                "B": pytest.approx(0.0),
                ALL: pytest.approx(24 / 7 - 2.7),
            },
        }
        assert l1.scores[0].previous == pytest.approx(4.0)
        for item in autumn.items:
            assert item.other is None
            assert (item.merged, item.suppressed) == (("C",), True)
        assert (l2.spread.points, l2.spread.highest, l2.spread.lowest) == (0.0, "A", "B")
        assert [i.code for i in autumn.ranking] == ["L1", "C1", "L2"]
        lead = autumn.dimensions[0]
        assert scores(lead) == pytest.approx({"A": 4.5, "B": 3.5, ALL: mean(29 / 7, 4.0)})
        assert lead.scores[0].change == pytest.approx(1.0)

    def test_no_figure_for_a_group_below_the_minimum(self, analysed: Maturity) -> None:
        """Every group shown has at least three respondents; "other" too."""
        for analysis in analysed.questionnaires[0].rounds:
            for item in analysis.items:
                for score in (*item.scores, item.other, item.total):
                    assert score is None or score.respondents >= 3

    def test_a_minimum_of_four_merges_b(self, any_store: Store) -> None:
        """With a minimum of four, B (three) joins "other" too, and "other" is six strong."""
        record(any_store)
        spring = analyse(any_store, at=AT, min_group_size=4).questionnaires[0].rounds[0]
        l1 = spring.items[0]
        assert spring.groups == ("A",)
        assert l1.merged == ("B", "C", "D")
        assert l1.other is not None
        assert l1.other.mean == pytest.approx(mean(2, 2, 2, 1, 3, 5))
        assert l1.spread is None  # one group on its own: no spread
        assert spring.ranking == ()

    def test_as_of_an_earlier_moment(self, any_store: Store) -> None:
        """Before autumn opened, spring is the latest round and has no previous one."""
        record(any_store)
        (questionnaire,) = analyse(any_store, at="2026-05-01T00:00:00Z").questionnaires
        assert [r.round.title for r in questionnaire.rounds] == ["Spring"]
        assert questionnaire.latest is not None
        assert questionnaire.latest.previous is None
        assert not questionnaire.latest.open
        assert all(s.change is None for i in questionnaire.latest.items for s in i.scores)


class TestGrouping:
    """Respondents are grouped by department, level or both; spellings do not split them."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            questionnaire = store.save(Questionnaire(title="Q", dimensions=["D"]))
            store.save(Item(questionnaire=questionnaire, code="Q1", dimension="D", statement="S"))
            survey_round = store.save(
                SurveyRound(
                    questionnaire=questionnaire,
                    title="R",
                    opened_at="2026-01-01T00:00:00Z",
                    departments=["Home Care", "Culture"],
                    levels=["leaders", "employees"],
                )
            )
            rows = [
                ("Home Care", "leaders", 5),
                ("home  care", "leaders", 4),
                ("HOME CARE", "leaders", 3),
                ("Home Care", "employees", 1),
                ("Home Care", "employees", 2),
                ("Home Care", "employees", 3),
                ("Culture", "employees", 4),
                ("Culture", "employees", 4),
                ("Culture", None, 4),
            ]
            store.save_all(
                Response(
                    round=survey_round,
                    department=department,
                    level=level,
                    answers={"Q1": answer},
                    answered_at="2026-01-02T00:00:00Z",
                )
                for department, level, answer in rows
            )
            yield store

    def test_by_department_as_the_round_spells_it(self, store: Store) -> None:
        """Spellings that differ in case and spacing are one department, named as declared."""
        item = analyse(store, at=AT).questionnaires[0].rounds[0].items[0]
        assert scores(item) == pytest.approx({"Home Care": 3.0, "Culture": 4.0, ALL: 30 / 9})

    def test_by_level_leaves_out_who_gave_none(self, store: Store) -> None:
        """Grouped by level, a response without one is in no group."""
        analysis = analyse(store, at=AT, group_by="level").questionnaires[0].rounds[0]
        assert analysis.groups == ("leaders", "employees")
        assert analysis.respondents == 8
        assert scores(analysis.items[0]) == pytest.approx(
            {"leaders": 4.0, "employees": mean(1, 2, 3, 4, 4), ALL: 26 / 8}
        )

    def test_by_department_and_level(self, store: Store) -> None:
        """Both together: Culture's two employees and one without a level are too few."""
        analysis = analyse(store, at=AT, group_by="department-and-level").questionnaires[0]
        item = analysis.rounds[0].items[0]
        assert [s.group for s in item.scores] == ["Home Care · leaders", "Home Care · employees"]
        assert item.merged == ("Culture", "Culture · employees")
        assert item.other is not None
        assert item.other.mean == pytest.approx(4.0)

    @pytest.mark.parametrize(
        ("options", "error", "message"),
        [
            ({"group_by": "team"}, ValidationError, "group_by must be one of 'department'"),
            ({"min_group_size": 1}, ValidationError, "min_group_size must be 2 or more"),
            ({"min_group_size": 2.5}, InvalidTypeError, "min_group_size must be a whole number"),
        ],
    )
    def test_bad_options_are_refused(
        self, store: Store, options: dict[str, Any], error: type[Exception], message: str
    ) -> None:
        """An unknown grouping or a minimum below two is refused, naming the argument."""
        with pytest.raises(error, match=message):
            analyse(store, **options)

    def test_a_view_takes_no_second_scope(self, store: Store) -> None:
        """Given an AsOf view, the scope and moment are the view's."""
        with pytest.raises(ValidationError, match="give the objective and the moment"):
            analyse(AsOf(store), at=AT)


class TestScope:
    """A questionnaire serves the objectives it (or an item of it) names."""

    def test_an_objective_sees_what_serves_it(self, any_store: Store) -> None:
        """An objective's analysis holds its questionnaire; another objective's holds none."""
        made = record(any_store)
        other = any_store.save(Objective(title="Something else"))
        assert len(analyse(any_store, made["objective"], at=AT).questionnaires) == 1
        assert analyse(any_store, other, at=AT).empty
        assert len(analyse(any_store, at=AT).questionnaires) == 1

    def test_an_item_may_serve_another_objective(self, any_store: Store) -> None:
        """An item that names its own objective is analysed in that objective's scope only."""
        made = record(any_store)
        other = any_store.save(Objective(title="Leadership"))
        item = any_store.get(_item_id(made, "L2"), Item)
        any_store.save(item.evolve(objectives=[other]))
        mine = analyse(any_store, made["objective"], at=AT).questionnaires[0]
        theirs = analyse(any_store, other, at=AT).questionnaires[0]
        assert [i.code for i in mine.rounds[0].items] == ["L1", "C1"]
        assert [i.code for i in theirs.rounds[0].items] == ["L2"]


class TestDimensions:
    """Each dimension is shown once, followed by its items, however its items spell it."""

    def test_items_by_dimension(self, analysed: Maturity) -> None:
        """by_dimension() gives each dimension's scores with its items, in the order shown."""
        first = analysed.questionnaires[0].rounds[0]
        assert [
            (dimension.dimension, [item.code for item in items])
            for dimension, items in first.by_dimension()
        ] == [("Lead", ["L1", "L2"]), ("Cult", ["C1"])]

    def test_a_dimension_spelled_two_ways_is_one(self) -> None:
        """Items naming one dimension in two spellings show under it once, in every format."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            made = record(store)
            item = store.get(_item_id(made, "L2"), Item)
            store.save(item.evolve(dimension="LEAD"))
            analysis = analyse(store, at=AT).questionnaires[0].rounds[0]
            grouped = [
                (dimension.dimension, [item.code for item in items])
                for dimension, items in analysis.by_dimension()
            ]
            assert grouped == [("Lead", ["L1", "L2"]), ("Cult", ["C1"])]
            report = reports.build(store, at=AT)
            markdown = reports.render(report, "md")
            assert markdown.count("**Lead**") == 1
            assert "**LEAD**" not in markdown
            page = reports.render(report, "html")
            heatmap = page[page.index('<table class="heatmap">') :]
            heatmap = heatmap[: heatmap.index("</table>")]
            assert '<span class="code">L2</span>' in heatmap
            sheet = reports.render(report, "maturity-csv").decode("utf-8-sig")
            assert "LEAD" in sheet  # the item's own row keeps its spelling

    def test_the_command_shows_a_dimension_spelled_two_ways_once(self, tmp_path: Path) -> None:
        """`experiments maturity` lists the dimension once, both of its items under it."""
        url = f"sqlite:///{tmp_path}/store.db"
        with experiments.connect(url, plugins=Plugins(autoload=False)) as store:
            made = record(store)
            item = store.get(_item_id(made, "L2"), Item)
            store.save(item.evolve(dimension="LEAD"))
        result = CliRunner().invoke(cli, ["--store", url, "maturity", "--at", AT])
        assert result.exit_code == 0, result.output
        lines = [line.split()[0] for line in result.output.splitlines() if line.strip()]
        assert lines.count("Lead") == 1
        assert "LEAD" not in lines
        assert lines.index("Lead") < lines.index("L1") < lines.index("L2") < lines.index("Cult")


def _item_id(made: dict[str, Any], code: str) -> str:
    return Item(questionnaire=made["questionnaire"], code=code, dimension="x", statement="x").id


# --- the small-group rule ----------------------------------------------------------------


class TestSmallGroupRule:
    """protect() shows groups of the minimum or more, merges the rest, suppresses a small rest."""

    def test_merged_and_shown(self) -> None:
        """Small groups are merged, named, and shown together when together big enough."""
        found = protect({"A": [1, 2, 3], "B": [4], "C": [5, 5], "D": []}, 3)
        assert found.shown == (("A", (1, 2, 3)),)
        assert (found.other, found.merged, found.suppressed) == ((4, 5, 5), ("B", "C"), False)
        assert found.values == (1, 2, 3, 4, 5, 5)

    def test_suppressed(self) -> None:
        """A "other" still too small is left out, and out of every total."""
        found = protect({"A": [1, 2, 3], "B": [4, 4]}, 3)
        assert (found.other, found.merged, found.suppressed) == (None, ("B",), True)
        assert found.values == (1, 2, 3)

    @given(
        st.dictionaries(st.text(max_size=3), st.lists(st.integers(1, 5), max_size=6), max_size=6),
        st.integers(2, 6),
    )
    def test_nothing_shown_rests_on_fewer_than_the_minimum(
        self, groups: dict[str, list[int]], minimum: int
    ) -> None:
        """Every group and "other" shown has the minimum; totals take in only what is shown."""
        found = protect(groups, minimum)
        assert all(len(values) >= minimum for _, values in found.shown)
        assert found.other is None or len(found.other) >= minimum
        small = [k for k, v in groups.items() if 0 < len(v) < minimum]
        assert list(found.merged) == small
        pooled = sum(len(groups[k]) for k in small)
        assert found.suppressed == (bool(small) and pooled < minimum)
        shown_total = sum(len(v) for _, v in found.shown) + len(found.other or ())
        assert len(found.values) == shown_total

    @pytest.mark.parametrize("minimum", [1, 0, -3])
    def test_a_minimum_below_two_is_refused(self, minimum: int) -> None:
        """A group of one would be one person's answers."""
        with pytest.raises(ValidationError, match="min_group_size must be 2 or more"):
            protect({"A": [1]}, minimum)


# --- the time rules ------------------------------------------------------------------------


def _t(text: str) -> pendulum.DateTime:
    return pendulum.parse(text)  # type: ignore[return-value]


class TestTimeRules:
    """Which responses count, which round came before, when an action is overdue."""

    @pytest.mark.parametrize(
        ("answered", "closed", "at", "counts"),
        [
            ("2026-03-10T10:00:00Z", None, "2026-03-10T10:00:00Z", True),
            ("2026-03-10T10:00:00Z", None, "2026-03-10T09:59:59Z", False),
            ("2026-03-10T10:00:00Z", "2026-03-10T10:00:00Z", "2026-05-01T00:00:00Z", True),
            ("2026-03-10T10:00:01Z", "2026-03-10T10:00:00Z", "2026-05-01T00:00:00Z", False),
            ("2026-03-10T11:00:00+01:00", "2026-03-10T10:00:00Z", "2026-05-01T00:00:00Z", True),
        ],
    )
    def test_which_responses_count(
        self, answered: str, closed: str | None, at: str, counts: bool
    ) -> None:
        """From its answer on, inclusive, and only if answered by the round's close."""
        closing = None if closed is None else _t(closed)
        assert response_counts(_t(answered), closing, _t(at)) is counts

    def test_the_previous_round(self) -> None:
        """The round opened last before this one; ties by id."""
        rounds = [
            ("b", "2026-03-01T00:00:00Z"),
            ("a", "2026-03-01T00:00:00Z"),
            ("c", "2026-09-01T00:00:00Z"),
        ]

        def before(this: tuple[str, str]) -> tuple[str, str] | None:
            return previous_round(rounds, lambda r: _t(r[1]), lambda r: r[0], this)

        assert before(rounds[2]) == ("b", "2026-03-01T00:00:00Z")
        assert before(rounds[0]) == ("a", "2026-03-01T00:00:00Z")
        assert before(rounds[1]) is None

    @pytest.mark.parametrize(
        ("due", "done", "at", "grace", "days"),
        [
            ("2026-09-30", None, "2026-09-30T23:59:59+02:00", None, None),
            ("2026-09-30", None, "2026-10-01T00:00:00+02:00", None, 1),
            ("2026-09-30", None, "2026-09-30T23:30:00-01:00", None, None),  # still the 30th there
            ("2026-09-30", None, "2026-10-14T12:00:00Z", "P14D", None),
            ("2026-09-30", None, "2026-10-15T12:00:00Z", "P14D", 15),
            ("2026-09-30", "2026-10-05T12:00:00Z", "2026-10-10T00:00:00Z", None, None),
            ("2026-09-30", "2026-10-05T12:00:00Z", "2026-10-04T00:00:00Z", None, 4),
            (None, None, "2030-01-01T00:00:00Z", None, None),
        ],
    )
    def test_when_an_action_is_overdue(
        self, due: str | None, done: str | None, at: str, grace: str | None, days: int | None
    ) -> None:
        """From the day after it is due, in the moment's zone, until it is done."""
        assert (
            action_overdue_days(
                None if due is None else pendulum.Date.fromisoformat(due),
                None if done is None else _t(done),
                _t(at),
                None if grace is None else pendulum.parse(grace),  # type: ignore[arg-type]
            )
            == days
        )

    def test_the_version_in_force(self) -> None:
        """The latest revision whose moment has come; one without a moment never is."""
        versions = [(1, "2026-01-01T00:00:00Z"), (2, None), (3, "2026-06-01T00:00:00Z")]

        def at(moment: str) -> Any:
            found = in_force(versions, lambda v: None if v[1] is None else _t(v[1]), _t(moment))
            return None if found is None else found[0]

        assert at("2025-12-31T00:00:00Z") is None
        assert at("2026-03-01T00:00:00Z") == 1
        assert at("2026-06-01T00:00:00Z") == 3
