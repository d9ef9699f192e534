"""What every stored object has: an id, a revision, times, who changed it, tags, metadata."""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._copies import plan_of, revise
from experiments.model._fields import Unfit, named_errors
from experiments.model._time import format_duration, now
from experiments.model._validate import (
    metadata_key,
    thaw,
    to_metadata,
    to_optional_name,
    to_optional_utc_datetime,
    to_own_id,
    to_revision,
    to_slug,
    to_tags,
    to_utc_datetime,
)

__all__ = ["Record", "deleted_in", "id_for", "new_id"]


def deleted_in(data: Mapping[str, Any]) -> bool:
    """Whether a record's data is of a deleted record (its ``deleted_at`` is set).

    :attr:`Record.deleted` is the same rule asked of a record; the stores ask this of
    data they read, and write ``Record.deleted`` as their ``deleted`` column.
    """
    return data.get("deleted_at") is not None


def new_id(prefix: str) -> str:
    """A fresh id: the prefix, then 32 hex digits of creation time (ms) and 80 random bits.

    Such ids sort by creation time, so the primary-key order of a store is roughly the
    order in which things were recorded.
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def id_for(kind: str, prefix: str, key: str) -> str:
    """The deterministic id of the object of ``kind`` whose natural key (slug) is ``key``.

    Two processes that create "the same" object by slug compute the same id, so a store's
    create-if-absent makes them one object.
    """
    return f"{prefix}_{hashlib.sha256(f'{kind}:{key}'.encode()).hexdigest()[:32]}"


#: :func:`id_for` of the keys met lately: every version of a record made from its slug
#: checks that its id belongs to it, and a script's next call names the same ones.
_recent_id_for = functools.lru_cache(maxsize=256)(id_for)


R = TypeVar("R", bound="Record")


def _remade(cls: type[R], values: Mapping[str, Any]) -> R:
    """A pickled record made again from its fields (see :meth:`Record.__reduce__`)."""
    return cls(**values)


def _same_as_created(self: Record) -> pendulum.DateTime:
    return self.created_at


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Record:
    """Base of every object the library stores.

    ``revision`` is 0 for an object that was never saved; a store sets it to 1 on the
    first save and increments it on every save after that.  ``updated_at`` and
    ``changed_by`` describe the revision; ``deleted_at`` is set while the object is soft
    deleted.
    """

    kind: ClassVar[str] = "record"
    id_prefix: ClassVar[str] = "rec"

    slug: str | None = attrs.field(default=None, converter=to_slug)
    id: str = attrs.field(default="", converter=to_own_id)
    revision: int = attrs.field(default=0, converter=to_revision)
    created_at: pendulum.DateTime = attrs.field(factory=now, converter=to_utc_datetime)
    updated_at: pendulum.DateTime = attrs.field(
        default=attrs.Factory(_same_as_created, takes_self=True),
        converter=to_utc_datetime,
    )
    changed_by: str | None = attrs.field(default=None, converter=to_optional_name)
    deleted_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_utc_datetime
    )
    tags: frozenset[str] = attrs.field(factory=frozenset, converter=to_tags)
    metadata: Mapping[str, Any] = attrs.field(
        factory=dict, converter=to_metadata, eq=metadata_key, hash=False
    )

    def natural_key(self) -> str | None:
        """What determines this object's id when none is given; the slug by default."""
        return self.slug

    def __attrs_post_init__(self) -> None:
        key = self.natural_key()
        derived = None if key is None else self.id_for_key(key)
        if not self.id:
            object.__setattr__(self, "id", derived or new_id(self.id_prefix))
        elif derived is not None and self.id != derived:
            raise ValidationError(
                f"{type(self).__name__}.id {self.id!r} does not belong to slug {key!r} "
                f"(its id is {derived!r}); give the slug or the id, not both"
            )
        if self.updated_at < self.created_at:
            raise ValidationError(
                f"{type(self).__name__}.updated_at ({self.updated_at}) is before created_at "
                f"({self.created_at})"
            )

    @classmethod
    def id_for_key(cls, key: str) -> str:
        """The id an object of this kind with the natural key ``key`` has, in every process."""
        return _recent_id_for(cls.kind, cls.id_prefix, key)

    @classmethod
    def id_for_slug(cls, slug: str) -> str:
        """The id an object of this kind with ``slug`` has, in every process."""
        return cls.id_for_key(cls.checked_slug(slug))

    @classmethod
    def checked_slug(cls, slug: str) -> str:
        """``slug`` as the field holds it, or a ValidationError saying what is wrong."""
        try:
            checked = to_slug(slug)
        except Unfit as unfit:
            raise ValidationError(f"{cls.__name__}.slug {unfit.described}; got {slug!r}") from None
        if checked is None:
            raise ValidationError(f"{cls.__name__}.slug is required; got {slug!r}")
        return checked

    @property
    def deleted(self) -> bool:
        """Whether this version is a soft delete (its ``deleted_at`` is set)."""
        return self.deleted_at is not None

    def evolve(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated, as ``attrs.evolve`` makes it.

        The fields not changed are taken over as they are, valid already; only the
        changed ones are converted, and the class's checks across fields run again.
        """
        plan = plan_of(type(self))
        if not plan.names.issuperset(changes):
            unknown = sorted(set(changes) - plan.names)
            raise ValidationError(
                f"{type(self).__name__} has no field {', '.join(map(repr, unknown))}; "
                f"its fields: {', '.join(plan.position)}"
            )
        return revise(self, changes)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (and deep-copied) as its fields, to be given to its class again.

        Its metadata (and a term's definitions, a response's answers) is held in
        read-only mappings, which cannot be pickled: they go as plain dicts and lists
        and come back checked and read-only, as when the record was made.  A duration
        goes as its text: pendulum pickles a month as 30 days.
        """
        values = {}
        for name in plan_of(type(self)).position:
            value = getattr(self, name)
            if isinstance(value, MappingProxyType):
                value = thaw(value)
            elif isinstance(value, pendulum.Duration):
                value = format_duration(value)
            values[name] = value
        return (_remade, (type(self), values))

    def label(self) -> str:
        """A short human-readable name for messages."""
        title = getattr(self, "title", None)
        return f"{self.kind} {title!r} ({self.id})" if title else f"{self.kind} {self.id}"
