"""The JSON report: every figure of the roll-up and every experiment, for other programs.

Its shape is described by ``schema/report.schema.json`` (JSON Schema draft 2020-12)
and versioned by ``schema_version``.  Keys come in a fixed order and lists in the
roll-up's own stable orders, so two reports of the same data are the same text.
Values are the model's (``"running"``, ``"scale-up"``); ``labels`` gives the words of
the report's language for each of them.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import TYPE_CHECKING, Any, Final

import pendulum

from experiments.checks import Severity
from experiments.maturity import GroupBy
from experiments.model import (
    AssumptionKind,
    Evidence,
    ExcuseReason,
    ExperimentStatus,
    HypothesisStatus,
    Involvement,
    Outcome,
    Role,
    Stance,
    Verdict,
)
from experiments.reports import _common as common

if TYPE_CHECKING:
    from experiments.reports.data import ExperimentDetail, Report, Voice
    from experiments.reports.i18n import Language
    from experiments.rollup import KeyResultProgress, ObjectiveRollup, Ref, Summary

__all__ = ["SCHEMA_VERSION", "render", "to_data"]

#: The version of the report's JSON shape: the minor number grows when keys are added,
#: the major number when anything is renamed, removed or changes meaning.
SCHEMA_VERSION: Final = "1.2"

_LABELLED: Final[tuple[tuple[str, type[enum.Enum]], ...]] = (
    ("experiment_status", ExperimentStatus),
    ("hypothesis_status", HypothesisStatus),
    ("verdict", Verdict),
    ("evidence", Evidence),
    ("outcome", Outcome),
    ("stance", Stance),
    ("involvement", Involvement),
    ("role", Role),
    ("severity", Severity),
    ("excuse_reason", ExcuseReason),
    ("assumption", AssumptionKind),
    ("grouping", GroupBy),
)


class _Encoder:
    def __init__(self, report: Report, lang: Language) -> None:
        self.report = report
        self.lang = lang
        self.zone = report.at.timezone or pendulum.UTC

    def time(self, moment: dt.datetime | None) -> str | None:
        if moment is None:
            return None
        if isinstance(moment, pendulum.DateTime):
            return moment.in_timezone(self.zone).isoformat()
        return moment.isoformat()

    @staticmethod
    def ref(ref: Ref) -> dict[str, Any]:
        return {"id": ref.id, "title": ref.title}

    @staticmethod
    def share(value: float | None) -> float | None:
        return None if value is None else round(value, 6)

    def summary(self, summary: Summary) -> dict[str, Any]:
        who = summary.involvement
        return {
            "experiments": summary.experiments,
            "by_status": {s.value: n for s, n in summary.by_status.items()},
            "hypotheses": {s.value: summary.hypotheses[s] for s in common.HYPOTHESIS_ORDER},
            "learnings": summary.learnings,
            "decisions": {o.value: n for o, n in summary.decisions.items()},
            "involvement": {
                "participants": who.participants,
                "external": who.external,
                "critical": who.critical,
                "frontline": who.frontline,
                "pseudonymous": who.pseudonymous,
                "share_external": self.share(who.share_external),
                "share_critical": self.share(who.share_critical),
                "share_frontline": self.share(who.share_frontline),
                "departments": list(who.departments),
                "depth": {level.value: n for level, n in who.depth.items()},
            },
            "time_boxed": summary.time_boxed,
            "share_time_boxed": self.share(summary.share_time_boxed),
            "candidates": [
                {
                    "hypothesis": self.ref(c.hypothesis),
                    "experiment": self.ref(c.experiment),
                    "evidence": c.evidence.value,
                    "participants": c.participants,
                    "critical_voices": c.critical_voices,
                    "objectives": [self.ref(o) for o in c.objectives],
                    "decision": None if c.decision is None else c.decision.value,
                    "scaling_up": c.scaling_up,
                    "criterion": c.criterion,
                    "measured": c.measured,
                    "criterion_met": c.criterion_met,
                }
                for c in summary.candidates
            ],
            "overdue": [
                {
                    "experiment": self.ref(o.experiment),
                    "ended_at": self.time(o.ended_at),
                    "days": o.days,
                }
                for o in summary.overdue
            ],
            "concluded_without_learning": [self.ref(r) for r in summary.concluded_without_learning],
            "concluded_without_decision": [self.ref(r) for r in summary.concluded_without_decision],
            "untested": [
                {
                    "hypothesis": self.ref(u.hypothesis),
                    "experiment": self.ref(u.experiment),
                    "since": self.time(u.since),
                    "days_overdue": u.days_overdue,
                }
                for u in summary.untested
            ],
            "one_sided": [
                {
                    "hypothesis": self.ref(o.hypothesis),
                    "experiment": self.ref(o.experiment),
                    "stance": o.stance.value,
                    "voices": o.voices,
                }
                for o in summary.one_sided
            ],
            "excuses": [
                {
                    "id": x.id,
                    "group": x.group,
                    "reason": x.reason.value,
                    "statement": x.statement,
                    "objective": x.objective,
                    "experiment": x.experiment,
                }
                for x in summary.excuses
            ],
        }

    def key_result(self, progress: KeyResultProgress) -> dict[str, Any]:
        kr = progress.key_result
        return {
            "id": kr.id,
            "metric": kr.metric,
            "unit": kr.unit,
            "baseline": kr.baseline,
            "target": kr.target,
            "due": None if kr.due is None else kr.due.isoformat(),
            "weight": kr.weight,
            "latest": progress.latest,
            "measured_at": self.time(progress.measured_at),
            "measurements": progress.measurements,
            "progress": self.share(progress.progress),
        }

    def objective(self, node: ObjectiveRollup) -> dict[str, Any]:
        objective = node.objective
        return {
            "id": objective.id,
            "slug": objective.slug,
            "title": objective.title,
            "description": objective.description,
            "owner": objective.owner,
            "parent": objective.parent,
            "weight": objective.weight,
            "progress": self.share(node.progress),
            "direct_experiments": node.direct_experiments,
            "key_results": [self.key_result(kr) for kr in node.key_results],
            "summary": self.summary(node.summary),
            "children": [self.objective(child) for child in node.children],
        }

    @staticmethod
    def voice(voice: Voice) -> dict[str, Any]:
        return {
            "name": voice.name,
            "number": voice.number,
            "role": voice.role.value,
            "external": voice.external,
            "stance": None if voice.stance is None else voice.stance.value,
        }

    def experiment(self, experiment: ExperimentDetail) -> dict[str, Any]:
        decision = experiment.decision
        return {
            "id": experiment.ref.id,
            "slug": experiment.slug,
            "title": experiment.ref.title,
            "status": experiment.status.value,
            "objectives": [self.ref(o) for o in experiment.objectives],
            "owner": experiment.owner,
            "facilitators": list(experiment.facilitators),
            "tags": list(experiment.tags),
            "time_box_days": experiment.time_box_days,
            "planned_start": self.time(experiment.planned_start),
            "planned_end": self.time(experiment.planned_end),
            "started_at": self.time(experiment.started_at),
            "concluded_at": self.time(experiment.concluded_at),
            "decided_at": self.time(experiment.decided_at),
            "abandoned_at": self.time(experiment.abandoned_at),
            "abandon_reason": experiment.abandon_reason,
            "participants": experiment.participants,
            "critical_voices": experiment.critical_voices,
            "hypotheses": [
                {
                    "id": h.ref.id,
                    "statement": h.ref.title,
                    "status": h.status.value,
                    "evidence": None if h.evidence is None else h.evidence.value,
                    "criterion": h.criterion,
                    "assumption": None if h.assumption is None else h.assumption.value,
                }
                for h in experiment.hypotheses
            ],
            "learnings": [
                {
                    "id": x.ref.id,
                    "observation": x.ref.title,
                    "observed_at": self.time(x.observed_at),
                    "hypothesis": x.hypothesis,
                    "verdict": None if x.verdict is None else x.verdict.value,
                    "evidence": x.evidence.value,
                    "insight": x.insight,
                    "next_action": x.next_action,
                    "voices": [self.voice(v) for v in x.voices],
                }
                for x in experiment.learnings
            ],
            "decision": None
            if decision is None
            else {
                "id": decision.id,
                "outcome": decision.outcome.value,
                "decided_at": self.time(decision.decided_at),
                "decided_by": decision.decided_by,
                "rationale": decision.rationale,
                "next_steps": list(decision.next_steps),
                "revises": decision.revises,
            },
        }

    def findings(self) -> list[dict[str, Any]] | None:
        if self.report.findings is None:
            return None
        return [
            {
                "check": f.check,
                "severity": f.severity.value,
                "move": f.move,
                "summary": f.summary,
                "message": f.message,
                "concerns": [self.ref(r) for r in f.concerns],
                "plugin": f.plugin,
            }
            for f in self.report.findings
        ]

    def labels(self) -> dict[str, dict[str, str]]:
        return {
            name: {member.value: self.lang.label(member) for member in family}
            for name, family in _LABELLED
        }

    def document(self) -> dict[str, Any]:
        report, rollup = self.report, self.report.rollup
        return {
            "schema_version": SCHEMA_VERSION,
            "language": self.lang.code,
            "at": self.time(report.at),
            "scope": None if report.scope is None else self.ref(report.scope),
            "title": common.title(report, self.lang),
            "progress": self.share(report.progress),
            "summary": self.summary(rollup.total),
            "objectives": [self.objective(node) for node in rollup.objectives],
            "objectives_without_experiments": [
                self.ref(r) for r in rollup.objectives_without_experiments
            ],
            "unlinked_experiments": [self.ref(r) for r in rollup.unlinked_experiments],
            "experiments": [self.experiment(e) for e in report.experiments],
            "findings": self.findings(),
            "maturity": None if report.maturity is None else report.maturity.to_data(),
            "vocabulary": None if report.glossary is None else report.glossary.to_data(),
            "labels": self.labels(),
        }


def to_data(report: Report, lang: Language) -> dict[str, Any]:
    """The report as JSON-compatible data, in the shape the schema describes."""
    return _Encoder(report, lang).document()


def render(report: Report, lang: Language) -> str:
    """The report as indented JSON text (UTF-8, not ASCII-escaped), ending in a newline."""
    return json.dumps(to_data(report, lang), ensure_ascii=False, indent=2) + "\n"
