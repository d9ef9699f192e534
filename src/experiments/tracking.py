"""Logging outcomes from scripts into experiments that run for weeks.

::

    import experiments

    with experiments.track("art-for-families", title="Art for families") as run:
        run.measure("families returning", 7, at="2026-09-14")  # late data is fine
        run.learn("Seven families came twice", hypothesis=h, verdict="supports")

:func:`track` opens an experiment by id or slug, creating it if absent (several
processes asking at once get one experiment) and starting it if it is still planned.
Every call on the run is saved at once, in its own transaction, so an exception loses
nothing already recorded; the exception is written to the experiment as an error
:class:`~experiments.model.Note` and propagates.  Inside ``with run.bulk():`` calls are
collected and saved in one transaction instead.

Records made through a run get ids derived from what they say (the hypothesis's
statement, the learning's observation, the measurement's metric and time), so running
the same script twice records nothing twice.
"""

from __future__ import annotations

import contextlib
import random
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from experiments._scoped import Scoped
from experiments.errors import (
    ConflictError,
    InvalidTypeError,
    NotFoundError,
    ValidationError,
)
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, TimeBoxLike, now, utc_key
from experiments.model._validate import SLUG_PATTERN
from experiments.model.excuse import Excuse, ExcuseReason
from experiments.model.experiment import Decision, Experiment
from experiments.model.hypothesis import AssumptionKind, Criterion, Hypothesis
from experiments.model.learning import Evidence, Learning, Verdict
from experiments.model.lifecycle import ExperimentStatus, Outcome
from experiments.model.measurement import Measurement
from experiments.model.next_step import NextStep
from experiments.model.note import Note, NoteLevel
from experiments.model.objective import KeyResult, Objective
from experiments.model.participant import Involvement, Participant, Participation, Role, Stance
from experiments.model.phase import Phase
from experiments.model.prototype import Fidelity, Prototype
from experiments.model.sprint import Sprint
from experiments.model.template import Gap, Move, Template, next_move
from experiments.stores._keys import own_id
from experiments.stores._references import closest, lookup
from experiments.stores._rules import TemplateRule, decision_in_store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from experiments.stores import Batch, Store

__all__ = [
    "MetricWarning",
    "Run",
    "TemplateWarning",
    "key_result_named",
    "measurement_id",
    "record_excuse",
    "track",
]

R = TypeVar("R", bound=Record)

_MAX_TRIES = 5
#: How often an upsert is tried on the fresh version after losing a race: each loss means
#: another writer's save went through, so only a crowd this large could exhaust it.
_UPSERT_TRIES = 200
_STARTED = frozenset(
    {ExperimentStatus.RUNNING, ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED}
)
_CONCLUDED = frozenset({ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED})


def measurement_id(measurement: Measurement) -> str:
    """The id of a value measured at a known moment: one per experiment, metric and moment.

    Logging the same metric of the same experiment at the same moment again (a script
    run twice, a spreadsheet imported twice) finds the same record, and corrects it.
    """
    what = measurement.key_result or measurement.metric
    key = "/".join([measurement.experiment or "", str(what), utc_key(measurement.measured_at)])
    return Measurement.id_for_key(key)


class MetricWarning(UserWarning):
    """A metric logged by name looks like a mistyped slug of one of the experiment's key
    results.

    :meth:`Run.measure` logs a name that names no key result as a metric of the
    experiment alone, whose values count towards no key result's progress; when the
    name is a slug within a letter or two of a key result's, it warns with this.
    """


class TemplateWarning(UserWarning):
    """An experiment lacks what its template asks for before its next move.

    :func:`track` warns with it when it leaves an experiment planned because a
    mandatory template is not satisfied, or starts one whose own template is not.
    """


