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
from experiments.stores import Store
from experiments.testing.strategies import records

_ADRIFT = "its row in records"


def _open(path: Path, *, create: bool = False) -> Store:
    return connect(f"sqlite:///{path}", plugins=Plugins(autoload=False), create=create)


def _adrift(store: Store) -> list[tuple[str | None, str]]:
    """The damage verify() finds in rows of records: (record id, problem)."""
    return [(d.id, d.problem) for d in store.verify() if _ADRIFT in d.problem]


def _sql(path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement, params)
    connection.close()


@pytest.fixture
def programme(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A store of an objective, an experiment with a time box, a measurement and a
    person, each saved twice or more; and their ids by name."""
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
        assert _adrift(store) == []
    return path, {
        "objective": objective.id,
        "experiment": experiment.id,
        "measurement": measurement.id,
        "person": person.id,
    }


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
    ],
)
def test_a_row_changed_by_hand_is_named_and_a_save_puts_it_right(
    programme: tuple[Path, dict[str, str]], record: str, change: str, columns: str
) -> None:
    path, ids = programme
    _sql(path, f"UPDATE records SET {change} WHERE id = ?", ids[record])  # noqa: S608 - the test's own
    with _open(path) as store:
        (found,) = _adrift(store)
        assert found[0] == ids[record]
        assert f"in {columns}:" in found[1]
        assert "store.save(store.get(id))" in found[1]
        store.save(store.get(ids[record]))
        assert _adrift(store) == []
        assert store.verify() == []


def test_a_row_of_another_kind_is_named_with_the_sql_that_sets_it_back(
    programme: tuple[Path, dict[str, str]],
) -> None:
    path, ids = programme
    _sql(path, "UPDATE records SET kind = 'objective' WHERE id = ?", ids["measurement"])
    with _open(path) as store:
        (found,) = _adrift(store)
    assert found[0] == ids["measurement"]
    assert "is of kind 'objective', and its current version is a measurement" in found[1]
    fix = re.search(r"\((UPDATE records [^)]*)\)", found[1])
    assert fix is not None
    _sql(path, fix.group(1))
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
    with _open(path) as store:
        (found,) = _adrift(store)
    assert found[0] == ids[record]
    assert f"names revision {revision}, and its history holds versions up to revision 2" in found[1]
    fix = re.search(r"\((UPDATE records [^)]*)\)", found[1])
    assert fix is not None
    _sql(path, fix.group(1))  # what the message says, as it says it
    with _open(path) as store:
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
    with _open(path) as store:
        (found,) = _adrift(store)
    assert found[0] == "exp_made_by_hand"
    fix = re.search(r"\((DELETE FROM records [^)]*)\)", found[1])
    assert fix is not None
    _sql(path, fix.group(1))
    with _open(path) as store:
        assert store.verify() == []


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
    assert _ADRIFT not in damage[0].problem


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
