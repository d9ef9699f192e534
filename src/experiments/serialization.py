"""The one converter between records and JSON-compatible data.

Every record becomes a flat JSON object that starts with its ``kind`` and the ``schema``
version of the data, followed by its fields in a fixed order.  Times are RFC 3339 text
with their UTC offset (``"started_at": "2026-09-14T10:00:00+02:00"``), and a time given
in a named zone has that name in a field of its own right after it
(``"started_at_zone": "Europe/Oslo"``), as has the start of a time box
(``"time_box": "2026-09-14T10:00:00+02:00/P42D"``, ``"time_box_zone": ...``).
Durations are ISO 8601, enums are their values, and references are ids, so
``from_data(to_data(record)) == record`` for every record, time zones included.

Data written by an older schema version is upgraded on the way in; data from a newer
version is refused, because guessing at fields we do not know would lose them on the
next save.
"""

from __future__ import annotations

import contextlib
import enum
import json
import sys
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, Final

import attrs
import pendulum

from experiments import model
from experiments.errors import InvalidTypeError, SchemaError, ValidationError
from experiments.model import KINDS, Record
from experiments.model._hints import field_hints
from experiments.model._time import (
    TimeBox,
    TimeError,
    check_zone_name,
    format_date,
    format_datetime,
    format_duration,
    format_timebox,
    parse_datetime,
    parse_timebox,
    with_zone,
    zone_name,
)
from experiments.model._validate import shorten, thaw, to_optional_utc_datetime, to_utc_datetime
from experiments.model.consent import Consent
from experiments.model.hypothesis import Criterion
from experiments.model.maturity import Scale
from experiments.model.next_step import NextStep
from experiments.model.scope import Scope

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "SCHEMA_VERSION",
    "UPGRADES",
    "converter",
    "dumps",
    "from_data",
    "from_json",
    "to_data",
    "to_json",
    "upgrade",
    "zone_field",
]

#: The version of the data layout this library writes.
SCHEMA_VERSION: Final = 6


