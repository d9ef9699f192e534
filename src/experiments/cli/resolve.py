"""Finding records by what a person types: an id, or a slug of a known kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from experiments.errors import NotFoundError, ValidationError
from experiments.model import KINDS, REFERENCES, Item, Questionnaire, Record, plural
from experiments.query import FieldType, resolve_field

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["cli_words", "find", "parse_assignment", "record_id", "resolve_references"]

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
    """The record ``reference`` names (see :meth:`Store.resolve`), with errors in CLI words.

    An item may also be named by its questionnaire (id or slug) and its code:
    ``citizen-orientation/L1``.

    Raises:
        NotFoundError: nothing has that id or slug, or what has it is deleted.
    """
    try:
        if kind is Item and "/" in reference:  # QUESTIONNAIRE/CODE
            questionnaire, _, code = reference.rpartition("/")
            owner = store.resolve(questionnaire, Questionnaire)
            reference = Item.id_of(owner.id, code)
        return store.resolve(reference, kind, include_deleted=include_deleted)
    except NotFoundError as exc:
        raise cli_words(exc, reference) from None


def cli_words(error: NotFoundError, typed: str | None = None) -> NotFoundError:
    """A store's not-found error with where to look it up, said for the command line.

    ``typed`` is the reference as the person gave it, which the advice repeats.
    """
    text = str(error)
    if error.deleted_id is not None:
        again = (typed or "").strip() or error.deleted_id
        text = text.partition("; ")[0] + f"; `experiments restore {again}` first"
    else:
        kind = plural(error.kind) if error.kind else "KIND"
        listing = f"experiments list {kind}"
        text += f"; see `{listing}`"
    found = NotFoundError(text)
    found.kind, found.deleted_id = error.kind, error.deleted_id
    return found


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
    resolved, info = resolve_field(kind, name, "set")
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
