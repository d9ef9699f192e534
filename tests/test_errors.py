"""Errors: one root, the fitting built-ins, messages that help, and nothing else escapes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import experiments
from experiments import (
    ConflictError,
    Criterion,
    Decision,
    Experiment,
    ExperimentsError,
    KeyResult,
    NotFoundError,
    Objective,
    Participant,
    PluginError,
    Prototype,
    Record,
    ReportError,
    SchemaError,
    StoreError,
    TimeBox,
    TransitionError,
    ValidationError,
    connect,
    errors,
    reports,
)
from experiments.errors import InvalidTypeError
from experiments.model import Scale, WorkshopAction, kind_of
from experiments.model._time import argument, format_timebox, parse_datetime, parse_timebox
from experiments.query import F, bind, parse_where
from experiments.serialization import SCHEMA_VERSION, from_data, from_json, to_json
from invalid import MINIMAL, junk, spoiled_arguments, spoiled_data


class TestHierarchy:
    def test_every_error_is_an_experiments_error(self):
        """Every class in experiments.errors derives from ExperimentsError."""
        for name in errors.__all__:
            assert issubclass(getattr(errors, name), ExperimentsError), name

    @pytest.mark.parametrize(
        ("error", "builtin"),
        [
            (ValidationError, ValueError),
            (InvalidTypeError, ValueError),
            (InvalidTypeError, TypeError),
            (TransitionError, ValueError),
            (SchemaError, ValueError),
            (NotFoundError, LookupError),
            (ConflictError, RuntimeError),
            (StoreError, RuntimeError),
            (PluginError, RuntimeError),
            (ReportError, OSError),
        ],
    )
    def test_errors_are_also_the_fitting_builtin(self, error, builtin):
        """Callers can catch our errors as the built-in exception they would expect."""
        assert issubclass(error, builtin)

    def test_every_error_is_also_a_builtin(self):
        """Every error class also derives from a built-in exception narrower than Exception."""
        for name in errors.__all__:
            if name != "ExperimentsError":
                assert _builtins_of(getattr(errors, name)), name

    def test_the_documented_builtins_are_the_real_ones(self):
        """The table in experiments.errors names each error's built-in bases, all of them."""
        rows = re.findall(r"^``(\w+)``\s+(.+)$", errors.__doc__ or "", re.MULTILINE)
        documented = {name: set(re.findall(r"``(\w+)``", rest)) for name, rest in rows}
        assert set(documented) == set(errors.__all__) - {"ExperimentsError"}
        for name, builtins in documented.items():
            assert _builtins_of(getattr(errors, name)) == builtins, name

    def test_an_invalid_type_is_a_validation_error(self):
        """A wrong type is a kind of validation error."""
        assert issubclass(InvalidTypeError, ValidationError)

    @pytest.mark.parametrize("error", [ConflictError, StoreError, PluginError])
    def test_operational_errors_are_not_value_errors(self, error):
        """Conflicts, store and plugin failures are not mistaken for bad values."""
        assert not issubclass(error, ValueError | LookupError)

    def test_the_package_exports_the_errors(self):
        """The errors a caller catches are importable from the package itself."""
        for name in errors.__all__:
            # Reached as ValidationError or TypeError, StoreError or ValidationError.
            if name not in ("InvalidTypeError", "StoreURLError"):
                assert getattr(experiments, name) is getattr(errors, name)

    def test_a_validation_error_is_caught_as_a_value_error(self):
        """``except ValueError`` catches an empty title."""
        with pytest.raises(ValueError, match="must not be empty"):
            Objective(title="")

    def test_a_wrong_type_is_caught_as_a_type_error(self):
        """``except TypeError`` catches a title that is not text."""
        with pytest.raises(TypeError, match="must be text"):
            Objective(title=42)

    def test_a_missing_record_is_caught_as_a_lookup_error(self, plugins):
        """``except LookupError`` catches a record that is not in the store."""
        with (
            connect("memory://errors-lookup", plugins=plugins) as store,
            pytest.raises(LookupError, match="obj_missing") as caught,
        ):
            store.get("obj_missing")
        assert isinstance(caught.value, NotFoundError)

    def test_a_conflict_is_caught_as_a_runtime_error(self, plugins):
        """``except RuntimeError`` catches a save over a revision someone else replaced."""
        with connect("memory://errors-conflict", plugins=plugins) as store:
            saved = store.save(Objective(title="Welfare"))
            store.save(saved.evolve(title="Welfare for families"))
            with pytest.raises(RuntimeError, match="has changed since this copy") as caught:
                store.save(saved.evolve(title="Welfare for all"))
        assert isinstance(caught.value, ConflictError)

    def test_a_store_failure_is_caught_as_a_runtime_error(self, plugins):
        """``except RuntimeError`` catches a store that cannot be opened."""
        with pytest.raises(RuntimeError, match="unknown store scheme") as caught:
            connect("nosuch://x", plugins=plugins)
        assert isinstance(caught.value, StoreError)

    def test_a_plugin_failure_is_caught_as_a_runtime_error(self):
        """``except RuntimeError`` catches a plugin that implements no known hook."""

        class Typo:
            @experiments.hookimpl
            def register_backend(self, register: object) -> None:  # the hook ends in "s"
                pass

        with pytest.raises(RuntimeError, match="register_backend") as caught:
            experiments.Plugins(autoload=False, plugins=[Typo()])
        assert isinstance(caught.value, PluginError)

    def test_a_report_that_cannot_be_written_is_caught_as_an_os_error(self, plugins, tmp_path):
        """``except OSError`` catches a report written into a directory that does not exist."""
        with connect("memory://errors-report", plugins=plugins) as store:
            report = reports.build(store, plugins=plugins)
        target = tmp_path / "missing" / "report.md"
        with pytest.raises(OSError, match="could not write the Markdown report") as caught:
            reports.write(report, target, plugins=plugins)
        assert isinstance(caught.value, ReportError)
        assert not target.parent.exists()


