"""Next steps: what will be done after a learning or a decision, by whom and by when.

"Real follow-up, not empty phrases": a learning's ``next_action`` and a decision's
``next_steps`` are next steps that can be followed up.  One that has an owner and a due
date is *tracked*; one that is only text (as every next step recorded before they could
be tracked) is not, and says so, so that someone gives it an owner and a date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum

from experiments.model._fields import Unfit, named_errors, shorten
from experiments.model._time import DateLike, DateTimeLike, instant_key, now
from experiments.model._validate import (
    to_optional_date,
    to_optional_datetime,
    to_optional_name,
    to_title,
)

__all__ = ["NextStep", "to_next_steps", "to_optional_next_step"]


@attrs.frozen(field_transformer=named_errors)
class NextStep:
    """An action to follow up: what, who owns it, by when, and when it was done.

    ``NextStep("Two more libraries from January", owner="Family Services",
    due="2026-12-15")``.  ``done_at`` is set once it is done (:meth:`done`).
    """

    action: str = attrs.field(converter=to_title)
    owner: str | None = attrs.field(default=None, converter=to_optional_name, kw_only=True)
    due: pendulum.Date | None = attrs.field(default=None, converter=to_optional_date, kw_only=True)
    done_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key, kw_only=True
    )

    @property
    def tracked(self) -> bool:
        """Whether someone owns it and it has a due date, which following it up needs."""
        return self.owner is not None and self.due is not None

    def done(self, at: DateTimeLike | None = None) -> NextStep:
        """This step marked done (now, or ``at``); one already done is returned as it is."""
        if self.done_at is not None:
            return self
        return attrs.evolve(self, done_at=now() if at is None else at)

    def reopened(self) -> NextStep:
        """This step not done (again)."""
        return attrs.evolve(self, done_at=None)

    def assigned(self, *, owner: str | None = None, due: DateLike | None = None) -> NextStep:
        """This step with a new owner and/or due date (what is not given is kept)."""
        changes: dict[str, Any] = {}
        if owner is not None:
            changes["owner"] = owner
        if due is not None:
            changes["due"] = due
        return attrs.evolve(self, **changes) if changes else self

    def __str__(self) -> str:
        details = [self.owner] if self.owner else []
        if self.due is not None:
            details.append(f"due {self.due.isoformat()}")
        if self.done_at is not None:
            details.append(f"done {self.done_at.date().isoformat()}")
        return self.action + (f" ({', '.join(details)})" if details else "")


def _step(value: object) -> NextStep:
    if isinstance(value, NextStep):
        return value
    if isinstance(value, str):
        try:
            return NextStep(value)
        except ValueError as exc:
            raise Unfit(f"holds a next step whose {_reason(exc)}") from None
    if isinstance(value, Mapping):
        unknown = sorted(str(key) for key in value if key not in _FIELDS)
        if unknown or "action" not in value:
            raise Unfit(
                f"holds {shorten(value)}; a next step is text, a NextStep, or a mapping "
                "with 'action' and optionally 'owner', 'due' and 'done_at'"
            )
        try:
            return NextStep(**value)
        except (TypeError, ValueError) as exc:
            raise Unfit(f"holds a next step whose {_reason(exc)}") from None
    raise Unfit(
        "must be text, a NextStep or a mapping with 'action' (and 'owner', 'due', 'done_at')",
        type_error=True,
    )


_FIELDS = frozenset(f.name for f in attrs.fields(NextStep))


def _reason(error: Exception) -> str:
    """What a NextStep's error says after naming its field: "NextStep.due is not ..." ."""
    text = str(error)
    return text.removeprefix("NextStep.") if text.startswith("NextStep.") else text


def to_optional_next_step(value: NextStep | str | Mapping[str, Any] | None) -> NextStep | None:
    """A learning's next action: a step, its text, or nothing (None or blank text)."""
    given: object = value
    if given is None or (isinstance(given, str) and not given.strip()):
        return None
    return _step(given)


def to_next_steps(
    value: Iterable[NextStep | str | Mapping[str, Any]],
) -> tuple[NextStep, ...]:
    """A decision's next steps, in order; each action once."""
    given: object = value
    if isinstance(given, str | bytes | Mapping) or not isinstance(given, Iterable):
        raise Unfit("must be a list of next steps, e.g. ['Evening walks']", type_error=True)
    steps: list[NextStep] = []
    seen: set[str] = set()
    for item in given:
        step = _step(item)
        if step.action in seen:
            raise Unfit(
                f"holds the action {step.action!r} twice; give each next step once "
                "(with its owner and due date)"
            )
        seen.add(step.action)
        steps.append(step)
    return tuple(steps)
