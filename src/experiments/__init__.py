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
    CSVError,
    ExperimentsError,
    MissingExtraError,
    NotFoundError,
    PluginError,
    ReportError,
    SchemaError,
    StoreError,
    TransitionError,
    ValidationError,
)
from experiments.model import _values
from experiments.model._values import *  # noqa: F403 - the value objects, named once there

if TYPE_CHECKING:
    from experiments.plugins import Plugins, hookimpl
    from experiments.query import F, Field, parse_where
    from experiments.stores import Capability, Store, StoreURL, connect
    from experiments.tracking import record_excuse, track

__all__ = [
    "CSVError",
    "Capability",
    "ConflictError",
    "ExperimentsError",
    "F",
    "Field",
    "MissingExtraError",
    "NotFoundError",
    "PluginError",
    "Plugins",
    "ReportError",
    "SchemaError",
    "Store",
    "StoreError",
    "StoreURL",
    "TransitionError",
    "ValidationError",
    "__version__",
    "connect",
    "hookimpl",
    "parse_where",
    "record_excuse",
    "track",
]
__all__ += _values.__all__  # the model's names, in order there

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

if not TYPE_CHECKING:  # type checkers see the names imported above, and no others
    __getattr__ = lazy_attributes(__name__, _LAZY, globals())
