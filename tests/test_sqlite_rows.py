"""verify() on a SQLite store's rows of ``records``: each is what its current version
writes, or verify says which record, what differs, and how to put it right."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import (
    Experiment,
    ExperimentsError,
    Measurement,
    Objective,
    Participant,
    Plugins,
    connect,
)
from experiments.stores import Damage, Store
from experiments.testing.strategies import records

#: What verify() says of a row, or of a history without one, and of nothing else.
_ADRIFT = ("its row in records", "records has no row")


def _open(path: Path, *, create: bool = False) -> Store:
    return connect(f"sqlite:///{path}", plugins=Plugins(autoload=False), create=create)


def _adrift(store: Store) -> list[tuple[str | None, str]]:
    """The damage verify() finds in rows of records: (record id, problem)."""
    return [(d.id, d.problem) for d in store.verify() if any(a in d.problem for a in _ADRIFT)]


def _sql(path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement, params)
    connection.close()


@pytest.fixture
def programme(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store of an objective, an experiment with a time box, a measurement, a person
    and a deleted objective, most saved twice or more; and their ids by name."""
    path = tmp_path / "rows.db"
    with _open(path, create=True) as store:
        objective = store.save(Objective(title="Welfare in 100 days"))
        experiment = store.save(
            Experiment(
                slug="safety-walks",
                title="Safety walks",
                objectives=(objective.id,),
                time_box="2026-09-01T08:00:00+02:00/P30D",
                tags=("safety",),
            )
        )
        experiment = store.save(experiment.start(at="2026-09-02T09:00:00+02:00"))
        measurement = store.save(
            Measurement(metric="incidents", value=26, experiment=experiment.id)
        )
        person = store.save(Participant(name="Karin Vestergaard", role="citizen", external=True))
        store.save(person.evolve(department="Crime Prevention"))
        dropped = store.save(Objective(title="Parking in 100 days"))
        store.delete(dropped.id)
        assert store.verify() == []
    return path, {
        "objective": objective.id,
        "experiment": experiment.id,
        "measurement": measurement.id,
        "person": person.id,
        "deleted": dropped.id,
    }


def _only_damage(path: Path) -> Damage:
    """What verify() finds in the store at ``path``: one damage, no more."""
    with _open(path) as store:
        (found,) = store.verify()
    return found


def _mend(path: Path, problem: str, verb: str) -> None:
    """Run the SQL statement (``verb`` ...) a message gives, as it gives it."""
    found = re.search(rf"\(({verb} [^()]*(?:\([^()]*\)[^()]*)*)\)", problem)
    assert found is not None, problem
    _sql(path, found.group(1))


@pytest.mark.parametrize(
    ("record", "change", "columns"),
    [
        ("experiment", "status = 'abandoned'", "status"),
        ("experiment", "objectives = '[]', title = 'Walks'", "title, objectives"),
        ("experiment", "tags = '[\"other\"]'", "tags"),
        ("experiment", "time_box_end = '2099-01-01T00:00:00.000000Z'", "time_box_end"),
        ("experiment", "deleted = 1", "deleted"),
        ("measurement", "value = 4.5", "value"),
        ("person", "external = 0", "external"),
        ("person", "department = NULL", "department"),
        ("deleted", "deleted = 0, title = 'Parking'", "deleted, title"),
    ],
)
def test_a_row_changed_by_hand_is_named_and_a_save_puts_it_right(
    programme: tuple[Path, dict[str, str]], record: str, change: str, columns: str
) -> None:
    path, ids = programme
    _sql(path, f"UPDATE records SET {change} WHERE id = ?", ids[record])  # noqa: S608 - the test's own
    with _open(path) as store:
        (found,) = store.verify()
        assert found.id == ids[record]
        assert f"in {columns}, and queries read the row" in found.problem
        assert "store.save(store.get(id, include_deleted=True))" in found.problem
        store.save(store.get(ids[record], include_deleted=True))
        assert store.verify() == []


@pytest.mark.parametrize("kind", ["objective", "no-such-kind"])
def test_a_row_of_another_kind_is_named_with_the_sql_that_sets_it_back(
    programme: tuple[Path, dict[str, str]], kind: str
) -> None:
    path, ids = programme
    _sql(path, "UPDATE records SET kind = ? WHERE id = ?", kind, ids["measurement"])
    found = _only_damage(path)
    assert found.id == ids["measurement"]
    assert f"is of kind {kind!r}, and its current version is of kind 'measurement'" in (
        found.problem
    )
    _mend(path, found.problem, "UPDATE")
    with _open(path) as store:
        assert store.verify() == []


@pytest.mark.parametrize(
    ("record", "revision"),
    [("experiment", 9), ("person", 1)],
    ids=["beyond its history", "an older version"],
)
def test_a_row_off_its_latest_version_is_named_with_the_sql_that_sets_it_back(
    programme: tuple[Path, dict[str, str]], record: str, revision: int
) -> None:
    path, ids = programme
    _sql(path, "UPDATE records SET revision = ? WHERE id = ?", revision, ids[record])
    found = _only_damage(path)
    assert found.id == ids[record]
    assert f"names revision {revision}, and its history holds versions up to revision 2" in (
        found.problem
    )
    _mend(path, found.problem, "UPDATE")
    with _open(path) as store:
        store.save(store.get(ids[record]))
        assert store.verify() == []


