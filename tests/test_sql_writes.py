"""A SQL store's write when its tables disagree: a version already there is refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

import experiments
from experiments import Experiment, Plugins
from experiments.errors import ConflictError
from sql_stores import SQL_BACKENDS, SQLSide, make_side


@pytest.fixture(params=SQL_BACKENDS)
def sql_side(request: pytest.FixtureRequest, tmp_path: Path) -> SQLSide:
    """A new SQL store of each backend in turn, with raw SQL beside it."""
    return make_side(request, tmp_path)


def _open(side: SQLSide) -> experiments.Store:
    return experiments.connect(side.url, plugins=Plugins(autoload=False), create=True)


def _plant_version(side: SQLSide, record_id: str, revision: int) -> None:
    """A stray version row, as a damaged store or a careless hand would leave it."""
    m = side.mark
    side.run(
        (
            f"INSERT INTO versions (id, revision, data) VALUES ({m}, {m}, {m})",  # noqa: S608 - markers
            (record_id, revision, '{"stray": true}'),
        )
    )


def _held(side: SQLSide) -> list[tuple[object, ...]]:
    return side.rows(
        "SELECT r.id, r.revision, v.revision FROM records r "
        "LEFT JOIN versions v ON v.id = r.id ORDER BY r.id, v.revision"
    )


class TestAVersionAlreadyStored:
    def test_a_new_record_is_refused_and_nothing_is_written(self, sql_side: SQLSide) -> None:
        with _open(sql_side) as store:
            kept = store.save(Experiment(title="Kept"))
            fresh = Experiment(title="Fresh")
            _plant_version(sql_side, fresh.id, 1)
            before = _held(sql_side)
            with pytest.raises(ConflictError, match=r"inconsistent.*experiments verify"):
                store.save(fresh)
            assert _held(sql_side) == before
            assert store.get(kept.id) == kept
            assert store.count(Experiment) == 1

    def test_a_next_revision_is_refused_and_the_record_stays(self, sql_side: SQLSide) -> None:
        with _open(sql_side) as store:
            saved = store.save(Experiment(title="Walks"))
            _plant_version(sql_side, saved.id, 2)
            before = _held(sql_side)
            with pytest.raises(ConflictError, match=r"inconsistent.*experiments verify"):
                store.save(saved.evolve(title="Evening walks"))
            assert _held(sql_side) == before
            assert store.get(saved.id) == saved
