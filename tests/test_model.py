"""The value objects: what every record has, each kind's rules, the experiment lifecycle."""

from __future__ import annotations

import copy
import datetime as dt
import enum
import inspect
import math
import os
import pickle
import re
import subprocess
import sys
import types
import typing
import zoneinfo
from typing import Any, Final

import attrs
import pendulum
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import experiments
from experiments import (
    Criterion,
    Decision,
    Excuse,
    Experiment,
    ExperimentStatus,
    Hypothesis,
    HypothesisStatus,
    Interpretation,
    Item,
    KeyResult,
    Learning,
    Measurement,
    NextStep,
    Note,
    Objective,
    Outcome,
    Participant,
    Participation,
    Plugins,
    Prototype,
    Record,
    Role,
    Scope,
    Sprint,
    TimeBox,
    TransitionError,
    ValidationError,
    Verdict,
    connect,
)
from experiments.errors import InvalidTypeError
from experiments.model import KINDS, _values, kind_of
from experiments.model._hints import field_hints
from experiments.model._validate import METADATA_DEPTH
from experiments.model.participant import INTERNAL_ROLES
from experiments.serialization import from_data, from_json, to_data, to_json
from experiments.testing.strategies import names, record_of, records, titles
from invalid import MINIMAL, spoiled_arguments

ALL_KINDS = list(KINDS.values())
#: Kinds whose id derives from what they link: one per experiment and participant, per
#: questionnaire and code, per term, department and language.
DERIVED = (Participation, Item, Interpretation)
kinds = pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.kind)


class _Level(enum.IntEnum):
    HIGH = 3


def make(kind: type[Record], **changes: Any) -> Any:
    """A valid record of ``kind`` from its fewest arguments, with ``changes``."""
    return kind(**{**MINIMAL[kind], **changes})


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def _printed_by_fresh_python(code: str) -> list[str]:
    """The words a new interpreter prints running ``code``: what it imports, unimported."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


class TestPublicNames:
    def test_the_domain_classes_import_from_the_package(self):
        """In a fresh process the vocabulary imports from ``experiments``, and nothing heavy."""
        code = (
            "import sys\n"
            "from experiments import (Objective, KeyResult, Experiment, Decision, Hypothesis,\n"
            "    Prototype, Participant, Sprint, Learning, Measurement)\n"
            "heavy = {'hypothesis', 'click', 'jinja2', 'psycopg', 'sqlite3'} & set(sys.modules)\n"
            "print(Objective.kind, Measurement.kind, sorted(heavy))\n"
        )
        assert _printed_by_fresh_python(code) == ["objective", "measurement", "[]"]

    def test_every_name_in_all_resolves(self):
        """Every name in ``experiments.__all__`` can be got, the lazily loaded ones too."""
        for name in experiments.__all__:
            assert getattr(experiments, name) is not None, name

    def test_all_is_sorted(self):
        """The package's own names, then the model's, each in order: one place for a new one."""
        own = [name for name in experiments.__all__ if name not in _values.__all__]
        assert own == sorted(own)
        assert _values.__all__ == sorted(_values.__all__)
        assert experiments.__all__ == own + _values.__all__

    def test_the_stores_package_offers_every_change_and_report(self):
        """``experiments.stores`` offers every name of ``experiments.stores.changes``, each
        the same object, though it imports them only when first asked for."""
        from experiments import stores  # noqa: PLC0415 - what is tested
        from experiments.stores import changes  # noqa: PLC0415

        assert set(changes.__all__) <= set(stores.__all__)
        for name in stores.__all__:
            assert getattr(stores, name) is not None, name
        for name in changes.__all__:
            assert getattr(stores, name) is getattr(changes, name), name
        with pytest.raises(AttributeError, match="no attribute 'Nonsense'"):
            stores.Nonsense  # noqa: B018 - the attribute access is what is tested

    def test_the_stores_package_offers_its_writing_modules_unimported(self):
        """``experiments.stores.changes`` and ``.batch`` are attributes of the package even
        in a process that has not imported them yet, as they were before they came lazily."""
        code = (
            "import sys, experiments.stores as s\n"
            "writing = {'experiments.stores.changes', 'experiments.stores.batch'}\n"
            "before = writing & set(sys.modules)\n"
            "print(sorted(before), s.changes.Put.__name__, s.batch.Batch.__name__)\n"
        )
        assert _printed_by_fresh_python(code) == ["[]", "Put", "Batch"]

    def test_an_unknown_name_is_an_attribute_error(self):
        """Asking the package for a name it does not have is an AttributeError."""
        with pytest.raises(AttributeError, match="no attribute 'Nonsense'"):
            experiments.Nonsense  # noqa: B018 - the attribute access is what is tested

    def test_every_record_class_is_a_known_kind_and_exported(self):
        """Every Record subclass is in KINDS under its own kind name and is exported."""
        assert _all_subclasses(Record) == set(ALL_KINDS)
        for name, cls in KINDS.items():
            assert cls.kind == name
            assert getattr(experiments, cls.__name__) is cls

    def test_kind_prefixes_are_distinct(self):
        """No two kinds share an id prefix, so an id tells its kind."""
        prefixes = [cls.id_prefix for cls in ALL_KINDS]
        assert len(set(prefixes)) == len(prefixes)

    def test_kind_of_finds_a_class_by_name(self):
        """kind_of() returns the class for a kind name."""
        assert kind_of("key-result") is KeyResult

    @pytest.mark.parametrize("name", ["Experiment", "", None, ["experiment"]])
    def test_kind_of_refuses_unknown_names(self, name):
        """kind_of() refuses an unknown name and lists the known ones."""
        with pytest.raises(ValidationError, match="known kinds: objective, key-result"):
            kind_of(name)


class TestFieldHints:
    """The types of a record class's fields, evaluated once per class."""

    @pytest.mark.parametrize("cls", [Record, *KINDS.values()], ids=lambda c: c.__name__)
    def test_as_typing_gives_them(self, cls: type[Record]) -> None:
        """Every field's type is the one typing.get_type_hints gives."""
        every = typing.get_type_hints(cls)
        assert field_hints(cls) == {f.name: every[f.name] for f in attrs.fields(cls)}


