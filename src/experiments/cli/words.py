"""The command line's words for what the library says in Python's.

The library's errors are written for Python callers: they name arguments
(``give hypothesis=<id>``, ``min_group_size must be 2 or more``), record fields
(``Learning.verdict``) and Python calls (``connect(url, create=True)``,
``run.decide(...) (`experiments decide ...`)``).  The command line shows the same
errors, so it translates them here, in one place, instead of each command writing its
own copy of the library's messages: an argument or field the running command has an
option for becomes that option (with where to find its value, from
:data:`WHERE_TO_FIND`), one it has a positional argument for becomes the argument's
placeholder (``TITLE``), and a Python call becomes the command that does the same
(:data:`PHRASES`, or the command the library names beside the call).

The help of an option given once per value says so in one wording, :data:`REPEAT`
(:func:`names`, :func:`repeated`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Final

from experiments.model import KINDS

__all__ = [
    "PHRASES",
    "REPEAT",
    "SEE",
    "WHERE_TO_FIND",
    "in_cli_words",
    "names",
    "options_of",
    "repeated",
]

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


#: What the help of every option given once per value says, after what the option is.
REPEAT: Final = "repeat for more"


def names(what: str, kind: str, *, repeats: bool = False) -> str:
    """The help of an option that names a record of ``kind``: what it is, where to find one.

    An option given once per record says so inside the same parentheses.

    >>> names("the sprint it belongs to", "sprint")
    'the sprint it belongs to: its id or slug (see `experiments list sprints`)'
    >>> names("objective it serves", "objective", repeats=True)
    'objective it serves: its id or slug (see `experiments list objectives`; repeat for more)'
    """
    whose = "their" if kind == "participant" else "its"
    return f"{what}: {whose} id or slug ({SEE[kind]}{'; ' + REPEAT if repeats else ''})"


def repeated(help: str) -> str:  # noqa: A002 - click's word
    """The help of an option given once per value: ``help``, then that it repeats.

    >>> repeated("a free tag")
    'a free tag (repeat for more)'
    """
    return f"{help} ({REPEAT})"


#: The value an option that names a record takes, as messages write it.
WHERE_TO_FIND: Final[dict[str, str]] = {
    "hypothesis": f"ID ({SEE['hypothesis']})",
    "participant": f"PARTICIPANT ({SEE['participant']})",
    "participants": f"PARTICIPANT ({SEE['participant']})",
    "objective": f"OBJECTIVE ({SEE['objective']})",
    "objectives": f"OBJECTIVE ({SEE['objective']})",
    "experiment": f"EXPERIMENT ({SEE['experiment']})",
    "experiments": f"EXPERIMENT ({SEE['experiment']})",
    "template": f"TEMPLATE ({SEE['template']})",
    "sprint": f"SPRINT ({SEE['sprint']})",
}

#: Python phrases -> the command line's, applied in this order.
PHRASES: Final[tuple[tuple[str, str], ...]] = (
    (" (or connect(url, create=True))", ""),
    ("connect(url, create=True)", "`experiments init`"),
    (" through connect(url)", ""),
    (" (or a datetime.timedelta)", ""),
    (" or datetime(..., tzinfo=UTC)", ""),
    ("restore() it first", "restore it first with `experiments restore`"),
    (
        "get() the stored one, or use create_if_absent()",
        "see it with `experiments show`, or change it with `experiments edit`",
    ),
    ("named by the record, its id or its slug", "named by its id or its slug"),
)

# The patterns below are text, compiled (by :func:`_compiled`) when a message first
# needs them: only an error is translated, and compiling them all up front would cost
# every command more than a millisecond.

#: A question the driver asks ("... accepting TCP/IP connections?") before the store's
#: advice: the advice starts a sentence of its own.
_AFTER_QUESTION: Final = r"\?; (\w)"

#: A Python call, such as ``verify()`` or ``run.decide('stop', rationale=...)``.
_CALL = r"[A-Za-z_][\w.]*\((?:[^()]|\([^()]*\))*\)"
#: Python calls, as a list: ``start(), conclude() and abandon()``.
_CALLS = rf"{_CALL}(?:(?:, | and | or ){_CALL})*"
#: Calls the library gives before the command that does the same:
#: ``run verify() (`experiments verify`)``.
_CALLS_THEN_COMMAND: Final = rf"{_CALLS} \((`[^`]+`)\)"
#: ... or beside it: ``(get() or history(), or `experiments history ID`)``.
_CALLS_BESIDE_COMMAND: Final = rf"{_CALLS}(?:, or |, | or )(?=`)"

_RECORD_FIELD: Final = r"\b[A-Z][A-Za-z]+\.([a-z_]+)\b"
_CHOICES: Final = r"\b([a-z_]+)=((?:'[^']*'(?:, | or )?)+)"
_FLAG: Final = r"\b([a-z_]+)=True\b"
_VALUE: Final = r"\b([a-z_]+)=(<[a-z_]+>|\[\.\.\.\]|\{[^{}]*\})?(?=[\s,;)]|$)"
#: An argument's name written alone, with an underscore that prose never has; not
#: inside what a person typed (quoted), a field (``Class.name``) or a command.
_SNAKE: Final = r"(?<![\w'\"`./-])([a-z]+(?:_[a-z]+)+)(?![\w'\"`/-])"
#: An argument's name as the subject of the message: ``delimiter must be ...``.
_SUBJECT: Final = r"^([a-z][a-z_]*)(?= (?:is|must|has|holds|names|needs|takes|cannot)\b)"
#: A record's class naming one record, as the library writes it: ``SurveyRound 'Spring'``.
_RECORD_CLASS: Final = rf"\b({'|'.join(cls.__name__ for cls in KINDS.values())})(?= ')"
#: ... and as the command line names its kind: ``survey-round 'Spring'``.
_KIND_OF_CLASS: Final = {cls.__name__: kind for kind, cls in KINDS.items()}
#: What a person gave once per option, shown back as the Python collection it became.
_GOT_COLLECTION: Final = r"; got (?:\(.*\)|\[.*\]|\{.*\})$"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled, once."""
    return re.compile(pattern)


