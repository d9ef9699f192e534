"""Finding records by what a person types: an id, or a slug of a known kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from experiments.errors import NotFoundError, ValidationError
from experiments.model import KINDS, REFERENCES, Record
from experiments.model._validate import ID_PATTERN, SLUG_PATTERN
from experiments.query import FieldType, resolve_field

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["find", "parse_assignment", "record_id", "resolve_references"]

R = TypeVar("R", bound=Record)


@overload
def find(store: Store, reference: str, kind: type[R], *, include_deleted: bool = False) -> R: ...
@overload
def find(
    store: Store, reference: str, kind: None = None, *, include_deleted: bool = False
) -> Record: ...


def find(
    store: Store,
    reference: str,
    kind: type[Record] | None = None,
    *,
    include_deleted: bool = False,
) -> Record:
    """The record ``reference`` names: its id, or the slug of a record of ``kind`` (or any).

    A soft-deleted record is found only with ``include_deleted`` (for history, restore
    and purge); otherwise naming one is a :class:`NotFoundError` that says to restore it.
    Without ``kind``, a slug that names a live record of one kind and a deleted record
    of another finds the live one.

    Raises:
        NotFoundError: nothing has that id or slug, or what has it is deleted.
    """
    text = reference.strip()
    matches: list[Record] = []
    if ID_PATTERN.fullmatch(text):
        found = store.find(text, include_deleted=True)
        if found is not None and (kind is None or isinstance(found, kind)):
            matches.append(found)
    if all(m.deleted for m in matches) and SLUG_PATTERN.fullmatch(text):
        for candidate in [kind] if kind is not None else KINDS.values():
            found = store.find(candidate.id_for_slug(text), include_deleted=True)
            if found is not None:
                matches.append(found)
    live = [m for m in matches if not m.deleted]
    if live:
        return live[0]
    if matches:
        if include_deleted:
            return matches[0]
        raise NotFoundError(f"{matches[0].label()} is deleted; `experiments restore {text}` first")
    what = kind.kind if kind is not None else "record"
    listing = f"experiments list {kind.kind}" if kind is not None else "experiments list"
    raise NotFoundError(f"no {what} with id or slug {reference!r}; see `{listing}`")


def record_id(store: Store, reference: str, kind: type[Record]) -> str:
    """The id of the record ``reference`` names (see :func:`find`)."""
    return find(store, reference, kind).id


def resolve_references(store: Store, kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` to a record of ``kind`` with the ids or slugs in reference fields as ids.

    The fields and the kind each refers to come from :data:`experiments.model.REFERENCES`
    (``parent`` and ``objectives`` name objectives, ``experiment`` an experiment, ...);
    a list field resolves every item.  An empty value clears a field: None.

    Raises:
        NotFoundError: a reference names no record of the kind the field refers to.
    """
    resolved = dict(changes)
    for field, (target, _) in REFERENCES.get(kind, {}).items():
        value = resolved.get(field)
        if value is None:
            continue
        target_kind = KINDS[target]
        if isinstance(value, str):
            resolved[field] = record_id(store, value, target_kind) if value.strip() else None
        else:
            resolved[field] = [record_id(store, item, target_kind) for item in value]
    return resolved


def parse_assignment(kind: str, assignment: str) -> tuple[str, Any]:
    """``field=value`` typed for ``kind``'s field: numbers, booleans, lists, JSON metadata."""
    name, equals, text = assignment.partition("=")
    name = name.strip()
    if not equals or not name:
        raise ValidationError(
            f"--set needs FIELD=VALUE, e.g. --set owner=Culture; got {assignment!r}"
        )
    if name in ("id", "kind", "revision", "created_at", "updated_at", "changed_by", "deleted_at"):
        raise ValidationError(f"{name} is kept by the store and cannot be set")
    if name == "metadata":
        try:
            return name, json.loads(text) if text else {}
        except ValueError as exc:
            raise ValidationError(f"metadata must be a JSON object: {exc}") from None
    resolved, info = resolve_field(kind, name)
    if text == "" and info.kind not in (FieldType.TEXT, FieldType.LIST):
        return resolved, None
    if info.kind is FieldType.NUMBER:
        try:
            return resolved, float(text)
        except ValueError:
            raise ValidationError(f"{resolved} must be a number; got {text!r}") from None
    if info.kind is FieldType.BOOL:
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0"):
            raise ValidationError(f"{resolved} must be true or false; got {text!r}")
        return resolved, lowered in ("true", "yes", "1")
    if info.kind is FieldType.LIST:
        return resolved, _split(text)
    return resolved, text


def _split(text: str) -> Sequence[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
