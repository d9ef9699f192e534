"""References to records in results: an id and what a person calls it."""

from __future__ import annotations

import attrs

__all__ = ["Ref"]


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class Ref:
    """A record named in a roll-up: its id and its title (or statement)."""

    id: str
    title: str

    def __str__(self) -> str:
        return self.title
