"""The table of stored kinds: each record class by its name, and what refers to what."""

from __future__ import annotations

from typing import Final

from experiments.model._record import Record
from experiments.model.excuse import Excuse
from experiments.model.experiment import Decision, Experiment
from experiments.model.hypothesis import Hypothesis
from experiments.model.learning import Learning
from experiments.model.maturity import (
    InterviewNote,
    Item,
    Questionnaire,
    Response,
    SurveyRound,
    WorkshopAction,
)
from experiments.model.measurement import Measurement
from experiments.model.note import Note
from experiments.model.objective import KeyResult, Objective
from experiments.model.participant import Participant, Participation
from experiments.model.phase import Phase
from experiments.model.prototype import Prototype
from experiments.model.sprint import Sprint
from experiments.model.template import Template
from experiments.model.vocabulary import Interpretation, Term

__all__ = ["KINDS", "REFERENCES", "kind_of", "plural"]

#: Every stored kind by its name, in the order a programme is usually recorded.
KINDS: Final[dict[str, type[Record]]] = {
    cls.kind: cls
    for cls in (
        Objective,
        KeyResult,
        Template,
        Sprint,
        Phase,
        Participant,
        Experiment,
        Hypothesis,
        Prototype,
        Participation,
        Learning,
        Measurement,
        Decision,
        Excuse,
        Note,
        Term,
        Interpretation,
        Questionnaire,
        Item,
        SurveyRound,
        Response,
        InterviewNote,
        WorkshopAction,
    )
}


#: Which fields of each kind refer to which other kind, and what purging the referred-to
#: record does to the referring one: True purges it too (it cannot stand without the
#: reference), False only removes the reference.  Verify follows these as well; a list
#: field refers to every id it holds.
REFERENCES: Final[dict[str, dict[str, tuple[str, bool]]]] = {
    "objective": {"parent": ("objective", False), "terms": ("term", False)},
    "key-result": {"objective": ("objective", True)},
    "template": {"mandatory_for": ("objective", False)},
    "sprint": {"team": ("participant", False)},
    "phase": {"sprint": ("sprint", True), "participants": ("participant", False)},
    "participant": {},
    "experiment": {
        "objectives": ("objective", False),
        "sprint": ("sprint", False),
        "template": ("template", False),
        "terms": ("term", False),
    },
    "hypothesis": {"experiment": ("experiment", True)},
    "prototype": {"experiment": ("experiment", True)},
    "participation": {
        "experiment": ("experiment", True),
        "participant": ("participant", True),
    },
    "learning": {
        "experiment": ("experiment", True),
        "hypothesis": ("hypothesis", True),
        "participants": ("participant", False),
    },
    "measurement": {
        "key_result": ("key-result", True),
        "experiment": ("experiment", False),
        "participant": ("participant", False),
    },
    "decision": {"experiment": ("experiment", True), "revises": ("decision", False)},
    "excuse": {"objective": ("objective", True), "experiment": ("experiment", True)},
    "note": {"experiment": ("experiment", True)},
    "term": {},
    "interpretation": {"term": ("term", True)},
    "questionnaire": {"objectives": ("objective", False)},
    "item": {
        "questionnaire": ("questionnaire", True),
        "objectives": ("objective", False),
        "terms": ("term", False),
    },
    "survey-round": {"questionnaire": ("questionnaire", True)},
    "response": {"round": ("survey-round", True), "participant": ("participant", True)},
    "interview-note": {
        "items": ("item", False),
        "round": ("survey-round", False),
        "participant": ("participant", True),
    },
    "workshop-action": {
        "objectives": ("objective", False),
        "experiments": ("experiment", False),
        "items": ("item", False),
    },
}


def plural(kind: str) -> str:
    """A kind's name for many of its records: ``hypotheses``, ``key-results``.

    The command line lists records by it, and the SQL views are named by it.
    """
    return "hypotheses" if kind == "hypothesis" else f"{kind}s"


def kind_of(name: str) -> type[Record]:
    """The record class for a kind name such as ``"experiment"`` or ``"key-result"``."""
    from experiments.errors import ValidationError  # noqa: PLC0415 - error path only

    try:
        return KINDS[name]
    except (KeyError, TypeError):
        known = ", ".join(KINDS)
        raise ValidationError(f"unknown kind {name!r}; known kinds: {known}") from None
