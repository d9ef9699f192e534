"""The one converter: lossless round trips, the stored layout, schema versions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

import experiments
from experiments import (
    Decision,
    Experiment,
    Hypothesis,
    KeyResult,
    Objective,
    Participant,
    Record,
    SchemaError,
    ValidationError,
)
from experiments import serialization as ser
from experiments.errors import InvalidTypeError
from experiments.model import KINDS
from experiments.serialization import converter, from_data, from_json, to_data, to_json, upgrade
from experiments.testing.strategies import record_of
from invalid import MINIMAL

#: Every public record class, found by walking what the package exports.
PUBLIC_RECORD_CLASSES = sorted(
    (
        value
        for value in vars(experiments).values()
        if isinstance(value, type) and issubclass(value, Record) and value is not Record
    ),
    key=lambda cls: cls.kind,
)
by_kind = pytest.mark.parametrize("kind", PUBLIC_RECORD_CLASSES, ids=lambda k: k.kind)


def _is_plain_json(value: object) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_is_plain_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain_json(v) for k, v in value.items())
    return False


class TestRoundTrip:
    def test_the_public_classes_are_the_stored_kinds(self):
        """The classes enumerated here are exactly the kinds the converter knows."""
        assert set(PUBLIC_RECORD_CLASSES) == set(KINDS.values())
        assert len(PUBLIC_RECORD_CLASSES) == len(KINDS)

    @by_kind
    def test_every_kind_round_trips(self, kind):
        """Every record of every kind comes back equal through the converter and JSON."""

        @settings(max_examples=25)
        @given(record_of(kind))
        def check(record):
            assert type(record) is kind
            data = to_data(record)
            assert _is_plain_json(data)
            assert converter.structure(converter.unstructure(record, kind), Record) == record
            assert from_data(data) == record
            assert converter.structure(data, kind) == record
            back = from_data(json.loads(json.dumps(data)))
            assert back == record
            assert to_data(back) == data
            assert from_json(to_json(record, indent=2)) == record

        check()

    @by_kind
    def test_the_smallest_record_of_every_kind_round_trips(self, kind):
        """A record made from its fewest arguments round-trips with its defaults."""
        record = kind(**MINIMAL[kind])
        assert from_json(to_json(record)) == record

    def test_json_text_keeps_non_ascii_letters(self):
        """JSON text holds Nordic letters as they are."""
        text = to_json(Objective(title="Kerneopgaver på Nørrebro"))
        assert "Kerneopgaver på Nørrebro" in text
        assert from_json(text.encode()).title == "Kerneopgaver på Nørrebro"


class TestLayout:
    def test_an_experiment_is_stored_as_documented(self):
        """Kind and schema first, then id, slug, revision, the fields, and the common tail."""
        experiment = Experiment(
            title="Art afternoons",
            slug="art-afternoons",
            objectives=["obj_1"],
            sprint="spr_1",
            time_box="P2W",
            owner="Anna",
            facilitators=["Bo"],
            created_at="2026-02-01T10:00:00+01:00[Europe/Copenhagen]",
            tags=["welfare", "pilot"],
            metadata={"budget": 1000, "places": ["Nørrebro"]},
        ).start(at="2026-03-01T10:00:00[Europe/Copenhagen]", by="Bo")
        expected: dict[str, Any] = {
            "kind": "experiment",
            "schema": ser.SCHEMA_VERSION,
            "id": Experiment.id_for_slug("art-afternoons"),
            "slug": "art-afternoons",
            "revision": 0,
            "title": "Art afternoons",
            "description": "",
            "objectives": ["obj_1"],
            "sprint": "spr_1",
            "time_box": "2026-03-01T09:00:00.000000Z[Europe/Copenhagen]/P14D",
            "owner": "Anna",
            "facilitators": ["Bo"],
            "status": "running",
            "started_at": "2026-03-01T09:00:00.000000Z[Europe/Copenhagen]",
            "concluded_at": None,
            "decided_at": None,
            "abandoned_at": None,
            "abandon_reason": "",
            "created_at": "2026-02-01T09:00:00.000000Z",
            "updated_at": "2026-02-01T09:00:00.000000Z",
            "changed_by": "Bo",
            "deleted_at": None,
            "tags": ["pilot", "welfare"],
            "metadata": {"budget": 1000, "places": ["Nørrebro"]},
        }
        data = to_data(experiment)
        assert data == expected
        assert list(data) == list(expected)

    def test_dates_criteria_and_enums(self):
        """Dates are ISO text, criteria mappings, enums their values, numbers floats."""
        key_result = KeyResult(
            objective="obj_1", metric="families", baseline=0, target=40, due="2026-06-30"
        )
        hypothesis = Hypothesis(
            experiment="exp_1", statement="s", criterion="families >= 40", assumption="VIABILITY"
        )
        assert to_data(key_result)["due"] == "2026-06-30"
        assert (to_data(key_result)["baseline"], to_data(key_result)["target"]) == (0.0, 40.0)
        assert to_data(hypothesis)["criterion"] == {
            "metric": "families",
            "comparison": ">=",
            "threshold": 40.0,
        }
        assert to_data(hypothesis)["assumption"] == "viability"

    def test_compact_and_indented_json(self):
        """to_json is compact by default and readable with an indent."""
        record = Objective(title="x")
        assert "\n" not in to_json(record)
        head = f'{{\n  "kind": "objective",\n  "schema": {ser.SCHEMA_VERSION},'
        assert to_json(record, indent=2).startswith(head)


def _rename_headline(data: dict[str, Any]) -> dict[str, Any]:
    """An upgrade step: schema 1 called the title 'headline'."""
    data = dict(data)
    data["title"] = data.pop("headline")
    return data


def _tag_upgraded(data: dict[str, Any]) -> dict[str, Any]:
    """A second step: everything upgraded to 3 gets a tag (the order of steps shows)."""
    return {**data, "tags": [*data.get("tags", []), f"from-{data['title'].lower()}"]}


def _old_objective() -> dict[str, Any]:
    """An objective as schema version 1 of the tests' imagined history stored it."""
    data = to_data(Objective(title="Welfare", id="obj_1"))
    data["schema"] = 1
    data["headline"] = data.pop("title")
    return data


