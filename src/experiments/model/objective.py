"""Objectives ("think big") and the key results that measure them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import ClassVar

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import named_errors, shorten
from experiments.model._record import Record
from experiments.model._validate import (
    to_number,
    to_optional_date,
    to_optional_name,
    to_optional_ref,
    to_ref,
    to_refs,
    to_text,
    to_title,
    to_weight,
)

__all__ = ["KeyResult", "Objective", "cycle_message", "parent_cycles", "subtree"]


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Objective(Record):
    """A strategy objective that experiments roll up into.

    Objectives nest through ``parent``; ``weight`` is the objective's share in its
    parent's progress relative to its siblings and key results.  ``terms`` are the
    words of the shared vocabulary it uses (:class:`~experiments.model.Term`).
    """

    kind: ClassVar[str] = "objective"
    id_prefix: ClassVar[str] = "obj"

    title: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    parent: str | None = attrs.field(default=None, converter=to_optional_ref)
    owner: str | None = attrs.field(default=None, converter=to_optional_name)
    weight: float = attrs.field(default=1.0, converter=to_weight)
    terms: tuple[str, ...] = attrs.field(default=(), converter=to_refs)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.parent == self.id:
            raise ValidationError(f"Objective.parent cannot be the objective itself ({self.id!r})")


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class KeyResult(Record):
    """What is measured for an objective: from ``baseline`` towards ``target``.

    Progress is ``(latest - baseline) / (target - baseline)`` clamped to [0, 1], so a
    target below the baseline (fewer complaints, shorter waits) works the same way.
    ``since`` is the day the baseline held (by default the day the key result was
    recorded): from it to ``due``, progress is expected to grow in a straight line.
    """

    kind: ClassVar[str] = "key-result"
    id_prefix: ClassVar[str] = "kr"

    objective: str = attrs.field(converter=to_ref)
    metric: str = attrs.field(converter=to_title)
    baseline: float = attrs.field(converter=to_number)
    target: float = attrs.field(converter=to_number)
    unit: str | None = attrs.field(default=None, converter=to_optional_name)
    due: pendulum.Date | None = attrs.field(default=None, converter=to_optional_date)
    description: str = attrs.field(default="", converter=to_text)
    weight: float = attrs.field(default=1.0, converter=to_weight)
    since: pendulum.Date | None = attrs.field(default=None, converter=to_optional_date)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.since is not None and self.due is not None and self.since > self.due:
            raise ValidationError(
                f"KeyResult.since ({self.since}) is after its due date ({self.due}); "
                "since is when the baseline held, due when the target should be reached"
            )
        if self.target == self.baseline:
            raise ValidationError(
                f"KeyResult.target equals its baseline ({self.baseline:g}); "
                "a key result needs somewhere to go: give a target above or below the baseline"
            )

    @property
    def starts(self) -> pendulum.Date:
        """The day progress is counted from, ``since`` or else the day it was recorded (UTC)."""
        if self.since is not None:
            return self.since
        created = self.created_at
        return pendulum.Date(created.year, created.month, created.day)

    def progress(self, value: float) -> float:
        """Share of the way from baseline to target that ``value`` has come, in [0, 1]."""
        number: object = value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ValidationError(
                f"progress of {self.label()} is measured from a number; got {shorten(value)}"
            )
        try:
            value = float(number)
        except OverflowError:  # a whole number beyond the range of a float
            value = math.inf if number > 0 else -math.inf
        if math.isnan(value):
            raise ValidationError(f"progress of {self.label()} is measured from a number; got nan")
        span = self.target - self.baseline
        if math.isinf(span):  # the ends are further apart than a float reaches: halve all
            share = (value / 2 - self.baseline / 2) / (self.target / 2 - self.baseline / 2)
        else:
            share = (value - self.baseline) / span
        return min(1.0, max(0.0, share))


def parent_cycles(objectives: Iterable[Objective]) -> list[tuple[Objective, ...]]:
    """Every loop of ``parent`` links among ``objectives``, each once.

    Each save checks one objective alone, so two saves that are fine on their own (A
    under B, then B under A) can make objectives their own ancestors; whatever walks
    the tree asks this first.  A loop starts at its objective with the smallest id and
    follows the parents; loops come in the order of those ids.  A parent that is not
    among ``objectives`` ends a chain, as the roll-up treats it.
    """
    by_id: Mapping[str, Objective] = {o.id: o for o in objectives}
    done: set[str] = set()
    cycles: list[tuple[Objective, ...]] = []
    for start in sorted(by_id):
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current in by_id and current not in done:
            if current in on_path:
                loop = path[on_path[current] :]
                first = loop.index(min(loop))
                cycles.append(tuple(by_id[i] for i in loop[first:] + loop[:first]))
                break
            on_path[current] = len(path)
            path.append(current)
            current = by_id[current].parent
        done.update(path)
    cycles.sort(key=lambda loop: loop[0].id)
    return cycles


def subtree(objectives: Iterable[Objective], root: str) -> set[str]:
    """The ids of ``root`` and of every objective below it through ``parent`` links.

    What an objective's roll-up, checks and reports cover.  A loop of parents ends the
    walk where it closes (the roll-up refuses loops; see :func:`parent_cycles`).
    """
    children: dict[str | None, list[str]] = {}
    for objective in objectives:
        children.setdefault(objective.parent, []).append(objective.id)
    found: set[str] = set()
    queue = [root]
    while queue:
        current = queue.pop()
        if current not in found:
            found.add(current)
            queue.extend(children.get(current, ()))
    return found


def cycle_message(cycle: tuple[Objective, ...]) -> str:
    """What is wrong with a loop of parents, and the command that breaks it."""
    chain = " -> ".join(o.label() for o in (*cycle, cycle[0]))
    return (
        f"objectives are their own ancestors through their parents: {chain}; "
        f"give one of them another parent or none, e.g. "
        f"`experiments edit {cycle[0].id} --set parent=`"
    )
