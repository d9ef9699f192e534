"""Progress of a long command on a terminal: a count, the share done and the time left.

Progress goes to standard error, and only when standard error is a terminal: piped or
redirected, a command prints exactly what it would print without it.  One bar follows a
whole command: each part of the work (the versions of an export, the checks, the steps
of a report) adds its count to the bar when it starts, through :meth:`Progress.over`,
which is what the library's ``progress`` arguments take.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Self, TextIO, TypeVar

import click

__all__ = ["Progress", "lines_in"]

T = TypeVar("T")

#: How many pieces of work there are, or a function that counts them.
Length = int | Callable[[], int | None] | None

#: How many redraws a bar makes at most: a step of a long count redraws it every so many.
_REDRAWS = 1000


class Progress:
    """One bar on standard error (or ``file``), when it is a terminal; nothing otherwise.

    Use it as a context manager: the bar is drawn from the first piece of work on and
    finished when the block ends.
    """

    def __init__(self, label: str, file: TextIO | None = None) -> None:
        self.label = label
        self.file = sys.stderr if file is None else file
        self.shown = self.file.isatty()
        self._bar: Any = None
        self._unknown = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def over(self, items: Iterable[T], length: Length) -> Iterator[T]:
        """``items``, counted on the bar as they are used.

        ``length`` is how many there are, or a function that counts them, called only
        when the bar is shown; None (or a count of None) counts without a total or a
        time left.
        """
        if not self.shown:
            yield from items
            return
        self._add(length() if callable(length) else length)
        for item in items:
            yield item
            self._bar.update(1)

    def step(self) -> None:
        """Count one piece of work done that was counted in by :meth:`expect`."""
        if self._bar is not None:
            self._bar.update(1)

    def expect(self, length: int) -> None:
        """Count ``length`` more pieces of work in, done one :meth:`step` at a time."""
        if self.shown:
            self._add(length)

    def _add(self, length: int | None) -> None:
        if length is None:
            self._unknown = True
        if self._bar is None:
            self._bar = click.progressbar(
                (_ for _ in ()),  # only counted through update(); a generator has no length
                length=None if self._unknown else length,
                label=self.label,
                file=self.file,
                show_pos=True,
                show_eta=True,
                show_percent=not self._unknown,
                update_min_steps=max(1, (length or 0) // _REDRAWS),
            ).__enter__()
        elif self._unknown:
            self._bar.length = None
        else:
            self._bar.length += length
        self._bar.finished = False  # a part that joins after the others were done


def lines_in(source: IO[Any]) -> int | None:
    """How many lines the regular file ``source`` holds, counted in its bytes; None for
    a pipe or a terminal, whose lines cannot be known ahead."""
    try:
        if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
            return None
        with Path(source.name).open("rb") as raw:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
    except (OSError, ValueError, AttributeError):
        return None  # no file behind it (a test's stream): count without a total
