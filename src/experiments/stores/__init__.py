"""Where records live: the store interface, its URLs and the built-in backends.

The changes a store hands its backend, and the reports of what they did
(:mod:`experiments.stores.changes`), are offered here too; like :class:`Batch`, they
are imported with the first write or the first use, as a program that only reads
needs none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments._lazy import lazy_attributes
from experiments.stores._connect import DEFAULT_URL, STORE_ENV, connect
from experiments.stores.base import Capability, Store
from experiments.stores.url import StoreURL

if TYPE_CHECKING:
    from experiments.stores.batch import Batch
    from experiments.stores.changes import (
        Change,
        Damage,
        ErasureReport,
        ImportReport,
        ImportVersion,
        Purge,
        PurgeReport,
        Put,
        Rewrite,
        SetSetting,
    )

# With every change a backend commits, and every report of one (a test holds these to
# the __all__ of experiments.stores.changes).
__all__ = [
    "DEFAULT_URL",
    "STORE_ENV",
    "Batch",
    "Capability",
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
    "Store",
    "StoreURL",
    "connect",
]

# What is not imported above comes with its first use: Batch from its module, the rest
# from experiments.stores.changes; the two modules themselves too, as package attributes.
_LATER = {
    name: "experiments.stores.batch" if name == "Batch" else "experiments.stores.changes"
    for name in __all__
    if name not in globals()
}
_LATER |= {"batch": "experiments.stores.batch", "changes": "experiments.stores.changes"}

if not TYPE_CHECKING:  # type checkers see the names imported above, and no others
    __getattr__ = lazy_attributes(__name__, _LATER, globals())
