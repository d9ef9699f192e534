"""The Markdown report: headings, tables and a Mermaid map from objective to decision.

Every piece of user text goes through :func:`~experiments.reports._escape.markdown` (or
:func:`~experiments.reports._escape.mermaid` inside the diagram); nothing else is
written that a user typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from experiments.model import ExperimentStatus
from experiments.reports import _common as common
from experiments.reports import _mental_models as minds
from experiments.reports._escape import markdown as md
from experiments.reports._escape import mermaid
from experiments.reports._timeline import Timeline, overrun, state, timeline

if TYPE_CHECKING:
    from experiments.maturity import Maturity, QuestionnaireAnalysis, RoundAnalysis
    from experiments.reports.data import ExperimentDetail, Report
    from experiments.reports.i18n import Language
    from experiments.sprints import SprintRollup

__all__ = ["render"]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: int = 0) -> list[str]:
    """A table of cells already escaped; the last ``numeric`` columns align right."""
    lines = ["| " + " | ".join(headers) + " |"]
    rules = ["---"] * (len(headers) - numeric) + ["--:"] * numeric
    lines.append("| " + " | ".join(rules) + " |")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return [*lines, ""]


class _Writer:
    def __init__(self, report: Report, lang: Language) -> None:
        self.report = report
        self.lang = lang
        self._ = lang.gettext
        self.lines: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self.lines += ["#" * level + " " + text, ""]

    def paragraph(self, text: str) -> None:
        self.lines += [text, ""]

    def bullets(self, items: Iterable[str]) -> None:
        self.lines += [f"- {item}" for item in items]
        self.lines.append("")

    # --- sections -------------------------------------------------------------------

    def header(self) -> None:
        _, lang, report = self._, self.lang, self.report
        self.heading(1, md(common.title(report, lang)))
        line = _("Roll-up as of %(date)s") % {"date": lang.datetime(report.at)}
        if report.progress is not None:
            line += " \u00b7 " + _("progress %(share)s") % {"share": lang.percent(report.progress)}
        self.paragraph(line)
        if report.scope is not None:
            description = report.rollup.objectives[0].objective.description
            if description.strip():
                self.paragraph(md(description))

    def key_figures(self) -> None:
        _, lang, total = self._, self.lang, self.report.rollup.total
        self.heading(2, _("Key figures"))
        supported = total.hypotheses[common.HYPOTHESIS_ORDER[0]]
        self.bullets(
            [
                lang.counted("%(count)s experiment", "%(count)s experiments", total.experiments),
                lang.counted(
                    "%(count)s hypothesis", "%(count)s hypotheses", sum(total.hypotheses.values())
                )
                + ", "
                + _("%(count)s supported") % {"count": lang.number(supported)},
                lang.counted("%(count)s learning", "%(count)s learnings", total.learnings),
                lang.counted(
                    "%(count)s decision", "%(count)s decisions", sum(total.decisions.values())
                ),
                lang.counted(
                    "%(count)s participant",
                    "%(count)s participants",
                    total.involvement.participants,
                ),
                lang.counted(
                    "%(count)s open next step", "%(count)s open next steps", total.open_next_steps
                ),
            ]
        )

    def objectives(self) -> None:
        _, lang = self._, self.lang
        nodes = list(self.report.objectives())
        if len(nodes) < 2:  # noqa: PLR2004 - one objective is the report's own title
            return
        self.heading(2, _("Objectives"))
        self.lines += _table(
            [_("Objective"), _("Experiments"), _("Progress")],
            (
                [
                    "\u2003" * depth + md(node.objective.title),
                    lang.number(node.summary.experiments),
                    common.share(lang, node.progress),
                ]
                for depth, node in nodes
            ),
            numeric=2,
        )

    def key_results(self) -> None:
        _, lang = self._, self.lang
        results = self.report.key_results()
        if not results:
            return
        self.heading(2, _("Key results"))
        self.lines += _table(
            [
                _("Key result"),
                _("Due"),
                _("Baseline"),
                _("Target"),
                _("Latest"),
                _("Progress"),
                _("Expected by now"),
            ],
            (
                [
                    md(kr.key_result.metric),
                    "\u2013" if kr.key_result.due is None else lang.date(kr.key_result.due),
                    md(common.quantity(lang, kr.key_result.baseline, kr.key_result.unit)),
                    md(common.quantity(lang, kr.key_result.target, kr.key_result.unit)),
                    md(common.quantity(lang, kr.latest, kr.key_result.unit)),
                    common.share(lang, kr.progress),
                    common.expected(lang, kr),
                ]
                for _objective, kr in results
            ),
            numeric=5,
        )

    def statuses(self) -> None:
        _, lang, total = self._, self.lang, self.report.rollup.total
        self.heading(2, _("Experiments by status"))
        self.lines += _table(
            [_("Status"), _("Experiments")],
            (
                [common.upper_first(lang.label(status)), lang.number(n)]
                for status, n in total.by_status.items()
            ),
            numeric=1,
        )
        self.heading(2, _("Hypotheses"))
        self.lines += _table(
            [_("Status"), _("Hypotheses")],
            (
                [common.upper_first(lang.label(status)), lang.number(total.hypotheses[status])]
                for status in common.HYPOTHESIS_ORDER
            ),
            numeric=1,
        )
        self.heading(2, _("Decisions"))
        self.lines += _table(
            [_("Decision"), _("Experiments")],
            (
                [common.upper_first(lang.label(outcome)), lang.number(n)]
                for outcome, n in total.decisions.items()
            ),
            numeric=1,
        )

    def involvement(self) -> None:
        _, lang = self._, self.lang
        total = self.report.rollup.total
        who = total.involvement
        self.heading(2, _("Who was let in"))

        def counted(n: int, of: float | None) -> str:
            return lang.number(n) + ("" if of is None else f" ({lang.percent(of)})")

        departments = lang.number(who.departments_crossed)
        if who.departments:
            departments += " (" + ", ".join(md(d) for d in who.departments) + ")"
        self.bullets(
            f"{label}: {value}"
            for label, value in (
                (_("Participants"), lang.number(who.participants)),
                *common.recorded(lang, self.report),
                (_("External participants"), counted(who.external, who.share_external)),
                (_("Critical voices"), counted(who.critical, who.share_critical)),
                (_("Frontline staff"), counted(who.frontline, who.share_frontline)),
                (_("Taking part under a pseudonym"), lang.number(who.pseudonymous)),
                (_("Departments crossed"), departments),
                (_("Deepest involvement"), common.depth(lang, who)),
                (_("Time-boxed experiments"), common.share(lang, total.share_time_boxed)),
                (_("Experiments with a planned scope"), common.share(lang, total.share_scoped)),
            )
        )

    def unfinished(self) -> None:
        _, lang = self._, self.lang
        shown = self.report.rollup.total.first_shown
        self.heading(2, _("Invite into the unfinished"))
        if not any(shown.values()):
            self.paragraph(_("No prototype has been shown to participants yet."))
            return
        self.paragraph(
            _("Experiments by how finished the first prototype their participants saw was.")
        )
        self.lines += _table(
            [_("First shown as"), _("Experiments")],
            ([common.upper_first(lang.label(f)), lang.number(n)] for f, n in shown.items()),
            numeric=1,
        )

    def sprints(self) -> None:
        _ = self._
        sprints = self.report.rollup.sprints
        if not sprints:
            return
        self.heading(2, _("Sprints"))
        for sprint in sprints:
            self._sprint(sprint)

    def _sprint(self, sprint: SprintRollup) -> None:
        _, lang = self._, self.lang
        self.heading(3, md(sprint.ref.title))
        facts = []
        if sprint.challenge.strip():
            facts.append((_("Challenge"), md(sprint.challenge)))
        facts += [
            (_("Time box"), common.period(lang, sprint.time_box)),
            (_("Facilitators"), ", ".join(md(f) for f in sprint.facilitators) or "\u2013"),
            (
                _("Team"),
                "; ".join(md(m) for m in common.members(lang, sprint.team)) or "\u2013",
            ),
            (
                _("Departments crossed"),
                lang.number(len(sprint.departments))
                + (
                    f" ({', '.join(md(d) for d in sprint.departments)})"
                    if sprint.departments
                    else ""
                ),
            ),
            (
                _("From outside"),
                "; ".join(md(m) for m in common.members(lang, sprint.external)) or "\u2013",
            ),
        ]
        self.bullets(f"{label}: {value}" for label, value in facts)
        if sprint.phases:
            self._phases(sprint)
        if sprint.experiments:
            self.paragraph(f"**{_('Experiments')}**")
            self.bullets(
                f"{md(ref.title)} \u2014 {lang.label(status)}" for ref, status in sprint.experiments
            )
        if sprint.learnings:
            self.paragraph(f"**{_('Learnings')}**")
            self.bullets(
                f"{md(ref.title)} ({md(experiment.title)})" for ref, experiment in sprint.learnings
            )

    def _phases(self, sprint: SprintRollup) -> None:
        _, lang = self._, self.lang
        self.paragraph(f"**{_('Process design')}**")
        self.lines += _table(
            [
                "#",
                _("Phase"),
                _("When"),
                _("Taking part"),
                _("Also invited"),
                _("Involvement"),
            ],
            (
                [
                    lang.number(phase.position),
                    md(phase.ref.title),
                    common.period(lang, phase.time_box),
                    "; ".join(md(m) for m in common.members(lang, phase.members)) or "\u2013",
                    ", ".join(lang.label(role) for role in phase.roles) or "\u2013",
                    lang.label(phase.involvement),
                ]
                for phase in sprint.phases
            ),
        )

    def candidates(self) -> None:
        _, lang = self._, self.lang
        self.heading(2, _("Ready to magnify"))
        groups = common.candidate_groups(self.report, lang)
        if not groups:
            self.paragraph(_("No hypothesis is supported yet."))
            return
        self.paragraph(_("Supported hypotheses, the strongest evidence and widest voice first."))
        for heading, candidates in groups:
            self.heading(3, heading)
            self.lines += _table(
                [
                    _("Hypothesis"),
                    _("Experiment"),
                    _("Evidence"),
                    _("Criterion"),
                    _("Participants"),
                    _("Critical voices"),
                ],
                (
                    [
                        md(c.hypothesis.title),
                        md(c.experiment.title),
                        lang.label(c.evidence),
                        md(common.criterion(lang, c)),
                        lang.number(c.participants),
                        lang.number(c.critical_voices),
                    ]
                    for c in candidates
                ),
                numeric=2,
            )

    def follow_up(self) -> None:
        _, lang, report = self._, self.lang, self.report
        total = report.rollup.total
        self.heading(2, _("Needs follow-up"))
        if not common.has_follow_up(report):
            self.paragraph(_("Nothing needs following up."))
            return
        if total.overdue:
            self.heading(3, _("Running past the end of the time box"))
            self.lines += _table(
                [_("Experiment"), _("Time box ended"), _("Days past")],
                (
                    [md(o.experiment.title), lang.date(o.last_day), lang.number(o.days)]
                    for o in total.overdue
                ),
                numeric=1,
            )
        for heading, refs in (
            (_("Concluded without a learning"), total.concluded_without_learning),
            (_("Concluded without a decision"), total.concluded_without_decision),
            (_("Objectives without experiments"), report.rollup.objectives_without_experiments),
            (_("Experiments linked to no objective"), report.rollup.unlinked_experiments),
        ):
            if refs:
                self.heading(3, heading)
                self.bullets(md(ref.title) for ref in refs)
        if total.untested:
            self.heading(3, _("Hypotheses left untested"))
            self.lines += _table(
                [_("Hypothesis"), _("Experiment"), _("Days overdue")],
                (
                    [md(u.hypothesis.title), md(u.experiment.title), lang.number(u.days_overdue)]
                    for u in total.untested
                ),
                numeric=1,
            )
        self._follow_up_practice()
        if total.one_sided:
            self.heading(3, _("Evidence from one side only"))
            self.lines += _table(
                [_("Hypothesis"), _("Experiment"), _("Only voices that were"), _("Voices")],
                (
                    [
                        md(o.hypothesis.title),
                        md(o.experiment.title),
                        lang.label(o.stance),
                        lang.number(o.voices),
                    ]
                    for o in total.one_sided
                ),
                numeric=1,
            )

    def _follow_up_practice(self) -> None:
        """Next steps, key results and workshop actions behind their dates."""
        _, lang, report = self._, self.lang, self.report
        total = report.rollup.total
        if total.overdue_next_steps:
            self.heading(3, _("Next steps past their due date"))
            self.lines += _table(
                [_("Next step"), _("Owner"), _("Due"), _("Experiment"), _("Days past")],
                (
                    [
                        md(f.step.action),
                        md(f.step.owner or "\u2013"),
                        lang.date(f.step.due) if f.step.due else "\u2013",
                        md(f.experiment.title),
                        lang.number(f.overdue_days or 0),
                    ]
                    for f in total.overdue_next_steps
                ),
                numeric=1,
            )
        if report.rollup.behind:
            self.heading(3, _("Key results behind schedule"))
            self.lines += _table(
                [_("Key result"), _("Due"), _("Progress"), _("Expected by now")],
                (
                    [
                        md(kr.key_result.metric),
                        lang.date(kr.key_result.due) if kr.key_result.due else "\u2013",
                        common.share(lang, kr.progress),
                        common.share(lang, kr.expected),
                    ]
                    for kr in report.rollup.behind
                ),
                numeric=2,
            )
        overdue = minds.overdue_actions(report)
        if overdue:
            self.heading(3, _("Workshop actions past their due date"))
            self.lines += _table(
                [_("Action"), _("Owner"), _("Due"), _("Days past")],
                (
                    [
                        md(a.ref.title),
                        md(a.owner or "\u2013"),
                        "\u2013" if a.due is None else lang.date(a.due),
                        lang.number(a.overdue_days or 0),
                    ]
                    for a in overdue
                ),
                numeric=1,
            )

    def experiment(self, experiment: ExperimentDetail) -> None:
        _, lang = self._, self.lang
        self.heading(3, md(experiment.ref.title))
        facts = [
            (_("Status"), lang.label(experiment.status)),
            (_("Owner"), md(experiment.owner or "\u2013")),
        ]
        if experiment.facilitators:
            facts.append((_("Facilitators"), ", ".join(md(f) for f in experiment.facilitators)))
        if experiment.objectives:
            facts.append((_("Objectives"), "; ".join(md(o.title) for o in experiment.objectives)))
        if experiment.template is not None:
            facts.append((_("Template"), md(experiment.template.title)))
        if experiment.sprint is not None:
            facts.append((_("Sprint"), md(experiment.sprint.title)))
        facts.append((_("Time box"), common.time_box(lang, experiment)))
        if experiment.scope is not None:
            facts.append((_("Planned scope"), md(common.scope(lang, experiment.scope))))
        for label, moment in (
            (_("Started"), experiment.started_at),
            (_("Concluded"), experiment.concluded_at),
        ):
            if moment is not None:
                facts.append((label, lang.date(moment)))
        if experiment.abandoned_at is not None:
            text = lang.date(experiment.abandoned_at)
            if experiment.abandon_reason.strip():
                text += ": " + md(experiment.abandon_reason)
            facts.append((_("Abandoned"), text))
        facts.append((_("Taking part"), common.taking_part(lang, experiment)))
        facts.append(
            (
                _("Departments taking part"),
                ", ".join(md(d) for d in experiment.departments) or "\u2013",
            )
        )
        self.bullets(f"{label}: {value}" for label, value in facts)
        for gaps in experiment.template_gaps:
            words = (
                _("Still needed to start, as template %(template)s asks")
                if gaps.move == "start"
                else _("Still needed to conclude, as template %(template)s asks")
            ) % {"template": md(gaps.template.title)}
            self.paragraph(
                f"**{words}**: " + "; ".join(md(common.gap(lang, g)) for g in gaps.missing)
            )
        self.hypotheses(experiment)
        self.prototypes(experiment)
        self.learnings(experiment)
        self.decision(experiment)

    def prototypes(self, experiment: ExperimentDetail) -> None:
        if experiment.prototypes:
            self.paragraph(f"**{self._('Prototypes')}**")
            self.bullets(md(common.prototype(self.lang, p)) for p in experiment.prototypes)

    def hypotheses(self, experiment: ExperimentDetail) -> None:
        _, lang = self._, self.lang
        if experiment.hypotheses:
            self.paragraph(f"**{_('Hypotheses')}**")
            items = []
            for hypothesis in experiment.hypotheses:
                item = f"{md(hypothesis.ref.title)} \u2014 {lang.label(hypothesis.status)}"
                details = []
                if hypothesis.evidence is not None:
                    strength = lang.label(hypothesis.evidence)
                    details.append(_("%(strength)s evidence") % {"strength": strength})
                if hypothesis.criterion:
                    criterion = md(hypothesis.criterion)
                    details.append(_("we are right if %(criterion)s") % {"criterion": criterion})
                if details:
                    item += " (" + "; ".join(details) + ")"
                items.append(item)
            self.bullets(items)

    def learnings(self, experiment: ExperimentDetail) -> None:
        _, lang = self._, self.lang
        if experiment.learnings:
            self.paragraph(f"**{_('Learnings')}**")
            items = []
            for learning in experiment.learnings:
                parts = [f"{lang.date(learning.observed_at)}: {md(learning.ref.title)}"]
                statement = experiment.statement_of(learning)
                if learning.verdict is not None and statement is not None:
                    verdict = _("%(verdict)s \u201c%(hypothesis)s\u201d") % {
                        "verdict": lang.label(learning.verdict),
                        "hypothesis": md(statement),
                    }
                    strength = _("%(strength)s evidence") % {
                        "strength": lang.label(learning.evidence)
                    }
                    parts.append(f"{verdict} ({strength})")
                if learning.insight.strip():
                    parts.append(f"{_('Insight')}: {md(learning.insight)}")
                if learning.voices:
                    names = "; ".join(md(common.voice(lang, v)) for v in learning.voices)
                    parts.append(f"{_('Voices')}: {names}")
                if learning.next_action is not None:
                    parts.append(f"{_('Next')}: {md(common.step(lang, learning.next_action))}")
                items.append(" \u2014 ".join(parts))
            self.bullets(items)

    def decision(self, experiment: ExperimentDetail) -> None:
        _, lang = self._, self.lang
        decision = experiment.decision
        if decision is not None:
            self.paragraph(f"**{_('Decision')}**")
            text = f"{common.upper_first(lang.label(decision.outcome))}, "
            text += lang.date(decision.decided_at)
            if decision.decided_by:
                text += " (" + _("by %(name)s") % {"name": md(decision.decided_by)} + ")"
            if decision.rationale.strip():
                text += ": " + md(decision.rationale)
            items = [text]
            items += [f"{_('Next')}: {md(common.step(lang, step))}" for step in decision.next_steps]
            self.bullets(items)

    def experiments(self) -> None:
        self.heading(2, self._("Experiments"))
        if not self.report.experiments:
            self.paragraph(self._("No experiments yet."))
        for experiment in self.report.experiments:
            self.experiment(experiment)

    def excuses(self) -> None:
        _, lang = self._, self.lang
        excuses = self.report.rollup.total.excuses
        if not excuses:
            return
        self.heading(2, _("No bad excuses"))
        self.paragraph(_("Groups that were not let in, and the reason given."))
        self.lines += _table(
            [_("Group"), _("Reason"), _("What was said")],
            ([md(x.group), lang.label(x.reason), md(x.statement) or "\u2013"] for x in excuses),
        )

    def findings(self) -> None:
        _, lang = self._, self.lang
        if self.report.findings is None:
            return
        self.heading(2, _("What the checks found"))
        if not self.report.findings:
            self.paragraph(_("The checks found nothing to point out."))
            return
        for move, group in common.findings_by_move(self.report, lang):
            self.heading(3, md(move))
            items = []
            for finding, text in group:
                about = "; ".join(md(ref.title) for ref in finding.concerns)
                item = f"**{lang.label(finding.severity)}**: " + (
                    f"*{about}* {md(text)}" if about else md(text)
                )
                items.append(item)
            self.bullets(items)

    def diagram(self) -> None:
        _, lang = self._, self.lang
        experiments = self.report.experiments[: common.DIAGRAM_LIMIT]
        if not experiments:
            return
        self.heading(2, _("From objective to decision"))
        if len(self.report.experiments) > len(experiments):
            self.paragraph(
                _("The map shows the first %(shown)s of %(total)s experiments.")
                % {
                    "shown": lang.number(len(experiments)),
                    "total": lang.number(len(self.report.experiments)),
                }
            )
        self.lines += ["```mermaid", *_flowchart(experiments, lang), "```", ""]

    def timeline(self) -> None:
        _, lang = self._, self.lang
        line = timeline(self.report, lang)
        if line is None:
            return
        self.heading(2, _("Timeline"))
        self.paragraph(
            _(
                "Each experiment's time box and each sprint's, by objective: a critical bar is "
                "time over the time box; the milestone is the report's day."
            )
        )
        if line.total > line.shown:
            self.paragraph(
                _(
                    "The timeline shows %(shown)s of %(total)s; the JSON report lists every "
                    "experiment's dates."
                )
                % {"shown": lang.number(line.shown), "total": lang.number(line.total)}
            )
        self.lines += ["```mermaid", *_gantt(line, lang), "```", ""]
        for lane in line.lanes:
            self.paragraph(f"**{md(lane.title)}**")
            self.bullets(f"{md(span.ref.title)}: {state(lang, span)}" for span in lane.spans)

    def maturity(self) -> None:
        _, report = self._, self.report
        maturity = report.maturity
        if maturity is None or not minds.has_maturity(report):
            return
        self.heading(2, _("How the parts see it"))
        self.paragraph(
            _(
                "Mean scores by %(grouping)s; a group of fewer than %(minimum)s respondents is "
                "never shown on its own."
            )
            % {
                "grouping": self.lang.label(maturity.group_by),
                "minimum": self.lang.number(maturity.min_group_size),
            }
        )
        for questionnaire in maturity.questionnaires:
            self.questionnaire(maturity, questionnaire)
        self.interviews(maturity)
        self.actions(maturity)

    def questionnaire(self, maturity: Maturity, questionnaire: QuestionnaireAnalysis) -> None:
        _, lang = self._, self.lang
        self.heading(3, md(questionnaire.questionnaire.title))
        if questionnaire.description.strip():
            self.paragraph(md(questionnaire.description))
        latest = questionnaire.latest
        if latest is None:
            self.paragraph(_("No round has been asked yet."))
            return
        self.paragraph(
            minds.round_line(lang, latest, md)
            + " \u00b7 "
            + _("scale %(scale)s") % {"scale": md(minds.scale_text(questionnaire.scale))}
        )
        self.heat_table(latest)
        if latest.previous is not None:
            self.paragraph(
                _("In brackets: the change since %(round)s.") % {"round": md(latest.previous.title)}
            )
        for sentence in minds.notes(lang, maturity, latest, md):
            self.paragraph(sentence)
        ranking = latest.ranking[:5]
        if ranking:
            self.paragraph(f"**{_('Where perceptions differ most')}**")
            self.bullets(
                f"{md(item.code)} {md(item.item.title)}: {minds.spread(lang, item, md)}"
                for item in ranking
            )
        earlier = questionnaire.rounds[:-1]
        if earlier:
            self.paragraph(
                _("Earlier rounds: %(rounds)s.")
                % {"rounds": "; ".join(minds.round_line(lang, r, md) for r in earlier)}
            )

    def heat_table(self, analysis: RoundAnalysis) -> None:
        _, lang = self._, self.lang
        columns = minds.columns(analysis)
        rows: list[list[str]] = []
        for dimension, items in analysis.by_dimension():
            rows.append(
                [f"**{md(dimension.dimension)}**"]
                + [f"**{minds.cell(lang, dimension.score(c))}**" for c in columns]
                + [f"**{minds.points(lang, dimension.spread)}**"]
            )
            rows.extend(
                [f"{md(item.code)} {md(item.item.title)}"]
                + [minds.cell(lang, item.score(c)) for c in columns]
                + [minds.points(lang, item.spread)]
                for item in items
            )
        self.lines += _table(
            [_("Item"), *(md(minds.group(lang, c)) for c in columns), _("Spread")],
            rows,
            numeric=len(columns) + 1,
        )

    def interviews(self, maturity: Maturity) -> None:
        _, lang = self._, self.lang
        if not maturity.interviews:
            return
        self.heading(3, _("What the interviews brought up"))
        items = []
        for note in maturity.interviews:
            text = f"{lang.date(note.interviewed_at)}: {md(note.ref.title)}"
            if note.items:
                text += " (" + ", ".join(md(i.title) for i in note.items) + ")"
            items.append(text)
        self.bullets(items)

    def actions(self, maturity: Maturity) -> None:
        _, lang = self._, self.lang
        if not maturity.actions:
            return
        self.heading(3, _("Workshop actions"))
        self.lines += _table(
            [_("Action"), _("Serves"), _("Owner"), _("Status")],
            (
                [
                    md(a.ref.title),
                    "; ".join(md(r.title) for r in (*a.objectives, *a.experiments)) or "\u2013",
                    md(a.owner or "\u2013"),
                    minds.action_status(lang, a),
                ]
                for a in maturity.actions
            ),
        )

    def glossary(self) -> None:
        _, lang = self._, self.lang
        glossary = self.report.glossary
        if glossary is None or not glossary.entries:
            return
        self.heading(2, _("Glossary"))
        for entry in glossary.entries:
            text = f"**{md(entry.word)}**: {md(minds.definition(lang, entry))}"
            agreed = minds.agreed(lang, entry)
            if agreed:
                text += f" *({md(agreed)})*"
            items = [text]
            if not entry.agreed:
                items += [
                    f"{md(r.department)}: {md(r.text)}"
                    + ("" if r.language.value == lang.code else f" [{r.language.value}]")
                    for r in entry.readings
                ]
            self.lines.append(f"- {items[0]}")
            self.lines += [f"  - {item}" for item in items[1:]]
        self.lines.append("")

    def render(self) -> str:
        _ = self._
        self.header()
        self.key_figures()
        self.objectives()
        self.key_results()
        self.candidates()
        self.follow_up()
        self.statuses()
        self.involvement()
        self.unfinished()
        self.sprints()
        self.timeline()
        self.maturity()
        self.experiments()
        self.excuses()
        self.findings()
        self.diagram()
        self.glossary()
        self.paragraph(
            "*" + _("Participants who take part under a pseudonym are counted, never named.") + "*"
        )
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def _gantt_text(text: str) -> str:
    """Text for a Gantt task or section: a colon would end the task's name."""
    return mermaid(text).replace(":", "#58;")


