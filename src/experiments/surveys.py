"""Recording survey responses: one at a time, or a survey tool's CSV export whole.

::

    from experiments import surveys

    report = surveys.import_responses(store, "spring-2026", "responses.csv")
    print(report.added, report.updated, report.unchanged)

A survey tool's export, as Excel or LibreOffice saves it, is a CSV file in UTF-8 (with
a byte order mark or without), its fields separated by commas or semicolons.  Its
header names the columns: ``department`` (required), ``level``, ``answered_at`` (when
the response was given), ``response_id`` (what the tool calls the response) and
``participant`` (a pseudonymous participant's id); every other column is an item's
code and holds the answers, whole numbers on the questionnaire's scale, empty where
the item was not answered.  ``columns=`` renames a tool's own headings ("Afdeling":
"department").

Every row is checked before anything is written: a file with any bad row is refused
whole, with every bad row named by its line number.  Importing the same file again
changes nothing: each response's id derives from its round and its ``response_id``
(else from what the row says), and a response the tool changed is updated.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

import attrs

from experiments.errors import ConflictError, NotFoundError, ValidationError
from experiments.model import Item, Participant, Questionnaire, Response, SurveyRound
from experiments.model._fields import shorten
from experiments.model._time import (
    DateTimeLike,
    TimeError,
    argument,
    check_local_zone,
    parse_datetime,
)
from experiments.model.vocabulary import name_key

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["COLUMNS", "ResponseImport", "import_responses", "record_response"]

#: The columns a response file may have besides the items', by the field each fills.
COLUMNS: Final = ("department", "level", "answered_at", "response_id", "participant")

#: How many bad rows an error lists before it says how many more there are.
_SHOWN_PROBLEMS: Final = 20
_SEPARATORS: Final = (",", ";", "\t")
_WHOLE: Final = re.compile(r"[+-]?\d+(?:[.,]0+)?")


@attrs.frozen
class ResponseImport:
    """What an import did: responses added, updated (the tool changed them), unchanged."""

    round: str
    added: int
    updated: int
    unchanged: int

    @property
    def responses(self) -> int:
        """Every response in the file."""
        return self.added + self.updated + self.unchanged


def record_response(
    store: Store,
    survey_round: SurveyRound | str,
    department: str,
    answers: Mapping[str, int],
    *,
    level: str | None = None,
    answered_at: DateTimeLike | None = None,
    participant: Participant | str | None = None,
    response_id: str | None = None,
    by: str | None = None,
) -> Response:
    """Record one respondent's answers in a round, checked against its questionnaire.

    Each answer must be a whole number on the scale, for an item of the questionnaire;
    the department (and level) must be among those the round asked, if it lists them.
    A ``participant`` must be pseudonymous: a named person's answers would be shown
    with their name.  With ``response_id`` recording it again changes nothing.

    Raises:
        ValidationError: an answer off the scale or for no item, a department or level
            the round did not ask, a participant who is not pseudonymous.
        NotFoundError: the round (or the participant) is not in the store.
    """
    target = store.resolve(survey_round, SurveyRound)
    questionnaire = store.get(target.questionnaire, Questionnaire)
    codes = _codes(store, questionnaire)
    problems = _answer_problems(answers, codes, questionnaire)
    if (asked := target.asks(department, level)) is not None:
        problems.insert(0, asked)
    if problems:
        raise ValidationError("; ".join(problems))
    made = Response(
        round=target.id,
        department=department,
        level=level,
        answers={codes[code.casefold()]: value for code, value in answers.items()},
        answered_at=target.opened_at if answered_at is None else answered_at,
        participant=None if participant is None else _pseudonymous(store, participant).id,
        source_key=response_id,
    )
    return _save(store, [made], by)[0] or store.get(made.id, Response)


def _codes(store: Store, questionnaire: Questionnaire) -> dict[str, str]:
    """The questionnaire's item codes, by their key (case does not matter)."""
    return {
        item.code.casefold(): item.code
        for item in store.query(Item, questionnaire=questionnaire.id)
    }


