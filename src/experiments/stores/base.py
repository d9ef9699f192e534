"""The store interface, and everything a backend gets for free by implementing it.

A backend subclasses :class:`Store` and implements four primitives, and a fifth if it
holds something to release:

``_commit(changes)``
    Apply a sequence of :class:`Put`, :class:`Purge` and :class:`ImportVersion` changes
    all-or-nothing, in order, in one transaction.  A :class:`Put` whose ``expected``
    revision is not the stored one raises :class:`~experiments.errors.ConflictError` and
    nothing of the batch is written.
``_load(id)``
    The stored data of the current version of a record, or None.
``_load_versions(id)``
    The stored data of every version of a record, oldest first.
``_scan(kind)``
    The stored data of the current version of every record of a kind (or of every kind
    for None), soft-deleted ones included, ordered by id.
``_close()`` (optional)
    Release what the store holds: connections, file handles, locks.

Everything else, saving and batches, optimistic concurrency, create-if-absent, soft
delete, restore, purge with its cascade, history, filtered and ordered queries,
aggregation, export and import, verification and event hooks, is built on those.  A
backend that can do better overrides the optional ``_select`` (filters and ordering in
its engine) and ``_aggregate`` (grouping in its engine) and declares the matching
:class:`Capability`; the results must equal the Python fallback's, which the
conformance suite in :mod:`experiments.testing` checks.
"""

from __future__ import annotations

import abc
import difflib
import enum
import heapq
import itertools
import logging
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar, overload

import attrs

from experiments._collector import paused
from experiments.errors import (
    ConflictError,
    ExperimentsError,
    NotFoundError,
    SchemaError,
    StoreError,
    ValidationError,
)
from experiments.model import (
    KINDS,
    REFERENCES,
    Decision,
    Experiment,
    ExperimentStatus,
    Objective,
    Record,
)
from experiments.model._time import now
from experiments.model._validate import (
    ID_PATTERN,
    SLUG_PATTERN,
    checked_name,
    shorten,
    unfit_text,
)
from experiments.model.asof import latest_decision
from experiments.model.objective import cycle_message, parent_cycles
from experiments.query import (
    All,
    AnyOf,
    BoundExpr,
    BoundMeasure,
    Condition,
    Count,
    CountDistinct,
    Expr,
    FieldInfo,
    FieldType,
    Latest,
    Max,
    Measure,
    Min,
    Not,
    Op,
    Order,
    Sum,
    aggregate_rows,
    bind,
    bind_group_by,
    bind_measures,
    combine,
    matcher,
    parse_order,
    resolve_field,
    sort_key,
)
from experiments.serialization import SCHEMA_VERSION, from_data, to_data, upgrade
from experiments.stores._events import events_of
from experiments.stores._rules import (
    DecisionLedger,
    TemplateRule,
    check_experiment,
    decision_in_store,
    history_damage,
)

if TYPE_CHECKING:
    import pendulum

    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = [
    "Batch",
    "Capability",
    "Change",
    "Damage",
    "ImportReport",
    "ImportVersion",
    "Purge",
    "PurgeReport",
    "Put",
    "Store",
    "conflict",
    "import_conflict",
    "missing_store",
    "other_kind",
    "stamp",
]

R = TypeVar("R", bound=Record)

_log = logging.getLogger("experiments.stores")
#: How often a purge looks again for late referrers that keep changing under it.
_SWEEP_TRIES = 5


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


@attrs.frozen
class Put:
    """Write ``record`` as the new current version.

    ``expected`` is the revision that must be current for the write to go ahead: 0 means
    the id must not exist yet; None means "create if absent": write only if the id does
    not exist, and otherwise leave the store as it is and return what is stored.
    """

    record: Record
    data: Mapping[str, Any]
    expected: int | None


@attrs.frozen
class Purge:
    """Remove the record with ``id`` and every one of its versions, leaving no trace."""

    id: str


@attrs.frozen
class ImportVersion:
    """Insert a version exactly as exported: same id, revision and times.

    A version already stored with the same data is skipped; one stored with different
    data is a conflict.  The record's current version is its highest revision.
    """

    record: Record
    data: Mapping[str, Any]


Change = Put | Purge | ImportVersion


@attrs.frozen
class Damage:
    """Something :meth:`Store.verify` found wrong: where, what, and the record if known."""

    location: str
    problem: str
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.problem}"


@attrs.frozen
class ImportReport:
    """How many versions an import added, and how many were already there unchanged."""

    added: int
    unchanged: int


