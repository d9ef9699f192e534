"""Participants, participations and measurements from a spreadsheet, as CSV.

A municipality keeps its panel of citizens or a month's figures in Excel or LibreOffice;
:func:`import_csv` (and ``experiments import-csv``) brings such a sheet, saved as CSV,
into a store.  The file may be separated by ``,`` or by ``;`` (what Excel writes where
the comma is the decimal mark), in UTF-8 with or without a byte order mark; its first
line names the columns (:data:`COLUMNS`), in any case, with spaces or dashes for ``_``.
Empty cells leave a field at its default.

Every row is checked before anything is written: when one is bad, every bad row is
reported with its line number and the reason, and nothing is imported.  Each row's
record has an id made from what identifies it (a participant's slug; an experiment and
a participant; an experiment, a metric and the moment it was measured, as
:meth:`~experiments.tracking.Run.measure` makes it), so importing the same file again
changes nothing, and a corrected file updates the records it corrects.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from experiments._progress import ProgressHook, counted
from experiments.errors import CSVError, ExperimentsError, NotFoundError
from experiments.model import (
    Experiment,
    KeyResult,
    Measurement,
    Participant,
    Participation,
    Record,
)
from experiments.model._time import _is_date, argument, check_local_zone, parse_datetime
from experiments.model._validate import flag_word
from experiments.stores._keys import own_id

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["COLUMNS", "CSVImport", "import_csv"]

#: The kinds a sheet can hold, and the columns each takes (required ones first).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "participant": ("slug", "role", "name", "department", "external", "pseudonymous", "tags"),
    "participation": ("experiment", "participant", "stance", "involvement"),
    "measurement": (
        "value", "measured_at", "metric", "key_result", "unit", "experiment", "participant",
    ),
}  # fmt: skip

_REQUIRED: Final = {
    "participant": ("slug", "role"),
    "participation": ("experiment", "participant"),
    "measurement": ("value", "measured_at"),
}


@attrs.frozen
class CSVImport:
    """What an import did (or, for a dry run, would do)."""

    kind: str
    rows: int
    added: int
    updated: int
    unchanged: int
    dry_run: bool = False


def import_csv(
    store: Store,
    source: str | os.PathLike[str] | IO[bytes],
    kind: str | type[Record],
    *,
    dry_run: bool = False,
    zone: str | None = None,
    by: str | None = None,
    progress: ProgressHook | None = None,
) -> CSVImport:
    """Import the rows of a CSV file as records of ``kind``: all of them, or none.

    Args:
        store: where the records go.
        source: the file, by path, or opened in binary mode.
        kind: ``"participant"``, ``"participation"`` or ``"measurement"`` (or the class).
        dry_run: check every row and count what would change, writing nothing.
        zone: the time zone of times written without one (``2026-09-14 10:00``), as
            spreadsheets write them, e.g. ``"Europe/Copenhagen"``.
        by: who made the change, for the history.
        progress: for a progress bar: a function given the work and its size, returning
            the same work as it is done, e.g. ``lambda work, total: tqdm(work,
            total=total)``; it is given the lines after the header as they are read,
            then the records as each is compared with the store.

    Raises:
        CSVError: a row is bad (every one is listed); nothing was imported.
        ConflictError: another writer changed one of the records meanwhile; nothing was
            imported.
    """
    name = kind.kind if isinstance(kind, type) else str(kind)
    if name not in COLUMNS:
        raise CSVError(
            f"a sheet holds {', '.join(COLUMNS)}; {name!r} cannot be imported from CSV", ()
        )
    if zone is not None:
        argument(zone, "zone", check_local_zone)
    where, text = _read(source)
    rows = _Rows(store, name, zone)
    records = rows.records(where, text, progress)
    changes: list[Record] = []
    added = updated = unchanged = 0
    for record in counted(progress, records):
        stored = store.find(record.id, include_deleted=True)
        if stored is None:
            changes.append(record)
            added += 1
            continue
        if stored.deleted:
            rows.bad(
                record,
                f"{stored.label()} is deleted; restore() it first, or remove the row",
            )
            continue
        changed = {
            field: getattr(record, field)
            for field in rows.given[record.id]
            if getattr(stored, field) != getattr(record, field)
        }
        if changed:
            changes.append(stored.evolve(**changed))
            updated += 1
        else:
            unchanged += 1
    rows.refuse(where)
    if changes and not dry_run:
        with store.batch(by=by) as batch:
            for record in changes:
                batch.save(record)
    return CSVImport(name, len(records), added, updated, unchanged, dry_run)


def _read(source: str | os.PathLike[str] | IO[bytes]) -> tuple[str, str]:
    """The file's name for messages, and its text (a byte order mark removed)."""
    if isinstance(source, str | os.PathLike):
        where = Path(source).name
        data = Path(source).read_bytes()
    else:
        where = str(getattr(source, "name", "the CSV file"))
        data = source.read()
    try:
        return where, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CSVError(
            f"{where} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as "
            "'CSV UTF-8' in Excel, or with the character set UTF-8 in LibreOffice",
            (),
        ) from None