class TestRecord:
    """What every kind has: id, revision, times, changed_by, tags and metadata."""

    @kinds
    def test_an_id_is_generated_with_the_kind_prefix(self, kind):
        """Without an id or a natural key, each new record gets a fresh id of its kind."""
        first, second = make(kind), make(kind)
        assert first.id.startswith(f"{kind.id_prefix}_")
        if kind not in DERIVED:  # their ids derive from what they link
            assert first.id != second.id

    def test_generated_ids_sort_by_creation_time(self, monkeypatch):
        """Generated ids begin with the creation time in ms, so they sort by it."""
        ids = []
        for ms in (999, 1_000, 2**40):
            monkeypatch.setattr("time.time_ns", lambda ms=ms: ms * 1_000_000)
            ids.append(Objective(title="x").id)
        assert ids == sorted(ids)
        assert ids[0].startswith("obj_0000000003e7")

    @pytest.mark.parametrize(
        "kind",
        [k for k in ALL_KINDS if k not in (*DERIVED, Participant)],
        ids=lambda k: k.kind,
    )
    def test_a_given_id_is_kept(self, kind):
        """A valid id given is the record's id.

        The ids of participations, items and interpretations derive from their links; a
        participant's is never chosen.
        """
        assert make(kind, id="my-own.id_1").id == "my-own.id_1"

    @pytest.mark.parametrize(
        "bad", ["has space", "-starts-with-hyphen", "x" * 129, "æøå", "a/b", "_x"]
    )
    def test_a_malformed_id_is_refused(self, bad):
        """An id must be 1-128 letters, digits, '_', '.' or '-' starting with a letter or digit."""
        with pytest.raises(ValidationError, match=r"Objective\.id must be an id of 1-128"):
            Objective(title="x", id=bad)

    @pytest.mark.parametrize("bad", [5, None, b"obj_1", ["obj_1"]])
    def test_an_id_of_the_wrong_type_is_a_type_error(self, bad):
        """An id that is not text is an InvalidTypeError, also a TypeError."""
        with pytest.raises(InvalidTypeError, match=r"Objective\.id"):
            Objective(title="x", id=bad)

    @pytest.mark.parametrize(
        "kind", [k for k in ALL_KINDS if k is not Participant], ids=lambda k: k.kind
    )
    def test_a_slug_gives_a_deterministic_id(self, kind):
        """The same slug gives the same id every time, and id_for_slug() predicts it.

        A participant's is the store's to give, with its key (tests/test_keys.py).
        """
        first = make(kind, slug="art-for-families")
        assert first.id == make(kind, slug="art-for-families").id
        assert first.id == kind.id_for_slug("art-for-families")
        assert first.id != make(kind, slug="art-for-families-2").id

    def test_a_slug_gives_the_same_id_in_another_process(self):
        """A slug's id does not depend on the process (hash seed, time, randomness)."""
        code = (
            "from experiments import Objective; "
            "print(Objective(title='t', slug='welfare-in-100-days').id)"
        )
        env = {**os.environ, "PYTHONHASHSEED": "12345"}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        assert result.stdout.strip() == Objective.id_for_slug("welfare-in-100-days")

    def test_the_same_slug_in_two_kinds_gives_different_ids(self):
        """An objective and an experiment with one slug are different objects."""
        assert Objective.id_for_slug("pilot") != Experiment.id_for_slug("pilot")

    def test_an_id_that_does_not_belong_to_the_slug_is_refused(self):
        """Giving a slug and another id is refused, with the id the slug would give."""
        expected = Objective.id_for_slug("pilot")
        with pytest.raises(ValidationError, match=f"does not belong to slug 'pilot'.*{expected}"):
            Objective(title="x", slug="pilot", id="obj_other")
        assert Objective(title="x", slug="pilot", id=expected).id == expected

    @pytest.mark.parametrize("bad", ["Pilot", "two  words", "a--b", "-a", "a-", "", "x" * 101])
    def test_a_malformed_slug_is_refused_with_a_suggestion(self, bad):
        """A slug must be lowercase letters, digits and single hyphens."""
        with pytest.raises(ValidationError, match=r"Objective\.slug must be a slug"):
            Objective(title="x", slug=bad)
        with pytest.raises(ValidationError, match=r"Objective\.slug"):
            Objective.id_for_slug(bad)

    def test_revision_starts_at_zero_and_must_not_be_negative(self):
        """A new record is at revision 0; a negative or non-integer revision is refused."""
        assert Objective(title="x").revision == 0
        assert Objective(title="x", revision=3).revision == 3
        with pytest.raises(ValidationError, match=r"revision must be 0 \(never saved\) or more"):
            Objective(title="x", revision=-1)
        for bad in (True, 1.0, "1"):
            with pytest.raises(InvalidTypeError, match="must be a whole number"):
                Objective(title="x", revision=bad)

    @kinds
    def test_times_are_pendulum_datetimes_in_utc(self, kind):
        """created_at and updated_at are pendulum DateTimes in UTC, updated_at = created_at."""
        record = make(kind)
        for value in (record.created_at, record.updated_at):
            assert type(value) is pendulum.DateTime
            assert value.tzinfo is pendulum.UTC
        assert record.updated_at == record.created_at

    @pytest.mark.parametrize(
        "given",
        [
            "2026-03-01T10:00:00+01:00",
            "2026-03-01T09:00:00Z",
            "2026-03-01T10:00:00+01:00[Europe/Copenhagen]",
            dt.datetime(2026, 3, 1, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo")),
            pendulum.datetime(2026, 3, 1, 17, tz="Asia/Shanghai"),
        ],
    )
    def test_record_times_given_in_any_zone_are_kept_in_utc(self, given):
        """Times given with an offset or zone are converted to the same instant in UTC."""
        record = Objective(title="x", created_at=given, deleted_at=given)
        expected = pendulum.datetime(2026, 3, 1, 9)
        assert record.created_at == expected
        assert record.created_at.tzinfo is pendulum.UTC
        assert record.deleted_at == expected
        assert record.deleted_at.tzinfo is pendulum.UTC

    def test_updated_before_created_is_refused(self):
        """A record cannot be updated before it was created."""
        with pytest.raises(ValidationError, match=r"updated_at .* is before created_at"):
            Objective(title="x", created_at="2026-03-02", updated_at="2026-03-01")

    def test_a_record_is_deleted_while_deleted_at_is_set(self):
        """``deleted`` says whether deleted_at is set."""
        assert not Objective(title="x").deleted
        assert Objective(title="x", deleted_at="2026-03-01").deleted

    def test_changed_by_is_optional_stripped_text(self):
        """changed_by is stripped; blank means nobody; non-text is a type error."""
        assert Objective(title="x", changed_by="  Anna ").changed_by == "Anna"
        assert Objective(title="x", changed_by="  ").changed_by is None
        with pytest.raises(InvalidTypeError, match=r"Objective\.changed_by must be text"):
            Objective(title="x", changed_by=7)

    def test_tags_are_a_frozenset_of_words(self):
        """Tags are kept as a frozenset; a tag with a space or comma is refused."""
        assert Objective(title="x", tags=["pilot", "welfare", "pilot"]).tags == frozenset(
            {"pilot", "welfare"}
        )
        with pytest.raises(ValidationError, match="a tag is 1-64 characters without spaces"):
            Objective(title="x", tags=["two words"])
        with pytest.raises(InvalidTypeError, match="must be a list of tags"):
            Objective(title="x", tags="pilot")

    def test_metadata_is_a_read_only_deep_copy(self):
        """Neither the record's metadata nor anything inside it can be changed."""
        given = {"source": "survey", "counts": [1, 2], "nested": {"a": 1}}
        record = Objective(title="x", metadata=given)
        given["source"] = "changed"
        given["counts"].append(3)  # type: ignore[attr-defined]
        assert record.metadata["source"] == "survey"
        assert record.metadata["counts"] == (1, 2)
        with pytest.raises(TypeError):
            record.metadata["source"] = "changed"  # type: ignore[index]
        with pytest.raises(TypeError):
            record.metadata["nested"]["a"] = 2
        with pytest.raises(AttributeError):
            record.metadata["counts"].append(3)

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ({"a": object()}, "metadata.a is a object"),
            ({"a": {"b": {1, 2}}}, "metadata.a.b is a set"),
            ({"a": [1, float("nan")]}, r"metadata.a\[1\] is nan"),
            ({"a": float("inf")}, "metadata.a is inf"),
            ({1: "x"}, "has the key 1; JSON keys must be text"),
            ({"when": dt.date(2026, 3, 1)}, "metadata.when is a date"),
        ],
    )
    def test_metadata_must_be_json_compatible(self, value, reason):
        """Metadata holds only what JSON can hold, and the error says where it does not."""
        with pytest.raises(ValidationError, match=reason):
            Objective(title="x", metadata=value)

    def test_metadata_tells_true_from_one(self):
        """Metadata equality tells 1 from True and 1 from 1.0, as JSON does."""
        assert Objective(title="x", id="o", metadata={"a": 1}) != Objective(
            title="x", id="o", metadata={"a": True}
        )
        assert Objective(title="x", id="o", metadata={"a": 1}) != Objective(
            title="x", id="o", metadata={"a": 1.0}
        )

    def test_metadata_keeps_plain_values_of_enums(self):
        """A StrEnum or IntEnum in metadata is kept as its plain value, as JSON gives it back."""
        record = Objective(title="x", metadata={"role": Role.CITIZEN, "level": {"n": _Level.HIGH}})
        assert type(record.metadata["role"]) is str
        assert type(record.metadata["level"]["n"]) is int
        assert from_json(to_json(record)) == record

    def test_self_referring_metadata_is_refused(self):
        """Metadata that contains itself is refused, not a RecursionError."""
        loop: dict[str, Any] = {}
        loop["self"] = loop
        with pytest.raises(ValidationError, match="nested too deeply"):
            Objective(title="x", metadata=loop)

    @pytest.mark.parametrize("url", ["memory://", "sqlite"])
    def test_metadata_as_deep_as_allowed_is_saved_and_read(self, url, tmp_path):
        """Metadata nested as deep as allowed, lists and mappings, is saved and read back."""
        record = Objective(title="x", metadata=_nested(METADATA_DEPTH))
        if url == "sqlite":
            url = f"sqlite:///{tmp_path / 's.db'}"
        with connect(url, plugins=Plugins(autoload=False), create=True) as store:
            saved = store.save(record)
            assert store.get(record.id) == saved
        assert from_json(to_json(record)) == record

    def test_metadata_deeper_than_allowed_is_refused(self):
        """One level deeper is refused with a ValidationError naming the limit, however
        deep, never a RecursionError (which a save met before)."""
        for depth in (METADATA_DEPTH + 1, 600, 5000):
            with pytest.raises(ValidationError, match=f"{METADATA_DEPTH} levels are the most"):
                Objective(title="x", metadata=_nested(depth))

    @pytest.mark.parametrize("field", ["title", "tags", "owner", "created_at", "metadata"])
    def test_a_value_too_deep_to_show_is_refused_without_showing_it(self, field):
        """A value nested deeper than repr goes is refused with an error, not a
        RecursionError: the message says what it was instead of showing it."""
        deep: list[Any] = []
        for _ in range(5000):
            deep = [deep]
        arguments = {"title": "x", field: {"deep": deep} if field == "metadata" else deep}
        with pytest.raises(ValidationError, match="nested too deeply"):
            Objective(**arguments)

    @kinds
    def test_records_are_frozen(self, kind):
        """A record cannot be changed in place."""
        record = make(kind)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            record.revision = 5

    @kinds
    def test_evolve_returns_a_validated_copy(self, kind):
        """evolve() gives a new version and validates the change; the original stays."""
        record = make(kind, tags=["a"])
        changed = record.evolve(tags=["b"], changed_by="Bo")
        assert (changed.tags, changed.changed_by, changed.id) == ({"b"}, "Bo", record.id)
        assert record.tags == {"a"}
        with pytest.raises(ValidationError):
            record.evolve(revision=-1)

    @settings(max_examples=300)
    @given(st.data())
    def test_evolve_makes_what_attrs_evolve_makes(self, data):
        """evolve() gives the version attrs.evolve gives, or refuses with the same error;
        the changes given as values or as stored data (text, lists) to be converted, and
        the version made reads back from its data as itself."""
        record = data.draw(records())
        fields = [field.name for field in attrs.fields(type(record))]
        donor = data.draw(record_of(type(record)))
        given = to_data(donor) if data.draw(st.booleans()) else attrs.asdict(donor, recurse=False)
        names = data.draw(st.sets(st.sampled_from(fields), max_size=4))
        changes = {name: given[name] for name in names}
        spoiled = data.draw(st.sampled_from(fields) | st.none())
        if spoiled is not None:
            changes[spoiled] = data.draw(st.sampled_from([_Opaque(), -1, "", " ", None, "x y"]))
        assume(changes.get("id") != "")  # a new random id each time: nothing to compare
        made = _outcome(lambda: record.evolve(**changes))
        assert made == _outcome(lambda: attrs.evolve(record, **changes))
        if isinstance(made[0], Record):
            assert to_data(from_data(made[1])) == made[1]

    def test_evolve_runs_a_subclass_s_validators_as_attrs_evolve_does(self):
        """A subclass's attrs validators run on each new version, as attrs.evolve runs
        them: one that reads another field refuses a change to that other field too."""

        @attrs.frozen(kw_only=True)
        class Budgeted(Objective):
            spent: int = 0
            budget: int = attrs.field(default=10)

            @budget.validator
            def _covers(self, attribute: attrs.Attribute[int], value: int) -> None:
                if value < self.spent:
                    raise ValidationError(f"{attribute.name} {value} is below what was spent")

        record = Budgeted(title="x", spent=5)
        for changes in ({"budget": 1}, {"spent": 20}):
            with pytest.raises(ValidationError, match="below what was spent"):
                attrs.evolve(record, **changes)
            with pytest.raises(ValidationError, match="below what was spent"):
                record.evolve(**changes)
        assert record.evolve(spent=7, budget=8) == attrs.evolve(record, spent=7, budget=8)

    @given(records(), st.integers(0, pickle.HIGHEST_PROTOCOL))
    def test_records_pickle_and_deep_copy_as_themselves(self, record, protocol):
        """A record of any kind comes back from pickle and deepcopy equal, with the same
        data and read-only metadata."""
        pickled = pickle.loads(pickle.dumps(record, protocol))  # noqa: S301 - our own bytes
        for again in (pickled, copy.deepcopy(record)):
            assert type(again) is type(record)
            assert again == record
            assert to_data(again) == to_data(record)
            assert isinstance(again.metadata, types.MappingProxyType)

    @kinds
    def test_records_are_hashable(self, kind):
        """Records can be put in sets; equal records hash alike."""
        record = make(kind)
        assert hash(record) == hash(from_json(to_json(record)))
        assert len({record, from_json(to_json(record))}) == 1

    @pytest.mark.parametrize(
        ("kind", "field"),
        [
            (Experiment, "started_at"),
            (Decision, "decided_at"),
            (Learning, "observed_at"),
            (Measurement, "measured_at"),
            (Note, "noted_at"),
            (Prototype, "shown_at"),
        ],
    )
    def test_times_compare_as_instants(self, kind, field):
        """Records are equal when their times are the same instant, in whatever zone."""
        first_0230 = "2026-10-25T00:30:00.000000Z[Europe/Copenhagen]"  # 02:30 summer time
        second_0230 = "2026-10-25T01:30:00.000000Z[Europe/Copenhagen]"  # 02:30 winter time
        extra = {"status": "running"} if kind is Experiment else {}

        def at(when: str) -> Record:
            return make(
                kind, id="rec_1", created_at="2026-01-01T00:00:00Z", **{field: when}, **extra
            )

        assert at(first_0230) != at(second_0230)
        assert at(first_0230) == at("2026-10-25T00:30:00Z")
        assert hash(at(first_0230)) == hash(at("2026-10-25T00:30:00Z"))
        assert at("2026-03-01T10:00:00+01:00") == at("2026-03-01T09:00:00Z")

    def test_label_names_the_record(self):
        """label() gives kind, title and id for messages."""
        record = Objective(title="Welfare", id="obj_1")
        assert record.label() == "objective 'Welfare' (obj_1)"
        person = Participant(role="citizen", slug="resident-1")
        assert person.label() == f"participant {person.id}"