def _decisions_revise(data: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: a decision says which earlier decision it revises (none before 2)."""
    if data.get("kind") == "decision":
        data.setdefault("revises", None)
    return data


def zone_field(name: str) -> str:
    """The key that keeps the zone of the time in the field ``name``: ``started_at_zone``."""
    return f"{name}_zone"


def _terms_used(data: dict[str, Any]) -> dict[str, Any]:
    """2 -> 3: objectives and experiments name the terms they use (none before 3).

    The kinds of the maturity analysis and the shared vocabulary are new in 3, so no
    older data holds them.
    """
    if data.get("kind") in ("objective", "experiment"):
        data.setdefault("terms", [])
    return data


def _untracked(action: object) -> dict[str, Any]:
    return {"action": action, "owner": None, "due": None, "done_at": None}


def _next_steps_tracked(data: dict[str, Any]) -> dict[str, Any]:
    """3 -> 4: next steps can be followed up; templates, scopes and first showings.

    A learning's ``next_action`` text becomes a next step with no owner or due date
    yet (none for empty text), and so does each of a decision's ``next_steps``.  A
    prototype shown before 4 was first shown as finished as its version says
    (``shown_as``).  Experiments gain ``template`` and ``scope``, key results ``since``,
    none of which data before 4 has.
    """
    kind = data.get("kind")
    if kind == "learning":
        text = data.get("next_action")
        data["next_action"] = _untracked(text) if isinstance(text, str) and text.strip() else None
    elif kind == "decision":
        steps = data.get("next_steps")
        if isinstance(steps, list):
            data["next_steps"] = [
                _untracked(step) if isinstance(step, str) else step for step in steps
            ]
    elif kind == "prototype":
        data.setdefault(
            "shown_as", data.get("fidelity") if data.get("shown_at") is not None else None
        )
    elif kind == "experiment":
        data.setdefault("template", None)
        data.setdefault("scope", None)
    elif kind == "key-result":
        data.setdefault("since", None)
    return data


def _times_in_rfc3339(data: dict[str, Any]) -> dict[str, Any]:
    """4 -> 5: times in RFC 3339 with their offset, zone names in fields of their own.

    Up to 4, a time was its UTC instant with the zone in brackets,
    ``2026-09-14T08:00:00.000000Z[Europe/Oslo]``; from 5 it is
    ``2026-09-14T10:00:00+02:00``, followed by ``"started_at_zone": "Europe/Oslo"``.
    A value that is not a time is left as it is, for reading it to report.
    """
    cls = KINDS.get(data["kind"]) if isinstance(data.get("kind"), str) else None
    if cls is None:
        return data
    times = _time_fields(cls)
    result: dict[str, Any] = {}
    # In the order data is written now, so that what earlier steps added sits in place.
    order = ["kind", "schema", *_stored_order(cls)]
    for key in [*(k for k in order if k in data), *(k for k in data if k not in order)]:
        value = result[key] = data[key]
        field = times.get(key)
        if field is None or not isinstance(value, str):
            continue
        is_box, zoned = field
        try:
            moment = parse_timebox(value).start if is_box else parse_datetime(value)
        except (TimeError, TypeError):
            continue
        result[key] = format_timebox(parse_timebox(value)) if is_box else format_datetime(moment)  # type: ignore[arg-type]
        zone = zone_name(moment) if zoned else None
        if zone is not None:
            result[zone_field(key)] = zone
    for step in _next_steps_in(result):
        done = step.get("done_at")
        with contextlib.suppress(TimeError, TypeError):
            step["done_at"] = format_datetime(parse_datetime(done)) if done else done
    return result


def _next_steps_in(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The next steps a learning's or decision's data holds, copied in place to change."""
    if data.get("kind") == "decision" and isinstance(data.get("next_steps"), list):
        data["next_steps"] = [dict(s) if isinstance(s, dict) else s for s in data["next_steps"]]
        return [s for s in data["next_steps"] if isinstance(s, dict)]
    if data.get("kind") == "learning" and isinstance(data.get("next_action"), dict):
        data["next_action"] = dict(data["next_action"])
        return [data["next_action"]]
    return []


def _participants_consent(data: dict[str, Any]) -> dict[str, Any]:
    """5 -> 6: a participant may carry consent and a retention period (none before 6).

    Both are added where a participant's data writes them now, so that upgraded data
    reads as data written today does; neither holds a time to write in RFC 3339.
    """
    if data.get("kind") != "participant":
        return data
    added = {name: data.get(name) for name in ("consent", "retention")}
    order = ["kind", "schema", *_stored_order(KINDS["participant"])]
    known = [key for key in order if key in data or key in added]
    return {
        **{key: data[key] if key in data else added[key] for key in known},
        **{key: value for key, value in data.items() if key not in known},
    }


#: ``UPGRADES[n]`` turns data of schema version ``n`` into version ``n + 1``.  Adding a
#: field or renaming one means bumping :data:`SCHEMA_VERSION` and adding a step here.
UPGRADES: Final[dict[int, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    1: _decisions_revise,
    2: _terms_used,
    3: _next_steps_tracked,
    4: _times_in_rfc3339,
    5: _participants_consent,
}

#: The first schema version that writes times in RFC 3339 with their offset.
RFC3339_SCHEMA: Final = 5

_LEADING: Final = ("kind", "schema", "id", "slug", "revision")
_TRAILING: Final = ("created_at", "updated_at", "changed_by", "deleted_at", "tags", "metadata")


_ENUMS: Final = tuple(
    value
    for value in vars(model).values()
    if isinstance(value, type) and issubclass(value, enum.Enum)
)


def _enum_value(member: enum.Enum) -> Any:
    return member._value_  # what .value gives, without the descriptor's two calls


def _make_converter() -> cattrs.Converter:
    import cattrs  # noqa: PLC0415 - 7 ms; a command that only reads stored data never needs it

    conv = cattrs.Converter(unstruct_collection_overrides={AbstractSet: sorted, Sequence: list})
    conv.register_unstructure_hook(pendulum.DateTime, format_datetime)
    conv.register_unstructure_hook(pendulum.Date, format_date)
    conv.register_unstructure_hook(pendulum.Duration, format_duration)
    conv.register_unstructure_hook(TimeBox, format_timebox)
    conv.register_unstructure_hook(Mapping, thaw)
    for enum_type in _ENUMS:
        conv.register_unstructure_hook(enum_type, _enum_value)
    conv.register_unstructure_hook(
        Criterion,
        lambda c: {"metric": c.metric, "comparison": c.comparison.value, "threshold": c.threshold},
    )
    conv.register_unstructure_hook(
        Consent,
        lambda c: {
            "purpose": c.purpose,
            "given_at": format_datetime(c.given_at),
            "how": c.how,
            "recorded_by": c.recorded_by,
            "withdrawn_at": None if c.withdrawn_at is None else format_datetime(c.withdrawn_at),
        },
    )
    conv.register_unstructure_hook(
        NextStep,
        lambda n: {
            "action": n.action,
            "owner": n.owner,
            "due": None if n.due is None else format_date(n.due),
            "done_at": None if n.done_at is None else format_datetime(n.done_at),
        },
    )
    conv.register_unstructure_hook(
        Scope,
        lambda s: {
            "participants": s.participants,
            "sites": s.sites,
            "budget": s.budget,
            "currency": s.currency,
        },
    )
    conv.register_unstructure_hook(
        Scale,
        lambda s: {
            "low": s.low,
            "high": s.high,
            "low_label": s.low_label,
            "high_label": s.high_label,
        },
    )
    conv.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, Record), _record_unstructurer(conv)
    )
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Record), _structure_record
    )
    return conv


