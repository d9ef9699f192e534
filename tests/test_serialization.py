"""The one converter: lossless round trips, the stored layout, schema versions."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import experiments
from experiments import (
    Consent,
    Decision,
    Experiment,
    Fidelity,
    Hypothesis,
    KeyResult,
    Learning,
    Measurement,
    NextStep,
    Objective,
    Participant,
    Prototype,
    Record,
    SchemaError,
    TimeBox,
    ValidationError,
)
from experiments import serialization as ser
from experiments.errors import InvalidTypeError
from experiments.model import KINDS
from experiments.model._time import parse_datetime, utc_key, zone_name, zoned_text
from experiments.serialization import (
    converter,
    dumps,
    from_data,
    from_json,
    to_data,
    to_json,
    upgrade,
    zone_field,
)
from experiments.testing.strategies import datetimes, record_of, records
from formats import export_data, old_form, old_text
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
            "schema": 6,
            "id": Experiment.id_for_slug("art-afternoons"),
            "slug": "art-afternoons",
            "revision": 0,
            "title": "Art afternoons",
            "description": "",
            "objectives": ["obj_1"],
            "sprint": "spr_1",
            "time_box": "2026-03-01T10:00:00+01:00/P14D",
            "time_box_zone": "Europe/Copenhagen",
            "owner": "Anna",
            "facilitators": ["Bo"],
            "status": "running",
            "started_at": "2026-03-01T10:00:00+01:00",
            "started_at_zone": "Europe/Copenhagen",
            "concluded_at": None,
            "decided_at": None,
            "abandoned_at": None,
            "abandon_reason": "",
            "template": None,
            "scope": None,
            "terms": [],
            "created_at": "2026-02-01T09:00:00Z",
            "updated_at": "2026-02-01T09:00:00Z",
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
        assert to_json(record, indent=2).startswith('{\n  "kind": "objective",\n  "schema": 6,')


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


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


class TestStoredText:
    """The JSON text stores keep: compact, not ASCII-escaped, the same as json makes it."""

    @given(records())
    def test_a_records_text_is_the_json_modules(self, record):
        """A record's stored text is what json.dumps makes of its data, byte for byte."""
        data = to_data(record)
        assert dumps(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @given(st.dictionaries(st.text(), _JSON_VALUES))
    def test_any_json_data_is_written_as_the_json_module_writes_it(self, data):
        """Any JSON-compatible data, NaN and infinities included, is written as json does."""
        assert dumps(data) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def test_data_json_cannot_hold_is_refused_as_json_refuses_it(self):
        """A value JSON cannot hold is refused with json's reason, as a TypeError and ours."""
        with pytest.raises(InvalidTypeError, match="not JSON serializable") as caught:
            dumps({"when": dt.date(2026, 1, 1)})
        assert isinstance(caught.value, TypeError)

    def test_data_that_holds_itself_is_refused_with_our_error(self):
        """Data that refers to itself is an InvalidTypeError naming the cycle, not a crash."""
        data: dict[str, object] = {"kind": "objective"}
        data["self"] = [data]
        with pytest.raises(InvalidTypeError, match="does not refer to itself"):
            dumps(data)


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
        monkeypatch.setattr(ser, "SCHEMA_VERSION", ser.SCHEMA_VERSION + 1)
        monkeypatch.setitem(ser.UPGRADES, 1, _rename_headline)
        missing = f"no upgrade from schema version {ser.SCHEMA_VERSION - 1} is known"
        with pytest.raises(SchemaError, match=missing):
            from_data(_old_objective())

    def test_the_real_history_of_versions(self):
        """2: what a decision revises; 3: the terms used; 4: next steps followed up; 5:
        times in RFC 3339 with their offset; 6: a participant's consent and retention."""
        assert ser.SCHEMA_VERSION == 6
        assert sorted(ser.UPGRADES) == [1, 2, 3, 4, 5]
        decision = Decision(experiment="exp_1", outcome="stop", decided_at="2026-05-01T09:00:00Z")
        old = {k: v for k, v in old_form(to_data(decision)).items() if k != "revises"}
        old["schema"] = 1
        assert from_data(old) == decision
        assert upgrade(old)["revises"] is None
        assert upgrade(old) == to_data(decision)
        for record in (Objective(title="Welfare"), Experiment(title="Art afternoons")):
            data = {k: v for k, v in to_data(record).items() if k != "terms"}
            for version in (1, 2):
                assert upgrade(data | {"schema": version})["terms"] == []
                assert from_data(data | {"schema": version}) == record
        learning = to_data(Learning(experiment="exp_1", observation="x")) | {"schema": 2}
        assert upgrade(learning) == to_data(
            Learning(**{k: v for k, v in learning.items() if k not in ("kind", "schema")})
        )  # other kinds are unchanged
        objective = old_form(to_data(Objective(title="Welfare"))) | {"schema": 1}
        assert upgrade(objective) == to_data(
            Objective(**{k: v for k, v in objective.items() if k not in ("kind", "schema")})
        )  # other kinds are unchanged, but for their times


class TestTimes:
    """Times as RFC 3339 with their offset, zone names in fields of their own."""

    def test_the_zone_is_written_next_to_its_time_when_there_is_one(self):
        """A time in a named zone gets a *_zone field right after it; one in UTC or at an
        offset does not."""
        zoned = to_data(
            Measurement(metric="m", value=1, measured_at="2026-09-14T10:00:00[Europe/Oslo]")
        )
        keys = list(zoned)
        assert zoned["measured_at"] == "2026-09-14T10:00:00+02:00"
        assert zoned["measured_at_zone"] == "Europe/Oslo"
        assert keys.index("measured_at_zone") == keys.index("measured_at") + 1
        for text, written in (
            ("2026-09-14T08:00:00Z", "2026-09-14T08:00:00Z"),
            ("2026-09-14T10:00:00.25+02:00", "2026-09-14T10:00:00.250000+02:00"),
        ):
            plain = to_data(Measurement(metric="m", value=1, measured_at=text))
            assert plain["measured_at"] == written
            assert "measured_at_zone" not in plain

    def test_a_time_box_keeps_the_zone_of_its_start(self):
        """A time box is start/duration in RFC 3339, the start's zone in time_box_zone."""
        data = to_data(
            Experiment(title="x", time_box="2026-09-14T10:00:00[America/Argentina/Salta]/P6W")
        )
        assert data["time_box"] == "2026-09-14T10:00:00-03:00/P42D"
        assert data["time_box_zone"] == "America/Argentina/Salta"
        assert "time_box_zone" not in to_data(Experiment(title="x", time_box="P6W"))

    @by_kind
    def test_every_time_is_read_by_the_standard_library(self, kind):
        """Each time field is text datetime.fromisoformat reads as the same instant, and
        its zone field names the zone the record's time is in."""

        @settings(max_examples=25)
        @given(record_of(kind))
        def check(record):
            data = to_data(record)
            for name, value in data.items():
                if name.endswith("_zone"):
                    field = name.removesuffix("_zone")
                    moment = getattr(record, field)
                    moment = moment.start if isinstance(moment, TimeBox) else moment
                    assert value == zone_name(moment) is not None
                    continue
                moment = getattr(record, name, None)
                text = value
                if isinstance(moment, TimeBox) and moment.start is not None:
                    moment, text = moment.start, value.partition("/")[0]
                if isinstance(moment, dt.datetime):
                    read = dt.datetime.fromisoformat(text)
                    assert read.utcoffset() is not None
                    assert read.astimezone(dt.UTC) == moment.astimezone(dt.UTC)
                    if zone_name(moment) is None:
                        assert zone_field(name) not in data

        check()

    @given(datetimes())
    def test_equal_times_are_written_identically(self, moment):
        """However a time is given (objects, RFC 3339, RFC 9557, the old form), it is
        written as one text."""
        forms = [
            moment,
            dt.datetime.fromtimestamp(moment.timestamp(), moment.tzinfo),
            zoned_text(moment),
            old_text(moment),
        ]
        written = {
            json.dumps(
                to_data(
                    Measurement(
                        metric="m",
                        value=1,
                        measured_at=form,
                        id="msr_1",
                        created_at="2026-01-01T00:00:00Z",
                    )
                )
            )
            for form in forms
        }
        assert len(written) == 1

    @given(records())
    def test_old_data_upgrades_to_what_is_written_now(self, record):
        """Data schema 2 wrote upgrades to exactly the data written now, keys in order."""
        data = to_data(record)
        upgraded = upgrade(old_form(data))
        assert upgraded == data
        assert list(upgraded) == list(data)
        assert ser.rewritten(json.dumps(old_form(data))) == data
        assert ser.rewritten(json.dumps(data)) is None

    def test_the_export_of_0_1_reads_as_it_was_written(self):
        """Every version 0.1.0 exported reads back, its times and zones as they were."""
        versions = export_data()
        assert {d["schema"] for d in versions} == {2}
        for old in versions:
            record = from_data(old)
            assert upgrade(old) == to_data(record)
            assert list(upgrade(old)) == list(to_data(record))
            for name, value in old.items():
                if name.endswith("_at") and isinstance(value, str):
                    assert zoned_text(getattr(record, name)) == zoned_text(parse_datetime(value))
        art = next(from_data(d) for d in reversed(versions) if d.get("slug") == "art-for-families")
        assert str(art.time_box) == (
            "2026-08-17T08:00:00-03:00[America/Argentina/Buenos_Aires]/P42D"
        )
        assert zoned_text(art.started_at) == "2026-08-17T10:15:30.250000+02:00[Europe/Oslo]"
        assert zoned_text(art.concluded_at) == "2026-09-30T18:00:00+05:30"

    def test_an_offset_that_disagrees_with_the_zone(self):
        """The offset says which instant; the zone how to show it (the zone's rules may
        have changed since the time was written)."""
        data = to_data(Measurement(metric="m", value=1))
        data["measured_at"], data["measured_at_zone"] = "2026-09-14T10:00:00+02:00", "Asia/Tokyo"
        measured = from_data(data).measured_at  # type: ignore[attr-defined]
        assert utc_key(measured) == "2026-09-14T08:00:00.000000Z"
        assert zoned_text(measured) == "2026-09-14T17:00:00+09:00[Asia/Tokyo]"

    @pytest.mark.parametrize(
        ("changes", "error", "message"),
        [
            ({"measured_at_zone": 2}, InvalidTypeError, r"Measurement\.measured_at_zone must be"),
            ({"measured_at_zone": "+02:00"}, ValidationError, "is a UTC offset"),
            ({"measured_at_zone": "Mars/Base"}, ValidationError, "unknown time zone 'Mars/Base'"),
            (
                {"measured_at": None, "measured_at_zone": "Europe/Oslo"},
                ValidationError,
                "names the zone of measured_at, which must then be a time",
            ),
            ({"created_at_zone": "Europe/Oslo"}, SchemaError, "does not know: created_at_zone"),
            ({"measured_at": "2026-09-14T10:00:00"}, ValidationError, "has no time zone"),
        ],
    )
    def test_bad_times_and_zones_are_refused(self, changes, error, message):
        """A zone field that is not a zone's name, or has no time, is refused by name."""
        data = to_data(Measurement(metric="m", value=1)) | changes
        with pytest.raises(error, match=message):
            from_data(data)

    def test_a_null_zone_is_no_zone(self):
        """A zone field of null is read as none."""
        data = to_data(Measurement(metric="m", value=1, measured_at="2026-09-14T08:00:00Z"))
        assert from_data(data | {"measured_at_zone": None}) == from_data(data)

    def test_version_2_next_steps_become_untracked_steps(self):
        """Version 4 follows next steps up: older text becomes steps without owners."""
        learning = to_data(Learning(experiment="exp_1", observation="Seen", id="lrn_1"))
        old = learning | {"schema": 2, "next_action": "Call the families"}
        assert from_data(old).next_action == NextStep("Call the families")
        assert from_data(learning | {"schema": 2, "next_action": ""}).next_action is None
        decision = to_data(Decision(experiment="exp_1", outcome="iterate", id="dec_1"))
        old = decision | {"schema": 2, "next_steps": ["Evening walks", "Invite the youth club"]}
        steps = from_data(old).next_steps  # type: ignore[attr-defined]
        assert steps == (NextStep("Evening walks"), NextStep("Invite the youth club"))
        assert not any(step.tracked for step in steps)

    def test_version_2_prototypes_were_first_shown_as_finished_as_they_are(self):
        """A prototype shown before version 3 keeps its fidelity as the one it was shown at."""
        shown = Prototype(
            experiment="exp_1", title="Leaflet", fidelity="mock-up", shown_at="2026-08-20T10:00:00Z"
        )
        old = {k: v for k, v in to_data(shown).items() if k != "shown_as"} | {"schema": 2}
        assert from_data(old).shown_as is Fidelity.MOCK_UP  # type: ignore[attr-defined]
        unshown = to_data(Prototype(experiment="exp_1", title="Leaflet")) | {"schema": 2}
        del unshown["shown_as"]
        assert from_data(unshown).shown_as is None  # type: ignore[attr-defined]

    def test_version_2_experiments_and_key_results_gain_empty_fields(self):
        """Experiments of version 2 have no template or scope, key results no start day."""
        experiment = to_data(Experiment(title="Walks"))
        old = {k: v for k, v in experiment.items() if k not in ("template", "scope")}
        assert from_data(old | {"schema": 2}) == from_data(experiment)
        key_result = to_data(KeyResult(objective="obj_1", metric="m", baseline=0, target=1))
        old = {k: v for k, v in key_result.items() if k != "since"} | {"schema": 2}
        assert upgrade(old)["since"] is None

    def test_version_6_gave_participants_consent_and_retention(self):
        """An older participant has no consent and no retention, written where they go."""
        person = Participant(role="citizen", name="Bo")
        old = {k: v for k, v in to_data(person).items() if k not in ("consent", "retention")}
        assert from_data(old | {"schema": 5}) == person
        assert upgrade(old | {"schema": 5}) == to_data(person)  # the same keys, in order
        assert list(upgrade(old | {"schema": 5})) == list(to_data(person))
        first = old_form(old) | {"schema": 1}
        assert upgrade(first) == to_data(person)

    def test_consent_times_are_rfc_3339_with_their_offset(self):
        """A consent's times are written in RFC 3339 with their offset, as every time is."""
        consent = Consent(
            purpose="art-afternoons",
            given_at="2026-09-14T10:00:00[Europe/Oslo]",
            how="signed form",
            withdrawn_at="2026-10-01T08:00:00Z",
        )
        data = to_data(Participant(role="citizen", consent=consent))
        assert data["consent"]["given_at"] == "2026-09-14T10:00:00+02:00"
        assert data["consent"]["withdrawn_at"] == "2026-10-01T08:00:00Z"
        assert from_data(data).consent == consent  # type: ignore[attr-defined]


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