def track(
    experiment: Experiment | str,
    *,
    store: Store | None = None,
    title: str | None = None,
    objectives: Objective | str | Iterable[Objective | str] = (),
    time_box: TimeBoxLike | None = None,
    owner: str | None = None,
    template: Template | str | None = None,
    start: bool = True,
    conclude: bool = False,
    by: str | None = None,
) -> Run:
    """Open an experiment for logging; use the result as a context manager.

    Args:
        experiment: an Experiment, its id, or its slug.  A slug that names no experiment
            yet creates one (with ``title``, ``objectives``, ``time_box``, ``owner``).
        objectives: what a new experiment serves: one objective or several, each an
            Objective, its id or its slug (a slug must name a stored objective).
        template: the template (record, id or slug) the experiment starts from: a new
            one takes its time box, scope and hypothesis scaffold where not given, and
            one made before without a template is marked as made from it.
        store: where to log; None opens the default store (``EXPERIMENTS_STORE``, else
            ``experiments.db``) and closes it when the run ends.
        start: start the experiment if it is still planned.  A template that is
            mandatory for its objectives and not satisfied yet leaves it planned
            instead: :attr:`Run.missing` says what is missing, a warning note on the
            experiment and a :class:`TemplateWarning` say so too.
        conclude: conclude the experiment when the ``with`` block ends without an
            exception.  Never done unless asked: experiments run for weeks.
        by: who is logging, recorded on every version written.

    Raises:
        NotFoundError: ``experiment`` is an id (not a slug) that is not in the store, or
            a new experiment's objective or template is a slug no stored one has.
        ValidationError: ``objectives`` is neither an objective nor a collection of
            them, or the experiment was made from another template than ``template``.
    """
    wanted = _references(objectives, "objectives")
    owns_store = store is None
    if store is None:
        from experiments.stores import connect  # noqa: PLC0415 - keeps import light

        store = connect()
    try:
        chosen = None if template is None else store.resolve(template, Template)
        record = _open(store, experiment, title, wanted, time_box, owner, by, chosen, start=start)
        run = Run(store, record, by=by, conclude=conclude, owns_store=owns_store)
        if start and record.status is ExperimentStatus.PLANNED:
            run._start_as_templates_allow()  # noqa: SLF001 - the run's own step
    except BaseException:
        if owns_store:
            store.close()
        raise
    return run


def _open(
    store: Store,
    experiment: Experiment | str,
    title: str | None,
    objectives: Sequence[Objective | str],
    time_box: TimeBoxLike | None,
    owner: str | None,
    by: str | None,
    template: Template | None = None,
    *,
    start: bool = False,
) -> Experiment:
    if isinstance(experiment, Experiment):
        if store.exists() and store.find(experiment.id) is not None:
            return _made_from(store, store.get(experiment.id, Experiment), template, by)
        if template is not None and experiment.template is None:
            experiment = experiment.evolve(template=template.id)
        return _made_from(store, store.create_if_absent(experiment, by=by), template, by)
    given: object = experiment
    if not isinstance(given, str) or not given.strip():
        raise ValidationError(
            f"track() needs an experiment, its id or its slug; got {experiment!r}"
        )
    text = experiment.strip()
    found = lookup(store, text, Experiment)
    if isinstance(found, Experiment) and not found.deleted:
        return _made_from(store, found, template, by)
    if found is not None or not SLUG_PATTERN.fullmatch(text):
        try:
            return _made_from(store, store.resolve(text, Experiment), template, by)
        except NotFoundError as missing:
            # A slug that names no experiment yet makes one; a deleted one is not made again.
            if missing.deleted_id is not None:
                raise
            raise NotFoundError(
                f"{missing}; it is not a slug (lowercase letters, digits and hyphens) that "
                "could name a new experiment either"
            ) from None
    fields: dict[str, Any] = {
        "slug": text,
        "title": title or text.replace("-", " ").capitalize(),
        "objectives": tuple(store.resolve(o, Objective).id for o in objectives),
        "time_box": time_box,
        "owner": owner,
    }
    fresh = Experiment(**fields) if template is None else template.new_experiment(**fields)
    started = _create_started(store, fresh, by) if start else None
    if started is not None:
        return started
    made = store.create_if_absent(fresh, by=by)
    if made.deleted:  # made and deleted by someone else since we looked
        return store.resolve(made.id, Experiment)  # says it is deleted
    return _made_from(store, made, template, by)


def _create_started(store: Store, fresh: Experiment, by: str | None) -> Experiment | None:
    """``fresh`` saved and started in one transaction: its two versions, one commit.

    None, and nothing written, when a template would hold its start back or finds
    something missing (the caller creates it, then starts it as the templates allow and
    says what is missing), or when someone else created it first.
    """
    if TemplateRule(store, {}).gaps(fresh, Move.START, own=True):
        return None
    moment = now()  # before the batch's own time: no version is changed before it started
    try:
        with store.batch(by=by) as batch:
            started = batch.save(batch.save(fresh).start(at=moment))
    except ConflictError:
        return None
    return started


