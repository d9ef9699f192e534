"""CSV in: participants, participations and measurements from Excel and LibreOffice sheets."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments
from experiments import (
    Experiment,
    KeyResult,
    Measurement,
    Objective,
    Participant,
    Participation,
    Plugins,
)
from experiments.cli import cli
from experiments.errors import CSVError, ValidationError
from experiments.spreadsheets import CSVImport, import_csv
from experiments.testing.strategies import names, slugs
from people import person as stored_person


@pytest.fixture
def store(tmp_path: Path) -> experiments.Store:
    """A store with an objective, a key result and an experiment to refer to."""
    made = experiments.connect(
        f"sqlite:///{tmp_path / 'sheets.db'}", plugins=Plugins(autoload=False), create=True
    )
    welfare = made.save(Objective(title="Welfare", slug="welfare"))
    made.save(
        KeyResult(
            objective=welfare, metric="families", baseline=0, target=40, unit="families",
            slug="families",
        )
    )  # fmt: skip
    made.save(Experiment(title="Walks", slug="walks"))
    return made


def _sheet(path: Path, text: str, *, bom: bool = False, crlf: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _snapshot(store: experiments.Store) -> list[str]:
    return sorted(f"{r.id}:{r.revision}" for r in store.export())


class TestGoodFiles:
    """Sheets as Excel and LibreOffice write them become records."""

    def test_participants_with_commas(self, store, tmp_path):
        """A comma-separated sheet of participants: each row a participant, typed."""
        sheet = _sheet(
            tmp_path / "people.csv",
            "slug,role,name,department,external,pseudonymous\n"
            "anna,citizen,Anna Hansen,,,yes\n"
            "lise,frontline-employee,Lise Dahl,Family Services,no,\n",
        )
        done = import_csv(store, sheet, "participant")
        assert done == CSVImport("participant", 2, 2, 0, 0)
        anna = stored_person(store, "anna")  # pseudonymous: not found by slug
        assert (anna.name, anna.pseudonymous, anna.external) == ("Anna Hansen", True, True)
        lise = store.get_by_slug(Participant, "lise")
        assert (lise.department, lise.external) == ("Family Services", False)

    def test_measurements_with_semicolons_bom_and_decimal_commas(self, store, tmp_path):
        """Excel's Danish CSV: `;`, a byte order mark, CRLF, and 7,5 for 7.5."""
        sheet = _sheet(
            tmp_path / "figures.csv",
            "Key result;Value;Measured at;Experiment\n"
            "families;7,5;2026-09-14 18:00;walks\n"
            'families;"1.234,5";2026-09-21;walks\n',
            bom=True,
            crlf=True,
        )
        done = import_csv(store, sheet, Measurement, zone="Europe/Copenhagen")
        assert (done.added, done.rows) == (2, 2)
        values = sorted(
            (m.measured_at.in_tz("UTC").isoformat(), m.value, m.metric, m.unit)
            for m in store.query(Measurement)
        )
        assert values == [
            ("2026-09-14T16:00:00+00:00", 7.5, "families", "families"),
            ("2026-09-20T22:00:00+00:00", 1234.5, "families", "families"),
        ]

    def test_participations_by_slug(self, store, tmp_path):
        """Participations name the experiment and the participant by slug or id."""
        store.save(Participant(role="citizen", slug="anna"))
        hidden = store.save(Participant(role="citizen", pseudonymous=True))
        sheet = _sheet(
            tmp_path / "links.csv",
            f"experiment,participant,stance,involvement\nwalks,anna,critical,co-creating\n"
            f"walks,{hidden.id},,\n",
        )
        assert import_csv(store, sheet, "participation").added == 2
        stances = sorted(p.stance.value for p in store.query(Participation))
        assert stances == ["critical", "neutral"]

    def test_old_mac_line_endings(self, store, tmp_path):
        """Lines ended by a carriage return alone, as old Excel for Mac wrote them."""
        sheet = _sheet(tmp_path / "p.csv", "slug;role\ranna;citizen\rlise;user\r")
        assert import_csv(store, sheet, "participant").added == 2

    def test_progress_sees_every_line_then_every_record(self, store, tmp_path):
        """A progress function is given the lines after the header, then the records."""
        sheet = _sheet(
            tmp_path / "p.csv", 'slug,role,name\nanna,citizen,"Anna\nHansen"\n\nlise,user,\n'
        )
        seen: list[tuple[int, int]] = []

        def progress(work, total):
            count = 0
            for piece in work:
                count += 1
                yield piece
            seen.append((total, count))

        assert import_csv(store, sheet, "participant", progress=progress).added == 2
        assert seen == [(4, 4), (2, 2)]

    def test_importing_twice_changes_nothing(self, store, tmp_path):
        """The same file again: every row unchanged, no new version anywhere."""
        sheet = _sheet(
            tmp_path / "m.csv",
            "metric,value,measured_at,experiment\nvisits,3,2026-09-14T10:00:00+02:00,walks\n",
        )
        import_csv(store, sheet, "measurement")
        before = _snapshot(store)
        assert import_csv(store, sheet, "measurement") == CSVImport("measurement", 1, 0, 0, 1)
        assert _snapshot(store) == before

    def test_a_corrected_file_updates(self, store, tmp_path):
        """A corrected value updates the same measurement, keeping the old in its history."""
        row = "metric,value,measured_at,experiment\nvisits,{},2026-09-14T10:00:00Z,walks\n"
        import_csv(store, _sheet(tmp_path / "m.csv", row.format(3)), "measurement")
        done = import_csv(store, _sheet(tmp_path / "m.csv", row.format(4)), "measurement")
        assert (done.updated, done.added) == (1, 0)
        [measurement] = store.query(Measurement)
        assert (measurement.value, measurement.revision) == (4.0, 2)

    def test_same_id_as_tracking(self, store, tmp_path):
        """A row and a script's `measure` at the same moment are one measurement."""
        with experiments.track("walks", store=store) as run:
            run.measure("visits", 3, at="2026-09-14T10:00:00Z")
        sheet = _sheet(
            tmp_path / "m.csv",
            "metric,value,measured_at,experiment\nvisits,3,2026-09-14T10:00:00Z,walks\n",
        )
        assert import_csv(store, sheet, "measurement").unchanged == 1

    def test_dry_run_writes_nothing(self, store, tmp_path):
        """A dry run counts what would change and leaves the store as it was."""
        before = _snapshot(store)
        sheet = _sheet(tmp_path / "p.csv", "slug,role\nanna,citizen\n")
        assert import_csv(store, sheet, "participant", dry_run=True) == CSVImport(
            "participant", 1, 1, 0, 0, dry_run=True
        )
        assert _snapshot(store) == before


