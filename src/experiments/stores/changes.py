"""What the store and its backend exchange: changes to commit, and what they did.

A :class:`~experiments.stores.Store` turns every write into :data:`Change` values
(:class:`Put`, :class:`Purge`, :class:`ImportVersion`) for its backend's ``_commit``;
the reports and errors here are what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from experiments.model import Record

__all__ = [
    "Change",
    "Damage",
    "ErasureReport",
    "ImportReport",
    "ImportVersion",
    "Purge",
    "PurgeReport",
    "Put",
    "Rewrite",
    "SetSetting",
]


@attrs.frozen
class Put:
    """Write ``record`` as the new current version.

    ``expected`` is the revision that must be current for the write to go ahead: 0 means
    the id must not exist yet; None means "create if absent": write only if the id does
    not exist, and otherwise leave the store as it is and return what is stored.
    """

    record: Record
    data: Mapping[str, Any]
    expected: int | None


@attrs.frozen
class SetSetting:
    """Set the store's setting ``name`` to ``value``; None removes it."""

    name: str
    value: str | None


@attrs.frozen
class Purge:
    """Remove the record with ``id`` and every one of its versions, leaving no trace."""

    id: str


@attrs.frozen
class ImportVersion:
    """Insert a version exactly as exported: same id, revision and times.

    A version already stored with the same data is skipped; one stored with different
    data is a conflict.  The record's current version is its highest revision.
    """

    record: Record
    data: Mapping[str, Any]


@attrs.frozen
class Rewrite:
    """Replace every version of the record ``id`` in place: same revisions, new data.

    Only erasure rewrites history.  ``expected`` is the revision that must be current,
    as for a :class:`Put`; ``versions`` are every version, oldest first, as
    ``(record, data)`` pairs.  The old data must be gone from the store afterwards,
    not merely hidden.
    """

    id: str
    expected: int
    versions: tuple[tuple[Record, Mapping[str, Any]], ...]


Change = Put | Purge | ImportVersion | Rewrite | SetSetting


@attrs.frozen
class Damage:
    """Something :meth:`Store.verify` found wrong: where, what, and the record if known."""

    location: str
    problem: str
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.problem}"


@attrs.frozen
class ImportReport:
    """How many versions an import added, and how many were already there unchanged."""

    added: int
    unchanged: int


@attrs.frozen
class PurgeReport:
    """What a purge removed for good, and which records only lost a reference.

    ``warnings`` says what went wrong after the purge was committed (it stands): the
    search for records that came to refer to the purged ones while it ran failed, and
    :meth:`Store.verify` lists any that still do.
    """

    purged: tuple[str, ...]
    unlinked: tuple[str, ...]
    warnings: tuple[str, ...] = ()


@attrs.frozen
class ErasureReport:
    """What an erasure took out, what it kept so that the counts stay, and where.

    ``participant`` is the id of the anonymous remainder; ``removed`` and ``kept``
    name the fields; ``versions`` counts the participant's versions rewritten;
    ``quoted_in`` lists the other records whose free text quoted the person and was
    rewritten (every version); ``freed`` says what the backend did with the space the
    old data took; ``warnings`` what went wrong after the erasure was committed (it
    stands), such as records that came to quote the person while it ran.
    """

    participant: str
    removed: tuple[str, ...]
    kept: tuple[str, ...]
    versions: int
    quoted_in: tuple[str, ...]
    freed: str
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        removed = ", ".join(self.removed) or "nothing (no personal field was set)"
        quoted = f"; the quotes in {len(self.quoted_in)} other record(s)" if self.quoted_in else ""
        return (
            f"erased participant {self.participant} in {self.versions} version(s): removed "
            f"{removed}{quoted}; kept {', '.join(self.kept)}; {self.freed}"
        )
