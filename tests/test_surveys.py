"""Recording responses: one at a time, and survey tools' CSV exports in every dialect."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import experiments
from experiments import (
    Item,
    NotFoundError,
    Participant,
    Plugins,
    Questionnaire,
    Response,
    SurveyRound,
    ValidationError,
    surveys,
)
from experiments.stores import Store

CODES = ("L1", "L2", "C1")


def make_round(store: Store, **fields: Any) -> SurveyRound:
    """A questionnaire of three items on 1-5, and a round asked of two departments."""
    questionnaire = store.save(Questionnaire(slug="maturity", title="Maturity", scale="1-5"))
    for code in CODES:
        store.save(Item(questionnaire=questionnaire, code=code, dimension="D", statement=code))
    return store.save(
        SurveyRound(
            slug="spring",
            questionnaire=questionnaire,
            title="Spring",
            opened_at="2026-03-01T09:00:00+01:00",
            departments=["Home Care", "Culture"],
            levels=["leaders", "employees"],
            **fields,
        )
    )


@pytest.fixture
def store() -> Iterator[Store]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as made:
        make_round(made)
        yield made


def export(rows: list[list[str]], *, separator: str = ";", bom: bool = True) -> bytes:
    """Rows as a spreadsheet saves them: CRLF, quoted where needed, UTF-8 (with a BOM)."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=separator, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()


HEADER = ["department", "level", "answered_at", "L1", "L2", "C1"]
GOOD = [
    HEADER,
    ["Home Care", "leaders", "2026-03-02T10:00:00+01:00", "4", "3", "2"],
    ["Home Care", "employees", "2026-03-02T11:00:00+01:00", "2", "", "1"],
    ["Culture", "employees", "2026-03-03T12:00:00+01:00", "5", "4", "4"],
]