def options_of(command: object) -> dict[str, str]:
    """A click command's parameters as they are typed, by the names the library gives them.

    An option is its ``--`` form, under the name of the argument it is passed as (its
    Python name) and under its own (``format`` for ``--format``); a positional
    argument is its placeholder (``TITLE``).  A command names a parameter for the
    library's argument or record field it fills (``--reason`` is ``abandon_reason``),
    so that the library's errors about it are told with the option.
    """
    own: dict[str, str] = {}
    found: dict[str, str] = {}
    for param in getattr(command, "params", ()):
        kind = getattr(param, "param_type_name", "")
        if not param.name:
            continue
        if kind == "argument":
            found[param.name] = param.human_readable_name
            continue
        long = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")]
        if kind == "option" and long:
            found[param.name] = long[0]
            own[long[0][2:].replace("-", "_")] = long[0]
    return own | found


def in_cli_words(message: str, options: Mapping[str, str] | None = None) -> str:
    """``message`` with Python's arguments and calls in the command line's words.

    ``options`` are the running command's parameters by argument name (see
    :func:`options_of`); arguments it has no parameter for are left as they are.

    >>> in_cli_words("give hypothesis=<id>", {"hypothesis": "--hypothesis"})
    'give --hypothesis ID (see `experiments show EXPERIMENT`)'
    >>> in_cli_words("min_group_size must be 2 or more", {"min_group_size": "--min-group-size"})
    '--min-group-size must be 2 or more'
    """
    options = options or {}
    for python, cli in PHRASES:
        message = message.replace(python, cli)
    message = _compiled(_CALLS_THEN_COMMAND).sub(r"\1", message)
    message = _compiled(_CALLS_BESIDE_COMMAND).sub("", message)

    def choices(match: re.Match[str]) -> str:
        name, values = match.group(1), match.group(2)
        if name not in options:
            return match.group(0)
        listed = values.replace(chr(39), "")
        word = options[name]
        return f"{word} {listed}" if word.startswith("--") else f"{word} ({listed})"

    def flag(match: re.Match[str]) -> str:
        word = options.get(match.group(1), "")
        return word if word.startswith("--") else match.group(0)

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in options:
            return match.group(0)
        word = options[name]
        return f"{word} {WHERE_TO_FIND.get(name, name.upper())}" if word.startswith("--") else word

    def named(match: re.Match[str]) -> str:
        return options.get(match.group(1), match.group(0))

    message = _compiled(_AFTER_QUESTION).sub(lambda m: f"? {m.group(1).upper()}", message)
    message = _compiled(_CHOICES).sub(choices, message)
    message = _compiled(_FLAG).sub(flag, message)
    message = _compiled(_VALUE).sub(value, message)
    message = _compiled(_RECORD_FIELD).sub(named, message)
    message = _compiled(_SNAKE).sub(named, message)
    message = _compiled(_SUBJECT).sub(named, message, count=1)
    message = _compiled(_RECORD_CLASS).sub(lambda m: _KIND_OF_CLASS[m.group(1)], message)
    return _compiled(_GOT_COLLECTION).sub("", message)