class TestBadRows:
    """Every bad row is reported with its line and reason; nothing is written."""

    def test_every_bad_row_is_listed_and_nothing_written(self, store, tmp_path):
        """Three bad rows among good ones: all three named by line, no row imported."""
        before = _snapshot(store)
        sheet = _sheet(
            tmp_path / "m.csv",
            "metric,value,measured_at,experiment\n"
            "visits,3,2026-09-14T10:00:00Z,walks\n"
            "visits,many,2026-09-15T10:00:00Z,walks\n"
            "visits,4,2026-09-16 10:00,walks\n"
            '"visits\nper week",5,2026-09-17T10:00:00Z,nowhere\n'
            "visits,6,2026-09-18T10:00:00Z,walks\n",
        )
        with pytest.raises(CSVError) as caught:
            import_csv(store, sheet, "measurement")
        lines = [line for line, _ in caught.value.problems]
        assert lines == [3, 4, 5]
        assert "nothing was imported" in str(caught.value)
        assert "'many' is not a number" in str(caught.value)
        assert "zone='Europe/Copenhagen'" in str(caught.value)
        assert "'nowhere' names no experiment" in str(caught.value)
        assert _snapshot(store) == before

    def test_decimal_comma_in_a_comma_sheet(self, store, tmp_path):
        """In a `,` sheet a comma in a number is ambiguous: refused, saying how to fix it."""
        sheet = _sheet(
            tmp_path / "m.csv",
            'metric,value,measured_at\nvisits,"9,5",2026-09-14T10:00:00Z\n',
        )
        with pytest.raises(CSVError, match=r"line 2: value '9,5' is not a number.*';'"):
            import_csv(store, sheet, "measurement")
        assert list(store.query(Measurement)) == []

    def test_a_row_of_a_deleted_record(self, store, tmp_path):
        """A row for a soft-deleted record is bad: restore it or remove the row."""
        anna = store.save(Participant(role="citizen", slug="anna"))
        store.delete(anna)
        before = _snapshot(store)
        sheet = _sheet(tmp_path / "p.csv", "slug,role\nlise,citizen\nanna,citizen\n")
        with pytest.raises(CSVError, match=r"line 3: .*is deleted; restore\(\) it first"):
            import_csv(store, sheet, "participant")
        assert _snapshot(store) == before

    def test_unknown_and_missing_columns(self, store, tmp_path):
        """A heading the kind does not have, or a required one missing, is line 1."""
        sheet = _sheet(tmp_path / "p.csv", "slug,rolle\nanna,citizen\n")
        with pytest.raises(CSVError, match="line 1: unknown column 'rolle'; no column 'role'"):
            import_csv(store, sheet, "participant")

    def test_the_same_record_twice(self, store, tmp_path):
        """Two rows that make one record: the second names the first."""
        sheet = _sheet(tmp_path / "p.csv", "slug,role\nanna,citizen\nanna,user\n")
        with pytest.raises(CSVError, match="line 3: the same participant as line 2"):
            import_csv(store, sheet, "participant")

    def test_a_cell_the_csv_reader_refuses(self, store, tmp_path):
        """A cell larger than CSV allows is its line's error; nothing is written."""
        sheet = _sheet(tmp_path / "p.csv", f"slug,role\nanna,citizen\n{'x' * 200_000},user\n")
        with pytest.raises(CSVError, match=r"p.csv: line 3: field larger than field limit"):
            import_csv(store, sheet, "participant")
        assert list(store.query(Participant)) == []

    def test_not_utf8(self, store, tmp_path):
        """A sheet saved in Latin-1 is refused with how to save it as UTF-8."""
        (tmp_path / "p.csv").write_bytes("slug,role,name\nsoe,citizen,Søren\n".encode("latin-1"))
        with pytest.raises(CSVError, match="not UTF-8"):
            import_csv(store, tmp_path / "p.csv", "participant")

    def test_a_kind_that_is_no_sheet(self, store, tmp_path):
        """Only participants, participations and measurements come from sheets."""
        with pytest.raises(ValidationError, match="participant, participation, measurement"):
            import_csv(store, tmp_path / "x.csv", "experiment")


