"""The command line's words for what the library says in Python's.

The library's errors are written for Python callers: they name arguments
(``give hypothesis=<id>``, ``Learning.verdict``) and Python calls
(``connect(url, create=True)``).  The command line shows the same errors, so it
translates them here, in one place, instead of each command writing its own copy of
the library's messages: an argument the running command has an option for becomes
that option (with where to find its value, from :data:`WHERE_TO_FIND`), and a Python
call becomes the command that does the same (:data:`PHRASES`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

__all__ = ["PHRASES", "SEE", "WHERE_TO_FIND", "in_cli_words", "names", "options_of"]

#: Where to find the value of a placeholder that names a record or a check, for help
#: texts and messages alike.
SEE: Final[dict[str, str]] = {
    "objective": "see `experiments list objectives`",
    "experiment": "see `experiments list experiments`",
    "participant": "see `experiments list participants`",
    "hypothesis": "see `experiments show EXPERIMENT`",
    "sprint": "see `experiments list sprints`",
    "template": "see `experiments list templates`",
    "term": "see `experiments list terms`, or `experiments glossary`",
    "questionnaire": "see `experiments list questionnaires`",
    "item": "see `experiments list items`, or QUESTIONNAIRE/CODE",
    "survey-round": "see `experiments list survey-rounds`",
    "workshop-action": "see `experiments list workshop-actions`",
    "check": "see `experiments plugins`",
    "record": "see `experiments list KIND`",
}


def names(what: str, kind: str, more: str = "") -> str:
    """The help of an option that names a record of ``kind``: what it is, where to find one.

    >>> names("the sprint it belongs to", "sprint")
    'the sprint it belongs to: its id or slug (see `experiments list sprints`)'
    """
    whose = "their" if kind == "participant" else "its"
    return f"{what}: {whose} id or slug ({SEE[kind]}{'; ' + more if more else ''})"


#: The value an option that names a record takes, as messages write it.
WHERE_TO_FIND: Final[dict[str, str]] = {
    "hypothesis": f"ID ({SEE['hypothesis']})",
    "participant": f"PARTICIPANT ({SEE['participant']})",
    "participants": f"PARTICIPANT ({SEE['participant']})",
    "objective": f"OBJECTIVE ({SEE['objective']})",
    "objectives": f"OBJECTIVE ({SEE['objective']})",
    "experiment": f"EXPERIMENT ({SEE['experiment']})",
    "template": f"TEMPLATE ({SEE['template']})",
    "sprint": f"SPRINT ({SEE['sprint']})",
}

#: Python phrases -> the command line's, applied in this order.
PHRASES: Final[tuple[tuple[str, str], ...]] = (
    (" (or connect(url, create=True))", ""),
    ("connect(url, create=True)", "`experiments init`"),
    (" through connect(url)", ""),
    (" (or a datetime.timedelta)", ""),
    ("restore() it first", "restore it first with `experiments restore`"),
    (
        "get() the stored one, or use create_if_absent()",
        "see it with `experiments show`, or change it with `experiments edit`",
    ),
)

#: A question the driver asks ("... accepting TCP/IP connections?") before the store's
#: advice: the advice starts a sentence of its own.
_AFTER_QUESTION = re.compile(r"\?; (\w)")

_RECORD_FIELD = re.compile(r"\b[A-Z][A-Za-z]+\.([a-z_]+)\b")
_CHOICES = re.compile(r"\b([a-z_]+)=((?:'[^']*'(?:, | or )?)+)")
_VALUE = re.compile(r"\b([a-z_]+)=(<[a-z_]+>)?(?=[\s,;)]|$)")


def options_of(command: object) -> dict[str, str]:
    """A click command's options by the name of the argument each gives: ``--`` form."""
    found: dict[str, str] = {}
    for param in getattr(command, "params", ()):
        long = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")]
        if long and param.name and getattr(param, "param_type_name", "") == "option":
            found[param.name] = long[0]
    return found


def in_cli_words(message: str, options: Mapping[str, str] | None = None) -> str:
    """``message`` with Python's arguments and calls in the command line's words.

    ``options`` are the running command's options by argument name (see
    :func:`options_of`); arguments it has no option for are left as they are.

    >>> in_cli_words("give hypothesis=<id>", {"hypothesis": "--hypothesis"})
    'give --hypothesis ID (see `experiments show EXPERIMENT`)'
    """
    options = options or {}
    for python, cli in PHRASES:
        message = message.replace(python, cli)

    def choices(match: re.Match[str]) -> str:
        name, values = match.group(1), match.group(2)
        if name not in options:
            return match.group(0)
        return f"{options[name]} {values.replace(chr(39), '')}"

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in options:
            return match.group(0)
        return f"{options[name]} {WHERE_TO_FIND.get(name, name.upper())}"

    def field(match: re.Match[str]) -> str:
        return options.get(match.group(1), match.group(0))

    message = _AFTER_QUESTION.sub(lambda m: f"? {m.group(1).upper()}", message)
    message = _CHOICES.sub(choices, message)
    message = _VALUE.sub(value, message)
    return _RECORD_FIELD.sub(field, message)
