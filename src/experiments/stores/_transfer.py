"""Export and import: every version out as it was stored, and back in exactly so.

An export is every version of every record, by id and revision; importing it into
another store (or the same one again) adds what is missing and changes nothing that
is there, in one transaction.  ``Store.export`` and ``Store.import_records`` are these
functions; the redacted export is :mod:`experiments.stores._privacy`'s, and the ids
participants get in the store they are imported into are :mod:`experiments.stores._keys`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from experiments._collector import paused
from experiments.errors import ValidationError
from experiments.model import Record
from experiments.serialization import to_data
from experiments.stores import _keys, _privacy, _snapshots
from experiments.stores.changes import Change, ImportReport, ImportVersion

if TYPE_CHECKING:
    from experiments.stores.base import Store

__all__ = ["export", "import_records"]


def export(store: Store, *, redact: bool) -> Iterator[Record]:
    """Every version of every record in ``store``, as ``Store.export``."""
    if redact:
        return _privacy.redacted_export(store)
    return (store._decode(data) for data in store._scan_versions())  # noqa: SLF001 - the raw history


def import_records(store: Store, records: Iterable[Record]) -> ImportReport:
    """Add exported versions to ``store`` exactly as they were, as ``Store.import_records``."""
    _snapshots.refuse_write(store)

    def changes() -> Iterator[Change]:
        for record in _keys.imported(store, _exported(records)):
            yield ImportVersion(record, to_data(record))

    with paused():
        results = store._commit(changes())  # noqa: SLF001 - one transaction, as an import promises
    added = sum(1 for r in results if r)
    return ImportReport(added=added, unchanged=len(results) - added)


def _exported(records: Iterable[object]) -> Iterator[Record]:
    """``records``, each checked to be a version an export holds, in order.

    Checked before anything reads them (re-keying reads every one first), so that
    something else than a record is refused in the caller's words.
    """
    for record in records:
        if not isinstance(record, Record):
            raise ValidationError(f"only records can be imported; got {record!r}")
        if record.revision < 1:
            raise ValidationError(
                f"{record.label()} has revision {record.revision}; exported versions "
                "start at revision 1, so this was never stored"
            )
        yield record
