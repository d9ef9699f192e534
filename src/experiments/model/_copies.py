"""New versions of records that build again only what changed.

A record is validated field by field when it is made.  The next version of it (a move
through its lifecycle, an edit, the revision a store stamps) shares most of its fields
with the version before: those are taken over as they are, already valid, and only
the fields given anew go through their converters.  The class's checks across fields
(``__attrs_post_init__``) run on every version, as on a record made afresh, so a
version made here is the one ``attrs.evolve`` would make, and is refused where that
would be.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

if TYPE_CHECKING:
    from experiments.model._record import Record

__all__ = ["copy", "revise"]

R = TypeVar("R", bound="Record")

#: Fields a copy may be given anew without validation: what a store gives a version.
STORE_GIVEN: Final = ("revision", "updated_at", "changed_by", "deleted_at")
_KEEP: Final = object()


class _Plan:
    """How one class's records are copied and revised; made once per class."""

    __slots__ = ("converters", "copy", "names", "position", "setters", "validators")

    def __init__(self, cls: type[Record]) -> None:
        fields = attrs.fields(cls)
        self.names = frozenset(field.name for field in fields)
        self.position = {field.name: index for index, field in enumerate(fields)}
        self.converters: dict[str, Callable[[Any], Any] | None] = {
            field.name: field.converter for field in fields
        }
        # Fields with attrs validators (a subclass's; ours check in converters): each
        # runs on every version, as __init__ runs them, for one may read other fields.
        self.validators = tuple(
            (field, field.validator) for field in fields if field.validator is not None
        )
        self.setters = {field.name: _setter(cls, field.name) for field in fields}
        self.copy = _copier(cls, self.setters)


def _setter(cls: type[Record], name: str) -> Callable[[Any, Any], None]:
    """What sets the field ``name`` of a frozen ``cls`` record being made.

    The slot's own descriptor where the field is a slot (every attrs class here is
    slotted): setting through it takes half the time of ``object.__setattr__``, which
    looks the descriptor up each time.
    """
    for owner in cls.__mro__:
        slot = owner.__dict__.get(name)
        if isinstance(slot, types.MemberDescriptorType):
            setter: Callable[[Any, Any], None] = slot.__set__
            return setter
        if slot is not None:
            break

    def set_attribute(record: Any, value: Any) -> None:
        object.__setattr__(record, name, value)

    return set_attribute


def _copier(
    cls: type[Record], setters: Mapping[str, Callable[[Any, Any], None]]
) -> Callable[..., Any]:
    """A function copying a ``cls`` record, with new values for any of :data:`STORE_GIVEN`.

    Written out field by field, as attrs writes ``__init__``: it runs for every version
    a store writes, and a loop over the fields took twice as long.
    """
    names = [field.name for field in attrs.fields(cls)]

    def value(name: str) -> str:
        if name in STORE_GIVEN:
            return f"record.{name} if {name} is keep else {name}"
        return f"record.{name}"

    parameters = ", ".join(f"{name}=keep" for name in STORE_GIVEN)
    lines = [
        f"def copy(record, *, {parameters}):",
        "    copied = new(cls)",
        *(f"    set_{index}(copied, {value(name)})" for index, name in enumerate(names)),
        "    return copied",
    ]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls, "keep": _KEEP}
    namespace.update((f"set_{index}", setters[name]) for index, name in enumerate(names))
    exec("\n".join(lines), namespace)  # noqa: S102 - the text is built from field names only
    made: Callable[..., Any] = namespace["copy"]
    return made


_PLANS: dict[type[Any], _Plan] = {}


def plan_of(cls: type[Record]) -> _Plan:
    """The copying plan of ``cls``, made on first use."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def copy(record: R, **given: Any) -> R:
    """``record`` with new values for some of :data:`STORE_GIVEN`, not validated again.

    For a store, whose revision, time and author are valid by construction.
    """
    plan = _PLANS.get(type(record)) or plan_of(type(record))
    copied: R = plan.copy(record, **given)
    return copied


def revise(record: R, changes: Mapping[str, Any]) -> R:
    """``record`` with ``changes`` (field names, all known) validated, and its checks run.

    The converters of the changed fields run in the order of the fields, as in
    ``__init__``, so the first bad value is the one named; then, as there, any field
    validators and the checks across fields.
    """
    plan = _PLANS.get(type(record)) or plan_of(type(record))
    revised: R = plan.copy(record)
    names = sorted(changes, key=plan.position.__getitem__) if len(changes) > 1 else changes
    converters, setters = plan.converters, plan.setters
    for name in names:
        convert = converters[name]
        value = changes[name]
        setters[name](revised, value if convert is None else convert(value))
    if plan.validators and not attrs.validators.get_disabled():
        for field, validate in plan.validators:
            validate(revised, field, getattr(revised, field.name))
    revised.__attrs_post_init__()
    return revised
