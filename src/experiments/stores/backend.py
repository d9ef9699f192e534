"""The interface a storage backend implements: a handful of primitives.

A backend subclasses :class:`~experiments.stores.Store` (whose first base is
:class:`Backend`) and implements four primitives, and a fifth if it holds something to
release:

``_commit(changes)``
    Apply a sequence of :class:`~experiments.stores.changes.Put`,
    :class:`~experiments.stores.changes.Purge`,
    :class:`~experiments.stores.changes.ImportVersion` and (with
    :attr:`Capability.ERASURE`) :class:`~experiments.stores.changes.Rewrite` changes
    all-or-nothing, in
    order, in one transaction.  A ``Put`` whose ``expected`` revision is not the stored
    one raises :class:`~experiments.errors.ConflictError` and nothing of the batch is
    written.
``_load(id)``
    The stored data of the current version of a record, or None.
``_load_versions(id)``
    The stored data of every version of a record, oldest first.
``_scan(kind)``
    The stored data of the current version of every record of a kind (or of every kind
    for None), soft-deleted ones included, ordered by id.
``_load_many(ids)`` (optional)
    The stored data of the current versions of several records, by id; by default
    ``_load`` of each, for a backend that can read them in one round trip to override.
``_setup(create)`` (optional)
    Open what the store keeps at its URL, called by the constructor: check it, and make
    it where ``create`` says so.
``_close()`` (optional)
    Release what the store holds: connections, file handles, locks.

Everything else, saving and batches, optimistic concurrency, create-if-absent, soft
delete, restore, purge with its cascade, history, filtered and ordered queries,
aggregation, export and import, verification and event hooks, is built on those by
:class:`~experiments.stores.Store`.  A backend that can do better overrides the
optional ``_select`` (filters and ordering in its engine), ``_aggregate`` (grouping in
its engine) and ``_aggregate_tuples`` (the same groups as tuples) and declares the
matching :class:`Capability`; the results must equal the Python fallback's, which the
conformance suite in :mod:`experiments.testing` checks.  One that can hold one state of
the store for a block of reads (a read transaction, a shared lock) implements
``_snapshot`` and declares :attr:`Capability.SNAPSHOT`.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

from experiments.errors import StoreError
from experiments.query import BoundExpr, BoundMeasure, FieldInfo, Order

if TYPE_CHECKING:
    from experiments.stores.changes import Change, Damage
    from experiments.stores.url import StoreURL

__all__ = ["Backend", "Capability", "Grouping", "Selection"]


class Capability(enum.StrEnum):
    """What a backend promises beyond the interface every store keeps."""

    PERSISTENT = "persistent"
    """Data survives closing the store and opening it again."""
    MULTIPROCESS = "multiprocess"
    """Several processes may open the store and write at once."""
    THREADSAFE = "threadsafe"
    """One store object may be shared between threads."""
    QUERY_PUSHDOWN = "query-pushdown"
    """Filters and ordering run in the backend's engine."""
    AGGREGATION_PUSHDOWN = "aggregation-pushdown"
    """Grouping and measures run in the backend's engine."""
    ERASURE = "erasure"
    """Versions can be rewritten in place (:class:`~experiments.stores.changes.Rewrite`),
    so that a person can be erased while the counts stay."""
    SNAPSHOT = "snapshot"
    """Every read inside :meth:`~experiments.stores.Store.reading` sees one state of the
    store, whatever others write meanwhile."""


class Selection(NamedTuple):
    """A query as a store hands it to its engine (:meth:`Backend._select`).

    The current data of ``kind`` (every kind for None) that matches ``where``, ordered
    by ``orders`` (by id without), ``limit`` of it (all for None) from ``offset`` on.
    """

    kind: str | None
    where: BoundExpr | None
    orders: tuple[Order, ...]
    limit: int | None
    offset: int
    include_deleted: bool


class Grouping(NamedTuple):
    """An aggregation as a store hands it to its engine (:meth:`Backend._aggregate`).

    The current data of ``kind`` that matches ``where``, grouped by the ``group_by``
    fields, with a value of each of ``measures`` for every group.
    """

    kind: str | None
    where: BoundExpr | None
    group_by: list[tuple[str, FieldInfo]]
    measures: dict[str, BoundMeasure]
    include_deleted: bool


#: The parameters of an engine hook written today: self and the one value.
_ONE_VALUE: Final = 2
#: The engine hooks that take one Selection or Grouping since they took its parts.
_ENGINE_HOOKS: tuple[tuple[str, type[tuple[Any, ...]]], ...] = (
    ("_select", Selection),
    ("_aggregate", Grouping),
    ("_aggregate_tuples", Grouping),
)


def _takes_parts(hook: Callable[..., Any]) -> bool:
    """Whether an engine hook is written the earlier way, taking the query's parts."""
    try:
        parameters = inspect.signature(hook).parameters.values()
    except (TypeError, ValueError):  # not introspectable: taken to be written today
        return False
    named = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(named) > _ONE_VALUE


