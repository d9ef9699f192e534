"""Reports of the municipality programme in every format and language, and their rules.

Golden files live in tests/golden/<format>/<lang>.<ext>; run with UPDATE_GOLDEN=1 to
write them again from the current code (and read the difference before committing).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import experiments
import needs
from experiments import (
    Experiment,
    Hypothesis,
    KeyResult,
    Objective,
    Participant,
    Participation,
    PluginError,
    Plugins,
    ReportError,
    ValidationError,
    reports,
)
from experiments.model._time import format_datetime
from experiments.reports import Report, ReportFormat, _escape
from experiments.reports._csv import COLUMNS
from experiments.reports._html import (
    DETAIL_LIMIT,
    LIST_LIMIT,
    OPEN_LIMIT,
    groups,
    policy,
    spread,
)
from experiments.reports._html import script as html_script
from experiments.reports.builtin import BUILTIN_FORMATS
from experiments.rollup import rollup
from experiments.stores import Store
from fake_plugins import fake_distribution
from report_programmes import (
    FORMULAS,
    LARGE,
    MARKER,
    PIPE,
    SCRIPT,
    add_marked_participant,
    build_report,
    hostile_store,
    municipality,
    validator_for,
)
from special_files import SpecialFile

GOLDEN = Path(__file__).parent / "golden"
FORMATS = ("md", "json", "csv", "csv-comma", "html", "maturity-csv", "glossary-csv")
LANGUAGES = ("en", "da", "nb", "sv")
EXTENSION = {
    "md": "md",
    "json": "json",
    "csv": "csv",
    "csv-comma": "csv",
    "html": "html",
    "maturity-csv": "csv",
    "glossary-csv": "csv",
}


def text_of(rendered: str | bytes) -> str:
    return rendered.decode("utf-8-sig") if isinstance(rendered, bytes) else rendered


@pytest.fixture(scope="module")
def programme_store() -> Iterator[Store]:
    """The municipality programme in a memory store, shared by the read-only tests here."""
    with experiments.connect("memory://reports-golden", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        yield store


@pytest.fixture(scope="module")
def report(programme_store: Store) -> Report:
    return build_report(programme_store)


@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.Draft202012Validator:
    return validator_for(reports.schema())


def validate_json(validator: jsonschema.Draft202012Validator, rendered: str | bytes) -> Any:
    document = json.loads(text_of(rendered))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return document


# --- golden files ---------------------------------------------------------------------


class TestGolden:
    """The municipality programme's reports are what tests/golden holds."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize("format_name", FORMATS)
    def test_matches_golden_file(
        self,
        report: Report,
        format_name: str,
        lang: str,
        schema_validator: jsonschema.Draft202012Validator,
    ) -> None:
        """Each format in each language renders exactly as the reviewed golden file."""
        rendered = reports.render(report, format_name, lang)
        data = rendered.encode("utf-8") if isinstance(rendered, str) else rendered
        golden = GOLDEN / format_name / f"{lang}.{EXTENSION[format_name]}"
        if format_name == "json":
            validate_json(schema_validator, rendered)
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(data)
        assert golden.exists(), f"{golden} is missing; run the tests with UPDATE_GOLDEN=1"
        assert data == golden.read_bytes(), (
            f"{golden.relative_to(GOLDEN.parent)} differs; if the change is intended, run "
            "with UPDATE_GOLDEN=1 and review the difference"
        )

    def test_both_backends_give_the_same_report(self, any_store: Store, report: Report) -> None:
        """A programme recorded in SQLite reports exactly as the one in memory."""
        municipality.record_programme(any_store)
        assert reports.render(build_report(any_store), "json") == reports.render(report, "json")


# --- what a report shows ----------------------------------------------------------------