class TestImport:
    """A survey tool's export is imported whole, or not at all."""

    @pytest.mark.parametrize("separator", [",", ";", "\t"])
    @pytest.mark.parametrize("bom", [True, False])
    def test_every_dialect_spreadsheets_save(self, store: Store, separator: str, bom: bool) -> None:
        """Commas, semicolons or tabs, a byte order mark or none: the same responses."""
        done = surveys.import_responses(
            store, "spring", io.BytesIO(export(GOOD, separator=separator, bom=bom))
        )
        assert (done.added, done.updated, done.unchanged) == (3, 0, 0)
        answers = sorted((r.department, r.level, dict(r.answers)) for r in store.query(Response))
        assert answers == [
            ("Culture", "employees", {"C1": 4, "L1": 5, "L2": 4}),
            ("Home Care", "employees", {"C1": 1, "L1": 2}),
            ("Home Care", "leaders", {"C1": 2, "L1": 4, "L2": 3}),
        ]

    def test_a_path_text_or_binary_file(self, store: Store, tmp_path: Path) -> None:
        """A path, an open text file and an open binary file read alike."""
        path = tmp_path / "responses.csv"
        path.write_bytes(export(GOOD))
        assert surveys.import_responses(store, "spring", path).added == 3
        assert surveys.import_responses(store, "spring", str(path)).unchanged == 3
        text = export(GOOD).decode("utf-8-sig")
        assert surveys.import_responses(store, "spring", io.StringIO(text)).unchanged == 3

    def test_importing_twice_changes_nothing(self, store: Store) -> None:
        """The second import finds every response there already; the history is unchanged."""
        surveys.import_responses(store, "spring", io.BytesIO(export(GOOD)))
        before = [r.revision for r in store.query(Response)]
        again = surveys.import_responses(store, "spring", io.BytesIO(export(GOOD)))
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
        assert [r.revision for r in store.query(Response)] == before

    def test_two_rows_that_say_the_same_are_two_respondents(self, store: Store) -> None:
        """Rows without a response id that are alike are counted each, and once each."""
        rows = [HEADER, GOOD[1], GOOD[1], GOOD[1]]
        assert surveys.import_responses(store, "spring", io.BytesIO(export(rows))).added == 3
        assert surveys.import_responses(store, "spring", io.BytesIO(export(rows))).unchanged == 3
        assert store.count("response") == 3

    def test_a_response_the_tool_changed_is_updated(self, store: Store) -> None:
        """With a response id, a row whose answers changed updates its response."""
        rows = [[*HEADER, "response_id"], [*GOOD[1], "R-1"], [*GOOD[3], "R-2"]]
        surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        rows[1][3] = "5"
        done = surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        assert (done.added, done.updated, done.unchanged) == (0, 1, 1)
        changed = next(r for r in store.query(Response) if r.source_key == "R-1")
        assert (changed.revision, changed.answers["L1"]) == (2, 5)

    def test_a_tools_own_headings(self, store: Store) -> None:
        """Headings in the tool's words are named with columns=; item codes by any case."""
        rows = [
            ["Afdeling", "Niveau", "Tidspunkt", "l1", "Spørsmål 2", "C1"],
            ["Home Care", "leaders", "2026-03-02 10:15", "4", "3", "2"],
        ]
        done = surveys.import_responses(
            store,
            "spring",
            io.BytesIO(export(rows)),
            columns={
                "Afdeling": "department",
                "niveau": "level",
                "Tidspunkt": "answered_at",
                "Spørsmål 2": "L2",
            },
            zone="Europe/Oslo",
        )
        assert done.added == 1
        (response,) = store.query(Response)
        assert dict(response.answers) == {"C1": 2, "L1": 4, "L2": 3}
        assert response.answered_at.isoformat() == "2026-03-02T10:15:00+01:00"

    def test_without_answered_at_a_response_dates_from_the_rounds_opening(
        self, store: Store
    ) -> None:
        """A file without times dates every response at the round's opening."""
        rows = [["department", "L1"], ["Culture", "3"]]
        surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        (response,) = store.query(Response)
        assert response.answered_at == store.get_by_slug(SurveyRound, "spring").opened_at

    def test_texts_meaning_not_answered(self, store: Store) -> None:
        """Cells listed in not_answered are left out, like empty ones."""
        rows = [["department", "L1", "L2"], ["Culture", "Vet ikke", "4"]]
        surveys.import_responses(
            store, "spring", io.BytesIO(export(rows)), not_answered=["vet ikke"]
        )
        (response,) = store.query(Response)
        assert dict(response.answers) == {"L2": 4}

    def test_an_unknown_zone_is_refused_before_the_file_is_read(self, store: Store) -> None:
        """zone= is checked even when no time in the file needs it; nothing is written."""
        rows = [["department", "L1"], ["Culture", "3"]]
        with pytest.raises(ValidationError, match="zone names an unknown time zone 'Mars/Base'"):
            surveys.import_responses(store, "spring", io.BytesIO(export(rows)), zone="Mars/Base")
        assert store.count("response") == 0

    def test_every_bad_row_is_named_and_nothing_is_written(self, store: Store) -> None:
        """Each bad row is listed with its line (a quoted line break counts), none saved."""
        rows = [
            HEADER,
            ["Home Care", "leaders", "2026-03-02T10:00:00+01:00", "4", "3", "2"],  # line 2
            ["Finance", "leaders", "2026-03-02T10:00:00+01:00", "4", "3", "2"],  # line 3
            ["Home\nCare", "leaders", "", "9", "x", "2"],  # lines 4-5
            ["Culture", "boss", "2026-03-02 10:00", "", "", ""],  # line 6
            ["Culture", "leaders", "", "3.5", "4,0", "2"],  # line 7
        ]
        with pytest.raises(ValidationError) as caught:
            surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        message = str(caught.value)
        assert message.startswith(
            "4 bad rows in the responses for round 'Spring', nothing imported"
        )
        assert "line 3: department 'Finance' was not asked" in message
        assert "line 4: L1 is '9', not a whole number on the scale 1-5, L2 is 'x'" in message
        assert "line 6: level 'boss' was not asked" in message
        assert "answered_at '2026-03-02 10:00' has no time zone (give zone=" in message
        assert "line 7: L1 is '3.5'" in message
        assert "line 2" not in message
        assert store.count("response") == 0

    @pytest.mark.parametrize(
        ("rows", "message"),
        [
            ([["department", "L1", "Q9"], ["Culture", "3", "3"]], "the columns 'Q9' are neither"),
            ([["level", "L1"], ["leaders", "3"]], "the file has no department column"),
            ([["department", "L1", "l1"], ["Culture", "3", "3"]], "the header names L1 twice"),
            ([["department", "L1"]], "the file has a header but no responses"),
            ([["department", "L1"], ["Culture", "3", "4"]], "line 2: 3 fields where the header"),
            ([["department", "L1", "L2"], ["Culture", "", ""]], "line 2: no item is answered"),
        ],
    )
    def test_files_that_cannot_be_read(
        self, store: Store, rows: list[list[str]], message: str
    ) -> None:
        """Unknown or missing columns, no responses, ragged rows: a clear error, no write."""
        with pytest.raises(ValidationError, match=message):
            surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        assert store.count("response") == 0

    def test_text_that_is_not_utf8(self, store: Store) -> None:
        """A file saved in another encoding is refused with how to save it as UTF-8."""
        data = "department;L1\r\nKøbenhavn;3\r\n".encode("cp1252")
        with pytest.raises(ValidationError, match="save it as 'CSV UTF-8'"):
            surveys.import_responses(store, "spring", io.BytesIO(data))

    def test_an_unknown_round(self, store: Store) -> None:
        """A round that is not stored is not found, before the file is read."""
        with pytest.raises(NotFoundError, match="no survey-round with id or slug 'autumn'"):
            surveys.import_responses(store, "autumn", io.BytesIO(export(GOOD)))

    def test_participants_only_under_a_pseudonym(self, store: Store) -> None:
        """A participant column names pseudonymous participants only, by id."""
        hidden = store.save(Participant(role="employee", pseudonymous=True))
        named = store.save(Participant(role="employee", name="Anna"))
        rows = [
            ["department", "participant", "L1"],
            ["Culture", hidden.id, "3"],
            ["Culture", named.id, "3"],
            ["Culture", "par_nobody", "3"],
        ]
        with pytest.raises(ValidationError) as caught:
            surveys.import_responses(store, "spring", io.BytesIO(export(rows)))
        assert f"line 3: participant: participant {named.id} is not pseudonymous" in str(
            caught.value
        )
        assert "line 4: participant: no participant" in str(caught.value)
        assert "line 2" not in str(caught.value)
        done = surveys.import_responses(store, "spring", io.BytesIO(export(rows[:2])))
        assert done.added == 1
        assert next(store.query(Response)).participant == hidden.id

    def test_any_valid_file_imports_whole_and_once(self) -> None:
        """Any valid rows, in any dialect, are the stored responses; a second import adds none."""

        row = st.tuples(
            st.sampled_from(["Home Care", "Culture", "home care", " Culture "]),
            st.sampled_from(["leaders", "employees", ""]),
            *(st.one_of(st.just(""), st.integers(1, 5).map(str)) for _ in CODES),
        ).filter(lambda r: any(r[2:]))

        @settings(max_examples=40)
        @given(
            st.lists(row, min_size=1, max_size=8),
            st.sampled_from([",", ";"]),
            st.booleans(),
        )
        def check(rows: list[tuple[str, ...]], separator: str, bom: bool) -> None:
            with experiments.connect("memory://", plugins=Plugins(autoload=False)) as fresh:
                make_round(fresh)
                data = export(
                    [["department", "level", *CODES], *map(list, rows)],
                    separator=separator,
                    bom=bom,
                )
                first = surveys.import_responses(fresh, "spring", io.BytesIO(data))
                assert first.added == len(rows)
                stored = sorted(
                    (r.department, r.level or "", tuple(r.answers.get(c, 0) for c in CODES))
                    for r in fresh.query(Response)
                )
                expected = sorted(
                    (
                        department.strip(),
                        level,
                        tuple(int(a) if a else 0 for a in answers),
                    )
                    for department, level, *answers in rows
                )
                assert stored == expected
                again = surveys.import_responses(fresh, "spring", io.BytesIO(data))
                assert (again.added, again.unchanged) == (0, len(rows))

        check()


class TestRecordResponse:
    """One response recorded by a script is checked against its round and questionnaire."""

    def test_recorded_once(self, store: Store) -> None:
        """With a response id, recording it again changes nothing."""
        made = surveys.record_response(
            store, "spring", "Culture", {"l1": 4}, level="leaders", response_id="R-9"
        )
        again = surveys.record_response(
            store, "spring", "Culture", {"L1": 4}, level="leaders", response_id="R-9"
        )
        assert made == again
        assert dict(made.answers) == {"L1": 4}
        assert store.count("response") == 1

    def test_every_problem_at_once(self, store: Store) -> None:
        """Off the scale, no such item, a department not asked: all in one error."""
        with pytest.raises(ValidationError) as caught:
            surveys.record_response(store, "spring", "Finance", {"L1": 6, "Q7": 3})
        message = str(caught.value)
        assert "department 'Finance' was not asked" in message
        assert "the answer to 'L1' is 6, not a whole number on the scale 1-5" in message
        assert "'Q7' is no item of questionnaire 'Maturity'" in message
        assert store.count("response") == 0