def test_a_row_without_any_history_is_named_with_the_sql_that_removes_it(
    programme: tuple[Path, dict[str, str]],
) -> None:
    path, _ = programme
    _sql(
        path,
        "INSERT INTO records (id, kind, revision, deleted) VALUES (?, 'experiment', 1, 0)",
        "exp_made_by_hand",
    )
    found = _only_damage(path)
    assert found.id == "exp_made_by_hand"
    _mend(path, found.problem, "DELETE")
    with _open(path) as store:
        assert store.verify() == []


@pytest.mark.parametrize("record", ["experiment", "deleted"])
def test_a_history_without_its_row_is_named_with_the_sql_that_gives_it_one(
    programme: tuple[Path, dict[str, str]], record: str
) -> None:
    """No query sees such a record; the message's statement and a save bring it back."""
    path, ids = programme
    _sql(path, "DELETE FROM records WHERE id = ?", ids[record])
    with _open(path) as store:
        assert store.find(ids[record], include_deleted=True) is None
    found = _only_damage(path)
    assert found.id == ids[record]
    assert "records has no row for it, so no query or roll-up sees it" in found.problem
    _mend(path, found.problem, "INSERT")
    with _open(path) as store:
        store.save(store.get(ids[record], include_deleted=True))
        assert store.verify() == []
        assert store.find(ids[record], include_deleted=True) is not None


def test_a_row_whose_id_was_changed_is_named_from_both_sides(
    programme: tuple[Path, dict[str, str]],
) -> None:
    path, ids = programme
    _sql(path, "UPDATE records SET id = 'exp_renamed' WHERE id = ?", ids["experiment"])
    with _open(path) as store:
        found = store.verify()
    assert sorted(d.id or "" for d in found) == sorted(["exp_renamed", ids["experiment"]])
    assert all("id was changed, set it back" in d.problem for d in found)
    _sql(path, "UPDATE records SET id = ? WHERE id = 'exp_renamed'", ids["experiment"])
    with _open(path) as store:
        assert store.verify() == []


@pytest.mark.parametrize(
    "change",
    [
        "json_set(data, '$.kind', json('[1]'))",
        "json_set(data, '$.kind', 'note')",
        "json_set(data, '$.revision', 7)",
        "json_set(data, '$.id', 'msr_another')",
    ],
    ids=["kind no text", "kind of another record", "revision", "id"],
)
def test_damage_in_a_version_is_not_blamed_on_its_row(
    programme: tuple[Path, dict[str, str]], change: str
) -> None:
    """A version whose content is not its key's, or no record: the row is not to blame,
    and no fix of the row is offered."""
    path, ids = programme
    _sql(path, f"UPDATE versions SET data = {change} WHERE id = ?", ids["measurement"])  # noqa: S608
    with _open(path) as store:
        assert _adrift(store) == []


def test_a_revision_that_is_no_number_gets_no_sql(
    programme: tuple[Path, dict[str, str]],
) -> None:
    """Text in the history's revision column is never pasted into a statement."""
    path, ids = programme
    _sql(
        path,
        "INSERT INTO versions (id, revision, data) SELECT id, '0 WHERE 1 --', data "
        "FROM versions WHERE id = ? AND revision = 1",
        ids["measurement"],
    )
    with _open(path) as store:
        (found,) = _adrift(store)
    assert found[0] == ids["measurement"]
    assert "which is no whole number" in found[1]
    assert "UPDATE" not in found[1]
    assert "restore the store from a backup" in found[1]


def test_a_version_no_record_can_hold_is_named_once_and_its_row_left_alone(
    programme: tuple[Path, dict[str, str]],
) -> None:
    """Its row cannot be compared with what it says: reading it is what names it."""
    path, ids = programme
    _sql(
        path,
        "UPDATE versions SET data = json_set(data, '$.measured_at', 'soon', '$.value', "
        "'many') WHERE id = ?",
        ids["measurement"],
    )
    with _open(path) as store:
        damage = store.verify()
    assert [d.id for d in damage] == [ids["measurement"]]
    assert "records" not in damage[0].problem


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(saved=st.lists(records(), max_size=6), deleted=st.integers(min_value=0, max_value=6))
def test_every_row_the_library_writes_agrees_with_its_version(
    saved: list[object], deleted: int
) -> None:
    """No record of any kind, with any values the model takes (times in any zone, lists,
    flags, structured fields, floats), saved, changed or deleted, makes verify() speak of
    its row."""
    with (
        tempfile.TemporaryDirectory() as directory,
        _open(Path(directory) / "any.db", create=True) as store,
    ):
        kept = []
        for record in saved:
            try:
                kept.append(store.save(record))  # type: ignore[arg-type]
            except ExperimentsError:
                continue  # a record the store's rules refuse (a dangling template, say)
        for record in kept[:deleted]:
            store.delete(record.id)
        assert _adrift(store) == []
