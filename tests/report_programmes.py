"""Programmes that report tests record: hostile text, a pseudonymous marker, the example's,
and a large one of ten thousand experiments."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import jsonschema

import experiments
from experiments import (
    Decision,
    Excuse,
    Experiment,
    Hypothesis,
    KeyResult,
    Learning,
    Objective,
    Participant,
    Participation,
    Plugins,
    Sprint,
    reports,
)
from experiments.checks import run_checks
from experiments.reports import Report
from experiments.rollup import rollup
from experiments.stores import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import bench_rollup
import municipality

#: The name of a pseudonymous participant: it must appear in no report, anywhere.
MARKER = "Zyxwvu-Pseudonym-7Q3"

SCRIPT = "<script>alert(1)</script>"
PIPE = "left | right\nnext line"
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1:A9)")


def validator_for(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of documents against ``schema`` (draft 2020-12), formats checked."""
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def build_report(store: Store, objective: str | None = "welfare-in-100-days") -> Report:
    """The report the tests render: roll-up, checks and detail, as of the programme's moment."""
    result = rollup(store, objective, at=municipality.AS_OF)
    found = run_checks(store, objective=objective, at=municipality.AS_OF)
    return reports.gather(store, result, found)


def add_marked_participant(store: Store) -> None:
    """A pseudonymous citizen with a unique name, taking part and heard in one experiment."""
    art = store.get_by_slug(Experiment, "art-for-families")
    person = store.save(
        Participant(role="citizen", name=MARKER, pseudonymous=True, department=None)
    )
    store.save(Participation(experiment=art, participant=person, stance="critical"))
    hypothesis = next(store.query(Hypothesis, experiment=art.id))
    store.save(
        Learning(
            experiment=art,
            hypothesis=hypothesis,
            verdict="supports",
            evidence="moderate",
            observation="A parent who came with a neighbour brought two more families",
            participants=[person],
            observed_at="2026-10-06T10:00:00+02:00",
        )
    )


def hostile_store() -> Store:
    """A programme in which everything a user can write is hostile to some format."""
    store = experiments.connect("memory://", plugins=Plugins(autoload=False))
    objective = store.save(
        Objective(title=f"Objective {SCRIPT}", description=f"{PIPE} {SCRIPT}", slug="hostile")
    )
    store.save(KeyResult(objective=objective, metric=f"metric {SCRIPT} |", baseline=0, target=10))
    sprint = store.save(Sprint(title=SCRIPT, facilitators=[SCRIPT]))
    named = store.save(Participant(role="partner", name=f"{SCRIPT} {FORMULAS[0]}", department=PIPE))
    for index, title in enumerate((SCRIPT, PIPE, *FORMULAS, "[x](javascript:alert(1)) ```")):
        experiment = store.save(
            Experiment(
                title=title,
                objectives=[objective],
                sprint=sprint,
                owner=FORMULAS[index % len(FORMULAS)],
                facilitators=[PIPE],
                time_box="2026-09-01T00:00:00Z/P4W",
            )
        )
        experiment = store.save(experiment.start(at="2026-09-01T00:00:00Z"))
        store.save(Participation(experiment=experiment, participant=named, stance="critical"))
        hypothesis = store.save(
            Hypothesis(experiment=experiment, statement=f'"]) --> X[{title}', criterion="n >= 1")
        )
        store.save(
            Learning(
                experiment=experiment,
                hypothesis=hypothesis,
                verdict="supports",
                evidence="strong",
                observation=title,
                insight=PIPE,
                next_action=FORMULAS[0],
                participants=[named],
                observed_at="2026-09-10T00:00:00Z",
            )
        )
        experiment = store.save(experiment.conclude(at="2026-09-20T00:00:00Z"))
        decision = store.save(
            Decision(
                experiment=experiment,
                outcome="pivot",
                rationale=title,
                decided_by=SCRIPT,
                next_steps=[FORMULAS[1], PIPE],
                decided_at="2026-09-25T00:00:00Z",
            )
        )
        store.save(experiment.decide(decision))
    store.save(Excuse(group=SCRIPT, reason="other", statement=PIPE, objective=objective))
    return store


#: How many experiments the large programme has.
LARGE = 10_000
#: When the large programme is reported on: after all of its experiments began.
LARGE_AS_OF = "2027-01-01T00:00:00Z"


def large_report(directory: Path, n: int = LARGE) -> Report:
    """The roll-up benchmark's programme of ``n`` experiments, reported with its findings.

    It is recorded in a SQLite file in ``directory``: the memory store scans every
    record for each query of a few hundred ids, which takes minutes at this size.
    """
    url = f"sqlite:///{directory}/large.db"
    bench_rollup.fill(url, n)
    with experiments.connect(url, plugins=Plugins(autoload=False), create=False) as store:
        return reports.build(store, at=LARGE_AS_OF)