class TestSchemaVersions:
    def test_newer_data_is_refused_with_a_clear_error(self):
        """Data from a newer library is refused, saying which versions and what to do."""
        data = {**to_data(Objective(title="x")), "schema": ser.SCHEMA_VERSION + 1}
        with pytest.raises(SchemaError) as caught:
            from_data(data)
        message = str(caught.value)
        assert f"schema version {ser.SCHEMA_VERSION + 1}" in message
        assert f"newer than the {ser.SCHEMA_VERSION}" in message
        assert "pip install --upgrade strategy-experiments" in message

    @pytest.mark.parametrize("version", [None, 0, -1, "1", 1.0, True])
    def test_data_without_a_valid_schema_version_is_refused(self, version):
        """A missing or malformed schema version means the data is not ours."""
        data = to_data(Objective(title="x"))
        if version is None:
            del data["schema"]
        else:
            data["schema"] = version
        with pytest.raises(SchemaError, match="no valid schema version"):
            from_data(data)

    def test_older_data_is_upgraded(self, monkeypatch):
        """A registered step turns data of the previous version into the current one."""
        monkeypatch.setattr(ser, "SCHEMA_VERSION", 2)
        monkeypatch.setitem(ser.UPGRADES, 1, _rename_headline)
        old = _old_objective()
        assert old["schema"] == 1
        upgraded = from_data(old)
        assert upgraded == Objective(title="Welfare", id="obj_1", created_at=old["created_at"])
        assert "headline" in old  # the input is not changed
        assert to_data(upgraded)["schema"] == 2
        assert from_data(to_data(upgraded)) == upgraded  # current data takes no step

    def test_steps_are_applied_in_order(self, monkeypatch):
        """Data several versions old passes through every step, oldest first."""
        monkeypatch.setattr(ser, "SCHEMA_VERSION", 3)
        monkeypatch.setitem(ser.UPGRADES, 1, _rename_headline)
        monkeypatch.setitem(ser.UPGRADES, 2, _tag_upgraded)
        upgraded = upgrade(_old_objective())
        assert upgraded["schema"] == 3
        assert upgraded["title"] == "Welfare"
        assert upgraded["tags"] == ["from-welfare"]
        assert from_data(_old_objective()).tags == {"from-welfare"}

    def test_a_missing_step_is_an_error(self, monkeypatch):
        """Without a step from the data's version the data cannot be read."""
        monkeypatch.setattr(ser, "SCHEMA_VERSION", 3)
        monkeypatch.setitem(ser.UPGRADES, 1, _rename_headline)
        monkeypatch.delitem(ser.UPGRADES, 2)
        with pytest.raises(SchemaError, match="no upgrade from schema version 2 is known"):
            from_data(_old_objective())

    def test_the_real_history_of_versions(self):
        """Version 2 added what a decision revises: a version-1 decision revises nothing."""
        assert ser.SCHEMA_VERSION == 3
        assert sorted(ser.UPGRADES) == [1, 2]
        decision = Decision(experiment="exp_1", outcome="stop", decided_at="2026-05-01T09:00:00Z")
        old = {k: v for k, v in to_data(decision).items() if k != "revises"} | {"schema": 1}
        assert from_data(old) == decision
        assert upgrade(old)["revises"] is None
        objective = to_data(Objective(title="Welfare")) | {"schema": 1}
        assert upgrade(objective) == to_data(
            Objective(**{k: v for k, v in objective.items() if k not in ("kind", "schema")})
        )  # other kinds are unchanged

    def test_version_3_gave_participants_consent_and_retention(self):
        """A version-2 participant has no consent and no retention."""
        person = Participant(role="citizen", name="Bo")
        old = {k: v for k, v in to_data(person).items() if k not in ("consent", "retention")}
        assert from_data(old | {"schema": 2}) == person
        assert upgrade(old | {"schema": 2})["consent"] is None


