"""The languages reports are written in: gettext catalogs, numbers and dates.

Labels come from the gettext catalogs shipped in ``experiments/reports/locale``.
Numbers and dates are formatted here, from a few symbols per language and month names
from the catalogs, so that a report looks the same on every machine: operating-system
locales are not needed (a fresh machine or container rarely has them).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import gettext
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from experiments.errors import ReportError, ValidationError
from experiments.model._time import offset_text, shown_clock
from experiments.reports._labels import MONTHS, label_of

if TYPE_CHECKING:
    from experiments.plugins import CatalogInfo

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "Language"]

#: The languages reports can be written in, English first.
LANGUAGES: Final = ("en", "da", "nb", "sv")

#: The gettext domain and where its catalogs live.
DOMAIN: Final = "experiments"
LOCALE_DIR: Final = Path(__file__).parent / "locale"

_ALIASES: Final = {"no": "nb", "nob": "nb", "dan": "da", "swe": "sv", "eng": "en"}

# Decimal mark, thousands separator, minus sign and percent pattern, as the Common
# Locale Data Repository has them (U+00A0 is a no-break space, U+2212 the minus sign).
_NUMBERS: Final = {
    "en": (".", ",", "-", "{}%"),
    "da": (",", ".", "-", "{}\u00a0%"),
    "nb": (",", "\u00a0", "\u2212", "{}\u00a0%"),
    "sv": (",", "\u00a0", "\u2212", "{}\u00a0%"),
}

_CONTEXT: Final = decimal.Context(prec=400, rounding=decimal.ROUND_HALF_EVEN)


def _code(language: str) -> str:
    if not isinstance(language, str):
        raise ValidationError(
            f"report language must be text such as 'da'; got {type(language).__name__}"
        )
    base = language.strip().lower().replace("_", "-").split("-")[0]
    code = _ALIASES.get(base, base)
    if code not in LANGUAGES:
        raise ValidationError(
            f"unknown report language {language!r}; choose one of {', '.join(LANGUAGES)}"
        )
    return code


@functools.cache
def _translations(code: str) -> gettext.NullTranslations:
    if code == "en":
        return gettext.NullTranslations()  # the messages are English
    try:
        return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[code])
    except OSError as exc:
        raise ReportError(
            f"the {code!r} catalog is missing from {LOCALE_DIR} ({exc}); reinstall "
            "strategy-experiments, or in a clone compile the catalogs with "
            "'pybabel compile -d src/experiments/reports/locale -D experiments'"
        ) from exc


@functools.cache
def _chained(code: str, catalogs: tuple[tuple[str, str], ...]) -> gettext.NullTranslations:
    """The library's catalog for ``code`` behind the plugins' catalogs (directory, domain)."""
    own = _translations(code)
    if code == "en" or not catalogs:
        return own
    chain = [
        gettext.translation(domain, localedir=directory, languages=[code], fallback=True)
        for directory, domain in catalogs
    ]
    first = chain[0]  # gettext.translation returns a fresh copy: chaining changes no cache
    for later in (*chain[1:], own):
        first.add_fallback(later)
    return first


class Language:
    """One language of reports: its messages, and how it writes numbers and dates.

    Report formats get one of these to render with; ``Language.load("da")`` makes one.
    """

    __slots__ = ("code", "translations")

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        self.code = code
        self.translations = translations

    @classmethod
    def load(cls, language: str = "en") -> Language:
        """The language for a code such as ``"da"``, ``"nb-NO"``, ``"no"`` or ``"sv_SE"``.

        Raises:
            ValidationError: a language reports are not written in.
        """
        code = _code(language)
        return cls(code, _translations(code))

    def __repr__(self) -> str:
        return f"Language({self.code!r})"

    def with_catalogs(self, catalogs: Iterable[CatalogInfo]) -> Language:
        """This language, looking messages up in ``catalogs`` first, then in its own.

        ``catalogs`` are what plugins registered through the ``register_catalogs`` hook
        (:meth:`experiments.plugins.Plugins.catalogs`); a catalog without this language
        is passed over.
        """
        keys = tuple((str(c.directory), c.domain) for c in catalogs)
        return self if not keys else Language(self.code, _chained(self.code, keys))

    # --- messages -------------------------------------------------------------------

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def label(self, value: enum.Enum) -> str:
        """The word for a status, outcome, role, stance and so on."""
        context, message = label_of(value)
        return self.pgettext(context, message) if context else message

    def counted(self, singular: str, plural: str, n: int) -> str:
        """``"%(count)s experiment"`` and its plural, filled in with ``n`` formatted."""
        return self.ngettext(singular, plural, n) % {"count": self.number(n)}

    # --- numbers --------------------------------------------------------------------

    def number(self, value: float, decimals: int = 2) -> str:
        """A number with at most ``decimals`` digits after the mark, trailing zeros cut."""
        if not isinstance(value, int) and not math.isfinite(value):
            return str(value)
        mark, group, minus, _ = _NUMBERS[self.code]
        exact = decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(str(value))
        rounded = exact.quantize(decimal.Decimal(1).scaleb(-decimals), context=_CONTEXT)
        whole, _, fraction = f"{abs(rounded):f}".partition(".")
        fraction = fraction.rstrip("0")
        groups: list[str] = []
        while len(whole) > 3:  # noqa: PLR2004 - thousands
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        text = group.join(groups) + (mark + fraction if fraction else "")
        return minus + text if rounded < 0 else text

    def fixed(self, value: float, decimals: int) -> str:
        """A number with exactly ``decimals`` digits after the mark: "3.0", "3,5", "-0,3"."""
        mark, _, minus, _ = _NUMBERS[self.code]
        exact = decimal.Decimal(str(value))
        rounded = exact.quantize(decimal.Decimal(1).scaleb(-decimals), context=_CONTEXT)
        whole, _, fraction = f"{abs(rounded):f}".partition(".")
        text = self.number(int(whole)) + (mark + fraction if decimals else "")
        return minus + text if rounded < 0 else text

    def percent(self, share: float) -> str:
        """A share (0.25) as a whole percentage ("25 %" in Danish, "25%" in English)."""
        value = decimal.Decimal(str(share)) * 100
        rounded = int(value.quantize(decimal.Decimal(1), context=_CONTEXT))
        return _NUMBERS[self.code][3].format(self.number(rounded))

    # --- dates ----------------------------------------------------------------------

    def month(self, month: int) -> str:
        """The name of a month (1-12), written as it is inside a date."""
        return self.pgettext(*MONTHS[month - 1])

    def date(self, moment: dt.date) -> str:
        """A date written out: "27. november 2026", "27 November 2026"."""
        pattern = self.pgettext("date", "%(day)s %(month)s %(year)s")
        return pattern % {
            "day": moment.day,
            "month": self.month(moment.month),
            "year": moment.year,
        }

    def datetime(self, moment: dt.datetime) -> str:
        """A date and a 24-hour time on a stated clock: "27. november 2026 kl. 12:00
        (UTC+01:00)".

        The offset tells a reader in another zone (or a report made on a server that
        keeps UTC) which moment it is. The clock is the one the time's RFC 3339 text
        shows (``model._time.shown_clock``); a negative offset takes
        the language's minus sign.
        """
        moment, seconds = shown_clock(moment)
        time = f"{moment:%H:%M}"
        if seconds is not None:
            offset = offset_text(seconds, minus=_NUMBERS[self.code][2]) if seconds else ""
            time += f" (UTC{offset})"
        pattern = self.pgettext("date and time", "%(date)s, %(time)s")
        return pattern % {"date": self.date(moment), "time": time}
