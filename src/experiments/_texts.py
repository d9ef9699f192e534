"""Many short texts in one buffer, for the columns of a large roll-up.

A hundred thousand titles as ``str`` objects take about 70 bytes each besides their
characters; here each takes its UTF-8 bytes and a four-byte offset, and becomes a
``str`` again only when it is read.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

__all__ = ["Texts"]


class Texts(Sequence[str]):
    """A growing sequence of texts, kept as UTF-8 bytes end to end."""

    __slots__ = ("_ends", "_text")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._text = bytearray()
        self._ends = array("L")
        for text in texts:
            self.append(text)

    def append(self, text: str) -> None:
        """Add ``text`` at the end."""
        self._text += text.encode()
        self._ends.append(len(self._text))

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        ends = self._ends
        if index < 0:
            index += len(ends)
            if index < 0:
                raise IndexError("text index out of range")
        end = ends[index]  # raises IndexError past the end
        start = ends[index - 1] if index else 0
        return self._text[start:end].decode()

    def __len__(self) -> int:
        return len(self._ends)

    def __iter__(self) -> Iterator[str]:
        text, start = self._text, 0
        for end in self._ends:
            yield text[start:end].decode()
            start = end

    def reorder(self, order: Sequence[int]) -> None:
        """Put the texts in ``order`` (their places before)."""
        reordered = Texts(map(self.__getitem__, order))
        self._text, self._ends = reordered._text, reordered._ends