class TestProperties:
    """Any sheet of participants, in either separator, with or without a BOM."""

    def test_any_sheet_round_trips_and_imports_once(self, store, tmp_path):
        """What the rows say is stored; importing the sheet again changes nothing."""

        @settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(
            st.lists(
                st.tuples(slugs, st.sampled_from(["citizen", "user", "expert"]), names),
                min_size=1,
                max_size=6,
                unique_by=lambda row: row[0],
            ),
            st.sampled_from([",", ";"]),
            st.booleans(),
        )
        def imports(rows, separator, bom):
            text = io.StringIO()
            writer = csv.writer(text, delimiter=separator, lineterminator="\r\n")
            writer.writerow(["slug", "role", "name"])
            writer.writerows(rows)
            sheet = _sheet(tmp_path / "p.csv", text.getvalue(), bom=bom)
            import_csv(store, sheet, "participant")
            for slug, role, name in rows:
                stored = store.get_by_slug(Participant, slug)
                assert (stored.role.value, stored.name) == (role, name.strip() or None)
            again = import_csv(store, sheet, "participant")
            assert (again.added, again.updated, again.unchanged) == (0, 0, len(rows))

        imports()

    def test_bad_rows_are_named_by_their_first_line(self, store, tmp_path):
        """Bad rows among good ones, cells over several lines: exactly their lines, none kept."""

        @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(
            st.lists(
                st.tuples(
                    st.one_of(slugs, st.sampled_from(["Not A Slug", "-dash", "æøå"])),
                    st.sampled_from(["citizen", "user", "wizard", "Citizen "]),
                    st.sampled_from(["", "Anna", "Anna\nHansen", "Line one\r\nline two\nthree"]),
                ),
                min_size=1,
                max_size=8,
                unique_by=lambda row: row[0],
            ),
            st.sampled_from([",", ";"]),
            st.booleans(),
        )
        def reports(rows, separator, bom):
            text = io.StringIO()
            writer = csv.writer(text, delimiter=separator, lineterminator="\r\n")
            writer.writerow(["slug", "role", "name"])
            writer.writerows(rows)
            sheet = _sheet(tmp_path / "p.csv", text.getvalue(), bom=bom)
            expected, line = [], 2
            for slug, role, name in rows:
                valid = slug[0].isalnum() and slug.isascii() and slug == slug.lower()
                if not valid or role.strip().lower() not in ("citizen", "user"):
                    expected.append(line)
                line += 1 + name.count("\n")
            before = _snapshot(store)
            if expected:
                with pytest.raises(CSVError) as caught:
                    import_csv(store, sheet, "participant")
                assert [number for number, _ in caught.value.problems] == expected
            else:
                assert import_csv(store, sheet, "participant", dry_run=True).rows == len(rows)
            assert _snapshot(store) == before

        reports()