def _answer_problems(
    answers: Mapping[str, object], codes: Mapping[str, str], questionnaire: Questionnaire
) -> list[str]:
    scale = questionnaire.scale
    problems = []
    for code, value in answers.items():
        if str(code).casefold() not in codes:
            problems.append(
                f"{code!r} is no item of questionnaire {questionnaire.title!r} "
                f"(its items: {', '.join(codes.values()) or 'none yet'})"
            )
        elif value not in scale:
            problems.append(
                f"the answer to {code!r} is {shorten(value)}, not a whole number on the "
                f"scale {scale.low}-{scale.high}"
            )
    return problems


def _pseudonymous(store: Store, participant: Participant | str) -> Participant:
    person = store.resolve(participant, Participant)
    if not person.pseudonymous:
        raise ValidationError(
            f"participant {person.id} is not pseudonymous; a response names a participant "
            "only under a pseudonym (make them pseudonymous, or leave the response "
            "anonymous)"
        )
    return person


def _save(store: Store, made: Sequence[Response], by: str | None) -> list[Response | None]:
    """Save what is new or changed in one transaction; None for what was already there.

    Retried when another writer got in between: each try reads afresh.
    """
    for _ in range(5):
        try:
            return _save_once(store, made, by)
        except ConflictError:
            continue
    return _save_once(store, made, by)


def _save_once(store: Store, made: Sequence[Response], by: str | None) -> list[Response | None]:
    outcome: list[Response | None] = []
    with store.batch(by=by) as batch:
        for response in made:
            stored = store.find(response.id, include_deleted=True)
            if stored is None:
                outcome.append(batch.save(response))
                continue
            assert isinstance(stored, Response)
            changes = {
                name: getattr(response, name)
                for name in ("department", "level", "answers", "answered_at", "participant")
                if getattr(response, name) != getattr(stored, name)
            }
            if stored.deleted:
                changes["deleted_at"] = None
            outcome.append(batch.save(stored.evolve(**changes)) if changes else None)
    return outcome


# --- the CSV file -----------------------------------------------------------------------


def import_responses(
    store: Store,
    survey_round: SurveyRound | str,
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    columns: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    zone: str | None = None,
    not_answered: Collection[str] = (),
    by: str | None = None,
) -> ResponseImport:
    """Import the responses of a round from a survey tool's CSV export.

    Args:
        store: where the round is recorded.
        survey_round: the round (record, id or slug) the responses belong to.
        source: a path, or an open file (text or binary) to read.
        columns: the file's own headings for the columns :data:`COLUMNS` names, and for
            item codes, e.g. ``{"Afdeling": "department", "Spørsmål 1": "L1"}``.
        delimiter: ``","``, ``";"`` or a tab; by default the one the header uses.
        zone: the time zone of ``answered_at`` times written without an offset
            (``"Europe/Oslo"``); without it such times are refused.  A file without
            that column dates every response at the round's opening.
        not_answered: cell texts that mean "not answered" besides an empty cell, e.g.
            ``("n/a", "vet ikke")`` (case does not matter).
        by: who imports (kept in the history).

    Returns:
        How many responses were added, updated and already there.

    Raises:
        ValidationError: ``zone`` is no time zone, the file is not UTF-8 CSV, lacks the
            department column, or has bad rows (all of them are listed with their line
            numbers); nothing is written.
        NotFoundError: the round is not in the store.
        ConflictError: others kept changing the same responses; nothing is written.
    """
    if zone is not None:
        argument(zone, "zone", check_local_zone)
    target = store.resolve(survey_round, SurveyRound)
    questionnaire = store.get(target.questionnaire, Questionnaire)
    text = _read_text(source)
    reader = _Reader(store, target, questionnaire, columns or {}, zone, not_answered)
    made = reader.responses(text, delimiter)
    results = _save(store, made, by)
    updated = sum(1 for r in results if r is not None and r.revision > 1)
    added = sum(1 for r in results if r is not None) - updated
    return ResponseImport(target.id, added, updated, len(results) - added - updated)


