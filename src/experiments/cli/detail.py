"""What commands say about an experiment's own records, and about links, in words.

`experiments show EXPERIMENT` lists the records that belong to the experiment (its
hypotheses with their ids and status, learnings, decisions, participants and
prototypes), so that the ids later commands ask for are one command away.
Participants are called by :attr:`~experiments.Participant.display_name`, through
:mod:`experiments.cli.text`, which masks pseudonymous ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from experiments._grouping import by_experiment
from experiments.cli.text import describe, listed_from_data, shown_data, title_of
from experiments.model import (
    KINDS,
    Decision,
    Experiment,
    Hypothesis,
    Learning,
    NextStep,
    Participant,
    Participation,
    Prototype,
    Record,
)

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["experiment_detail", "linked", "listed_title", "titled_by_itself"]

#: The kinds :func:`listed_title` calls by the records they name.
_NAMED_BY_OTHERS: Final = (Decision, Participation)


def _day(record: Record, name: str) -> str:
    value = getattr(record, name, None)
    return "-" if value is None else str(value.format("YYYY-MM-DD"))


def _section(name: str, rows: list[str], empty: str) -> list[str]:
    if not rows:
        return [f"{name}: none; {empty}"]
    return [f"{name} ({len(rows)}):", *(f"  {row}" for row in rows)]


def experiment_detail(store: Store, experiment: Experiment) -> tuple[dict[str, Any], str]:
    """The experiment with its own records: the data for --json, and the text."""
    ids = [experiment.id]
    hypotheses = by_experiment(store, Hypothesis, ids)[experiment.id]
    learnings = sorted(by_experiment(store, Learning, ids)[experiment.id], key=Learning.order_key)
    decisions = sorted(
        by_experiment(store, Decision, ids)[experiment.id], key=lambda d: (d.decided_at, d.id)
    )
    participations = by_experiment(store, Participation, ids)[experiment.id]
    prototypes = by_experiment(store, Prototype, ids)[experiment.id]
    people = {
        p.participant: found
        for p in participations
        if isinstance(found := store.find(p.participant), Participant)
    }
    taking_part = [(p, people[p.participant]) for p in participations if p.participant in people]
    status = {h.id: h.status_from(learnings) for h in hypotheses}
    data = {
        **shown_data(experiment),
        "hypotheses": [{**shown_data(h), "status": status[h.id].value} for h in hypotheses],
        "learnings": [shown_data(item) for item in learnings],
        "decisions": [shown_data(item) for item in decisions],
        "participants": [
            {
                **shown_data(person),
                "participation": taking.id,
                "stance": taking.stance.value,
                "involvement": taking.involvement.value,
            }
            for taking, person in taking_part
        ],
        "prototypes": [shown_data(item) for item in prototypes],
    }
    lines = _lines(experiment, status, hypotheses, learnings, decisions, taking_part, prototypes)
    practice, more = _practice(store, experiment)
    data.update(practice)
    return data, "\n".join(lines + more)


def _lines(
    experiment: Experiment,
    status: dict[str, Any],
    hypotheses: list[Hypothesis],
    learnings: list[Learning],
    decisions: list[Decision],
    taking_part: list[tuple[Participation, Participant]],
    prototypes: list[Prototype],
) -> list[str]:
    """The text of ``experiments show``: the experiment, then each kind of its records."""
    name = experiment.slug or experiment.id
    lines = [describe(experiment)]
    lines += _section(
        "hypotheses",
        [f"{h.id}  {status[h.id].value:<12}  {h.statement}" for h in hypotheses],
        f'add one with `experiments add hypothesis {name} "We believe that ..."`',
    )
    lines += _section(
        "learnings",
        [
            f"{item.id}  {_day(item, 'observed_at')}  "
            f"{item.verdict.value if item.verdict else '-':<12}  {item.observation}"
            for item in learnings
        ],
        f'record one with `experiments learn {name} "What we saw"`',
    )
    lines += _section(
        "decisions",
        [
            f"{item.id}  {_day(item, 'decided_at')}  {item.outcome.value}"
            + (f": {item.rationale}" if item.rationale else "")
            for item in decisions
        ],
        f"decide with `experiments decide {name} OUTCOME` once it is concluded",
    )
    lines += _section(
        "participants",
        [
            f"{person.id}  {title_of(person)}  ({taking.stance.value}, {taking.involvement.value})"
            for taking, person in taking_part
        ],
        f"let someone take part with `experiments link {name} --participant PARTICIPANT`",
    )
    lines += _section(
        "prototypes",
        [
            f"{item.id}  {item.fidelity.value}  {item.title}"
            + (
                f" (first shown {_day(item, 'shown_at')} as a {item.shown_as.value})"
                if item.shown_at and item.shown_as
                else ""
            )
            for item in prototypes
        ],
        f'add one with `experiments add prototype {name} "Title"`',
    )
    return lines


def _practice(store: Store, experiment: Experiment) -> tuple[dict[str, Any], list[str]]:
    """What the experiment's templates still need, and its next steps, now."""
    from experiments.asof import AsOf  # noqa: PLC0415 - only when showing an experiment

    view = AsOf(store, experiment=experiment)
    gaps = view.template_gaps(experiment)
    follow_ups = view.follow_ups(experiment)
    data = {
        "template_gaps": [
            {
                "template": {"id": g.template.id, "title": g.template.title},
                "mandatory": g.mandatory,
                "move": g.move.value,
                "missing": [str(gap) for gap in g.missing],
            }
            for g in gaps
        ],
        "next_steps": [
            {
                "source": f.source.id,
                "number": f.number,
                **to_data_of(f.step),
                "done": f.done,
                "overdue_days": f.overdue_days,
            }
            for f in follow_ups
        ],
    }
    lines = [
        f"to {g.move}: {'mandatory ' if g.mandatory else ''}template {g.template.title!r} "
        f"still needs {', '.join(map(str, g.missing))}"
        for g in gaps
    ]
    lines += _section(
        "next steps",
        [
            f"{f.source.id} {f.number}  {'done' if f.done else 'open':<4}  {f.step}"
            + (f"  ({f.overdue_days} days overdue)" if f.overdue else "")
            for f in follow_ups
        ],
        "give a learning a --next-action, or a decision --next-step",
    )
    return data, lines


