"""People and participations packed into small ints, as the facts hold them.

A roll-up of a hundred thousand experiments holds a few hundred thousand
participations and about as many people; as ints in arrays they take a fraction of
the memory of objects, and the roll-up counts them in C.

- A person is their index in the facts' list of people; their flags are
  :data:`EXTERNAL`, :data:`FRONTLINE` and :data:`PSEUDONYMOUS` ORed together.
- A participation is ``person * 16 + stance * 4 + depth``: the stance's and the depth's
  places in :class:`~experiments.model.Stance` and
  :class:`~experiments.model.Involvement` (:data:`LOW_CODE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from experiments.model.participant import Involvement, Stance

__all__ = [
    "CRITICAL",
    "DEPTHS",
    "EXTERNAL",
    "FRONTLINE",
    "LOW_CODE",
    "PEOPLE_IN_32_BITS",
    "PERSON_SHIFT",
    "PSEUDONYMOUS",
    "STANCES",
    "critics",
    "stance_of",
]

#: A person's flags: from outside the organisation, frontline staff, pseudonymous.
EXTERNAL: Final = 1
FRONTLINE: Final = 2
PSEUDONYMOUS: Final = 4

STANCES: Final = tuple(Stance)
DEPTHS: Final = tuple(Involvement)
#: The critical stance's place in :data:`STANCES`.
CRITICAL: Final = STANCES.index(Stance.CRITICAL)
#: A participation's person is its code shifted right by this; the low bits are
#: :data:`LOW_CODE`'s.
PERSON_SHIFT: Final = 4
#: Participation codes fit in four bytes (an ``array`` of ``"i"``) up to this many people.
PEOPLE_IN_32_BITS: Final = 2**27
#: A participation's stance and depth, as stored, to the low four bits of its code.
LOW_CODE: Final = {
    (stance.value, depth.value): s * 4 + d
    for s, stance in enumerate(STANCES)
    for d, depth in enumerate(DEPTHS)
}


def stance_of(code: int) -> int:
    """The place in :data:`STANCES` of the stance a participation (or its low bits) took."""
    return (code >> 2) & 3


def critics(codes: Iterable[int]) -> int:
    """How many of an experiment's participation codes are critical voices.

    A person takes part in an experiment once, so every code is a different person.
    """
    return sum(1 for code in codes if stance_of(code) == CRITICAL)
