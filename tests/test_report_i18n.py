"""The report languages: complete, compiled catalogs, and numbers and dates as CLDR has them."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from hypothesis import given
from hypothesis import strategies as st

import experiments
from experiments import (
    Experiment,
    Objective,
    PluginError,
    Plugins,
    Role,
    ValidationError,
    hookimpl,
    reports,
)
from experiments.asof import AsOf
from experiments.checks import Check, Message, plural, run_checks
from experiments.checks.builtin import BUILTIN_CHECKS
from experiments.model._time import format_datetime
from experiments.model.template import Gap, Need
from experiments.reports import Language, Report
from experiments.reports._common import finding_text, gap
from experiments.reports._labels import CHECKS, LABELS, MOVES
from experiments.reports.i18n import LOCALE_DIR
from experiments.rollup import rollup
from report_programmes import (
    EVERY_CHECK_AT,
    EVERY_CHECK_OPTIONS,
    build_report,
    every_check_store,
    municipality,
)

ROOT = Path(__file__).parents[1]
TRANSLATED = ("da", "nb", "sv")

#: The keywords of `pybabel extract` as docs/reports.md gives them.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "N_": ((1, "c"), 2),
    "counted": (1, 2),
    "finding": None,
    "Message": None,
    "plural": (1, 2),
}


def load(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _plain(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def messages(catalog: Catalog) -> dict[tuple[str | None, object], object]:
    """Each message's translation by (context, id); plural forms as tuples.

    Babel's .mo reader gives contexts as bytes; they are decoded to compare with a .po.
    """
    return {
        (
            m.context.decode("utf-8") if isinstance(m.context, bytes) else m.context,
            _plain(m.id),
        ): _plain(m.string)
        for m in catalog
        if m.id
    }


def _fixed(**length: int) -> dt.timezone:
    """A zone a fixed ``length`` ahead of UTC (behind it where negative)."""
    return dt.timezone(dt.timedelta(**length))


def po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "experiments.po"


class TestCatalogs:
    """The .po sources, the compiled .mo files and the template agree."""

    def test_template_holds_every_message_in_the_code(self) -> None:
        """The template is what extracting the sources gives; re-extract after changes."""
        method_map = [
            ("src/experiments/reports/**.py", "python"),
            ("src/experiments/checks/**.py", "python"),
            ("src/experiments/reports/templates/**.j2", "jinja2"),
        ]
        options = {"src/experiments/reports/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
        found = {
            (context, message if isinstance(message, str) else tuple(message))
            for _, _, message, _, context in extract_from_dir(
                ROOT,
                method_map,
                options,
                keywords=KEYWORDS,
                directory_filter=lambda d: "/." not in d and "/tests" not in d,
            )
        }
        template = set(messages(load(LOCALE_DIR / "experiments.pot")))
        assert found == template, (
            f"missing from the template: {sorted(found - template, key=str)}; "
            f"no longer used: {sorted(template - found, key=str)}; "
            "extract again as docs/reports.md says"
        )

    @pytest.mark.parametrize("lang", TRANSLATED)
    def test_every_message_is_translated(self, lang: str) -> None:
        """Each message of the template has a translation, with the same placeholders."""
        template = set(messages(load(LOCALE_DIR / "experiments.pot")))
        catalog = load(po(lang))
        translated = messages(catalog)
        assert set(translated) == template
        for key, string in translated.items():
            forms = string if isinstance(string, tuple) else (string,)
            assert forms, key
            assert all(form for form in forms), f"{lang}: {key} is not translated"
        assert not [m.id for m in catalog if m.id and m.fuzzy]
        problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
        assert problems == []

    @pytest.mark.parametrize("lang", TRANSLATED)
    def test_compiled_catalog_is_not_stale(self, lang: str) -> None:
        """The shipped .mo holds exactly what its .po says; compile again if not."""
        with po(lang).with_suffix(".mo").open("rb") as file:
            compiled = read_mo(file)
        assert messages(compiled) == messages(load(po(lang))), (
            f"{lang}: experiments.mo is stale; run "
            "'pybabel compile -d src/experiments/reports/locale -D experiments'"
        )

    def test_every_value_has_a_label(self) -> None:
        """Each member of each labelled enumeration has a message."""
        for family, labels in LABELS.items():
            assert issubclass(family, enum.Enum)
            assert set(labels) == {member.value for member in family}, family

    def test_builtin_checks_are_in_the_catalogs(self) -> None:
        """The summaries and moves of the built-in checks can be translated."""
        assert {message for _, message in CHECKS} == {c.summary for c in BUILTIN_CHECKS}
        assert {message for _, message in MOVES} == {c.move for c in BUILTIN_CHECKS}


def _babel_number(value: float, lang: str) -> str:
    return format_decimal(value, format="#,##0.##", locale=lang)


def _normalised(text: str) -> str:
    """Babel writes a hyphen for the minus sign and keeps "-0"; the reports do neither."""
    text = text.replace("\u2212", "-")
    return text[1:] if text.startswith("-") and not text.strip("-0.,\u00a0") else text


class TestNumbersAndDates:
    """Numbers and dates are written as the Common Locale Data Repository has them."""

    @pytest.mark.parametrize(
        ("lang", "number", "share", "date"),
        [
            ("en", "1,234.5", "45%", "27 November 2026"),
            ("da", "1.234,5", "45\u00a0%", "27. november 2026"),
            ("nb", "1\u00a0234,5", "45\u00a0%", "27. november 2026"),
            ("sv", "1\u00a0234,5", "45\u00a0%", "27 november 2026"),
        ],
    )
    def test_examples(self, lang: str, number: str, share: str, date: str) -> None:
        """Decimal comma, thousands separators, percent and long dates per language."""
        language = Language.load(lang)
        assert language.number(1234.5) == number
        assert language.percent(0.4545) == share
        assert language.date(dt.date(2026, 11, 27)) == date

    def test_minus_and_time(self) -> None:
        """Norwegian and Swedish write a true minus sign; times are 24-hour."""
        assert Language.load("sv").number(-3.5) == "\u22123,5"
        assert Language.load("da").number(-3.5) == "-3,5"
        moment = dt.datetime(2026, 11, 27, 14, 5, tzinfo=dt.UTC)
        assert Language.load("da").datetime(moment) == "27. november 2026 kl. 14:05 (UTC)"
        assert Language.load("en").datetime(moment) == "27 November 2026, 14:05 (UTC)"

    @pytest.mark.parametrize(
        ("lang", "zone", "text"),
        [
            ("da", ZoneInfo("Europe/Copenhagen"), "27. november 2026 kl. 15:05 (UTC+01:00)"),
            ("en", ZoneInfo("Asia/Kolkata"), "27 November 2026, 19:35 (UTC+05:30)"),
            ("en", ZoneInfo("America/St_Johns"), "27 November 2026, 10:35 (UTC-03:30)"),
            ("sv", ZoneInfo("America/St_Johns"), "27 november 2026 kl. 10:35 (UTC\u221203:30)"),
            ("nb", ZoneInfo("Europe/London"), "27. november 2026 kl. 14:05 (UTC)"),
            # Offsets of seconds, as a zone's local mean time before about 1900 had
            # (Amsterdam's was 19 minutes 32 seconds ahead): shown in UTC.
            (
                "en",
                dt.timezone(dt.timedelta(minutes=19, seconds=32)),
                "27 November 2026, 14:05 (UTC)",
            ),
            (
                "da",
                dt.timezone(-dt.timedelta(hours=1, seconds=1)),
                "27. november 2026 kl. 14:05 (UTC)",
            ),
        ],
    )
    def test_a_time_says_its_clock(self, lang: str, zone: dt.tzinfo, text: str) -> None:
        """A time names its offset from UTC, so a reader elsewhere knows the moment, and
        is on the clock its RFC 3339 text (a ``<time>``'s ``datetime``) shows."""
        moment = dt.datetime(2026, 11, 27, 14, 5, tzinfo=dt.UTC).astimezone(zone)
        assert Language.load(lang).datetime(moment) == text
        shown = format_datetime(pendulum.instance(moment))
        assert shown[11:16] == text.split(" ")[-2][-5:]  # the same wall clock

    @pytest.mark.parametrize("lang", ["en", "da", "nb", "sv"])
    def test_numbers_agree_with_babel(self, lang: str) -> None:
        """For any number, the same text as Babel's CLDR formatting."""
        language = Language.load(lang)

        @given(
            st.one_of(
                st.integers(min_value=-(10**15), max_value=10**15),
                st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
                st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False).map(
                    float
                ),
            )
        )
        def check(value: float) -> None:
            assert _normalised(language.number(value)) == _normalised(_babel_number(value, lang))

        check()

    @pytest.mark.parametrize("lang", ["en", "da", "nb", "sv"])
    def test_percentages_agree_with_babel(self, lang: str) -> None:
        """For any share, the same whole percentage as Babel's."""
        language = Language.load(lang)

        @given(st.floats(min_value=0, max_value=1))
        def check(share: float) -> None:
            expected = format_percent(decimal.Decimal(str(share)), locale=lang)
            assert language.percent(share) == expected

        check()

    @pytest.mark.parametrize(
        ("lang", "pattern"),
        [("en", "d MMMM y"), ("da", "d. MMMM y"), ("nb", "d. MMMM y"), ("sv", "d MMMM y")],
    )
    def test_dates_agree_with_babel(self, lang: str, pattern: str) -> None:
        """Every month's name is the CLDR one, without an operating-system locale."""
        language = Language.load(lang)

        @given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
        def check(day: dt.date) -> None:
            assert language.date(day) == format_date(day, pattern, locale=lang)

        check()

    def test_unknown_language(self) -> None:
        """The error says which languages there are."""
        with pytest.raises(ValidationError, match="choose one of en, da, nb, sv"):
            Language.load("de")


