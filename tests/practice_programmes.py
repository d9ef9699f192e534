"""Small programmes that tests of the practice record: an experiment running, one decided."""

from __future__ import annotations

from typing import Any

from experiments import Decision, Experiment, NextStep, Objective
from experiments.stores import Store


def running(store: Store, title: str = "Walks", **fields: Any) -> Experiment:
    """An experiment of the objective ``welfare``, started on 1 May 2026."""
    objective = store.create_if_absent(Objective(title="Welfare", slug="welfare"))
    experiment = store.save(Experiment(title=title, objectives=[objective], **fields))
    return store.save(experiment.start(at="2026-05-01T00:00:00Z"))


def decided(store: Store, *steps: NextStep | str, title: str = "Walks") -> Decision:
    """An experiment concluded on 10 May and decided on 12 May 2026 with ``steps`` next."""
    experiment = running(store, title)
    experiment = store.save(experiment.conclude(at="2026-05-10T00:00:00Z"))
    decision = store.save(
        Decision(
            experiment=experiment,
            outcome="iterate",
            next_steps=steps,
            decided_at="2026-05-12T00:00:00Z",
        )
    )
    store.save(experiment.decide(decision))
    return decision