def _made_from(
    store: Store, experiment: Experiment, template: Template | None, by: str | None
) -> Experiment:
    """``experiment``, marked as made from ``template`` if it was made from none.

    Raises:
        ValidationError: it was made from another template.
    """
    if template is None or experiment.template == template.id:
        return experiment
    if experiment.template is not None:
        raise ValidationError(
            f"{experiment.label()} was made from template {experiment.template!r}, not "
            f"{template.label()}; leave template out, or track another experiment"
        )
    for _ in range(_MAX_TRIES):
        try:
            return store.save(experiment.evolve(template=template.id), by=by)
        except ConflictError:
            experiment = store.get(experiment.id, Experiment)
            if experiment.template is not None:
                return _made_from(store, experiment, template, by)
    raise ConflictError(f"{experiment.label()} kept changing; marking its template gave up")


def key_result_named(store: Store, metric: KeyResult | str) -> KeyResult | None:
    """The key result ``metric`` names (the record, its id or slug); None for a metric name.

    A measurement logged for a key result counts towards its progress; any other name is
    a metric of the experiment alone.
    """
    if isinstance(metric, KeyResult):
        return metric
    given: object = metric
    if not isinstance(given, str) or not given.strip():
        return None  # Measurement says what is wrong with it
    found = lookup(store, given.strip(), KeyResult)
    return found if isinstance(found, KeyResult) and not found.deleted else None


def _as_stored(store: Store, people: Any) -> Any:
    """``people``, each new participant in it with the id the store gives them.

    Anything else is left for the record's own validation to name.
    """
    if isinstance(people, str) or not isinstance(people, Iterable):
        return people
    return [own_id(store, p) if isinstance(p, Participant) else p for p in people]


def _references(value: object, name: str) -> tuple[Objective | str, ...]:
    """One objective or a collection of them as a tuple; a text is one, never its letters."""
    if isinstance(value, Objective | str):
        return (value,)
    if type(value) is not tuple and (isinstance(value, bytes) or not isinstance(value, Iterable)):
        raise InvalidTypeError(
            f"{name} must be an objective (record, id or slug) or a list of them; got {value!r}"
        )
    items = tuple(value)
    for item in items:
        if not isinstance(item, Objective | str):
            raise InvalidTypeError(
                f"{name} holds {item!r}; give objectives as records, ids or slugs"
            )
    return items


def record_excuse(
    store: Store,
    *,
    group: str,
    reason: ExcuseReason | str,
    statement: str = "",
    objective: Objective | str | None = None,
    experiment: Experiment | str | None = None,
    by: str | None = None,
) -> Excuse:
    """Write down a group that was not let in, and why ("no bad excuses").

    ``objective`` or ``experiment`` is the place: a record, its id, or its slug (which
    must name a stored one).  Recording the same group and reason for the same place
    twice keeps one excuse, however the reason is spelled (``"no-time"``, ``"No time"``,
    ``ExcuseReason.NO_TIME``) and the place is named.

    Raises:
        ValidationError: a reason outside the register, or not exactly one place.
        NotFoundError: a place given by a slug that no stored record has.
    """
    # Validated first, so a bad reason is reported before any lookup in the store.
    draft = Excuse(
        group=group,
        reason=reason,
        statement=statement,
        objective=objective,
        experiment=experiment,
    )
    places = {
        "objective": None if objective is None else store.resolve(objective, Objective).id,
        "experiment": None if experiment is None else store.resolve(experiment, Experiment).id,
    }
    place_id = places["objective"] or places["experiment"]
    key = f"{place_id}/{draft.group}/{draft.reason.value}"
    excuse = draft.evolve(id=Excuse.id_for_key(key), **places)
    return store.create_if_absent(excuse, by=by)