_PLAIN: Final = (str, int, float, bool)
_UTC_ONLY: Final = (to_utc_datetime, to_optional_utc_datetime)


_TIME_FIELDS: Final[dict[type[Record], dict[str, tuple[bool, bool]]]] = {}


def _time_fields(cls: type[Record]) -> dict[str, tuple[bool, bool]]:
    """The fields of ``cls`` that hold times: name -> (a time box?, may it have a zone?).

    A field its converter turns into UTC (``created_at``, ...) never has a zone.
    """
    known = _TIME_FIELDS.get(cls)
    if known is None:
        known = _TIME_FIELDS[cls] = _find_time_fields(cls)
    return known


def _find_time_fields(cls: type[Record]) -> dict[str, tuple[bool, bool]]:
    hints = field_hints(cls)
    result = {}
    for field in attrs.fields(cls):
        args = [a for a in typing.get_args(hints[field.name]) if a is not type(None)]
        inner = args[0] if len(args) == 1 else hints[field.name]
        if inner in (pendulum.DateTime, TimeBox):
            convert = getattr(field.converter, "__wrapped__", field.converter)
            result[field.name] = (inner is TimeBox, convert not in _UTC_ONLY)
    return result


def _timebox_zone(box: TimeBox | None) -> str | None:
    return None if box is None else zone_name(box.start)


def _stored_order(cls: type[Record]) -> list[str]:
    """The fields of ``cls`` in the order its data is written, after kind and schema."""
    names = [f.name for f in attrs.fields(cls)]
    middle = [n for n in names if n not in _LEADING and n not in _TRAILING]
    return [n for n in _LEADING if n not in ("kind", "schema")] + middle + list(_TRAILING)


