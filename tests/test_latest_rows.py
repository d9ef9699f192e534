"""Each group's latest record, as SQLite picks it with one MAX() instead of a window.

A query whose only minimum or maximum is a ``MAX()`` takes its other columns from the
row holding it in SQLite; the latest values by a time are read that way, in one pass
over the rows.  What it picks must be what the streaming fallback picks: the latest
time, a missing time last, ties by the greatest id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments
from experiments import Experiment, Learning, Plugins
from experiments.query import (
    Count,
    CountDistinct,
    F,
    Latest,
    Max,
    Min,
    bind,
    bind_group_by,
    bind_measures,
)
from experiments.stores import _sql, _sqlite_dialect
from experiments.stores._postgres_dialect import DIALECT as POSTGRES

#: A few moments, so that experiments often start at the same one.
MOMENTS: Final = [pendulum.datetime(2026, 3, day, 9, tz="Europe/Oslo") for day in (1, 1, 2, 5)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[experiments.Store]:
    """An empty SQLite store."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with experiments.connect(url, plugins=Plugins(autoload=False), create=True) as opened:
        yield opened


def _sql_of(dialect: Any, kind: str, group_by: list[str], measures: dict[str, Any]) -> str:
    query, _, _ = _sql.aggregate_sql(
        dialect,
        "current",
        kind,
        bind(kind, F.title != None),  # noqa: E711 - set
        bind_group_by(kind, group_by),
        bind_measures(kind, measures),
        include_deleted=False,
    )
    return query


def _both(store: experiments.Store, **query: Any) -> tuple[list[Any], list[Any]]:
    engine = sorted(store.aggregate_tuples(Experiment, **query), key=repr)
    python = [tuple(row.values()) for row in store.aggregate(Experiment, pushdown=False, **query)]
    return engine, sorted(python, key=repr)


class TestLatestByOneMax:
    def test_sqlite_reads_the_latest_without_a_window(self) -> None:
        """SQLite's query for the latest values by a time numbers no rows; PostgreSQL's does."""
        measures = {"title": Latest("title", by="started_at"), "n": Count()}
        sqlite = _sql_of(_sqlite_dialect.DIALECT, "experiment", ["owner"], measures)
        assert "ROW_NUMBER" not in sqlite
        assert "ROW_NUMBER" in _sql_of(POSTGRES, "experiment", ["owner"], measures)

    @pytest.mark.parametrize(
        "measures",
        [
            {"title": Latest("title", by="started_at"), "first": Min("started_at")},
            {"title": Latest("title", by="started_at"), "last": Max("created_at")},
            {"title": Latest("title", by="status")},
        ],
        ids=["another-minimum", "another-maximum", "not-by-a-time"],
    )
    def test_a_window_where_one_max_would_not_do(self, measures: dict[str, Any]) -> None:
        """Another minimum or maximum, or an order that is not a time, keeps the window."""
        assert "ROW_NUMBER" in _sql_of(_sqlite_dialect.DIALECT, "experiment", ["owner"], measures)

    def test_ties_go_to_the_greatest_id(self, store: experiments.Store) -> None:
        """Two learnings observed at the same moment: the one with the greater id is latest."""
        moment = MOMENTS[0]
        saved = store.save_all(
            [
                Learning(experiment="e", observation=f"seen {n}", observed_at=moment, id=f"lrn_{n}")
                for n in (3, 9, 5)
            ]
        )
        assert len(saved) == 3
        rows = list(
            store.aggregate_tuples(
                Learning,
                group_by=["experiment"],
                measures={"id": Latest("id", by="observed_at"), "n": Count()},
            )
        )
        assert rows == [("e", "lrn_9", 3)]

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        plans=st.lists(
            st.tuples(
                st.sampled_from(["Culture", "Schools", None]),
                st.one_of(st.none(), st.sampled_from(MOMENTS)),
                st.sampled_from([(), ("pilot",), ("pilot", "welfare")]),
                st.sampled_from(["e1", "e22", "e333"]),
            ),
            min_size=1,
            max_size=12,
        ),
        group_by=st.sampled_from([["owner"], ["owner", "status"], ["tags"], ["status"]]),
        beside=st.lists(st.sampled_from(["last", "n", "owners", "first"]), unique=True, max_size=3),
    )
    def test_what_sqlite_picks_is_what_the_fallback_picks(
        self,
        store: experiments.Store,
        plans: list[tuple[str | None, pendulum.DateTime | None, tuple[str, ...], str]],
        group_by: list[str],
        beside: list[str],
    ) -> None:
        """Latest title by start, beside other measures and under other groups: as Python."""
        for experiment in store.query(Experiment, include_deleted=True):
            store.purge(experiment)
        made = []
        for number, (owner, started, tags, prefix) in enumerate(plans):
            experiment = Experiment(
                id=f"{prefix}-{number}", title=f"Walk {number}", owner=owner, tags=tags
            )
            made.append(experiment if started is None else experiment.start(at=started))
        store.save_all(made)
        others = {
            "last": Max("started_at"),
            "n": Count(),
            "owners": CountDistinct("owner"),
            "first": Min("started_at"),  # a second minimum: SQLite keeps its window
        }
        measures = {"title": Latest("title", by="started_at")}
        measures.update({name: others[name] for name in beside})
        engine, python = _both(store, group_by=group_by, measures=measures)
        assert engine == python
