"""The maturity analysis in reports: small groups never show, and the main job reports it.

The property: whatever a report shows depends on the answers of groups smaller than
the minimum only through what the small-group rule allows, the pooled "other" of at
least the minimum.  So shuffling the answers among the small groups of an item (when
they are shown together as "other"), or replacing them (when they are suppressed),
leaves every report, in every format and language, exactly as it was.  A report that
showed any figure of a small group, directly or through a total it could be
subtracted from, would change.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments
from experiments import Item, Objective, Plugins, Questionnaire, Response, SurveyRound, reports
from experiments.reports import Report
from experiments.stores import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
import municipality

AT = "2026-12-01T12:00:00+01:00"
FORMATS = ("md", "json", "csv", "html", "maturity-csv", "glossary-csv")
LANGUAGES = ("en", "da", "nb", "sv")
DEPARTMENTS = ("North", "South", "East", "West")
LEVELS = ("leaders", "employees")
CODES = ("A1", "A2", "B1")

#: One respondent: department, level (or None), and an answer (or None) per item.
Respondent = tuple[str, str | None, tuple[int | None, ...]]


@st.composite
def rounds(draw: st.DrawFn) -> list[list[Respondent]]:
    """One or two rounds of respondents in up to four departments, a few of them small."""
    made = []
    for _ in range(draw(st.integers(1, 2))):
        respondents: list[Respondent] = []
        for department in draw(
            st.lists(st.sampled_from(DEPARTMENTS), min_size=1, max_size=4, unique=True)
        ):
            for _ in range(draw(st.integers(1, 5))):
                level = draw(st.sampled_from((*LEVELS, None)))
                answers = tuple(
                    draw(st.one_of(st.none(), st.integers(1, 5), st.integers(1, 5))) for _ in CODES
                )
                if any(a is not None for a in answers):
                    respondents.append((department, level, answers))
        made.append(respondents)
    return made


def group_of(respondent: Respondent, by: str) -> tuple[str, ...] | None:
    """The group the specification puts a respondent in."""
    department, level, _ = respondent
    if by == "department":
        return (department,)
    if by == "level":
        return None if level is None else (level,)
    return (department,) if level is None else (department, level)


def record(store: Store, programme: list[list[Respondent]]) -> None:
    objective = store.save(Objective(slug="welfare", title="Welfare"))
    questionnaire = store.save(
        Questionnaire(
            slug="q", title="Maturity", scale="1-5", dimensions=["A", "B"], objectives=[objective]
        )
    )
    for code in CODES:
        store.save(
            Item(
                questionnaire=questionnaire, code=code, dimension=code[0], statement=f"Item {code}"
            )
        )
    for number, respondents in enumerate(programme, start=1):
        survey_round = store.save(
            SurveyRound(
                slug=f"round-{number}",
                questionnaire=questionnaire,
                title=f"Round {number}",
                opened_at=f"2026-0{number * 3}-01T09:00:00Z",
            )
        )
        store.save_all(
            Response(
                round=survey_round,
                department=department,
                level=level,
                answers={c: a for c, a in zip(CODES, answers, strict=True) if a is not None},
                answered_at=f"2026-0{number * 3}-02T09:00:00Z",
                source_key=f"r{index}",
            )
            for index, (department, level, answers) in enumerate(respondents)
        )


def rendered(programme: list[list[Respondent]], by: str, minimum: int, lang: str) -> dict[str, Any]:
    """Every format of the programme's report, in one language."""
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        record(store, programme)
        report = reports.build(store, "welfare", at=AT, group_by=by, min_group_size=minimum)
        return {name: reports.render(report, name, lang) for name in FORMATS}


@st.composite
def disguised(
    draw: st.DrawFn, programme: list[list[Respondent]], by: str, minimum: int
) -> list[list[Respondent]]:
    """The programme with the small groups' answers shuffled among them, or replaced.

    Per round and item: the respondents of groups with fewer answers than the minimum
    have their answers permuted when there are enough of them together ("other" is
    shown), and replaced by any answers when there are not (suppressed).
    """
    changed = [[(d, lvl, list(a)) for d, lvl, a in respondents] for respondents in programme]
    for respondents in changed:
        for position in range(len(CODES)):
            groups: dict[tuple[str, ...], list[int]] = {}
            for index, respondent in enumerate(respondents):
                key = group_of((respondent[0], respondent[1], ()), by)
                if key is not None and respondent[2][position] is not None:
                    groups.setdefault(key, []).append(index)
            small = [i for members in groups.values() if len(members) < minimum for i in members]
            answers = [respondents[i][2][position] for i in small]
            if len(small) >= minimum:
                answers = draw(st.permutations(answers))
            else:
                answers = [draw(st.integers(1, 5)) for _ in small]
            for index, answer in zip(small, answers, strict=True):
                respondents[index][2][position] = answer
    return [[(d, lvl, tuple(a)) for d, lvl, a in respondents] for respondents in changed]


