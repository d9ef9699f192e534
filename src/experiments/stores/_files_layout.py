"""The names in a files store's directory, and the facts about them every part needs.

:mod:`experiments.stores.files` describes the layout to users; this module holds its
names once (the marker, ``records/``, ``current.json``, the lock, the journal,
``.gitignore`` and ``.gitattributes``), what the
marker says, which names under ``records/`` are records, what counts as a version
number, the pair of open directories that reading and writing go through, and what a
message about a damaged or linked file tells the user.  It is
the bottom of the files store: the journal (``_files_journal``), the directory
(``_files_directory``), the reader (``_files_reader``), the plan (``_files_plan``) and
the writer (``_files_writer``) all import it, and it imports none of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from experiments.errors import StoreError
from experiments.model._validate import ID_PATTERN
from experiments.stores import _keys
from experiments.stores._filenames import decode_id

__all__ = [
    "CURRENT",
    "FORMAT",
    "FORMAT_VERSION",
    "GITATTRIBUTES",
    "GITATTRIBUTES_TEXT",
    "GITIGNORE",
    "GITIGNORE_TEXT",
    "GIT_FILES",
    "JOURNAL",
    "LOCK",
    "MARKER",
    "RECORDS",
    "RESTORE",
    "Dirs",
    "Unreadable",
    "link_refused",
    "marker",
    "read_marker",
    "record_name",
    "settings_of",
    "version_number",
]

#: What ``store.json`` says this directory is.
FORMAT: Final = "strategy-experiments files store"
#: The layout version this library writes and reads (``store.json``'s ``version``); 2
#: writes times in RFC 3339 with their offset and keeps each record's current version
#: in ``current.json`` (see ``_files_migrate``).
FORMAT_VERSION: Final = 3

MARKER: Final = "store.json"
RECORDS: Final = "records"
LOCK: Final = ".lock"
JOURNAL: Final = ".journal"
GITIGNORE: Final = ".gitignore"
GITATTRIBUTES: Final = ".gitattributes"
#: The file in a record's directory that holds its current version (``_files_record``).
CURRENT: Final = "current.json"

#: The ``.gitignore`` a new store gets: its working files stay out of git.
GITIGNORE_TEXT: Final = (
    "# Working files of strategy-experiments: never data, never to be committed.\n"
    "/.lock\n"
    "/.journal\n"
    ".*.tmp\n"
)
#: The ``.gitattributes`` a store gets: a history file is a copy of what ``current.json``
#: held, so git shows a change as the lines of ``current.json`` that changed, once.
GITATTRIBUTES_TEXT: Final = (
    "# strategy-experiments: an earlier version is a copy of what current.json held;\n"
    "# git shows a change as the lines of current.json that changed.\n"
    "/records/*/[0-9]*.json -diff\n"
)
#: The git files a new store gets, and what each holds.
GIT_FILES: Final = {GITIGNORE: GITIGNORE_TEXT, GITATTRIBUTES: GITATTRIBUTES_TEXT}
#: What a message about a damaged file tells the user to do.
RESTORE: Final = (
    "restore it from version control or a backup, or list all damage with `experiments verify`"
)

_CUT_NAME: Final = re.compile(r"[a-z0-9_.%^-]{150}~[0-9a-f]{40}")


class Unreadable(Exception):  # noqa: N818 - internal signal, never leaves the files store
    """A stored file that does not hold what it should; the message says what is wrong."""

    @property
    def problem(self) -> str:
        """What is wrong with the file, and how to set it right."""
        return f"{self}; {RESTORE}"

    def refused(self, path: object) -> StoreError:
        """The error a caller gets for the file at ``path``."""
        return StoreError(f"{path} {self.problem}")


@attrs.frozen
class Dirs:
    """Open descriptors of the store directory and of ``records/`` (None if absent)."""

    root: int
    records: int | None


def link_refused(path: object, exc: OSError, advice: str | None = RESTORE) -> StoreError:
    """The error for a symbolic link met where the store reads: it is never followed."""
    told = f": {advice}" if advice else ""
    return StoreError(f"{path} {exc.strerror}; the store never follows links{told}")


def record_name(name: str) -> tuple[bool, str | None]:
    """Whether ``name`` is a record's directory, and its id unless the name is cut."""
    if _CUT_NAME.fullmatch(name):
        return True, None
    record_id = decode_id(name)
    return (record_id is not None and ID_PATTERN.fullmatch(record_id) is not None), record_id


def version_number(value: object) -> int | None:
    """``value`` as a format or schema version (a whole number from 1 up), or None."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


#: What the marker says about the layout, for a person who opens it.
_LAYOUT: Final = (
    "records/<id>/current.json, the current version, and records/<id>/<revision>.json, "
    "the earlier ones; see the strategy-experiments docs"
)


def marker(
    version: int,
    migrations: list[dict[str, Any]] | None = None,
    *,
    settings: Mapping[str, str] | None = None,
    rekeying: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of ``store.json`` for a store of format ``version``.

    ``settings`` are the store's (its participant key among them; a new store gets a
    fresh key); ``rekeying`` the new participant ids of a migration to format 3 that
    has begun.
    """
    body: dict[str, Any] = {"format": FORMAT, "version": version, "layout": _LAYOUT}
    if migrations:
        body["migrations"] = migrations
    body["settings"] = dict(settings) if settings is not None else {_keys.KEY: _keys.new_key()}
    if rekeying is not None:
        body["rekeying"] = dict(rekeying)
    return (json.dumps(body, indent=2) + "\n").encode()


def settings_of(body: Mapping[str, Any]) -> dict[str, str]:
    """The settings ``store.json`` holds (none before format 3)."""
    found = body.get("settings")
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if isinstance(v, str)}


def read_marker(raw: bytes) -> tuple[int, dict[str, Any]]:
    """The format version ``store.json`` names, and all it says.

    Raises:
        Unreadable: it is not a files store's marker, or names no valid version.
    """
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise Unreadable(
            "is not the marker of a strategy-experiments files store "
            f'(it should say "format": "{FORMAT}")'
        )
    version = version_number(body.get("version"))
    if version is None:
        raise Unreadable("holds no valid format version")
    return version, body