def _given_parts(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook`` called with the parts of the Selection or Grouping it is handed."""

    @functools.wraps(hook)
    def unpacked(self: Any, value: tuple[Any, ...]) -> Any:
        return hook(self, *value)

    return unpacked


class Backend(abc.ABC):
    """The primitives a storage backend implements (see the module documentation)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A backend written before the engine hooks took one value keeps working, with
        # a warning, for this release.
        super().__init_subclass__(**kwargs)
        for name, value in _ENGINE_HOOKS:
            hook = cls.__dict__.get(name)
            if callable(hook) and _takes_parts(hook):
                warnings.warn(
                    f"{cls.__qualname__}.{name} takes the parts of the query; take one "
                    f"experiments.stores.backend.{value.__name__} instead (its fields are "
                    "the parts, in the same order); the parts are passed until the next "
                    "release",
                    DeprecationWarning,
                    stacklevel=3,  # past abc's __new__: the class statement
                )
                setattr(cls, name, _given_parts(hook))

    scheme: ClassVar[str] = ""
    capabilities: frozenset[Capability] = frozenset()
    """What the backend promises; a class declares them, and one store may promise less."""
    url: StoreURL

    @abc.abstractmethod
    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        """Apply ``changes`` all-or-nothing; one result per change.

        A :class:`Put` returns ``change.record`` itself when it was written, and for a
        create-if-absent that found the id taken, the record already stored.  A
        :class:`Purge` returns the purged record's kind, or None when no such id was
        stored.  An :class:`ImportVersion` returns True when it added the version and
        False when the same version was already stored.  A :class:`Rewrite` returns None,
        or raises :class:`~experiments.errors.ConflictError` if the record's current
        revision is not the expected one.
        """

    @abc.abstractmethod
    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        """Stored data of the current version of ``id``, or None."""

    @abc.abstractmethod
    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002 - it is an id
        """Stored data of every version of ``id``, oldest first; empty when unknown."""

    @abc.abstractmethod
    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        """Stored data of current versions (deleted included), of ``kind`` or all, by id."""

    def _close(self) -> None:  # noqa: B027 - optional for backends with nothing to release
        """Release connections, files and locks."""

    # --- optional primitives ------------------------------------------------------

    def _load_many(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        """Stored data of the current version of each of ``ids`` that is stored, by id.

        What :meth:`_load` gives for each.  By default each is loaded when it is first
        asked for, so that a look-up that stops at its first candidate loads no other;
        a backend that reads several at once in one round trip overrides it.
        """
        return _LoadedWhenAsked(self._load, ids)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        """Every version of every record, by id then revision."""
        for data in self._scan(None):
            yield from self._load_versions(data["id"])

    def _count_versions(self) -> int:
        """How many versions :meth:`_scan_versions` yields; backends count without reading."""
        return sum(1 for _ in self._scan_versions())

    def _select(self, selection: Selection) -> Iterator[Mapping[str, Any]] | None:
        """Filtered, ordered current data from the engine; None to use the fallback."""
        return None

    def _aggregate(self, grouping: Grouping) -> Iterable[dict[str, Any]] | None:
        """Groups computed by the engine; None to use the fallback."""
        return None

    def _aggregate_tuples(self, grouping: Grouping) -> Iterable[tuple[Any, ...]] | None:
        """:meth:`_aggregate`'s groups as tuples (group fields, then measures); None: dicts."""
        return None

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        """Every stored version's data, or a Damage where one cannot be read.

        The default reads through :meth:`_scan_versions` and stops at the first error;
        backends that keep versions apart override it to report each bad one and go on.
        """
        from experiments.stores.changes import Damage  # noqa: PLC0415 - a read never needs it

        try:
            yield from self._scan_versions()
        except StoreError as exc:
            yield Damage(self.url.redacted, str(exc))

    def _free_erased(self, *, vacuum: bool) -> str:
        """Free the space erased data took, as far as the backend can; say what was done.

        Called after an erasure committed.  ``vacuum`` asks for the slow, thorough
        steps a backend only takes when told (PostgreSQL's ``VACUUM FULL``).
        """
        del vacuum
        return "the backend keeps no copy of the old data it was given"

    def _snapshot(self) -> contextlib.AbstractContextManager[None]:
        """Hold one state of the store for this thread's reads until the block ends.

        With :attr:`Capability.SNAPSHOT`: the reads of the block, in this thread, see the
        store as it was when the block began (a read transaction, a shared lock).  The
        store refuses writes inside it.  The default holds nothing.
        """
        return contextlib.nullcontext()

    def _make_now(self) -> None:  # noqa: B027 - optional for backends that always exist
        """Make the store now, as its first write would (for stores made by a write)."""

    def _setting(self, name: str) -> str | None:
        """The store's setting ``name``, or None when it has none.

        A backend that keeps no settings returns None for all, and its participant ids
        derive from their slugs alone; one that keeps them makes the key (the setting
        ``participant-key``, from ``experiments.stores._keys.new_key``) when it lays a
        store out, and re-keys a store laid out before.
        """
        del name
        return None

    def _put_setting(self, name: str, value: str | None) -> None:
        """Set (or with None, remove) the setting ``name``, in a transaction of its own."""
        del value
        raise StoreError(
            f"the {self.url.scheme!r} backend keeps no settings, so {name!r} cannot be set "
            "on this store"
        )

    def exists(self) -> bool:
        """Whether the store exists yet (file stores are created by their first write)."""
        return True


class _LoadedWhenAsked(Mapping[str, Mapping[str, Any]]):
    """:meth:`Backend._load_many` for a backend that loads one record at a time."""

    def __init__(self, load: Callable[[str], Mapping[str, Any] | None], ids: Sequence[str]) -> None:
        self._load = load
        self._ids = dict.fromkeys(ids)
        self._loaded: dict[str, Mapping[str, Any] | None] = {}

    def _get(self, record_id: str) -> Mapping[str, Any] | None:
        if record_id not in self._ids:
            return None
        if record_id not in self._loaded:
            self._loaded[record_id] = self._load(record_id)
        return self._loaded[record_id]

    def __getitem__(self, record_id: str) -> Mapping[str, Any]:
        data = self._get(record_id)
        if data is None:
            raise KeyError(record_id)
        return data

    def __iter__(self) -> Iterator[str]:
        return (record_id for record_id in self._ids if self._get(record_id) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)
