"""strategy-experiments: record "think big, start small" experiments, roll them up.

The value objects are imported eagerly; stores, plugins and queries load when first
used, so that ``import experiments`` stays about as cheap as importing its dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments._lazy import lazy_attributes
from experiments._version import __version__
from experiments.errors import (
    ConflictError,
    ExperimentsError,
    NotFoundError,
    PluginError,
    ReportError,
    SchemaError,
    StoreError,
    TransitionError,
    ValidationError,
)
from experiments.model import (
    AssumptionKind,
    Comparison,
    Criterion,
    Decision,
    Evidence,
    Excuse,
    ExcuseReason,
    Experiment,
    ExperimentStatus,
    Fidelity,
    Hypothesis,
    HypothesisStatus,
    Interpretation,
    InterviewNote,
    Involvement,
    Item,
    KeyResult,
    LanguageCode,
    Learning,
    Measurement,
    Note,
    NoteLevel,
    Objective,
    Outcome,
    Participant,
    Participation,
    Prototype,
    Questionnaire,
    Record,
    Response,
    Role,
    Scale,
    Sprint,
    Stance,
    SurveyRound,
    Term,
    TimeBox,
    Verdict,
    WorkshopAction,
    slugify,
)

if TYPE_CHECKING:
    from experiments.plugins import Plugins, hookimpl
    from experiments.query import F, Field, parse_where
    from experiments.stores import Capability, Store, StoreURL, connect
    from experiments.tracking import record_excuse, track

__all__ = [
    "AssumptionKind",
    "Capability",
    "Comparison",
    "ConflictError",
    "Criterion",
    "Decision",
    "Evidence",
    "Excuse",
    "ExcuseReason",
    "Experiment",
    "ExperimentStatus",
    "ExperimentsError",
    "F",
    "Fidelity",
    "Field",
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
    "NotFoundError",
    "Note",
    "NoteLevel",
    "Objective",
    "Outcome",
    "Participant",
    "Participation",
    "PluginError",
    "Plugins",
    "Prototype",
    "Questionnaire",
    "Record",
    "ReportError",
    "Response",
    "Role",
    "Scale",
    "SchemaError",
    "Sprint",
    "Stance",
    "Store",
    "StoreError",
    "StoreURL",
    "SurveyRound",
    "Term",
    "TimeBox",
    "TransitionError",
    "ValidationError",
    "Verdict",
    "WorkshopAction",
    "__version__",
    "connect",
    "hookimpl",
    "parse_where",
    "record_excuse",
    "slugify",
    "track",
]

_LAZY = {
    "Capability": "experiments.stores",
    "Store": "experiments.stores",
    "StoreURL": "experiments.stores",
    "connect": "experiments.stores",
    "Plugins": "experiments.plugins",
    "hookimpl": "experiments.plugins",
    "F": "experiments.query",
    "Field": "experiments.query",
    "parse_where": "experiments.query",
    "track": "experiments.tracking",
    "record_excuse": "experiments.tracking",
}


__getattr__ = lazy_attributes(__name__, _LAZY, globals())