def _builtins_of(error: type[BaseException]) -> set[str]:
    """The names of the built-in exceptions ``error`` derives from, below Exception."""
    below = {"BaseException", "Exception"}
    return {c.__name__ for c in error.__mro__ if c.__module__ == "builtins"} - below - {"object"}


LONG = "x y " * 200

#: (what is done, what the message must say: where, the value given, what is accepted)
MESSAGES: list[tuple[str, Callable[[], Any], list[str]]] = [
    (
        "empty title",
        lambda: Objective(title="  "),
        ["Objective.title", "'  '", "must not be empty"],
    ),
    ("wrong type", lambda: Objective(title=3.5), ["Objective.title", "3.5", "must be text"]),
    (
        "unknown enum value",
        lambda: Participant(role="alien"),
        ["Participant.role", "'alien'", "must be one of 'customer', 'citizen'"],
    ),
    (
        "malformed id",
        lambda: Objective(title="x", id="has space"),
        ["Objective.id", "'has space'", "1-128 letters, digits, '_', '.' or '-'"],
    ),
    (
        "malformed slug",
        lambda: Objective(title="x", slug="Art For Families"),
        ["Objective.slug", "'Art For Families'", "e.g. 'art-for-families'"],
    ),
    (
        "end before start",
        lambda: Experiment(title="x", time_box="2026-03-15T00:00:00Z/2026-03-01T00:00:00Z"),
        ["Experiment.time_box", "2026-03-15", "ends (2026-03-01T00:00:00+00:00) before it starts"],
    ),
    (
        "negative duration",
        lambda: Experiment(title="x", time_box="-P2W"),
        ["Experiment.time_box", "'-P2W'", "such as 'P2W', 'P10D' or 'PT36H'"],
    ),
    (
        "naive time",
        lambda: Objective(title="x", created_at="2026-03-01T10:00"),
        ["Objective.created_at", "'2026-03-01T10:00'", "'2026-03-01T10:00:00+01:00'"],
    ),
    (
        "non-JSON metadata",
        lambda: Objective(title="x", metadata={"when": {1, 2}}),
        ["Objective.metadata", "metadata.when is a set", "JSON-compatible"],
    ),
    (
        "negative revision",
        lambda: Objective(title="x", revision=-2),
        ["Objective.revision", "-2", "0 (never saved) or more"],
    ),
    (
        "reference that is no id",
        lambda: Decision(experiment="an experiment", outcome="stop"),
        ["Decision.experiment", "'an experiment'", "must be an id"],
    ),
    (
        "target equal to baseline",
        lambda: KeyResult(objective="o", metric="m", baseline=5, target=5),
        ["KeyResult.target", "(5)", "give a target above or below the baseline"],
    ),
    (
        "unknown kind",
        lambda: kind_of("programme"),
        ["kind", "'programme'", "known kinds: objective"],
    ),
    (
        "criterion text",
        lambda: Criterion.parse("families reached"),
        ["Criterion", "'families reached'", "e.g. 'families reached >= 40'"],
    ),
    (
        "illegal transition",
        lambda: Experiment(title="Art", id="exp_1").conclude(),
        [
            "cannot conclude experiment 'Art' (exp_1)",
            "it is planned",
            "it can only start or abandon",
        ],
    ),
    (
        "lifecycle times out of order",
        lambda: (
            Experiment(title="Art", id="exp_1")
            .start(at="2026-03-02T00:00:00Z")
            .conclude(at="2026-03-01T00:00:00Z")
        ),
        [
            "experiment 'Art' (exp_1): its lifecycle times are out of order",
            "concluded at 2026-03-01T00:00:00Z, before it started at 2026-03-02T00:00:00Z",
        ],
    ),
    ("scale the wrong way round", lambda: Scale(5, 1), ["Scale 5-1", "e.g. 1-5"]),
    (
        "done before it was agreed",
        lambda: WorkshopAction(
            title="Agree",
            objectives=["obj_1"],
            agreed_at="2026-03-02T00:00:00Z",
            done_at="2026-03-01T00:00:00Z",
        ),
        ["WorkshopAction 'Agree' is done", "before it was agreed", "give a time after"],
    ),
    (
        "filter value that is no number",
        lambda: bind("objective", parse_where("weight = abc")),
        ["objective.weight", "'abc'", "(it is not a number)"],
    ),
    (
        "unknown time zone",
        lambda: argument("2026-03-01T10:00:00[Mars/Base]", "at", parse_datetime),
        ["at names an unknown time zone 'Mars/Base'", "an IANA name such as 'Europe/Oslo'"],
    ),
    (
        "newer schema",
        lambda: from_data({"kind": "objective", "schema": 99}),
        [
            "schema version 99",
            f"newer than the {SCHEMA_VERSION}",
            "pip install --upgrade strategy-experiments",
        ],
    ),
]


