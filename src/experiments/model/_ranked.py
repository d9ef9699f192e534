"""Choices whose members compare by their rank, not as the text they are stored as."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["Ranked", "ranks"]

E = TypeVar("E", bound=enum.Enum)


def ranks(members: Iterable[E]) -> dict[E, int]:
    """Each member's rank: its place in the order the choice declares them, from 0."""
    return {member: rank for rank, member in enumerate(members)}


class Ranked:
    """Mixed into a choice with an order of its own: ``weak < strong``, ``sketch < pilot``.

    The choice (``class Evidence(Ranked, enum.StrEnum)``) gives each member's ``rank``;
    ``<``, ``<=``, ``>`` and ``>=`` compare two members of that choice by it.  Anything
    else is compared as text, as for a plain :class:`enum.StrEnum`.
    """

    __slots__ = ()

    @property
    def rank(self) -> int:
        raise NotImplementedError  # every choice gives its members their ranks

    def __lt__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self.rank < other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self.rank <= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self.rank > other.rank
        return NotImplemented

    def __ge__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return self.rank >= other.rank
        return NotImplemented
