"""The command line offers what the model has: every kind, every field, every value."""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import click
import pytest
from click.testing import CliRunner

import experiments.model
from experiments.cli import cli
from experiments.cli.kinds import (
    ADD,
    LIST_NAMES,
    MADE_ELSEWHERE,
    NOT_CHOSEN,
    EnumChoice,
    default_of,
    plural,
)
from experiments.maturity import analyse
from experiments.model import KINDS, REFERENCES, Role
from experiments.query import FieldType, field_types

#: The choices that are not the model's values: click's shells, and the kinds (below).
NOT_THE_MODELS = {("completion", "shell"), ("list", "kind"), ("import-csv", "kind")}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def _choices() -> Iterator[tuple[str, click.Parameter]]:
    """Every parameter of every command that offers a choice, with its command."""
    for path, command in _commands(cli):
        for param in command.params:
            if isinstance(param.type, click.Choice):
                yield path, param


def _model_enums() -> list[type[enum.Enum]]:
    """Every enumeration defined anywhere in the model package."""
    found: dict[str, type[enum.Enum]] = {}
    for info in pkgutil.iter_modules(experiments.model.__path__):
        module = importlib.import_module(f"experiments.model.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.Enum)
                and value.__module__.startswith("experiments.model")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return list(found.values())


def kinds_not_offered(kinds: Iterable[str]) -> list[str]:
    """What the command line lacks for ``kinds``: a `list` name, or a command making it."""
    listing = next(param for path, param in _choices() if path == "list")
    listed = set(listing.type.choices)
    add = cli.commands["add"]
    assert isinstance(add, click.Group)
    lacking = []
    for kind in kinds:
        lacking += [f"list {name}" for name in (kind, plural(kind)) if name not in listed]
        if kind in add.commands:
            continue
        made = re.match(r"`experiments (\S+)", MADE_ELSEWHERE.get(kind, ""))
        if kind not in MADE_ELSEWHERE:
            lacking.append(f"add {kind}")
        elif made and made.group(1) not in cli.commands:
            lacking.append(f"{made.group(1)}, which makes {kind}")
    return lacking


def values_not_offered(enums: Iterable[type[enum.Enum]]) -> list[str]:
    """Enumeration values no choice offers, and choices typed instead of taken from one."""
    choices = list(_choices())
    lacking = [
        f"{path} {param.name} is typed, not an EnumChoice"
        for path, param in choices
        if not isinstance(param.type, EnumChoice) and (path, param.name) not in NOT_THE_MODELS
    ]
    for offered in enums:
        values = {str(member.value) for member in offered}
        offering = [
            (path, param)
            for path, param in choices
            if (path, param.name) not in NOT_THE_MODELS
            and (
                getattr(param.type, "enum", None) is offered
                or (not isinstance(param.type, EnumChoice) and values & set(param.type.choices))
            )
        ]
        if not offering and offered not in NOT_CHOSEN:
            lacking.append(f"{offered.__name__} is offered by no option, nor in NOT_CHOSEN")
        for path, param in offering:
            missing = values - set(param.type.choices)
            lacking += [f"{path} {param.name} lacks {offered.__name__} {v}" for v in missing]
    return lacking


class TestKinds:
    """Every kind of the model can be listed and made on the command line."""

    def test_every_kind_is_listed_and_made(self) -> None:
        """`list` takes each kind and its plural; `add` or a named command makes each."""
        assert kinds_not_offered(KINDS) == []

    def test_list_takes_nothing_else(self) -> None:
        """The names `list` takes are the kinds' names and plurals, hypotheses included."""
        assert set(LIST_NAMES.values()) == set(KINDS)
        assert {"hypotheses", "key-results", "participations"} <= set(LIST_NAMES)
        assert "hypothesiss" not in LIST_NAMES
        assert len(LIST_NAMES) == 2 * len(KINDS)

    def test_a_kind_the_model_gains_is_missed(self) -> None:
        """A kind neither `add` nor any other command makes is reported, as is its list."""
        assert kinds_not_offered([*KINDS, "workshop"]) == [
            "list workshop",
            "list workshops",
            "add workshop",
        ]

    def test_add_makes_what_its_table_says(self) -> None:
        """`add` has one command for each entry of the table, named for the kind."""
        add = cli.commands["add"]
        assert isinstance(add, click.Group)
        assert set(add.commands) == {spec.kind.kind for spec in ADD}
        assert not set(add.commands) & set(MADE_ELSEWHERE)


class TestChoices:
    """Every choice offers the values of one of the model's enumerations."""

    def test_every_value_is_offered(self) -> None:
        """Each enumeration is offered whole by its choices, or said why it is not."""
        enums = _model_enums()
        assert len(enums) >= 13
        assert values_not_offered(enums) == []

    def test_choices_not_offered_are_the_models(self) -> None:
        """What the table says no option offers is an enumeration of the model."""
        assert set(NOT_CHOSEN) <= set(_model_enums())

    def test_a_value_the_model_gains_is_missed(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A choice typed by hand, lacking a value of its enumeration, is reported."""
        link = cli.commands["link"]
        stance = next(param for param in link.params if param.name == "stance")
        monkeypatch.setattr(stance, "type", click.Choice(["supportive", "neutral"]))
        assert values_not_offered([experiments.model.Stance]) == [
            "link stance is typed, not an EnumChoice",
            "link stance lacks Stance critical",
        ]

    def test_defaults_are_the_models(self) -> None:
        """An option that shows a default shows the model's (or the analysis's) default."""
        shown = {
            (path, param.name): param.default
            for path, param in _choices()
            if getattr(param, "show_default", False)
        }
        model = experiments.model
        grouping = inspect.signature(analyse).parameters["group_by"].default
        assert shown == {
            ("add prototype", "fidelity"): default_of(model.Prototype, "fidelity"),
            ("link", "stance"): default_of(model.Participation, "stance"),
            ("link", "involvement"): default_of(model.Participation, "involvement"),
            ("learn", "evidence"): default_of(model.Learning, "evidence"),
            ("add interpretation", "language"): default_of(model.Interpretation, "language"),
            ("glossary", "lang"): model.LanguageCode.EN.value,
            ("maturity", "group_by"): grouping.value,
            ("report", "group_by"): grouping.value,
        }
        assert sorted(shown.values()) == [
            "consulted",
            "department",
            "department",
            "en",
            "en",
            "neutral",
            "sketch",
            "weak",
        ]


class TestAddTable:
    """Each `add` entry asks for fields of its kind, in the way the model types them."""

    @pytest.mark.parametrize("spec", ADD, ids=lambda spec: spec.kind.kind)
    def test_entries_follow_the_model(self, spec: Any) -> None:
        """Lists repeat, numbers are numbers, enumerations are choices; required is asked."""
        kind = spec.kind.kind
        fields = attrs.fields_dict(spec.kind)
        types = field_types(kind)
        asked = {param.field for param in spec.params}
        required = {name for name, field in fields.items() if field.default is attrs.NOTHING}
        assert required <= asked
        add = cli.commands["add"]
        assert isinstance(add, click.Group)
        asking = {param.name: param for param in add.commands[kind].params}
        for param in spec.params:
            info = types[param.field]
            asked = asking[param.field]
            assert asked.multiple == (info.kind is FieldType.LIST), param.field
            number = asked.type in (click.FLOAT, click.INT)
            assert number == (info.kind is FieldType.NUMBER), param.field
            if number:  # whole numbers of things are asked as whole numbers
                whole = attrs.fields_dict(spec.kind)[param.field].type in ("int", int)
                assert (asked.type is click.INT) == whole, param.field
            if info.kind is FieldType.ENUM and info.enum not in NOT_CHOSEN:
                assert isinstance(asked.type, EnumChoice), param.field
                assert asked.type.enum is info.enum
            if info.kind is FieldType.DATETIME:
                assert asked.metavar == "TIME", param.field
            if info.kind is FieldType.BOOL:
                assert param.is_flag or "/" in param.option, param.field

    def test_references_name_their_kind(self) -> None:
        """An option naming another record shows that kind and says where to find it."""
        add = cli.commands["add"]
        assert isinstance(add, click.Group)
        checked = 0
        for spec in ADD:
            command = add.commands[spec.kind.kind]
            for param in command.params:
                target = REFERENCES[spec.kind.kind].get(param.name or "")
                if target is None or not isinstance(param, click.Option):
                    continue
                assert param.metavar == target[0].upper()
                assert f"`experiments list {plural(target[0])}`" in (param.help or "")
                checked += 1
        assert checked == 17  # the references every `add` asks for as options


class TestAddCommands:
    """The generated `add` commands leave to the model what they are not told."""

    @pytest.fixture
    def add(self, tmp_path: Path) -> Any:
        runner = CliRunner()
        env = {"EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD": "1", "EXPERIMENTS_STORE": None}
        store = f"sqlite:///{tmp_path}/programme.db"

        def add(*args: str) -> dict[str, Any]:
            done = runner.invoke(cli, ["--json", "--store", store, "add", *args], env=env)
            assert done.exit_code == 0, done.output
            data: dict[str, Any] = json.loads(done.output)
            return data

        return add

    def test_every_role_is_taken(self, add: Any) -> None:
        """ROLE takes each role of the model."""
        said = [add("participant", role.value, "--external")["role"] for role in Role]
        assert said == [role.value for role in Role]

    def test_external_follows_the_role_unless_given(self, add: Any) -> None:
        """Without --external or --internal, the model decides from the role."""
        assert add("participant", "citizen")["external"] is True
        assert add("participant", "employee")["external"] is False
        assert add("participant", "citizen", "--internal")["external"] is False

    def test_options_not_given_are_the_models_defaults(self, add: Any) -> None:
        """An objective and a prototype made without options have the model's defaults."""
        objective = add("objective", "Welfare", "--slug", "welfare")
        assert (objective["weight"], objective["description"], objective["parent"]) == (
            1.0,
            "",
            None,
        )
        add("experiment", "Art", "--objective", "welfare", "--slug", "art")
        prototype = add("prototype", "art", "Flyer")
        assert (prototype["fidelity"], prototype["description"]) == ("sketch", "")
        sprint = add("sprint", "Hundred days")
        assert (sprint["challenge"], sprint["team"], sprint["facilitators"]) == ("", [], [])