def listed_title(store: Store) -> Callable[[Record], str]:
    """A title for records that have none of their own, for `experiments list`.

    A decision is called by its experiment's title and the outcome, a participation by
    the participant (masked where pseudonymous) and the experiment; other records keep
    their own title (:func:`~experiments.cli.text.title_of`).  Each record they name is
    read once.
    """
    titles: dict[str, str] = {}

    def named(record_id: str) -> str:
        if record_id not in titles:
            found = store.find(record_id, include_deleted=True)
            titles[record_id] = title_of(found) if found is not None else record_id
        return titles[record_id]

    def title(record: Record) -> str:
        if not isinstance(record, _NAMED_BY_OTHERS):
            return title_of(record)
        if isinstance(record, Decision):
            return f"{named(record.experiment)}: {record.outcome.value}"
        return f"{named(record.participant)} in {named(record.experiment)}"

    return title


def titled_by_itself(kind: str) -> bool:
    """Whether `experiments list` prints ``kind`` from stored data alone, not records.

    So it does for every kind :func:`listed_title` does not call by other records and
    :func:`~experiments.cli.text.listed_from_data` can show.
    """
    return not issubclass(KINDS[kind], _NAMED_BY_OTHERS) and listed_from_data(kind)


def linked(store: Store, experiment: Experiment, saved: Iterable[Record], *, took: bool) -> str:
    """What `link` (or with ``took``, `unlink`) did, one line per record it saved."""
    lines = []
    for record in saved:
        if isinstance(record, Participation):
            found = store.find(record.participant, include_deleted=True)
            who = title_of(found) if found is not None else record.participant
            lines.append(
                f"{who} no longer takes part in {experiment.title!r}"
                if took
                else f"{who} takes part in {experiment.title!r} "
                f"({record.stance.value}, {record.involvement.value})"
            )
        elif isinstance(record, Experiment):
            lines.append(
                f"{record.title!r} now serves: "
                + (", ".join(_objective_titles(store, record.objectives)) or "no objective")
            )
    return "\n".join(lines)


def _objective_titles(store: Store, ids: Iterable[str]) -> list[str]:
    titles = []
    for objective_id in ids:
        found = store.find(objective_id, include_deleted=True)
        titles.append(repr(title_of(found)) if found is not None else objective_id)
    return titles


def to_data_of(step: NextStep) -> dict[str, Any]:
    """A next step as the JSON of records writes it."""
    from experiments.serialization import converter  # noqa: PLC0415 - made when first used

    data: dict[str, Any] = converter.unstructure(step, NextStep)
    return data
