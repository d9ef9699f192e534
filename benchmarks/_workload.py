"""What scripts log, twice: as the library's records, and as the plain dicts of the floor.

:func:`programme` is what a script logs about N experiments: each with 1 hypothesis, 3
participants (a Participant and its Participation each), 3 measurements and 1 learning,
12 objects.  :func:`raw_programme` builds the same objects as a program without the
library would: dicts holding the very fields the library stores (taken once from the
library's own records, :func:`templates`), with ids, texts, references and times of
their own.  A floor that wrote less than the library would flatter nobody but itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from typing import Any

from experiments import (
    Experiment,
    Hypothesis,
    Learning,
    Measurement,
    Participant,
    Participation,
    Record,
)
from experiments.serialization import to_data

OBJECTS_PER_EXPERIMENT = 12
ROLES = ("citizen", "frontline-employee", "association")
STANCES = ("critical", "supportive", "neutral")
METRIC = "families returning"


def programme(n: int, tag: str) -> list[Record]:
    """N experiments and what they log, in the order a script would save them."""
    records: list[Record] = []
    for number in range(n):
        experiment = Experiment(title=f"Experiment {tag} {number}", time_box="P2W")
        hypothesis = Hypothesis(experiment=experiment, statement=f"Families come back {number}")
        people = [Participant(role=role) for role in ROLES]
        records += [experiment, hypothesis, *people]
        records += [
            Participation(experiment=experiment, participant=person, stance=stance)
            for person, stance in zip(people, STANCES, strict=True)
        ]
        records += [
            Measurement(metric=METRIC, value=week * 3, experiment=experiment) for week in range(3)
        ]
        records.append(
            Learning(
                experiment=experiment,
                hypothesis=hypothesis,
                observation=f"Seven families came twice ({number})",
                verdict="supports",
                participants=people,
            )
        )
    return records


def templates() -> dict[str, dict[str, Any]]:
    """Each kind's data as the library stores a first version: the floor's field lists."""
    stored: dict[str, dict[str, Any]] = {}
    for record in programme(1, "template"):
        stored[record.kind] = {**to_data(record), "revision": 1}
    return stored


def raw_id(prefix: str) -> str:
    """An id of the library's shape (time first, then random): B-trees grow at one end."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def raw_key_id(kind: str, prefix: str, key: str) -> str:
    """A deterministic id from a natural key, as the library makes participations' ids."""
    return f"{prefix}_{hashlib.sha256(f'{kind}:{key}'.encode()).hexdigest()[:32]}"


def raw_now() -> str:
    """The current instant as RFC 3339 text in UTC."""
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def _made(template: dict[str, Any], prefix: str, **fields: Any) -> dict[str, Any]:
    """A new object from a kind's template: its own id and times, then ``fields``."""
    now = raw_now()
    return {**template, "id": raw_id(prefix), "created_at": now, "updated_at": now, **fields}


def raw_programme(n: int, tag: str, kinds: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects of :func:`programme` as a program without the library builds them."""
    objects: list[dict[str, Any]] = []
    for number in range(n):
        experiment = _made(kinds["experiment"], "exp", title=f"Experiment {tag} {number}")
        hypothesis = _made(
            kinds["hypothesis"],
            "hyp",
            experiment=experiment["id"],
            statement=f"Families come back {number}",
        )
        people = [_made(kinds["participant"], "par", role=role) for role in ROLES]
        participations = [
            _made(
                kinds["participation"],
                "ppn",
                experiment=experiment["id"],
                participant=person["id"],
                stance=stance,
            )
            for person, stance in zip(people, STANCES, strict=True)
        ]
        for participation in participations:
            participation["id"] = raw_key_id(
                "participation",
                "ppn",
                f"{participation['experiment']}/{participation['participant']}",
            )
        measurements = [
            _made(
                kinds["measurement"],
                "msr",
                metric=METRIC,
                value=float(week * 3),
                experiment=experiment["id"],
                measured_at=raw_now(),
            )
            for week in range(3)
        ]
        learning = _made(
            kinds["learning"],
            "lrn",
            experiment=experiment["id"],
            hypothesis=hypothesis["id"],
            observation=f"Seven families came twice ({number})",
            participants=[person["id"] for person in people],
            observed_at=raw_now(),
        )
        objects += [experiment, hypothesis, *people, *participations, *measurements, learning]
    return objects


def raw_unit(number: int, tag: str, kinds: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``track(slug)`` and one ``run.measure()`` store: two experiment versions, a value.

    The experiment's id derives from its slug, as the library's does, so a second run
    of the same script finds it.
    """
    slug = f"unit-{tag}-{number}"
    now = raw_now()
    planned = {
        **kinds["experiment"],
        "id": raw_key_id("experiment", "exp", slug),
        "slug": slug,
        "title": f"Unit {tag} {number}",
        "time_box": None,
        "created_at": now,
        "updated_at": now,
    }
    running = {
        **planned,
        "revision": 2,
        "status": "running",
        "started_at": now,
        "updated_at": raw_now(),
    }
    measured = {
        **kinds["measurement"],
        "id": raw_id("msr"),
        "metric": METRIC,
        "value": float(number),
        "experiment": planned["id"],
        "measured_at": now,
        "created_at": now,
        "updated_at": now,
    }
    return [planned, running, measured]
