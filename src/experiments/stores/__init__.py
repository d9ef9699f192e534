"""Where records live: the store interface, its URLs and the built-in backends."""

from __future__ import annotations

from experiments.stores import changes
from experiments.stores._connect import DEFAULT_URL, STORE_ENV, connect
from experiments.stores.base import Batch, Capability, Store
from experiments.stores.changes import *  # noqa: F403 - its __all__, offered here whole
from experiments.stores.url import StoreURL

__all__ = ["DEFAULT_URL", "STORE_ENV", "Batch", "Capability", "Store", "StoreURL", "connect"]
__all__ += changes.__all__  # every change a backend commits, and every report of one