def _nested(depth: int) -> dict[str, Any]:
    """Metadata ``depth`` levels deep, mappings and lists by turns, the outermost a mapping."""
    value: Any = "leaf"
    for level in range(depth - 1, 0, -1):
        value = {"next": value} if level % 2 == 0 else [value]
    return {"next": value}


def _outcome(make: Any) -> tuple[object, ...]:
    """What ``make()`` gives: the record (with its data), or the error's type and message."""
    try:
        made = make()
    except ValidationError as error:
        return (type(error), str(error))
    return (made, to_data(made))


class _Opaque:
    """A value no field takes."""

    def __repr__(self) -> str:
        return "<opaque>"


#: The fewest valid arguments of the validated classes that are not records.
_PARTS: Final[dict[type, dict[str, Any]]] = {
    Criterion: {"metric": "families", "comparison": ">=", "threshold": 40},
    TimeBox: {"duration": "P2W"},
}


class TestFieldErrors:
    """A field's converter refuses a value with an error naming the class and the field."""

    @pytest.mark.parametrize("kind", [*ALL_KINDS, *_PARTS], ids=lambda k: k.__name__)
    def test_every_field_names_its_class_and_field(self, kind):
        """Each field given a value of no fitting type raises InvalidTypeError naming it."""
        arguments = MINIMAL.get(kind) or _PARTS[kind]
        for field in attrs.fields(kind):
            if field.converter is None:
                continue
            with pytest.raises(InvalidTypeError) as caught:
                kind(**{**arguments, field.name: _Opaque()})
            message = str(caught.value)
            assert message.startswith(f"{kind.__name__}.{field.name} "), message
            personal = field.name in getattr(kind, "personal_fields", ())
            shown = "; got a _Opaque not shown here" if personal else "; got <opaque>"
            assert message.endswith(shown), message

    def test_an_inherited_field_is_named_for_the_kind(self):
        """A field every record has is named for the kind it was given to."""
        with pytest.raises(ValidationError, match=r"^Experiment\.revision must be 0"):
            Experiment(title="Art", revision=-1)
        with pytest.raises(ValidationError, match=r"^Note\.revision must be 0"):
            Note(experiment="exp_1", text="Started", revision=-1)

    def test_the_error_stands_alone(self):
        """The error chains to nothing internal: a traceback shows it alone."""
        with pytest.raises(ValidationError) as caught:
            Experiment(title=" ")
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__

    def test_init_is_typed_by_what_the_converters_accept(self):
        """Each parameter of ``__init__`` carries the type its converter accepts."""
        experiment = inspect.signature(Experiment).parameters
        assert experiment["title"].annotation == "str"
        assert experiment["objectives"].annotation == "Iterable[Any]"
        assert experiment["status"].annotation == "ExperimentStatus | str"
        assert inspect.signature(Measurement).parameters["value"].annotation == "float"
        assert inspect.signature(TimeBox).parameters["start"].annotation == "DateTimeLike | None"

    @settings(max_examples=300)
    @given(spoiled_arguments())
    def test_a_refused_record_names_its_kind_first(self, spoiled):
        """Whatever is wrong with the arguments, the error's message starts with the kind."""
        kind, arguments = spoiled
        message = kind.__name__  # what a record that is made would say
        try:
            kind(**arguments)
        except ValidationError as error:
            message = str(error)
        assert message.startswith(kind.__name__), message


