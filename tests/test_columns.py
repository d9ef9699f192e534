"""The compact columns the roll-up keeps its facts in: texts, values of a small set, and
what its summaries list, made when read."""

from __future__ import annotations

import copy
import pickle
from array import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments._columns import Coded, Found, Texts, typecode_for
from experiments.model import Outcome

texts = st.lists(st.text(max_size=40))


class TestTexts:
    """A Texts reads back as the list of strings it was given."""

    @given(texts)
    def test_reads_back_what_was_appended(self, given_texts: list[str]) -> None:
        """Every text, any Unicode, comes back by index, negative index, slice and iteration."""
        column = Texts(given_texts)
        assert len(column) == len(given_texts)
        assert list(column) == given_texts
        assert [column[i] for i in range(len(given_texts))] == given_texts
        assert [column[-i] for i in range(1, len(given_texts) + 1)] == [
            given_texts[-i] for i in range(1, len(given_texts) + 1)
        ]
        assert column[1:-1] == given_texts[1:-1]

    @given(texts, st.randoms(use_true_random=False))
    def test_reorder_moves_each_text_to_its_new_place(
        self, given_texts: list[str], order: object
    ) -> None:
        """Reordering by places gives the texts at those places, in that order."""
        places = list(range(len(given_texts)))
        order.shuffle(places)  # type: ignore[attr-defined]
        column = Texts(given_texts)
        column.reorder(places)
        assert list(column) == [given_texts[p] for p in places]

    def test_ends_past_what_their_array_holds_move_to_a_wider_one(self) -> None:
        """Text longer than the ends' typecode counts widens it, and nothing is lost."""
        column = Texts(["a"])
        column._ends = array("H", column._ends)  # two bytes: full at 64 KiB of text
        column.append("b" * 70_000)
        column.append("c")
        assert list(column) == ["a", "b" * 70_000, "c"]
        assert column._ends.typecode == "Q"

    def test_past_the_end_is_an_index_error(self) -> None:
        """Reading past either end raises IndexError, as a list does."""
        column = Texts(["a", "b", "c"])
        with pytest.raises(IndexError):
            column[3]
        with pytest.raises(IndexError):
            column[-4]


members = (None, *Outcome)
values = st.lists(st.sampled_from(members))


class TestCoded:
    """A Coded column reads back as the list of members it was given, a byte a place."""

    @given(values, st.lists(st.tuples(st.integers(0, 50), st.sampled_from(members))))
    def test_reads_back_what_was_appended_and_set(
        self, appended: list[Outcome | None], changes: list[tuple[int, Outcome | None]]
    ) -> None:
        """Appends and assignments read back by index, by iteration and by places."""
        column = Coded(members)
        expected: list[Outcome | None] = []
        for value in appended:
            column.append(value)
            expected.append(value)
        for place, value in changes:
            if place < len(expected):
                column[place] = value
                expected[place] = value
        assert len(column) == len(expected)
        assert list(column) == expected
        assert [column[i] for i in range(len(expected))] == expected
        places = list(range(len(expected)))[::-1]
        assert list(column.values(places)) == [expected[p] for p in places]

    @given(values, st.data())
    def test_counts_each_member_but_none(
        self, given_values: list[Outcome | None], data: st.DataObject
    ) -> None:
        """Counts come for every member but None, in the members' order, zero included."""
        column = Coded(members)
        for value in given_values:
            column.append(value)
        places = data.draw(st.lists(st.integers(0, max(len(given_values) - 1, 0))))
        places = [p for p in places if p < len(given_values)]
        counts = column.counts(places)
        assert list(counts) == list(Outcome)
        assert counts == {o: sum(given_values[p] is o for p in places) for o in Outcome}

    @given(values, st.randoms(use_true_random=False))
    def test_reorder_moves_each_value_to_its_new_place(
        self, given_values: list[Outcome | None], order: object
    ) -> None:
        """Reordering by places gives the values at those places, in that order."""
        column = Coded(members)
        for value in given_values:
            column.append(value)
        places = list(range(len(given_values)))
        order.shuffle(places)  # type: ignore[attr-defined]
        column.reorder(places)
        assert list(column) == [given_values[p] for p in places]

    def test_a_new_column_holds_the_first_member(self) -> None:
        """A column made with a size starts with the first member at every place."""
        assert list(Coded((False, True), 3)) == [False, False, False]

    def test_more_members_than_a_byte_holds_is_refused(self) -> None:
        """Up to 256 members fit; more is a ValueError, as is none at all."""
        Coded(range(256))
        with pytest.raises(ValueError, match="from 1 to 256"):
            Coded(range(257))
        with pytest.raises(ValueError, match="from 1 to 256"):
            Coded(())


class TestFound:
    """A Found reads as the tuple of what it makes of its places, each made when read."""

    @given(st.lists(st.integers(0, 2**40)), st.data())
    def test_reads_as_the_tuple_of_its_items(self, places: list[int], data: st.DataObject) -> None:
        """Length, indexes, slices, iteration, repr and + are a tuple's, item by item."""
        made: list[int] = []

        def make(place: int) -> str:
            made.append(place)
            return f"item {place}"

        found = Found(places, make)
        assert not made  # nothing is made before it is read
        items = tuple(f"item {p}" for p in places)
        assert len(found) == len(items)
        assert tuple(found) == items
        assert found == items
        assert items == found
        assert found == list(items)
        assert repr(found) == repr(items)
        assert found + ("more",) == (*items, "more")  # noqa: RUF005 - the + under test
        assert ("more",) + found == ("more", *items)  # noqa: RUF005 - the + under test
        if places:
            index = data.draw(st.integers(-len(places), len(places) - 1))
            assert found[index] == items[index]
        start, stop = data.draw(st.tuples(st.integers(-5, 5), st.integers(-5, 5)))
        assert found[start:stop] == items[start:stop]
        assert isinstance(found[start:stop], tuple)

    def test_unequal_to_other_items_and_to_text(self) -> None:
        """Another item, another length, or a string of the same characters is unequal."""
        found = Found([1, 2], str)
        assert found != ("1", "3")
        assert found != ("1",)
        assert found != "12"
        assert found != 12

    def test_pickles_and_copies_as_a_tuple(self) -> None:
        """What it lists is copied out: the copy no longer needs what made the items."""
        found = Found([3, 1], lambda place: place * 10)
        copied = pickle.loads(pickle.dumps(found))  # noqa: S301 - our own bytes
        assert copied == (30, 10)
        assert isinstance(copied, tuple)
        assert copy.deepcopy(found) == (30, 10)

    def test_not_hashable(self) -> None:
        """Equal to tuples, which hash by their items, it refuses to hash at all."""
        with pytest.raises(TypeError):
            hash(Found([1], str))


class TestTypecodeFor:
    """Places and counts take four bytes while they fit in them, eight after."""

    @pytest.mark.parametrize(
        ("most", "code"), [(0, "i"), (2**31 - 1, "i"), (2**31, "q"), (2**40, "q")]
    )
    def test_four_bytes_up_to_the_largest_int_they_hold(self, most: int, code: str) -> None:
        """The typecode chosen holds ``most``; four bytes whenever they do."""
        assert typecode_for(most) == code
        array(code, [most])  # holds it