def _untranslated(lang: Language, message: Message) -> list[str]:
    """The message ids in ``message`` (nested ones too) the language's catalogs lack."""
    if message.plural:
        found = lang.ngettext(message.text, message.plural, 1) != message.text
    else:
        found = lang.gettext(message.text) != message.text
    missing = [] if found else [message.text]
    for _, value in message.values:
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, Message):
                missing += _untranslated(lang, item)
    return missing


@pytest.fixture(scope="module")
def programmes() -> Iterator[list[Report]]:
    """The municipality's report and the report of a programme that trips the other checks."""
    with (
        experiments.connect("memory://i18n-example", plugins=Plugins(autoload=False)) as example,
        every_check_store() as others,
    ):
        municipality.record_programme(example)
        view = AsOf(others, at=EVERY_CHECK_AT)
        found = run_checks(view, options=EVERY_CHECK_OPTIONS)
        yield [build_report(example), reports.gather(others, rollup(view), found)]


class TestTranslatedFindings:
    """Every finding of a built-in check is written in the report's language, in full."""

    @pytest.mark.parametrize(
        ("lang", "role", "text"),
        [
            ("en", Role.FRONTLINE_EMPLOYEE, "a participant whose role is frontline employee"),
            ("da", Role.CITIZEN, "en deltager i rollen som borger"),
            ("nb", Role.FRONTLINE_EMPLOYEE, "en deltaker i rollen som ansatt i førstelinjen"),
            ("en", Role.OTHER, "someone in another role"),
            ("sv", Role.OTHER, "en deltagare i en annan roll"),
        ],
    )
    def test_a_missing_role_reads_as_a_phrase(self, lang: str, role: Role, text: str) -> None:
        """What a template misses, a role, reads as words; "other" is no role to name."""
        assert gap(Language.load(lang), Gap(Need.ROLE, role=role)) == text

    def test_the_programmes_trip_every_builtin_check(self, programmes: list[Report]) -> None:
        """Between them the two programmes give a finding of each built-in check."""
        tripped = {f.check for report in programmes for f in report.findings or ()}
        assert {c.id for c in BUILTIN_CHECKS} <= tripped

    @pytest.mark.parametrize("lang", TRANSLATED)
    def test_no_finding_falls_back_to_english(self, programmes: list[Report], lang: str) -> None:
        """Each finding's message and every message in its values has a translation."""
        language = Language.load(lang)
        for report in programmes:
            for finding in report.findings or ():
                assert finding.wording is not None, finding.check
                assert _untranslated(language, finding.wording) == [], finding.check

    @pytest.mark.parametrize("lang", TRANSLATED)
    @pytest.mark.parametrize("format_name", ["md", "html"])
    def test_reports_show_the_translation_not_the_english(
        self, programmes: list[Report], lang: str, format_name: str
    ) -> None:
        """The page holds each finding's translated text and none of its English message."""
        language = Language.load(lang)
        for report in programmes:
            page = html.unescape(str(reports.render(report, format_name, lang)))
            page = page.replace("\\", "")  # Markdown's escapes
            for finding in report.findings or ():
                assert finding_text(language, finding).replace("\\", "") in page
                assert finding.message not in page, finding.check

    def test_figures_and_dates_are_written_the_language_s_way(
        self, programmes: list[Report]
    ) -> None:
        """Percentages, dates and day counts follow the language; plurals agree."""
        behind = next(
            f for f in programmes[0].findings or () if f.check == "follow-up/key-result-behind"
        )
        assert "33%" in finding_text(Language.load("en"), behind)
        assert "33\u00a0%" in finding_text(Language.load("da"), behind)
        assert "25. november 2026" in finding_text(Language.load("da"), behind)
        overdue = next(f for f in programmes[0].findings or () if f.check == "follow-up/overdue")
        assert "45 dage efter" in finding_text(Language.load("da"), overdue)
        assert "45 dagar efter" in finding_text(Language.load("sv"), overdue)
        assert "45 dager etter" in finding_text(Language.load("nb"), overdue)

    def test_english_message_is_the_wording_filled_in(self, programmes: list[Report]) -> None:
        """A finding's ``message`` is its wording in plain English, for API users and logs."""
        for report in programmes:
            for finding in report.findings or ():
                assert finding.wording is not None
                assert finding.message == str(finding.wording)