def _gantt(line: Timeline, lang: Language) -> list[str]:
    """Mermaid Gantt lines: a section per objective, a task per span, the report's day.

    Tasks end the day after their last day (Mermaid's end is exclusive); a running or
    late experiment's time over its box is a critical task of its own.  Task ids are
    made here (t1, t2, ...), never taken from what a user wrote.
    """
    one = dt.timedelta(days=1)
    lines = [
        "gantt",
        f"    title {_gantt_text(lang.gettext('When experiments and sprints ran'))}",
        "    dateFormat YYYY-MM-DD",
        "    axisFormat %Y-%m-%d",
        "    todayMarker off",
    ]
    number = 0
    for lane in line.lanes:
        lines.append(f"    section {_gantt_text(lane.title)}")
        for span in lane.spans:
            number += 1
            tags = []
            if span.status is ExperimentStatus.RUNNING:
                tags.append("active")
            elif span.status is not None and span.status is not ExperimentStatus.PLANNED:
                tags.append("done")
            name = _gantt_text(span.ref.title)
            if span.upcoming:
                name += " (" + _gantt_text(lang.gettext("upcoming")) + ")"
            when = f"{span.first.isoformat()}, {(span.last + one).isoformat()}"
            lines.append(f"    {name} :{''.join(t + ', ' for t in tags)}t{number}, {when}")
            if span.overrun is not None:
                over = overrun(lang, span)
                lines.append(
                    f"    {_gantt_text(span.ref.title)} ({_gantt_text(over)}) :crit, "
                    f"t{number}x, {(span.last + one).isoformat()}, "
                    f"{(span.overrun + one).isoformat()}"
                )
    lines.append(
        f"    {_gantt_text(lang.date(line.today))} :milestone, today, {line.today.isoformat()}, 0d"
    )
    return lines


