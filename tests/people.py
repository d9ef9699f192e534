"""Finding a participant of the example programme the way its operator would.

A pseudonymous participant is not found by slug (that would confirm a name); the
operator, who holds the store, finds them among everyone.
"""

from __future__ import annotations

from experiments import Participant
from experiments.stores import Store


def person(store: Store, slug: str) -> Participant:
    """The stored participant with ``slug``, pseudonymous or not."""
    return next(p for p in store.query(Participant) if p.slug == slug)
