"""The public Hypothesis strategies cover every kind, and what they draw is valid."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import (
    Excuse,
    Experiment,
    ExperimentStatus,
    KeyResult,
    Learning,
    Objective,
    Participant,
    Role,
)
from experiments.model import KINDS, Record
from experiments.testing import strategies


def _variety() -> list[tuple[type[Record], Callable[[Any], object], object, str]]:
    cases: list[tuple[type[Record], Callable[[Any], object], object, str]] = [
        (Experiment, attrgetter("status"), status, f"experiment-{status}")
        for status in ExperimentStatus
    ]
    for flag in (True, False):
        cases += [
            (Learning, lambda r: r.hypothesis is not None, flag, f"learning-on-hypothesis-{flag}"),
            (Participant, attrgetter("pseudonymous"), flag, f"pseudonymous-{flag}"),
            (Participant, lambda r: r.role is Role.OTHER, flag, f"role-other-{flag}"),
            (Excuse, lambda r: r.objective is not None, flag, f"excuse-on-objective-{flag}"),
            (KeyResult, lambda r: r.target > r.baseline, flag, f"target-above-baseline-{flag}"),
            (Experiment, lambda r: r.time_box is not None, flag, f"time-box-{flag}"),
        ]
    return cases


VARIETY = _variety()


class TestStrategies:
    def test_every_kind_has_a_strategy(self):
        """RECORD_STRATEGIES has a strategy for exactly the kinds in KINDS."""
        assert set(strategies.RECORD_STRATEGIES) == set(KINDS.values())

    def test_records_draws_from_every_kind(self, monkeypatch):
        """records() chooses among all of RECORD_STRATEGIES (cheap stand-ins show which)."""
        monkeypatch.setattr(
            strategies, "RECORD_STRATEGIES", {kind: st.just(kind) for kind in KINDS.values()}
        )
        seen: set[type[Record]] = set()

        @settings(max_examples=500, database=None, derandomize=True)
        @given(strategies.records())
        def draw(kind):
            seen.add(kind)

        draw()
        assert seen == set(KINDS.values())

    @settings(max_examples=50)
    @given(strategies.records())
    def test_drawn_records_are_valid(self, record):
        """A drawn record is valid as it stands: validating it again changes nothing."""
        assert isinstance(record, Record)
        assert record.evolve() == record

    @pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
    def test_record_of_draws_only_that_kind(self, kind):
        """record_of(kind) draws records of that kind and no other."""

        @settings(max_examples=5, database=None)
        @given(strategies.record_of(kind))
        def draw(record):
            assert type(record) is kind

        draw()

    @pytest.mark.parametrize(
        ("kind", "feature", "value", "name"), VARIETY, ids=[v[3] for v in VARIETY]
    )
    def test_variety_that_matters(self, kind, feature, value, name):
        """Every status, learnings with and without a hypothesis, targets either way, ..."""

        @settings(
            max_examples=1, database=None, suppress_health_check=[HealthCheck.filter_too_much]
        )
        @given(strategies.record_of(kind).filter(lambda record: feature(record) == value))
        def draw(record):
            assert feature(record) == value

        draw()  # Unsatisfiable if the strategy never draws such a record

    @given(strategies.datetimes(), strategies.durations(), strategies.metadata)
    def test_building_blocks_are_valid(self, moment, duration, metadata):
        """Times are aware pendulum DateTimes, durations positive, metadata acceptable."""
        assert type(moment) is pendulum.DateTime
        assert moment.utcoffset() is not None
        assert duration.total_seconds() > 0
        assert dict(Objective(title="x", metadata=metadata).metadata).keys() == metadata.keys()
