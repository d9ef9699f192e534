"""The access export: everything held on one person, as one JSON document with a schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import experiments
from experiments import Learning, Participant, Participation, Phase, Plugins, access
from experiments.errors import NotFoundError
from experiments.stores import Store
from people import person as stored_person
from report_programmes import municipality, validator_for
from test_privacy import _run


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return validator_for(access.schema())


def _listed(document: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...], bool]]:
    return {(r["kind"], r["id"], tuple(r["fields"]), r["quotes"]) for r in document["records"]}


class TestGather:
    """The document lists exactly what refers to the person, every version of it."""

    def test_the_family_worker_against_a_hand_made_list(self, any_store, validator) -> None:
        """Lise Dahl: the sprint team, two of its phases, her participation, a learning
        that also quotes her, and a facilitator quote."""
        store: Store = any_store
        municipality.record_programme(store)
        lise = store.get_by_slug(Participant, "family-worker")
        art = store.get_by_slug("experiment", "art-for-families")
        sprint = store.get_by_slug("sprint", "welfare-sprint")
        learning = next(store.query(Learning, experiment=art.id))
        phases = {p.position: p.id for p in store.query(Phase, sprint=sprint.id)}
        # By hand, from examples/municipality.py: the sprint's team (line "people[p] for p
        # in ('family-worker', ..."), the phases "Kick-off with the sprint team and the
        # council" (1) and "Design days with citizens and associations" (2) she takes
        # part in, the art experiment's facilitators=["Lise Dahl"], her participation in
        # it, and the learning she was heard in, whose next step she owns
        # (owner="Lise Dahl").
        taking_part = Participation(experiment=art, participant=lise).id
        expected = {
            ("sprint", sprint.id, ("team",), False),
            ("phase", phases[1], ("participants",), False),
            ("phase", phases[2], ("participants",), False),
            ("experiment", art.id, (), True),
            ("participation", taking_part, ("participant",), False),
            ("learning", learning.id, ("participants",), True),
        }
        store.save(sprint.evolve(challenge="Welfare with citizens, in 100 days"))
        document = access.gather(store, lise.id)
        validator.validate(document)
        assert _listed(document) == expected
        assert document["participant"] == lise.id
        assert [v["name"] for v in document["versions"]] == ["Lise Dahl"]
        by_id = {r["id"]: r for r in document["records"]}
        assert [v["revision"] for v in by_id[sprint.id]["versions"]] == [1, 2]
        assert [v["revision"] for v in by_id[art.id]["versions"]] == list(
            range(1, art.revision + 1)
        )

    def test_other_people_stay_unnamed(self, plugins: Plugins, validator) -> None:
        """A record about two people shows the other one by what stands for them."""
        with experiments.connect("memory://", plugins=plugins) as store:
            municipality.record_programme(store)
            sara = stored_person(store, "parent-1")
            jens = stored_person(store, "parent-3")
            learning = next(r for r in store.query(Learning) if sara.id in r.participants)
            store.save(learning.evolve(insight="Jens K. brought Sara M. along"))
            document = access.gather(store, sara.id)
            validator.validate(document)
            text = json.dumps(document)
            assert "Jens K." not in text
            assert jens.anonymous_name in text
            assert "Sara M." in text  # her own data is hers to see
            quoted = next(r for r in document["records"] if r["id"] == learning.id)
            assert quoted["quotes"] is True

    def test_only_a_participant(self, plugins: Plugins) -> None:
        """An id that is not a participant's is not found."""
        with experiments.connect("memory://", plugins=plugins) as store:
            objective = store.save(experiments.Objective(title="Welfare"))
            with pytest.raises((NotFoundError, experiments.errors.ValidationError)):
                access.gather(store, objective.id)


class TestAccessCommand:
    """`experiments access` writes the document to a file or standard output."""

    def test_file_and_standard_output(
        self, tmp_path: Path, plugins: Plugins, validator: Any
    ) -> None:
        """Both hold the same valid document; the file is announced on stderr."""
        url = f"sqlite:///{tmp_path}/programme.db"
        with experiments.connect(url, plugins=plugins, create=True) as store:
            municipality.record_programme(store)
            person = stored_person(store, "parent-3").id
        done = _run(url, "access", person)
        assert done.exit_code == 0, done.output
        shown = json.loads(done.stdout)
        validator.validate(shown)
        written = _run(url, "access", person, "-o", str(tmp_path / "access.json"))
        assert written.exit_code == 0, written.output
        assert "access document written to" in written.stderr
        told = _run(url, "--json", "access", person, "-o", str(tmp_path / "again.json"))
        assert json.loads(told.stdout) == {"output": str(tmp_path / "again.json")}
        on_disk = json.loads((tmp_path / "access.json").read_text(encoding="utf-8"))
        assert _listed(on_disk) == _listed(shown)
        assert {r["kind"] for r in shown["records"]} == {"learning", "participation", "phase"}
