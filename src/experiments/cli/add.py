"""`experiments add KIND`: one command for each entry of :data:`~experiments.cli.kinds.ADD`."""

from __future__ import annotations

import enum
import typing
from collections.abc import Callable
from typing import Any, Final

import attrs
import click

from experiments.cli.app import (
    Context,
    cli,
    handle_errors,
    json_option,
    pass_context,
    record_option,
    repeated_option,
    store_options,
)
from experiments.cli.kinds import ADD, NOT_CHOSEN, Adds, EnumChoice, Param, default_of
from experiments.cli.resolve import record_id
from experiments.cli.words import repeated
from experiments.errors import ValidationError
from experiments.model import KINDS, REFERENCES, Record
from experiments.model._hints import field_hints
from experiments.query import FieldType, field_types

__all__ = ["add"]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

#: How an option shows the value it takes, by how the model stores the field.
_METAVARS: Final = {
    FieldType.DATE: "DATE",
    FieldType.DATETIME: "TIME",
    FieldType.TIMEBOX: "ISO8601",
}


@cli.group()
def add() -> None:
    """Add an objective, key result, experiment, hypothesis, participant, ...

    Each prints the saved record (with --json: its data).  Give --slug to name it
    for later commands; running the same `add` with the same slug again is refused
    instead of making a second one.
    """


def _named(command: Callable[..., Any]) -> Callable[..., Any]:
    """--slug and --tag, with the options every command that writes takes."""
    command = click.option("--slug", help="a stable name for scripts, e.g. art-for-families")(
        command
    )
    command = repeated_option("--tag", "tags", help="a free tag")(command)
    return json_option(store_options(command))


def _as_modelled(spec: Adds, param: Param) -> Param:
    """``param`` with what the model says of its field: a list repeats, a number is
    typed (whole or not), an enumeration is a choice of its values (unless it is one of
    :data:`~experiments.cli.kinds.NOT_CHOSEN`), a date, time or time box shows so (where
    the entry is silent).
    """
    info = field_types(spec.kind.kind)[param.field]
    number: type[float | int] | None = None
    if info.kind is FieldType.NUMBER:
        number = int if attrs.fields_dict(spec.kind)[param.field].type in ("int", int) else float
    return param._replace(
        multiple=info.kind is FieldType.LIST,
        type=number or _choice(spec.kind, param.field),
        metavar=param.metavar or _METAVARS.get(info.kind),
    )


def _choice(kind: type[Record], field: str) -> EnumChoice | None:
    """The choice a field offers: its enumeration's values, or each item's for a list."""
    hint = field_hints(kind)[field]
    items = [a for a in typing.get_args(hint) if a not in (Ellipsis, type(None))]
    offered = items[0] if len(items) == 1 else hint
    if isinstance(offered, type) and issubclass(offered, enum.Enum) and offered not in NOT_CHOSEN:
        return EnumChoice(offered)
    return None


def _asks(spec: Adds, param: Param) -> Decorator:
    """The click argument or option that asks for ``param``."""
    if param.argument:
        return click.argument(param.field, type=param.type)
    target = REFERENCES[spec.kind.kind].get(param.field)
    if target is not None:
        return record_option(
            param.option,
            param.field,
            kind=target[0],
            what=param.help or "",
            multiple=param.multiple,
        )
    how: dict[str, Any] = {  # click's own defaults where the entry says nothing
        name: value
        for name, value in (
            ("type", param.type),
            ("metavar", param.metavar),
            ("multiple", param.multiple),
            ("is_flag", param.is_flag),
            ("show_default", param.show_default),
            ("help", repeated(param.help) if param.multiple and param.help else param.help),
        )
        if value
    }
    if param.show_default:
        how["default"] = default_of(spec.kind, param.field)
    elif "/" in param.option:  # neither --on nor --off: the model decides (from the role)
        how["default"] = None
    if attrs.fields_dict(spec.kind)[param.field].default is attrs.NOTHING:
        how["required"] = True
    return click.option(param.option, param.field, **how)


def _fields(
    spec: Adds, params: tuple[Param, ...], given: dict[str, Any], state: Context
) -> dict[str, Any]:
    """The record's fields from what was given, with the records it names by their ids.

    What was not given is left to the model's default; an empty option that names a
    record names none.
    """
    fields = dict(given)
    if spec.one_of and sum(fields[name] is not None for name in spec.one_of) != 1:
        options = [param.option for param in params if param.field in spec.one_of]
        raise ValidationError(f"give exactly one of {' or '.join(options)}")
    references = REFERENCES[spec.kind.kind]
    for param in params:
        value = fields[param.field]
        if param.field not in references or value is None:
            continue
        kind = KINDS[references[param.field][0]]
        if param.multiple:
            fields[param.field] = [record_id(state.store(), item, kind) for item in value]
        else:
            named = value or param.argument
            fields[param.field] = record_id(state.store(), value, kind) if named else None
    return {name: value for name, value in fields.items() if value is not None}


def _command(spec: Adds) -> click.Command:
    """The `add` command ``spec`` describes."""
    params = tuple(_as_modelled(spec, param) for param in spec.params)

    @pass_context
    @handle_errors
    def run(state: Context, /, **given: Any) -> None:
        if REFERENCES[spec.kind.kind]:
            state.store()  # open first: the records a kind names are looked up in it
        fields = _fields(spec, params, given, state)
        if spec.write is not None:
            state.wrote(spec.write(state.store(), fields))
            return
        record = spec.kind(**fields)
        state.wrote(state.store().save(record))

    command: Callable[..., Any] = _named(run) if spec.named else store_options(json_option(run))
    for param in reversed(params):
        command = _asks(spec, param)(command)
    return add.command(spec.kind.kind, help=spec.help)(command)


for _spec in ADD:
    _command(_spec)
del _spec
