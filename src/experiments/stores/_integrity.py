"""What ``verify()`` finds wrong in a store, without changing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.errors import SchemaError, ValidationError
from experiments.model import REFERENCES, Decision, Experiment, Objective, Record
from experiments.model.objective import cycle_message, parent_cycles
from experiments.serialization import from_data
from experiments.stores._rules import history_damage
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from experiments.stores.backend import Backend

__all__ = ["verify"]


def verify(store: Backend) -> list[Damage]:
    """Damage in ``store``: see :meth:`Store.verify <experiments.stores.Store.verify>`."""

    damage: list[Damage] = []
    current: dict[str, Record] = {}
    histories: dict[str, list[Record]] = {}
    for item in store._verify_storage():  # noqa: SLF001 - verify reads through the primitive
        if isinstance(item, Damage):
            damage.append(item)
            continue
        record_id = item.get("id")
        try:
            record = from_data(item)
        except (SchemaError, ValidationError) as exc:
            damage.append(Damage(f"record {record_id!r}", str(exc), record_id))
            continue
        known = current.get(record.id)
        if known is None or record.revision > known.revision:
            current[record.id] = record
        if isinstance(record, Experiment | Decision):
            histories.setdefault(record.id, []).append(record)
    for record in current.values():
        for field, (target, _) in REFERENCES[record.kind].items():
            value = getattr(record, field)
            for ref in value if isinstance(value, tuple) else (value,):
                if ref is None:
                    continue
                found = current.get(ref)
                if found is None or found.kind != target:
                    damage.append(
                        Damage(
                            f"record {record.id!r}",
                            f"{record.kind}.{field} refers to {target} {ref!r}, "
                            "which is not in the store",
                            record.id,
                        )
                    )
    live = (r for r in current.values() if isinstance(r, Objective) and not r.deleted)
    for cycle in parent_cycles(live):
        first = cycle[0].id
        damage.append(Damage(f"record {first!r}", cycle_message(cycle), first))
    for history in histories.values():
        history.sort(key=lambda r: r.revision)
    damage += history_damage(histories, current.values())
    mask = store.url.mask  # a driver's or a plugin's text may quote the URL's password
    return [Damage(mask(d.location), mask(d.problem), d.id) for d in damage]
