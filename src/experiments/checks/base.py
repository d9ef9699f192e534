"""What a check is, what it finds, and what it gets to look at."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from experiments.asof import AsOf
from experiments.checks._options import OptionKind, inferred
from experiments.errors import ValidationError
from experiments.model import (
    Record,
)
from experiments.refs import Ref

__all__ = ["Check", "CheckContext", "Finding", "Severity"]


class Severity(enum.StrEnum):
    """How urgent a finding is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@attrs.frozen
class Finding:
    """Something a check found: which check, how urgent, about what, and what to do."""

    check: str
    severity: Severity
    message: str
    concerns: tuple[Ref, ...] = ()
    plugin: str = ""

    def __str__(self) -> str:
        about = ", ".join(ref.title for ref in self.concerns)
        return f"[{self.severity}] {self.check}: {self.message}" + (f" ({about})" if about else "")


def ref(record: Record) -> Ref:
    """A record named in a finding."""
    for name in ("title", "statement", "metric", "word", "text"):
        shown = getattr(record, name, None)
        if shown:
            return Ref(record.id, str(shown))
    return Ref(record.id, record.id)


def _check_id(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or "/" not in value or value != value.strip().lower():
        raise ValidationError(
            f"check id {value!r} must be lowercase '<area>/<name>', "
            "e.g. 'engine-room/no-critical-voice'"
        )


@attrs.frozen
class Check:
    """A rule a programme is held to.

    ``run(context, options)`` yields :class:`Finding` objects for what it finds in the
    context's scope; ``options`` are the check's ``defaults`` updated with whatever the
    caller configured for this check's ``id``.

    ``id`` is the stable identifier, ``"<area>/<name>"``, that configuration and reports
    use; ``severity`` how urgent its findings are unless a finding says otherwise;
    ``move`` the brave move of the practice it comes from; ``summary`` one line on what it
    looks for; ``run`` the function that looks; ``defaults`` its thresholds.

    ``kinds`` says how to read each option (an :class:`OptionKind`, such as
    :data:`DURATION_OPTION`); an option it does not name is read by its default's type:
    a bool, a number, a ``timedelta`` or a list, tuple or set; any other default takes
    values as they are given.  ``run`` gets the values as read, defaults included.
    """

    id: str = attrs.field(validator=_check_id)
    severity: Severity = attrs.field(converter=Severity)
    move: str
    summary: str
    run: Callable[[CheckContext, Mapping[str, Any]], Iterable[Finding]]
    defaults: Mapping[str, Any] = attrs.field(factory=dict)
    kinds: Mapping[str, OptionKind] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        unknown = set(self.kinds) - set(self.defaults)
        if unknown:
            raise ValidationError(
                f"check {self.id!r} gives kinds for {', '.join(sorted(unknown))}, which have "
                "no default; give every option a default"
            )
        self.settings({})  # a default the check cannot read is a mistake in the check

    def settings(self, configured: Mapping[str, Any]) -> dict[str, Any]:
        """The options ``run`` gets: the defaults updated with ``configured``, each read.

        Raises:
            ValidationError: an option the check does not have, or a value of a form it
                does not accept (the message names the check, the option and the forms).
        """
        extra = set(configured) - set(self.defaults)
        if extra:
            raise ValidationError(
                f"check {self.id!r} has no option {', '.join(sorted(extra))}; its options: "
                f"{', '.join(self.defaults) or 'none'}"
            )
        values = {**self.defaults, **configured}
        for name, value in values.items():
            kind = self.kinds.get(name) or inferred(self.defaults[name])
            if kind is not None:
                values[name] = kind.read(self.id, name, value)
        return values

    def finding(self, message: str, *concerns: Record, severity: Severity | None = None) -> Finding:
        """A finding of this check about ``concerns``."""
        return Finding(self.id, severity or self.severity, message, tuple(ref(r) for r in concerns))


#: What checks look at: the scope of the programme as of the moment checked, an
#: :class:`~experiments.asof.AsOf` view.  Its detail (``experiments``, ``sprints``,
#: ``participations``, ``prototypes``, ``learnings``, ``decisions``, ``hypotheses``,
#: ``objectives``, ``participants``) is read once and shared by every check, and its
#: rules (``status``, ``overdue_days``, ``awaits_decision``, ``decision``, ...) are the
#: ones the roll-up and the reports use.
CheckContext = AsOf
