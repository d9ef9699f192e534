"""A strategy-experiments storage backend keeping a store in one JSON Lines file.

Installed, it registers the URL scheme ``jsonl`` through the entry-point group
``experiments``: ``experiments.connect("jsonl:///programme.jsonl")``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import experiments

if TYPE_CHECKING:
    from experiments import Plugins
    from experiments.hookspecs import RegisterBackend
    from experiments.stores import Store, StoreURL

__all__ = ["register_backends"]


def _open(url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store:
    from experiments_jsonl.store import JsonlStore  # noqa: PLC0415 - loaded when used

    return JsonlStore(url, plugins=plugins, create=create)


@experiments.hookimpl
def register_backends(register: RegisterBackend) -> None:
    register("jsonl", _open, description="one JSON Lines file, with an fsync per write")