#: A plugin's check, whose words its own catalog translates into Danish.
_PLUGIN_MESSAGE = "has %(count)s open question"
_PLUGIN_PLURAL = "has %(count)s open questions"


class _CatalogPlugin:
    """A check plugin that ships a gettext catalog of its own."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @hookimpl
    def register_catalogs(self, register: Any) -> None:
        register(self.directory, "questions_checks")

    @hookimpl
    def register_checks(self, register: Any) -> None:
        def run(context: Any, options: Any) -> Any:
            for experiment in context.experiments:
                yield QUESTIONS.finding(
                    plural(_PLUGIN_MESSAGE, _PLUGIN_PLURAL, count=3, since=experiment.created_at),
                    experiment,
                )

        QUESTIONS = Check(  # noqa: N806 - a check, named as the built-in ones are
            "questions/open",
            "warning",
            "Ask open questions",
            "An experiment with open questions.",
            run,
        )
        register(QUESTIONS)


def _write_catalog(directory: Path) -> None:
    """The plugin's Danish catalog, compiled to a .mo file as ``pybabel compile`` does."""
    catalog = Catalog(locale="da", domain="questions_checks")
    catalog.add(
        (_PLUGIN_MESSAGE, _PLUGIN_PLURAL),
        ("har %(count)s åbent spørgsmål", "har %(count)s åbne spørgsmål"),
    )
    catalog.add(
        "An experiment with open questions.", "Et eksperiment med åbne spørgsmål.", context="check"
    )
    catalog.add("Ask open questions", "Stil åbne spørgsmål", context="brave move")
    target = directory / "da" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "questions_checks.mo").open("wb") as file:
        write_mo(file, catalog)


