"""How a reference a person or a script gives is understood: a record, its id or its slug.

One way everywhere: the Python API (``track``, ``run.measure``, the roll-up, the checks),
filters typed on the command line, and every command-line argument all come here
through :meth:`Store.resolve <experiments.stores.Store.resolve>` and
:meth:`Store.resolve_where <experiments.stores.Store.resolve_where>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from experiments.errors import NotFoundError, ValidationError
from experiments.model import KINDS, REFERENCES, Participant, Record
from experiments.model._validate import ID_PATTERN, SLUG_PATTERN, unfit_text
from experiments.query import All, AnyOf, Condition, Expr, Not, bind, resolve_field
from experiments.stores._results import id_of

if TYPE_CHECKING:
    from experiments.stores.base import Store

__all__ = [
    "by_id",
    "by_slug",
    "lookup",
    "of_kind",
    "resolve",
    "resolve_expr",
    "slug_id",
    "versions",
]

#: The longest slug there is (see ``model._validate.to_slug``).
_SLUG_LIMIT = 100


def by_id(store: Store, id: str, *, include_deleted: bool) -> Record | None:  # noqa: A002
    """The current version of ``id``, or None: as ``Store.find``."""
    record_id = id_of(id)
    if unfit_text(record_id) is not None:
        return None  # no store holds such an id, and some cannot even be asked
    data = store._load(record_id)  # noqa: SLF001 - the backend's own read
    if data is None:
        return None
    record = store._decode(data)  # noqa: SLF001
    return None if record.deleted and not include_deleted else record


def of_kind(
    store: Store,
    id: str,  # noqa: A002 - it is an id
    cls: type[Record] | None,
    *,
    include_deleted: bool,
) -> Record:
    """The current version of ``id``, of ``cls`` if given: as ``Store.get``."""
    record = store.find(id, include_deleted=True)
    if record is None or (cls is not None and not isinstance(record, cls)):
        what = cls.kind if cls is not None else "record"
        raise NotFoundError(
            f"no {what} with id {id_of(id)!r} in {store.url.redacted}; "
            "list what is there with query() or `experiments list`"
        )
    if record.deleted and not include_deleted:
        raise NotFoundError(
            f"{record.label()} is deleted (at {record.deleted_at}); restore() it first"
        )
    return record


def versions(store: Store, id: str) -> list[Record]:  # noqa: A002 - it is an id
    """Every version of ``id``, oldest first: as ``Store.history``."""
    record_id = id_of(id)
    found = [] if unfit_text(record_id) is not None else store._load_versions(record_id)  # noqa: SLF001
    if not found:
        raise NotFoundError(f"no history for id {id_of(id)!r} in {store.url.redacted}")
    return [store._decode(data) for data in found]  # noqa: SLF001


def resolve(
    store: Store, reference: object, cls: type[Record] | None, *, include_deleted: bool
) -> Record:
    """The stored record of ``cls`` (any kind for None) that ``reference`` names."""
    what = cls.kind if cls is not None else "record"
    if isinstance(reference, Record):
        if cls is not None and not isinstance(reference, cls):
            raise ValidationError(f"{reference.label()} is not a {cls.kind}")
        text = reference.id
    elif isinstance(reference, str) and reference.strip():
        text = reference.strip()
    else:
        raise ValidationError(
            f"a {what} is named by the record, its id or its slug; got {reference!r}"
        )
    found = _found(store, text, cls) if store.exists() else None
    if found is None:
        raise _not_found(store, text, cls)
    if found.deleted and not include_deleted:
        error = NotFoundError(
            f"{found.label()} is deleted; restore it first (store.restore({found.id!r}), "
            f"`experiments restore {found.id}`)"
        )
        error.kind, error.deleted_id = found.kind, found.id
        raise error
    return found


def lookup(store: Store, text: str, cls: type[Record] | None) -> Record | None:
    """What :func:`resolve` finds for ``text`` (deleted or not), or None: never an error.

    For callers to whom "none" is an answer (a new slug that makes a record, a metric
    that names no key result): the suggestions of a not-found error read every slug.
    """
    return _found(store, text, cls) if store.exists() else None


def slug_id(store: Store, cls: type[Record], slug: str) -> str:
    """The id the record of ``cls`` with ``slug`` has in ``store``.

    A participant's derives with the store's key (:mod:`experiments.stores._keys`);
    every other kind's from the slug alone, the same in every store.
    """
    if issubclass(cls, Participant):
        return store._participant_id(slug)  # noqa: SLF001 - the store's key stays inside
    return cls.id_for_slug(slug)


def by_slug(store: Store, cls: type[Record], slug: str, *, include_deleted: bool) -> Record:
    """The record of ``cls`` with ``slug``; never a pseudonymous participant.

    A pseudonymous person is named by id only: finding them by a slug made from their
    name would confirm that the name is there.
    """
    record = store.find(slug_id(store, cls, slug), include_deleted=True)
    if record is not None and isinstance(record, cls) and not _hidden(record):
        if record.deleted and not include_deleted:
            raise NotFoundError(
                f"{record.label()} is deleted (at {record.deleted_at}); restore() it first"
            )
        return record
    error = NotFoundError(
        f"no {cls.kind} with slug {slug!r} in {store.url.redacted}; list what is there "
        "with query() or `experiments list`"
    )
    error.kind = cls.kind
    raise error


def _hidden(record: Record) -> bool:
    return bool(getattr(record, "pseudonymous", False))


def _found(store: Store, text: str, cls: type[Record] | None) -> Record | None:
    """The record ``text`` names by id, then by slug; a live one before a deleted one."""
    candidates = [text] if ID_PATTERN.fullmatch(text) else []
    if SLUG_PATTERN.fullmatch(text) and len(text) <= _SLUG_LIMIT:
        kinds = [cls] if cls is not None else list(KINDS.values())
        candidates += [slug_id(store, k, text) for k in kinds]
    if not candidates:  # neither an id nor a slug: a metric's name, say
        return None
    fallback: Record | None = None
    stored = _current(store, candidates)
    for candidate in candidates:
        data = stored.get(candidate)
        if data is None:
            continue
        # Made into a record only when reached, as one by one: a record that cannot be
        # read (of a newer library, say) stops no look-up that finds another first.
        record = store._decode(data)  # noqa: SLF001 - the backend's own data
        if cls is not None and not isinstance(record, cls):
            continue
        if candidate != text and _hidden(record):
            continue  # found by a slug: a pseudonymous person is named by id only
        if not record.deleted:
            return record
        fallback = fallback or record
    return fallback


def _current(store: Store, ids: list[str]) -> Mapping[str, Mapping[str, Any]]:
    """Stored data of the current version of each of ``ids`` (deleted or not), read at once."""
    store._check_open()  # noqa: SLF001 - as find() does
    asked = [record_id for record_id in dict.fromkeys(ids) if unfit_text(record_id) is None]
    return store._load_many(asked)  # noqa: SLF001 - the backend's own read


def _not_found(store: Store, text: str, cls: type[Record] | None) -> NotFoundError:
    kinds = [cls] if cls is not None else list(KINDS.values())
    # Any kind: each suggestion says its kind (the slug of a template is no experiment's).
    slugs: dict[str, list[str]] = {}
    for k in kinds if store.exists() else ():
        for slug in _slugs(store, k):
            slugs.setdefault(slug, []).append(k.kind)
    close = closest(text, slugs)
    named = [repr(c) if cls else f"the {' or '.join(slugs[c])} {c!r}" for c in close]
    hint = f"; did you mean {' or '.join(named)}?" if close else ""
    what = cls.kind if cls is not None else "record"
    error = NotFoundError(f"no {what} with id or slug {text!r} in {store.url.redacted}{hint}")
    error.kind = None if cls is None else cls.kind
    return error


def closest(text: str, names: Iterable[str], *, most: int = 3, cutoff: float = 0.6) -> list[str]:
    """The ``names`` most like ``text``, best first: what a name not found may have meant.

    Alike by :mod:`difflib`'s ratio, at least ``cutoff`` (1.0 the same text).
    """
    import difflib  # noqa: PLC0415 - only a name not found asks for suggestions

    return difflib.get_close_matches(text, list(names), n=most, cutoff=cutoff)


def _slugs(store: Store, cls: type[Record]) -> list[str]:
    """The slugs of the live records of ``cls`` a suggestion may name."""
    named = "pseudonymous = false" if cls.kind == "participant" else None
    rows = store.aggregate(cls, group_by=["slug"], measures={}, where=named)
    return sorted(row["slug"] for row in rows if row["slug"])


def resolve_expr(store: Store, kind: str, expr: Expr) -> Expr:
    """``expr`` with the value of every condition on a reference field made an id."""
    bind(kind, expr)  # field names and values checked before anything is looked up
    return _resolved(store, kind, expr)


def _resolved(store: Store, kind: str, expr: Expr) -> Expr:
    if isinstance(expr, All | AnyOf):
        return type(expr)(tuple(_resolved(store, kind, part) for part in expr.parts))
    if isinstance(expr, Not):
        return Not(_resolved(store, kind, expr.part))
    if not isinstance(expr, Condition):
        return expr
    name, _ = resolve_field(kind, expr.field)
    target = REFERENCES.get(kind, {}).get(name)
    if target is None or expr.value is None:
        return expr
    cls = KINDS[target[0]]

    def one(value: object) -> object:
        if value is None:
            return None
        given = value if isinstance(value, Record | str) else str(value)
        return resolve(store, given, cls, include_deleted=True).id

    value = tuple(one(v) for v in expr.value) if isinstance(expr.value, tuple) else one(expr.value)
    return Condition(expr.field, expr.op, value)
