"""Compact columns for the facts of a large roll-up: texts, and values of a small set.

A hundred thousand titles as ``str`` objects take about 70 bytes each besides their
characters; :class:`Texts` keeps each as its UTF-8 bytes and a four-byte offset, and
makes a ``str`` again only when it is read.  A list of statuses takes eight bytes a
place; :class:`Coded` takes one.  What a summary lists (:class:`Found`) is held as the
places it is about, and made when it is read.
"""

from __future__ import annotations

import operator
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

__all__ = ["Coded", "Found", "Texts", "typecode_for"]

T = TypeVar("T")


def typecode_for(most: int) -> str:
    """An array's typecode for ints from 0 up to ``most``: four bytes each while they fit."""
    return "i" if most < 2**31 else "q"


class Texts(Sequence[str]):
    """A growing sequence of texts, kept as UTF-8 bytes end to end."""

    __slots__ = ("_ends", "_text")

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self._text = bytearray()
        self._ends = array("I")  # four bytes an end, eight past 4 GiB of text
        for text in texts:
            self.append(text)

    def append(self, text: str) -> None:
        """Add ``text`` at the end."""
        self._text += text.encode()
        try:
            self._ends.append(len(self._text))
        except OverflowError:
            self._ends = array("Q", self._ends)
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


class Coded(Generic[T]):
    """A column of values from a small set (members of an enum, say), a byte a place.

    ``members`` lists the values a place can hold, at most 256; each place holds its
    value's index there.  Reading many places at once (:meth:`values`, :meth:`counts`)
    runs in C; one place at a time, as a list would.
    """

    __slots__ = ("_code", "codes", "members")

    def __init__(self, members: Sequence[T], size: int = 0) -> None:
        """``size`` places, each holding the first of ``members``."""
        if not 0 < len(members) <= 256:  # noqa: PLR2004 - what a byte holds
            raise ValueError("a coded column holds from 1 to 256 different values")
        self.members: tuple[T, ...] = tuple(members)
        self._code = {member: code for code, member in enumerate(self.members)}
        self.codes = bytearray(size)

    def __getitem__(self, index: int) -> T:
        return self.members[self.codes[index]]

    def __setitem__(self, index: int, value: T) -> None:
        self.codes[index] = self._code[value]

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self) -> Iterator[T]:
        return map(self.members.__getitem__, self.codes)

    def append(self, value: T) -> None:
        """Add ``value`` at the end."""
        self.codes.append(self._code[value])

    def values(self, places: Iterable[int]) -> Iterator[T]:
        """The values at ``places``, in their order."""
        return map(self.members.__getitem__, map(self.codes.__getitem__, places))

    def counts(self, places: Iterable[int]) -> dict[T, int]:
        """How many of ``places`` hold each member, in the members' order (None not counted)."""
        counted = Counter(map(self.codes.__getitem__, places))
        return {
            member: counted[code] for code, member in enumerate(self.members) if member is not None
        }

    def reorder(self, order: Sequence[int]) -> None:
        """Put the values in ``order`` (their places before)."""
        self.codes = bytearray(map(self.codes.__getitem__, order))


class Found(Sequence[T]):
    """What a summary lists (findings, references), each made when it is read.

    It holds the places in the facts of what it lists, four bytes each, and ``make``,
    which makes the item of a place: a summary of a hundred thousand experiments lists
    tens of thousands of findings, each naming a hypothesis and an experiment by id and
    title, and holding them all made would take more memory than the facts themselves.
    It compares equal to any sequence of the same items (a tuple, say), and pickles and
    copies as a tuple.
    """

    __slots__ = ("_make", "_places")

    def __init__(self, places: Iterable[int], make: Callable[[int], T]) -> None:
        self._places = array("q", places)
        if self._places and max(self._places) < 2**31:
            self._places = array("i", self._places)
        self._make = make

    def __len__(self) -> int:
        return len(self._places)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...
    def __getitem__(self, index: int | slice) -> T | tuple[T, ...]:
        if isinstance(index, slice):
            return tuple(map(self._make, self._places[index]))
        return self._make(self._places[index])

    def __iter__(self) -> Iterator[T]:
        return map(self._make, self._places)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(map(operator.eq, self, other))
        return NotImplemented

    # Unhashable: equal to tuples of its items, it could not hash as they do.
    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[T]) -> tuple[T, ...]:
        return (*self, *other)

    def __radd__(self, other: Sequence[T]) -> tuple[T, ...]:
        return (*other, *self)

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (tuple, (tuple(self),))
