"""Which fields the SQL stores index, so that every documented filter and order uses one.

One list for both backends: the filters of the command line and of ``store.query``
(``--where "metric = 'visits'"``, ``--filter stance=critical``, ``--order measured_at``),
the look-ups of the roll-up (an experiment's hypotheses, a key result's measurements)
and of references (``slug``).  Each layout turns it into its own indexes in the
migration that brings them; ``tests/test_sql_indexes.py`` reads the query plan of each.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LIST_FIELDS", "ORDERED_FIELDS", "SCALAR_FIELDS"]

#: Scalar fields a filter compares (``=``, ``in``, ranges): an index of (kind, field)
#: over the records that have one.
SCALAR_FIELDS: Final = (
    "experiment",
    "hypothesis",
    "key_result",
    "metric",
    "objective",
    "owner",
    "parent",
    "participant",
    "revises",
    "slug",
    "sprint",
    "stance",
    "status",
)

#: Fields results are ordered by as well as filtered on: an index of every record of
#: the kind, in the order a query sorts in (the field, then the id).
ORDERED_FIELDS: Final = ("measured_at",)

#: List fields whose elements a filter looks for (``tag = pilot``, ``objective = x``).
LIST_FIELDS: Final = ("objectives", "participants", "tags", "team")
