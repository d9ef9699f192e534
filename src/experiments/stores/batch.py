"""Batches: writes collected and committed together, purge and its cascade included.

Every write of a :class:`~experiments.stores.Store` goes through a :class:`Batch`: it
stamps each record with its next revision, time and author, keeps the rules of
``stores/_rules.py``, works out what a purge takes with it, and hands the
changes to the backend's ``_commit`` in one transaction.  A batch is used in a ``with``
block, as a store and a run are.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from experiments._collector import paused
from experiments._scoped import Scoped
from experiments.errors import (
    ConflictError,
    ExperimentsError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from experiments.model import (
    REFERENCES,
    Decision,
    Experiment,
    ExperimentStatus,
    Record,
)
from experiments.model._copies import copy
from experiments.model._time import now
from experiments.model._validate import checked_name
from experiments.model.asof import latest_decision
from experiments.query import Condition, Op
from experiments.serialization import to_data
from experiments.stores._keys import own_id
from experiments.stores._refusals import conflict
from experiments.stores._results import id_of, plain
from experiments.stores._rules import DecisionLedger, TemplateRule, check_experiment
from experiments.stores.changes import Change, Purge, PurgeReport, Put

if TYPE_CHECKING:
    import pendulum

    from experiments.stores.base import Store

__all__ = ["Batch", "copy", "purge", "stamp"]

R = TypeVar("R", bound=Record)

#: How often a purge looks again for late referrers that keep changing under it.
_SWEEP_TRIES: Final = 5


def stamp(record: R, revision: int, at: pendulum.DateTime, by: str | None) -> R:
    """``record`` as revision ``revision``, changed at ``at`` by ``by``."""
    return copy(record, revision=revision, updated_at=max(at, record.created_at), changed_by=by)


class Batch(Scoped):
    """Writes collected and committed together: all of them, or none.

    Use it as a context manager (``with store.batch() as batch: ...``); it commits when
    the block ends without an exception and discards everything otherwise.  Each method
    returns the record as it will be stored, so a batch can save a record and then a
    transition of it: ``batch.save(batch.save(experiment).start())``.
    """

    # Slots: a save makes a batch of its own, and their attributes are set and read
    # on every one.  A weak reference to a batch may still be taken.
    __slots__ = (
        "__weakref__",
        "_at",
        "_by",
        "_changes",
        "_decisions",
        "_done",
        "_pending",
        "_priors",
        "_purged",
        "_reports",
        "_store",
        "_templates",
        "results",
    )

    def __init__(self, store: Store, *, by: str | None = None) -> None:
        checked = None if by is None else checked_name(by, "by")
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

    def _leave(self, exc: BaseException | None) -> None:
        if exc is None:
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
        record = own_id(self._store, record)
        if record.id in self._purged:
            raise ValidationError(f"{record.label()} is purged in this batch")
        before = self._enforce(record, record.revision)
        return self._put(record, record.revision, before)

    def create_if_absent(self, record: Record) -> None:
        """Add a create-if-absent; its result (new or existing) is in ``results``."""
        self._check()
        if not isinstance(record, Record):
            raise ValidationError(f"only records can be saved; got {type(record).__name__}")
        record = own_id(self._store, record)
        self._enforce(record, None)
        self._put(record, None)

    def _enforce(self, record: Record, expected: int | None) -> Record | None:
        """The rules a save must keep (see ``stores/_rules.py``).

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
        return self._store._decode(plain(data))  # noqa: SLF001

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
        record_id = id_of(record)
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
        return self._put(copy(current, deleted_at=self._at), current.revision, current)

    def restore(self, record: Record | str) -> Record:
        """Add the undoing of a soft delete."""
        self._check()
        current = self._current(record)
        if not current.deleted:
            return current
        return self._put(copy(current, deleted_at=None), current.revision, current)

    def purge(self, record: Record | str) -> PurgeReport:
        """Add the purge of a record, with the cascade :meth:`Store.purge` describes."""
        self._check()
        target_id = id_of(record)
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


def purge(store: Store, record: Record | str) -> PurgeReport:
    """Purge ``record`` with its cascade, then sweep up what came to refer to it meanwhile.

    What is purged with it and what gets a new version, and the errors: see
    :meth:`Store.purge <experiments.stores.Store.purge>`.
    """
    with store.batch() as batch:
        report = batch.purge(record)
    # The purge is committed: nothing below may make it look as if it failed.
    purged = set(report.purged)
    conflicts = 0
    while True:
        # The cascade was worked out before the transaction; a record that came to
        # refer to the purged ones in between is found and dealt with now.
        try:
            with store.batch() as sweep:
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
        import logging  # noqa: PLC0415 - only a failed purge logs

        logging.getLogger("experiments.stores").warning("%s", warning)
        return attrs.evolve(report, warnings=(*report.warnings, warning))