class TestObjective:
    def test_title_is_stripped(self):
        """Titles lose surrounding whitespace."""
        assert Objective(title="  Welfare in 100 days \n").title == "Welfare in 100 days"

    @pytest.mark.parametrize("title", ["", "   ", "\n\t"])
    def test_an_empty_title_is_refused(self, title):
        """A title must say something."""
        with pytest.raises(ValidationError, match=r"Objective\.title must not be empty"):
            Objective(title=title)

    def test_an_objective_cannot_be_its_own_parent(self):
        """An objective's parent must be another objective."""
        with pytest.raises(ValidationError, match="parent cannot be the objective itself"):
            Objective(title="x", id="obj_1", parent="obj_1")

    def test_a_record_may_be_given_for_a_reference(self):
        """Where an id is expected, the record itself may be given."""
        parent = Objective(title="Strategy")
        assert Objective(title="Part", parent=parent).parent == parent.id

    @pytest.mark.parametrize("weight", [0, -1, float("inf"), float("nan")])
    def test_weight_must_be_positive_and_finite(self, weight):
        """A weight is a positive finite number."""
        with pytest.raises(ValidationError, match=r"Objective\.weight must be"):
            Objective(title="x", weight=weight)


class TestKeyResult:
    def test_due_is_a_date(self):
        """The due date is read from text or a date."""
        assert make(KeyResult, due="2026-06-30").due == pendulum.Date(2026, 6, 30)
        with pytest.raises(ValidationError, match=r"KeyResult\.due is not a date"):
            make(KeyResult, due="30/06/2026")

    def test_a_target_equal_to_the_baseline_is_refused(self):
        """A key result needs somewhere to go."""
        with pytest.raises(ValidationError, match="target equals its baseline"):
            make(KeyResult, baseline=10, target=10.0)

    @pytest.mark.parametrize(
        ("baseline", "target", "value", "expected"),
        [
            (0, 40, 0, 0.0),
            (0, 40, 10, 0.25),
            (0, 40, 40, 1.0),
            (0, 40, 80, 1.0),
            (0, 40, -5, 0.0),
            (30, 10, 30, 0.0),  # fewer complaints: the target is below the baseline
            (30, 10, 25, 0.25),
            (30, 10, 10, 1.0),
            (30, 10, 0, 1.0),
            (30, 10, 35, 0.0),
        ],
    )
    def test_progress(self, baseline, target, value, expected):
        """Progress is the share of the way from baseline to target, in either direction."""
        key_result = make(KeyResult, baseline=baseline, target=target)
        assert key_result.progress(value) == pytest.approx(expected)

    def test_progress_of_a_number_beyond_float(self):
        """A whole number too large for a float is past the target, not an OverflowError."""
        key_result = make(KeyResult, baseline=0, target=40)
        assert key_result.progress(10**400) == 1.0
        assert key_result.progress(-(10**400)) == 0.0
        with pytest.raises(ValidationError, match="nan"):
            key_result.progress(math.nan)

    def test_progress_between_ends_further_apart_than_a_float_reaches(self):
        """target - baseline overflowing to infinity still gives the share of the way."""
        key_result = make(KeyResult, baseline=-1e308, target=1e308)
        assert key_result.progress(0) == pytest.approx(0.5)
        assert key_result.progress(5e307) == pytest.approx(0.75)
        assert key_result.progress(math.inf) == 1.0
        assert key_result.progress(-math.inf) == 0.0

    @given(*[st.floats(allow_nan=False, allow_infinity=False)] * 4)
    def test_progress_is_clamped_and_monotone(self, baseline, target, low, high):
        """Progress stays in [0, 1] and grows as the value moves towards the target."""
        assume(baseline != target)
        low, high = sorted((low, high))
        key_result = make(KeyResult, baseline=baseline, target=target)
        at_low, at_high = key_result.progress(low), key_result.progress(high)
        assert 0.0 <= at_low <= 1.0
        assert 0.0 <= at_high <= 1.0
        if target > baseline:
            assert at_low <= at_high
        else:
            assert at_low >= at_high
        assert key_result.progress(baseline) == 0.0
        assert key_result.progress(target) == 1.0