def figures(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every score of the JSON report's maturity section."""
    for questionnaire in document["maturity"]["questionnaires"]:
        for analysis in questionnaire["rounds"]:
            for entry in (*analysis["items"], *analysis["dimensions"]):
                for score in (*entry["scores"], entry["other"], entry["total"]):
                    if score is not None:
                        yield score


class TestSmallGroupsInReports:
    """No report, in any format or language, shows a figure of a group below the minimum."""

    def test_small_groups_leave_no_trace(self) -> None:
        """Shuffling or replacing small groups' answers changes no report at all."""

        @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
        @given(
            rounds(),
            st.sampled_from(["department", "level", "department-and-level"]),
            st.integers(2, 4),
            st.sampled_from(LANGUAGES),
            st.data(),
        )
        def check(
            programme: list[list[Respondent]], by: str, minimum: int, lang: str, data: st.DataObject
        ) -> None:
            original = rendered(programme, by, minimum, lang)
            document = json.loads(original["json"])
            for score in figures(document):
                assert score["respondents"] is None or score["respondents"] >= minimum
            other = data.draw(disguised(programme, by, minimum))
            assert rendered(other, by, minimum, lang) == original

        check()

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_a_lone_respondent_is_shown_nowhere(self, lang: str) -> None:
        """One respondent's distinctive answers change nothing in any format."""
        crowd: list[Respondent] = [("North", "leaders", (3, 3, 3))] * 4
        alone = [*crowd, ("South", "employees", (1, 1, 1))]
        other = [*crowd, ("South", "employees", (5, 5, 5))]
        assert rendered([alone], "department", 3, lang) == rendered([other], "department", 3, lang)


class TestMainJob:
    """The example's main job writes reports that hold the analysis and the vocabulary."""

    def test_json_report_has_maturity_and_vocabulary(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """report.json has both sections, valid against the schema; a second run adds nothing."""
        store = f"sqlite:///{tmp_path}/experiments.db"
        out = tmp_path / "reports"
        assert municipality.main(["--store", store, "--out", str(out)]) == 0
        assert municipality.main(["--store", store, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "Maturity: Citizen orientation, Autumn 2026" in printed
        document = json.loads((out / "report.json").read_text(encoding="utf-8"))
        schema = reports.schema()
        jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        ).validate(document)
        (questionnaire,) = document["maturity"]["questionnaires"]
        assert [r["title"] for r in questionnaire["rounds"]] == ["Spring 2026", "Autumn 2026"]
        autumn = questionnaire["rounds"][1]
        assert autumn["groups"] == list(municipality.DEPARTMENTS)
        assert autumn["previous"]["title"] == "Spring 2026"
        assert questionnaire["rounds"][0]["items"][0]["suppressed"]  # two in crime prevention
        words = [t["word"] for t in document["vocabulary"]["terms"]]
        assert words == ["citizen", "co-creation", "vulnerable family"]
        with experiments.connect(store) as reopened:
            assert reopened.count("response") == sum(
                sum(leaders + employees for (leaders, employees), _ in spec["departments"].values())
                for spec in municipality.ROUNDS.values()
            )
        for name in ("maturity.csv", "glossary.csv"):
            assert (out / name).read_bytes().startswith(b"\xef\xbb\xbf")

    def test_a_report_built_without_them_is_still_valid(self) -> None:
        """A report gathered by hand without the analysis has null sections, still valid."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            report = reports.build(store, at=AT)
        bare = Report(rollup=report.rollup, experiments=report.experiments)
        document = json.loads(reports.render(bare, "json"))
        assert (document["maturity"], document["vocabulary"]) == (None, None)
        jsonschema.Draft202012Validator(reports.schema()).validate(document)
