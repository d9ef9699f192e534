"""The shared vocabulary of a scope as of a moment: a glossary, and recording it.

::

    from experiments import vocabulary

    vocabulary.interpret(store, "citizen", "Home Care", "Whoever we visit at home")
    vocabulary.agree(
        store,
        "citizen",
        {"en": "Everyone the municipality serves", "da": "Alle kommunen betjener"},
        by=["Leadership workshop"],
        at="2026-10-01T15:00:00+02:00",
    )
    for entry in vocabulary.glossary(store, "welfare-in-100-days").entries:
        print(entry.word, entry.definition("da"))

:func:`glossary` lists the terms a scope uses (the whole strategy: every term) with the
definitions in force at the moment, or, until one is agreed, what each department
means by it; it reads through the same :class:`~experiments.asof.AsOf` view as the
roll-up, the checks and the reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.mental_models import mental_models
from experiments.model import Interpretation, LanguageCode, Term
from experiments.model._time import DateTimeLike, now
from experiments.model.vocabulary import competing
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.asof import AsOf
    from experiments.model import Objective, Record
    from experiments.stores import Store

__all__ = [
    "Glossary",
    "GlossaryEntry",
    "Reading",
    "agree",
    "glossary",
    "interpret",
    "of_view",
]


@attrs.frozen
class Reading:
    """What one department means by a term, in its own words, as of the moment."""

    department: str
    language: LanguageCode
    text: str
    stated_at: pendulum.DateTime


@attrs.frozen
class GlossaryEntry:
    """A term with what it means at the moment, and who in the scope uses it.

    ``definitions`` are the agreed ones in force (language code to text; empty until
    agreed), ``agreed_by`` and ``agreed_at`` the agreement's.  ``readings`` are the
    departments' own; ``competing`` names the departments whose readings differ while
    nothing is agreed.  ``used_by`` are the objectives, experiments and items in scope
    that use it.
    """

    term: Ref
    slug: str | None
    description: str
    definitions: Mapping[str, str]
    agreed_by: tuple[str, ...]
    agreed_at: pendulum.DateTime | None
    readings: tuple[Reading, ...]
    competing: tuple[str, ...]
    used_by: tuple[Ref, ...]

    @property
    def word(self) -> str:
        return self.term.title

    @property
    def agreed(self) -> bool:
        """Whether a definition is agreed at the moment."""
        return bool(self.definitions)

    @property
    def defined(self) -> bool:
        """Whether anything says what it means (an agreed definition or a department's)."""
        return self.agreed or bool(self.readings)

    def definition(self, language: str) -> tuple[str, str] | None:
        """(language, text) of the agreed definition in ``language``, else English, else any."""
        for code in (language, LanguageCode.EN.value, *self.definitions):
            if code in self.definitions:
                return code, self.definitions[code]
        return None


@attrs.frozen
class Glossary:
    """The terms of a scope at a moment, by word; and those it uses that are gone.

    ``missing`` holds, for each term id the scope names that is deleted or not in the
    store, the records that name it.
    """

    at: pendulum.DateTime
    scope: Ref | None
    entries: tuple[GlossaryEntry, ...]
    missing: tuple[tuple[str, tuple[Ref, ...]], ...] = ()

    def entry(self, term: str) -> GlossaryEntry | None:
        """The entry of a term by its id, slug or word, if the glossary has it."""
        for entry in self.entries:
            if term in (entry.term.id, entry.slug, entry.word):
                return entry
        return None

    @property
    def undefined(self) -> tuple[GlossaryEntry, ...]:
        """Terms the scope uses that nothing defines at the moment."""
        return tuple(e for e in self.entries if e.used_by and not e.defined)

    @property
    def contested(self) -> tuple[GlossaryEntry, ...]:
        """Terms whose departments' readings compete, nothing agreed yet."""
        return tuple(e for e in self.entries if e.competing)

    def to_data(self) -> dict[str, Any]:
        """The glossary as JSON-compatible data: the JSON report's ``vocabulary`` section."""
        return {
            "terms": [_entry_data(e) for e in self.entries],
            "missing": [
                {"id": term, "used_by": [_ref_data(r) for r in users]}
                for term, users in self.missing
            ],
        }


def _ref_data(ref: Ref) -> dict[str, str]:
    return {"id": ref.id, "title": ref.title}


def _entry_data(entry: GlossaryEntry) -> dict[str, Any]:
    return {
        "id": entry.term.id,
        "slug": entry.slug,
        "word": entry.word,
        "description": entry.description,
        "agreed": entry.agreed,
        "definitions": dict(entry.definitions),
        "agreed_by": list(entry.agreed_by),
        "agreed_at": None if entry.agreed_at is None else entry.agreed_at.isoformat(),
        "readings": [
            {
                "department": r.department,
                "language": r.language.value,
                "text": r.text,
                "stated_at": r.stated_at.isoformat(),
            }
            for r in entry.readings
        ],
        "competing": list(entry.competing),
        "used_by": [_ref_data(r) for r in entry.used_by],
    }


def _ref(record: Record) -> Ref:
    title = getattr(record, "title", None) or getattr(record, "statement", None) or record.id
    return Ref(record.id, str(title))


def of_view(view: AsOf) -> Glossary:
    """The glossary of an :class:`~experiments.asof.AsOf` view's scope and moment."""
    models = mental_models(view)
    zone = view.at.timezone or pendulum.UTC
    entries = []
    for term in models.terms:
        agreed = models.agreed(term)
        in_force = models.interpretations(term)
        readings = tuple(
            Reading(r.department, r.language, r.text, r.stated_at.in_timezone(zone))
            for r in in_force
        )
        entries.append(
            GlossaryEntry(
                term=Ref(term.id, term.word),
                slug=term.slug,
                description=term.description,
                definitions=dict(agreed.definitions) if agreed is not None else {},
                agreed_by=agreed.agreed_by if agreed is not None else (),
                agreed_at=(
                    None
                    if agreed is None or agreed.agreed_at is None
                    else agreed.agreed_at.in_timezone(zone)
                ),
                readings=readings,
                competing=() if agreed is not None else competing(in_force),
                used_by=tuple(_ref(r) for r in models.users.get(term.id, ())),
            )
        )
    missing = tuple(
        (term, tuple(_ref(r) for r in users))
        for term, users in sorted(models.missing_terms().items())
    )
    return Glossary(at=view.at, scope=view.scope, entries=tuple(entries), missing=missing)


def glossary(
    source: AsOf | Store,
    objective: Objective | str | None = None,
    *,
    at: DateTimeLike | None = None,
) -> Glossary:
    """The terms a scope uses, with what they mean as of a moment.

    Args:
        source: a store, or an :class:`~experiments.asof.AsOf` view already made (then
            ``objective`` and ``at`` are the view's and must not be given).
        objective: an objective (record, id or slug): the terms it, its sub-objectives,
            their experiments and the questionnaire items serving them use.  None: the
            whole strategy's vocabulary, every term.
        at: the moment (default now).

    Raises:
        NotFoundError: the objective is not in the store.
    """
    from experiments.asof import AsOf  # noqa: PLC0415 - the view imports the model only

    if isinstance(source, AsOf):
        if objective is not None or at is not None:
            raise ValidationError(
                "give the objective and the moment to the AsOf view, or pass the store"
            )
        return of_view(source)
    return of_view(AsOf(source, objective=objective, at=at))


def agree(
    store: Store,
    term: Term | str,
    definitions: Mapping[LanguageCode | str, str],
    *,
    by: Iterable[str] = (),
    at: DateTimeLike | None = None,
    changed_by: str | None = None,
) -> Term:
    """Record that ``definitions`` of ``term`` (record, id or slug) were agreed.

    The agreement replaces the earlier one from ``at`` (default now) on; the earlier
    stays in the term's history.  A term given by a slug that is not stored yet is
    created with the slug as its word.

    Raises:
        ValidationError: no definitions, or a language other than en, da, nb and sv.
        ConflictError: the term changed meanwhile; read it again and retry.
    """
    current = _term(store, term)
    return store.save(current.agree(definitions, by=by, at=at), by=changed_by)


def interpret(
    store: Store,
    term: Term | str,
    department: str,
    text: str,
    *,
    language: LanguageCode | str = LanguageCode.EN,
    at: DateTimeLike | None = None,
    by: str | None = None,
) -> Interpretation:
    """Record what ``department`` means by ``term``, in its own words (a new version if
    it said something before).

    A term given by a slug that is not stored yet is created with the slug as its word.
    """
    current = _term(store, term)
    made = Interpretation(
        term=current,
        department=department,
        text=text,
        language=language,
        stated_at=now() if at is None else at,
        stated_by=by,
    )
    stored = store.find(made.id, include_deleted=True)
    if isinstance(stored, Interpretation):
        same_time = at is None or stored.stated_at == made.stated_at
        if not stored.deleted and stored.text == made.text and same_time:
            return stored  # said again: nothing new
        made = stored.evolve(
            department=made.department,
            text=made.text,
            stated_at=made.stated_at,
            stated_by=made.stated_by,
            deleted_at=None,
        )
    return store.save(made, by=by)


def _term(store: Store, term: Term | str) -> Term:
    """The stored term ``term`` names; a slug not stored yet makes a new term of that word."""
    from experiments.errors import NotFoundError  # noqa: PLC0415 - the error path only
    from experiments.model._validate import SLUG_PATTERN  # noqa: PLC0415

    try:
        return store.resolve(term, Term)
    except NotFoundError as exc:
        if not isinstance(term, str) or not SLUG_PATTERN.fullmatch(term) or exc.deleted_id:
            raise
        made = Term(slug=term, word=term.replace("-", " "))
        store.create_if_absent(made)
        return store.get(made.id, Term)