class TestExperiment:
    """Lifecycle by explicit methods: planned -> running -> concluded -> decided, or abandoned."""

    T0 = "2026-03-01T09:00:00Z"
    T1 = "2026-03-08T09:00:00Z"
    T2 = "2026-03-15T09:00:00Z"

    def decision(self, experiment: Experiment, **changes: Any) -> Decision:
        return Decision(experiment=experiment.id, outcome="scale-up", decided_at=self.T2, **changes)

    def test_a_new_experiment_is_planned(self):
        """An experiment starts out planned, with no lifecycle times."""
        experiment = Experiment(title="x")
        assert experiment.status is ExperimentStatus.PLANNED
        assert experiment.legal_moves == ("start", "abandon")
        assert experiment.is_open
        assert experiment.started_at is None

    def test_the_whole_way_to_a_decision(self):
        """start, conclude and decide move it on, each recording its time."""
        planned = Experiment(title="x", changed_by="Anna")
        running = planned.start(at=self.T0, by="Bo")
        concluded = running.conclude(at=self.T1)
        decided = concluded.decide(self.decision(concluded, decided_by="Cai"))
        assert [e.status for e in (planned, running, concluded, decided)] == [
            ExperimentStatus.PLANNED,
            ExperimentStatus.RUNNING,
            ExperimentStatus.CONCLUDED,
            ExperimentStatus.DECIDED,
        ]
        assert decided.started_at == pendulum.parse(self.T0)
        assert decided.concluded_at == pendulum.parse(self.T1)
        assert decided.decided_at == pendulum.parse(self.T2)
        assert [e.changed_by for e in (planned, running, concluded, decided)] == [
            "Anna",
            "Bo",
            "Bo",
            "Cai",
        ]
        assert decided.legal_moves == ()
        assert not decided.is_open

    def test_a_transition_returns_a_new_version_and_leaves_the_old_one(self):
        """A transition never changes the experiment it is called on."""
        planned = Experiment(title="x")
        before = to_data(planned)
        running = planned.start(at=self.T0)
        assert running is not planned
        assert to_data(planned) == before
        assert running.id == planned.id

    @pytest.mark.parametrize("when", ["planned", "running"])
    def test_abandon_from_planned_or_running(self, when):
        """An open experiment can be abandoned, with the reason."""
        experiment = Experiment(title="x")
        if when == "running":
            experiment = experiment.start(at=self.T0)
        abandoned = experiment.abandon(reason="no families came", at=self.T1)
        assert abandoned.status is ExperimentStatus.ABANDONED
        assert abandoned.abandon_reason == "no families came"
        assert abandoned.abandoned_at == pendulum.parse(self.T1)
        assert abandoned.legal_moves == ()

    @pytest.mark.parametrize(
        ("state", "move", "legal"),
        [
            ("planned", "conclude", "start or abandon"),
            ("planned", "decide", "start or abandon"),
            ("running", "start", "conclude or abandon"),
            ("running", "decide", "conclude or abandon"),
            ("concluded", "start", "decide"),
            ("concluded", "abandon", "decide"),
            ("concluded", "conclude", "decide"),
            ("decided", "start", None),
            ("decided", "decide", None),
            ("abandoned", "start", None),
            ("abandoned", "abandon", None),
        ],
    )
    def test_an_illegal_move_names_the_state_and_the_legal_moves(self, state, move, legal):
        """An illegal transition raises TransitionError with the state and what is allowed."""
        experiment = self._in_state(state)
        if move == "decide":
            decision = self.decision(experiment)
            call = lambda: experiment.decide(decision)  # noqa: E731 - named for the raises block
        else:
            call = getattr(experiment, move)
        with pytest.raises(TransitionError) as caught:
            call()
        message = str(caught.value)
        assert f"cannot {move}" in message
        assert f"it is {state}" in message
        assert (f"can only {legal}" if legal else f"{state} is final") in message
        assert isinstance(caught.value, ValueError)

    def _in_state(self, state: str) -> Experiment:
        experiment = Experiment(title="x")
        if state == "abandoned":
            return experiment.abandon(at=self.T0)
        if state == "planned":
            return experiment
        experiment = experiment.start(at=self.T0)
        if state == "running":
            return experiment
        experiment = experiment.conclude(at=self.T1)
        if state == "concluded":
            return experiment
        return experiment.decide(self.decision(experiment))

    def test_decide_refuses_a_decision_about_another_experiment(self):
        """The decision must be about this experiment."""
        concluded = self._in_state("concluded")
        other = Decision(experiment="exp_other", outcome="stop")
        with pytest.raises(ValidationError, match="is about experiment 'exp_other'"):
            concluded.decide(other)

    @pytest.mark.parametrize("bad", ["scale-up", Outcome.SCALE_UP, None])
    def test_decide_needs_a_decision(self, bad):
        """Anything but a Decision is a type error, not an AttributeError."""
        with pytest.raises(InvalidTypeError, match="takes a Decision"):
            self._in_state("concluded").decide(bad)

    def test_a_duration_time_box_starts_with_the_experiment(self):
        """A time box given only as a duration gets its start when the experiment starts."""
        planned = Experiment(title="x", time_box="P2W")
        assert planned.time_box.start is None
        assert planned.time_box.end is None
        running = planned.start(at=self.T0)
        assert running.time_box.start == pendulum.parse(self.T0)
        assert running.time_box.end == pendulum.parse("2026-03-15T09:00:00Z")

    def test_a_fixed_time_box_keeps_its_start(self):
        """A time box with its own start is not moved by starting."""
        planned = Experiment(title="x", time_box="2026-02-01T00:00:00Z/P2W")
        assert planned.start(at=self.T0).time_box == planned.time_box

    def test_overdue(self):
        """A running experiment past its time box is overdue by the time since its end."""
        running = Experiment(title="x", time_box="P1W").start(at=self.T0)
        assert running.overdue(pendulum.parse(self.T0)) is None
        late = running.overdue(pendulum.parse("2026-03-09T09:00:00Z"))
        assert late.in_hours() == 24
        concluded = running.conclude(at=self.T2)
        assert concluded.overdue(pendulum.parse("2026-04-01T00:00:00Z")) is None

    def test_transitions_take_times_in_any_zone(self):
        """Transition times may be given as text, datetimes or dates."""
        running = Experiment(title="x").start(
            at=dt.datetime(2026, 3, 1, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Copenhagen"))
        )
        assert running.started_at == pendulum.parse(self.T0)
        assert running.conclude(at=dt.date(2026, 3, 2)).concluded_at == pendulum.parse(
            "2026-03-02T00:00:00Z"
        )

    def test_transitions_without_a_time_use_now(self):
        """A transition without ``at`` happens now."""
        before = pendulum.now("UTC")
        running = Experiment(title="x").start()
        assert before <= running.started_at <= pendulum.now("UTC")

    def test_a_transition_time_must_be_valid(self):
        """A naive or unreadable time is refused with the field it was for."""
        with pytest.raises(ValidationError, match=r"Experiment\.started_at has no time zone"):
            Experiment(title="x").start(at="2026-03-01T10:00:00")
        with pytest.raises(ValidationError, match=r"Experiment\.abandoned_at"):
            Experiment(title="x").abandon(at="soon")

    def test_lifecycle_times_must_be_in_order(self):
        """Concluding before starting is refused."""
        running = Experiment(title="x").start(at=self.T1)
        with pytest.raises(ValidationError, match="lifecycle times are out of order"):
            running.conclude(at=self.T0)

    @pytest.mark.parametrize(
        ("status", "times", "message"),
        [
            ("running", {}, "a running experiment needs started_at"),
            ("planned", {"started_at": T0}, "a planned experiment cannot have started_at"),
            ("concluded", {"started_at": T0}, "needs concluded_at"),
            ("abandoned", {}, "needs abandoned_at"),
            ("decided", {"started_at": T0, "concluded_at": T1}, "needs decided_at"),
        ],
    )
    def test_status_and_times_must_agree(self, status, times, message):
        """An experiment built with a status must have exactly the times that status has."""
        with pytest.raises(ValidationError, match=message):
            Experiment(title="x", status=status, **times)

    def test_unknown_status_is_refused(self):
        """A status must be one of the lifecycle's states."""
        with pytest.raises(ValidationError, match="must be one of 'planned', 'running'"):
            Experiment(title="x", status="paused")

    def test_enum_values_are_read_loosely(self):
        """Enum fields take members, values, names, any case, '_' for '-'."""
        assert Decision(experiment="e", outcome="SCALE_UP").outcome is Outcome.SCALE_UP
        assert Decision(experiment="e", outcome=" Scale up ").outcome is Outcome.SCALE_UP

    def test_facilitators_are_distinct_names(self):
        """Facilitators are kept in order without duplicates; a blank one is refused."""
        experiment = Experiment(title="x", facilitators=["Anna", " Bo ", "Anna"])
        assert experiment.facilitators == ("Anna", "Bo")
        with pytest.raises(ValidationError, match="must hold only non-empty names"):
            Experiment(title="x", facilitators=["Anna", " "])


_EARLIEST = pendulum.datetime(2026, 1, 1)


class ExperimentLifecycle(RuleBasedStateMachine):
    """Random moves, legal and illegal, checked against a model of the lifecycle."""

    LEGAL: Final = {
        ExperimentStatus.PLANNED: {"start", "abandon"},
        ExperimentStatus.RUNNING: {"conclude", "abandon"},
        ExperimentStatus.CONCLUDED: {"decide"},
        ExperimentStatus.DECIDED: set(),
        ExperimentStatus.ABANDONED: set(),
    }
    AFTER: Final = {
        "start": (ExperimentStatus.RUNNING, "started_at"),
        "conclude": (ExperimentStatus.CONCLUDED, "concluded_at"),
        "decide": (ExperimentStatus.DECIDED, "decided_at"),
        "abandon": (ExperimentStatus.ABANDONED, "abandoned_at"),
    }

    def __init__(self) -> None:
        super().__init__()
        self.experiment: Experiment
        self.status = ExperimentStatus.PLANNED
        self.times: dict[str, pendulum.DateTime] = {}  # lifecycle field -> when it was set
        self.versions: list[tuple[Experiment, dict[str, Any]]] = []

    @initialize(time_box=st.sampled_from([None, "P2W", "PT36H", "2026-01-01T00:00:00Z/P1M"]))
    def create(self, time_box):
        self.experiment = Experiment(title="Art afternoons", time_box=time_box)
        self.versions.append((self.experiment, to_data(self.experiment)))

    def _when(self, step: int) -> pendulum.DateTime:
        """A time ``step`` days after the latest lifecycle time (before it if negative)."""
        return max(self.times.values(), default=_EARLIEST).add(days=step)

    def _attempt(self, move, call, at, by):
        before = self.experiment
        if move not in self.LEGAL[self.status]:
            with pytest.raises(TransitionError) as caught:
                call()
            assert f"it is {self.status}" in str(caught.value)
            for allowed in self.LEGAL[self.status]:
                assert allowed in str(caught.value)
            return
        if self.times and at < max(self.times.values()):
            with pytest.raises(ValidationError, match="out of order"):
                call()
            return
        after = call()
        self.status, field = self.AFTER[move]
        self.times[field] = at
        assert after.id == before.id
        assert after.changed_by == (by or before.changed_by)
        if move == "start" and before.time_box is not None:
            assert after.time_box.duration == before.time_box.duration
            assert after.time_box.start == (before.time_box.start or at)
        self.experiment = after
        self.versions.append((after, to_data(after)))

    @rule(step=st.integers(-3, 10), by=st.one_of(st.none(), names))
    def start(self, step, by):
        at = self._when(step)
        self._attempt("start", lambda: self.experiment.start(at=at, by=by), at, by)

    @rule(step=st.integers(-3, 10), by=st.one_of(st.none(), names))
    def conclude(self, step, by):
        at = self._when(step)
        self._attempt("conclude", lambda: self.experiment.conclude(at=at, by=by), at, by)

    @rule(step=st.integers(-3, 10), reason=titles, by=st.one_of(st.none(), names))
    def abandon(self, step, reason, by):
        at = self._when(step)
        self._attempt(
            "abandon", lambda: self.experiment.abandon(reason=reason, at=at, by=by), at, by
        )

    @rule(step=st.integers(-3, 10), decided_by=st.one_of(st.none(), names))
    def decide(self, step, decided_by):
        at = self._when(step)
        decision = Decision(
            experiment=self.experiment.id, outcome="iterate", decided_at=at, decided_by=decided_by
        )
        self._attempt("decide", lambda: self.experiment.decide(decision), at, decided_by)

    @rule(outcome=st.sampled_from(list(Outcome)))
    def decide_about_another_experiment(self, outcome):
        decision = Decision(experiment="exp_someone_else", outcome=outcome)
        concluded = self.status is ExperimentStatus.CONCLUDED
        with pytest.raises(ValidationError if concluded else TransitionError):
            self.experiment.decide(decision)

    @invariant()
    def status_and_moves_are_as_modelled(self):
        assert self.experiment.status is self.status
        assert set(self.experiment.legal_moves) == self.LEGAL[self.status]
        assert self.experiment.is_open == bool(self.LEGAL[self.status] & {"abandon"})

    @invariant()
    def exactly_the_times_of_the_moves_made_are_set(self):
        for _, field in self.AFTER.values():
            assert getattr(self.experiment, field) == self.times.get(field), field

    @invariant()
    def old_versions_never_change(self):
        for version, data in self.versions:
            assert to_data(version) == data

    @invariant()
    def the_current_version_round_trips(self):
        assert from_json(to_json(self.experiment)) == self.experiment


TestExperimentLifecycle = ExperimentLifecycle.TestCase
TestExperimentLifecycle.settings = settings(max_examples=60, stateful_step_count=12)


class TestDecision:
    def test_unknown_outcome_is_refused(self):
        """An outcome must be scale-up, iterate, pivot or stop."""
        with pytest.raises(
            ValidationError, match="must be one of 'scale-up', 'iterate', 'pivot', 'stop'"
        ):
            Decision(experiment="e", outcome="magnify")

    def test_next_steps_are_steps_made_from_text_or_mappings(self):
        """Next steps are given as text, NextSteps or mappings, and become NextSteps."""
        decision = Decision(
            experiment="e",
            outcome="stop",
            next_steps=["a", {"action": "b", "owner": "Bo", "due": "2026-12-01"}],
        )
        assert decision.next_steps == (
            NextStep("a"),
            NextStep("b", owner="Bo", due="2026-12-01"),
        )
        assert not decision.next_steps[0].tracked
        assert decision.next_steps[1].tracked
        with pytest.raises(InvalidTypeError, match="must be a list of next steps"):
            Decision(experiment="e", outcome="stop", next_steps="a")

    def test_a_next_step_is_given_once(self):
        """The same action twice is refused: each next step is followed up once."""
        with pytest.raises(ValidationError, match="holds the action 'a' twice"):
            Decision(experiment="e", outcome="stop", next_steps=["a", {"action": "a"}])

    def test_a_bad_next_step_names_its_part(self):
        """A next step with a due date that is no date says which part is wrong."""
        with pytest.raises(ValidationError, match=r"Decision\.next_steps .*whose due"):
            Decision(experiment="e", outcome="stop", next_steps=[{"action": "a", "due": "soon"}])

    def test_with_step_replaces_one_step(self):
        """with_step(n, step) replaces the n-th step, counted from 1, and refuses others."""
        decision = Decision(experiment="e", outcome="stop", next_steps=["a", "b"])
        done = decision.with_step(2, decision.next_steps[1].done(at="2026-12-01T10:00:00Z"))
        assert done.next_steps[0] == NextStep("a")
        assert done.next_steps[1].done_at is not None
        with pytest.raises(ValidationError, match="number 3 is not one of them"):
            decision.with_step(3, NextStep("c"))


class TestCriterion:
    @pytest.mark.parametrize(
        ("text", "metric", "comparison", "threshold"),
        [
            ("families reached >= 40", "families reached", ">=", 40.0),
            ("waiting days<14", "waiting days", "<", 14.0),
            ("  complaints <= -2.5 ", "complaints", "<=", -2.5),
            ("share == 1e-3", "share", "==", 0.001),
            ("a>b > 3", "a>b", ">", 3.0),
        ],
    )
    def test_parse(self, text, metric, comparison, threshold):
        """parse() reads '<metric> <comparison> <number>'."""
        criterion = Criterion.parse(text)
        assert (criterion.metric, criterion.comparison.value, criterion.threshold) == (
            metric,
            comparison,
            threshold,
        )

    @pytest.mark.parametrize(
        "text", ["families reached", ">= 40", "families >= many", "families >="]
    )
    def test_parse_refuses_what_is_not_a_criterion(self, text):
        """Text that is not a criterion is refused with an example of one."""
        with pytest.raises(ValidationError, match=re.escape("e.g. 'families reached >= 40'")):
            Criterion.parse(text)

    def test_parse_refuses_a_number_that_is_not_one(self):
        """A threshold made of number characters that is no number is refused."""
        with pytest.raises(ValidationError, match="threshold that is not a number"):
            Criterion.parse("a >= 1-2")

    def test_parse_refuses_non_text(self):
        """parse() of something other than text is a type error that shows the form."""
        with pytest.raises(
            InvalidTypeError,
            match=r"Criterion\.parse\(\) takes text such as 'families reached >= 40'; got 40",
        ):
            Criterion.parse(40)

    @pytest.mark.parametrize(
        ("comparison", "met", "not_met"),
        [
            (">=", [40, 41], [39]),
            (">", [41], [40]),
            ("<=", [39, 40], [41]),
            ("<", [39], [40]),
            ("==", [40], [39, 41]),
        ],
    )
    def test_is_met(self, comparison, met, not_met):
        """is_met() compares a value with the threshold as the comparison says."""
        criterion = Criterion("families", comparison, 40)
        assert all(criterion.is_met(value) for value in met)
        assert not any(criterion.is_met(value) for value in not_met)

    @given(
        st.text(alphabet="abcdefghij ÆØÅæøå", min_size=1).map(str.strip).filter(bool),
        st.sampled_from([">=", ">", "<=", "<", "=="]),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    def test_text_round_trip(self, metric, comparison, threshold):
        """str() of a criterion parses back to an equal criterion."""
        criterion = Criterion(metric, comparison, threshold)
        assert Criterion.parse(str(criterion)) == criterion

    def test_a_hypothesis_takes_a_criterion_as_text_or_mapping(self):
        """A hypothesis's criterion may be given as text or as a mapping."""
        by_text = make(Hypothesis, criterion="families >= 40")
        by_mapping = make(
            Hypothesis, criterion={"metric": "families", "comparison": ">=", "threshold": 40}
        )
        assert by_text.criterion == by_mapping.criterion == Criterion("families", ">=", 40)
        with pytest.raises(ValidationError, match=r"Hypothesis\.criterion is not a criterion"):
            make(Hypothesis, criterion={"metric": "families"})
        with pytest.raises(InvalidTypeError, match=r"Hypothesis\.criterion must be a Criterion"):
            make(Hypothesis, criterion=40)


def _learning(hypothesis: str, verdict: str, at: str, id: str) -> Learning:  # noqa: A002
    return Learning(
        experiment="exp_1",
        observation="seen",
        hypothesis=hypothesis,
        verdict=verdict,
        observed_at=at,
        id=id,
    )


class TestHypothesis:
    def test_status_is_untested_without_learnings(self):
        """A hypothesis nobody has learned about is untested."""
        hypothesis = make(Hypothesis, id="hyp_1")
        general = Learning(experiment="exp_1", observation="general")
        other = _learning("hyp_2", "supports", "2026-03-01T00:00:00Z", "lrn_1")
        assert hypothesis.status_from([]) is HypothesisStatus.UNTESTED
        assert hypothesis.status_from([general, other]) is HypothesisStatus.UNTESTED

    def test_the_latest_learning_decides(self):
        """The verdict of the latest learning by observed_at gives the status."""
        hypothesis = make(Hypothesis, id="hyp_1")
        early = _learning("hyp_1", "refutes", "2026-03-01T00:00:00Z", "lrn_9")
        late = _learning("hyp_1", "supports", "2026-03-02T00:00:00Z", "lrn_1")
        assert hypothesis.status_from([early, late]) is HypothesisStatus.SUPPORTED
        assert hypothesis.status_from([late, early]) is HypothesisStatus.SUPPORTED

    @pytest.mark.parametrize(
        ("local", "utc"),
        [
            ("2026-03-01T10:00:00+01:00", "2026-03-01T09:00:00Z"),
            # the first 02:30 of the night summer time ends, which == never ties across zones
            ("2026-10-25T02:30:00+02:00[Europe/Copenhagen]", "2026-10-25T00:30:00Z"),
        ],
    )
    def test_ties_are_broken_by_id(self, local, utc):
        """Of learnings observed at the same instant, in any zone, the larger id wins."""
        hypothesis = make(Hypothesis, id="hyp_1")
        first = _learning("hyp_1", "inconclusive", local, "lrn_b")
        second = _learning("hyp_1", "refutes", utc, "lrn_a")
        assert hypothesis.status_from([first, second]) is HypothesisStatus.INCONCLUSIVE
        assert hypothesis.status_from([second, first]) is HypothesisStatus.INCONCLUSIVE
        first, second = (
            _learning("hyp_1", "inconclusive", local, "lrn_a"),
            second.evolve(id="lrn_b"),
        )
        assert hypothesis.status_from([first, second]) is HypothesisStatus.REFUTED
        assert hypothesis.status_from([second, first]) is HypothesisStatus.REFUTED

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["hyp_1", "hyp_2"]),
                st.sampled_from(list(Verdict)),
                st.sampled_from(
                    ["2026-03-01T00:00:00Z", "2026-03-01T01:00:00+01:00", "2026-03-02"]
                ),
            ),
            max_size=6,
        ),
        st.randoms(),
    )
    def test_status_is_the_verdict_of_the_latest_learning(self, rows, random):
        """status_from() agrees with sorting the learnings by (observed_at, id), in any order."""
        learnings = [
            _learning(hyp, verdict, at, f"lrn_{index}")
            for index, (hyp, verdict, at) in enumerate(rows)
        ]
        hypothesis = make(Hypothesis, id="hyp_1")
        own = [learning for learning in learnings if learning.hypothesis == "hyp_1"]
        if own:
            latest = max(own, key=lambda x: (x.observed_at.timestamp(), x.id))
            expected = {
                Verdict.SUPPORTS: HypothesisStatus.SUPPORTED,
                Verdict.REFUTES: HypothesisStatus.REFUTED,
                Verdict.INCONCLUSIVE: HypothesisStatus.INCONCLUSIVE,
            }[latest.verdict]
        else:
            expected = HypothesisStatus.UNTESTED
        random.shuffle(learnings)
        assert hypothesis.status_from(learnings) is expected

    def test_status_is_never_stored(self):
        """A hypothesis has no status field, and its data holds none."""
        hypothesis = make(Hypothesis)
        assert "status" not in attrs.fields_dict(Hypothesis)
        assert "status" not in to_data(hypothesis)
        with pytest.raises(TypeError):
            Hypothesis(experiment="e", statement="s", status="supported")

    def test_statement_is_required(self):
        """A hypothesis must state something."""
        with pytest.raises(ValidationError, match=r"Hypothesis\.statement must not be empty"):
            make(Hypothesis, statement=" ")


