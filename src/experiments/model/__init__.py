"""The value objects: frozen, validated, and free of I/O."""

from __future__ import annotations

from typing import Final

from experiments.model._record import Record, id_for, new_id
from experiments.model._time import TimeBox
from experiments.model._validate import slugify
from experiments.model.consent import Consent
from experiments.model.excuse import Excuse, ExcuseReason
from experiments.model.experiment import Decision, Experiment, ExperimentStatus, Outcome
from experiments.model.hypothesis import (
    AssumptionKind,
    Comparison,
    Criterion,
    Hypothesis,
    HypothesisStatus,
)
from experiments.model.learning import Evidence, Learning, Verdict
from experiments.model.measurement import Measurement
from experiments.model.note import Note, NoteLevel
from experiments.model.objective import KeyResult, Objective
from experiments.model.participant import Involvement, Participant, Participation, Role, Stance
from experiments.model.prototype import Fidelity, Prototype
from experiments.model.sprint import Sprint

__all__ = [
    "KINDS",
    "REFERENCES",
    "AssumptionKind",
    "Comparison",
    "Consent",
    "Criterion",
    "Decision",
    "Evidence",
    "Excuse",
    "ExcuseReason",
    "Experiment",
    "ExperimentStatus",
    "Fidelity",
    "Hypothesis",
    "HypothesisStatus",
    "Involvement",
    "KeyResult",
    "Learning",
    "Measurement",
    "Note",
    "NoteLevel",
    "Objective",
    "Outcome",
    "Participant",
    "Participation",
    "Prototype",
    "Record",
    "Role",
    "Sprint",
    "Stance",
    "TimeBox",
    "Verdict",
    "id_for",
    "kind_of",
    "new_id",
    "slugify",
]

#: Every stored kind by its name, in the order a programme is usually recorded.
KINDS: Final[dict[str, type[Record]]] = {
    cls.kind: cls
    for cls in (
        Objective,
        KeyResult,
        Sprint,
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
    )
}


#: Which fields of each kind refer to which other kind, and what purging the referred-to
#: record does to the referring one: True purges it too (it cannot stand without the
#: reference), False only removes the reference.  Verify follows these as well; a list
#: field refers to every id it holds.
REFERENCES: Final[dict[str, dict[str, tuple[str, bool]]]] = {
    "objective": {"parent": ("objective", False)},
    "key-result": {"objective": ("objective", True)},
    "sprint": {"team": ("participant", False)},
    "participant": {},
    "experiment": {"objectives": ("objective", False), "sprint": ("sprint", False)},
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
}


def kind_of(name: str) -> type[Record]:
    """The record class for a kind name such as ``"experiment"`` or ``"key-result"``."""
    from experiments.errors import ValidationError  # noqa: PLC0415 - error path only

    try:
        return KINDS[name]
    except (KeyError, TypeError):
        known = ", ".join(KINDS)
        raise ValidationError(f"unknown kind {name!r}; known kinds: {known}") from None
