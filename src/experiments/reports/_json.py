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
import re
from typing import TYPE_CHECKING, Any, Final

import pendulum

from experiments.checks import Message
from experiments.maturity import GroupBy
from experiments.model import AssumptionKind, Scope, TimeBox
from experiments.model._time import format_datetime, format_duration, parse_datetime, zone_name
from experiments.reports import _common as common
from experiments.reports._labels import LABELS

if TYPE_CHECKING:
    from experiments.asof import FollowUp, TemplateGaps
    from experiments.reports.data import ExperimentDetail, Report, StepDetail, Voice
    from experiments.reports.i18n import Language
    from experiments.rollup import KeyResultProgress, ObjectiveRollup, Ref, Summary
    from experiments.sprints import Member, SprintRollup

__all__ = ["SCHEMA_VERSION", "render", "to_data"]

#: The version of the report's JSON shape: the minor number grows when keys are added,
#: the major number when anything is renamed, removed or changes meaning.
SCHEMA_VERSION: Final = "1.5"

#: The key under ``labels`` of each family of values :data:`LABELS` names: the
#: enumeration's name in snake case, but for these.
_KEY_OF: Final[dict[type[enum.Enum], str]] = {AssumptionKind: "assumption", GroupBy: "grouping"}

_LABELLED: Final[tuple[tuple[str, type[enum.Enum]], ...]] = tuple(
    (_KEY_OF.get(family) or re.sub(r"(?<=.)(?=[A-Z])", "_", family.__name__).lower(), family)
    for family in LABELS
)


def _plain(thing: object, *fields: str) -> dict[str, Any]:
    """Fields of ``thing`` whose values JSON shows as they are (text, numbers, ids)."""
    return {name: getattr(thing, name) for name in fields}