class TestPrototype:
    def test_shown_keeps_the_first_showing(self):
        """shown() records when it was first shown and keeps that time."""
        prototype = make(Prototype)
        shown = prototype.shown("2026-03-01T10:00:00Z")
        assert shown.shown_at == pendulum.parse("2026-03-01T10:00:00Z")
        assert shown.shown("2026-04-01T10:00:00Z") is shown
        assert prototype.shown_at is None

    def test_next_version(self):
        """next_version() counts up and may make it more finished."""
        prototype = make(Prototype)
        second = prototype.next_version(fidelity="working_prototype", description="on a tablet")
        assert (second.version, second.fidelity.value, second.description) == (
            2,
            "working-prototype",
            "on a tablet",
        )
        assert second.id == prototype.id
        assert prototype.version == 1

    def test_version_must_be_positive(self):
        """Versions count from 1."""
        with pytest.raises(ValidationError, match=r"Prototype\.version must be 1 or more"):
            make(Prototype, version=0)


class TestParticipant:
    @pytest.mark.parametrize("role", [r for r in Role if r is not Role.OTHER])
    def test_external_defaults_by_role(self, role):
        """Staff, managers and politicians are internal by default; everyone else external."""
        assert Participant(role=role).external is (role not in INTERNAL_ROLES)

    def test_external_can_be_given(self):
        """The default can be overridden, e.g. a citizen who also works there."""
        assert Participant(role="citizen", external=False).external is False
        assert Participant(role="employee", external=True).external is True

    def test_role_other_needs_external(self):
        """For role 'other' nobody can guess, so external must be given."""
        with pytest.raises(ValidationError, match=r"must be given .* for role 'other'"):
            Participant(role="other")
        assert Participant(role="other", external=True).external is True

    def test_unknown_role_is_refused_before_external(self):
        """An unknown role is the error reported, not a missing external."""
        with pytest.raises(ValidationError, match=r"Participant\.role must be one of"):
            Participant(role="alien")

    def test_display_name(self):
        """The name is shown unless pseudonymous; without one the role and an id tag."""
        assert Participant(role="citizen", name="Anna").display_name == "Anna"
        anonymous = Participant(role="citizen", id="par_0123456789abcdef0123456789abcdef")
        assert anonymous.display_name == "citizen abcdef"

    def test_ids_are_never_chosen_by_hand(self):
        """A name cannot hide in a participant's id, so a purge can erase them."""
        with pytest.raises(ValidationError, match="slug"):
            Participant(role="citizen", id="par_anna_hansen", name="Anna", pseudonymous=True)
        from_slug = Participant(role="citizen", slug="resident-17")
        assert from_slug.id != Participant(role="citizen", slug="resident-17").id  # the store's
        assert Participant(role="citizen", id=from_slug.id).id == from_slug.id

    @given(record_of(Participant), names)
    def test_a_pseudonymous_display_name_does_not_depend_on_the_name(self, participant, name):
        """A pseudonymous participant's display name is the same whatever the name is."""
        hidden = participant.evolve(pseudonymous=True)
        renamed = hidden.evolve(name=name)
        assert renamed.display_name == hidden.evolve(name=None).display_name
        if not set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789- "):
            # the display name is the role and hex digits; such a name cannot hide in it
            assert name not in renamed.display_name

    def test_frontline(self):
        """Frontline employees are recognised as such."""
        assert Participant(role="frontline-employee").frontline
        assert not Participant(role="employee").frontline


