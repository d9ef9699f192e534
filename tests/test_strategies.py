"""The public Hypothesis strategies cover every kind, and what they draw is valid."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import given, settings
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
        ("kind", "feature", "expected"),
        [
            (Experiment, lambda e: e.status, set(ExperimentStatus)),
            (Learning, lambda learning: learning.hypothesis is None, {True, False}),
            (Participant, lambda p: p.pseudonymous, {True, False}),
            (Participant, lambda p: p.role is Role.OTHER, {True, False}),
            (Excuse, lambda e: e.objective is None, {True, False}),
            (KeyResult, lambda k: k.target > k.baseline, {True, False}),
        ],
        ids=["statuses", "verdicts", "pseudonyms", "role-other", "excuse-places", "directions"],
    )
    def test_variety_that_matters(self, kind, feature, expected):
        """Every status, learnings with and without a hypothesis, targets either way, ..."""
        seen: set[object] = set()

        @settings(max_examples=40, database=None, derandomize=True)
        @given(strategies.record_of(kind))
        def draw(record):
            seen.add(feature(record))

        draw()
        assert seen == expected

    @given(strategies.datetimes(), strategies.durations(), strategies.metadata)
    def test_building_blocks_are_valid(self, moment, duration, metadata):
        """Times are aware pendulum DateTimes, durations positive, metadata acceptable."""
        assert type(moment) is pendulum.DateTime
        assert moment.utcoffset() is not None
        assert duration.total_seconds() > 0
        assert dict(Objective(title="x", metadata=metadata).metadata).keys() == metadata.keys()