class _Encoder:
    def __init__(self, report: Report, lang: Language) -> None:
        self.report = report
        self.lang = lang
        self.zone = report.at.timezone or pendulum.UTC

    def time(self, moment: dt.datetime | None) -> str | None:
        """A time in RFC 3339, in the zone of the report's ``at``."""
        if moment is None:
            return None
        return format_datetime(parse_datetime(moment).in_timezone(self.zone))

    @staticmethod
    def ref(ref: Ref) -> dict[str, Any]:
        return {"id": ref.id, "title": ref.title}

    @staticmethod
    def share(value: float | None) -> float | None:
        return None if value is None else round(value, 6)

    def values(self, message: Message) -> dict[str, Any]:
        """A message's values as data: dates and durations in ISO 8601, enums by value."""
        return {name: self.value(value) for name, value in message.values}

    def value(self, value: object) -> Any:
        if isinstance(value, Message):
            return {"message_id": value.text, "values": self.values(value)}
        if isinstance(value, bool | int | float | str) or value is None:
            return value
        if isinstance(value, dt.datetime):
            return self.time(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, pendulum.Duration):
            return format_duration(value)
        if isinstance(value, dt.timedelta):
            return format_duration(pendulum.duration(seconds=value.total_seconds()))
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, tuple):
            return [self.value(item) for item in value]
        return str(value)

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
            "scoped": summary.scoped,
            "share_scoped": self.share(summary.share_scoped),
            "first_shown": {f.value: n for f, n in summary.first_shown.items()},
            "open_next_steps": summary.open_next_steps,
            "overdue_next_steps": [self.follow_up(f) for f in summary.overdue_next_steps],
        }

    def follow_up(self, item: FollowUp) -> dict[str, Any]:
        step = item.step
        return {
            "action": step.action,
            "owner": step.owner,
            "due": None if step.due is None else step.due.isoformat(),
            "overdue_days": item.overdue_days,
            "source": self.ref(item.source),
            "number": item.number,
            "experiment": self.ref(item.experiment),
        }

    def step(self, step: StepDetail) -> dict[str, Any]:
        return {
            "action": step.action,
            "owner": step.owner,
            "due": None if step.due is None else step.due.isoformat(),
            "done": step.done_at is not None,
            "done_at": self.time(step.done_at),
            "overdue_days": step.overdue_days,
            "tracked": step.tracked,
        }

    @staticmethod
    def scope(scope: Scope | None) -> dict[str, Any] | None:
        if scope is None:
            return None
        return _plain(scope, "participants", "sites", "budget", "currency")

    @staticmethod
    def gaps(gaps: TemplateGaps) -> dict[str, Any]:
        return {
            "template": {"id": gaps.template.id, "title": gaps.template.title},
            "mandatory": gaps.mandatory,
            "move": gaps.move.value,
            "missing": [
                {
                    "need": g.need.value,
                    "role": None if g.role is None else g.role.value,
                    "stance": None if g.stance is None else g.stance.value,
                    "requirement": None if g.requirement is None else g.requirement.value,
                    "wanted": g.wanted,
                    "have": g.have,
                    "limit_days": None if g.limit is None else g.limit.in_days(),
                    "text": str(g),
                }
                for g in gaps.missing
            ],
        }

    def time_box(self, box: TimeBox | None) -> dict[str, Any] | None:
        if box is None:
            return None
        return {
            "start": self.time(box.start),
            "end": self.time(box.end),
            "days": box.duration.in_days(),
        }

    @staticmethod
    def member(member: Member) -> dict[str, Any]:
        return {
            "name": member.name,
            "role": member.role.value,
            "department": member.department,
            "external": member.external,
        }

    def sprint(self, sprint: SprintRollup) -> dict[str, Any]:
        return {
            "id": sprint.ref.id,
            "title": sprint.ref.title,
            "challenge": sprint.challenge,
            "time_box": self.time_box(sprint.time_box),
            "facilitators": list(sprint.facilitators),
            "departments": list(sprint.departments),
            "team": [self.member(m) for m in sprint.team],
            "phases": [
                {
                    "id": phase.ref.id,
                    "title": phase.ref.title,
                    "position": phase.position,
                    "time_box": self.time_box(phase.time_box),
                    "members": [self.member(m) for m in phase.members],
                    "roles": [role.value for role in phase.roles],
                    "involvement": phase.involvement.value,
                    "description": phase.description,
                }
                for phase in sprint.phases
            ],
            "experiments": [
                {**self.ref(ref), "status": status.value} for ref, status in sprint.experiments
            ],
            "learnings": [
                {"id": ref.id, "observation": ref.title, "experiment": self.ref(experiment)}
                for ref, experiment in sprint.learnings
            ],
        }

    def key_result(self, progress: KeyResultProgress) -> dict[str, Any]:
        kr = progress.key_result
        return {
            **_plain(kr, "id", "metric", "unit", "baseline", "target"),
            "due": None if kr.due is None else kr.due.isoformat(),
            "weight": kr.weight,
            "latest": progress.latest,
            "measured_at": self.time(progress.measured_at),
            "measurements": progress.measurements,
            "progress": self.share(progress.progress),
            "since": kr.starts.isoformat(),
            "expected": self.share(progress.expected),
            "behind": progress.behind,
        }

    def objective(self, node: ObjectiveRollup) -> dict[str, Any]:
        objective = node.objective
        return {
            **_plain(objective, "id", "slug", "title", "description", "owner", "parent", "weight"),
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
            "external": experiment.external,
            "frontline": experiment.frontline,
            "departments": list(experiment.departments),
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
                    "next_action": "" if x.next_action is None else x.next_action.action,
                    "next_step": None if x.next_action is None else self.step(x.next_action),
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
                "next_steps": [step.action for step in decision.next_steps],
                "next_step_details": [self.step(step) for step in decision.next_steps],
                "revises": decision.revises,
            },
            "template": None if experiment.template is None else self.ref(experiment.template),
            "template_gaps": [self.gaps(g) for g in experiment.template_gaps],
            "scope": self.scope(experiment.scope),
            "sprint": None if experiment.sprint is None else self.ref(experiment.sprint),
            "first_shown": None if experiment.first_shown is None else experiment.first_shown.value,
            "prototypes": [
                {
                    "id": p.ref.id,
                    "title": p.ref.title,
                    "fidelity": p.fidelity.value,
                    "version": p.version,
                    "shown_at": self.time(p.shown_at),
                    "shown_as": None if p.shown_as is None else p.shown_as.value,
                    "link": p.link,
                }
                for p in experiment.prototypes
            ],
        }

    def recorded(self) -> dict[str, int] | None:
        people = self.report.recorded
        if people is None:
            return None
        return _plain(people, "recorded", "in_no_experiment", "only_elsewhere")

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
                "text": common.finding_text(self.lang, f),
                "message_id": None if f.wording is None else f.wording.text,
                "values": None if f.wording is None else self.values(f.wording),
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
            "at_zone": zone_name(report.at),
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
            "sprints": [self.sprint(s) for s in rollup.sprints],
            "participants_recorded": self.recorded(),
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
