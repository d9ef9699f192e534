"""The report languages: complete, compiled catalogs, and numbers and dates as CLDR has them."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from hypothesis import given
from hypothesis import strategies as st

from experiments import ValidationError
from experiments.checks.builtin import BUILTIN_CHECKS
from experiments.reports import Language
from experiments.reports._labels import CHECKS, LABELS, MOVES
from experiments.reports.i18n import LOCALE_DIR

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


def po(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "experiments.po"


class TestCatalogs:
    """The .po sources, the compiled .mo files and the template agree."""

    def test_template_holds_every_message_in_the_code(self) -> None:
        """The template is what extracting the sources gives; re-extract after changes."""
        method_map = [
            ("src/experiments/reports/**.py", "python"),
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
        assert Language.load("da").datetime(moment) == "27. november 2026 kl. 14:05"
        assert Language.load("en").datetime(moment) == "27 November 2026, 14:05"

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
