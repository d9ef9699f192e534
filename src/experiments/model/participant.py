"""Who was let into the engine room, and how each took part in an experiment."""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from typing import Any, ClassVar, Final, Protocol

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import Unfit, named_errors
from experiments.model._ranked import ranks
from experiments.model._record import Record
from experiments.model._time import duration_key, parse_duration
from experiments.model._validate import (
    to_enum,
    to_enums,
    to_flag,
    to_optional_name,
    to_ref,
)
from experiments.model.consent import Consent, to_optional_consent

__all__ = [
    "PERSONAL_FIELDS",
    "Involvement",
    "Participant",
    "Participation",
    "Role",
    "Stance",
    "departments_of",
    "is_external_role",
    "role_words",
    "to_involvement",
    "to_role",
    "to_roles",
    "to_stance",
    "to_stances",
]

#: What ``repr`` and ``str`` show instead of a pseudonymous participant's personal field.
MASK: Final = "<pseudonymous>"


class Role(enum.StrEnum):
    """What a participant is to the organisation."""

    CUSTOMER = "customer"
    CITIZEN = "citizen"
    USER = "user"
    EMPLOYEE = "employee"
    FRONTLINE_EMPLOYEE = "frontline-employee"
    MANAGER = "manager"
    PARTNER = "partner"
    EXPERT = "expert"
    POLITICIAN = "politician"
    ASSOCIATION = "association"
    RESEARCHER = "researcher"
    STUDENT = "student"
    OTHER = "other"


# Roles that belong to the organisation unless said otherwise.  Politicians count as
# internal: in a municipality they are part of the body that decides.
INTERNAL_ROLES: Final = frozenset(
    {Role.EMPLOYEE, Role.FRONTLINE_EMPLOYEE, Role.MANAGER, Role.POLITICIAN}
)


class Stance(enum.StrEnum):
    """How a participant stood towards the idea: the critical voices matter most."""

    SUPPORTIVE = "supportive"
    NEUTRAL = "neutral"
    CRITICAL = "critical"


class Involvement(enum.StrEnum):
    """How deeply a participant was involved: informed < consulted < co-creating."""

    INFORMED = "informed"
    CONSULTED = "consulted"
    CO_CREATING = "co-creating"

    @property
    def depth(self) -> int:
        """0 for informed, 1 for consulted, 2 for co-creating."""
        return _DEPTH[self]


#: A participant's fields that can tell who they are.  They are never shown for a
#: pseudonymous participant (``repr``, errors, logs, command output and its JSON, reports,
#: the SQL views and DataFrames give null), a query may not filter, order or group on
#: them where a pseudonymous participant could match, ``experiments export --redact``
#: leaves them out, and erasure removes them.
PERSONAL_FIELDS: Final = ("name", "slug")

_PARTICIPANT_ID: Final = re.compile(r"par_[0-9a-f]{32}")

_DEPTH: Final = ranks(Involvement)


def to_role(value: Role | str) -> Role:
    """A role from itself or its word: the converter of every field holding one."""
    return to_enum(Role, value)


def to_roles(value: Iterable[Role | str]) -> tuple[Role, ...]:
    """Distinct roles, in the order given: the converter of every field listing them."""
    return to_enums(Role, value)


def to_stance(value: Stance | str) -> Stance:
    """A stance from itself or its word."""
    return to_enum(Stance, value)


def to_stances(value: Iterable[Stance | str]) -> tuple[Stance, ...]:
    """Distinct stances, in the order given."""
    return to_enums(Stance, value)


def to_involvement(value: Involvement | str) -> Involvement:
    """An involvement from itself or its word."""
    return to_enum(Involvement, value)


def _to_optional_duration(value: pendulum.Duration | str | None) -> pendulum.Duration | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise Unfit.of(exc) from None


def is_external_role(role: Role) -> bool:
    """Whether people of ``role`` come from outside the organisation unless said otherwise.

    Someone of role ``other`` is neither: whether they are external must be said.
    """
    return role is not Role.OTHER and role not in INTERNAL_ROLES


def _external_by_role(self: Participant) -> bool:
    if self.role is Role.OTHER:
        unfit = Unfit("must be given (True or False) for role 'other'")
        raise unfit.error(f"{type(self).__name__}.external", None)
    return is_external_role(self.role)


