"""The model's names that :mod:`experiments` exports as well, listed once for both.

The records, the enums of their fields, the values they hold (time boxes, next steps,
scopes) and :func:`slugify`: each is imported from the module that defines it.
"""

from __future__ import annotations

from experiments.model._record import Record
from experiments.model._time import TimeBox
from experiments.model._validate import slugify
from experiments.model.consent import Consent
from experiments.model.excuse import Excuse, ExcuseReason
from experiments.model.experiment import Decision, Experiment
from experiments.model.hypothesis import (
    AssumptionKind,
    Comparison,
    Criterion,
    Hypothesis,
    HypothesisStatus,
)
from experiments.model.learning import Evidence, Learning, Verdict
from experiments.model.lifecycle import ExperimentStatus, Outcome
from experiments.model.maturity import (
    InterviewNote,
    Item,
    Questionnaire,
    Response,
    Scale,
    SurveyRound,
    WorkshopAction,
)
from experiments.model.measurement import Measurement
from experiments.model.next_step import NextStep
from experiments.model.note import Note, NoteLevel
from experiments.model.objective import KeyResult, Objective
from experiments.model.participant import Involvement, Participant, Participation, Role, Stance
from experiments.model.phase import Phase
from experiments.model.prototype import Fidelity, Prototype
from experiments.model.scope import Scope
from experiments.model.sprint import Sprint
from experiments.model.template import Requirement, Template
from experiments.model.vocabulary import Interpretation, LanguageCode, Term

__all__ = [
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
    "Interpretation",
    "InterviewNote",
    "Involvement",
    "Item",
    "KeyResult",
    "LanguageCode",
    "Learning",
    "Measurement",
    "NextStep",
    "Note",
    "NoteLevel",
    "Objective",
    "Outcome",
    "Participant",
    "Participation",
    "Phase",
    "Prototype",
    "Questionnaire",
    "Record",
    "Requirement",
    "Response",
    "Role",
    "Scale",
    "Scope",
    "Sprint",
    "Stance",
    "SurveyRound",
    "Template",
    "Term",
    "TimeBox",
    "Verdict",
    "WorkshopAction",
    "slugify",
]
