"""Everything a store holds on one person, as one JSON document (a right of access).

A citizen may ask to see what is held on them (GDPR article 15).  :func:`gather`
collects it from a store: the participant's own record in every version, and every
version of every record that refers to them (participations, learnings resting on their
voice, measurements, sprint teams) or whose free text quotes their name or slug.  The
document validates against the JSON Schema in :data:`SCHEMA_PATH`::

    from experiments import access

    document = access.gather(store, "par_...")
    access.write(document, "access-request.json")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from experiments._output import write_output
from experiments.model import REFERENCES, Participant
from experiments.model._quotes import quotes
from experiments.model._time import format_datetime, now
from experiments.serialization import to_data
from experiments.stores._privacy import names_held, without_quotes

if TYPE_CHECKING:
    from experiments.model import Record
    from experiments.stores import Store

__all__ = ["FORMAT", "SCHEMA_PATH", "VERSION", "gather", "render", "schema", "write"]

#: What the document says it is (its ``format``).
FORMAT: Final = "strategy-experiments access export"
#: The version of the document's layout (its ``version``).
VERSION: Final = 1
#: The JSON Schema (draft 2020-12) of the document, shipped in the package.
SCHEMA_PATH: Final = Path(__file__).parent / "schema" / "access.schema.json"


def _refers(record: Record, person: str) -> list[str]:
    """The fields of ``record`` that hold ``person``'s id."""
    found = []
    for field, (target, _) in REFERENCES.get(record.kind, {}).items():
        if target != "participant":
            continue
        value = getattr(record, field)
        if value == person or (isinstance(value, tuple) and person in value):
            found.append(field)
    return found


def gather(store: Store, participant: Participant | str) -> dict[str, Any]:
    """The access document of ``participant`` (a record, id, or a slug that resolves).

    ``records`` lists every other record that refers to the person in any version
    (with the fields that do, in ``fields``) or quotes their name or slug in its free
    text (``quotes``), each with every version.  Other people's names quoted there are
    replaced by what stands for them: the document is the person's, not a way to learn
    who else took part.

    Raises:
        NotFoundError: no participant has that id.
    """
    person = store.resolve(participant, Participant, include_deleted=True)
    versions = store.history(person.id)
    names = sorted(
        {t for v in versions if isinstance(v, Participant) for t in (v.name, v.slug) if t}
    )
    others = {n: r for n, r in names_held(store).items() if n not in names}
    records: list[dict[str, Any]] = []
    group: list[Record] = []

    def close(group: list[Record]) -> None:
        if not group or group[0].id == person.id:
            return
        fields = sorted({f for v in group for f in _refers(v, person.id)})
        quoted = any(quotes(v, names, REFERENCES.get(v.kind, {})) for v in group)
        if fields or quoted:
            records.append(
                {
                    "id": group[0].id,
                    "kind": group[0].kind,
                    "fields": fields,
                    "quotes": quoted,
                    "versions": [to_data(without_quotes(v, others)) for v in group],
                }
            )

    for data in store._scan_versions():  # noqa: SLF001 - every version, once
        record = store._decode(data)  # noqa: SLF001
        if group and group[0].id != record.id:
            close(group)
            group = []
        group.append(record)
    close(group)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": format_datetime(now()),
        "participant": person.id,
        "versions": [to_data(v) for v in versions],
        "records": records,
    }


def render(document: dict[str, Any]) -> str:
    """The document as indented JSON text."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write(document: dict[str, Any], path: str | Path) -> Path:
    """Write the document to ``path`` atomically (a device or pipe directly)."""
    target = Path(path)
    write_output(target, render(document).encode("utf-8"))
    return target


def schema() -> dict[str, Any]:
    """The JSON Schema of the access document, as data."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
