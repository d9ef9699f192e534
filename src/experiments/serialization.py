"""The one converter between records and JSON-compatible data.

Every record becomes a flat JSON object that starts with its ``kind`` and the ``schema``
version of the data, followed by its fields in a fixed order.  Times keep their zone,
durations are ISO 8601, enums are their values, and references are ids, so
``from_data(to_data(record)) == record`` for every record.

Data written by an older schema version is upgraded on the way in; data from a newer
version is refused, because guessing at fields we do not know would lose them on the
next save.
"""

from __future__ import annotations

import enum
import json
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final

import attrs
import cattrs
import pendulum

from experiments import model
from experiments.errors import InvalidTypeError, SchemaError, ValidationError
from experiments.model import KINDS, Record
from experiments.model._time import (
    TimeBox,
    format_date,
    format_datetime,
    format_duration,
    format_timebox,
)
from experiments.model._validate import shorten, thaw
from experiments.model.consent import Consent
from experiments.model.hypothesis import Criterion

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
]

#: The version of the data layout this library writes.
SCHEMA_VERSION: Final = 3


def _decisions_revise(data: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: a decision says which earlier decision it revises (none before 2)."""
    if data.get("kind") == "decision":
        data.setdefault("revises", None)
    return data


def _participants_consent(data: dict[str, Any]) -> dict[str, Any]:
    """2 -> 3: a participant may carry consent and a retention period (none before 3)."""
    if data.get("kind") == "participant":
        data.setdefault("consent", None)
        data.setdefault("retention", None)
    return data


#: ``UPGRADES[n]`` turns data of schema version ``n`` into version ``n + 1``.  Adding a
#: field or renaming one means bumping :data:`SCHEMA_VERSION` and adding a step here.
UPGRADES: Final[dict[int, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    1: _decisions_revise,
    2: _participants_consent,
}

_LEADING: Final = ("kind", "schema", "id", "slug", "revision")
_TRAILING: Final = ("created_at", "updated_at", "changed_by", "deleted_at", "tags", "metadata")


_ENUMS: Final = tuple(
    value
    for value in vars(model).values()
    if isinstance(value, type) and issubclass(value, enum.Enum)
)


def _enum_value(member: enum.Enum) -> Any:
    return member.value


def _make_converter() -> cattrs.Converter:
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
    conv.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, Record), _record_unstructurer(conv)
    )
    conv.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Record), _structure_record
    )
    return conv


_PLAIN: Final = (str, int, float, bool)


def _field_hooks(
    conv: cattrs.Converter, cls: type[Record]
) -> list[tuple[str, Callable[[Any], Any] | None, bool]]:
    """(name, hook or None for plain values, optional) for each field, in stored order."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in attrs.fields(cls)]
    middle = [n for n in names if n not in _LEADING and n not in _TRAILING]
    order = [n for n in _LEADING if n not in ("kind", "schema")] + middle + list(_TRAILING)
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
        # record instead of a loop, several times faster on the write path.
        hooks = _field_hooks(conv, cls)
        namespace: dict[str, Any] = {"KIND": cls.kind, "module": sys.modules[__name__]}
        items = ['"kind": KIND', '"schema": module.SCHEMA_VERSION']
        for index, (name, hook, optional) in enumerate(hooks):
            value = f"r.{name}"
            if hook is not None:
                namespace[f"h{index}"] = hook
                call = f"h{index}({value})"
                value = f"(None if {value} is None else {call})" if optional else call
            items.append(f"{name!r}: {value}")
        source = "def unstructure(r):\n    return {" + ", ".join(items) + "}\n"
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


#: The one converter (``converter.unstructure(record)``, ``converter.structure(data, Record)``).
converter: Final = _make_converter()


def to_data(record: Record) -> dict[str, Any]:
    """JSON-compatible data of a record (dicts, lists, text, numbers, booleans, None)."""
    given: object = record  # callers are not always typed
    if not isinstance(given, Record):
        raise InvalidTypeError(
            f"to_data() takes a record such as an Experiment; got {shorten(given)}"
        )
    return converter.unstructure(record, type(record))  # type: ignore[no-any-return]


def from_data(data: Mapping[str, Any]) -> Record:
    """The record ``data`` describes; upgrades older schema versions.

    Raises:
        SchemaError: the data is of a newer or unknown schema, kind or shape.
        ValidationError: a field holds a value the record does not accept.
    """
    return converter.structure(data, Record)


_COMPACT: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON text of record data, as stores keep it."""
    return _COMPACT.encode(data)


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
