"""What a store does for the people in it: a redacted export, and the names it holds.

The personal fields are the model's (``Participant.personal_fields``); the free text
that quotes a name is found by :mod:`experiments.model._quotes`.  Erasure and the access
export build on :func:`names_held`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from experiments.model import REFERENCES, Participant, Record
from experiments.model._quotes import unquoted

if TYPE_CHECKING:
    from experiments.stores.base import Store

__all__ = ["names_held", "redacted_export", "without_quotes"]


def names_held(store: Store, ids: set[str] | None = None) -> dict[str, str]:
    """Every name a participant (of ``ids``, or any) has had, with what stands for it."""
    names: dict[str, str] = {}
    for data in store._scan("participant"):  # noqa: SLF001 - the store's own data
        if ids is not None and data["id"] not in ids:
            continue
        for version in store._load_versions(data["id"]):  # noqa: SLF001
            person = store._decode(version)  # noqa: SLF001
            if isinstance(person, Participant) and person.name:
                names[person.name] = person.anonymous_name
    return names


def without_quotes(record: Record, names: Mapping[str, str]) -> Record:
    """``record`` with the ``names`` its free text quotes replaced."""
    return unquoted(record, names, REFERENCES.get(record.kind, {}))


def redacted_export(store: Store) -> Iterator[Record]:
    """Every version of every record, no participant named in any of them."""
    names = names_held(store)
    for record in store.export():
        shown = record.redacted() if isinstance(record, Participant) else record
        yield without_quotes(shown, names)
