"""Checks: the brave moves of the practice as rules a programme is held to.

A strategy that lives behind closed doors, with only the satisfied customers, without
the front line and without follow-up fails; checks make that visible before a leader
has to ask.  Run them on one experiment, one objective (with its sub-objectives) or the
whole store::

    report = run_checks(store, objective="welfare-in-100-days")
    for finding in report.findings:
        print(finding)

Thresholds are options per check id (``options={"start-small/long-time-box": {"max":
"P8W"}}``); any check can be switched off (``disabled={"frontline/no-frontline"}``).
Plugins add their own through the ``register_checks`` hook, exactly as the built-in
ones are added.  A check that raises does not stop the others: its failure is reported
as a finding, and in :attr:`CheckReport.errors` as a
:class:`~experiments.errors.PluginError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from experiments._progress import ProgressHook, counted
from experiments.asof import AsOf
from experiments.checks._message import Message, Share, plural
from experiments.checks._options import (
    BOOLEAN_OPTION,
    DURATION_OPTION,
    LIST_OPTION,
    NUMBER_OPTION,
    OptionKind,
)
from experiments.checks.base import Check, CheckContext, Finding, Severity
from experiments.errors import InvalidTypeError, PluginError, ValidationError
from experiments.model import Experiment, Objective
from experiments.model._time import DateTimeLike, argument, parse_datetime

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores import Store

__all__ = [
    "BOOLEAN_OPTION",
    "DURATION_OPTION",
    "LIST_OPTION",
    "NUMBER_OPTION",
    "Check",
    "CheckContext",
    "CheckReport",
    "Finding",
    "Message",
    "OptionKind",
    "Severity",
    "Share",
    "plural",
    "run_checks",
]

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@attrs.frozen
class CheckReport:
    """Everything the checks found, most urgent first, and which checks ran."""

    at: pendulum.DateTime
    findings: tuple[Finding, ...]
    checks: tuple[str, ...]
    errors: tuple[PluginError, ...] = ()

    @property
    def ok(self) -> bool:
        """No findings at all."""
        return not self.findings

    def by_check(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.check, []).append(finding)
        return grouped


def _configured(options: object) -> dict[str, Mapping[str, Any]]:
    """``options`` as given to :func:`run_checks`, its shape checked."""
    if options is None:
        return {}
    example = "e.g. {'start-small/long-time-box': {'max': 'P8W'}}"
    if not isinstance(options, Mapping):
        raise InvalidTypeError(
            f"options must map check ids to their options, {example}; got {options!r}"
        )
    for check_id, values in options.items():
        if not isinstance(values, Mapping):
            raise InvalidTypeError(
                f"options for check {check_id!r} must map option names to values, {example}; "
                f"got {values!r}"
            )
    return dict(options)


def _ids(disabled: object) -> set[str]:
    """The check ids in ``disabled``; one text is refused, not taken letter by letter."""
    if isinstance(disabled, str | bytes) or not isinstance(disabled, Iterable):
        raise InvalidTypeError(
            "disabled must be a collection of check ids, e.g. {'frontline/no-frontline'}"
            f"{' (one id in a set or list)' if isinstance(disabled, str) else ''}; "
            f"got {disabled!r}"
        )
    ids = set()
    for item in disabled:
        if not isinstance(item, str):
            raise InvalidTypeError(
                f"disabled must hold check ids as text, e.g. {{'frontline/no-frontline'}}; "
                f"got {item!r}"
            )
        ids.add(item)
    return ids


def run_checks(
    store: Store | AsOf,
    *,
    experiment: Experiment | str | None = None,
    objective: Objective | str | None = None,
    at: DateTimeLike | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    disabled: Iterable[str] = (),
    plugins: Plugins | None = None,
    progress: ProgressHook | None = None,
) -> CheckReport:
    """Run every registered check on one experiment, one objective or the whole store.

    Args:
        store: where the programme is recorded, or an :class:`~experiments.asof.AsOf`
            view of it already made (its scope and moment are then the ones checked,
            and the roll-up and a report of the same view read the store only once).
        experiment: an experiment (record, id or slug) to check alone.
        objective: an objective (record, id or slug) whose experiments and sprints to check.
        at: the moment to check as of (default now).
        options: per check id, values for its thresholds (see each check's ``defaults``).
        disabled: ids of checks not to run.
        plugins: the plugins whose checks to run (default: the store's).
        progress: for a progress bar: a function given the steps (reading the scope,
            then each check) and their number, returning the same steps as they are
            taken, e.g. ``lambda steps, total: tqdm(steps, total=total)``.

    Raises:
        NotFoundError: the experiment or objective is not in the store.
        ValidationError: an unknown check id or option name, an option value of a form
            the check does not accept (named with the forms it does), or ``disabled`` or
            ``options`` not of the shape above (one id as a text, for instance), or both
            an experiment and an objective.
    """
    context = _scope(store, experiment, objective, at)
    moment = context.at
    registry = (plugins or context.store.plugins).checks()
    settings, switched_off = _settings(registry, options, disabled)
    findings: list[Finding] = []
    errors: list[PluginError] = []
    ran: list[str] = []
    to_run = [check_id for check_id in registry if check_id not in switched_off]
    with context.store.reading():  # every check sees one state of the store
        for check_id in counted(progress, [None, *to_run]):
            if check_id is None:
                context.experiments  # noqa: B018 - the scope's records, read as a step
                continue
            registered = registry[check_id]
            ran.append(check_id)
            try:
                found = list(registered.check.run(context, settings[check_id]))
            except Exception as exc:  # noqa: BLE001 - a failing check must not stop the others
                error, finding = _failed(check_id, registered.plugin, exc)
                errors.append(error)
                findings.append(finding)
                continue
            findings += [attrs.evolve(f, plugin=registered.plugin) for f in found]
    findings.sort(key=lambda f: (_ORDER[f.severity], f.check, [r.title for r in f.concerns]))
    return CheckReport(moment, tuple(findings), tuple(ran), tuple(errors))


def _scope(
    store: Store | AsOf,
    experiment: Experiment | str | None,
    objective: Objective | str | None,
    at: DateTimeLike | None,
) -> AsOf:
    """The view the checks look at: the one given, or one of the store's scope and moment."""
    if isinstance(store, AsOf):
        if experiment is not None or objective is not None or at is not None:
            raise ValidationError(
                "run_checks() on an AsOf view checks its own scope and moment; give "
                "experiment, objective and at to AsOf instead"
            )
        return store
    moment = pendulum.now("UTC") if at is None else argument(at, "at", parse_datetime)
    return AsOf(store, objective=objective, experiment=experiment, at=moment)


def _settings(
    registry: Mapping[str, Any],
    options: Mapping[str, Mapping[str, Any]] | None,
    disabled: Iterable[str],
) -> tuple[dict[str, Any], set[str]]:
    """Each check's settings, and the checks switched off; unknown ids are refused.

    Every value is read before any check runs: a mistyped threshold is an error here,
    not a check that fails half-way through.
    """
    configured = _configured(options)
    switched_off = _ids(disabled)
    unknown = (set(configured) | switched_off) - set(registry)
    if unknown:
        raise ValidationError(
            f"unknown check(s) {', '.join(repr(c) for c in sorted(unknown))}; "
            f"known: {', '.join(registry)}"
        )
    settings = {
        check_id: registered.check.settings(configured.get(check_id, {}))
        for check_id, registered in registry.items()
    }
    return settings, switched_off


def _failed(check_id: str, plugin: str, exc: Exception) -> tuple[PluginError, Finding]:
    """A check that raised: the error for the report, and the finding that says so."""
    cause = f"{type(exc).__name__}: {exc}"
    error = PluginError(f"check {check_id!r} from plugin {plugin!r} failed: {cause}")
    error.__cause__ = exc
    wording = Message(
        "check '%(check)s' from plugin '%(plugin)s' failed: %(error)s",
        check=check_id,
        plugin=plugin,
        error=cause,
    )
    return error, Finding(check_id, Severity.ERROR, str(error), (), plugin, wording=wording)