class TestCommand:
    """`experiments import-csv` as a person or a script runs it."""

    def _run(self, store, *args: str, stdin: bytes | None = None):
        runner = CliRunner()
        return runner.invoke(cli, ["--store", str(store.url), *args], input=stdin)

    def test_imports_and_reports(self, store, tmp_path):
        """A good sheet: one line saying what changed; --json says it as JSON."""
        sheet = _sheet(tmp_path / "p.csv", "slug;role\nanna;citizen\n", bom=True)
        dry = self._run(store, "import-csv", "participants", str(sheet), "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "dry run, nothing written: 1 added" in dry.output
        done = self._run(store, "--json", "import-csv", "participants", str(sheet))
        assert json.loads(done.output)["added"] == 1
        again = self._run(store, "import-csv", "participants", "-", stdin=sheet.read_bytes())
        assert "0 added, 0 updated, 1 unchanged" in again.output

    def test_bad_rows_exit_2_with_every_line(self, store, tmp_path):
        """Bad rows: exit 2, each line named, in the command line's words."""
        sheet = _sheet(
            tmp_path / "m.csv",
            "metric,value,measured_at\nvisits,x,2026-09-14T10:00:00Z\nvisits,3,2026-09-14 10:00\n",
        )
        done = self._run(store, "import-csv", "measurements", str(sheet))
        assert done.exit_code == 2
        assert "line 2: value 'x' is not a number; line 3:" in done.output
        assert "--zone Europe/Copenhagen" in done.output

    def test_deleted_record_in_the_command_line_words(self, store, tmp_path):
        """A row of a deleted record names `experiments restore`, not a Python call."""
        store.delete(store.save(Participant(role="citizen", slug="anna")))
        sheet = _sheet(tmp_path / "p.csv", "slug,role\nanna,citizen\n")
        done = self._run(store, "import-csv", "participants", str(sheet))
        assert done.exit_code == 2
        assert "restore it first with `experiments restore`" in done.output