class TestParticipation:
    def test_id_derives_from_experiment_and_participant(self):
        """The same person in the same experiment is always the same participation."""
        first = Participation(experiment="exp_1", participant="par_1", stance="critical")
        again = Participation(experiment="exp_1", participant="par_1", stance="supportive")
        assert first.id == again.id
        assert first.id != Participation(experiment="exp_1", participant="par_2").id
        assert first.id != Participation(experiment="exp_2", participant="par_1").id

    def test_records_may_be_given_for_the_links(self):
        """Giving the experiment and participant records gives the same id as their ids."""
        experiment, participant = Experiment(title="x"), Participant(role="citizen")
        by_record = Participation(experiment=experiment, participant=participant)
        by_id = Participation(experiment=experiment.id, participant=participant.id)
        assert by_record.id == by_id.id

    def test_an_id_that_does_not_fit_is_refused(self):
        """An id other than the derived one is refused."""
        with pytest.raises(ValidationError, match="does not belong to"):
            Participation(experiment="exp_1", participant="par_1", id="ppn_other")

    def test_changes_keep_the_id(self):
        """A changed stance is a new version of the same participation."""
        first = Participation(experiment="exp_1", participant="par_1")
        assert first.evolve(stance="critical", involvement="co-creating").id == first.id


class TestSprint:
    def test_team_and_time_box(self):
        """A sprint has a team of participant ids and an optional time box."""
        sprint = Sprint(title="100 days", team=["par_1", "par_2", "par_1"], time_box="P100D")
        assert sprint.team == ("par_1", "par_2")
        assert sprint.time_box == TimeBox(pendulum.Duration(days=100))

    def test_team_must_be_ids(self):
        """A team member that is not an id is refused, naming the culprit."""
        with pytest.raises(ValidationError, match=r"Sprint\.team holds 'not an id'"):
            Sprint(title="x", team=["par_1", "not an id"])