@attrs.frozen(kw_only=True, field_transformer=named_errors, repr=False)
class Participant(Record):
    """A person or group that takes part: a citizen, a frontline employee, an association.

    ``name`` is optional and the library works fully without it; a ``pseudonymous``
    participant is counted everywhere but never shown by name.  ``consent`` is what they
    agreed to (see :class:`~experiments.Consent`); ``retention`` how long their personal
    data may be kept after they were recorded (an ISO 8601 duration such as ``P2Y``),
    after which ``experiments erase --due`` erases them.

    Its id is generated, and never chosen by hand: other records (learnings,
    measurements, sprints) keep participant ids in their history, and a purge cannot
    take a person's name back out of an id like ``par_anna_hansen``.  One created with a
    slug gets, when first saved, the id the store derives from the slug with a key of
    its own, so that nobody outside the store can compute it from a guessed name.
    """

    kind: ClassVar[str] = "participant"
    id_prefix: ClassVar[str] = "par"
    personal_fields: ClassVar[tuple[str, ...]] = PERSONAL_FIELDS

    role: Role = attrs.field(converter=to_role)
    external: bool = attrs.field(
        default=attrs.Factory(_external_by_role, takes_self=True),
        converter=to_flag,
    )
    department: str | None = attrs.field(default=None, converter=to_optional_name)
    name: str | None = attrs.field(default=None, converter=to_optional_name)
    pseudonymous: bool = attrs.field(default=False, converter=to_flag)
    consent: Consent | None = attrs.field(default=None, converter=to_optional_consent)
    retention: pendulum.Duration | None = attrs.field(
        default=None, converter=_to_optional_duration, eq=duration_key
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if not _PARTICIPANT_ID.fullmatch(self.id):
            raise ValidationError(
                f"Participant.id {self.id!r} was chosen by hand; a participant's id is "
                "generated, or derived from its slug by the store (give slug= instead), "
                "so that the records that mention them never hold a name"
            )

    def natural_key(self) -> str | None:
        """None: the id a slug gives is the store's to derive, with its key."""
        return None

    @classmethod
    def id_for_slug(cls, slug: str) -> str:
        """Refused: a participant's id by slug is known only to a store (its key)."""
        raise ValidationError(
            f"a participant's id cannot be computed from a slug ({slug!r}) outside a "
            "store; look them up with store.resolve(slug, Participant) or "
            "store.get_by_slug(Participant, slug)"
        )

    def __repr__(self) -> str:
        """The fields as attrs shows them, personal ones masked if pseudonymous.

        A repr reaches tracebacks, log records and debuggers: it must not carry the name
        that is to stay hidden.
        """
        shown = []
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            masked = self.hides(field.name) and value is not None
            shown.append(f"{field.name}={MASK if masked else repr(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__

    def hides(self, field: str) -> bool:
        """Whether ``field`` is never shown: a personal field of a pseudonymous participant.

        The one rule every output follows: ``repr``, command output, the SQL views (its
        SQL form) and DataFrames give the field as null or masked.
        """
        return self.pseudonymous and field in PERSONAL_FIELDS

    def redacted(self) -> Participant:
        """This version with its personal fields (``personal_fields``) left out.

        What an export for sharing holds (``experiments export --redact``): counted,
        with role, department and stances, but not named.
        """
        unnamed: dict[str, Any] = dict.fromkeys(PERSONAL_FIELDS)
        return attrs.evolve(self, **unnamed)

    @property
    def display_name(self) -> str:
        """The name to show, which is the real one only if given and not pseudonymous.

        Otherwise the role and six characters that tell participants apart: the end of
        the id, or for a pseudonymous participant a digest of it, since an id chosen by
        hand (``par_anna``) may hold the very name that is to stay hidden.
        """
        if self.name and not self.pseudonymous:
            return self.name
        if self.pseudonymous:
            return self.anonymous_name
        return f"{self.role.value} {self.id[-6:]}"

    @property
    def anonymous_name(self) -> str:
        """The role and six characters of a digest of the id, which stand for the name."""
        return f"{self.role.value} {hashlib.sha256(self.id.encode()).hexdigest()[:6]}"

    @property
    def frontline(self) -> bool:
        return self.role is Role.FRONTLINE_EMPLOYEE


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Participation(Record):
    """One participant's taking part in one experiment, with their stance and depth.

    Its id derives from the experiment and the participant, so recording the same
    person twice in one experiment updates one object instead of counting them twice.
    """

    kind: ClassVar[str] = "participation"
    id_prefix: ClassVar[str] = "ppn"

    experiment: str = attrs.field(converter=to_ref)
    participant: str = attrs.field(converter=to_ref)
    stance: Stance = attrs.field(default=Stance.NEUTRAL, converter=to_stance)
    involvement: Involvement = attrs.field(default=Involvement.CONSULTED, converter=to_involvement)

    def natural_key(self) -> str | None:
        if self.slug is not None:
            return self.slug
        return self.pair_key(self.experiment, self.participant)

    @staticmethod
    def pair_key(experiment: str, participant: str) -> str:
        """The natural key of a participation without a slug: who, in which experiment."""
        return f"{experiment}/{participant}"


class _Placed(Protocol):
    """Anyone with a place in the organisation, or outside it."""

    @property
    def external(self) -> bool: ...
    @property
    def department(self) -> str | None: ...


def departments_of(people: Iterable[_Placed]) -> set[str]:
    """The departments or units of the organisation that ``people`` come from.

    Only internal participants count: a team "across silos" crosses the organisation's
    own departments, whatever the people from outside call theirs.
    """
    return {p.department for p in people if not p.external and p.department}


def role_words(role: Role) -> str:
    """A role as a phrase with its article: ``"a citizen"``, ``"an expert"``."""
    if role is Role.OTHER:
        return "someone in another role"
    words = role.value.replace("-", " ")
    return f"{'an' if words[0] in 'aeio' else 'a'} {words}"