def _column(heading: str) -> str:
    return "_".join(heading.strip().lower().replace("-", " ").split())


def _separator(header: str) -> str:
    """``,`` or ``;``: whichever splits the first line into more known columns."""
    best, known = ",", -1
    for separator in (",", ";"):
        try:
            names = next(csv.reader([header], delimiter=separator), [])
        except csv.Error:
            names = []  # the reading of the whole file says what is wrong
        found = sum(1 for n in names if _column(n) in _ALL_COLUMNS)
        if found > known:
            best, known = separator, found
    return best


_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_ALL_COLUMNS: Final = frozenset(column for columns in COLUMNS.values() for column in columns)


class _Rows:
    """The rows of one sheet as records, checked; every problem kept with its line."""

    def __init__(self, store: Store, kind: str, zone: str | None) -> None:
        self.store = store
        self.kind = kind
        self.zone = zone
        self.problems: list[tuple[int, str]] = []
        self.given: dict[str, tuple[str, ...]] = {}
        self._lines: dict[str, int] = {}
        self._found: dict[tuple[str, str], Record] = {}
        self.separator = ","

    def records(
        self,
        where: str,
        text: str,
        progress: ProgressHook | None,
    ) -> list[Record]:
        lines = _LINE_END.split(text.rstrip("\r\n"))
        self.separator = _separator(lines[0])
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.separator)
        try:
            headings = [_column(h) for h in next(reader, [])]
            self._check_headings(where, headings)
            made = self._rows(reader, headings, counted(progress, lines[1:]))
        except csv.Error as exc:  # a cell the csv module cannot read at all
            raise CSVError(
                f"{where}: line {reader.line_num}: {exc}; save the sheet again as CSV; "
                "nothing was imported",
                ((reader.line_num, str(exc)),),
            ) from None
        self.refuse(where)
        return made

    def _rows(self, reader: Any, headings: list[str], lines: Iterable[str]) -> list[Record]:
        """The records of the rows ``reader`` gives, counting ``lines`` as they go."""
        made: list[Record] = []
        line = reader.line_num + 1
        counter = iter(lines)
        for cells in reader:
            for _ in range(reader.line_num + 1 - line):
                next(counter, None)
            first, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(headings):
                self.problems.append((first, f"{len(cells)} cells for {len(headings)} columns"))
                continue
            values = {h: c.strip() for h, c in zip(headings, cells, strict=False) if c.strip()}
            record = self._record(first, values)
            if record is not None:
                made.append(record)
        for _ in counter:
            pass  # the lines after the last row (none, or blank ones)
        return made

    def bad(self, record: Record, reason: str) -> None:
        """Keep ``reason`` as the problem of the row that made ``record``."""
        self.problems.append((self._lines[record.id], reason))

    def refuse(self, where: str) -> None:
        """Raise :class:`CSVError` listing every problem kept so far, if there is one."""
        if self.problems:
            self.problems.sort()
            shown = "; ".join(f"line {n}: {reason}" for n, reason in self.problems)
            count = len(self.problems)
            raise CSVError(
                f"{where}: {count} bad row{'s' if count > 1 else ''}, nothing was imported: "
                f"{shown}",
                tuple(self.problems),
            )

    def _check_headings(self, where: str, headings: list[str]) -> None:
        known = COLUMNS[self.kind]
        unknown = [h for h in headings if h not in known]
        missing = [c for c in _REQUIRED[self.kind] if c not in headings]
        if self.kind == "measurement" and not {"metric", "key_result"} & set(headings):
            missing.append("metric or key_result")
        if unknown or missing or len(set(headings)) != len(headings):
            reasons = []
            if unknown:
                reasons.append(f"unknown column {', '.join(map(repr, unknown))}")
            if missing:
                reasons.append(f"no column {', '.join(map(repr, missing))}")
            if len(set(headings)) != len(headings):
                reasons.append("a column named twice")
            raise CSVError(
                f"{where}: line 1: {'; '.join(reasons)}; a {self.kind} sheet has the columns "
                f"{', '.join(known)} (required: {', '.join(_REQUIRED[self.kind])}); nothing "
                "was imported",
                ((1, "; ".join(reasons)),),
            )

    def _record(self, line: int, values: dict[str, str]) -> Record | None:
        try:
            fields = self._fields(values)
            record = own_id(self.store, _MAKERS[self.kind](fields))
        except (ExperimentsError, ValueError, TypeError) as exc:
            self.problems.append((line, str(exc)))
            return None
        if record.id in self._lines:
            self.problems.append(
                (line, f"the same {self.kind} as line {self._lines[record.id]} (id {record.id})")
            )
            return None
        self._lines[record.id] = line
        self.given[record.id] = tuple(fields)
        return record

    def _fields(self, values: Mapping[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for column, text in values.items():
            if column in ("external", "pseudonymous"):
                fields[column] = _flag(column, text)
            elif column == "value":
                fields[column] = self._number(text)
            elif column == "measured_at":
                fields[column] = self._time(text)
            elif column == "tags":
                fields[column] = [tag for tag in text.replace(";", ",").split(",") if tag.strip()]
            elif column in ("experiment", "participant", "key_result"):
                fields[column] = self._reference(column, text)
            else:
                fields[column] = text
        if self.kind == "measurement" and "key_result" in fields:
            result = self._found[("key_result", values["key_result"])]
            assert isinstance(result, KeyResult)
            fields.setdefault("metric", result.metric)
            if result.unit is not None:
                fields.setdefault("unit", result.unit)
        return fields

    def _number(self, text: str) -> float:
        cleaned = text.replace("\u00a0", "").replace(" ", "")
        if self.separator == ";" and "," in cleaned:  # a decimal comma, as Excel writes it
            cleaned = cleaned.replace(".", "").replace(",", ".")
        try:
            return float(cleaned)
        except ValueError:
            if self.separator == "," and "," in cleaned:
                raise ValueError(
                    f"value {text!r} is not a number in a comma-separated sheet, where a "
                    "comma could be a decimal or a thousands mark; write 9.5 for nine and a "
                    "half, or save the sheet with ';' as the separator to keep decimal commas"
                ) from None
            raise ValueError(f"value {text!r} is not a number") from None

    def _time(self, text: str) -> Any:
        try:
            local = dt.datetime.fromisoformat(text)
        except ValueError:
            local = None  # not ISO 8601 as Python reads it: the model says what is wrong
        if local is not None and local.tzinfo is None:
            if self.zone is not None:
                text = f"{local.isoformat()}[{self.zone}]"
            elif not _is_date(text):
                raise ValueError(
                    f"measured_at {text!r} has no time zone; write it with its offset "
                    "(2026-09-14T10:00:00+02:00), or give the zone of the sheet's times, "
                    "zone='Europe/Copenhagen'"
                )
        return argument(text, "measured_at", parse_datetime)

    def _reference(self, column: str, text: str) -> Record:
        kind = {"experiment": Experiment, "participant": Participant, "key_result": KeyResult}
        key = (column, text)
        if key not in self._found:
            try:
                self._found[key] = self.store.resolve(text, kind[column])
            except NotFoundError:
                what = column.replace("_", " ")
                raise ValueError(
                    f"{column} {text!r} names no {what} in the store; give its id or slug"
                ) from None
        return self._found[key]


def _flag(column: str, text: str) -> bool:
    try:
        return flag_word(text)
    except ValueError:
        raise ValueError(
            f"{column} {text!r} is not true or false (also: yes, no, on, off, 1, 0)"
        ) from None


def _measurement(fields: dict[str, Any]) -> Measurement:
    from experiments.tracking import measurement_id  # noqa: PLC0415 - `list` imports COLUMNS

    draft = Measurement(**fields)
    return draft.evolve(id=measurement_id(draft))


_MAKERS: Final[dict[str, Callable[[dict[str, Any]], Record]]] = {
    "participant": lambda fields: Participant(**fields),
    "participation": lambda fields: Participation(**fields),
    "measurement": _measurement,
}