class Run(Scoped):
    """An experiment open for logging; see :func:`track`."""

    def __init__(
        self,
        store: Store,
        experiment: Experiment,
        *,
        by: str | None = None,
        conclude: bool = False,
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self._experiment = experiment
        self._by = by
        self._conclude = conclude
        self._owns_store = owns_store
        self._batch: Batch | None = None
        self._key_results: dict[str, KeyResult | None] = {}
        self._free_metrics: set[str] = set()  # names measure() compared with key results

    def __repr__(self) -> str:
        return f"<Run {self._experiment.label()} in {self.store.url.redacted}>"

    @property
    def experiment(self) -> Experiment:
        """The experiment as last written or read by this run."""
        return self._experiment

    # --- context manager -------------------------------------------------------------

    def _leave(self, exc: BaseException | None) -> None:
        try:
            if exc is None:
                if self._conclude and self._experiment.status is ExperimentStatus.RUNNING:
                    self.conclude()
            elif isinstance(exc, Exception):
                self._record_failure(exc)
        finally:
            if self._owns_store:
                self.store.close()

    def _record_failure(self, exc: Exception) -> None:
        details = "".join(traceback.format_exception(exc))
        note = Note(
            experiment=self._experiment.id,
            text=f"script failed: {type(exc).__name__}: {exc}"[:500],
            level=NoteLevel.ERROR,
            details=details,
        )
        with contextlib.suppress(Exception):  # never hide the script's own exception
            self.store.save(note, by=self._by)

    @contextlib.contextmanager
    def bulk(self) -> Iterator[Self]:
        """Collect every call inside the block and save them in one transaction."""
        if self._batch is not None:
            yield self
            return
        with self.store.batch(by=self._by) as batch:
            self._batch = batch
            try:
                yield self
            finally:
                self._batch = None

    # --- writing helpers ---------------------------------------------------------------

    def _save(self, record: R) -> R:
        if self._batch is not None:
            return self._batch.save(record)
        return self.store.save(record, by=self._by)

    def _find(self, record_id: str) -> Record | None:
        """The latest version of ``record_id``: as this run's bulk batch holds it, else stored.

        Inside ``bulk()`` nothing is stored until the block ends, so a record made earlier
        in the same block is found only in the batch.
        """
        pending = self._batch.find(record_id) if self._batch is not None else None
        return pending or self.store.find(record_id, include_deleted=True)

    def _upsert(self, record: R, same: Sequence[str] = ()) -> R:
        """Create ``record``, or give the stored one the values of the fields in ``same``.

        Callers racing on one id each either create it or replace those values: a save
        that lost the race is made again on the fresh version, so none of them sees a
        :class:`~experiments.errors.ConflictError` (the last one's values stay).
        """
        record = own_id(self.store, record)  # a participant's id is the store's to give
        if self._batch is not None:
            found = self._find(record.id)
            if found is None:
                return self._batch.save(record)
            return self._changed(found, record, same)
        stored: Record | None = self.store.create_if_absent(record, by=self._by)
        for attempt in range(_UPSERT_TRIES):
            if stored is None:  # purged since: make it again
                stored = self.store.create_if_absent(record, by=self._by)
            try:
                return self._changed(stored, record, same)
            except ConflictError:
                # Someone else saved it first; back off a little, so that a crowd of
                # writers does not collide again at once, and apply ours on theirs.
                time.sleep(random.uniform(0, 0.001 * (attempt + 1)))  # noqa: S311 - jitter
                stored = self.store.find(record.id, include_deleted=True)
        raise ConflictError(
            f"{record.label()} was changed by others {_UPSERT_TRIES} times while this "
            "run tried to save it; try again"
        )

    def _changed(self, stored: Record, record: R, same: Sequence[str]) -> R:
        """``stored`` with the values of ``record`` in ``same``, saved if any differ."""
        if not isinstance(stored, type(record)):
            raise ValidationError(f"id {record.id!r} is taken by a {stored.kind}")
        changes = {
            name: getattr(record, name)
            for name in same
            if getattr(stored, name) != getattr(record, name)
        }
        if stored.revision and changes:
            return self._save(stored.evolve(**changes))
        return stored

    def _key(self, kind: type[Record], *parts: object) -> str:
        return kind.id_for_key("/".join([self._experiment.id, *map(str, parts)]))

    def move(self, move: str, **kwargs: Any) -> Experiment:
        """Make the lifecycle ``move`` ("start", "conclude", "abandon") strictly.

        Unlike :meth:`start` and :meth:`conclude`, which do nothing once the experiment is
        past that point, a move the current status forbids raises
        :class:`~experiments.errors.TransitionError`.  A save that lost a race is retried
        on the fresh version.
        """
        for _ in range(_MAX_TRIES):
            current = self._experiment
            if move not in current.legal_moves:
                moved: Experiment = getattr(current, move)(**kwargs)  # raises TransitionError
                return moved
            try:
                self._experiment = self._save(getattr(current, move)(**kwargs))
            except ConflictError:
                latest = self.store.get(current.id, Experiment)
                self._experiment = latest
                if latest.status is not current.status:
                    return latest  # someone else made a move; ours may no longer apply
                continue
            return self._experiment
        raise ConflictError(f"{self._experiment.label()} kept changing; {move} gave up")

    # --- templates -----------------------------------------------------------------------

    @property
    def missing(self) -> tuple[str, ...]:
        """What the experiment still lacks for its next move under its templates.

        Read from the store each time it is asked, so it empties as the script records
        what was missing.  Empty once every template it is held to (mandatory for its
        objectives, or the one it was made from) is satisfied, or when it has no move
        left that a template holds (it is concluded, decided or abandoned).
        """
        return tuple(
            f"{item} (template {template.title!r})"
            for template, _, missing in self._gaps()
            for item in missing
        )

    def _gaps(self) -> list[tuple[Template, bool, tuple[Gap, ...]]]:
        move = next_move(self._experiment.status)
        if move is None:
            return []
        pending = self._batch.pending if self._batch is not None else {}
        return TemplateRule(self.store, pending).gaps(self._experiment, move, own=True)

    def _start_as_templates_allow(self) -> None:
        """Start the experiment unless a mandatory template forbids it; say what is missing."""
        gaps = self._gaps()
        blocked = any(mandatory for _, mandatory, _ in gaps)
        if not blocked:
            self.start()
        if not gaps:
            return
        what = "; ".join(
            f"{'mandatory ' if mandatory else ''}template {template.title!r} needs "
            + ", ".join(map(str, missing))
            for template, mandatory, missing in gaps
        )
        text = (
            f"not started: {what}; record what is missing, then start it"
            if blocked
            else f"started without what its {what}"
        )
        note = Note(
            id=self._key(Note, "template", text),
            experiment=self._experiment.id,
            text=text[:500],
            level=NoteLevel.WARNING,
        )
        self.store.create_if_absent(note, by=self._by)
        warnings.warn(f"{self._experiment.label()} {text}", TemplateWarning, stacklevel=3)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, *, at: DateTimeLike | None = None) -> Experiment:
        """Start the experiment (planned -> running); nothing to do once it has started."""
        if self._experiment.status in _STARTED:
            return self._experiment
        return self.move("start", at=at)

    def conclude(self, *, at: DateTimeLike | None = None) -> Experiment:
        """Conclude the experiment (running -> concluded); nothing to do once it has."""
        if self._experiment.status in _CONCLUDED:
            return self._experiment
        return self.move("conclude", at=at)

    def abandon(self, reason: str, *, at: DateTimeLike | None = None) -> Experiment:
        """Abandon the experiment before it concludes, saying why."""
        if self._experiment.status is ExperimentStatus.ABANDONED:
            return self._experiment
        return self.move("abandon", reason=reason, at=at)

    def decide(
        self,
        outcome: Outcome | str,
        *,
        rationale: str = "",
        decided_by: str | None = None,
        next_steps: Iterable[NextStep | str] = (),
        at: DateTimeLike | None = None,
        revise: bool = False,
    ) -> Decision:
        """Record the decision after the experiment and move it to decided, together.

        ``next_steps`` are what follows, each as text or a
        :class:`~experiments.NextStep` with its owner and due date.

        Deciding again the way it was decided changes nothing (a script run twice).  To
        change a decision, pass ``revise=True`` with a ``rationale``: the new decision
        revises the one in force, which stays in the record of what was decided when.

        Raises:
            TransitionError: the experiment is not concluded (nor decided, to revise).
            ValidationError: a different decision on a decided experiment without
                ``revise=True``, or a revision without a rationale.
        """
        extra: dict[str, Any] = {} if at is None else {"decided_at": at}
        draft = Decision(
            id=self._key(Decision, "decision"),
            experiment=self._experiment.id,
            outcome=outcome,
            rationale=rationale,
            decided_by=decided_by or self._by,
            next_steps=tuple(next_steps),
            **extra,
        )
        in_force = self._decision_in_force()
        if in_force is None:
            if revise:
                raise ValidationError(
                    f"{self._experiment.label()} has no decision to revise; decide without "
                    "revise=True"
                )
            decided = self._experiment.decide(draft)
            if self._batch is not None:
                saved = self._batch.save(draft)
                self._experiment = self._batch.save(decided)
                return saved
            with self.store.batch(by=self._by) as batch:
                saved = batch.save(draft)
                self._experiment = batch.save(decided)
            return saved
        if in_force.outcome is draft.outcome and (not revise or in_force.rationale == rationale):
            return in_force  # decided so already: a script run again
        if not revise:
            raise ValidationError(
                f"{self._experiment.label()} is already decided: {in_force.outcome} "
                f"({in_force.id}); to change the decision, revise it with the reason why: "
                f"run.decide({draft.outcome.value!r}, rationale=..., revise=True) "
                f"(`experiments decide {self._experiment.slug or self._experiment.id} "
                f"{draft.outcome.value} --revise --rationale TEXT`)"
            )
        revision = in_force.revised(
            draft.outcome,
            rationale=rationale,
            decided_by=draft.decided_by,
            next_steps=draft.next_steps,
            **extra,
        ).evolve(id=self._key(Decision, "revision", in_force.id))
        return self._save(revision)

    def _decision_in_force(self) -> Decision | None:
        """The latest decision about a decided experiment, as this run would store it."""
        if self._experiment.status is not ExperimentStatus.DECIDED:
            return None
        pending = self._batch.latest_decision(self._experiment.id) if self._batch else None
        if pending is not None:
            return pending
        return decision_in_store(self.store, self._experiment.id)

    # --- what a run records ------------------------------------------------------------

    def measure(
        self,
        metric: KeyResult | str,
        value: float,
        *,
        at: DateTimeLike | None = None,
        unit: str | None = None,
        participant: Participant | str | None = None,
    ) -> Measurement:
        """Log a value for a key result or a named metric, measured now or at ``at``.

        ``metric`` is a key result (the record, its id or its slug), whose progress the
        value then counts towards, or else the name of a metric of the experiment.
        Logging the same metric at the same ``at`` again replaces the value (a
        correction) and keeps the old one in the history, even from several processes at
        once: each either writes the value or replaces it, none gets a conflict.
        """
        extra: dict[str, Any] = {} if at is None else {"measured_at": at}
        key_result = metric if isinstance(metric, KeyResult) else self._key_result(metric)
        if key_result is not None:
            fields: dict[str, Any] = {
                "key_result": key_result.id,
                "metric": key_result.metric,
                "unit": unit or key_result.unit,
            }
        else:
            fields = {"metric": metric, "unit": unit}
            self._warn_if_mistyped(metric)
        draft = Measurement(
            value=value,
            experiment=self._experiment.id,
            participant=participant,
            **fields,
            **extra,
        )
        if at is None:
            return self._save(draft)
        keyed = draft.evolve(id=measurement_id(draft))
        return self._upsert(keyed, same=("value", "unit", "participant"))

    def _warn_if_mistyped(self, metric: object) -> None:
        """A :class:`MetricWarning` when ``metric`` looks like a mistyped key result slug.

        Only a name shaped like a slug is compared, with the slugs of the key results of
        the experiment's objectives, once per name and run.
        """
        if not isinstance(metric, str) or metric in self._free_metrics:
            return
        self._free_metrics.add(metric)
        linked = list(self._experiment.objectives)
        if not linked or not SLUG_PATTERN.fullmatch(metric):
            return
        slugs = [k.slug for k in self.store.query(KeyResult, objective=linked) if k.slug]
        # Closer than a look-up's suggestions: this warns of a name that is no mistake.
        close = closest(metric, slugs, most=1, cutoff=0.8)
        if close:
            warnings.warn(
                f"{metric!r} names no key result, so its value is a metric of "
                f"{self._experiment.label()} alone and counts towards no key result's "
                f"progress; did you mean the key result {close[0]!r}?",
                MetricWarning,
                stacklevel=3,
            )

    def _key_result(self, metric: str) -> KeyResult | None:
        given: object = metric
        if not isinstance(given, str):
            return None  # Measurement says what is wrong with it
        if metric not in self._key_results:
            self._key_results[metric] = key_result_named(self.store, metric)
        return self._key_results[metric]

    def hypothesis(
        self,
        statement: str,
        *,
        criterion: Criterion | str | Mapping[str, Any] | None = None,
        assumption: AssumptionKind | str | None = None,
    ) -> Hypothesis:
        """The experiment's hypothesis with this statement, created if it is new."""
        draft = Hypothesis(  # checked first: the id is made from what it holds
            experiment=self._experiment.id,
            statement=statement,
            criterion=criterion,
            assumption=assumption,
        )
        draft = draft.evolve(id=self._key(Hypothesis, draft.statement.strip()))
        return self._upsert(draft, same=("criterion", "assumption"))

    def learn(
        self,
        observation: str,
        *,
        hypothesis: Hypothesis | str | None = None,
        verdict: Verdict | str | None = None,
        evidence: Evidence | str = Evidence.WEAK,
        insight: str = "",
        participants: Iterable[Participant | str] = (),
        next_action: NextStep | str | None = None,
        at: DateTimeLike | None = None,
    ) -> Learning:
        """Record what was observed and learned, and the verdict on a hypothesis.

        ``next_action`` is what will be done about it: text, or a
        :class:`~experiments.NextStep` with an owner and a due date to follow it up by.
        """
        hypothesis_id = hypothesis.id if isinstance(hypothesis, Record) else hypothesis
        extra: dict[str, Any] = {} if at is None else {"observed_at": at}
        draft = Learning(  # checked first: the id is made from what it holds
            experiment=self._experiment.id,
            observation=observation,
            hypothesis=hypothesis_id,
            verdict=verdict,
            evidence=evidence,
            insight=insight,
            participants=_as_stored(self.store, participants),
            next_action=next_action,
            **extra,
        )
        draft = draft.evolve(id=self._key(Learning, draft.hypothesis, draft.observation.strip()))
        return self._upsert(
            draft, same=("verdict", "evidence", "insight", "participants", "next_action")
        )

    def participant(
        self,
        participant: Participant | str,
        *,
        stance: Stance | str = Stance.NEUTRAL,
        involvement: Involvement | str = Involvement.CONSULTED,
    ) -> Participation:
        """Record that someone takes part, with their stance and how deeply.

        ``participant`` is a Participant (saved first if it is new), or a stored one's id
        or slug (a pseudonymous participant's id only).  Recording the same person again
        updates their stance and involvement.
        """
        draft = Participation(
            experiment=self._experiment.id,
            participant=self._person(participant),
            stance=stance,
            involvement=involvement,
        )
        return self._upsert(draft, same=("stance", "involvement"))

    def prototype(
        self,
        title: str,
        *,
        fidelity: Fidelity | str | None = None,
        link: str | None = None,
        description: str | None = None,
        shown_at: DateTimeLike | None = None,
    ) -> Prototype:
        """The experiment's prototype with this title; a changed one becomes its next version."""
        draft = Prototype(  # checked first: the id is made from what it holds
            experiment=self._experiment.id,
            title=title,
            fidelity=fidelity or Fidelity.SKETCH,
            link=link,
            description=description or "",
            shown_at=shown_at,
        )
        draft = draft.evolve(id=self._key(Prototype, draft.title.strip()))
        existing = self._find(draft.id)
        if existing is None:
            return self._upsert(draft)
        if not isinstance(existing, Prototype):
            raise ValidationError(f"id {draft.id!r} is taken by a {existing.kind}")
        stored = existing
        changes: dict[str, Any] = {}
        if fidelity is not None and stored.fidelity != draft.fidelity:
            changes["fidelity"] = draft.fidelity
        if link is not None and stored.link != draft.link:
            changes["link"] = draft.link
        if description is not None and stored.description != draft.description:
            changes["description"] = draft.description
        if changes:
            stored = self._save(stored.evolve(version=stored.version + 1, **changes))
        if shown_at is not None and stored.shown_at is None:
            stored = self._save(stored.shown(shown_at))
        return stored

    def sprint(
        self,
        sprint: Sprint | str,
        *,
        title: str | None = None,
        challenge: str | None = None,
        time_box: TimeBoxLike | None = None,
        team: Iterable[Participant | str] = (),
        facilitators: Iterable[str] = (),
    ) -> Sprint:
        """Put the experiment in a sprint, made if it is new, and return the sprint.

        ``sprint`` is a Sprint (saved first if it is new), or a stored one's id or slug;
        a slug that names no sprint yet makes one (with ``title``, default from the
        slug).  ``challenge`` and ``time_box`` replace the sprint's when given; the
        people in ``team`` (records, ids or slugs) and ``facilitators`` join it, and
        nobody leaves it: running the script again changes nothing.
        """
        stored = self._sprint(sprint, title)
        members = [self._person(p) for p in team]
        changes: dict[str, Any] = {}
        if challenge is not None and challenge != stored.challenge:
            changes["challenge"] = challenge
        if time_box is not None:
            changes["time_box"] = time_box
        joined = tuple(dict.fromkeys((*stored.team, *members)))
        if joined != stored.team:
            changes["team"] = joined
        named = tuple(dict.fromkeys((*stored.facilitators, *facilitators)))
        if named != stored.facilitators:
            changes["facilitators"] = named
        if changes:
            draft = stored.evolve(**changes)
            if draft != stored:
                stored = self._save(draft)
        if self._experiment.sprint != stored.id:
            self._experiment = self._save(self._experiment.evolve(sprint=stored.id))
        return stored

    def _sprint(self, sprint: Sprint | str, title: str | None) -> Sprint:
        """The sprint ``sprint`` names, made if it is new."""
        if isinstance(sprint, Sprint):
            found = self._find(sprint.id)
            if isinstance(found, Sprint):
                return found
            return self._upsert(sprint)
        given: object = sprint
        if not isinstance(given, str) or not given.strip():
            raise ValidationError(
                f"run.sprint() needs a sprint, its id or its slug; got {sprint!r}"
            )
        text = sprint.strip()
        if SLUG_PATTERN.fullmatch(text):
            found = self._find(Sprint.id_for_slug(text))
            if isinstance(found, Sprint) and not found.deleted:
                return found
        try:
            return self.store.resolve(text, Sprint)
        except NotFoundError as missing:
            if missing.deleted_id is not None or not SLUG_PATTERN.fullmatch(text):
                raise
        return self._upsert(Sprint(slug=text, title=title or text.replace("-", " ").capitalize()))

    def _person(self, participant: Participant | str) -> str:
        """The id of a participant given as a record (saved if new), an id or a slug."""
        if isinstance(participant, Participant):
            return (self._upsert(participant) if participant.revision == 0 else participant).id
        found = self._find(participant)
        if not isinstance(found, Participant) or found.deleted:
            found = self.store.resolve(participant, Participant)  # says what is wrong
        return found.id

    def phase(
        self,
        title: str,
        *,
        sprint: Sprint | str | None = None,
        position: int | None = None,
        time_box: TimeBoxLike | None = None,
        participants: Iterable[Participant | str] = (),
        roles: Iterable[Role | str] = (),
        involvement: Involvement | str | None = None,
        description: str | None = None,
    ) -> Phase:
        """A phase of the sprint's process design: when it is, who takes part, how deeply.

        ``sprint`` is the run's sprint unless given (see :meth:`sprint`).  The phase
        with this title in that sprint is made if it is new; what is given replaces what
        it had, and ``participants`` (records, ids or slugs) join it.
        """
        target = self._sprint(sprint, None) if sprint is not None else self._own_sprint()
        wanted_roles = tuple(roles)
        draft = Phase(  # checked first: the id is made from what it holds
            sprint=target.id,
            title=title,
            position=position or 1,
            time_box=time_box,
            roles=wanted_roles,
            involvement=involvement or Involvement.CO_CREATING,
            description=description or "",
        )
        draft = draft.evolve(
            id=Phase.id_for_key(f"{target.id}/{draft.title.strip()}"),
            participants=tuple(self._person(p) for p in participants),
        )
        existing = self._find(draft.id)
        if not isinstance(existing, Phase) or existing.deleted:
            return self._upsert(draft)
        changes: dict[str, Any] = {
            "participants": tuple(dict.fromkeys((*existing.participants, *draft.participants)))
        }
        for name, given in (
            ("position", position),
            ("time_box", time_box),
            ("involvement", involvement),
            ("description", description),
        ):
            if given is not None:
                changes[name] = getattr(draft, name)
        if wanted_roles:
            changes["roles"] = draft.roles
        return self._changed(existing, existing.evolve(**changes), list(changes))

    def _own_sprint(self) -> Sprint:
        if self._experiment.sprint is None:
            raise ValidationError(
                f"{self._experiment.label()} is in no sprint; give sprint=, or put it in "
                "one first with run.sprint()"
            )
        found = self._find(self._experiment.sprint)
        if isinstance(found, Sprint) and not found.deleted:
            return found
        return self.store.resolve(self._experiment.sprint, Sprint)

    def note(
        self, text: str, *, level: NoteLevel | str = NoteLevel.INFO, details: str = ""
    ) -> Note:
        """Add a dated remark to the experiment's log."""
        return self._save(
            Note(experiment=self._experiment.id, text=text, level=level, details=details)
        )

    def excuse(self, group: str, reason: ExcuseReason | str, statement: str = "") -> Excuse:
        """Write down a group this experiment did not let in, and the reason given."""
        return record_excuse(
            self.store,
            group=group,
            reason=reason,
            statement=statement,
            experiment=self._experiment,
            by=self._by,
        )
