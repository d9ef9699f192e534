"""Making what users wrote safe for each format: it shows as text, and only as text.

HTML is escaped by Jinja2's autoescaping; this module holds the rest.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["lines", "markdown", "mermaid", "one_line", "shorten", "spreadsheet"]

# Control characters other than whitespace show as nothing useful anywhere.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# White space that may break a line; no-break spaces (in "1 234", "45 %") stay as they are.
_BREAKING: Final = re.compile(r"[^\S\u00a0\u2007\u202f]+")

# ASCII punctuation that means something to CommonMark, GitHub Flavored Markdown or
# the renderers around it wherever it stands: emphasis, code, links, raw HTML, entities,
# table cells, headings, strikethrough, math, mentions.  A backslash makes each literal.
_MARKDOWN: Final = re.compile(r"([\\`*_{}\[\]<>#|~&$@])")
# What means something only at the start of a block: list markers, numbered lists.
_LEADING: Final = re.compile(r"^([-+=]|\d{1,9}(?=[.)]))")

# What a Mermaid label may hold as it is; everything else is written as an entity code.
_MERMAID_SAFE: Final = re.compile(r"[\w ,.\-/?!()':]", re.UNICODE)


def one_line(text: str) -> str:
    """Text on one line: line breaks and runs of white space become one space.

    No-break spaces stay: they hold a number together with its unit or thousands.
    """
    return " ".join(part for part in _BREAKING.split(_CONTROL.sub("", text)) if part)


def shorten(text: str, limit: int) -> str:
    """Text on one line of at most ``limit`` characters, cut after a word, with an ellipsis.

    Only a first word longer than the limit is cut inside the word.
    """
    flat = one_line(text)
    if len(flat) <= limit:
        return flat
    cut = flat[: max(limit - 1, 1)]
    if flat[len(cut)] != " ":
        space = cut.rfind(" ")
        cut = cut[:space] if space > 0 else cut
    return cut.rstrip() + "\u2026"


def lines(text: str, width: int, most: int) -> list[str]:
    """Text wrapped into at most ``most`` lines of ``width`` characters, cut as :func:`shorten`."""
    wrapped = _wrap(one_line(text), width)
    if len(wrapped) > most:
        wrapped[most - 1 :] = [shorten(" ".join(wrapped[most - 1 :]), width)]
    return wrapped


def _wrap(flat: str, width: int) -> list[str]:
    """Words of one line filled into lines of ``width``; a longer word is cut inside.

    Breaks only at plain spaces: :mod:`textwrap` also breaks at, and drops, no-break
    spaces, which would part a figure from its unit or lose a label made of one.
    """
    wrapped: list[str] = []
    line = ""
    for whole in flat.split(" "):
        word = whole
        while len(word) > width:
            if line:
                wrapped.append(line)
                line = ""
            wrapped.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if line and len(line) + 1 + len(word) <= width:
            line = f"{line} {word}"
        else:
            if line:
                wrapped.append(line)
            line = word
    if line or not wrapped:
        wrapped.append(line)
    return wrapped


def markdown(text: str) -> str:
    """Text for a Markdown paragraph, list item, heading or table cell.

    It is put on one line (a line break would end a table row or a list item) and
    every character Markdown gives meaning to is escaped with a backslash, so that
    ``<script>`` stays text, a ``|`` stays inside its cell and ``# x`` is no heading.
    """
    escaped = _MARKDOWN.sub(r"\\\1", one_line(text))
    return _LEADING.sub(lambda m: _escape_leading(m.group(1)), escaped, count=1)


def _escape_leading(start: str) -> str:
    return start + "\\" if start[0].isdigit() else "\\" + start


#: How long a Mermaid label may be; Mermaid wraps it in lines itself.
MERMAID_LIMIT: Final = 100


def mermaid(text: str, limit: int = MERMAID_LIMIT) -> str:
    """Text for a quoted Mermaid node or edge label, shortened after a word to ``limit``.

    Quotes, brackets, ``<``, ``>``, ``#``, ``;``, backticks and anything else that is not
    a letter, digit, space or plain punctuation becomes a Mermaid entity code
    (``#34;``), so a label can neither end its node nor the code fence around it.
    """
    flat = shorten(text, limit)
    return "".join(c if _MERMAID_SAFE.fullmatch(c) else f"#{ord(c)};" for c in flat)


_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
    prefixed with an apostrophe, which spreadsheets take as "this is text".
    """
    return "'" + text if text.startswith(_FORMULA_START) else text