def _flowchart(experiments: Sequence[ExperimentDetail], lang: Language) -> list[str]:
    """Mermaid lines: objective -> experiment -> hypothesis -> learning -> decision.

    Node ids are made here (O1, E1, H1, ...), never taken from what a user wrote.
    """
    lines = ["flowchart LR"]
    objectives: dict[str, str] = {}
    counters = {"E": 0, "H": 0, "L": 0, "D": 0}

    def node(kind: str) -> str:
        counters[kind] += 1
        return f"{kind}{counters[kind]}"

    for experiment in experiments:
        e = node("E")
        label = f"{mermaid(experiment.ref.title)} ({mermaid(lang.label(experiment.status))})"
        lines.append(f'    {e}["{label}"]')
        for objective in experiment.objectives:
            if objective.id not in objectives:
                o = objectives[objective.id] = f"O{len(objectives) + 1}"
                lines.append(f'    {o}(["{mermaid(objective.title)}"])')
            lines.append(f"    {objectives[objective.id]} --> {e}")
        hypothesis_nodes = {}
        for hypothesis in experiment.hypotheses:
            h = hypothesis_nodes[hypothesis.ref.id] = node("H")
            label = f"{mermaid(hypothesis.ref.title)} ({mermaid(lang.label(hypothesis.status))})"
            lines.append(f'    {h}{{{{"{label}"}}}}')
            lines.append(f"    {e} --> {h}")
        learning_nodes = []
        for learning in experiment.learnings:
            n = node("L")
            learning_nodes.append(n)
            lines.append(f'    {n}>"{mermaid(learning.ref.title)}"]')
            source = hypothesis_nodes.get(learning.hypothesis or "", e)
            if learning.verdict is not None and source != e:
                lines.append(f'    {source} -->|"{mermaid(lang.label(learning.verdict))}"| {n}')
            else:
                lines.append(f"    {source} --> {n}")
        if experiment.decision is not None:
            d = node("D")
            lines.append(f'    {d}{{"{mermaid(lang.label(experiment.decision.outcome))}"}}')
            lines.extend(f"    {source} --> {d}" for source in learning_nodes or [e])
    return lines


def render(report: Report, lang: Language) -> str:
    """The report as GitHub Flavored Markdown with a Mermaid diagram."""
    return _Writer(report, lang).render()
