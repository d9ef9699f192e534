"""Erasure that keeps the counts: a person's personal data out of every version.

What is personal is the model's (``Participant.personal_fields``, tags and metadata,
which may hold a contact); what quotes a person is found by
:mod:`experiments.model._quotes`.  What stays is the anonymous remainder the roll-up,
the checks and the reports count: role, internal or external, department, whether the
person took part under a pseudonym, and every participation with its stance and depth.
Everything is rewritten in one transaction through
:class:`~experiments.stores.changes.Rewrite`; the backend then frees the old data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from experiments.errors import ConflictError, ExperimentsError, StoreError
from experiments.model import Participant, Record
from experiments.model._time import DateTimeLike, argument, now, parse_datetime
from experiments.model.asof import consent_withdrawn, retention_passed
from experiments.serialization import to_data
from experiments.stores._privacy import without_quotes
from experiments.stores.backend import Capability
from experiments.stores.changes import Change, ErasureReport, Rewrite

if TYPE_CHECKING:
    from experiments.stores.base import Store

__all__ = ["KEPT", "due", "erase", "erase_due", "erased"]

#: What an erasure keeps of a participant: what the roll-up counts.
KEPT: Final = ("role", "external", "department", "pseudonymous", "participations")
#: What an erasure takes out of every version of the participant, besides quotes: the
#: personal fields, the consent and retention that were about them, and tags and
#: metadata, which may hold anything (a phone number, a case number).
_REMOVED: Final = (*Participant.personal_fields, "consent", "retention", "tags", "metadata")
#: What the remainder's metadata says, so that nobody erases it twice.
ERASED: Final = "erased"
#: Attempts when other writers keep changing what the erasure rewrites.
_TRIES: Final = 5


def erased(person: Participant) -> bool:
    """Whether ``person`` is the remainder of an erasure."""
    return bool(person.metadata.get(ERASED))


def _remainder(version: Participant, names: Mapping[str, str]) -> Participant:
    kept = without_quotes(version, names)
    assert isinstance(kept, Participant)
    blank: dict[str, Any] = dict.fromkeys((*Participant.personal_fields, "consent", "retention"))
    return attrs.evolve(kept, **blank, tags=frozenset(), metadata={ERASED: True})


def _versions_by_id(store: Store) -> Iterator[list[Record]]:
    """Every record's versions, one record at a time, from one scan of the store."""
    group: list[Record] = []
    for data in store._scan_versions():  # noqa: SLF001 - erasure reads the raw history
        record = store._decode(data)  # noqa: SLF001
        if group and group[0].id != record.id:
            yield group
            group = []
        group.append(record)
    if group:
        yield group


def _quoting(store: Store, person: str, names: Mapping[str, str]) -> tuple[list[Change], list[str]]:
    """Rewrites of every other record whose free text quotes ``names``, and their ids."""
    changes: list[Change] = []
    quoted: list[str] = []
    for versions in _versions_by_id(store):
        if versions[0].id == person:
            continue
        rewritten = [without_quotes(v, names) for v in versions]
        if rewritten != versions:
            quoted.append(versions[0].id)
            pairs = tuple((v, to_data(v)) for v in rewritten)
            changes.append(Rewrite(versions[0].id, versions[-1].revision, pairs))
    return changes, quoted


def _plan(store: Store, person: Participant) -> tuple[list[Change], ErasureReport, dict[str, str]]:
    history = [v for v in store.history(person.id) if isinstance(v, Participant)]
    names = {
        text: f"erased {person.role.value}"
        for version in history
        for text in (version.name, version.slug)
        if text
    }
    removed = [f for f in _REMOVED if any(getattr(v, f) for v in history)]
    remainder = [_remainder(v, names) for v in history]
    changes: list[Change] = [
        Rewrite(person.id, history[-1].revision, tuple((v, to_data(v)) for v in remainder))
    ]
    quoting, quoted = _quoting(store, person.id, names)
    report = ErasureReport(
        participant=person.id,
        removed=tuple(removed),
        kept=KEPT,
        versions=len(history),
        quoted_in=tuple(quoted),
        freed="",
    )
    return changes + quoting, report, names


def _sweep(store: Store, person: str, names: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Rewrite what came to quote the person while the erasure ran: (ids, warnings).

    The erasure is committed by then: nothing here may make it look as if it failed.
    """
    swept: list[str] = []
    for _ in range(_TRIES):
        try:
            changes, quoted = _quoting(store, person, names)
            if not changes:
                return swept, []
            store._apply(changes)  # noqa: SLF001 - rewrites, as the erasure itself
        except ConflictError:
            continue  # a quoting record changed meanwhile: look again
        except ExperimentsError as exc:
            failed = (
                "the erasure is done, but looking for records that came to quote the person "
                f"while it ran failed ({exc}); run the erasure again to rewrite them"
            )
            return swept, [failed]
        swept += quoted
    busy = (
        "the erasure is done, but records that quote the person kept changing while it "
        "ran; run the erasure again to rewrite them"
    )
    return swept, [busy]


def erase(store: Store, reference: Participant | str, *, vacuum: bool = False) -> ErasureReport:
    """Erase a participant, keeping the counts: see :meth:`Store.erase`."""
    if Capability.ERASURE not in store.capabilities:
        raise StoreError(
            f"the {store.url.scheme!r} backend cannot rewrite history, so it cannot erase a "
            "person and keep the counts; copy the store to one that can (`experiments "
            "export` and `import` into sqlite:///), or purge the participant instead"
        )
    for attempt in range(_TRIES):
        person = store.resolve(reference, Participant, include_deleted=True)
        assert isinstance(person, Participant)
        changes, report, names = _plan(store, person)
        try:
            store._apply(changes)  # noqa: SLF001 - one transaction of rewrites, then events
        except ConflictError:
            if attempt == _TRIES - 1:
                raise
            continue  # someone wrote meanwhile: plan again from what is stored now
        swept, warnings = _sweep(store, person.id, names)
        freed = store._free_erased(vacuum=vacuum)  # noqa: SLF001 - the backend's own step
        quoted = tuple(dict.fromkeys([*report.quoted_in, *swept]))
        return attrs.evolve(report, quoted_in=quoted, freed=freed, warnings=tuple(warnings))
    raise AssertionError  # pragma: no cover - the loop returns or raises


def due(store: Store, at: DateTimeLike | None = None) -> list[Participant]:
    """The participants to erase at ``at``: consent withdrawn, or retention passed.

    Those already erased are not due again.
    """
    moment = now() if at is None else argument(at, "at", parse_datetime)
    return [
        person
        for person in store.query(Participant, include_deleted=True)
        if not erased(person)
        and (
            consent_withdrawn(person.consent, moment)
            or retention_passed(person.created_at, person.retention, moment)
        )
    ]


def erase_due(store: Store, at: DateTimeLike | None, *, vacuum: bool) -> list[ErasureReport]:
    """Erase everyone due at ``at``, one transaction each: see :meth:`Store.erase_due`."""
    people = store.due_for_erasure(at)
    reports = [erase(store, person) for person in people]
    if vacuum and reports:
        freed = store._free_erased(vacuum=True)  # noqa: SLF001 - once, after the last
        reports[-1] = attrs.evolve(reports[-1], freed=freed)
    return reports