class TestLearning:
    def test_a_verdict_needs_a_hypothesis(self):
        """A verdict must be about some hypothesis."""
        with pytest.raises(ValidationError, match="needs the hypothesis it bears on"):
            make(Learning, verdict="supports")

    def test_a_hypothesis_needs_a_verdict(self):
        """A learning that bears on a hypothesis must say what it means for it."""
        with pytest.raises(ValidationError, match="verdict is missing for hypothesis 'hyp_1'"):
            make(Learning, hypothesis="hyp_1")

    def test_general_and_specific_learnings(self):
        """Without a hypothesis a learning is general; with one it carries a verdict."""
        assert make(Learning).verdict is None
        specific = make(Learning, hypothesis="hyp_1", verdict="REFUTES", evidence="strong")
        assert specific.verdict is Verdict.REFUTES
        assert specific.evidence > make(Learning).evidence


class TestMeasurement:
    def test_needs_a_key_result_or_a_metric(self):
        """A measurement must say what was measured."""
        with pytest.raises(ValidationError, match=r"needs a key_result .* or a metric"):
            Measurement(value=1)
        with pytest.raises(ValidationError, match="needs a key_result"):
            Measurement(value=1, metric="  ")
        assert Measurement(value=1, key_result="kr_1").key_result == "kr_1"
        assert Measurement(value=1, metric="visits").metric == "visits"

    @pytest.mark.parametrize(
        ("value", "error"),
        [
            (float("nan"), ValidationError),
            (float("inf"), ValidationError),
            (10**400, ValidationError),
            ("12", InvalidTypeError),
            (True, InvalidTypeError),
        ],
    )
    def test_value_is_a_finite_number(self, value, error):
        """The value must be a finite number; booleans and text are type errors."""
        with pytest.raises(error, match=r"Measurement\.value must be"):
            Measurement(value=value, metric="visits")

    def test_integers_are_stored_as_floats(self):
        """Whole numbers become floats, so 12 and 12.0 are one value."""
        assert Measurement(value=12, metric="x").value == 12.0


class TestExcuse:
    @pytest.mark.parametrize("links", [{}, {"objective": "obj_1", "experiment": "exp_1"}])
    def test_needs_exactly_one_place(self, links):
        """An excuse is about an objective or an experiment, not both or neither."""
        with pytest.raises(ValidationError, match="exactly one of objective or experiment"):
            Excuse(group="Frontline staff", reason="no-time", **links)

    @pytest.mark.parametrize("links", [{"objective": "obj_1"}, {"experiment": "exp_1"}])
    def test_one_place_is_enough(self, links):
        """Either place alone is fine."""
        assert Excuse(group="Frontline staff", reason="rules_forbid", **links).reason.value == (
            "rules-forbid"
        )


class TestNote:
    def test_level_defaults_to_info(self):
        """A note is information unless said otherwise."""
        assert make(Note).level.value == "info"
        assert make(Note, level="ERROR").level.value == "error"


class TestScope:
    """Scope: the planned size of an experiment, from text, a mapping or its parts."""

    def test_text_round_trips(self) -> None:
        """Its text form reads back as the same scope, currency and all."""
        scope = Scope.parse("participants=40; sites=2, budget=50000.5 DKK")
        assert (scope.participants, scope.sites, scope.budget, scope.currency) == (
            40,
            2,
            50000.5,
            "DKK",
        )
        assert Scope.parse(str(scope)) == scope
        assert str(Scope(budget=1000)) == "budget=1000"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("people=4", "'people=4' is not one of those"),
            ("participants=four", "participants 'four' is not a number"),
            ("participants=0", "must be 1 or more"),
            ("", "plans nothing"),
            ("sites=1, currency=DKK", "needs the budget it counts"),
            ("budget=-5", "must be zero or more"),
        ],
    )
    def test_what_is_refused(self, text: str, message: str) -> None:
        """Unknown parts, words for numbers, nothing planned: each says what is wrong."""
        with pytest.raises(ValidationError, match=message):
            Scope.parse(text) if text else Scope()

    def test_parse_refuses_non_text(self) -> None:
        """parse() of something other than text is a type error that shows the form."""
        with pytest.raises(
            InvalidTypeError,
            match=r"Scope\.parse\(\) takes text such as 'participants=40, sites=2'; got 40",
        ):
            Scope.parse(40)

    def test_an_experiment_takes_text_or_a_mapping(self) -> None:
        """The field reads text and mappings; blank text is no scope."""
        assert Experiment(title="E", scope="sites=3").scope == Scope(sites=3)
        assert Experiment(title="E", scope={"participants": 9}).scope == Scope(participants=9)
        assert Experiment(title="E", scope="  ").scope is None
        with pytest.raises(ValidationError, match=r"Experiment\.scope .*has no part wards"):
            Experiment(title="E", scope={"wards": 2})
