"""The value objects: frozen, validated, and free of I/O."""

from __future__ import annotations

from experiments.model import _values
from experiments.model._kinds import KINDS, REFERENCES, kind_of, plural
from experiments.model._record import id_for, new_id
from experiments.model._values import *  # noqa: F403 - named once there, for experiments too

__all__ = ["KINDS", "REFERENCES", "id_for", "kind_of", "new_id", "plural"]
__all__ += _values.__all__
