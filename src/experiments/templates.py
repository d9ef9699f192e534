"""The experiment templates the library ships, ready to install into a store.

Three starting points from the practice, each a :class:`~experiments.Template` with a
stable slug::

    from experiments import templates

    templates.install(store)  # all three, once
    templates.install(store, mandatory_for={"frontline-experiment": ["welfare"]})

- ``citizen-co-creation-sprint``: a citizen, a critical voice and a frontline employee
  take part before it starts, a prototype is shown to participants before it
  concludes, and it is time-boxed to at most six weeks;
- ``frontline-experiment``: a frontline employee takes part, and it has a named owner
  and a time box before it starts;
- ``cross-border-leadership-challenge``: participants from at least two departments, a
  stakeholder from outside and a facilitator before it starts.

Installing is create-if-absent: a template already in the store (edited or not) is
kept as it is, so running the same script again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from experiments.errors import ValidationError
from experiments.model import Objective, Template

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["SHIPPED", "install"]

#: The shipped templates, by slug.
SHIPPED: Final[dict[str, Template]] = {
    template.slug or "": template
    for template in (
        Template(
            slug="citizen-co-creation-sprint",
            title="Citizen co-creation sprint",
            description=(
                "Citizens, critical voices and the frontline develop a service together in "
                "a short sprint, around a prototype they can still change."
            ),
            scaffold=(
                "We believe that \u2026 for \u2026 citizens; we are right if \u2026 of them "
                "\u2026 within the sprint"
            ),
            time_box="P4W",
            max_time_box="P6W",
            scope={"participants": 30, "sites": 1},
            roles=["citizen", "frontline-employee"],
            stances=["critical"],
            to_start=["time-box"],
            to_conclude=["prototype-shown"],
        ),
        Template(
            slug="frontline-experiment",
            title="Frontline experiment",
            description=(
                "Staff who meet the citizens and customers every day try a change in their "
                "own work, with a named owner and a time box."
            ),
            scaffold="We believe that \u2026 for \u2026; we are right if \u2026",
            time_box="P4W",
            scope={"sites": 1},
            roles=["frontline-employee"],
            to_start=["owner", "time-box"],
        ),
        Template(
            slug="cross-border-leadership-challenge",
            title="Cross-border leadership challenge",
            description=(
                "Leaders from several departments (or countries) take on a leadership "
                "challenge tied to the strategy, with a stakeholder from outside and a "
                "facilitator."
            ),
            scaffold=("We believe that \u2026 across \u2026 and \u2026; we are right if \u2026"),
            time_box="P8W",
            min_departments=2,
            min_external=1,
            to_start=["facilitator"],
        ),
    )
}


def install(
    store: Store,
    names: Iterable[str] | None = None,
    *,
    mandatory_for: Mapping[str, Iterable[Objective | str]] | None = None,
    by: str | None = None,
) -> list[Template]:
    """Save the shipped templates into ``store`` (those not there yet) and return them.

    Args:
        store: where to install them.
        names: the slugs of the templates to install (default: all of :data:`SHIPPED`).
        mandatory_for: per template slug, objectives (records, ids or slugs) it is to
            be mandatory for, added to those it is mandatory for already.
        by: who installs them, recorded in their history.

    Returns:
        The templates as stored, in the order of ``names``.

    Raises:
        ValidationError: a name that is not a shipped template.
        NotFoundError: an objective in ``mandatory_for`` is not in the store.
    """
    wanted = list(SHIPPED) if names is None else list(dict.fromkeys(names))
    making = dict(mandatory_for or {})
    unknown = sorted({*wanted, *making} - set(SHIPPED))
    if unknown:
        raise ValidationError(
            f"no shipped template {', '.join(map(repr, unknown))}; the shipped templates: "
            f"{', '.join(SHIPPED)}"
        )
    wanted += [name for name in making if name not in wanted]
    extra = {
        name: [store.resolve(o, Objective).id for o in objectives]
        for name, objectives in making.items()
    }
    installed = []
    for name in wanted:
        stored = store.create_if_absent(SHIPPED[name], by=by)
        joined = tuple(dict.fromkeys((*stored.mandatory_for, *extra.get(name, ()))))
        if joined != stored.mandatory_for:
            stored = store.save(stored.evolve(mandatory_for=joined), by=by)
        installed.append(stored)
    return installed
