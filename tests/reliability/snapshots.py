"""What a store holds, compared across runs: every version, less the times of writing."""

from __future__ import annotations

import json
from typing import Any

from experiments.serialization import to_data
from experiments.stores import Store

#: Fields that differ between two runs of the same writes: when, and by whom.
_MOMENTS = ("created_at", "updated_at", "changed_by", "deleted_at")

State = tuple[tuple[str, int, str], ...]


def state(store: Store) -> State:
    """Every version in the store, as (id, revision, the rest of its data)."""
    found: list[tuple[str, int, str]] = []
    for record in store.export():
        data: dict[str, Any] = dict(to_data(record))
        deleted = data.get("deleted_at") is not None
        for name in _MOMENTS:
            data.pop(name, None)
        data["deleted"] = deleted
        found.append((record.id, record.revision, json.dumps(data, sort_keys=True)))
    return tuple(sorted(found))
