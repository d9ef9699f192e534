"""The analyst's SQL views: one per kind, typed, current, masked, in SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import importlib.util
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import experiments
import workers
from experiments import (
    Experiment,
    KeyResult,
    Measurement,
    Objective,
    Participant,
    Plugins,
    Sprint,
)
from experiments.model import KINDS, new_id
from experiments.stores import _postgres_layout, _sqlite_layout, _views
from experiments.testing.strategies import record_of
from old_stores import undo_layout_9
from racing import at_once
from sql_stores import SQL_BACKENDS, SQLSide, make_side


@pytest.fixture(params=SQL_BACKENDS)
def sql_side(request: pytest.FixtureRequest, tmp_path: Path) -> SQLSide:
    """A new SQL store of each backend in turn, with raw SQL beside it."""
    return make_side(request, tmp_path)


def _open(side: SQLSide, **options: object) -> experiments.Store:
    return experiments.connect(side.url, plugins=Plugins(autoload=False), **options)  # type: ignore[arg-type]


def _instant(value: object) -> dt.datetime | None:
    """A time as a view gives it (text in SQLite, timestamptz in PostgreSQL), in UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC)


class TestLayout:
    """Every kind has a view with every field, recorded for the latest layout version."""

    def test_every_kind_has_a_view_with_every_field(self, sql_side: SQLSide):
        """Each kind's view has each field but deleted_at, and the time box's bounds."""
        _open(sql_side, create=True).close()
        assert {_views.view_name(kind) for kind in KINDS} | {"deleted"} <= sql_side.views()
        for kind, cls in KINDS.items():
            columns = sql_side.columns(_views.view_name(kind))
            fields = [f for f in cls.__attrs_attrs__ if f.name != "deleted_at"]  # type: ignore[attr-defined]
            lacking = [f.name for f in fields if f.name not in columns]
            assert not lacking, f"view {_views.view_name(kind)} lacks {lacking}"
            assert columns[0] == "id"
            if "time_box" in columns:
                assert {"time_box_start", "time_box_end"} <= set(columns)

    @pytest.mark.parametrize("layout", [_sqlite_layout, _postgres_layout], ids=["sqlite", "pg"])
    def test_latest_layout_version_makes_these_views(self, layout):
        """A kind or field added without the next layout version fails here, saying what to do."""
        latest = len(layout.MIGRATIONS)
        made = _views.fingerprint(layout.views())
        assert layout.VIEWS_AS_OF.get(latest) == made, (
            f"the views changed ({made}) but layout {latest} records "
            f"{layout.VIEWS_AS_OF.get(latest)}: add the next layout version to MIGRATIONS "
            f"and VIEWS_AS_OF[{latest + 1}] = {made!r} in {layout.__name__}"
        )

    def test_view_names_are_the_plurals(self):
        """Views are named by the kinds' plurals, as SQL writes a name."""
        assert _views.view_name("key-result") == "key_results"
        assert _views.view_name("hypothesis") == "hypotheses"
        assert _views.view_name("experiment") == "experiments"


