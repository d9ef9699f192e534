"""The maturity analysis as JSON-compatible data, in the shape of the JSON report.

:meth:`experiments.maturity.Maturity.to_data` is the one way an analysis becomes data:
the JSON report's ``maturity`` section and ``experiments maturity --json`` both use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from experiments.serialization import converter

if TYPE_CHECKING:
    from experiments.maturity import (
        ActionDetail,
        DimensionScores,
        ItemScores,
        Maturity,
        QuestionnaireAnalysis,
        RoundAnalysis,
        Score,
        Spread,
    )
    from experiments.refs import Ref

__all__ = ["maturity_data"]


def maturity_data(maturity: Maturity) -> dict[str, Any]:
    """``maturity`` as data: times ISO 8601 in the moment's zone, means to six decimals."""
    return {
        "group_by": maturity.group_by.value,
        "min_group_size": maturity.min_group_size,
        "questionnaires": [_questionnaire_data(q) for q in maturity.questionnaires],
        "interviews": [
            {
                "id": note.ref.id,
                "text": note.ref.title,
                "interviewed_at": note.interviewed_at.isoformat(),
                "items": [_ref_data(r) for r in note.items],
            }
            for note in maturity.interviews
        ],
        "actions": [_action_data(a) for a in maturity.actions],
    }


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _ref_data(ref: Ref) -> dict[str, str]:
    return {"id": ref.id, "title": ref.title}


def _score_data(score: Score | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {
        "group": score.group,
        "mean": _number(score.mean),
        "respondents": score.respondents,
        "members": list(score.members),
        "previous": _number(score.previous),
        "change": _number(score.change),
    }


def _spread_data(spread: Spread | None) -> dict[str, Any] | None:
    if spread is None:
        return None
    return {"points": _number(spread.points), "highest": spread.highest, "lowest": spread.lowest}


def _item_data(item: ItemScores) -> dict[str, Any]:
    return {
        "id": item.item.id,
        "code": item.code,
        "dimension": item.dimension,
        "statement": item.item.title,
        "scores": [_score_data(s) for s in item.scores],
        "other": _score_data(item.other),
        "merged": list(item.merged),
        "suppressed": item.suppressed,
        "total": _score_data(item.total),
        "spread": _spread_data(item.spread),
        "interviews": [_ref_data(r) for r in item.interviews],
    }


def _dimension_data(dimension: DimensionScores) -> dict[str, Any]:
    return {
        "dimension": dimension.dimension,
        "items": dimension.items,
        "scores": [_score_data(s) for s in dimension.scores],
        "other": _score_data(dimension.other),
        "total": _score_data(dimension.total),
        "spread": _spread_data(dimension.spread),
    }


def _round_data(analysis: RoundAnalysis) -> dict[str, Any]:
    return {
        "id": analysis.round.id,
        "title": analysis.round.title,
        "opened_at": analysis.opened_at.isoformat(),
        "closed_at": None if analysis.closed_at is None else analysis.closed_at.isoformat(),
        "open": analysis.open,
        "previous": None if analysis.previous is None else _ref_data(analysis.previous),
        "respondents": analysis.respondents,
        "groups": list(analysis.groups),
        "items": [_item_data(i) for i in analysis.items],
        "dimensions": [_dimension_data(d) for d in analysis.dimensions],
        "ranking": [i.item.id for i in analysis.ranking],
    }


def _questionnaire_data(analysis: QuestionnaireAnalysis) -> dict[str, Any]:
    return {
        "id": analysis.questionnaire.id,
        "title": analysis.questionnaire.title,
        "description": analysis.description,
        "scale": converter.unstructure(analysis.scale),  # as records store it
        "rounds": [_round_data(r) for r in analysis.rounds],
    }


def _action_data(action: ActionDetail) -> dict[str, Any]:
    return {
        "id": action.ref.id,
        "title": action.ref.title,
        "workshop": action.workshop,
        "owner": action.owner,
        "due": None if action.due is None else action.due.isoformat(),
        "agreed_at": action.agreed_at.isoformat(),
        "done_at": None if action.done_at is None else action.done_at.isoformat(),
        "overdue_days": action.overdue_days,
        "objectives": [_ref_data(r) for r in action.objectives],
        "experiments": [_ref_data(r) for r in action.experiments],
    }
