"""Filters written as text (``--where``): no value, and fields that hold structures."""

from __future__ import annotations

import pytest

import experiments
from experiments import Decision, Hypothesis, Plugins
from experiments.errors import ValidationError
from experiments.query import Condition, Op, parse_where


class TestNoValue:
    @pytest.mark.parametrize("word", ["none", "None", "NONE", "null", "NULL"])
    def test_none_and_null_are_no_value(self, word: str) -> None:
        """``owner = none`` asks for records without an owner, whatever the case."""
        assert parse_where(f"owner = {word}") == Condition("owner", Op.EQ, None)

    def test_none_in_a_list(self) -> None:
        """``in (a, none)`` takes records without a value too."""
        expected = Condition("owner", Op.IN, ("Culture", None))
        assert parse_where("owner in (Culture, none)") == expected

    def test_quoted_none_is_text(self) -> None:
        """Quoted, "none" is a word like any other."""
        assert parse_where("owner = 'none'") == Condition("owner", Op.EQ, "none")


class TestStructuredFields:
    def test_next_steps_as_the_refusal_says(self) -> None:
        """What the refusal of a structured filter suggests is a filter that works."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            acting = store.save(
                Decision(experiment="exp_1", outcome="scale-up", next_steps=["Tell the board"])
            )
            store.save(Decision(experiment="exp_2", outcome="stop"))
            with pytest.raises(ValidationError, match="only whether it has any") as refused:
                list(store.query(Decision, parse_where("next_steps = 'Tell the board'")))
            assert "next_steps != None" in str(refused.value)
            found = store.query(Decision, parse_where("next_steps != None"))
            assert [d.id for d in found] == [acting.id]
            with pytest.raises(ValidationError, match="only whether it is set"):
                list(store.query(Hypothesis, parse_where("criterion = 'v >= 3'")))
