"""Every documented filter and order is served by an index: the query plans say so.

The queries are those of docs/sql.md's table of indexed filters (the command line's
``--where``, ``--filter`` and ``--order``, ``store.query`` and the roll-up's look-ups).
SQLite's plan is read with ``EXPLAIN QUERY PLAN`` on a store as it is written (no
``ANALYZE``); PostgreSQL's with ``EXPLAIN`` after ``ANALYZE`` and with sequential scans
off, so that only a full index scan of the kind could stand in for the field's index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

import experiments
from experiments import (
    Decision,
    Excuse,
    Experiment,
    Hypothesis,
    KeyResult,
    Learning,
    Measurement,
    Objective,
    Participant,
    Participation,
    Plugins,
    Sprint,
)
from experiments.query import (
    CountDistinct,
    F,
    Latest,
    bind,
    bind_group_by,
    bind_measures,
    parse_order,
    parse_where,
)
from experiments.stores import _indexes, _postgres_dialect, _sql, _sqlite_dialect
from sql_stores import SQL_BACKENDS, SQLSide, make_side, sqlite_plan

#: (kind, filter, order, the field whose index must serve it), as docs/sql.md lists them.
QUERIES: Final = (
    ("experiment", "status = running", None, "status"),
    ("experiment", "status in (planned, running)", None, "status"),
    ("experiment", "tag = pilot", None, "tags"),
    ("experiment", "objective = {objective}", None, "objectives"),
    ("experiment", "owner = 'Culture'", None, "owner"),
    ("experiment", "sprint = {sprint}", None, "sprint"),
    ("experiment", "slug = walks-7", None, "slug"),
    ("hypothesis", "experiment = {experiment}", None, "experiment"),
    ("learning", "hypothesis = {hypothesis}", None, "hypothesis"),
    ("learning", "participant = {participant}", None, "participants"),
    ("measurement", "key_result = {key_result}", None, "key_result"),
    ("measurement", "metric = 'visits 7'", None, "metric"),
    ("measurement", "measured_at >= 2026-09-20", None, "measured_at"),
    ("measurement", "participant = {participant}", None, "participant"),
    ("measurement", None, "measured_at", "measured_at"),
    ("measurement", None, "-measured_at", "measured_at"),
    ("measurement", "measured_at >= 2026-09-20", "-measured_at", "measured_at"),
    ("objective", "parent = {objective}", None, "parent"),
    ("key-result", "objective = {objective}", None, "objective"),
    ("participation", "participant = {participant}", None, "participant"),
    ("participation", "stance = critical", None, "stance"),
    ("decision", "revises = {decision}", None, "revises"),
    ("excuse", "objective = {objective}", None, "objective"),
    ("sprint", "team = {participant}", None, "team"),
)


def _programme(store: experiments.Store) -> dict[str, str]:
    """A programme large enough that a scan and an index differ: ids to filter on."""
    objectives = store.save_all(
        Objective(title=f"Objective {n}", parent=None if n < 5 else f"obj-{n % 5}", slug=f"obj-{n}")
        for n in range(30)
    )
    people = store.save_all(
        Participant(role="citizen", department=f"D{n % 7}", slug=f"p-{n}") for n in range(60)
    )
    sprints = store.save_all(
        Sprint(title=f"Sprint {n}", team=(people[n].id, people[n + 1].id)) for n in range(20)
    )
    experiments_ = store.save_all(
        Experiment(
            title=f"Walks {n}",
            slug=f"walks-{n}",
            objectives=(objectives[n % 30].id,),
            owner=f"Owner {n % 40}",
            sprint=sprints[n % 20].id,
            tags=["pilot"] if n % 50 == 0 else ["other"],
        )
        for n in range(300)
    )
    hypotheses = store.save_all(
        Hypothesis(experiment=e, statement="we believe that it helps") for e in experiments_
    )
    results = store.save_all(
        KeyResult(objective=objectives[n], metric=f"m{n}", baseline=0, target=10) for n in range(30)
    )
    store.save_all(
        Measurement(
            key_result=results[n % 30],
            metric=f"visits {n % 40}",
            value=n,
            measured_at=f"2026-09-{1 + n % 28:02d}T10:00:00Z",
            participant=people[n % 60],
        )
        for n in range(1200)
    )
    store.save_all(
        Participation(
            experiment=experiments_[n % 300],
            participant=people[n % 60 if n < 300 else (n + 1) % 60],
            stance="critical" if n % 40 == 0 else "supportive",
        )
        for n in range(600)
    )
    store.save_all(
        Learning(
            experiment=h.experiment,
            hypothesis=h,
            observation="seen",
            verdict="supports",
            evidence="moderate",
            participants=(people[n % 60].id,),
        )
        for n, h in enumerate(hypotheses)
    )
    decisions = store.save_all(
        Decision(experiment=e, outcome="iterate") for e in experiments_[:100]
    )
    store.save_all(
        Excuse(group=f"G{n}", reason="no-time", objective=objectives[n % 30]) for n in range(60)
    )
    return {
        "objective": objectives[3].id,
        "sprint": sprints[3].id,
        "experiment": experiments_[3].id,
        "hypothesis": hypotheses[3].id,
        "participant": people[3].id,
        "key_result": results[3].id,
        "decision": decisions[3].id,
    }


@pytest.fixture(scope="module", params=SQL_BACKENDS)
def programme(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[SQLSide, dict[str, str]]:
    """A store of each SQL backend holding the programme, made once for the module."""
    side = make_side(request, tmp_path_factory.mktemp("indexes"))
    with experiments.connect(side.url, plugins=Plugins(autoload=False), create=True) as store:
        ids = _programme(store)
    if side.backend == "postgres":
        side.run("ANALYZE records")
    return side, ids


def _query(side: SQLSide, kind: str, where: str | None, order: str | None, ids: dict[str, str]):
    bound = bind(kind, parse_where(None if where is None else where.format(**ids)))
    limit = None if order is None else 20  # a page in order, as `--order F --limit 20` reads
    if side.backend == "sqlite":
        return _sql.select_sql(
            _sqlite_dialect.DIALECT,
            "current",
            kind,
            bound,
            parse_order(kind, order),
            limit,
            0,
            False,
        )
    return _sql.select_sql(
        _postgres_dialect.DIALECT,
        "records",
        kind,
        bound,
        parse_order(kind, order),
        limit,
        0,
        False,
    )


def _index_of(field: str) -> str:
    return "elements" if field in _indexes.LIST_FIELDS else f"records_{field}"


def _plan(side: SQLSide, sql: str, params: list[Any]) -> str:
    if side.backend == "sqlite":
        assert side.path is not None
        return sqlite_plan(side.path, sql, tuple(params))
    rows = side.run("SET enable_seqscan = off", (f"EXPLAIN {sql}", tuple(params)))[-1]
    return "\n".join(str(row[0]) for row in rows)


class TestIndexes:
    """The plan of each documented query uses the index of its field, never a scan of the kind."""

    @pytest.mark.parametrize(("kind", "where", "order", "field"), QUERIES)
    def test_documented_query_uses_its_index(self, programme, kind, where, order, field):
        """The query's plan searches the field's index; an order needs no sort of the kind."""
        side, ids = programme
        sql, params = _query(side, kind, where, order, ids)
        plan = _plan(side, sql, params)
        index = _index_of(field)
        if side.backend == "postgres" and field in _indexes.LIST_FIELDS:
            index = f"records_{field}"
        assert index in plan, f"{kind} {where or ''} {order or ''}: no {index} in\n{plan}"
        if side.backend == "sqlite":
            assert "SCAN r" not in plan, plan
            if order is not None:
                assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            assert "Seq Scan" not in plan, plan
            if order is not None:
                assert "Sort Key" not in plan or "Presorted Key" in plan, plan

    def test_every_indexed_field_is_queried(self):
        """Each field the layouts index has a documented query here."""
        queried = {field for *_, field in QUERIES}
        indexed = {
            *_indexes.SCALAR_FIELDS,
            *_indexes.ORDERED_FIELDS,
            *_indexes.LIST_FIELDS,
        }
        assert indexed - queried == set()

    def test_the_documented_table_lists_every_query(self):
        """docs/sql.md shows each of these queries in its table of indexed filters."""
        page = (Path(__file__).parent.parent / "docs" / "sql.md").read_text(encoding="utf-8")
        for kind, where, order, _ in QUERIES:
            shown = where.split(" ")[0] if where else f"--order {order}"
            assert f"`{shown}`" in page, f"docs/sql.md does not list {kind}: {shown}"


#: The roll-up's "latest by time" of each group: kind, group, measures, the filter, and
#: the index that answers it alone.
LATEST: Final = (
    (
        "measurement",
        "key_result",
        {"value": Latest("value", by="measured_at")},
        (F.measured_at <= "2027-01-01T00:00:00Z") & (F.key_result != None),  # noqa: E711
        "key_result",
    ),
    (
        "learning",
        "hypothesis",
        {
            "verdict": Latest("verdict", by="observed_at"),
            "evidence": Latest("evidence", by="observed_at"),
        },
        (F.observed_at <= "2027-01-01T00:00:00Z") & (F.hypothesis != None),  # noqa: E711
        "hypothesis",
    ),
)


@pytest.fixture(scope="module")
def sqlite_programme(tmp_path_factory: pytest.TempPathFactory) -> SQLSide:
    """A SQLite store holding the programme."""
    path = tmp_path_factory.mktemp("latest") / "store.db"
    side = SQLSide("sqlite", f"sqlite:///{path}", path=path)
    with experiments.connect(side.url, plugins=Plugins(autoload=False), create=True) as store:
        _programme(store)
    return side


class TestLatestFromIndexes:
    """SQLite reads the roll-up's latest value of each group from an index, not the table."""

    @pytest.mark.parametrize(("kind", "group", "measures", "where", "field"), LATEST)
    def test_latest_of_each_group_reads_the_index_alone(
        self, sqlite_programme, kind, group, measures, where, field
    ):
        """The plan searches the field's index as a covering index: no row of the table."""
        sql, params, _ = _sql.aggregate_sql(
            _sqlite_dialect.DIALECT,
            "current",
            kind,
            bind(kind, where),
            bind_group_by(kind, [group]),
            bind_measures(kind, measures),
            False,
        )
        plan = _plan(sqlite_programme, sql, params)
        assert f"COVERING INDEX records_{field}" in plan, plan

    def test_an_aggregation_of_the_json_still_reads_it(self):
        """A measure of a field that has no column reads the records' JSON."""
        sql, _, _ = _sql.aggregate_sql(
            _sqlite_dialect.DIALECT,
            "current",
            "learning",
            None,
            bind_group_by("learning", ["experiment"]),
            bind_measures("learning", {"n": CountDistinct("observation")}),
            False,
        )
        assert "FROM current r" in sql
        assert "json_extract(r.data" in sql
