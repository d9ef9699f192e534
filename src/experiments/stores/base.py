"""The store: the API built on a backend's primitives.

:class:`Store` is what :func:`experiments.connect` returns: reading and queries,
writing through batches, export and import, verification and references, all built
on the few primitives of :class:`~experiments.stores.backend.Backend` that each
backend implements.  The parts live in modules of their own: batches, purge and the
rules a write keeps in ``batch`` and ``_rules``, the results of
queries in ``_results``, references in ``_references``, ``verify()`` in
``_integrity``, events in ``_events``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

import attrs

from experiments._collector import paused
from experiments.errors import (
    ConflictError,
    NotFoundError,
    SchemaError,
    StoreError,
    ValidationError,
)
from experiments.model import KINDS, Decision, ExperimentStatus, Participant, Record
from experiments.model._time import DateTimeLike
from experiments.model._validate import checked_name, unfit_text
from experiments.query import (
    BoundExpr,
    BoundMeasure,
    Count,
    Expr,
    FieldInfo,
    Measure,
    aggregate_rows,
    bind,
    bind_group_by,
    bind_measures,
    combine,
    parse_order,
    refuse_oracle,
)
from experiments.serialization import from_data, to_data
from experiments.stores import _erasure, _keys, _privacy, _references
from experiments.stores._events import events_of
from experiments.stores._integrity import verify
from experiments.stores._results import (
    as_python,
    as_python_tuples,
    check_count,
    current,
    ensure_one_row,
    fallback_select,
    id_of,
    kind_class,
)
from experiments.stores._results import kind_name as kind_name_of
from experiments.stores._rules import decision_in_store
from experiments.stores.backend import Backend, Capability
from experiments.stores.batch import Batch, purge, stamp
from experiments.stores.changes import (
    Change,
    Damage,
    ErasureReport,
    ImportReport,
    ImportVersion,
    PurgeReport,
    conflict,
    import_conflict,
    missing_store,
    other_kind,
)

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = [
    "Batch",
    "Capability",
    "Store",
    "conflict",
    "import_conflict",
    "missing_store",
    "other_kind",
    "stamp",
]

R = TypeVar("R", bound=Record)


class Store(Backend):
    """A place where records live, with history, queries and optimistic concurrency.

    Open one with :func:`experiments.connect`.  Use it as a context manager, or call
    :meth:`close`.  Whether one store object may be shared between threads is declared
    by :attr:`capabilities` (:attr:`Capability.THREADSAFE`); every built-in backend is.
    """

    def __init__(
        self, url: StoreURL, *, plugins: Plugins | None = None, actor: str | None = None
    ) -> None:
        self.url = url
        self._plugins = plugins
        self.actor = checked_name(actor, "actor")
        self._key: str | None = None
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
        record_id = id_of(id)
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
        cls = kind_class(kind)
        record = self.find(id, include_deleted=True)
        if record is None or (cls is not None and not isinstance(record, cls)):
            what = cls.kind if cls is not None else "record"
            raise NotFoundError(
                f"no {what} with id {id_of(id)!r} in {self.url.redacted}; "
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
        """The record of ``kind`` (a class or its name) with ``slug``.

        A pseudonymous participant is not found by slug (see :meth:`resolve`).
        """
        cls = kind_class(kind)
        if cls is None:
            raise ValidationError(f"get_by_slug needs a kind; known kinds: {', '.join(KINDS)}")
        self._check_open()
        return _references.by_slug(self, cls, slug, include_deleted=include_deleted)

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
        return _references.resolve(
            self, reference, kind_class(kind), include_deleted=include_deleted
        )

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
        name = kind_name_of(kind)
        expr = combine(where, filters)
        if expr is None or name is None:
            return expr
        return _references.resolve_expr(self, name, expr)

    def history(self, id: str) -> list[Record]:  # noqa: A002 - it is an id
        """Every version of ``id``, oldest first: who changed what, and when.

        Raises:
            NotFoundError: no record with that id was ever stored (or it was purged).
        """
        self._check_open()
        record_id = id_of(id)
        versions = [] if unfit_text(record_id) is not None else self._load_versions(record_id)
        if not versions:
            raise NotFoundError(f"no history for id {id_of(id)!r} in {self.url.redacted}")
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
        kind_name = kind_name_of(kind)
        bound = bind(kind_name, combine(where, filters))
        orders = parse_order(kind_name, order_by)
        refuse_oracle(kind_name, bound, (order.field for order in orders))
        check_count("limit", limit)
        check_count("offset", offset)
        if pushdown:
            rows = self._select(kind_name, bound, orders, limit, offset, include_deleted)
            if rows is not None:
                return rows
        return fallback_select(self, kind_name, bound, orders, limit, offset, include_deleted)

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
        kind_name = kind_name_of(kind)
        bound = bind(kind_name, combine(where, filters))
        refuse_oracle(kind_name, bound)
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
        are stored (enum values, ids), times (in groups, minima, maxima and latest
        values) as UTC instant text, ``2026-09-14T08:00:00.000000Z``.
        Rows come in no particular order; without ``group_by`` there is exactly one.
        Backends with :attr:`Capability.AGGREGATION_PUSHDOWN` compute this in their
        engine, the others stream every matching record once.
        """
        kind_name, bound, groups, plan = self._bind_aggregate(
            kind, group_by, measures, combine(where, filters)
        )
        return self._grouped(kind_name, bound, groups, plan, include_deleted, pushdown=pushdown)

    def _bind_aggregate(
        self,
        kind: type[Record] | str | None,
        group_by: str | Sequence[str],
        measures: Mapping[str, Measure] | None,
        where: Expr | None,
    ) -> tuple[str | None, BoundExpr | None, list[tuple[str, FieldInfo]], dict[str, BoundMeasure]]:
        """An aggregation's kind, filter, groups and measures, checked against the kind."""
        self._check_open()
        kind_name = kind_name_of(kind)
        bound = bind(kind_name, where)
        groups = bind_group_by(kind_name, group_by)
        plan = bind_measures(kind_name, measures if measures is not None else {"count": Count()})
        refuse_oracle(
            kind_name,
            bound,
            (name for name, _ in groups),
            (m.field for m in plan.values() if m.field is not None),
            (m.by for m in plan.values() if m.by is not None),
        )
        return kind_name, bound, groups, plan

    def aggregate_tuples(
        self,
        kind: type[Record] | str | None = None,
        *,
        group_by: str | Sequence[str] = (),
        measures: Mapping[str, Measure] | None = None,
        where: Expr | str | None = None,
        include_deleted: bool = False,
        pushdown: bool = True,
        **filters: object,
    ) -> Iterator[tuple[Any, ...]]:
        """:meth:`aggregate`'s rows as tuples: the ``group_by`` fields, then the measures.

        The same groups and values, in that order in each row; reading a hundred
        thousand groups, tuples cost much less than dicts.
        """
        kind_name, bound, groups, plan = self._bind_aggregate(
            kind, group_by, measures, combine(where, filters)
        )
        if pushdown:
            rows = self._aggregate_tuples(kind_name, bound, groups, plan, include_deleted)
            if rows is not None:
                return as_python_tuples(rows, groups, plan)
        labels = [name for name, _ in groups] + list(plan)
        found = self._grouped(kind_name, bound, groups, plan, include_deleted, pushdown=pushdown)
        return (tuple([row[label] for label in labels]) for row in found)

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
                return ensure_one_row(as_python(rows, groups, plan), groups, plan)
        computed = aggregate_rows(current(self, kind_name, bound, include_deleted), groups, plan)
        return ensure_one_row(iter(computed), groups, plan)

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
        self._check_open()
        return purge(self, record)

    def erase(self, participant: Participant | str, *, vacuum: bool = False) -> ErasureReport:
        """Erase a person from every version in the store, keeping what the roll-up counts.

        Every version of the participant loses its name, slug, consent, retention, tags
        and metadata, and every version of every other record loses the free text that
        quotes the name or slug (it reads ``erased citizen`` instead).  What stays is the
        anonymous remainder: the role, internal or external, the department, whether
        they took part under a pseudonym, and each participation with its stance and
        depth, so the roll-up, the checks and the reports give the same figures before
        and after.  All of it is one transaction; the backend then frees the old data
        (see :attr:`ErasureReport.freed`), and ``vacuum`` asks PostgreSQL to rewrite its
        tables at once (``VACUUM FULL`` and ``CHECKPOINT``, which lock the tables).

        Raises:
            NotFoundError: no participant has that id.
            StoreError: the backend cannot rewrite history (no
                :attr:`Capability.ERASURE`).
            ConflictError: other writers kept changing the records to rewrite; nothing
                was erased, try again.
        """
        self._check_open()
        return _erasure.erase(self, participant, vacuum=vacuum)

    def due_for_erasure(self, at: DateTimeLike | None = None) -> list[Participant]:
        """The participants to erase at ``at`` (default now), as :meth:`erase_due` would.

        Those whose consent was withdrawn by then, and those past their retention
        period (counted from when they were first recorded); not those already erased.
        """
        self._check_open()
        return _erasure.due(self, at)

    def erase_due(
        self, at: DateTimeLike | None = None, *, vacuum: bool = False
    ) -> list[ErasureReport]:
        """Erase everyone :meth:`due_for_erasure` lists, one :meth:`erase` each.

        Each erasure is its own transaction: one that fails leaves those before it
        erased and raises; run it again to erase the rest.
        """
        people = self.due_for_erasure(at)
        reports = [_erasure.erase(self, person) for person in people]
        if vacuum and reports:
            freed = self._free_erased(vacuum=True)
            reports[-1] = attrs.evolve(reports[-1], freed=freed)
        return reports

    # --- export and import ----------------------------------------------------------

    def export(self, *, redact: bool = False) -> Iterator[Record]:
        """Every version of every record, by id and revision: a lossless copy.

        With ``redact`` every participant's personal fields (name, slug) are left out of
        every version, and free text that quotes a participant's name (an observation, a
        facilitator) has it replaced by the role and a digest that stands for the person:
        for sharing the programme with someone who must not know who took part.  Such an
        export is no backup.
        """
        self._check_open()
        if redact:
            return _privacy.redacted_export(self)
        return (self._decode(data) for data in self._scan_versions())

    def count_versions(self) -> int:
        """How many versions :meth:`export` yields, counted without reading them.

        For a count of the work ahead, e.g. a progress bar over an export.
        """
        self._check_open()
        return self._count_versions()

    def import_records(self, records: Iterable[Record]) -> ImportReport:
        """Add exported versions exactly as they were (ids, revisions, times, who).

        Importing the same export twice changes nothing the second time.  The import is
        one transaction: if any version conflicts with a different one already stored
        under the same id and revision, nothing is imported.  Participants exported from
        another store get the ids this store's key gives them (see ``stores/_keys.py``),
        and every reference to them follows.
        """
        self._check_open()

        def changes() -> Iterator[Change]:
            for record in _keys.imported(self, records):
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
        return verify(self)

    # --- settings -------------------------------------------------------------------

    def configuration(self) -> dict[str, str | None]:
        """The settings a person may change (:meth:`configure`), with their values.

        ``require-consent-for-external``: whether an external participant must have
        recorded consent to take part (the check ``privacy/consent-missing``).
        """
        self._check_open()
        return {name: self._setting(name) for name in _keys.SETTINGS}

    def configure(self, name: str, value: str | bool | None) -> None:
        """Set the setting ``name`` (None removes it); see :meth:`configuration`."""
        self._check_open()
        if name not in _keys.SETTINGS:
            raise ValidationError(
                f"unknown setting {name!r}; the settings are: {', '.join(_keys.SETTINGS)}"
            )
        text = _keys.setting_text(name, value)
        self._put_setting(name, text)

    def _participant_id(self, slug: str, *, create: bool = False) -> str:
        """The id of the participant with ``slug`` here (see ``stores/_keys.py``).

        The id of the stored participant with that slug if there is one (an import
        keeps the ids another store gave), else the one this store's key derives.
        ``create`` makes the store first if it does not exist yet, as the write that
        asks would: its key is made with it.
        """
        checked = Participant.checked_slug(slug)
        keyed = _keys.id_for_slug(self._participant_key(create=create), checked)
        if not self.exists():
            return keyed
        bound = bind("participant", combine(None, {"slug": checked}))
        every = True  # deleted ones too: their id stays theirs
        rows = self._select("participant", bound, (), 1, 0, every)
        if rows is None:
            rows = fallback_select(self, "participant", bound, (), 1, 0, every)
        found = [str(data["id"]) for data in rows]
        return found[0] if found else keyed

    def _participant_key(self, *, create: bool = False) -> str | None:
        """The store's key (None for a backend without settings); see ``_participant_id``."""
        if self._key is None:
            if create and not self.exists():
                self._make_now()
            self._key = self._setting(_keys.KEY)
        return self._key

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
