"""Free text that quotes a person: found and replaced in every text field of a record.

A participant's name does not stay in their own record alone: a learning's observation,
a sprint's facilitators or a decision's rationale may quote it.  A redacted export and
an erasure take it out of all of them with :func:`unquoted`, one rule for both.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

import attrs

from experiments.model._record import Record

__all__ = ["quotes", "unquoted"]

R = TypeVar("R", bound=Record)

#: Fields that name or identify records rather than say something about them.
_NOT_TEXT: Final = frozenset({"id", "slug"})


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Quotes:
    """Whole-word mentions of names, case and spacing aside, each with its replacement."""

    def __init__(self, replacements: Mapping[str, str]) -> None:
        self.instead = {_key(n): r for n, r in replacements.items() if n and n.strip()}
        words = sorted(self.instead, key=len, reverse=True)
        spelled = (r"\s+".join(re.escape(part) for part in word.split()) for word in words)
        self.pattern = (
            re.compile(rf"(?<!\w)(?:{'|'.join(spelled)})(?!\w)", re.IGNORECASE) if words else None
        )

    def replace(self, value: Any) -> Any:
        if isinstance(value, enum.Enum) or self.pattern is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(lambda m: self.instead[_key(m.group())], value)
        if isinstance(value, tuple | list):
            return type(value)(self.replace(v) for v in value)
        if isinstance(value, frozenset):
            return frozenset(self.replace(v) for v in value)
        if isinstance(value, Mapping):
            return {k: self.replace(v) for k, v in value.items()}
        if attrs.has(type(value)):  # a consent, a criterion: text in their fields too
            changed = {}
            for field in attrs.fields(type(value)):
                before = getattr(value, field.name)
                after = self.replace(before)
                if after != before:
                    changed[field.name] = after
            return attrs.evolve(value, **changed) if changed else value
        return value


def _text_fields(record: Record, references: Iterable[str]) -> Iterable[str]:
    skip = _NOT_TEXT.union(references)
    return (f.name for f in attrs.fields(type(record)) if f.name not in skip)


def quotes(record: Record, names: Iterable[str], references: Iterable[str] = ()) -> bool:
    """Whether any text field of ``record`` quotes one of ``names``."""
    found = _Quotes(dict.fromkeys(names, ""))
    return any(
        found.replace(getattr(record, name)) != getattr(record, name)
        for name in _text_fields(record, references)
    )


def unquoted(record: R, replacements: Mapping[str, str], references: Iterable[str] = ()) -> R:
    """``record`` with every whole-word mention of a name replaced as ``replacements`` say.

    Ids, slugs, the fields in ``references`` (ids of other records) and enum values are
    left as they are; strings in lists, tags, metadata and nested values (a consent's
    ``recorded_by``) are text too.
    """
    found = _Quotes(replacements)
    if found.pattern is None:
        return record
    changes = {}
    for name in _text_fields(record, references):
        value = getattr(record, name)
        replaced = found.replace(value)
        if replaced != value:
            changes[name] = replaced
    return attrs.evolve(record, **changes) if changes else record