def _read_text(source: str | os.PathLike[str] | IO[str] | IO[bytes]) -> str:
    """The file's text, UTF-8 with a byte order mark or without."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            data: str | bytes = path.read_bytes()
        except OSError as exc:
            raise ValidationError(
                f"cannot read {str(path)!r}: {exc.strerror or exc}; give the path of the "
                "survey tool's CSV export"
            ) from None
    else:
        data = source.read()
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the file is not UTF-8 text (byte {exc.start + 1} cannot be read); save it "
            "as 'CSV UTF-8' in Excel, or with the character set 'Unicode (UTF-8)' in "
            "LibreOffice"
        ) from None


def _separator(header: str) -> str:
    """The separator the header line is written with: the one that splits it most."""
    counts = {
        separator: len(next(csv.reader([header], delimiter=separator), []))
        for separator in _SEPARATORS
    }
    return max(_SEPARATORS, key=lambda s: counts[s])


class _Reader:
    """Reads the rows of one export into responses, collecting every problem."""

    def __init__(
        self,
        store: Store,
        target: SurveyRound,
        questionnaire: Questionnaire,
        columns: Mapping[str, str],
        zone: str | None,
        not_answered: Collection[str],
    ) -> None:
        self.store = store
        self.round = target
        self.questionnaire = questionnaire
        self.codes = _codes(store, questionnaire)
        self.renames = {_heading(k): v for k, v in columns.items()}
        self.zone = zone
        self.blank = {"", *(text.strip().casefold() for text in not_answered)}
        self.problems: list[str] = []
        self.people: dict[str, str | None] = {}

    def responses(self, text: str, delimiter: str | None) -> list[Response]:
        if not text.strip():
            raise ValidationError("the file is empty; export the responses with their header")
        separator = delimiter or _separator(text.splitlines()[0])
        if separator not in _SEPARATORS:
            raise ValidationError(f"delimiter must be ',', ';' or a tab; got {delimiter!r}")
        rows = _rows(text, separator)
        line, header = next(rows)
        fields = self._fields(header)
        made: list[Response] = []
        seen: Counter[str] = Counter()
        keys: dict[str, int] = {}
        for line, row in rows:
            if not any(cell.strip() for cell in row):
                continue  # a blank line, as spreadsheets leave at the end
            response = self._row(line, row, fields, len(header), seen)
            if response is None:
                continue
            if response.id in keys:
                self.problems.append(
                    f"line {line}: response_id {response.source_key!r} is on line "
                    f"{keys[response.id]} too"
                )
                continue
            keys[response.id] = line
            made.append(response)
        if self.problems:
            shown = self.problems[:_SHOWN_PROBLEMS]
            more = len(self.problems) - len(shown)
            tail = f"; and {more} more" if more else ""
            raise ValidationError(
                f"{len(self.problems)} bad rows in the responses for round "
                f"{self.round.title!r}, nothing imported: " + "; ".join(shown) + tail
            )
        if not made:
            raise ValidationError("the file has a header but no responses")
        return made

    def _fields(self, header: Sequence[str]) -> list[str | None]:
        """What each column fills: a field of :data:`COLUMNS`, an item code, or None."""
        fields: list[str | None] = []
        unknown: list[str] = []
        for heading in header:
            name = self.renames.get(_heading(heading), heading)
            key = _heading(name)
            if key in COLUMNS:
                fields.append(key)
            elif name.strip().casefold() in self.codes:
                fields.append(self.codes[name.strip().casefold()])
            else:
                fields.append(None)
                unknown.append(heading)
        if unknown:
            raise ValidationError(
                f"the columns {', '.join(repr(h) for h in unknown)} are neither an item of "
                f"questionnaire {self.questionnaire.title!r} (its codes: "
                f"{', '.join(self.codes.values()) or 'none yet'}) nor one of "
                f"{', '.join(COLUMNS)}; rename them with columns={{heading: code or field}} "
                "(`--column HEADING=NAME`), or take them out of the file"
            )
        repeated = [f for f, n in Counter(f for f in fields if f).items() if n > 1]
        if repeated:
            raise ValidationError(f"the header names {', '.join(repeated)} twice")
        if "department" not in fields:
            raise ValidationError(
                "the file has no department column; name it 'department' or give "
                "columns={'<its heading>': 'department'} (`--column HEADING=department`)"
            )
        return fields

    def _row(
        self,
        line: int,
        row: Sequence[str],
        fields: Sequence[str | None],
        width: int,
        seen: Counter[str],
    ) -> Response | None:
        problems: list[str] = []
        if len(row) != width:
            self.problems.append(
                f"line {line}: {len(row)} fields where the header has {width}; check the "
                "separator and the quotes"
            )
            return None
        values = {field: cell.strip() for field, cell in zip(fields, row, strict=True) if field}
        answers: dict[str, int] = {}
        for code in fields:
            if code is None or code in COLUMNS or values[code].casefold() in self.blank:
                continue
            answer = self._answer(values[code])
            if answer is None:
                problems.append(
                    f"{code} is {values[code]!r}, not a whole number on the scale "
                    f"{self.questionnaire.scale.low}-{self.questionnaire.scale.high}"
                )
            else:
                answers[code] = answer
        department = values.get("department", "")
        level = values.get("level") or None
        if not department:
            problems.append("no department")
        elif (asked := self.round.asks(department, level)) is not None:
            problems.append(asked)
        if not answers and not problems:
            problems.append("no item is answered")
        answered_at = self._moment(values.get("answered_at", ""), problems)
        participant = self._participant(values.get("participant", ""), problems)
        if problems:
            self.problems.append(f"line {line}: " + ", ".join(problems))
            return None
        key = values.get("response_id") or self._digest(department, level, answers, values, seen)
        return Response(
            round=self.round.id,
            department=department,
            level=level,
            answers=answers,
            answered_at=answered_at,
            participant=participant,
            source_key=key,
        )

    def _answer(self, text: str) -> int | None:
        if not _WHOLE.fullmatch(text):
            return None
        number = int(re.split(r"[.,]", text)[0])
        return number if number in self.questionnaire.scale else None

    def _moment(self, text: str, problems: list[str]) -> DateTimeLike:
        if not text:
            return self.round.opened_at
        moment = text.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", text) else text
        try:
            return parse_datetime(moment)
        except (TimeError, ValueError) as exc:
            naive = "no time zone" in str(exc)
            if naive and self.zone is not None:
                try:
                    return parse_datetime(f"{moment}[{self.zone}]")
                except (TimeError, ValueError) as again:
                    problems.append(f"answered_at {text!r} {_clause(again)}")
            elif naive:
                problems.append(
                    f"answered_at {text!r} has no time zone (give zone=, e.g. 'Europe/Oslo', "
                    "or times with an offset)"
                )
            else:
                problems.append(f"answered_at {text!r} {_clause(exc)}")
        return self.round.opened_at

    def _participant(self, text: str, problems: list[str]) -> str | None:
        if not text:
            return None
        if text not in self.people:
            try:
                self.people[text] = _pseudonymous(self.store, text).id
            except (NotFoundError, ValidationError) as exc:
                self.people[text] = None
                problems.append(f"participant: {exc}")
                return None
        found = self.people[text]
        if found is None:
            problems.append(f"participant {text!r} cannot be named on a response")
        return found

    def _digest(
        self,
        department: str,
        level: str | None,
        answers: Mapping[str, int],
        values: Mapping[str, str],
        seen: Counter[str],
    ) -> str:
        """A key for a row without a response_id: what it says, and which such row it is.

        Two rows that say the same are two respondents: the second gets ``#2``.
        """
        said = "|".join(
            [
                name_key(department),
                name_key(level or ""),
                values.get("answered_at", ""),
                values.get("participant", ""),
                *(f"{code}={value}" for code, value in sorted(answers.items())),
            ]
        )
        digest = hashlib.sha256(said.encode()).hexdigest()[:24]
        seen[digest] += 1
        return f"row-{digest}#{seen[digest]}"


def _clause(error: Exception) -> str:
    """An error's message as a clause of a row's problems, which a '; ' would split."""
    return str(error).replace("; ", ", ")


def _heading(text: str) -> str:
    """A heading as :data:`COLUMNS` are named: lower case, words joined by underscores."""
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def _rows(text: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """Each row with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    start = 1
    try:
        for row in reader:
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            f"line {reader.line_num}: the file is not CSV this can read ({exc}); check the "
            "quotes, and nothing was imported"
        ) from None
