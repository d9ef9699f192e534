"""File and directory names of the JSON directory store, safe whatever an id holds.

An id becomes one directory name.  Lowercase letters, digits, ``_``, ``-`` and inner dots
stay as they are, so the usual ids (``exp_0190ab...``) read as themselves; an uppercase
letter becomes ``^`` and the letter in lowercase; every other character (a leading or
trailing dot, ``/``, ``\\``, NUL, ``%``, ``^``, anything beyond ASCII) becomes ``%`` and
two lowercase hex digits per UTF-8 byte.  So a name never holds a separator, is never
``.`` or ``..`` or hidden, and holds no uppercase letter: two ids never share a name,
not even on a case-insensitive or Unicode-normalising file system.  Names that would be
device names on Windows (``con``, ``nul``, ``com1``, ...) get their first letter escaped.
A name that would grow longer than file systems allow is cut and ends in ``~`` and a
digest of the whole id.
"""

from __future__ import annotations

import hashlib
import re
import string
from typing import Final

__all__ = [
    "MAX_NAME",
    "decode_id",
    "encode_id",
    "is_temporary",
    "revision_of",
    "temporary_name",
    "version_name",
]

#: Longest directory name written (file systems allow 255 bytes).
MAX_NAME: Final = 200
_CUT: Final = 150
_PLAIN: Final = frozenset(string.ascii_lowercase + string.digits + "_-")
_HEX: Final = frozenset("0123456789abcdef")
_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
)
_VERSION: Final = re.compile(r"(\d{8,})\.json")
_TEMPORARY: Final = re.compile(r"\..+\.[0-9a-f]{16}\.tmp")


def _escape(char: str) -> str:
    return "".join(f"%{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))


def encode_id(record_id: str) -> str:
    """The directory name of ``record_id``: one plain path component, never empty."""
    if not record_id:
        return "%"
    last = len(record_id) - 1
    parts: list[str] = []
    for index, char in enumerate(record_id):
        if char in _PLAIN or (char == "." and 0 < index < last):
            parts.append(char)
        elif "A" <= char <= "Z":
            parts.append("^" + char.lower())
        else:
            parts.append(_escape(char))
    if "".join(parts).split(".", 1)[0] in _RESERVED:
        parts[0] = _escape(parts[0])
    name = "".join(parts)
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        name = f"{name[:_CUT]}~{digest}"
    return name


def decode_id(name: str) -> str | None:
    """The id whose directory ``name`` is, or None (a cut name, or not one of ours)."""
    if name == "%":
        return ""
    if "~" in name or not name:
        return None
    raw = bytearray()
    index = 0
    try:
        while index < len(name):
            char = name[index]
            if char == "%":
                pair = name[index + 1 : index + 3]
                if len(pair) != 2 or not set(pair) <= _HEX:  # noqa: PLR2004 - two hex digits
                    return None
                raw.append(int(pair, 16))
                index += 3
            elif char == "^":
                letter = name[index + 1 : index + 2]
                if not ("a" <= letter <= "z"):
                    return None
                raw += letter.upper().encode()
                index += 2
            else:
                raw += char.encode("utf-8", "surrogatepass")
                index += 1
        record_id = raw.decode("utf-8", "surrogatepass")
    except UnicodeError:
        return None
    # Only the one canonical spelling of an id counts: "%61" is not a second name for "a".
    return record_id if encode_id(record_id) == name else None


def version_name(revision: int) -> str:
    """The file name of a revision: eight digits or more, so names sort by revision."""
    return f"{revision:08d}.json"


def revision_of(name: str) -> int | None:
    """The revision a version file name stands for, or None if it is no version file."""
    match = _VERSION.fullmatch(name)
    if match is None:
        return None
    revision = int(match.group(1))
    return revision if revision > 0 and version_name(revision) == name else None


def temporary_name(final: str, token: str) -> str:
    """A hidden name next to ``final`` for writing it; ``token`` is 16 hex digits."""
    return f".{final}.{token}.tmp"


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file this store writes and then renames away."""
    return _TEMPORARY.fullmatch(name) is not None