@attrs.frozen
class PurgeReport:
    """What a purge removed for good, and which records only lost a reference.

    ``warnings`` says what went wrong after the purge was committed (it stands): the
    search for records that came to refer to the purged ones while it ran failed, and
    :meth:`Store.verify` lists any that still do.
    """

    purged: tuple[str, ...]
    unlinked: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def _plain(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Data brought to the current schema (a no-op for current data)."""
    return data if data.get("schema") == SCHEMA_VERSION else upgrade(data)


class Store(abc.ABC):
    """A place where records live, with history, queries and optimistic concurrency.

    Open one with :func:`experiments.connect`.  Use it as a context manager, or call
    :meth:`close`.  Whether one store object may be shared between threads is declared
    by :attr:`capabilities` (:attr:`Capability.THREADSAFE`); every built-in backend is.
    """

    scheme: ClassVar[str] = ""
    capabilities: frozenset[Capability] = frozenset()
    """What the backend promises; a class declares them, and one store may promise less."""

    def __init__(
        self, url: StoreURL, *, plugins: Plugins | None = None, actor: str | None = None
    ) -> None:
        self.url = url
        self._plugins = plugins
        self.actor = checked_name(actor, "actor")
        self._closed = False
        self._plugins_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.redacted}>"

    @property
    def plugins(self) -> Plugins:
        """The plugins whose hooks this store calls."""
        if self._plugins is None:
            with self._plugins_lock:
                if self._plugins is None:
                    from experiments.plugins import Plugins  # noqa: PLC0415 - avoids a cycle

                    self._plugins = Plugins()
        return self._plugins

    # --- the primitives a backend implements --------------------------------------

    @abc.abstractmethod
    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        """Apply ``changes`` all-or-nothing; one result per change.

        A :class:`Put` returns ``change.record`` itself when it was written, and for a
        create-if-absent that found the id taken, the record already stored.  A
        :class:`Purge` returns the purged record's kind, or None when no such id was
        stored.  An :class:`ImportVersion` returns True when it added the version and
        False when the same version was already stored.
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

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        """Every version of every record, by id then revision."""
        for data in self._scan(None):
            yield from self._load_versions(data["id"])

    def _select(
        self,
        kind: str | None,
        where: BoundExpr | None,
        orders: tuple[Order, ...],
        limit: int | None,
        offset: int,
        include_deleted: bool,
    ) -> Iterator[Mapping[str, Any]] | None:
        """Filtered, ordered current data from the engine; None to use the fallback."""
        return None

    def _aggregate(
        self,
        kind: str | None,
        where: BoundExpr | None,
        group_by: list[tuple[str, FieldInfo]],
        measures: dict[str, BoundMeasure],
        include_deleted: bool,
    ) -> Iterable[dict[str, Any]] | None:
        """Groups computed by the engine; None to use the fallback."""
        return None

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        """Every stored version's data, or a Damage where one cannot be read.

        The default reads through :meth:`_scan_versions` and stops at the first error;
        backends that keep versions apart override it to report each bad one and go on.
        """
        try:
            yield from self._scan_versions()
        except StoreError as exc:
            yield Damage(self.url.redacted, str(exc))

    def exists(self) -> bool:
        """Whether the store exists yet (file stores are created by their first write)."""
        return True

    # --- lifecycle ----------------------------------------------------------------

    def close(self) -> None:
        """Close the store; further use raises StoreError.  Closing twice is harmless."""
        if not self._closed:
            self._closed = True
            self._close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.url.redacted} is closed; open it again with connect()")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- reading ------------------------------------------------------------------

    def _decode(self, data: Mapping[str, Any]) -> Record:
        try:
            return from_data(data)
        except (SchemaError, ValidationError) as exc:
            raise StoreError(
                f"record {data.get('id')!r} in {self.url.redacted} cannot be read: {exc}"
            ) from exc

    def find(self, id: str, *, include_deleted: bool = False) -> Record | None:  # noqa: A002
        """The current version of ``id``, or None if there is none (or it is deleted)."""
        self._check_open()
        record_id = _id_of(id)
        if unfit_text(record_id) is not None:
            return None  # no store holds such an id, and some cannot even be asked
        data = self._load(record_id)
        if data is None:
            return None
        record = self._decode(data)
        return None if record.deleted and not include_deleted else record

    @overload
    def get(self, id: str, kind: str | None = None, *, include_deleted: bool = False) -> Record: ...
    @overload
    def get(self, id: str, kind: type[R], *, include_deleted: bool = False) -> R: ...

    def get(
        self,
        id: str,  # noqa: A002 - it is an id
        kind: type[Record] | str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Record:
        """The current version of ``id``; with ``kind`` (a class or its name), only that kind.

        Raises:
            NotFoundError: no such record (or it is soft deleted and not asked for).
        """
        cls = _kind_class(kind)
        record = self.find(id, include_deleted=True)
        if record is None or (cls is not None and not isinstance(record, cls)):
            what = cls.kind if cls is not None else "record"
            raise NotFoundError(
                f"no {what} with id {_id_of(id)!r} in {self.url.redacted}; "
                "list what is there with query() or `experiments list`"
            )
        if record.deleted and not include_deleted:
            raise NotFoundError(
                f"{record.label()} is deleted (at {record.deleted_at}); restore() it first"
            )
        return record

    @overload
    def get_by_slug(self, kind: type[R], slug: str, *, include_deleted: bool = False) -> R: ...
    @overload
    def get_by_slug(self, kind: str, slug: str, *, include_deleted: bool = False) -> Record: ...

    def get_by_slug(
        self, kind: type[Record] | str, slug: str, *, include_deleted: bool = False
    ) -> Record:
        """The record of ``kind`` (a class or its name) with ``slug``."""
        cls = _kind_class(kind)
        if cls is None:
            raise ValidationError(f"get_by_slug needs a kind; known kinds: {', '.join(KINDS)}")
        return self.get(cls.id_for_slug(slug), cls, include_deleted=include_deleted)

    @overload
    def resolve(
        self, reference: Record | str, kind: type[R], *, include_deleted: bool = False
    ) -> R: ...
    @overload
    def resolve(
        self, reference: Record | str, kind: str | None = None, *, include_deleted: bool = False
    ) -> Record: ...

    def resolve(
        self,
        reference: Record | str,
        kind: type[Record] | str | None = None,
        *,
        include_deleted: bool = False,
    ) -> Record:
        """The stored record of ``kind`` that ``reference`` names: a record, its id or its slug.

        This is how every reference a person or a script gives is understood, in the
        Python API and on the command line alike.  An id is looked up first, then a slug
        of ``kind`` (of any kind, without one: a live record before a deleted one).  A
        pseudonymous participant is found by id only: a slug derived from a name must not
        confirm that the name is there.

        Raises:
            NotFoundError: nothing (of ``kind``) has that id or slug (the message suggests
                close slugs), or it is soft deleted and ``include_deleted`` is false.
            ValidationError: ``reference`` is neither a record nor text, or a record of
                another kind.
        """
        self._check_open()
        cls = _kind_class(kind)
        what = cls.kind if cls is not None else "record"
        given: object = reference  # callers are not always typed
        if isinstance(given, Record):
            if cls is not None and not isinstance(given, cls):
                raise ValidationError(f"{given.label()} is not a {cls.kind}")
            text = given.id
        elif isinstance(given, str) and given.strip():
            text = given.strip()
        else:
            raise ValidationError(
                f"a {what} is named by the record, its id or its slug; got {reference!r}"
            )
        found = self._resolved(text, cls) if self.exists() else None
        if found is None:
            raise self._not_found(text, cls)
        if found.deleted and not include_deleted:
            error = NotFoundError(
                f"{found.label()} is deleted; restore it first (store.restore({found.id!r}), "
                f"`experiments restore {found.id}`)"
            )
            error.kind, error.deleted_id = found.kind, found.id
            raise error
        return found

    def _resolved(self, text: str, cls: type[Record] | None) -> Record | None:
        """The record ``text`` names by id, then by slug; a live one before a deleted one."""
        candidates = [text] if ID_PATTERN.fullmatch(text) else []
        if SLUG_PATTERN.fullmatch(text) and len(text) <= 100:  # noqa: PLR2004 - slug limit
            kinds = [cls] if cls is not None else list(KINDS.values())
            candidates += [k.id_for_slug(text) for k in kinds]
        fallback: Record | None = None
        for candidate in candidates:
            data = self._load(candidate)
            if data is None or (cls is not None and data.get("kind") != cls.kind):
                continue
            record = self._decode(data)
            if candidate != text and getattr(record, "pseudonymous", False):
                continue  # found by a slug: a pseudonymous person is named by id only
            if not record.deleted:
                return record
            fallback = fallback or record
        return fallback

    def _not_found(self, text: str, cls: type[Record] | None) -> NotFoundError:
        kinds = [cls] if cls is not None else list(KINDS.values())
        slugs = [s for k in kinds for s in self._slugs(k)] if self.exists() else []
        close = difflib.get_close_matches(text, slugs, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        what = cls.kind if cls is not None else "record"
        error = NotFoundError(f"no {what} with id or slug {text!r} in {self.url.redacted}{hint}")
        error.kind = None if cls is None else cls.kind
        return error

    def _slugs(self, cls: type[Record]) -> list[str]:
        """The slugs of the live records of ``cls`` a suggestion may name."""
        group = ["slug", "pseudonymous"] if cls.kind == "participant" else ["slug"]
        rows = self.aggregate(cls, group_by=group, measures={})
        return sorted(row["slug"] for row in rows if row["slug"] and not row.get("pseudonymous"))

    def resolve_where(
        self, kind: type[Record] | str, where: Expr | str | None = None, **filters: object
    ) -> Expr | None:
        """``where`` and ``filters`` with every reference given as an id or slug made an id.

        For filters a person typed (``--filter experiment=art-for-families``): a value of
        a field that refers to other records (``experiment``, ``objectives``, ...) is
        resolved like :meth:`resolve` does, deleted records included, so that a filter
        never silently matches nothing because of a slug.

        Raises:
            NotFoundError: a reference names no record of the kind its field refers to.
            ValidationError: an unknown field, or a value the field cannot take.
        """
        kind_name = _kind_name(kind)
        expr = combine(where, filters)
        if expr is None or kind_name is None:
            return expr
        bind(kind_name, expr)  # field names and values checked before anything is looked up
        return self._resolved_expr(kind_name, expr)

    def _resolved_expr(self, kind: str, expr: Expr) -> Expr:
        if isinstance(expr, All | AnyOf):
            return type(expr)(tuple(self._resolved_expr(kind, part) for part in expr.parts))
        if isinstance(expr, Not):
            return Not(self._resolved_expr(kind, expr.part))
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
            return self.resolve(given, cls, include_deleted=True).id

        value = (
            tuple(one(v) for v in expr.value) if isinstance(expr.value, tuple) else one(expr.value)
        )
        return Condition(expr.field, expr.op, value)

    def history(self, id: str) -> list[Record]:  # noqa: A002 - it is an id
        """Every version of ``id``, oldest first: who changed what, and when.

        Raises:
            NotFoundError: no record with that id was ever stored (or it was purged).
        """
        self._check_open()
        record_id = _id_of(id)
        versions = [] if unfit_text(record_id) is not None else self._load_versions(record_id)
        if not versions:
            raise NotFoundError(f"no history for id {_id_of(id)!r} in {self.url.redacted}")
        return [self._decode(data) for data in versions]

    @overload
    def query(
        self,
        kind: type[R],
        where: Expr | str | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[R]: ...
    @overload
    def query(
        self,
        kind: str | None = None,
        where: Expr | str | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[Record]: ...

    def query(
        self,
        kind: type[Record] | str | None = None,
        where: Expr | str | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[Record]:
        """Records of ``kind`` that match, streamed.

        ``where`` is an expression from :mod:`experiments.query` or its text form
        (``"status = running or tag = pilot"``); keyword filters are ANDed to it, a
        list meaning "one of": ``query(Experiment, status=["planned", "running"])``.
        Results come ordered by id unless ``order_by`` names fields (``"-updated_at"``
        for descending).  Soft-deleted records are left out unless asked for.

        Raises:
            ValidationError: an unknown kind or field, or a value the field cannot take.
        """
        rows = self.select_data(
            kind,
            where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            include_deleted=include_deleted,
            pushdown=pushdown,
            **filters,
        )
        return (self._decode(data) for data in rows)

    def select_data(
        self,
        kind: type[Record] | str | None = None,
        where: Expr | str | None = None,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[Mapping[str, Any]]:
        """Like :meth:`query`, but the stored JSON data instead of records (faster)."""
        self._check_open()
        kind_name = _kind_name(kind)
        bound = bind(kind_name, combine(where, filters))
        orders = parse_order(kind_name, order_by)
        _check_count("limit", limit)
        _check_count("offset", offset)
        if pushdown:
            rows = self._select(kind_name, bound, orders, limit, offset, include_deleted)
            if rows is not None:
                return rows
        return self._fallback_select(kind_name, bound, orders, limit, offset, include_deleted)

    def _fallback_select(
        self,
        kind: str | None,
        where: BoundExpr | None,
        orders: tuple[Order, ...],
        limit: int | None,
        offset: int,
        include_deleted: bool,
    ) -> Iterator[Mapping[str, Any]]:
        rows: Iterable[Mapping[str, Any]] = self._current(kind, where, include_deleted)
        if orders:
            key = sort_key(orders)
            if limit is not None:
                rows = heapq.nsmallest(offset + limit, rows, key=key)
            else:
                rows = sorted(rows, key=key)
        stop = None if limit is None else offset + limit
        return itertools.islice(rows, offset, stop)

    def _current(
        self, kind: str | None, where: BoundExpr | None, include_deleted: bool
    ) -> Iterator[Mapping[str, Any]]:
        check = matcher(where)
        for raw in self._scan(kind):
            data = _plain(raw)
            if (include_deleted or data.get("deleted_at") is None) and check(data):
                yield data

    def count(
        self,
        kind: type[Record] | str | None = None,
        where: Expr | str | None = None,
        *,
        include_deleted: bool = False,
        **filters: object,
    ) -> int:
        """How many records of ``kind`` match (see :meth:`query` for the filters)."""
        self._check_open()
        kind_name = _kind_name(kind)
        bound = bind(kind_name, combine(where, filters))
        plan = bind_measures(kind_name, {"n": Count()})
        rows = list(self._grouped(kind_name, bound, [], plan, include_deleted, pushdown=True))
        return int(rows[0]["n"]) if rows else 0

    def aggregate(
        self,
        kind: type[Record] | str | None = None,
        *,
        group_by: str | Sequence[str] = (),
        measures: Mapping[str, Measure] | None = None,
        where: Expr | str | None = None,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[dict[str, Any]]:
        """Counts, sums, minima, maxima and latest values, grouped by fields.

        ``aggregate(Learning, group_by=["hypothesis"], measures={"verdict":
        Latest("verdict", by="observed_at")})`` gives one row per hypothesis with the
        verdict of its latest learning.  A list field in ``group_by`` puts a record in
        one group per element (an empty list in the group None).  Values come as they
        are stored (enum values, ids); minima and maxima of times as UTC instant text.
        Rows come in no particular order; without ``group_by`` there is exactly one.
        Backends with :attr:`Capability.AGGREGATION_PUSHDOWN` compute this in their
        engine, the others stream every matching record once.
        """
        self._check_open()
        kind_name = _kind_name(kind)
        bound = bind(kind_name, combine(where, filters))
        groups = bind_group_by(kind_name, group_by)
        plan = bind_measures(kind_name, measures if measures is not None else {"count": Count()})
        return self._grouped(kind_name, bound, groups, plan, include_deleted, pushdown=pushdown)

    def _grouped(
        self,
        kind_name: str | None,
        bound: BoundExpr | None,
        groups: list[tuple[str, FieldInfo]],
        plan: dict[str, BoundMeasure],
        include_deleted: bool,
        *,
        pushdown: bool,
    ) -> Iterator[dict[str, Any]]:
        if pushdown:
            rows = self._aggregate(kind_name, bound, groups, plan, include_deleted)
            if rows is not None:
                return _ensure_one_row(_as_python(rows, groups, plan), groups, plan)
        computed = aggregate_rows(self._current(kind_name, bound, include_deleted), groups, plan)
        return _ensure_one_row(iter(computed), groups, plan)

    # --- writing ------------------------------------------------------------------

    def batch(self, *, by: str | None = None) -> Batch:
        """Collect writes and commit them all-or-nothing when the ``with`` block ends."""
        self._check_open()
        return Batch(self, by=by)

    def save(self, record: R, *, by: str | None = None) -> R:
        """Store ``record`` as its next revision and return it as stored.

        ``record.revision`` must be the revision currently stored (0 for a new record):
        that is what makes a lost update impossible.

        Raises:
            ConflictError: someone saved a newer revision first (or created the same id);
                read it again, apply your change, save again.
        """
        with self.batch(by=by) as batch:
            saved = batch.save(record)
        return saved

    def save_all(self, records: Iterable[Record], *, by: str | None = None) -> list[Record]:
        """Save many records in one transaction: all of them, or none if one fails."""
        with paused(), self.batch(by=by) as batch:
            saved = [batch.save(record) for record in records]
        return saved

    def create_if_absent(self, record: R, *, by: str | None = None) -> R:
        """Store ``record`` unless its id exists; return whichever is stored.

        Safe when several processes race to create the same slug: they all get the same
        one record.  A soft-deleted record with that id is returned as it is.
        """
        with self.batch(by=by) as batch:
            batch.create_if_absent(record)
        result = batch.results[0]
        if not isinstance(result, type(record)):
            raise ConflictError(
                f"id {record.id!r} is taken by a {result.kind}, not a {record.kind}"
            )
        return result

    def delete(self, record: Record | str, *, by: str | None = None) -> Record:
        """Soft delete: hidden from queries, kept in history, undone by :meth:`restore`."""
        with self.batch(by=by) as batch:
            deleted = batch.delete(record)
        return deleted

    def restore(self, record: Record | str, *, by: str | None = None) -> Record:
        """Undo a soft delete."""
        with self.batch(by=by) as batch:
            restored = batch.restore(record)
        return restored

    def purge(self, record: Record | str) -> PurgeReport:
        """Remove a record and every version of it for good; nothing readable is left.

        Records that cannot stand without it (a participant's participations, an
        experiment's hypotheses and learnings, ...) are purged with it; records that
        merely mention it (a learning resting on a purged participant's voice) get a
        new version without the reference.  All of it happens in one transaction.

        Raises:
            NotFoundError: no record with that id exists.
        """
        with self.batch() as batch:
            report = batch.purge(record)
        # The purge is committed: nothing below may make it look as if it failed.
        purged = set(report.purged)
        conflicts = 0
        while True:
            # The cascade was worked out before the transaction; a record that came to
            # refer to the purged ones in between is found and dealt with now.
            try:
                with self.batch() as sweep:
                    late = sweep.sweep(purged)
            except ConflictError:
                conflicts += 1  # a referrer changed meanwhile: look again
                if conflicts < _SWEEP_TRIES:
                    continue
                problem = "its referrers kept changing"
            except Exception as exc:  # noqa: BLE001 - the purge stands whatever fails here
                problem = str(exc) or type(exc).__name__
            else:
                if not late.purged and not late.unlinked:
                    return report
                purged |= set(late.purged)
                report = PurgeReport(
                    report.purged + late.purged,
                    tuple(dict.fromkeys(report.unlinked + late.unlinked)),
                )
                continue
            warning = (
                f"{', '.join(report.purged)} purged; looking for records that came to refer "
                f"to them during the purge failed ({problem}): run verify() (`experiments "
                "verify`) to list any that still do, and purge or edit them"
            )
            _log.warning("%s", warning)
            return attrs.evolve(report, warnings=(*report.warnings, warning))

    # --- export and import ----------------------------------------------------------

    def export(self) -> Iterator[Record]:
        """Every version of every record, by id and revision: a lossless copy."""
        self._check_open()
        return (self._decode(data) for data in self._scan_versions())

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        """Add exported versions exactly as they were (ids, revisions, times, who).

        Importing the same export twice changes nothing the second time.  The import is
        one transaction: if any version conflicts with a different one already stored
        under the same id and revision, nothing is imported.
        """
        self._check_open()

        def changes() -> Iterator[Change]:
            for record in records:
                if not isinstance(record, Record):
                    raise ValidationError(f"only records can be imported; got {record!r}")
                if record.revision < 1:
                    raise ValidationError(
                        f"{record.label()} has revision {record.revision}; exported versions "
                        "start at revision 1, so this was never stored"
                    )
                yield ImportVersion(record, to_data(record))

        with paused():
            results = self._commit(changes())
        added = sum(1 for r in results if r)
        return ImportReport(added=added, unchanged=len(results) - added)

    # --- verification ---------------------------------------------------------------

    def verify(self) -> list[Damage]:
        """What is damaged in the store, without changing anything.

        Lists unreadable or half-written data, unknown schema versions, records that do
        not validate, references to records that do not exist, objectives that are
        their own ancestors through their ``parent`` links (each save of such a loop was
        valid alone; the roll-up refuses them), experiments whose history makes an
        illegal lifecycle move, and second decisions that revise nothing (both possible
        only in stores written before the store enforced these rules, or by hand).  An
        empty list means every version reads back and every history is legal.
        """
        self._check_open()
        damage: list[Damage] = []
        current: dict[str, Record] = {}
        histories: dict[str, list[Record]] = {}
        for item in self._verify_storage():
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
        return damage

    # --- events ---------------------------------------------------------------------

    def _latest_decision(self, experiment_id: str) -> Decision | None:
        return decision_in_store(self, experiment_id)

    # --- the write path ---------------------------------------------------------------

    def _apply(
        self, changes: list[Change], priors: Mapping[int, ExperimentStatus | None] | None = None
    ) -> list[Any]:
        """Commit ``changes``, then hand the events they made to the plugins.

        ``priors`` holds the status each experiment put (by index) moves from (None for a
        new experiment), which tells which lifecycle events it makes.
        """
        self._check_open()
        if not changes:
            return []
        results = self._commit(changes)
        plugins = self.plugins
        if plugins.listening():
            for event in events_of(self, changes, results, priors or {}, self._latest_decision):
                plugins.dispatch(event)
        return results


def _as_python(
    rows: Iterable[dict[str, Any]],
    groups: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
) -> Iterator[dict[str, Any]]:
    """What an engine answers in its own types, as the fallback answers it.

    Sums become floats; engines without a boolean type answer 0 and 1, which become
    False and True again.
    """
    sums = [label for label, m in measures.items() if isinstance(m.measure, Sum)]
    if sums:
        rows = _floats(rows, sums)
    flags = [name for name, info in groups if info.kind is FieldType.BOOL]
    flags += [
        label
        for label, m in measures.items()
        if m.info is not None
        and m.info.kind is FieldType.BOOL
        and isinstance(m.measure, Min | Max | Latest)
    ]
    if not flags:
        return iter(rows)
    return _with_booleans(rows, flags)


def _floats(rows: Iterable[dict[str, Any]], labels: list[str]) -> Iterator[dict[str, Any]]:
    """Sums are floats, whatever type the engine returns them in."""
    for row in rows:
        for label in labels:
            if row[label] is not None:
                row[label] = float(row[label])
        yield row


def _with_booleans(rows: Iterable[dict[str, Any]], flags: list[str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        for name in flags:
            if row[name] is not None:
                row[name] = bool(row[name])
        yield row


def _ensure_one_row(
    rows: Iterator[dict[str, Any]],
    groups: list[tuple[str, FieldInfo]],
    measures: dict[str, BoundMeasure],
) -> Iterator[dict[str, Any]]:
    """Without grouping there is always one row, even over no records."""
    if groups:
        return rows
    first = next(rows, None)
    if first is not None:
        return itertools.chain([first], rows)
    empty: dict[str, Any] = {}
    for label, measure in measures.items():
        empty[label] = 0 if isinstance(measure.measure, Count | CountDistinct) else None
    return iter([empty])


def missing_store(path: object) -> StoreError:
    """The error for reading a file-based store that does not exist (nothing is created)."""
    return StoreError(
        f"there is no store at {str(path)!r}; check the path, or create one with "
        "`experiments init` (or connect(url, create=True))"
    )


def conflict(record: Record, expected: int, stored: int) -> ConflictError:
    """The error for a save based on a revision that is no longer the stored one."""
    if expected == 0:
        return ConflictError(
            f"{record.label()} already exists (revision {stored}); "
            "get() the stored one, or use create_if_absent()"
        )
    if stored == 0:
        return ConflictError(
            f"{record.label()} was saved over revision {expected}, but it is not in the "
            "store any more (purged); save it as a new record with revision=0"
        )
    return ConflictError(
        f"{record.label()} has changed since this copy was read: the copy is revision "
        f"{expected}, but revision {stored} is stored; get() it again (or pass its id), "
        "apply the change and save that"
    )


def other_kind(record: Record, stored_kind: str) -> ConflictError:
    """The error for a save over an id that a record of another kind has."""
    return ConflictError(
        f"id {record.id!r} belongs to a {stored_kind}; a {record.kind} cannot be saved over it"
    )


def import_conflict(record: Record) -> ConflictError:
    return ConflictError(
        f"{record.label()} revision {record.revision} is already stored with different "
        "content; an import never overwrites history (nothing was imported)"
    )


def _check_count(name: str, value: object) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= sys.maxsize
    ):
        raise ValidationError(
            f"{name} must be a whole number from 0 to {sys.maxsize}; got {shorten(value)}"
        )


def _id_of(record: object) -> str:
    if isinstance(record, Record):
        return record.id
    if not isinstance(record, str) or not record:
        raise ValidationError(f"expected a record or its id; got {shorten(record)}")
    return record


def _kind_name(kind: object) -> str | None:
    if kind is None:
        return None
    if isinstance(kind, type) and issubclass(kind, Record) and KINDS.get(kind.kind) is kind:
        return kind.kind
    if isinstance(kind, str) and kind in KINDS:
        return kind
    if kind is Record:
        raise ValidationError(
            "Record is what every kind has in common, not a kind; give one (Objective, "
            "Experiment, ...) or None for records of every kind"
        )
    raise ValidationError(f"unknown kind {shorten(kind)}; known kinds: {', '.join(KINDS)}")


def _kind_class(kind: object) -> type[Record] | None:
    name = _kind_name(kind)
    return None if name is None else KINDS[name]


_Stamper = Callable[[Any, int, "pendulum.DateTime", "str | None"], Any]
_STAMPERS: dict[type[Record], _Stamper] = {}


def _stamper(cls: type[Record]) -> _Stamper:
    """A function copying a ``cls`` record with a new revision, time and author.

    Written out field by field, as attrs writes ``__init__``: it runs for every record
    of a bulk batch, and a loop over the fields took twice as long.  Nothing is
    validated again: the record was validated when it was made, and the new values are
    valid by construction.
    """
    given = {"revision", "updated_at", "changed_by"}
    lines = [
        "def stamp(record, revision, updated_at, changed_by):",
        "    copied = new(cls)",
        *(
            f"    setattr(copied, {name!r}, {name if name in given else 'record.' + name})"
            for name in (field.name for field in attrs.fields(cls))
        ),
        "    return copied",
    ]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "setattr": object.__setattr__}
    exec("\n".join(lines), namespace)  # noqa: S102 - the text is built from field names only
    made: _Stamper = namespace["stamp"]
    return made


def _replace(record: R, **changes: Any) -> R:
    """A shallow copy of ``record`` with ``changes``, without validating again.

    Only for values valid by construction (a deletion time): the rest of the record was
    validated when it was made.
    """
    copied = object.__new__(type(record))
    for field in attrs.fields(type(record)):
        name = field.name
        object.__setattr__(
            copied, name, changes[name] if name in changes else getattr(record, name)
        )
    return copied


def stamp(record: R, revision: int, at: pendulum.DateTime, by: str | None) -> R:
    """``record`` as revision ``revision``, changed at ``at`` by ``by``."""
    cls = type(record)
    stamper = _STAMPERS.get(cls)
    if stamper is None:
        stamper = _STAMPERS[cls] = _stamper(cls)
    stamped: R = stamper(record, revision, max(at, record.created_at), by)
    return stamped


class Batch:
    """Writes collected and committed together: all of them, or none.

    Use it as a context manager (``with store.batch() as batch: ...``); it commits when
    the block ends without an exception and discards everything otherwise.  Each method
    returns the record as it will be stored, so a batch can save a record and then a
    transition of it: ``batch.save(batch.save(experiment).start())``.
    """

    def __init__(self, store: Store, *, by: str | None = None) -> None:
        checked = checked_name(by, "by")
        self._store = store
        self._by = checked if checked is not None else store.actor
        self._at = now()
        self._changes: list[Change] = []
        self._pending: dict[str, Record] = {}
        self._purged: dict[str, str] = {}
        self._reports: list[PurgeReport] = []
        self._decisions: DecisionLedger | None = None
        self._templates: TemplateRule | None = None
        self._priors: dict[int, ExperimentStatus | None] = {}
        self._done = False
        self.results: list[Any] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self._changes.clear()
            self._done = True

    def _check(self) -> None:
        if self._done:
            raise StoreError("this batch is already committed or discarded; start a new one")

    def _put(self, record: R, expected: int | None, before: Record | None = None) -> R:
        """Add the write of ``record`` over the version ``before`` (None: a new record)."""
        revision = 1 if expected is None else expected + 1
        stamped = stamp(record, revision, self._at, self._by)
        if isinstance(stamped, Experiment):
            self._priors[len(self._changes)] = (
                before.status if isinstance(before, Experiment) else None
            )
        self._changes.append(Put(stamped, to_data(stamped), expected))
        if expected is not None:
            self._pending[record.id] = stamped
        return stamped

    def save(self, record: R) -> R:
        """Add a save of ``record`` (expects its revision to be the stored one).

        Raises:
            ValidationError: an experiment's save that is not a legal lifecycle move from
                the stored version, one that starts or concludes it while a template
                mandatory for its objectives is not satisfied, or a second decision
                that does not revise the first.
        """
        self._check()
        if not isinstance(record, Record):
            raise ValidationError(f"only records can be saved; got {type(record).__name__}")
        if record.id in self._purged:
            raise ValidationError(f"{record.label()} is purged in this batch")
        before = self._enforce(record, record.revision)
        return self._put(record, record.revision, before)

    def create_if_absent(self, record: Record) -> None:
        """Add a create-if-absent; its result (new or existing) is in ``results``."""
        self._check()
        if not isinstance(record, Record):
            raise ValidationError(f"only records can be saved; got {type(record).__name__}")
        self._enforce(record, None)
        self._put(record, None)

    def _enforce(self, record: Record, expected: int | None) -> Record | None:
        """The rules a save must keep (see :mod:`experiments.stores._rules`).

        Returns the version the save replaces, where a rule needed to read it.
        """
        if isinstance(record, Experiment):
            before = self._prior(record.id, expected)
            if isinstance(before, Experiment):
                check_experiment(before, record)
            if record.started_at is not None and self._moves_as_saved(record.id, expected, before):
                if self._templates is None:
                    self._templates = TemplateRule(self._store, self._pending)
                self._templates.check(before if isinstance(before, Experiment) else None, record)
            return before
        if isinstance(record, Decision):
            before = self._prior(record.id, expected)
            if expected and not isinstance(before, Decision):
                return None  # not the stored revision: the commit reports the conflict
            if self._decisions is None:
                self._decisions = DecisionLedger(self._store)
            self._decisions.check(record, before if isinstance(before, Decision) else None)
            return before
        return None

    def _moves_as_saved(self, record_id: str, expected: int | None, before: Record | None) -> bool:
        """Whether a save goes ahead from the version it was read from, so its move counts.

        A save over a revision that is not the stored one is a conflict the commit
        reports, and a create-if-absent of a stored id writes nothing.
        """
        if expected:
            return before is not None
        if expected is None:
            return record_id not in self._pending and (
                not self._store.exists() or self._store._load(record_id) is None  # noqa: SLF001
            )
        return True

    def _prior(self, record_id: str, expected: int | None) -> Record | None:
        """The version a save of revision ``expected`` replaces, if that is what is stored."""
        if not expected:
            return None
        pending = self._pending.get(record_id)
        if pending is not None:
            return pending if pending.revision == expected else None
        data = self._store._load(record_id)  # noqa: SLF001 - the batch belongs to its store
        if data is None or data.get("revision") != expected:
            return None
        return self._store._decode(_plain(data))  # noqa: SLF001

    def find(self, record_id: str) -> Record | None:
        """The record with ``record_id`` as this batch will store it, if the batch saves it."""
        return self._pending.get(record_id)

    @property
    def pending(self) -> Mapping[str, Record]:
        """The records this batch saves, by id, as it will store them (read-only)."""
        return MappingProxyType(self._pending)

    def latest_decision(self, experiment_id: str) -> Decision | None:
        """The latest decision about ``experiment_id`` this batch saves, if it saves one."""
        return latest_decision(
            r
            for r in self._pending.values()
            if isinstance(r, Decision) and r.experiment == experiment_id and not r.deleted
        )

    def _current(self, record: Record | str) -> Record:
        """The latest version: pending in this batch, else stored.

        A record given as itself must be that latest version: acting on a stale copy
        would undo someone else's change (or silently do nothing), so it is a conflict.
        """
        record_id = _id_of(record)
        latest = self._pending.get(record_id) or self._store.get(record_id, include_deleted=True)
        if isinstance(record, Record) and record.revision != latest.revision:
            raise conflict(record, record.revision, latest.revision)
        return latest

    def delete(self, record: Record | str) -> Record:
        """Add a soft delete (a new version with ``deleted_at`` set)."""
        self._check()
        current = self._current(record)
        if current.deleted:
            return current
        return self._put(_replace(current, deleted_at=self._at), current.revision, current)

    def restore(self, record: Record | str) -> Record:
        """Add the undoing of a soft delete."""
        self._check()
        current = self._current(record)
        if not current.deleted:
            return current
        return self._put(_replace(current, deleted_at=None), current.revision, current)

    def purge(self, record: Record | str) -> PurgeReport:
        """Add the purge of a record, with the cascade :meth:`Store.purge` describes."""
        self._check()
        target_id = _id_of(record)
        target = self._store.find(target_id, include_deleted=True)
        if target is None:
            raise NotFoundError(
                f"no record with id {target_id!r} to purge in {self._store.url.redacted}"
            )
        return self._cascade([target], {})

    def sweep(self, purged: set[str]) -> PurgeReport:
        """Add what still refers to records purged before: purged or unlinked in turn."""
        self._check()
        queue: list[Record] = []
        unlinked: dict[str, Record] = {}
        for record_id in purged:
            self._referrers_of(record_id, None, queue, unlinked)
        return self._cascade(queue, unlinked)

    def _referrers_of(
        self,
        victim_id: str,
        victim_kind: str | None,
        queue: list[Record],
        unlinked: dict[str, Record],
    ) -> None:
        """Queue the records that cannot stand without ``victim_id``; unlink the others."""
        for kind, fields in REFERENCES.items():
            for field, (target_kind, cascade) in fields.items():
                if victim_kind is not None and target_kind != victim_kind:
                    continue
                mentions = Condition(field, Op.EQ, victim_id)
                for referrer in self._store.query(kind, mentions, include_deleted=True):
                    if referrer.id in self._purged:
                        continue
                    if cascade:
                        queue.append(referrer)
                        continue
                    base = unlinked.get(referrer.id, referrer)
                    value = getattr(base, field)
                    without = (
                        tuple(v for v in value if v != victim_id)
                        if isinstance(value, tuple)
                        else None
                    )
                    unlinked[referrer.id] = base.evolve(**{field: without})

    def _cascade(self, queue: list[Record], unlinked: dict[str, Record]) -> PurgeReport:
        purged: list[str] = []
        while queue:
            victim = queue.pop()
            if victim.id in self._purged:
                continue
            self._purged[victim.id] = victim.kind
            purged.append(victim.id)
            self._referrers_of(victim.id, victim.kind, queue, unlinked)
        for record_id, cleaned in unlinked.items():
            if record_id not in self._purged:
                self._put(cleaned, cleaned.revision, cleaned)
        for record_id in purged:
            self._changes.append(Purge(record_id))
        report = PurgeReport(tuple(purged), tuple(i for i in unlinked if i not in self._purged))
        self._reports.append(report)
        return report

    def commit(self) -> list[Any]:
        """Write everything collected; done automatically at the end of a ``with`` block."""
        self._check()
        self._done = True
        try:
            with paused():
                self.results = self._store._apply(self._changes, self._priors)  # noqa: SLF001
        except ExperimentsError:
            raise
        except Exception as exc:  # a backend bug must not look like success
            raise StoreError(f"writing to {self._store.url.redacted} failed: {exc}") from exc
        return self.results