class TestPluginCatalogs:
    """A check plugin translates its own findings through the register_catalogs hook."""

    def test_a_plugin_s_findings_are_translated_by_its_catalog(self, tmp_path: Path) -> None:
        """The plugin's .mo translates its message, summary and move."""
        _write_catalog(tmp_path)
        plugins = Plugins(autoload=False, plugins=[_CatalogPlugin(tmp_path)])
        with experiments.connect("memory://catalogs", plugins=plugins) as store:
            objective = store.save(Objective(title="Welfare", slug="welfare"))
            store.save(Experiment(title="Walks", objectives=[objective]))
            report = reports.build(store, at="2026-06-01T00:00:00Z")
            danish = str(reports.render(report, "md", "da", plugins=plugins))
            english = str(reports.render(report, "md", "en", plugins=plugins))
            swedish = str(reports.render(report, "md", "sv", plugins=plugins))
        assert "*Walks* har 3 åbne spørgsmål" in danish
        assert "### Stil åbne spørgsmål" in danish
        assert "*Walks* has 3 open questions" in english
        assert "*Walks* has 3 open questions" in swedish  # no Swedish catalog: its English
        (finding,) = [f for f in report.findings or () if f.check == "questions/open"]
        assert [c.domain for c in finding.catalogs] == ["questions_checks"]

    def test_the_built_in_catalog_still_translates_the_rest(self, tmp_path: Path) -> None:
        """A plugin's catalog comes first, and the library's own catalog still answers."""
        _write_catalog(tmp_path)
        plugins = Plugins(autoload=False, plugins=[_CatalogPlugin(tmp_path)])
        (catalog,) = plugins.catalogs().values()
        danish = Language.load("da").with_catalogs([catalog])
        assert danish.gettext("What the checks found") == "Hvad tjekkene fandt"
        assert (
            danish.ngettext(_PLUGIN_MESSAGE, _PLUGIN_PLURAL, 1) == "har %(count)s åbent spørgsmål"
        )

    def test_a_missing_directory_or_a_clash_is_a_plugin_error(self, tmp_path: Path) -> None:
        """A catalog directory that does not exist, or a domain taken twice, is refused."""
        plugins = Plugins(autoload=False, plugins=[_CatalogPlugin(tmp_path / "missing")])
        with pytest.raises(PluginError, match="does not exist"):
            plugins.catalogs()
        _write_catalog(tmp_path)
        twice = Plugins(
            autoload=False, plugins=[_CatalogPlugin(tmp_path), _CatalogPlugin(tmp_path)]
        )
        with pytest.raises(PluginError, match="gettext domain 'questions_checks' is registered"):
            twice.catalogs()