class TestMessages:
    @pytest.mark.parametrize(
        ("call", "parts"), [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES]
    )
    def test_messages_name_the_field_the_value_and_what_is_accepted(self, call, parts):
        """Each message says where the problem is, what was given and what would do."""
        with pytest.raises(ExperimentsError) as caught:
            call()
        message = str(caught.value)
        for part in parts:
            assert part in message, (part, message)

    def test_long_values_are_shortened(self):
        """A long bad value is shown by its start and end, not in full."""
        with pytest.raises(ValidationError) as caught:
            Objective(title="x", id=LONG)
        message = str(caught.value)
        assert LONG not in message
        shown = re.search(r"got (.*)$", message)
        assert shown is not None
        assert len(shown[1]) == 60
        assert shown[1].startswith("'x y x y")
        assert "…" in shown[1]
        assert shown[1].endswith("y '")

    def test_messages_of_time_errors_are_not_duplicated_by_wrapping(self):
        """A time box's error names the record's field once and the value once."""
        with pytest.raises(ValidationError) as caught:
            Experiment(title="x", time_box="P0D")
        assert str(caught.value) == (
            "Experiment.time_box must be longer than zero, e.g. 'P2W'; got 'P0D'"
        )


def _only_our_errors(call: Callable[[], Any]) -> Any:
    """The result of ``call``, or None if it raised an ExperimentsError (anything else fails)."""
    try:
        return call()
    except ExperimentsError:
        return None


FIELDS = [(kind, field.name) for kind in MINIMAL for field in attrs.fields(kind) if field.init]