def _field_hooks(
    conv: cattrs.Converter, cls: type[Record]
) -> list[tuple[str, Callable[[Any], Any] | None, bool]]:
    """(name, hook or None for plain values, optional) for each field, in stored order."""
    hints = field_hints(cls)
    order = _stored_order(cls)
    hooks: list[tuple[str, Callable[[Any], Any] | None, bool]] = []
    for name in order:
        hint = hints[name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = isinstance(hint, types.UnionType) and len(args) == 1
        inner = args[0] if optional else hint
        plain = inner in _PLAIN
        hooks.append((name, None if plain else conv.get_unstructure_hook(inner), optional))
    return hooks


def _record_unstructurer(
    conv: cattrs.Converter,
) -> Callable[[type[Record]], Callable[[Record], dict[str, Any]]]:
    def factory(cls: type[Record]) -> Callable[[Record], dict[str, Any]]:
        # Generated straight-line code, as attrs and cattrs do: one dict display per
        # record instead of a loop, several times faster on the write path.  From the
        # first time that may have a zone on, fields are added one by one, so that a
        # zone's key comes right after its time, and only when there is a zone.
        hooks = _field_hooks(conv, cls)
        times = _time_fields(cls)
        namespace: dict[str, Any] = {"KIND": cls.kind, "module": sys.modules[__name__]}
        items = ['"kind": KIND', '"schema": module.SCHEMA_VERSION']
        statements: list[str] = []
        for index, (name, hook, optional) in enumerate(hooks):
            value = f"r.{name}"
            if hook is not None:
                namespace[f"h{index}"] = hook
                call = f"h{index}({value})"
                value = f"(None if {value} is None else {call})" if optional else call
                if name == "metadata":  # empty in most records: no hook to ask
                    value = f"(h{index}(r.metadata) if r.metadata else {{}})"
            if statements:
                statements.append(f"d[{name!r}] = {value}")
            else:
                items.append(f"{name!r}: {value}")
            is_box, zoned = times.get(name, (False, False))
            if zoned:  # a time not set has no zone to ask for
                namespace[f"z{index}"] = _timebox_zone if is_box else zone_name
                statements.append(f"if r.{name} is not None:")
                statements.append(f"    z = z{index}(r.{name})")
                statements.append(f"    if z is not None: d[{zone_field(name)!r}] = z")
        body = "".join(f"    {line}\n" for line in statements)
        source = f"def unstructure(r):\n    d = {{{', '.join(items)}}}\n{body}    return d\n"
        exec(compile(source, f"<unstructure {cls.__name__}>", "exec"), namespace)  # noqa: S102 - code built from field names above
        return namespace["unstructure"]  # type: ignore[no-any-return]

    return factory


def upgrade(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` brought to the current schema version (a copy; the input is not changed)."""
    if not isinstance(data, Mapping):
        raise SchemaError(f"a record must be a JSON object; got {shorten(data)}")
    version = data.get("schema")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SchemaError(
            f"record data has no valid schema version (got {shorten(version)}); "
            "it was not written by strategy-experiments"
        )
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"record data has schema version {version}, newer than the {SCHEMA_VERSION} this "
            "version of strategy-experiments reads; upgrade it: "
            "pip install --upgrade strategy-experiments"
        )
    result = dict(data)
    while version < SCHEMA_VERSION:
        step = UPGRADES.get(version)
        if step is None:
            raise SchemaError(f"no upgrade from schema version {version} is known")
        result = step(result)
        version += 1
        result["schema"] = version
    return result


def rewritten(text: str | bytes) -> dict[str, Any] | None:
    """The data in ``text`` upgraded, if it was written before times were RFC 3339.

    None when its times are RFC 3339 already, and for text that is not a version's
    data, which is left for reading it to report.  Stores' migrations rewrite their
    data with this, once.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    version = data.get("schema") if isinstance(data, dict) else None
    if isinstance(version, bool) or not isinstance(version, int) or version >= RFC3339_SCHEMA:
        return None
    try:
        return upgrade(data)
    except SchemaError:
        return None


def _structure_record(data: Mapping[str, Any], cls: type[Record]) -> Record:
    fresh = upgrade(data)
    kind = fresh.pop("kind", None)
    fresh.pop("schema")
    target = KINDS.get(kind) if isinstance(kind, str) else None
    if target is None:
        raise SchemaError(
            f"record data has unknown kind {shorten(kind)}; known: {', '.join(KINDS)}"
        )
    if not issubclass(target, cls):
        raise SchemaError(f"expected a {cls.kind} record, got a {kind} record")
    _join_zones(target, fresh)
    allowed = attrs.fields_dict(target)
    keys: list[object] = list(fresh)  # JSON keys are text; a dict from Python need not be
    unknown = sorted(
        key if isinstance(key, str) else shorten(key) for key in keys if key not in allowed
    )
    if unknown:
        raise SchemaError(
            f"{kind} data has fields this version does not know: {', '.join(unknown)}"
        )
    try:
        return target(**fresh)
    except TypeError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise SchemaError(f"{kind} data is incomplete: {exc}") from None


def _zone_fields(cls: type[Record]) -> Iterator[tuple[str, str]]:
    """(zone key, time field) of each time of ``cls`` that may have a zone."""
    return ((zone_field(name), name) for name, (_, zoned) in _time_fields(cls).items() if zoned)


def _join_zones(cls: type[Record], data: dict[str, Any]) -> None:
    """Each zone in ``data`` joined to its time (RFC 9557: ``...+02:00[Europe/Oslo]``)."""
    for key, name in _zone_fields(cls):
        if key not in data:
            continue
        zone = data.pop(key)
        if zone is None:
            continue
        what = f"{cls.__name__}.{key}"
        try:
            check_zone_name(zone)
        except (TimeError, TypeError) as exc:
            kind = InvalidTypeError if isinstance(exc, TypeError) else ValidationError
            raise kind(f"{what} {exc}; got {shorten(zone)}") from None
        value = data.get(name)
        if not isinstance(value, str):
            raise ValidationError(
                f"{what} names the zone of {name}, which must then be a time in text such as "
                f"'2026-09-14T10:00:00+02:00'; got {shorten(value)}"
            )
        data[name] = with_zone(value, zone)


#: The one converter (``converter.unstructure(record)``, ``converter.structure(data, Record)``),
#: made when first asked for: importing cattrs is most of what importing this module costs.
converter: cattrs.Converter

_made: list[cattrs.Converter] = []
_making = threading.Lock()


def _converter() -> cattrs.Converter:
    """The one converter, made on first use (see :data:`converter`)."""
    if not _made:
        with _making:
            if not _made:
                _made.append(_make_converter())
    return _made[0]


def __getattr__(name: str) -> Any:
    """:data:`converter`, made on first use."""
    if name == "converter":
        return _converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Each record class's unstructure function, as the converter gives it: taken once, so
#: that writing a record does not ask the converter's dispatch every time.
_UNSTRUCTURE: dict[type[Record], Callable[[Record], dict[str, Any]]] = {}


def to_data(record: Record) -> dict[str, Any]:
    """JSON-compatible data of a record (dicts, lists, text, numbers, booleans, None)."""
    unstructure = _UNSTRUCTURE.get(type(record))
    if unstructure is None:
        given: object = record  # callers are not always typed
        if not isinstance(given, Record):
            raise InvalidTypeError(
                f"to_data() takes a record such as an Experiment; got {shorten(given)}"
            )
        unstructure = _UNSTRUCTURE[type(record)] = _converter().get_unstructure_hook(type(record))
    return unstructure(record)


def from_data(data: Mapping[str, Any]) -> Record:
    """The record ``data`` describes; upgrades older schema versions.

    Raises:
        SchemaError: the data is of a newer or unknown schema, kind or shape.
        ValidationError: a field holds a value the record does not accept.
    """
    # What the converter's hook for records does, without making the converter (and
    # importing cattrs): a process that only reads records never needs it.
    return _structure_record(data, Record)


_COMPACT: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _compact_chunks() -> Callable[[Any, int], list[str]] | None:
    """:data:`_COMPACT`'s C encoder, made once instead of for every text (None without C).

    ``JSONEncoder.encode`` makes its C encoder (and a cycle check) anew for every text:
    a fifth of the time of a record's JSON.  Record data is a tree by construction
    (``to_data`` makes every dict and list anew; metadata that holds itself is
    refused), so the encoder made here skips the cycle check; the text is the same,
    byte for byte.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return None
    chunks: Callable[[Any, int], list[str]] = make(
        None,  # no cycle check: see above
        _COMPACT.default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        None,  # no indent
        ":",
        ",",
        False,  # sort_keys  # noqa: FBT003 - the C encoder takes its flags by position
        False,  # skipkeys  # noqa: FBT003
        True,  # allow_nan, as JSONEncoder's default  # noqa: FBT003
    )
    return chunks


_CHUNKS: Final = _compact_chunks()


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON text of record data, as stores keep it.

    Raises:
        InvalidTypeError: ``data`` holds a value JSON cannot (also a ``TypeError``), or
            refers to itself.
    """
    try:
        if _CHUNKS is None:
            return _COMPACT.encode(data)
        return "".join(_CHUNKS(data, 0))
    except TypeError as exc:
        raise InvalidTypeError(
            f"dumps() takes data of JSON's types (text, numbers, booleans, None, lists and "
            f"dicts with text keys): {exc}"
        ) from None
    except RecursionError:
        raise InvalidTypeError(
            "dumps() takes data that does not refer to itself: a dict or list in it holds "
            "itself, or it nests too deep to write; give it without the cycle"
        ) from None


def to_json(record: Record, *, indent: int | None = None) -> str:
    """JSON text of a record; compact by default, human-friendly with ``indent``."""
    if indent is None:
        return _COMPACT.encode(to_data(record))
    return json.dumps(to_data(record), ensure_ascii=False, indent=indent)


def from_json(text: str | bytes) -> Record:
    """The record in JSON text (see :func:`from_data`)."""
    given: object = text  # callers are not always typed
    if not isinstance(given, str | bytes | bytearray):
        raise InvalidTypeError(f"from_json() takes JSON text or bytes; got {shorten(given)}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise SchemaError(f"record data is not valid JSON: {exc}") from None
    return from_data(data)
