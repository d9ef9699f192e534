"""The store: the API built on a backend's primitives.

:class:`Store` is what :func:`experiments.connect` returns: reading and queries,
writing through batches, export and import, verification and references, all built
on the few primitives of :class:`~experiments.stores.backend.Backend` that each
backend implements.  The parts live in modules of their own, each method handing its
work to one: batches, purge and the rules a write keeps in ``batch`` and ``_rules``;
queries and aggregation in ``_queries``, their results in ``_results``; references
in ``_references``; export and import in ``_transfer``; settings and participant
keys in ``_keys``; erasure in ``_erasure``; ``verify()`` in ``_integrity``; events
in ``_events``; reading one state in ``_snapshots``."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from experiments._collector import paused
from experiments._lazy import lazy_attributes
from experiments._scoped import Scoped
from experiments.errors import ConflictError, SchemaError, StoreError, ValidationError
from experiments.model import KINDS, ExperimentStatus, Participant, Record
from experiments.model._time import DateTimeLike
from experiments.model._validate import checked_name
from experiments.query import Expr, Measure, combine
from experiments.serialization import from_data
from experiments.stores import _events, _keys, _queries, _references, _snapshots
from experiments.stores._refusals import conflict, import_conflict, missing_store, other_kind
from experiments.stores._results import kind_class
from experiments.stores._results import kind_name as kind_name_of
from experiments.stores.backend import Backend, Capability

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.batch import Batch, stamp
    from experiments.stores.changes import (
        Change,
        Damage,
        ErasureReport,
        ImportReport,
        PurgeReport,
    )
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

# Writing (batches, the changes they make) is imported with the first write: a program
# that only reads, as most commands do, never loads it.
if not TYPE_CHECKING:  # type checkers see the names imported above, and no others
    __getattr__ = lazy_attributes(
        __name__,
        {"Batch": "experiments.stores.batch", "stamp": "experiments.stores.batch"},
        globals(),
    )


@functools.cache
def _batch_type() -> type[Batch]:
    """:class:`Batch`, imported with the first write (an import statement in
    :meth:`Store.batch` would cost about a microsecond on every save)."""
    from experiments.stores.batch import Batch  # noqa: PLC0415 - with the first write

    return Batch


class Store(Backend, Scoped):
    """A place where records live, with history, queries and optimistic concurrency.

    Open one with :func:`experiments.connect`.  Use it as a context manager, or call
    :meth:`close`.  Whether one store object may be shared between threads is declared
    by :attr:`capabilities` (:attr:`Capability.THREADSAFE`); every built-in backend is.
    """

    def __init__(
        self,
        url: StoreURL,
        *,
        plugins: Plugins | None = None,
        create: bool | None = None,
        actor: str | None = None,
    ) -> None:
        self.url = url
        self._plugins = plugins
        self._actor_name = checked_name(actor, "actor")
        self._key: str | None = None
        self._closed = False
        self._plugins_lock = threading.Lock()
        self._setup(create)

    def _setup(self, create: bool | None) -> None:
        """Open what is kept at :attr:`url`; ``create`` as :func:`~experiments.connect`'s."""
        del create  # nothing to open here; a backend overrides this, not the constructor

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.redacted}>"

    @property
    def actor(self) -> str | None:
        """Who is writing, recorded as ``changed_by`` on every version saved without a ``by``."""
        return self._actor_name

    @actor.setter
    def actor(self, actor: str | None) -> None:
        # Checked when set: a value no record can hold would be written into the next
        # record saved, which could then not be read back.
        self._actor_name = checked_name(actor, "store.actor")

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

    def _leave(self, exc: BaseException | None) -> None:
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
        return _references.by_id(self, id, include_deleted=include_deleted)

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
        return _references.of_kind(self, id, kind_class(kind), include_deleted=include_deleted)

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

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Read one state of the store in the ``with`` block, in this thread.

        Every read inside sees the store as it was when the block began, whatever others
        write meanwhile, on backends with :attr:`Capability.SNAPSHOT` (every built-in
        one).  Blocks nest; a write inside raises :class:`StoreError` and writes nothing.
        """
        self._check_open()
        return _snapshots.within(self)

    def history(self, id: str) -> list[Record]:  # noqa: A002 - it is an id
        """Every version of ``id``, oldest first: who changed what, and when.

        Raises:
            NotFoundError: no record with that id was ever stored (or it was purged).
        """
        self._check_open()
        return _references.versions(self, id)

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
        return _queries.select_data(
            self, kind, where, filters, order_by, limit, offset, include_deleted, pushdown
        )

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
        return _queries.count(self, kind, where, filters, include_deleted)

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
        expr = combine(where, filters)
        self._check_open()
        grouping = _queries.bind_aggregation(kind, group_by, measures, expr, include_deleted)
        return _queries.aggregate(self, grouping, pushdown)

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
        expr = combine(where, filters)
        self._check_open()
        grouping = _queries.bind_aggregation(kind, group_by, measures, expr, include_deleted)
        return _queries.aggregate_tuples(self, grouping, pushdown)

    # --- writing ------------------------------------------------------------------

    def batch(self, *, by: str | None = None) -> Batch:
        """Collect writes and commit them all-or-nothing when the ``with`` block ends."""
        self._check_open()
        _snapshots.refuse_write(self)  # before a save makes anything (the store, its key)
        return _batch_type()(self, by=by)

    def save(self, record: R, *, by: str | None = None) -> R:
        """Store ``record`` as its next revision and return it as stored.

        ``record.revision`` must be the revision currently stored (0 for a new record):
        that is what makes a lost update impossible.

        Raises:
            ConflictError: someone saved a newer revision first (or created the same id);
                read it again, apply your change, save again.
        """
        # A batch of its own, committed unless the save is refused (then it is dropped):
        # what a ``with`` block would do, without entering and leaving one on every save.
        batch = self.batch(by=by)
        saved = batch.save(record)
        batch.commit()
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
        _snapshots.refuse_write(self)
        from experiments.stores.batch import purge  # noqa: PLC0415 - with the first write

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
        _snapshots.refuse_write(self)
        from experiments.stores import _erasure  # noqa: PLC0415 - a read never needs it

        return _erasure.erase(self, participant, vacuum=vacuum)

    def due_for_erasure(self, at: DateTimeLike | None = None) -> list[Participant]:
        """The participants to erase at ``at`` (default now), as :meth:`erase_due` would.

        Those whose consent was withdrawn by then, and those past their retention
        period (counted from when they were first recorded); not those already erased.
        """
        self._check_open()
        from experiments.stores import _erasure  # noqa: PLC0415 - a read never needs it

        return _erasure.due(self, at)

    def erase_due(
        self, at: DateTimeLike | None = None, *, vacuum: bool = False
    ) -> list[ErasureReport]:
        """Erase everyone :meth:`due_for_erasure` lists, one :meth:`erase` each.

        Each erasure is its own transaction: one that fails leaves those before it
        erased and raises; run it again to erase the rest.
        """
        _snapshots.refuse_write(self)
        from experiments.stores import _erasure  # noqa: PLC0415 - a read never needs it

        return _erasure.erase_due(self, at, vacuum=vacuum)

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
        from experiments.stores import _transfer  # noqa: PLC0415 - only an export needs it

        return _transfer.export(self, redact=redact)

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
        from experiments.stores import _transfer  # noqa: PLC0415 - only an import needs it

        return _transfer.import_records(self, records)

    # --- verification ---------------------------------------------------------------

    def verify(self) -> list[Damage]:
        """What is damaged in the store, without changing anything.

        Lists unreadable or half-written data, unknown schema versions, records that do
        not validate, references to records that do not exist, objectives that are
        their own ancestors through their ``parent`` links (each save of such a loop was
        valid alone; the roll-up refuses them), experiments whose history makes an
        illegal lifecycle move, and second decisions that revise nothing (both possible
        only in stores written before the store enforced these rules, or by hand), and
        a SQL store's rows that are not what their current version writes, and (in
        SQLite) histories without a row, which no query sees: changed by hand, or by an
        older release while a newer one migrated the store.  An empty list means every
        version reads back, every history is legal and every row agrees with it.
        """
        self._check_open()
        from experiments.stores._integrity import verify  # noqa: PLC0415 - only verify() needs it

        return verify(self)

    # --- settings -------------------------------------------------------------------

    def configuration(self) -> dict[str, str | None]:
        """The settings a person may change (:meth:`configure`), with their values.

        ``require-consent-for-external``: whether an external participant must have
        recorded consent to take part (the check ``privacy/consent-missing``).
        """
        self._check_open()
        return _keys.configuration(self)

    def configure(self, name: str, value: str | bool | None) -> None:
        """Set the setting ``name`` (None removes it); see :meth:`configuration`."""
        self._check_open()
        _snapshots.refuse_write(self)
        _keys.configure(self, name, value)

    def _participant_id(self, slug: str, *, create: bool = False) -> str:
        """The id of the participant with ``slug`` here; see ``_keys.participant_id``."""
        return _keys.participant_id(self, slug, create=create)

    def _participant_key(self, *, create: bool = False) -> str | None:
        """The store's key (None for a backend without settings); see ``_participant_id``."""
        if self._key is None:
            self._key = _keys.stored_key(self, create=create)
        return self._key

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
        _snapshots.refuse_write(self)
        results = self._commit(changes)
        _events.dispatch(self, changes, results, priors or {})
        return results