class TestValues:
    """What the views hold: typed columns of current, visible records."""

    def test_columns_are_typed(self, sql_side: SQLSide):
        """Numbers are numbers, booleans booleans, times RFC 3339 instants, dates dates."""
        with _open(sql_side, create=True) as store:
            welfare = store.save(Objective(title="Welfare", slug="welfare", weight=0.5))
            result = store.save(
                KeyResult(
                    objective=welfare, metric="visits", baseline=0, target=40, due="2026-11-25"
                )
            )
            store.save(
                Measurement(key_result=result, value=7.5, measured_at="2026-09-14T10:00:00+02:00")
            )
            store.save(Participant(role="citizen", slug="anna"))
        if sql_side.backend == "sqlite":
            value, kind, moment = sql_side.rows(
                "SELECT value, typeof(value), datetime(measured_at) FROM measurements"
            )[0]
            assert (value, kind, moment) == (7.5, "real", "2026-09-14 08:00:00")
            assert sql_side.rows("SELECT external, date(due) FROM participants, key_results") == [
                (1, "2026-11-25")
            ]
        else:
            types = sql_side.rows(
                "SELECT pg_typeof(m.value)::text, pg_typeof(m.measured_at)::text, "
                "pg_typeof(p.external)::text, pg_typeof(k.due)::text, pg_typeof(p.tags)::text, "
                "pg_typeof(m.revision)::text FROM measurements m, participants p, key_results k"
            )
            assert types == [
                (
                    "double precision",
                    "timestamp with time zone",
                    "boolean",
                    "date",
                    "text[]",
                    "integer",
                )
            ]
        moment = sql_side.rows("SELECT measured_at FROM measurements")[0][0]
        assert _instant(moment) == dt.datetime(2026, 9, 14, 8, tzinfo=dt.UTC)

    def test_deleted_records_are_left_out_and_listed_apart(self, sql_side: SQLSide):
        """A soft-deleted record is not in its kind's view; `deleted` lists it."""
        with _open(sql_side, create=True) as store:
            kept = store.save(Objective(title="Kept"))
            gone = store.delete(store.save(Objective(title="Gone", slug="gone")))
        assert sql_side.rows("SELECT id FROM objectives") == [(kept.id,)]
        assert sql_side.rows("SELECT kind, id, slug FROM deleted") == [
            ("objective", gone.id, "gone")
        ]

    def test_pseudonymous_participants_are_masked(self, sql_side: SQLSide):
        """A pseudonymous participant's name and slug are NULL; everything else is there."""
        with _open(sql_side, create=True) as store:
            store.save(
                Participant(role="citizen", name="Anna Hansen", slug="anna", pseudonymous=True)
            )
            store.save(Participant(role="employee", name="Bo", slug="bo", department="Culture"))
            store.delete(store.save(Participant(role="citizen", slug="hidden", pseudonymous=True)))
        rows = sql_side.rows(
            "SELECT name, slug, role, pseudonymous FROM participants ORDER BY role"
        )
        assert [tuple(row[:3]) for row in rows] == [
            (None, None, "citizen"),
            ("Bo", "bo", "employee"),
        ]
        assert [bool(row[3]) for row in rows] == [True, False]
        assert sql_side.rows("SELECT slug FROM deleted") == [(None,)]

    def test_time_box_bounds_are_the_rollups(self, sql_side: SQLSide):
        """Any experiment's or sprint's time box starts and ends where the model says."""
        store = _open(sql_side, create=True)

        @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(record_of(Experiment), record_of(Sprint))
        def bounds_match(experiment: Experiment, sprint: Sprint) -> None:
            fresh = {"slug": None, "objectives": (), "sprint": None, "id": new_id("exp")}
            experiment = store.save(experiment.evolve(**fresh))
            sprint = store.save(sprint.evolve(slug=None, team=(), id=new_id("spr")))
            for view, record, start, end in (
                ("experiments", experiment, _start(experiment), experiment.ends_at),
                ("sprints", sprint, _box_start(sprint), _box_end(sprint)),
            ):
                row = sql_side.rows(
                    f"SELECT time_box_start, time_box_end FROM {view} WHERE id = {sql_side.mark}",  # noqa: S608
                    (record.id,),
                )[0]
                assert (_instant(row[0]), _instant(row[1])) == (_utc(start), _utc(end))

        try:
            bounds_match()
        finally:
            store.close()

    def test_zone_names_with_a_slash_end_on_their_calendar(self, sql_side: SQLSide):
        """A month from 31 January in Buenos Aires ends on 28 February there, at 10:00."""
        with _open(sql_side, create=True) as store:
            experiment = store.save(
                Experiment(
                    title="Month end",
                    time_box="2026-01-31T10:00:00[America/Argentina/Buenos_Aires]/P1M",
                ).start(at="2026-02-01T00:00:00Z")
            )
        end = sql_side.rows("SELECT time_box_end FROM experiments")[0][0]
        assert (
            _instant(end) == _utc(experiment.ends_at) == dt.datetime(2026, 2, 28, 13, tzinfo=dt.UTC)
        )


def _utc(value: object) -> dt.datetime | None:
    if value is None:
        return None
    assert isinstance(value, dt.datetime)
    return dt.datetime.fromisoformat(value.astimezone(dt.UTC).isoformat())


def _start(experiment: Experiment) -> object:
    box = experiment.time_box
    if box is None:
        return None
    return box.start if box.start is not None else experiment.started_at


def _box_start(sprint: Sprint) -> object:
    return None if sprint.time_box is None else sprint.time_box.start


def _box_end(sprint: Sprint) -> object:
    return None if sprint.time_box is None else sprint.time_box.end