class TestGather:
    """The detail gathered for each experiment, as of the report's moment."""

    def test_experiments_with_their_detail(self, report: Report) -> None:
        """Owner, status, hypotheses, learnings, voices and the decision are all there."""
        by_slug = {e.slug: e for e in report.experiments}
        assert [e.ref.title for e in report.experiments] == sorted(
            e.ref.title for e in report.experiments
        )
        art = by_slug["art-for-families"]
        assert art.owner == "Family Services"
        assert art.status == "decided"
        assert art.participants == 6
        assert art.critical_voices == 1
        assert [h.status for h in art.hypotheses] == ["supported"]
        assert art.hypotheses[0].evidence == "strong"
        assert art.hypotheses[0].criterion == "families returning >= 15"
        assert art.decision is not None
        assert art.decision.outcome == "scale-up"
        assert art.planned_end is not None
        assert art.planned_end.date().isoformat() == "2026-10-05"
        (learning,) = art.learnings
        names = {v.name for v in learning.voices}
        assert "Lise Dahl" in names
        assert None in names  # two pseudonymous parents
        assert "Sara M." not in names
        assert "Jens K." not in names
        numbers = [v.number for v in learning.voices if v.name is None]
        assert len(set(numbers)) == len(numbers) == 2
        booking = by_slug["digital-booking"]
        assert booking.status == "planned"
        assert booking.time_box_days == 21
        assert booking.planned_start is None
        assert booking.participants == 0

    def test_the_example_says_who_takes_part_in_nothing(
        self, programme_store: Store, report: Report
    ) -> None:
        """Recorded people who are in no experiment are told apart from those let in."""
        objective = programme_store.get_by_slug(Objective, "welfare-in-100-days")
        told = municipality.describe(programme_store, objective)
        assert "Recorded: 14 participants (2 of them take part in no experiment)," in told
        assert report.rollup.total.involvement.participants == 12

    def test_as_of_an_earlier_moment(self, programme_store: Store) -> None:
        """Before the art afternoons concluded, no conclusion, learning or decision shows."""
        result = rollup(programme_store, "welfare-in-100-days", at="2026-10-01T12:00:00+02:00")
        early = reports.gather(programme_store, result)
        art = next(e for e in early.experiments if e.slug == "art-for-families")
        assert art.status == "running"
        assert art.concluded_at is None
        assert art.decided_at is None
        assert art.learnings == ()
        assert art.decision is None
        assert [h.status for h in art.hypotheses] == ["untested"]
        assert early.findings is None

    def test_times_are_in_the_zone_of_the_report(self, report: Report) -> None:
        """Every time is given with the report's UTC offset."""
        document = json.loads(reports.render(report, "json"))
        offsets = set(re.findall(r"T\d\d:\d\d:\d\d([+-]\d\d:\d\d)", json.dumps(document)))
        assert offsets == {"+01:00"}

    def test_whole_strategy(self, programme_store: Store) -> None:
        """Without an objective, every experiment is listed, linked or not."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            municipality.record_programme(store)
            lonely = store.save(Experiment(title="Unlinked pilot", time_box="P2W"))
            whole = build_report(store, None)
        assert whole.scope is None
        assert lonely.id in {e.ref.id for e in whole.experiments}
        assert len(whole.experiments) == 5
        markdown = text_of(reports.render(whole, "md", "da"))
        assert markdown.startswith("# Hele strategien\n")
        assert "Unlinked pilot" in markdown

    def test_empty_store(self, schema_validator: jsonschema.Draft202012Validator) -> None:
        """A store with nothing in it still reports, in every format."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            empty = reports.build(store, at=municipality.AS_OF)
        for format_name in FORMATS:
            rendered = reports.render(empty, format_name, "sv")
            assert rendered
        validate_json(schema_validator, reports.render(empty, "json", "sv"))

    def test_an_objective_tree(self, schema_validator: jsonschema.Draft202012Validator) -> None:
        """Sub-objectives are listed with their own figures in every format."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            top = store.save(Objective(title="Welfare", slug="welfare"))
            child = store.save(Objective(title="Families", parent=top))
            store.save(KeyResult(objective=child, metric="families", baseline=0, target=10))
            store.save(Experiment(title="Library afternoons", objectives=[child]))
            tree = reports.build(store, top, at=municipality.AS_OF)
        document = validate_json(schema_validator, reports.render(tree, "json"))
        assert document["objectives"][0]["children"][0]["title"] == "Families"
        assert "| Families |" not in text_of(reports.render(tree, "md"))
        assert "\u2003Families" in text_of(reports.render(tree, "md"))
        assert "Families" in text_of(reports.render(tree, "html"))


# --- formats, the hook and writing ---------------------------------------------------------


class _Plain:
    """A plugin with a plain-text report format."""

    @experiments.hookimpl
    def register_report_formats(self, register: Callable[[ReportFormat], None]) -> None:
        def plain(report: Report, lang: reports.Language) -> str:
            heading = lang.gettext("Key figures")
            return f"{heading}: {report.rollup.total.experiments}\n"

        register(ReportFormat("txt", "Plain text", "txt", "text/plain", plain))


class TestFormats:
    """Formats come through the register_report_formats hook, the built-in ones too."""

    def test_builtin_formats_in_order(self, plugins: Plugins) -> None:
        """Markdown, JSON, CSV, HTML, and the maturity and glossary tables, built in."""
        assert list(reports.formats(plugins)) == list(FORMATS)
        assert {i.plugin for i in plugins.report_formats().values()} == {
            "experiments.reports.builtin"
        }
        assert tuple(reports.formats(plugins).values()) == BUILTIN_FORMATS

    def test_a_plugin_format_renders_next_to_the_builtin_ones(self, report: Report) -> None:
        """A plugin's format is listed after the built-in ones and renders in any language."""
        plugins = Plugins(autoload=False, plugins=[_Plain()])
        assert list(reports.formats(plugins)) == [*FORMATS, "txt"]
        assert plugins.report_formats()["txt"].plugin != "experiments.reports.builtin"
        assert reports.render(report, "txt", "da", plugins=plugins) == "Nøgletal: 4\n"
        assert reports.render(report, "txt", plugins=plugins) == "Key figures: 4\n"

    def test_a_plugin_format_from_an_installed_package(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: Report
    ) -> None:
        """A format announced through the `experiments` entry point is found and written."""
        fake_distribution(
            tmp_path,
            "board-pack",
            "board_pack",
            """
            import experiments
            from experiments.reports import ReportFormat

            def _render(report, lang):
                return f"{len(report.experiments)} / {lang.code}\\n"

            @experiments.hookimpl
            def register_report_formats(register):
                register(ReportFormat("board", "Board pack", "txt", "text/plain", _render,
                                      filename="board-pack.txt"))
            """,
            entry="board",
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        plugins = Plugins()
        assert plugins.report_formats()["board"].plugin == "board"
        written = reports.write(report, tmp_path, "board", "nb", plugins=plugins)
        assert written == tmp_path / "board-pack.txt"
        assert written.read_text() == "4 / nb\n"

    def test_duplicate_format_names_are_refused(self) -> None:
        """Two plugins cannot register the same format name."""

        class Copycat:
            @experiments.hookimpl
            def register_report_formats(self, register: Callable[[ReportFormat], None]) -> None:
                register(BUILTIN_FORMATS[0])

        plugins = Plugins(autoload=False, plugins=[Copycat()])
        with pytest.raises(PluginError, match="registered by both"):
            plugins.report_formats()

    def test_only_report_formats_can_be_registered(self) -> None:
        """Registering anything else names the plugin."""

        class Confused:
            @experiments.hookimpl
            def register_report_formats(self, register: Callable[[Any], None]) -> None:
                register("pdf")

        plugins = Plugins(autoload=False, plugins=[Confused()])
        with pytest.raises(PluginError, match=r"not an experiments\.reports\.ReportFormat"):
            plugins.report_formats()

    @pytest.mark.parametrize(
        ("render", "match"),
        [
            (lambda report, lang: 1 / 0, "ZeroDivisionError"),
            (lambda report, lang: 42, "returned int"),
        ],
        ids=["raises", "returns-a-number"],
    )
    def test_a_failing_plugin_format_is_a_plugin_error(
        self, report: Report, render: Any, match: str
    ) -> None:
        """A plugin's broken renderer is reported as the plugin's failure."""

        class Broken:
            @experiments.hookimpl
            def register_report_formats(self, register: Callable[[ReportFormat], None]) -> None:
                register(ReportFormat("broken", "Broken", "txt", "text/plain", render))

        plugins = Plugins(autoload=False, plugins=[Broken()])
        with pytest.raises(PluginError, match=match):
            reports.render(report, "broken", plugins=plugins)

    def test_format_names_are_checked(self) -> None:
        """A format name must be short, lowercase and start with a letter."""
        with pytest.raises(ValidationError, match="lowercase"):
            ReportFormat("PDF A4", "PDF", "pdf", "application/pdf", lambda r, lang: b"")
        with pytest.raises(ValidationError, match="without the dot"):
            ReportFormat("pdf", "PDF", ".pdf", "application/pdf", lambda r, lang: b"")

    def test_unknown_format_or_language(self, report: Report) -> None:
        """The error lists what there is to choose from."""
        with pytest.raises(
            ValidationError, match="choose one of md, json, csv, csv-comma, html, maturity-csv"
        ):
            reports.render(report, "pdf")
        with pytest.raises(ValidationError, match="choose one of en, da, nb, sv"):
            reports.render(report, "md", "fi")

    def test_write_into_a_directory_and_to_a_file(self, report: Report, tmp_path: Path) -> None:
        """A directory gets the format's file name; a file name's extension picks the format."""
        written = [reports.write(report, tmp_path, name, "da") for name in FORMATS]
        assert [p.name for p in written] == [
            "report.md",
            "report.json",
            "experiments.csv",
            "experiments-comma.csv",
            "report.html",
            "maturity.csv",
            "glossary.csv",
        ]
        assert (tmp_path / "experiments.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        board = reports.write(report, tmp_path / "board.HTML", lang="sv")
        assert board.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert [p.name for p in tmp_path.glob(".*")] == []  # no temporary files left

    def test_a_trailing_slash_names_a_directory_to_make(
        self, report: Report, tmp_path: Path
    ) -> None:
        """'board/' is a directory, made if missing, never a file called 'board'."""
        written = reports.write(report, f"{tmp_path}/board/", format="html", lang="nb")
        assert written == tmp_path / "board" / "report.html"
        assert written.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        pack = reports.write(report, tmp_path / "board" / "pack.csv", lang="sv")
        assert pack.parent == written.parent
        with pytest.raises(ValidationError, match="give format="):
            reports.write(report, f"{tmp_path}/other/")
        assert not (tmp_path / "other").exists()  # refused before anything was made

    def test_write_into_a_pipe_or_device_keeps_it(
        self, report: Report, special_file: SpecialFile
    ) -> None:
        """A named pipe or a device is written into, never replaced by a regular file."""
        written = reports.write(report, special_file.path, "json", "da")
        assert written == special_file.path
        assert special_file.is_intact()
        received = special_file.received()
        if received is not None:
            assert json.loads(received)["language"] == "da"

    def test_write_refuses_what_it_cannot_do(self, report: Report, tmp_path: Path) -> None:
        """No format for a directory, an unknown extension, a missing directory."""
        with pytest.raises(ValidationError, match="give format="):
            reports.write(report, tmp_path)
        with pytest.raises(ValidationError, match=r"\.csv, \.html, \.json, \.md"):
            reports.write(report, tmp_path / "report.pdf")
        with pytest.raises(ReportError, match="could not write the Markdown report"):
            reports.write(report, tmp_path / "missing" / "report.md")

    def test_languages_and_their_aliases(self, report: Report) -> None:
        """Regional codes and 'no' for Norwegian are accepted."""
        assert reports.languages() == LANGUAGES
        norwegian = reports.render(report, "md", "nb")
        assert reports.render(report, "md", "no") == norwegian
        assert reports.render(report, "md", "nb_NO") == norwegian
        assert reports.render(report, "md", "da-DK") == reports.render(report, "md", "da")

    def test_importing_stays_light(self) -> None:
        """Opening a store and listing formats loads neither Jinja2 nor a renderer."""
        code = (
            "import sys, experiments\n"
            "from experiments import reports\n"
            "with experiments.connect('memory://') as store:\n"
            "    names = list(reports.formats(store.plugins))\n"
            "loaded = [m for m in sys.modules if m.startswith(('jinja2', 'babel'))"
            " or m.startswith('experiments.reports._')]\n"
            "print(names, loaded)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == f"{list(FORMATS)} []"


# --- the spreadsheet and the page ------------------------------------------------------


def _rows(data: str | bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text_of(data), newline=""), delimiter=delimiter))


class TestCsv:
    """The experiment list opens in one column per field wherever it is opened."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_comma_variant_holds_the_same_cells(self, report: Report, lang: str) -> None:
        """csv-comma is the csv list, separated by commas in every language."""
        native = reports.render(report, "csv", lang)
        comma = reports.render(report, "csv-comma", lang)
        assert isinstance(comma, bytes)
        assert comma.startswith(b"\xef\xbb\xbf")
        expected = _rows(native, "," if lang == "en" else ";")
        assert _rows(comma, ",") == expected
        assert {len(row) for row in expected} == {len(COLUMNS)}
        assert comma == native if lang == "en" else comma != native

    def test_a_csv_file_name_means_the_language_separator(
        self, report: Report, tmp_path: Path
    ) -> None:
        """Written by extension, .csv is the csv format; csv-comma has a file name of its own."""
        written = reports.write(report, tmp_path / "list.csv", lang="da")
        assert written.read_bytes() == reports.render(report, "csv", "da")
        assert reports.formats()["csv-comma"].filename == "experiments-comma.csv"


def _experiment_rows(page: str) -> int:
    table = page.split('id="experiment-table"', 1)[1]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


class TestHtmlPage:
    """The page's structure: a table of every experiment, details, one script by hash."""

    def test_the_policy_names_the_one_script_by_its_hash(self, report: Report) -> None:
        """The CSP allows exactly the inline script's SHA-256, and nothing to load or send."""
        page = text_of(reports.render(report, "html", "da"))
        source = page.split("<script>", 1)[1].split("</script>", 1)[0]
        digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()
        assert ("content", policy()) in page_parts(page).attributes
        assert f"script-src 'sha256-{digest}'" in policy()
        for directive in ("default-src 'none'", "base-uri 'none'", "form-action 'none'"):
            assert directive in policy()
        assert "unsafe-eval" not in policy()
        assert "script-src 'unsafe-inline'" not in policy()

    def test_every_experiment_in_the_table_and_in_detail(self, report: Report) -> None:
        """A small programme: a row and an open detail section for each experiment."""
        page = text_of(reports.render(report, "html", "en"))
        assert _experiment_rows(page) == len(report.experiments) <= OPEN_LIMIT
        assert page.count('<article class="experiment"') == len(report.experiments)
        assert page.count('<details class="objective"') == 1
        assert '<details class="objective" id="' in page
        assert " open>" in page
        for experiment in report.experiments:
            assert f'<a href="#{experiment.ref.id}">' in page
            assert f'<article class="experiment" id="{experiment.ref.id}">' in page

    @pytest.mark.parametrize("format_name", ["html", "md"])
    def test_deepest_involvement_shows_its_figures(self, report: Report, format_name: str) -> None:
        """How many went how deep is written out, in the chart as in the Markdown."""
        depth = "informeret\u00a00, h\u00f8rt\u00a03, medskabende\u00a09"
        assert depth in text_of(reports.render(report, format_name, "da"))

    @pytest.mark.parametrize("lang", ["en", "nb"])
    def test_every_time_says_its_moment_in_rfc_3339(self, report: Report, lang: str) -> None:
        """Each <time> has a datetime a machine reads: a date, or a time with its offset."""
        page = text_of(reports.render(report, "html", lang))
        times = re.findall(r"<time( [^>]*)?>", page)
        assert len(times) > 3
        rfc_3339 = r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d(\.\d{6})?(Z|[+-]\d\d:\d\d))?"
        for attributes in times:
            assert re.fullmatch(f' datetime="{rfc_3339}"', attributes or ""), attributes
        assert f'<time datetime="{format_datetime(report.at)}">' in page

    def test_charts_are_never_scaled(self, report: Report) -> None:
        """Charts have no viewBox: their text keeps its size on any screen."""
        page = text_of(reports.render(report, "html", "en"))
        assert "viewBox" not in page
        assert page.count('<svg width="100%" height="') == 4


