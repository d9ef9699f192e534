"""The built-in checks on shared mental models: workshop follow-up and the vocabulary."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from experiments.checks._message import plural
from experiments.checks._options import DURATION_OPTION
from experiments.checks.base import Check, CheckContext, Finding
from experiments.mental_models import mental_models
from experiments.vocabulary import of_view

if TYPE_CHECKING:
    import pendulum

__all__ = ["ACTION_OVERDUE", "COMPETING_DEFINITIONS", "MENTAL_MODEL_CHECKS", "UNDEFINED_TERM"]

#: The move of seed 003: shared mental models, a vocabulary everyone means the same by.
SHARED_MODELS: Final = "Build shared mental models"
_FOLLOW_UP: Final = "Follow up on actions and results"


def _action_overdue(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    grace: pendulum.Duration = options["grace"]  # read by DURATION_OPTION
    models = mental_models(context)
    for action in models.actions:
        days = models.overdue_days(action, grace)
        if days is None:
            continue
        if action.owner:
            message = plural(
                "is %(count)s day past its due date %(due)s (owner: %(owner)s); do it, or "
                "agree a new date and say why, so the workshop's plan is followed up",
                "is %(count)s days past its due date %(due)s (owner: %(owner)s); do it, or "
                "agree a new date and say why, so the workshop's plan is followed up",
                count=days,
                due=action.due,
                owner=action.owner,
            )
        else:
            message = plural(
                "is %(count)s day past its due date %(due)s and has no owner; do it, or "
                "agree a new date and say why, so the workshop's plan is followed up",
                "is %(count)s days past its due date %(due)s and has no owner; do it, or "
                "agree a new date and say why, so the workshop's plan is followed up",
                count=days,
                due=action.due,
            )
        yield ACTION_OVERDUE.finding(message, action)


def _undefined_term(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    glossary = of_view(context)
    models = mental_models(context)
    for entry in glossary.undefined:
        yield UNDEFINED_TERM.finding(
            "is used (%(users)s) but nobody has said what it means; let each department "
            "write down what it means by it, then agree one definition in a workshop",
            *(t for t in models.terms if t.id == entry.term.id),
            users=[ref.title for ref in entry.used_by],
        )
    for term, _ in glossary.missing:
        records = models.users.get(term, ())
        yield UNDEFINED_TERM.finding(
            "uses the term %(term)s, which is deleted or not in the store; restore the term "
            "or name another",
            *records,
            term=term,
        )


def _competing(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    models = mental_models(context)
    terms = {t.id: t for t in models.terms}
    for entry in of_view(context).contested:
        yield COMPETING_DEFINITIONS.finding(
            "means different things to %(departments)s; bring their readings to a workshop "
            "and agree one definition",
            terms[entry.term.id],
            departments=entry.competing,
        )


ACTION_OVERDUE = Check(
    "follow-up/workshop-action-overdue",
    "warning",
    _FOLLOW_UP,
    "A workshop action not done by its due date.",
    _action_overdue,
    {"grace": "P0D"},
    {"grace": DURATION_OPTION},
)
UNDEFINED_TERM = Check(
    "vocabulary/undefined-term",
    "warning",
    SHARED_MODELS,
    "A term the scope uses that nobody has defined.",
    _undefined_term,
)
COMPETING_DEFINITIONS = Check(
    "vocabulary/competing-definitions",
    "warning",
    SHARED_MODELS,
    "A term departments define differently, with no definition agreed.",
    _competing,
)

#: The checks on shared mental models, in the order they are documented.
MENTAL_MODEL_CHECKS: Final = (ACTION_OVERDUE, UNDEFINED_TERM, COMPETING_DEFINITIONS)