def _downgrade(side: SQLSide) -> None:
    """Take a store back to layout 5, the last before the views, as it left it."""
    if side.backend == "sqlite":
        assert side.path is not None
        with sqlite3.connect(side.path) as connection:
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'view' AND name != 'current'"
            ).fetchall():
                connection.execute(f"DROP VIEW {name}")
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE (type = 'index' AND name LIKE 'records_%' "
                "AND name NOT IN ('records_id', 'records_experiment')) OR type = 'trigger'"
            ).fetchall():
                kind = "TRIGGER" if name.startswith("records_elements") else "INDEX"
                connection.execute(f"DROP {kind} {name}")
            connection.execute("DROP TABLE elements")
            connection.execute("DROP TABLE settings")
            undo_layout_9(connection)
            connection.execute("DROP VIEW current")
            connection.execute("ALTER TABLE records DROP COLUMN time_box_start")
            connection.execute("ALTER TABLE records DROP COLUMN time_box_end")
            connection.execute(
                "CREATE VIEW current AS SELECT r.*, v.data AS data FROM records r "
                "LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision"
            )
            connection.execute("PRAGMA user_version = 5")
        return
    views = [f"DROP VIEW {name}" for name in side.views()]
    indexes = [
        f"DROP INDEX {name}"
        for (name,) in side.rows(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND indexname = ANY(%s)",
            (
                side.schema,
                [f"records_{f}" for f in ("metric", "owner", "slug", "stance", "status")]
                + ["records_measured_at", "records_objectives", "records_participants"]
                + ["records_tags", "records_team"],
            ),
        )
    ]
    side.run(
        *views,
        *indexes,
        "ALTER TABLE records DROP COLUMN time_box_start, DROP COLUMN time_box_end",
        "DROP TABLE settings",
        "DELETE FROM experiments_migrations WHERE version > 5",
    )


class TestMigration:
    """A store of the layout before the views gets them, its bounds and its indexes."""

    def test_older_store_gets_views_bounds_and_elements(self, sql_side: SQLSide):
        """Migrating fills the time box bounds and list elements of what is stored."""
        with _open(sql_side, create=True) as store:
            experiment = store.save(
                Experiment(title="Walks", time_box="P2W", tags=["pilot"]).start(
                    at="2026-09-01T09:00:00[Europe/Copenhagen]"
                )
            )
        _downgrade(sql_side)
        assert "experiments" not in sql_side.views()
        with _open(sql_side) as store:
            assert [e.id for e in store.query(Experiment, "tag = pilot")] == [experiment.id]
        row = sql_side.rows("SELECT time_box_start, time_box_end FROM experiments")[0]
        assert (_instant(row[0]), _instant(row[1])) == (
            _utc(experiment.started_at),
            _utc(experiment.ends_at),
        )

    @pytest.mark.slow
    def test_eight_processes_migrate_an_older_store_once(self, sql_side: SQLSide):
        """8 processes opening a store of layout 5 at once: one migration, no error."""
        with _open(sql_side, create=True) as store:
            store.save(Experiment(title="Walks", tags=["pilot"]))
        _downgrade(sql_side)
        results = at_once(workers.open_stores, *[(sql_side.url,) for _ in range(8)])
        assert all(len(result["ids"]) == 1 for result in results)
        if sql_side.backend == "postgres":
            applied = sql_side.rows(
                "SELECT version, count(*) FROM experiments_migrations GROUP BY version "
                "ORDER BY version"
            )
            assert applied == [(n, 1) for n in range(1, len(_postgres_layout.MIGRATIONS) + 1)]
        else:
            assert sql_side.rows("PRAGMA user_version") == [(len(_sqlite_layout.MIGRATIONS),)]
        assert sql_side.rows("SELECT count(*) FROM experiments") == [(1,)]


class TestDatasette:
    """datasette, as an analyst runs it, opens a store and lists its views."""

    def test_datasette_lists_the_views(self, tmp_path: Path):
        """Every kind's view is in datasette's listing of the database, with its rows."""
        if importlib.util.find_spec("datasette") is None:
            pytest.skip("datasette is not installed (pip install -e '.[dev]')")
        from datasette.app import Datasette  # noqa: PLC0415 - a dev dependency

        path = tmp_path / "programme.db"
        with experiments.connect(f"sqlite:///{path}", create=True) as store:
            store.save(Experiment(title="Safety walks", time_box="P2W").start())

        async def listing() -> tuple[set[str], list[dict[str, object]]]:
            datasette = Datasette([str(path)], immutables=[])
            await datasette.invoke_startup()
            database = await datasette.client.get("/programme.json")
            rows = await datasette.client.get("/programme/experiments.json?_shape=objects")
            views = {view["name"] for view in database.json()["views"]}
            return views, rows.json()["rows"]

        # In a thread of its own, as a server runs it: a browser test's driver may hold
        # this thread's event loop.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            views, rows = pool.submit(asyncio.run, listing()).result()
        assert {_views.view_name(kind) for kind in KINDS} <= views
        assert [row["title"] for row in rows] == ["Safety walks"]
        assert rows[0]["time_box_end"]
