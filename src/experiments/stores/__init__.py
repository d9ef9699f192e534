"""Where records live: the store interface, its URLs and the built-in backends."""

from __future__ import annotations

from experiments.stores._connect import DEFAULT_URL, STORE_ENV, connect
from experiments.stores.base import Batch, Capability, Store
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
from experiments.stores.url import StoreURL

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