class TestRefusedData:
    @pytest.mark.parametrize("data", [[1, 2], "objective", 5, None])
    def test_data_that_is_not_an_object(self, data):
        """A record's data must be a JSON object."""
        with pytest.raises(SchemaError, match="a record must be a JSON object"):
            from_data(data)

    @pytest.mark.parametrize("kind", ["Objective", "nothing", None, 5, ["objective"]])
    def test_unknown_kinds(self, kind):
        """An unknown kind is refused, listing the known ones."""
        data = {**to_data(Objective(title="x")), "kind": kind}
        with pytest.raises(SchemaError, match=r"unknown kind .*; known: objective, key-result"):
            from_data(data)

    def test_a_record_of_another_kind_than_asked_for(self):
        """Structuring as one class refuses data of another kind."""
        with pytest.raises(SchemaError, match="expected a experiment record, got a objective"):
            converter.structure(to_data(Objective(title="x")), Experiment)

    def test_unknown_fields_are_named(self):
        """Fields this version does not know are refused rather than dropped, all named."""
        data = {**to_data(Objective(title="x")), "zeta": 1, "alpha": 2, 3: "three"}
        with pytest.raises(SchemaError, match="fields this version does not know: 3, alpha, zeta"):
            from_data(data)

    def test_missing_fields(self):
        """Data without a required field is incomplete."""
        data = to_data(Objective(title="x"))
        del data["title"]
        with pytest.raises(SchemaError, match=r"objective data is incomplete: .*'title'"):
            from_data(data)

    def test_bad_values_are_validation_errors_naming_the_field(self):
        """A value a field does not accept is a ValidationError naming it."""
        data = {**to_data(Objective(title="x")), "weight": -1}
        with pytest.raises(ValidationError, match=r"Objective\.weight must be greater than zero"):
            from_data(data)
        data = {**to_data(Objective(title="x")), "created_at": "2026-03-01T10:00:00"}
        with pytest.raises(ValidationError, match=r"Objective\.created_at has no time zone"):
            from_data(data)

    @pytest.mark.parametrize("text", ["{", "", "[1,", b"\xff\xfe", "[" * 100_000])
    def test_text_that_is_not_json(self, text):
        """Text that is not JSON (or too deep to read) is a SchemaError."""
        with pytest.raises(SchemaError, match="record data is not valid JSON"):
            from_json(text)

    @pytest.mark.parametrize("given", [5, None, {"kind": "objective"}])
    def test_from_json_needs_text(self, given):
        """from_json() of something that is not text or bytes is a type error."""
        with pytest.raises(InvalidTypeError, match="takes JSON text or bytes"):
            from_json(given)

    @pytest.mark.parametrize("given", ["objective", {"kind": "objective"}, None, Objective])
    def test_to_data_needs_a_record(self, given):
        """to_data() and to_json() of something that is not a record are type errors."""
        with pytest.raises(InvalidTypeError, match="takes a record"):
            to_data(given)
        with pytest.raises(InvalidTypeError, match="takes a record"):
            to_json(given)