class TestInvalidInput:
    """Random invalid input raises only ExperimentsError subclasses."""

    @pytest.mark.parametrize(("kind", "field"), FIELDS, ids=[f"{k.kind}.{f}" for k, f in FIELDS])
    def test_every_field(self, kind, field):
        """Junk in any one field of any kind raises only our errors, naming the class."""

        @settings(max_examples=10)
        @given(junk)
        @example(None)
        @example("")
        @example(10**400)
        @example(float("nan"))
        @example(-1)
        @example("9999-12-31T23:00:00-05:00")
        @example(pendulum.Duration(days=-1))
        @example(["x y"])
        def check(value):
            try:
                record = kind(**{**MINIMAL[kind], field: value})
            except ExperimentsError as error:
                message = str(error)
            else:
                message = None
                assert from_json(to_json(record)) == record
            if message is not None:
                assert kind.__name__ in message, message

        check()

    @settings(max_examples=50)
    @given(junk, junk)
    @example("P2W", dt.datetime(2026, 3, 1))  # noqa: DTZ001 - naive on purpose
    @example("P2M", "9999-12-01T00:00:00Z")
    @example(pendulum.Duration(days=-1), None)
    def test_time_box_fields(self, duration, start):
        """Junk in a TimeBox made directly raises only our errors."""
        box = _only_our_errors(lambda: TimeBox(duration, start))
        if box is not None:
            assert parse_timebox(format_timebox(box)) == box

    @settings(max_examples=150)
    @given(spoiled_arguments())
    def test_constructors(self, spoiled):
        """Spoiled arguments raise only our errors; a record that is built round-trips."""
        kind, arguments = spoiled
        record = _only_our_errors(lambda: kind(**arguments))
        if record is not None:
            assert from_json(to_json(record)) == record

    @settings(max_examples=150)
    @given(spoiled_data())
    def test_stored_data(self, data):
        """Reading spoiled stored data raises only our errors; what is read round-trips."""
        record = _only_our_errors(lambda: from_data(data))
        if record is not None:
            assert from_json(to_json(record)) == record

    @settings(max_examples=100)
    @given(st.text(max_size=40) | st.binary(max_size=40))
    def test_json_text(self, text):
        """Reading arbitrary text or bytes as JSON raises only our errors."""
        _only_our_errors(lambda: from_json(text))

    @settings(max_examples=200)
    @given(st.data())
    def test_methods(self, data):
        """Lifecycle moves, prototype changes and parsers given junk raise only our errors."""
        experiment = Experiment(title="x", time_box=data.draw(st.sampled_from([None, "P2W"])))
        running = experiment.start(at="2026-03-01T00:00:00Z")
        concluded = running.conclude(at="2026-03-02T00:00:00Z")
        prototype = Prototype(experiment="exp_1", title="Paper")
        field = data.draw(st.sampled_from([a.name for a in attrs.fields(Experiment)]))
        calls: list[Callable[[], Any]] = [
            lambda: experiment.start(at=data.draw(junk), by=data.draw(junk)),
            lambda: experiment.abandon(reason=data.draw(junk), at=data.draw(junk)),
            lambda: running.conclude(at=data.draw(junk), by=data.draw(junk)),
            lambda: concluded.decide(data.draw(junk), by=data.draw(junk)),
            lambda: prototype.shown(data.draw(junk)),
            lambda: prototype.next_version(fidelity=data.draw(junk), description=data.draw(junk)),
            lambda: experiment.evolve(**{field: data.draw(junk)}),
            lambda: Experiment.id_for_slug(data.draw(junk)),
            lambda: kind_of(data.draw(junk)),
            lambda: Criterion.parse(data.draw(junk)),
            lambda: experiment.evolve(**{data.draw(st.text(min_size=1)): data.draw(junk)}),
            lambda: KeyResult(objective="obj_1", metric="Visits", baseline=0, target=9).progress(
                data.draw(junk)
            ),
        ]
        result = _only_our_errors(data.draw(st.sampled_from(calls)))
        if isinstance(result, experiments.Record):
            assert from_json(to_json(result)) == result

    @settings(max_examples=200)
    @given(data=st.data())
    def test_store_and_query_calls(self, data):
        """Queries, aggregates and lookups given junk raise only our errors."""
        with connect("memory://", plugins=experiments.Plugins(autoload=False)) as store:
            store.save(Objective(title="Welfare", slug="welfare"))
            calls: list[Callable[[], Any]] = [
                lambda: list(store.query(Objective, order_by=data.draw(junk))),
                lambda: list(store.aggregate(Objective, group_by=data.draw(junk))),
                lambda: list(store.aggregate(Objective, measures=data.draw(junk))),
                lambda: list(store.query(Objective, F.title.in_(data.draw(junk)))),
                lambda: list(store.query(Objective, F.title.not_in(data.draw(junk)))),
                lambda: list(store.query(Objective, F(data.draw(junk)) == 1)),
                lambda: parse_where(data.draw(junk)),
                lambda: store.get_by_slug(data.draw(junk), "welfare"),
                lambda: store.get_by_slug(Objective, data.draw(junk)),
                lambda: store.get(data.draw(junk), data.draw(junk)),
            ]
            _only_our_errors(data.draw(st.sampled_from(calls)))

    def test_misuse_gets_a_message_that_says_what_to_write(self, plugins):
        """The common slips: one name where a list goes, a string as a list, a kind's name."""
        with connect("memory://", plugins=plugins) as store:
            saved = store.save(Objective(title="Welfare", slug="welfare"))
            with pytest.raises(ValidationError, match=r"in_\(\['ab'\]\)"):
                F.title.in_("ab")
            with pytest.raises(ValidationError, match="order_by takes a field name"):
                list(store.query(Objective, order_by=5))
            with pytest.raises(ValidationError, match="has no field 'nope'"):
                saved.evolve(nope=1)
            rows = list(store.aggregate(Objective, group_by="title"))
            assert rows == [{"title": "Welfare", "count": 1}]
            assert store.get_by_slug("objective", "welfare") == saved
            assert store.get(saved.id, "objective") == saved
            with pytest.raises(NotFoundError):
                store.get(saved.id, "experiment")


