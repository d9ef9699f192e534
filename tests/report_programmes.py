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
    Term,
    reports,
    track,
)
from experiments.checks import run_checks
from experiments.model.participant import Consent
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


#: The moment the programme that trips every check is reported as of.
EVERY_CHECK_AT = "2026-06-01T12:00:00Z"


def every_check_store() -> Store:
    """A programme that, with the municipality's, trips every built-in check.

    What the example keeps to (an objective and a time box for each experiment, a
    facilitated sprint across departments, defined terms ...) is broken here once each.
    """
    store = experiments.connect("memory://every-check", plugins=Plugins(autoload=False))
    term = store.save(Term(slug="resident", word="resident"))
    welfare = store.save(Objective(title="Welfare", slug="welfare", terms=[term]))
    unlinked = store.save(Experiment(title="Street parties"))  # no objective, time box, scope
    store.save(unlinked)
    with track(
        "long-pilot",
        store=store,
        title="A long pilot",
        objectives=welfare,
        time_box="2026-05-01T00:00:00Z/P20W",
        start=False,
    ) as run:
        run.start(at="2026-05-01T00:00:00Z")
    with track("quiet", store=store, title="Quiet ending", objectives=welfare, start=False) as run:
        run.start(at="2026-03-01T00:00:00Z")
        run.conclude(at="2026-03-20T00:00:00Z")
    with track("visits", store=store, title="More visits", objectives=welfare, start=False) as run:
        run.start(at="2026-03-01T09:00:00Z")
        hypothesis = run.hypothesis("More visits help", criterion="visits >= 10")
        run.measure("visits", 4, at="2026-03-10T09:00:00Z")
        run.learn(
            "Visits helped",
            hypothesis=hypothesis,
            verdict="supports",
            evidence="strong",
            at="2026-03-11T09:00:00Z",
        )
    staff = [
        store.save(Participant(role="employee", name=name, department="Home Care"))
        for name in ("Ane", "Bo")
    ]
    store.save(Sprint(title="A sprint in one silo", team=staff))
    _people_whose_data_is_due(store, welfare)
    return store


#: The options under which the programme that trips every check is checked: a check
#: off by default is switched on.
EVERY_CHECK_OPTIONS = {"privacy/consent-missing": {"external": True}}


def _people_whose_data_is_due(store: Store, welfare: Objective) -> None:
    """Citizens in a running experiment whose consent or retention the privacy checks flag."""
    experiment = store.get_by_slug(Experiment, "long-pilot")
    given = "2026-04-01T00:00:00Z"
    people = [
        Participant(role="citizen", name="Cato", external=True),  # no consent recorded
        Participant(
            role="citizen",
            name="Dina",
            consent=Consent(
                purpose="welfare", given_at=given, how="form", withdrawn_at="2026-05-15T00:00:00Z"
            ),
        ),
        Participant(
            role="citizen",
            name="Eli",
            consent=Consent(purpose="libraries", given_at=given, how="form"),
        ),
        Participant(
            role="citizen",
            name="Fin",
            consent=Consent(purpose="welfare", given_at=given, how="form"),
            created_at="2026-01-01T00:00:00Z",
            retention="P30D",
        ),
    ]
    for person in people:
        store.save(Participation(experiment=experiment, participant=store.save(person)))
