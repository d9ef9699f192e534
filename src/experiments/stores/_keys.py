"""Participant ids that reveal nothing: derived with a key that only the store holds.

An id derived from a slug alone (``sha256("participant:anna-hansen")``) lets anyone who
guesses a name compute the id and look for it in a report, an export or a log.  Each
store therefore keeps a random key of its own (the setting :data:`KEY`), made when the
store is laid out, and a participant created by slug gets the id this key derives from
the slug: the same in every process that opens the store, so creating by slug stays
race-free, and unrelated between two stores.

A store laid out before it had a key is re-keyed once, by its migration: every
participant with a slug gets the id the new key derives from it (one without has a
random id, which reveals nothing), every participation whose id derived from such an id
is derived again, and every reference in every version of every record follows.  The
backends call :func:`plan` and :func:`rekeyed` so that this is one rule, whatever they
store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from experiments.errors import ValidationError
from experiments.model import Participant, Participation
from experiments.model._validate import flag_word
from experiments.query import bind, combine
from experiments.serialization import from_data, to_data
from experiments.stores._results import fallback_select
from experiments.stores.backend import Selection

if TYPE_CHECKING:
    from experiments.model import Record
    from experiments.stores.base import Store

R = TypeVar("R", bound="Record")

__all__ = [
    "KEY",
    "REQUIRE_CONSENT",
    "SETTINGS",
    "configuration",
    "configure",
    "id_for_slug",
    "imported",
    "new_key",
    "own_id",
    "participant_id",
    "plan",
    "rekeyed",
    "setting_flag",
    "setting_text",
    "stored_key",
]

#: The setting that holds a store's key, as hex.
KEY: Final = "participant-key"
#: Whether an external participant must have recorded consent to take part.
REQUIRE_CONSENT: Final = "require-consent-for-external"
#: The settings a person may change, with what each one does.
SETTINGS: Final = {
    REQUIRE_CONSENT: (
        "whether an external participant must have recorded consent to take part "
        "(the check privacy/consent-missing); true or false"
    ),
}
#: Ids a re-keying may change: participants, and participations derived from them.
_IDS: Final = re.compile(r"\b(?:par|ppn)_[0-9a-f]{32}\b")


def new_key() -> str:
    """A fresh key for a store, as hex."""
    return secrets.token_hex(32)


def _derived(key: str, text: str) -> str:
    digest = hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest()
    return f"par_{digest[:32]}"


def id_for_slug(key: str | None, slug: str) -> str:
    """The id of the participant with ``slug`` in a store whose key is ``key``.

    A store whose backend keeps no settings (``key`` None) derives it from the slug
    alone, as every store did before stores had keys.
    """
    if key is None:
        return Participant.id_for_key(slug)
    return _derived(key, f"participant:{slug}")


def plan(key: str, current: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """New ids for the participants whose id a guessed slug gives, and what derives from them.

    ``current`` is the current version's data of every record (of any kind: the others
    are passed over).  A participant whose id is their slug's plain digest (as stores
    gave before they had keys) gets :func:`id_for_slug`; any other id reveals nothing
    (a random one, or one another store's key gave) and stays.
    """
    people: dict[str, str] = {}
    participations: list[Mapping[str, Any]] = []
    for data in current:
        if data.get("kind") == "participant":
            slug = data.get("slug")
            if slug and data.get("id") == id_for_slug(None, slug):
                people[str(data["id"])] = id_for_slug(key, slug)
        elif data.get("kind") == "participation" and not data.get("slug"):
            participations.append(data)
    mapping = dict(people)
    for data in participations:
        experiment, person = data.get("experiment"), data.get("participant")
        if person not in people:
            continue
        if data.get("id") == Participation.id_for_key(
            Participation.pair_key(str(experiment), str(person))
        ):
            key = Participation.pair_key(str(experiment), people[str(person)])
            new = Participation.id_for_key(key)
            mapping[str(data["id"])] = new
    return {old: new for old, new in mapping.items() if old != new}


def rekeyed(text: str, mapping: Mapping[str, str]) -> str:
    """``text`` (JSON, or a column's value) with every id in ``mapping`` replaced.

    Ids are 36 characters of a fixed shape, so a replacement cannot touch anything but
    an id: not a part of another id, not a word of free text.
    """
    if not mapping or ("par_" not in text and "ppn_" not in text):
        return text
    return _IDS.sub(lambda found: mapping.get(found.group(), found.group()), text)


def rekeyed_data(data: Mapping[str, Any], mapping: Mapping[str, str]) -> Any:
    """A version's data with every id in ``mapping`` replaced (see :func:`rekeyed`)."""
    text = json.dumps(data, ensure_ascii=False)
    changed = rekeyed(text, mapping)
    return data if changed == text else json.loads(changed)


def setting_text(name: str, value: object) -> str | None:
    """``value`` of the setting ``name`` as stored, or a ValidationError saying why not."""
    if value is None:
        return None
    try:
        return "true" if flag_word(value) else "false"
    except (TypeError, ValueError):
        raise ValidationError(
            f"the setting {name!r} is true or false (also: yes, no, on, off, 1, 0); got {value!r}"
        ) from None


def setting_flag(text: str | None) -> bool:
    """A stored true-or-false setting as a bool; unset is false."""
    return text == "true"


def configuration(store: Store) -> dict[str, str | None]:
    """The settings of ``store`` a person may change, with their values."""
    return {name: store._setting(name) for name in SETTINGS}  # noqa: SLF001 - the backend's own


def configure(store: Store, name: str, value: str | bool | None) -> None:
    """Set the setting ``name`` of ``store`` (None removes it), as ``Store.configure``."""
    if name not in SETTINGS:
        raise ValidationError(f"unknown setting {name!r}; the settings are: {', '.join(SETTINGS)}")
    text = setting_text(name, value)
    store._put_setting(name, text)  # noqa: SLF001 - a transaction of its own


def stored_key(store: Store, *, create: bool) -> str | None:
    """The key ``store`` keeps (None for a backend without settings).

    ``create`` makes the store first if it does not exist yet, as the write that asks
    would: its key is made with it.
    """
    if create and not store.exists():
        store._make_now()  # noqa: SLF001 - as the first write would
    return store._setting(KEY)  # noqa: SLF001


def participant_id(store: Store, slug: str, *, create: bool) -> str:
    """The id of the participant with ``slug`` in ``store``.

    The id of the stored participant with that slug if there is one (an import keeps
    the ids another store gave), else the one the store's key derives.  ``create``
    makes the store first if it does not exist yet, as the write that asks would: its
    key is made with it.
    """
    checked = Participant.checked_slug(slug)
    keyed = id_for_slug(store._participant_key(create=create), checked)  # noqa: SLF001
    if not store.exists():
        return keyed
    bound = bind("participant", combine(None, {"slug": checked}))
    every = True  # deleted ones too: their id stays theirs
    selection = Selection("participant", bound, (), 1, 0, every)
    rows = store._select(selection)  # noqa: SLF001
    if rows is None:
        rows = fallback_select(store, selection)
    found = [str(data["id"]) for data in rows]
    return found[0] if found else keyed


def imported(store: Store, records: Iterable[Record]) -> Iterator[Record]:
    """``records`` of an export, with the ids a guessed slug gives re-keyed for ``store``.

    An export made before stores had keys holds participant ids anyone can compute from
    a slug: they get the ids this store's key gives (see :func:`plan`).  Every other id
    is kept, so an export of a store with a key is imported exactly as it was.  Every
    record is read before the first is given, since references come before what they
    name.
    """
    key = store._participant_key(create=True)  # noqa: SLF001 - the key stays in the store
    if key is None:
        yield from records
        return
    given = list(records)
    latest: dict[str, Record] = {}
    for record in given:
        if record.kind in ("participant", "participation"):
            held = latest.get(record.id)
            if held is None or held.revision < record.revision:
                latest[record.id] = record
    mapping = plan(key, (to_data(r) for r in latest.values()))
    for record in given:
        if not mapping:
            yield record
            continue
        data = to_data(record)
        changed = rekeyed_data(data, mapping)
        yield record if changed is data else from_data(changed)


def own_id(store: Store, record: R) -> R:
    """``record`` with the id ``store`` gives it: a participant's derives from their slug.

    A new participant with a slug gets it here, on the way into the store; a stored
    one has it already, since a slug cannot be added or changed once the id is made.
    """
    if not isinstance(record, Participant) or record.slug is None:
        return record
    keyed = store._participant_id(record.slug, create=True)  # noqa: SLF001
    if record.id == keyed:
        return record
    if record.revision == 0:
        return attrs.evolve(record, id=keyed)
    raise ValidationError(
        f"{record.label()} was saved without this slug, and its id cannot change; a "
        "participant's slug is given when they are first saved, or never"
    )
