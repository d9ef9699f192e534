"""Commands of the practice in depth: templates, next steps to follow up, sprints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from experiments.cli.app import Context, at_option, cli, record_option, store_command
from experiments.cli.resolve import find
from experiments.cli.text import one_line, shown_data
from experiments.errors import ValidationError

if TYPE_CHECKING:
    from pendulum import DateTime

__all__: list[str] = []

_AT = at_option("as of this time")


@cli.group(invoke_without_command=True)
@store_command
def templates(state: Context) -> None:
    """List the experiment templates: those shipped, and those in the store.

    \b
    experiments templates
    experiments templates install
    experiments templates install frontline-experiment --mandatory-for welfare
    """
    ctx = click.get_current_context()
    if ctx.invoked_subcommand is not None:
        return
    from experiments.model import Template  # noqa: PLC0415 - only when listing
    from experiments.templates import SHIPPED  # noqa: PLC0415

    store = state.store()
    stored = {t.id: t for t in store.query(Template)} if store.exists() else {}
    rows = []
    for slug, template in SHIPPED.items():
        installed = stored.pop(template.id, None)
        rows.append((slug, template, installed))
    rows += [(t.slug or t.id, t, t) for t in sorted(stored.values(), key=lambda t: t.title)]
    state.emit(
        [
            {
                **shown_data(installed or template),
                "shipped": slug in SHIPPED,
                "installed": installed is not None,
            }
            for slug, template, installed in rows
        ],
        lambda: "\n".join(
            f"{slug:<36} {'installed' if installed else 'shipped':<9}  {template.title}"
            + (
                f" (mandatory for {', '.join(installed.mandatory_for)})"
                if installed is not None and installed.mandatory_for
                else ""
            )
            for slug, template, installed in rows
        ),
    )


@templates.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@record_option(
    "--mandatory-for",
    "mandatory_for",
    kind="objective",
    what="an objective whose experiments must satisfy the templates named",
    multiple=True,
)
@store_command
def install(state: Context, names: tuple[str, ...], mandatory_for: tuple[str, ...]) -> None:
    """Install the shipped templates (all of them, or NAME...) into the store.

    A template already in the store is kept as it is; running it again changes nothing.
    With --mandatory-for, the templates named become mandatory for the objective: its
    experiments (and those below it) start and conclude only once they satisfy them.
    """
    from experiments.templates import install as installing  # noqa: PLC0415

    if mandatory_for and not names:
        raise ValidationError(
            "name the templates to make mandatory, e.g. `experiments templates install "
            "frontline-experiment --mandatory-for OBJECTIVE`"
        )
    store = state.store(create=True)
    making = dict.fromkeys(names, mandatory_for) if mandatory_for else None
    installed = installing(store, names or None, mandatory_for=making, by=state.actor)
    state.emit(
        [shown_data(t) for t in installed],
        lambda: "\n".join(f"installed {one_line(t)}" for t in installed),
    )


@cli.command("follow-up")
@click.argument("record", metavar="RECORD")
@click.argument("step", required=False, metavar="[STEP]")
@click.option("--owner", help="who will do it")
@click.option("--due", metavar="DATE", help="by when, e.g. 2026-12-15")
@click.option("--done/--not-done", default=None, help="it is done (at --at), or not done after all")
@_AT
@store_command
def follow_up(
    state: Context,
    record: str,
    step: str | None,
    owner: str | None,
    due: str | None,
    done: bool | None,
    at: DateTime | None,
) -> None:
    """Follow up a next step: give it an owner or a due date, or mark it done.

    RECORD is the learning or decision the step belongs to, or an experiment (its
    learnings' and decision's steps, in the order `experiments show` lists them).  STEP
    is the step's number (1 for the first) or its action; a record with one step needs
    none.  `experiments next-steps` lists them.

    \b
    experiments follow-up safety-walks "Evening walks" --owner "Karin Vestergaard" --due 2026-12-15
    experiments follow-up dec_... 1 --done --at 2026-12-10
    """
    from experiments.follow_up import follow_up as following  # noqa: PLC0415

    if owner is None and due is None and done is None:
        raise ValidationError("give --owner, --due, --done or --not-done: what changes")
    which: int | str | None = int(step) if step is not None and step.isdigit() else step
    store = state.store()
    target = find(store, record)
    saved = following(
        store, target.id, which, owner=owner, due=due, done=done, at=at, by=state.actor
    )
    state.wrote(saved, "followed up")


@cli.command("next-steps")
@record_option("--objective", kind="objective", what="one objective and its sub-objectives")
@click.option("--open", "open_only", is_flag=True, help="only steps not done")
@click.option("--overdue", is_flag=True, help="only steps past their due date")
@_AT
@store_command
def next_steps(
    state: Context, objective: str | None, open_only: bool, overdue: bool, at: DateTime | None
) -> None:
    """List the next steps of learnings and decisions: owner, due date, done, overdue.

    The overdue first, then by due date.  Each line ends with what `experiments
    follow-up` takes to change it.
    """
    from experiments.follow_up import follow_ups  # noqa: PLC0415

    found = follow_ups(state.store(), objective, at=at, open_only=open_only, overdue=overdue)

    def line(item: Any) -> str:
        step = item.step
        state_word = (
            "done"
            if item.done
            else (f"{item.overdue_days} days overdue" if item.overdue else "open")
        )
        return (
            f"{state_word:<16} {step.due.isoformat() if step.due else '-':<10}  "
            f"{step.owner or '(no owner)':<20}  {step.action}  [{item.experiment.title}]  "
            f"follow-up {item.source.id} {item.number}"
        )

    state.emit(
        [
            {
                "action": item.step.action,
                "owner": item.step.owner,
                "due": None if item.step.due is None else item.step.due.isoformat(),
                "done": item.done,
                "done_at": None
                if item.step.done_at is None
                else item.step.done_at.to_iso8601_string(),
                "overdue_days": item.overdue_days,
                "tracked": item.step.tracked,
                "source": item.source.id,
                "number": item.number,
                "experiment": {"id": item.experiment.id, "title": item.experiment.title},
            }
            for item in found
        ],
        lambda: "\n".join(line(item) for item in found) or "no next steps",
    )


@cli.command()
@record_option("--objective", kind="objective", what="one objective and its sub-objectives")
@_AT
@store_command
def sprints(state: Context, objective: str | None, at: DateTime | None) -> None:
    """Show each sprint: challenge, team, facilitators, process design, experiments, learnings."""
    from experiments.rollup import rollup  # noqa: PLC0415 - only when showing

    result = rollup(state.store(), objective, at=at)
    lines = [line for sprint in result.sprints for line in _sprint_lines(sprint)]
    state.emit(
        [_sprint_data(s) for s in result.sprints],
        lambda: "\n".join(lines) or "no sprints",
    )


def _member(m: Any) -> str:
    """A team member as the sprint listing names them: who, and from where."""
    who = m.name or m.role.value
    where = m.department or ("outside" if m.external else "")
    return f"{who} ({where})" if where else who


def _sprint_lines(sprint: Any) -> list[str]:
    """One sprint rolled up, as the lines of ``experiments sprints``."""
    lines = [f"sprint {sprint.ref.id} {sprint.ref.title!r}"]
    if sprint.challenge:
        lines.append(f"  challenge: {sprint.challenge}")
    if sprint.time_box is not None:
        lines.append(f"  time box: {sprint.time_box}")
    lines.append(f"  facilitators: {', '.join(sprint.facilitators) or 'none'}")
    lines.append(f"  team: {', '.join(_member(m) for m in sprint.team) or 'nobody'}")
    lines.append(f"  departments crossed: {', '.join(sprint.departments) or 'none named'}")
    lines.append(f"  from outside: {', '.join(_member(m) for m in sprint.external) or 'nobody'}")
    lines.append(f"  process design ({len(sprint.phases)} phases):")
    for phase in sprint.phases:
        who = [_member(m) for m in phase.members] + [r.value for r in phase.roles]
        when = f" [{phase.time_box}]" if phase.time_box is not None else ""
        lines.append(
            f"    {phase.position}. {phase.ref.title}{when}: "
            f"{', '.join(who) or 'nobody named'} ({phase.involvement.value})"
        )
    lines.append(f"  experiments ({len(sprint.experiments)}):")
    lines += [f"    {ref.title} [{status.value}]" for ref, status in sprint.experiments]
    lines.append(f"  learnings ({len(sprint.learnings)}):")
    lines += [f"    {ref.title} [{experiment.title}]" for ref, experiment in sprint.learnings]
    return lines


def _sprint_data(s: Any) -> dict[str, Any]:
    """One sprint rolled up, as ``experiments --json sprints`` prints it."""
    return {
        "id": s.ref.id,
        "title": s.ref.title,
        "challenge": s.challenge,
        "time_box": None if s.time_box is None else str(s.time_box),
        "facilitators": list(s.facilitators),
        "departments": list(s.departments),
        "team": [
            {
                "role": m.role.value,
                "name": m.name,
                "department": m.department,
                "external": m.external,
            }
            for m in s.team
        ],
        "phases": [
            {
                "id": p.ref.id,
                "title": p.ref.title,
                "position": p.position,
                "time_box": None if p.time_box is None else str(p.time_box),
                "people": [m.name or m.role.value for m in p.members],
                "roles": [r.value for r in p.roles],
                "involvement": p.involvement.value,
            }
            for p in s.phases
        ],
        "experiments": [
            {"id": r.id, "title": r.title, "status": status.value} for r, status in s.experiments
        ],
        "learnings": [
            {"id": r.id, "observation": r.title, "experiment": e.id} for r, e in s.learnings
        ],
    }