class TestStoreCallsWithImpossibleValues:
    """Values no store can hold are ValidationErrors on every backend, never raw errors."""

    @pytest.mark.parametrize("text", ["\ud800", "a\udcffb", "x\x00y"], ids=["high", "low", "nul"])
    def test_text_no_store_can_hold(self, any_store, text):
        """A lone surrogate or NUL: an id nothing has, a slug or filter value refused."""
        any_store.save(Objective(title="Welfare", slug="welfare"))
        assert any_store.find(text) is None
        for call in (
            lambda: any_store.get(text),
            lambda: any_store.history(text),
            lambda: any_store.delete(text),
            lambda: any_store.purge(text),
        ):
            with pytest.raises(NotFoundError):
                call()
        for call in (
            lambda: any_store.get_by_slug(Objective, text),
            lambda: list(any_store.query(Objective, title=text)),
            lambda: list(any_store.query(Objective, f"title = '{text}' or slug = welfare")),
            lambda: any_store.count(Objective, F.title.in_(["Welfare", text])),
        ):
            with pytest.raises(ValidationError):
                call()
        assert [o.slug for o in any_store.query(Objective)] == ["welfare"]

    @pytest.mark.parametrize("actor", [5, ["Culture"], "a\x00b"], ids=["number", "list", "nul"])
    def test_an_actor_no_record_can_hold_writes_nothing(self, any_store, actor):
        """store.actor assigned a value no record can hold is refused when it is set,
        naming it, and nothing unreadable is written by the saves that follow."""
        any_store.save(Objective(title="Welfare"))
        with pytest.raises(ValidationError, match=r"store\.actor"):
            any_store.actor = actor
        assert any_store.actor is None
        assert [o.title for o in any_store.query(Objective)] == ["Welfare"]

    def test_record_is_no_kind(self, any_store):
        """Record, the common base of the kinds, is refused as a kind, saying what to give."""
        saved = any_store.save(Objective(title="Welfare"))
        for call in (
            lambda: list(any_store.query(Record)),
            lambda: any_store.count(Record),
            lambda: any_store.get(saved.id, Record),
            lambda: list(any_store.aggregate(Record)),
            lambda: any_store.get_by_slug(Record, "welfare"),
        ):
            with pytest.raises(ValidationError, match="not a kind"):
                call()

    @pytest.mark.parametrize("count", [2**63, 10**30, -1])
    def test_limits_no_store_can_take(self, any_store, count):
        """A limit or offset beyond what an index can be is refused before the store is asked."""
        any_store.save(Objective(title="Welfare"))
        for arguments in ({"limit": count}, {"offset": count}):
            with pytest.raises(ValidationError, match="whole number from 0 to"):
                list(any_store.query(Objective, **arguments))
        assert len(list(any_store.query(Objective, limit=2**63 - 1, offset=0))) == 1
