"""The small-group rule: no figure is shown for fewer respondents than a minimum.

Figures of a maturity analysis are shown per department and level; a group of one or
two would show what one person answered.  :func:`protect` is the rule, and every
figure any output shows comes through it:

- a group with at least ``minimum`` respondents is shown on its own;
- the smaller groups are merged into one "other" group, and the groups merged are
  named (so a reader knows they are in it);
- an "other" group still smaller than the minimum is suppressed: neither its figures
  nor its size are shown anywhere;
- every total shown is taken over what is shown, never over everyone, so that no
  small group can be recovered by subtracting the groups shown from a total.

Higher figures (a dimension, a group across items) are to be worked out from the
groups shown alone, which keeps the last promise for them too.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Final, Generic, TypeVar

import attrs

from experiments.errors import InvalidTypeError, ValidationError

__all__ = ["DEFAULT_MIN_GROUP", "SMALLEST_MIN_GROUP", "Protected", "check_minimum", "protect"]

#: The smallest group of respondents whose figures are shown, unless configured.
DEFAULT_MIN_GROUP: Final = 3
#: The least a minimum may be, since a group of one is one person's answers.
SMALLEST_MIN_GROUP: Final = 2

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@attrs.frozen
class Protected(Generic[K, V]):
    """Groups of values as they may be shown under the small-group rule.

    ``shown`` holds the groups big enough to show on their own, in the order given;
    ``other`` the values of the small groups merged, when together big enough (else
    None); ``merged`` the small groups, whether their "other" is shown or not; and
    ``suppressed`` whether that "other" was left out for being too small.
    """

    shown: tuple[tuple[K, tuple[V, ...]], ...]
    other: tuple[V, ...] | None
    merged: tuple[K, ...]
    suppressed: bool
    minimum: int

    @property
    def values(self) -> tuple[V, ...]:
        """Every value shown, in the groups and in "other", which is what a total is taken over."""
        found = [value for _, values in self.shown for value in values]
        return (*found, *(self.other or ()))


def check_minimum(minimum: object, name: str = "min_group_size") -> int:
    """``minimum`` as a group size the rule takes, or an error naming ``name``."""
    if isinstance(minimum, bool) or not isinstance(minimum, int):
        raise InvalidTypeError(f"{name} must be a whole number such as 3; got {minimum!r}")
    if minimum < SMALLEST_MIN_GROUP:
        raise ValidationError(
            f"{name} must be {SMALLEST_MIN_GROUP} or more (a group of one is one person's "
            f"answers); got {minimum}"
        )
    return minimum


def protect(groups: Mapping[K, Sequence[V]], minimum: int) -> Protected[K, V]:
    """``groups`` (each a respondent's value per entry) as the small-group rule shows them.

    Each value stands for one respondent, so a group's size is its number of values.
    Groups without values are left out altogether.

    Raises:
        ValidationError: ``minimum`` is below 2; InvalidTypeError: it is not a number.
    """
    check_minimum(minimum)
    shown: list[tuple[K, tuple[V, ...]]] = []
    merged: list[K] = []
    pooled: list[V] = []
    for key, values in groups.items():
        if not values:
            continue
        if len(values) >= minimum:
            shown.append((key, tuple(values)))
        else:
            merged.append(key)
            pooled.extend(values)
    big_enough = len(pooled) >= minimum
    return Protected(
        shown=tuple(shown),
        other=tuple(pooled) if merged and big_enough else None,
        merged=tuple(merged),
        suppressed=bool(merged) and not big_enough,
        minimum=minimum,
    )
