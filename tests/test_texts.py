"""The compact column of texts the roll-up keeps titles and statements in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from experiments._texts import Texts

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

    def test_past_the_end_is_an_index_error(self) -> None:
        """Reading past either end raises IndexError, as a list does."""
        column = Texts(["a", "b", "c"])
        with pytest.raises(IndexError):
            column[3]
        with pytest.raises(IndexError):
            column[-4]
