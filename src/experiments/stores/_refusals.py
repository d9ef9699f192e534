"""The errors a store raises when it refuses a write or cannot open, in one wording.

Every backend (and a third party's, through :mod:`experiments.stores.base`) raises
these, so that the same refusal reads the same whatever the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.errors import ConflictError, SchemaError, StoreError

if TYPE_CHECKING:
    from experiments.model import Record

__all__ = [
    "conflict",
    "import_conflict",
    "missing_store",
    "newer_layout",
    "other_kind",
    "version_in_history",
]


def missing_store(path: object) -> StoreError:
    """The error for reading a file-based store that does not exist (nothing is created)."""
    return StoreError(
        f"there is no store at {str(path)!r}; check the path, or create one with "
        "`experiments init` (or connect(url, create=True))"
    )


def newer_layout(where: str, what: str, version: int, supported: int) -> SchemaError:
    """The error for a store laid out by a newer version of the library than this one.

    ``where`` names the store, ``what`` its layout's version number (``store schema``).
    """
    return SchemaError(
        f"{where} was written by a newer strategy-experiments ({what} {version}; this "
        f"version reads up to {supported}); upgrade: pip install --upgrade strategy-experiments"
    )


def conflict(record: Record, expected: int, stored: int) -> ConflictError:
    """The error for a save based on a revision that is no longer the stored one."""
    if expected == 0:
        return ConflictError(
            f"{record.label()} already exists (revision {stored}); "
            "get() the stored one, or use create_if_absent()"
        )
    if stored == 0:
        return ConflictError(
            f"{record.label()} was saved over revision {expected}, but it is not in the "
            "store any more (purged); save it as a new record with revision=0"
        )
    return ConflictError(
        f"{record.label()} has changed since this copy was read: the copy is revision "
        f"{expected}, but revision {stored} is stored; get() it again (or pass its id), "
        "apply the change and save that"
    )


def other_kind(record: Record, stored_kind: str) -> ConflictError:
    """The error for a save over an id that a record of another kind has."""
    return ConflictError(
        f"id {record.id!r} belongs to a {stored_kind}; a {record.kind} cannot be saved over it"
    )


def import_conflict(record: Record) -> ConflictError:
    """The error for importing a version whose revision is stored with other content."""
    return ConflictError(
        f"{record.label()} revision {record.revision} is already stored with different "
        "content; an import never overwrites history (nothing was imported)"
    )


def version_in_history(record: Record, where: str) -> ConflictError:
    """The error for a save whose new revision is already among the record's versions.

    Only a damaged store has one: a save writes a version beside the row it moves on.
    """
    return ConflictError(
        f"{record.label()} revision {record.revision} is already in the history of "
        f"{where}; the store is inconsistent, run `experiments verify`"
    )
