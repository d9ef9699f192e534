"""Consent and retention: recorded, upgraded, checked, and erased when due."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

import experiments
from experiments import Consent, Participant, Participation, Plugins
from experiments.checks import run_checks
from experiments.errors import ValidationError
from experiments.model.asof import after, consent_in_force, consent_withdrawn, retention_passed
from experiments.rollup import rollup
from experiments.serialization import from_data, to_data, to_json
from experiments.stores import Store
from people import person as stored_person
from report_programmes import municipality
from test_privacy import _run

AT = pendulum.parse("2026-11-27T12:00:00+01:00")
GIVEN = "2026-08-20T10:00:00+02:00"


def _consent(**changes: Any) -> Consent:
    fields = {"purpose": "art-for-families", "given_at": GIVEN, "how": "signed form"}
    return Consent(**{**fields, **changes})


class TestConsentModel:
    """A consent is validated, stored and read back; old participants upgrade to none."""

    def test_round_trip(self) -> None:
        """A participant with consent and retention reads back equal from JSON."""
        person = Participant(
            role="citizen",
            consent=_consent(recorded_by="Lise", withdrawn_at="2026-09-01T08:00:00Z"),
            retention="P2Y",
        )
        data = json.loads(to_json(person))
        assert data["consent"]["purpose"] == "art-for-families"
        assert data["retention"] == "P2Y"
        assert from_data(data) == person

    def test_schema_2_participant_upgrades(self) -> None:
        """A participant stored before consent existed has none, and no retention."""
        data = to_data(Participant(role="citizen"))
        for field in ("consent", "retention"):
            del data[field]
        data["schema"] = 2
        upgraded = from_data(data)
        assert isinstance(upgraded, Participant)
        assert (upgraded.consent, upgraded.retention) == (None, None)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"purpose": ""}, "Consent.purpose"),
            ({"given_at": "yesterday"}, "Consent.given_at"),
            ({"how": 3}, "Consent.how"),
        ],
    )
    def test_bad_consent_is_refused(self, changes: dict[str, Any], field: str) -> None:
        """A consent without purpose, time or how is refused, naming the field."""
        fields = {"purpose": "art", "given_at": GIVEN, "how": "signed form", **changes}
        with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
            Consent(**fields)

    def test_bad_retention_is_refused(self) -> None:
        """A retention that is no ISO 8601 duration is refused."""
        with pytest.raises(ValidationError, match=r"Participant\.retention"):
            Participant(role="citizen", retention="two years")

    def test_covers_names_case_aside(self) -> None:
        """A purpose covers an experiment named by any of its names, case aside."""
        assert _consent().covers(["exp_1", "Art-For-Families"])
        assert not _consent().covers(["safety-walks", "welfare"])


class TestTimeRules:
    """Consent and retention at a moment: one rule each, in model/asof.py."""

    def test_consent_in_force_and_withdrawn(self) -> None:
        """In force from given_at until withdrawn_at; withdrawn from then on."""
        withdrawn = _consent(withdrawn_at="2026-10-01T00:00:00Z")
        before = pendulum.parse("2026-08-20T07:59:59Z")
        assert not consent_in_force(withdrawn, before)
        assert consent_in_force(withdrawn, pendulum.parse("2026-09-30T23:59:59Z"))
        assert not consent_in_force(withdrawn, pendulum.parse("2026-10-01T00:00:00Z"))
        assert consent_withdrawn(withdrawn, pendulum.parse("2026-10-01T00:00:00Z"))
        assert not consent_withdrawn(withdrawn, pendulum.parse("2026-09-30T23:59:59Z"))
        assert not consent_withdrawn(None, AT)
        assert not consent_in_force(None, AT)

    @given(
        days=st.integers(0, 2000),
        months=st.integers(0, 48),
        offset=st.integers(-3, 3),
    )
    def test_retention_passes_when_its_period_has_run(
        self, days: int, months: int, offset: int
    ) -> None:
        """Passed exactly from recorded_at + period on, on the calendar, never before."""
        recorded = pendulum.parse("2024-02-29T23:30:00Z")
        period = pendulum.duration(months=months, days=days)
        end = after(recorded, period)
        assert end is not None
        at = end.add(seconds=offset)
        assert retention_passed(recorded, period, at) is (offset >= 0)
        assert not retention_passed(recorded, None, at)


def _people(store: Store) -> dict[str, Participant]:
    """Four citizens in the art experiment: withdrawn, expired, fine, and without consent."""
    art = store.get_by_slug("experiment", "art-for-families")
    made = {
        "withdrawn": Participant(
            role="citizen",
            name="Wanda W.",
            consent=_consent(withdrawn_at="2026-10-02T09:00:00+02:00"),
        ),
        "expired": Participant(
            role="citizen",
            name="Eero E.",
            consent=_consent(),
            retention="P1M",
            created_at="2026-08-01T00:00:00Z",
            updated_at="2026-08-01T00:00:00Z",
        ),
        "fine": Participant(role="citizen", name="Fiona F.", consent=_consent(), retention="P5Y"),
        "other": Participant(role="user", name="Otto O.", consent=_consent(purpose="walks")),
    }
    saved = {key: store.save(person) for key, person in made.items()}
    for person in saved.values():
        store.save(Participation(experiment=art, participant=person, stance="critical"))
    return saved


class TestChecks:
    """Withdrawn consent, passed retention and another purpose are flagged; missing on request."""

    @pytest.fixture
    def store(self, plugins: Plugins) -> Any:
        with experiments.connect("memory://", plugins=plugins) as store:
            municipality.record_programme(store)
            yield store, _people(store)

    def _found(self, store: Store, check: str, **options: Any) -> set[str]:
        report = run_checks(store, at=AT, options=options)
        return {c.id for f in report.findings if f.check == check for c in f.concerns}

    def test_withdrawn_and_past_retention_are_flagged(self, store) -> None:
        """Exactly the withdrawn and the expired participant are errors."""
        store, people = store
        assert self._found(store, "privacy/consent-withdrawn") == {people["withdrawn"].id}
        assert self._found(store, "privacy/retention-passed") == {people["expired"].id}

    def test_consent_for_another_purpose(self, store) -> None:
        """Consent to 'walks' does not cover the art experiment."""
        store, people = store
        found = self._found(store, "privacy/consent-other-purpose")
        assert people["other"].id in found
        assert people["fine"].id not in found

    def test_missing_consent_only_where_required(self, store) -> None:
        """Without the option nothing is missing; with it, external people without consent."""
        store, _ = store
        assert self._found(store, "privacy/consent-missing") == set()
        required = {"privacy/consent-missing": {"external": True}}
        found = self._found(store, "privacy/consent-missing", **required)
        parent = stored_person(store, "parent-3").id
        assert parent in found

    def test_the_store_setting_requires_it(self, store) -> None:
        """require-consent-for-external on the store turns the check on; the option wins."""
        store, _ = store
        store.configure("require-consent-for-external", True)
        parent = stored_person(store, "parent-3").id
        assert parent in self._found(store, "privacy/consent-missing")
        off = {"privacy/consent-missing": {"external": False}}
        assert self._found(store, "privacy/consent-missing", **off) == set()
        store.configure("require-consent-for-external", None)
        assert self._found(store, "privacy/consent-missing") == set()


class TestEraseDue:
    """`erase --due` erases exactly the withdrawn and the expired, on every backend."""

    def test_exactly_those_and_the_counts_stay(self, any_store) -> None:
        """The due list is the two; erasing them keeps the roll-up; nobody is due after."""
        store = any_store
        municipality.record_programme(store)
        people = _people(store)
        due = {p.id for p in store.due_for_erasure(AT)}
        assert due == {people["withdrawn"].id, people["expired"].id}
        before = repr(rollup(store, None, at=AT))
        reports = store.erase_due(AT)
        assert {r.participant for r in reports} == due
        assert all("consent" in r.removed for r in reports)
        for version in store.history(people["expired"].id):
            assert (version.consent, version.retention, version.name) == (None, None, None)
        assert repr(rollup(store, None, at=AT)) == before
        assert store.due_for_erasure(AT) == []
        held = "".join(to_json(r) for r in store.export())
        assert "Wanda" not in held
        assert "Eero" not in held
        assert "Fiona F." in held
        found = run_checks(store, at=AT).findings
        assert not [f for f in found if f.check.startswith("privacy/consent-withdrawn")]
        assert not [f for f in found if f.check.startswith("privacy/retention-passed")]


class TestEraseReachesConsents:
    """A name in another participant's consent (who recorded it) is erased too."""

    def test_recorded_by_is_rewritten(self, plugins: Plugins) -> None:
        """Erasing the worker who recorded a consent leaves their role in its place."""
        with experiments.connect("memory://", plugins=plugins) as store:
            worker = store.save(Participant(role="frontline-employee", name="Rita Recorder"))
            citizen = store.save(
                Participant(role="citizen", consent=_consent(recorded_by="Rita Recorder"))
            )
            report = store.erase(worker)
            assert citizen.id in report.quoted_in
            consent = store.get(citizen.id).consent
            assert consent is not None
            assert consent.recorded_by == "erased frontline-employee"
            assert consent.purpose == "art-for-families"


class TestCommands:
    """`experiments consent` records and withdraws; `erase --due` erases who is due."""

    def test_consent_then_withdraw_then_erase_due(self, tmp_path: Path, plugins: Plugins) -> None:
        """The command line records a consent, withdraws it, and erases the person."""
        url = f"sqlite:///{tmp_path}/programme.db"
        with experiments.connect(url, plugins=plugins, create=True) as store:
            person = store.save(Participant(role="citizen", name="Vera V.", pseudonymous=True))
        done = _run(url, "--json", "consent", person.id, "--purpose", "art", "--how", "form")
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["consent"]["purpose"] == "art"
        assert _run(url, "erase", "--due", "--yes").stdout.strip() == "nobody is due for erasure"
        done = _run(url, "consent", person.id, "--withdraw")
        assert done.exit_code == 0, done.output
        done = _run(url, "--json", "erase", "--due", "--yes")
        assert done.exit_code == 0, done.output
        assert [r["participant"] for r in json.loads(done.stdout)] == [person.id]
        assert "Vera" not in done.stdout
        refused = _run(url, "erase", person.id, "--due")
        assert refused.exit_code == 2
        assert "not both" in refused.stderr