class TestDetailGroups:
    """Which experiments the page shows in full, and under which objective."""

    def test_each_experiment_once_under_its_first_objective(self) -> None:
        """An experiment of two objectives is under the first in the report's tree."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            top = store.save(Objective(title="Welfare", slug="welfare"))
            child = store.save(Objective(title="Families", parent=top))
            store.save(Experiment(title="Both", objectives=[child, top]))
            store.save(Experiment(title="Families only", objectives=[child]))
            store.save(Experiment(title="Unlinked"))
            whole = reports.build(store, at=municipality.AS_OF)
        found = [
            (None if g.objective is None else g.objective.objective.title, g.total)
            for g in groups(whole)
        ]
        assert found == [("Welfare", 1), ("Families", 1), (None, 1)]
        page = text_of(reports.render(whole, "html", "en"))
        assert "Linked to no objective" in page
        assert page.count('<article class="experiment"') == 3

    @given(st.lists(st.integers(0, 60), max_size=30), st.integers(0, 200))
    def test_the_detail_limit_is_shared_fairly(self, sizes: list[int], limit: int) -> None:
        """As many as the limit allows; groups not shown whole differ by one at most."""
        kept = spread(sizes, limit)
        assert sum(kept) == min(limit, sum(sizes))
        assert all(0 <= k <= size for k, size in zip(kept, sizes, strict=True))
        for k, size in zip(kept, sizes, strict=True):
            if k < size:
                assert max(kept) <= k + 1


@pytest.mark.slow
class TestLargeProgramme:
    """Ten thousand experiments still make a page one can mail and read."""

    @pytest.mark.parametrize("lang", ["en", "da"])
    def test_html_stays_under_three_megabytes(self, large: Report, lang: str) -> None:
        """Every experiment a row, a few hundred in detail, each list cut, under 3 MB."""
        page = text_of(reports.render(large, "html", lang))
        size = len(page.encode("utf-8"))
        print(f"{len(large.experiments)} experiments, {lang}: {size / 1e6:.2f} MB")  # noqa: T201
        assert size < 3_000_000
        assert _experiment_rows(page) == len(large.experiments) == LARGE
        assert page.count('<article class="experiment"') == DETAIL_LIMIT
        assert page.count('<details class="objective"') > 50
        assert '<details class="objective" id="' in page
        assert " open>" not in page
        findings = page.split('<section id="findings">', 1)[1].split("</section>", 1)[0]
        assert findings.count("<li ") <= LIST_LIMIT * 6
        assert len(large.findings or ()) > LIST_LIMIT * 6
        assert page.count('<p class="more">') >= 2


class TestOutsideTools:
    """A browser test without its browser or tools skips on a laptop and fails in CI."""

    @pytest.mark.parametrize(
        ("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)]
    )
    def test_missing_tools(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type
    ) -> None:
        """No axe-core where the tests look: a skip saying how to install it, or a failure."""
        monkeypatch.setenv("CI", ci)
        monkeypatch.setattr(needs, "NODE_MODULES", tmp_path)
        with pytest.raises(outcome, match="npm ci --ignore-scripts"):
            needs.axe_source()
        with pytest.raises(outcome, match="mermaid-cli"):
            needs.mermaid_cli(tmp_path)
        monkeypatch.setattr(needs, "CHROMIUM", tmp_path / "no-chromium")
        with pytest.raises(outcome, match="apt-get install chromium"):
            needs.chromium()


# --- escaping ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_report() -> Report:
    store = hostile_store()
    try:
        return build_report(store, "hostile")
    finally:
        store.close()


class _Tags(HTMLParser):
    """Every start tag of a page, and all of its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def page_parts(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


_NODE = r'(?:\(\["[^"]*"\]\)|\["[^"]*"\]|\{\{"[^"]*"\}\}|>"[^"]*"\]|\{"[^"]*"\})'
_MERMAID_LINE = re.compile(
    rf'    [OEHLD]\d+{_NODE}|    [OEHLD]\d+ --> [OEHLD]\d+|    [OEHLD]\d+ -->\|"[^"]*"\| [OEHLD]\d+'
)


_MERMAID_LABEL = re.compile(r"(?:[\w ,.\-/?!():']|#\d+;)*")
#: Text in the timeline's Gantt chart: what a label may hold, less the colon.
_GANTT_TEXT = r"(?:[\w ,.\-/?!()']|#\d+;)+"
_DAY = r"\d{4}-\d\d-\d\d"
_GANTT_LINE = re.compile(
    rf"    title {_GANTT_TEXT}|    dateFormat YYYY-MM-DD|    axisFormat %Y-%m-%d"
    rf"|    todayMarker off|    section {_GANTT_TEXT}"
    rf"|    {_GANTT_TEXT} :(?:(?:active|done|crit), )*t\d+x?, {_DAY}, {_DAY}"
    rf"|    {_GANTT_TEXT} :milestone, today, {_DAY}, 0d"
)


def check_markdown(markdown: str) -> None:
    """Tables keep their columns, no raw HTML, and the diagrams keep to their grammar."""
    columns = 0
    diagram = ""
    for line in markdown.splitlines():
        if line == "```mermaid":
            diagram = "starting"
            continue
        if diagram:
            if line == "```":
                diagram = ""
                continue
            if diagram == "starting":
                assert line in ("flowchart LR", "gantt"), line
                diagram = line
                continue
            if diagram == "gantt":
                assert _GANTT_LINE.fullmatch(line), line
                continue
            assert _MERMAID_LINE.fullmatch(line), line
            for label in re.findall(r'"([^"]*)"', line):
                assert _MERMAID_LABEL.fullmatch(label), label
            continue
        if line.startswith("| "):
            cells = len(re.findall(r"(?<!\\)\|", line))
            if columns == 0:
                columns = cells
            assert cells == columns, line
        else:
            columns = 0
        assert not re.search(r"(?<!\\)<", line), line
    assert not diagram


class TestHostileText:
    """Whatever a user wrote shows as text in every format and language."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_html_shows_markup_as_text(self, hostile_report: Report, lang: str) -> None:
        """A title '<script>alert(1)</script>' is text; the page holds only its own script."""
        page = text_of(reports.render(hostile_report, "html", lang))
        parts = page_parts(page)
        assert parts.tags.count("script") == 1
        assert not any(name.startswith("on") for name, _ in parts.attributes)
        assert SCRIPT in "".join(parts.text)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert page.lower().count("<script") == 1
        assert f"<script>{html_script()}</script>" in page

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_markdown_tables_and_diagram_hold(self, hostile_report: Report, lang: str) -> None:
        """A '|' or a line break stays inside its cell; no raw HTML; labels cannot escape."""
        markdown = text_of(reports.render(hostile_report, "md", lang))
        check_markdown(markdown)
        assert "left \\| right next line" in markdown
        assert "\\<script\\>alert(1)\\</script\\>" in markdown

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_csv_cells_never_run_as_formulas(self, hostile_report: Report, lang: str) -> None:
        """Quoting holds, and a cell starting with = + - @ is prefixed with an apostrophe."""
        data = reports.render(hostile_report, "csv", lang)
        assert isinstance(data, bytes)
        assert data.startswith(b"\xef\xbb\xbf")
        delimiter = "," if lang == "en" else ";"
        rows = list(
            csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
        )
        assert len(rows) == 1 + len(hostile_report.experiments)
        assert {len(row) for row in rows} == {len(COLUMNS)}
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        titles = {row[1] for row in rows[1:]}
        assert {"'" + f for f in FORMULAS} <= titles
        assert PIPE in titles
        assert SCRIPT in titles

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_json_keeps_text_exactly(
        self,
        hostile_report: Report,
        lang: str,
        schema_validator: jsonschema.Draft202012Validator,
    ) -> None:
        """JSON carries what was written, unchanged, and still fits its schema."""
        document = validate_json(schema_validator, reports.render(hostile_report, "json", lang))
        titles = {e["title"] for e in document["experiments"]}
        assert {SCRIPT, PIPE, *FORMULAS} <= titles


# --- pseudonymity -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def marked() -> Iterator[tuple[Report, Report]]:
    """The programme's report before and after a pseudonymous marker participant joins."""
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        before = build_report(store)
        add_marked_participant(store)
        yield before, build_report(store)


class TestPseudonymity:
    """A pseudonymous participant is counted in every report and named in none."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    @pytest.mark.parametrize("format_name", FORMATS)
    def test_never_named_but_counted(
        self, marked: tuple[Report, Report], format_name: str, lang: str
    ) -> None:
        """The marker name appears nowhere, while the participant counts are one higher."""
        _, after = marked
        rendered = text_of(reports.render(after, format_name, lang))
        assert MARKER not in rendered
        assert MARKER.lower() not in rendered.lower()
        for name in ("Sara M.", "Jens K.", "Fatima A."):  # the example's pseudonymous people
            assert name not in rendered
        assert "Lise Dahl" in rendered or "csv" in format_name

    def test_counts_include_them(self, marked: tuple[Report, Report]) -> None:
        """Participants, critical voices and pseudonymous ones each count them once."""
        before, after = marked
        old, new = before.rollup.total.involvement, after.rollup.total.involvement
        assert new.participants == old.participants + 1
        assert new.critical == old.critical + 1
        assert new.pseudonymous == old.pseudonymous + 1
        art = next(e for e in after.experiments if e.slug == "art-for-families")
        assert art.participants == 7
        voices = [v for x in art.learnings for v in x.voices]
        assert any(v.name is None and v.stance == "critical" for v in voices)


# --- escaping, for any text ---------------------------------------------------------------

#: Any text the model stores: everything but NUL and lone surrogates.
any_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)
#: Text with the characters that matter to the formats, often.
pointed_text = st.text(
    st.one_of(
        st.sampled_from(list("<>&\"'|\\`*_[]{}()#+-.!=@~$^:;%\t\r\n\u2028 ")),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    ),
    max_size=60,
)


def _unescape_markdown(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _unescape_mermaid(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


class TestEscapingFunctions:
    """The escaping rules hold for any text at all."""

    @given(st.one_of(any_text, pointed_text))
    def test_markdown_is_one_line_and_literal(self, text: str) -> None:
        """One line, no unescaped pipe or angle bracket, and it means exactly the text."""
        escaped = _escape.markdown(text)
        assert escaped.splitlines() in ([], [escaped])
        assert not re.search(r"(?<!\\)[|<>`*_\[\]]", escaped.replace("\\\\", ""))
        assert _unescape_markdown(escaped) == _escape.one_line(text)

    @given(st.one_of(any_text, pointed_text))
    def test_mermaid_labels_cannot_escape(self, text: str) -> None:
        """Only plain characters and entity codes; decoded, it is the (shortened) text."""
        label = _escape.mermaid(text, limit=40)
        assert re.fullmatch(r"(?:[\w ,.\-/?!():']|#\d+;)*", label)
        assert _unescape_mermaid(label) == _escape.shorten(text, 40)

    @given(st.one_of(any_text, pointed_text, st.text(" ab", max_size=80)), st.integers(2, 50))
    def test_shortening_cuts_after_a_word(self, text: str, limit: int) -> None:
        """Short text stays whole; long text is cut after a word, with an ellipsis."""
        flat = _escape.one_line(text)
        short = _escape.shorten(text, limit)
        assert len(short) <= limit
        if len(flat) <= limit:
            assert short == flat
            return
        assert short.endswith("\u2026")
        kept = short[:-1]
        assert flat.startswith(kept)
        first_word = flat.split(" ")[0]
        assert len(first_word) >= limit or flat[len(kept)] == " " or kept == ""

    def test_shortening_examples(self) -> None:
        """Whole words up to the limit; a single long word is cut inside."""
        title = "Families offered art afternoons with their children come back"
        assert _escape.shorten(title, 100) == title
        assert _escape.shorten(title, 30) == "Families offered art\u2026"
        assert _escape.shorten("Supercalifragilisticexpialidocious", 10) == "Supercali\u2026"
        assert _escape.mermaid(title) == title  # Mermaid wraps it itself

    @given(st.one_of(any_text, pointed_text), st.integers(4, 40), st.integers(1, 3))
    def test_wrapped_lines(self, text: str, width: int, most: int) -> None:
        """At most ``most`` lines of at most ``width`` characters, the text in its order."""
        wrapped = _escape.lines(text, width, most)
        assert 1 <= len(wrapped) <= most
        assert all(len(line) <= width for line in wrapped)
        shown = "".join(wrapped).replace(" ", "")
        whole = _escape.one_line(text).replace(" ", "")
        assert shown == whole or (shown.endswith("\u2026") and whole.startswith(shown[:-1]))

    def test_no_break_spaces_hold(self) -> None:
        """A figure and its unit stay together where a line may break."""
        assert _escape.one_line("1\u00a0234 \n  families") == "1\u00a0234 families"
        assert _escape.lines("consulted\u00a03, co-creating\u00a09", 14, 3) == [
            "consulted\u00a03,",
            "co-creating\u00a09",
        ]

    @given(st.one_of(any_text, pointed_text))
    def test_csv_cells_round_trip_as_text(self, text: str) -> None:
        """Written and read back, a cell is the text (behind an apostrophe if it could run)."""
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(
            [_escape.spreadsheet(text), "end"]
        )
        (row,) = csv.reader(io.StringIO(buffer.getvalue(), newline=""), delimiter=";")
        cell = row[0]
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell == text or cell == "'" + text

    def test_a_whole_report_of_any_text(
        self, schema_validator: jsonschema.Draft202012Validator
    ) -> None:
        """Titles of any text keep every format's structure in every language."""

        @settings(max_examples=15)
        @given(
            st.lists(
                st.one_of(any_text, pointed_text).filter(lambda t: t.strip()),
                min_size=1,
                max_size=3,
            ),
            st.sampled_from(LANGUAGES),
        )
        def check(titles: list[str], lang: str) -> None:
            with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
                objective = store.save(Objective(title=titles[0], description=titles[-1]))
                for title in titles:
                    experiment = store.save(
                        Experiment(title=title, objectives=[objective], owner=title)
                    )
                    store.save(Hypothesis(experiment=experiment, statement=title))
                report = reports.build(store, objective, at=municipality.AS_OF)
            page = text_of(reports.render(report, "html", lang))
            parts = page_parts(page)
            assert parts.tags.count("script") == 1
            shown = "".join(parts.text)
            assert all(t.strip() in shown or "\r" in t for t in titles)
            check_markdown(text_of(reports.render(report, "md", lang)))
            data = reports.render(report, "csv", lang)
            rows = list(
                csv.reader(
                    io.StringIO(text_of(data), newline=""), delimiter="," if lang == "en" else ";"
                )
            )
            assert len(rows) == 1 + len(titles)
            assert {len(row) for row in rows} == {len(COLUMNS)}
            document = validate_json(schema_validator, reports.render(report, "json", lang))
            assert sorted(e["title"] for e in document["experiments"]) == sorted(
                t.strip() for t in titles
            )

        check()


class TestTimeBoxDays:
    """A time box's dates and its count of days agree in every format and language."""

    @pytest.fixture
    def boxed(self) -> Iterator[Report]:
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            objective = store.save(Objective(title="Welfare", slug="welfare"))
            for title, box in (
                ("April, to midnight", "2026-04-01T00:00:00+00:00/2026-04-30T00:00:00+00:00"),
                ("April, to the evening", "2026-04-01T09:00:00+00:00/2026-04-30T17:00:00+00:00"),
            ):
                store.save(Experiment(title=title, objectives=[objective], time_box=box))
            yield reports.build(store, at="2026-03-01T00:00:00Z")

    def test_a_box_to_midnight_shows_its_last_day(self, boxed: Report) -> None:
        """1 April 00:00 to 30 April 00:00 shows 1 to 29 April and 29 days."""
        english = str(reports.render(boxed, "md"))
        assert "Time box: 1 April 2026 \u2013 29 April 2026 (29 days)" in english
        assert "Time box: 1 April 2026 \u2013 30 April 2026 (30 days)" in english
        danish = str(reports.render(boxed, "html", "da"))
        assert "1. april 2026 \u2013 29. april 2026 (29 dage)" in danish

    def test_the_csv_ends_on_the_day_shown(self, boxed: Report) -> None:
        """The CSV's time box end is the last day the other formats show."""
        rows = list(csv.DictReader(io.StringIO(text_of(reports.render(boxed, "csv-comma")))))
        ends = {row["Experiment"]: row["Time box end"] for row in rows}
        assert ends == {"April, to midnight": "2026-04-29", "April, to the evening": "2026-04-30"}


class TestWhoTookPart:
    """Each experiment says who took part, and the report where everyone recorded is."""

    ART = "Art and culture afternoons for vulnerable families"

    def test_each_experiment_counts_outsiders_frontline_critics_and_departments(
        self, report: Report
    ) -> None:
        """The detail splits an experiment's participants as the roll-up splits them all."""
        art = next(e for e in report.experiments if e.ref.title == self.ART)
        assert (art.participants, art.external, art.frontline, art.critical_voices) == (6, 4, 2, 1)
        assert art.departments == ("Culture and Libraries", "Family Services")

    def test_every_format_shows_the_split(
        self, report: Report, schema_validator: jsonschema.Draft202012Validator
    ) -> None:
        """Markdown and HTML facts, JSON keys and CSV columns all carry it."""
        words = "6, of them 4 from outside, 2 from the front line and 1 with a critical stance"
        assert words in str(reports.render(report, "md"))
        assert words in str(reports.render(report, "html"))
        assert "Departments taking part: Culture and Libraries, Family Services" in str(
            reports.render(report, "md")
        )
        document = validate_json(schema_validator, reports.render(report, "json"))
        art = next(e for e in document["experiments"] if e["title"] == self.ART)
        assert (art["external"], art["frontline"], art["departments"]) == (
            4,
            2,
            ["Culture and Libraries", "Family Services"],
        )
        rows = csv.DictReader(io.StringIO(text_of(reports.render(report, "csv-comma"))))
        row = next(r for r in rows if r["Experiment"] == self.ART)
        assert (row["From outside"], row["From the front line"]) == ("4", "2")
        assert row["Departments taking part"] == "Culture and Libraries; Family Services"

    def test_recorded_participants_say_where_the_others_are(
        self, report: Report, schema_validator: jsonschema.Draft202012Validator
    ) -> None:
        """14 recorded beside 12 taking part: the report says 2 take part in no experiment."""
        assert report.rollup.total.involvement.participants == 12
        assert report.recorded is not None
        assert (report.recorded.recorded, report.recorded.in_no_experiment) == (14, 2)
        markdown = str(reports.render(report, "md"))
        assert "- Participants: 12\n- Participants recorded: 14\n" in markdown
        assert "- Recorded, but taking part in no experiment: 2\n" in markdown
        danish = str(reports.render(report, "html", "da"))
        assert "Registreret, men ikke med i noget eksperiment</dt><dd>2<" in danish
        document = validate_json(schema_validator, reports.render(report, "json"))
        assert document["participants_recorded"] == {
            "recorded": 14,
            "in_no_experiment": 2,
            "only_elsewhere": 0,
        }

    def test_people_only_elsewhere_are_counted_apart(self) -> None:
        """In a report on one objective, those only in other objectives' experiments add up."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            here = store.save(Objective(title="Here", slug="here"))
            there = store.save(Objective(title="There", slug="there"))
            people = [store.save(Participant(role="citizen")) for _ in range(5)]
            for objective, taking_part in ((here, people[:2]), (there, people[1:4])):
                experiment = store.save(Experiment(title=objective.title, objectives=[objective]))
                for person in taking_part:
                    store.save(Participation(experiment=experiment, participant=person))
            scoped = reports.build(store, "here", at="2026-06-01T00:00:00Z")
            whole = reports.build(store, at="2026-06-01T00:00:00Z")
        assert scoped.recorded == reports.RecordedPeople(5, 1, 2)
        assert whole.recorded == reports.RecordedPeople(5, 1, 0)
        assert "Taking part only outside this objective: 2" in str(reports.render(scoped, "md"))
        assert "only outside" not in str(reports.render(whole, "md"))
