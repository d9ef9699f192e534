"""The shared vocabulary: terms, their agreed definitions, and departments' own readings.

Leaders and departments often mean different things by the same word without knowing
it.  A :class:`Term` is a word of the organisation's shared vocabulary (*felles
begrepsapparat*); once a workshop agrees what it means, its definitions per language,
who agreed them and when are stored on it, and every later agreement is a new version,
so the history of what the word meant stays readable.  Until then each department may
record what it means by the word as an :class:`Interpretation`: two of them that say
different things are competing definitions.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterable, Mapping
from typing import ClassVar, Final

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import Unfit, named_errors, shorten
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, instant_key, now
from experiments.model._validate import (
    to_datetime,
    to_enum,
    to_names,
    to_optional_datetime,
    to_optional_name,
    to_ref,
    to_text,
    to_title,
    unfit_text,
)
from experiments.model.asof import metric_key

__all__ = [
    "Interpretation",
    "LanguageCode",
    "Term",
    "competing",
    "name_key",
]


class LanguageCode(enum.StrEnum):
    """The languages a term is defined in: those reports are written in."""

    EN = "en"
    DA = "da"
    NB = "nb"
    SV = "sv"


#: The language codes, English first.
LANGUAGE_CODES: Final = tuple(code.value for code in LanguageCode)


def name_key(name: str) -> str:
    """What two spellings of one department's (or level's) name have in common.

    Case and spacing do not matter, as for the names of metrics
    (:func:`~experiments.model.asof.metric_key`): "Home care" and "home  Care" are one
    department.
    """
    return metric_key(name)


_NONE: Final[Mapping[str, str]] = types.MappingProxyType({})


def _to_language(value: LanguageCode | str) -> LanguageCode:
    return to_enum(LanguageCode, value)


def _to_definitions(value: Mapping[LanguageCode | str, str] | None) -> Mapping[str, str]:
    """Definitions by language code, in the order en, da, nb, sv; blank ones left out."""
    given: object = value
    if given is None:
        return _NONE
    if not isinstance(given, Mapping):
        raise Unfit(
            "must be a mapping of language code to definition, e.g. {'en': '...', 'da': '...'}",
            type_error=True,
        )
    found: dict[str, str] = {}
    for key, text in given.items():
        try:
            code = _to_language(key).value
        except Unfit:
            raise Unfit(
                f"has the language {shorten(key)}; give one of {', '.join(LANGUAGE_CODES)}"
            ) from None
        if not isinstance(text, str):
            raise Unfit(f"holds a definition for {code!r} that is not text", type_error=True)
        if (reason := unfit_text(text)) is not None:
            raise Unfit(f"holds a definition for {code!r} that {reason}")
        if code in found:
            raise Unfit(f"gives two definitions for {code!r}")
        if text.strip():
            found[code] = text.strip()
    return types.MappingProxyType({code: found[code] for code in LANGUAGE_CODES if code in found})


def _definitions_key(value: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(value.items())


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Term(Record):
    """A word of the shared vocabulary and, once agreed, what it means in each language.

    ``definitions`` maps a language code (``en``, ``da``, ``nb``, ``sv``) to the agreed
    definition; ``agreed_by`` says who agreed it (a workshop, a leadership group, names)
    and ``agreed_at`` when.  A term without definitions is used but not agreed yet; a new
    agreement is made with :meth:`agree`, which returns the next version.  Objectives,
    experiments and questionnaire items name the terms they use.
    """

    kind: ClassVar[str] = "term"
    id_prefix: ClassVar[str] = "trm"

    word: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    definitions: Mapping[str, str] = attrs.field(
        default=_NONE, converter=_to_definitions, eq=_definitions_key
    )
    agreed_by: tuple[str, ...] = attrs.field(default=(), converter=to_names)
    agreed_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.definitions and self.agreed_at is None:
            raise ValidationError(
                f"Term {self.word!r} has definitions but no agreed_at; say when they were "
                "agreed (agreed_at=...), or use Term.agree()"
            )
        if self.agreed_at is not None and not self.definitions:
            raise ValidationError(
                f"Term {self.word!r} has agreed_at but no definitions; give the agreed "
                "definition in at least one language (definitions={'en': '...'})"
            )

    @property
    def agreed(self) -> bool:
        """Whether this version holds an agreed definition (at whatever moment)."""
        return self.agreed_at is not None

    def agree(
        self,
        definitions: Mapping[LanguageCode | str, str],
        *,
        by: Iterable[str] = (),
        at: DateTimeLike | None = None,
    ) -> Term:
        """The next version, with ``definitions`` agreed by ``by`` at ``at`` (default now).

        The definitions replace the earlier ones whole; the earlier agreement stays in
        the term's history, and a report as of an earlier moment still shows it.
        """
        return attrs.evolve(
            self,
            definitions=definitions,
            agreed_by=tuple(by) if not isinstance(by, str) else (by,),
            agreed_at=now() if at is None else at,
        )

    def definition(self, language: LanguageCode | str) -> tuple[str, str] | None:
        """(language, text) of the definition in ``language``, else in English, else any.

        None while nothing is agreed.
        """
        try:
            code = _to_language(language).value
        except Unfit as unfit:
            raise unfit.error("Term.definition() language", language) from None
        for candidate in (code, LanguageCode.EN.value, *self.definitions):
            if candidate in self.definitions:
                return candidate, self.definitions[candidate]
        return None


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Interpretation(Record):
    """What one department means by a term, in its own words, before one is agreed.

    One per department and language: recording it again is a new version of the same
    interpretation, so its history shows how the department's reading moved.
    """

    kind: ClassVar[str] = "interpretation"
    id_prefix: ClassVar[str] = "itp"

    term: str = attrs.field(converter=to_ref)
    department: str = attrs.field(converter=to_title)
    text: str = attrs.field(converter=to_title)
    language: LanguageCode = attrs.field(default=LanguageCode.EN, converter=_to_language)
    stated_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    stated_by: str | None = attrs.field(default=None, converter=to_optional_name)

    def natural_key(self) -> str | None:
        if self.slug is not None:
            return self.slug
        return f"{self.term}/{name_key(self.department)}/{self.language.value}"


def competing(interpretations: Iterable[Interpretation]) -> tuple[str, ...]:
    """The departments whose readings of one term compete, or () if they do not.

    Readings compete when at least two departments have one and they do not all say
    the same thing (case and spacing aside).  The departments come in the order of
    their names; each once, however many languages it wrote in.
    """
    departments: dict[str, str] = {}
    readings: set[tuple[str, str]] = set()
    for reading in interpretations:
        departments.setdefault(name_key(reading.department), reading.department)
        readings.add((reading.language.value, " ".join(reading.text.casefold().split())))
    if len(departments) < 2 or len(readings) < 2:  # noqa: PLR2004 - "competing" takes two
        return ()
    return tuple(sorted(departments.values(), key=lambda name: (name.casefold(), name)))
