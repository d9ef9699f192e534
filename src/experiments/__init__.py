"""strategy-experiments: record "think big, start small" experiments, roll them up.

The value objects are imported eagerly; stores, plugins and queries load when first
used, so that ``import experiments`` stays about as cheap as importing its dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    Consent,
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
    Involvement,
    KeyResult,
    Learning,
    Measurement,
    Note,
    NoteLevel,
    Objective,
    Outcome,
    Participant,
    Participation,
    Prototype,
    Record,
    Role,
    Sprint,
    Stance,
    TimeBox,
    Verdict,
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
    "Consent",
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
    "Involvement",
    "KeyResult",
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
    "Record",
    "ReportError",
    "Role",
    "SchemaError",
    "Sprint",
    "Stance",
    "Store",
    "StoreError",
    "StoreURL",
    "TimeBox",
    "TransitionError",
    "ValidationError",
    "Verdict",
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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'experiments' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
