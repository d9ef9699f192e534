"""The PostgreSQL backend: URL options, migrations, secrets, dropped connections, exactness.

The conformance suite (tests/test_conformance.py) and the multi-process tests
(tests/test_concurrency.py) also run against the session's PostgreSQL server; this
module covers what is particular to a shared server.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import experiments
from experiments import (
    ConflictError,
    Experiment,
    Measurement,
    Objective,
    Participant,
    Plugins,
    SchemaError,
    StoreError,
)
from experiments.model._time import utc_key
from experiments.query import (
    Count,
    CountDistinct,
    F,
    FieldType,
    Latest,
    Max,
    Min,
    Sum,
    comparable,
    field_types,
)
from experiments.serialization import to_data
from experiments.stores import Store
from experiments.testing.strategies import records

if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):  # in CI, fail instead
    pytest.importorskip("psycopg", reason="pip install 'strategy-experiments[postgres]'")

import workers
from experiments.stores._postgres_layout import _exact, query_copy  # after the check
from experiments.stores.postgres import MIGRATIONS
from old_stores import assert_upgraded, postgres_layout_2
from pgserver import DATABASE, PostgresServer
from racing import at_once

MakeURL = Callable[..., str]


def _open(url: str, **options: Any) -> Store:
    return experiments.connect(url, plugins=Plugins(autoload=False), **options)


def _schema_of(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["schema"][0]


def _tables(server: PostgresServer, schema: str) -> set[str]:
    rows = server.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    )
    return {str(row[0]) for row in rows}


# --- the query copy, without a server --------------------------------------------------


_awkward_text = st.text(alphabet=st.sampled_from(["\x01", "\x02", "a", "B", "é", "🙂", "\\", "-"]))


class TestQueryCopy:
    """The jsonb copy queries run on holds the same values as the record's JSON."""

    @settings(max_examples=100, deadline=None)
    @given(record=records())
    def test_copy_holds_the_same_values(self, record: Any) -> None:
        """The copy of any record reads as its data, floats still floats, and times
        (time boxes too) in the form queries compare."""
        data = to_data(record)
        copy = json.loads(query_copy(data, json.dumps(data)))
        fields = field_types(record.kind)
        compared = {
            key: comparable(data, key, fields[key].kind) if key in fields else value
            for key, value in data.items()
        }
        assert copy == compared  # floats written exactly read back as the same float
        for key, value in data.items():
            if isinstance(value, float):
                assert type(copy[key]) is float
            if key in fields and fields[key].kind is FieldType.DATETIME and value is not None:
                assert copy[key] == utc_key(getattr(record, key))

    @pytest.mark.parametrize(("value", "copied_as_text"), [(3.0, True), (-0.5, True), (0.1, False)])
    def test_a_float_written_exactly_is_copied_as_written(
        self, value: float, copied_as_text: bool
    ) -> None:
        """3.0 is written as its exact value already; 0.1 is not, and its copy says
        0.1000000000000000055511151231257827021181583404541015625."""
        measured = Measurement(metric="visits", value=value)
        data = to_data(measured)
        text = json.dumps(data)
        copy = query_copy(data, text)
        assert (copy == text) is copied_as_text
        assert f'"value":{_exact(value)}' in copy.replace(" ", "")
        assert json.loads(copy)["value"] == value

    @given(number=st.floats(allow_nan=False, allow_infinity=False))
    def test_exact_numbers(self, number: float) -> None:
        """A float is written as the exact decimal of its binary value, still a float."""
        text = _exact(number)
        assert float(text) == number
        assert "." in text or "E" in text


# --- the driver is optional --------------------------------------------------------------


class TestWithoutTheExtra:
    """Without psycopg, a PostgreSQL URL says what to install; the library stays light."""

    def test_missing_driver_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A missing psycopg is a StoreError naming the extra, and shows no password."""
        monkeypatch.setitem(sys.modules, "psycopg", None)
        monkeypatch.delitem(sys.modules, "experiments.stores.postgres", raising=False)
        with pytest.raises(StoreError) as caught:
            _open("postgresql://anna:Very-Secret-1@db.example.org/strategy")
        message = str(caught.value)
        assert "pip install 'strategy-experiments[postgres]'" in message
        assert "Very-Secret-1" not in message
        assert "anna:***@db.example.org" in message

    def test_import_does_not_load_the_driver(self) -> None:
        """import experiments, and opening other stores, never import psycopg."""
        code = (
            "import sys, experiments; "
            "experiments.connect('memory://', plugins=experiments.Plugins(autoload=False)); "
            "print(sorted(m for m in sys.modules if m.startswith('psycopg')))"
        )
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert output.strip() == "[]"


# --- URL options and the schema ------------------------------------------------------------


@pytest.mark.postgres
class TestURLOptions:
    """What the URL says is what the store does."""

    def test_schemas_keep_programmes_apart(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """Two schemas of one database are two stores, each with its tables."""
        first, second = postgres_url(), postgres_url()
        with _open(first, create=True) as one, _open(second, create=True) as other:
            one.save(Objective(title="Welfare in 100 days"))
            assert other.count() == 0
            assert one.count() == 1
        for url in (first, second):
            assert {"records", "versions", "experiments_migrations"} <= _tables(
                postgres_server, _schema_of(url)
            )

    def test_public_schema_by_default(self, postgres_server: PostgresServer) -> None:
        """Without ?schema= the store lives in the database's public schema."""
        database = f"plain_{uuid.uuid4().hex[:8]}"
        postgres_server.admin(
            f"CREATE DATABASE {database} OWNER experiments TEMPLATE template0 ENCODING 'UTF8'"
        )
        url = postgres_server.url(database=database).partition("?")[0]
        with _open(url, create=True) as store:
            assert store.schema == "public"  # type: ignore[attr-defined]
            store.save(Objective(title="Welfare"))
        rows = postgres_server.query("SELECT count(*) FROM public.records", database=database)
        assert rows == [(1,)]

    def test_postgres_scheme_is_the_same(self, postgres_url: MakeURL) -> None:
        """postgres:// opens the same store as postgresql://."""
        url = postgres_url()
        with _open(url, create=True) as store:
            saved = store.save(Objective(title="Welfare"))
        with _open(url.replace("postgresql://", "postgres://", 1)) as again:
            assert again.get(saved.id).title == "Welfare"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            ({"schema": "1st"}, "not a usable schema name"),
            ({"schema": "pg_mine"}, "not a usable schema name"),
            ({"schema": "x" * 64}, "not a usable schema name"),
            ({"pool_max": "0"}, "pool_max must be"),
            ({"pool_max": "many"}, "pool_max must be"),
            ({"pool_min": "5", "pool_max": "2"}, "at least pool_min"),
            ({"pool_timeout": "-1"}, "pool_timeout must be"),
            ({"colour": "red"}, "colour"),
        ],
    )
    def test_bad_options_are_clear(
        self, postgres_url: MakeURL, options: dict[str, str], expected: str
    ) -> None:
        """An option the backend cannot use is a StoreError that names it."""
        with pytest.raises(StoreError, match=expected):
            _open(postgres_url(**options))

    def test_missing_store(self, postgres_url: MakeURL, postgres_server: PostgresServer) -> None:
        """Reads of a store that does not exist fail; the first write creates it."""
        url = postgres_url()
        with pytest.raises(StoreError, match="no store"):
            _open(url, create=False)
        with _open(url) as store:
            assert not store.exists()
            with pytest.raises(StoreError, match="no store in schema"):
                store.count()
            assert _tables(postgres_server, _schema_of(url)) == set()
            store.save(Objective(title="First"))
            assert store.exists()
            assert store.count() == 1

    def test_a_server_not_there(self) -> None:
        """A port nothing listens on: what to check, each thing said once."""
        with socket.socket() as held:  # bound but not listening: connections are refused
            held.bind(("127.0.0.1", 0))
            port = held.getsockname()[1]
            with pytest.raises(StoreError) as raised:
                _open(f"postgresql://experiments@127.0.0.1:{port}/nothing", create=False)
        message = str(raised.value).lower()
        assert "check the host and port in the url" in message
        assert message.count("server is running") + message.count("server running") == 1

    def test_foreign_tables_are_left_alone(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """A schema whose 'records' table belongs to another program is refused."""
        url = postgres_url()
        schema = _schema_of(url)
        postgres_server.query(f'CREATE SCHEMA "{schema}" AUTHORIZATION experiments')
        postgres_server.query(f'CREATE TABLE "{schema}".records (invoice integer)')
        with pytest.raises(StoreError, match="not a strategy-experiments store"):
            _open(url, create=True)
        assert _tables(postgres_server, schema) == {"records"}

    def test_only_utf8_databases(self, postgres_server: PostgresServer) -> None:
        """A database that cannot hold every text is refused with what to do."""
        database = f"latin_{uuid.uuid4().hex[:8]}"
        postgres_server.admin(
            f"CREATE DATABASE {database} OWNER experiments TEMPLATE template0 "
            "ENCODING 'LATIN1' LOCALE 'C'"
        )
        with pytest.raises(StoreError, match="ENCODING 'UTF8'"):
            _open(postgres_server.url(database=database), create=True)


# --- migrations ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
class TestMigrations:
    """The store schema is created and migrated once, however many connect at once."""

    def test_first_connections_at_once_migrate_once(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """8 processes opening a new schema at the same moment: one migration, no error."""
        url = postgres_url()
        results = at_once(workers.open_stores, *[(url,) for _ in range(8)])
        assert all(len(result["ids"]) == 1 for result in results)
        applied = postgres_server.query(
            f'SELECT version, count(*) FROM "{_schema_of(url)}".experiments_migrations '  # noqa: S608 - our schema
            "GROUP BY version ORDER BY version"
        )
        assert applied == [(number, 1) for number in range(1, len(MIGRATIONS) + 1)]

    def test_eight_processes_migrate_a_layout_2_store_once(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """Layout 3 is applied once; schema-2 data reads upgraded, in SQL and in Python alike."""
        url = postgres_url()
        schema = _schema_of(url)
        postgres_layout_2(url, schema)
        results = at_once(workers.open_stores, *[(url,) for _ in range(8)])
        assert all(len(result["ids"]) == 1 for result in results)
        applied = postgres_server.query(
            f'SELECT version, count(*) FROM "{schema}".experiments_migrations '  # noqa: S608 - our schema
            "GROUP BY version ORDER BY version"
        )
        assert (
            applied
            == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1)]
            == [(n, 1) for n in range(1, len(MIGRATIONS) + 1)]
        )
        with _open(url) as store:
            assert_upgraded(store)

    def test_newer_store_is_refused(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """A schema migrated by a newer release is a SchemaError that says to upgrade."""
        url = postgres_url()
        _open(url, create=True).close()
        postgres_server.query(
            f'INSERT INTO "{_schema_of(url)}".experiments_migrations (version, library) '  # noqa: S608 - our schema
            "VALUES (%s, 'a future release')",
            (len(MIGRATIONS) + 1,),
        )
        with pytest.raises(SchemaError, match="pip install --upgrade"):
            _open(url)

    def test_lookups_by_reference_use_an_index(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """Records of an experiment are found through the reference index, not a scan."""
        url = postgres_url()
        with _open(url, create=True) as store:
            experiments_ = store.save_all(Experiment(title=f"E{n}") for n in range(20))
            store.save_all(
                Measurement(metric="visits", value=n, experiment=experiments_[n % 20])
                for n in range(2000)
            )
        schema = _schema_of(url)
        postgres_server.query(f'ANALYZE "{schema}".records')
        plan = postgres_server.query(
            f'EXPLAIN SELECT r.data FROM "{schema}".records r WHERE r.kind = %s AND '  # noqa: S608 - our schema
            "(((r.doc ->> 'experiment') COLLATE \"C\") = %s AND "
            "((r.doc ->> 'experiment') COLLATE \"C\") IS NOT NULL)",
            ("measurement", experiments_[3].id),
        )
        assert "records_experiment" in "\n".join(str(row[0]) for row in plan)


# --- secrets --------------------------------------------------------------------------------


CANARY = f"Canary-{uuid.uuid4().hex[:10]}:p@ss/w%rd"
CANARY_FORMS = (CANARY, urllib.parse.quote(CANARY, safe=""), "Canary-" + CANARY[7:17])


def _texts_of(exc: BaseException) -> Iterator[str]:
    """Every text an exception and those chained to it carry, traceback included."""
    yield "".join(traceback.format_exception(exc))
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield from (repr(arg) for arg in current.args)
        if current.__cause__ is not None:
            yield from _texts_of(current.__cause__)
        current = current.__context__


def _assert_no_canary(*texts: str) -> None:
    for text in texts:
        for form in CANARY_FORMS:
            assert form not in text


@pytest.fixture
def canary_url(postgres_server: PostgresServer) -> Callable[..., str]:
    """URLs for a role whose password is the canary (or with the canary as a wrong one)."""
    role = f"canary_{uuid.uuid4().hex[:8]}"
    quoted = CANARY.replace("'", "''")
    postgres_server.query(f"CREATE ROLE {role} LOGIN PASSWORD '{quoted}'")  # no parameters here
    postgres_server.query(f"GRANT CREATE ON DATABASE {DATABASE} TO {role}")

    def make(**options: Any) -> str:
        return postgres_server.url(user=role, password=CANARY, **options)

    return make


def _cut_off_midway(
    server: PostgresServer, store: Store, application: str, batch: Callable[[Store], object]
) -> BaseException | None:
    """Run ``batch`` until it waits for a row another session holds, then kill its session.

    The row lock stops the batch half-way through its transaction, after some of its
    statements ran, so the cut is really mid-way; the session is terminated from a
    second connection, as a crashing server or an administrator would.
    """
    import psycopg  # noqa: PLC0415 - only with a server

    outcome: list[BaseException | None] = []
    schema = store.schema  # type: ignore[attr-defined]
    with psycopg.connect(server.admin_conninfo(DATABASE)) as holder:
        holder.execute(f'SELECT id FROM "{schema}".records FOR UPDATE')  # type: ignore[arg-type]  # noqa: S608 - our schema

        def run() -> None:
            try:
                batch(store)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)
            else:
                outcome.append(None)

        writer = threading.Thread(target=run)
        writer.start()
        deadline = time.monotonic() + 30
        waiting: list[tuple[object, ...]] = []
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.05)
            waiting = server.query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                "AND wait_event_type = 'Lock'",
                (application,),
            )
        assert waiting, "the batch never reached the locked row"
        server.query("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
        writer.join(30)
        holder.rollback()
    assert outcome, "the batch did not finish"
    return outcome[0]


def _batch_of(objective: Objective, measurements: list[Measurement]) -> Callable[[Store], object]:
    def batch(store: Store) -> object:
        with store.batch() as writes:
            for measurement in measurements:
                writes.save(measurement)
            writes.save(objective.evolve(title="Changed in the batch"))
        return writes.results

    return batch


@pytest.mark.postgres
class TestSecrets:
    """A password in the URL appears in no message, log, repr or chained exception."""

    def test_repr_and_str(self, canary_url: Callable[..., str]) -> None:
        """repr and str of the store and its URL mask the password."""
        with _open(canary_url(), create=True) as store:
            _assert_no_canary(repr(store), str(store), repr(store.url), str(store.url))
            assert "***" in repr(store)

    @pytest.mark.parametrize(
        "failure",
        ["bad host", "bad password", "refused", "bad option", "malformed", "pool timeout"],
    )
    def test_failures_do_not_show_it(
        self,
        canary_url: Callable[..., str],
        postgres_server: PostgresServer,
        failure: str,
        caplog: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """Each way of failing gives a StoreError; no text of it carries the password."""
        caplog.set_level(logging.DEBUG)
        url = canary_url()
        if failure == "bad host":
            url = url.replace("@127.0.0.1:", "@no-such-host.invalid:")
        elif failure == "bad password":
            url = postgres_server.url(password=CANARY)  # the canary is wrong for this role
        elif failure == "refused":
            url = url.replace(f":{postgres_server.port}/", ":1/")
        elif failure == "bad option":
            url += f"&sslpassword={urllib.parse.quote(CANARY)}&colour=red"
        elif failure == "malformed":
            url = url.replace("@127.0.0.1", "@[::1")

        def fail() -> None:
            if failure != "pool timeout":
                _open(url, create=True)
                return
            with _open(url + "&pool_max=1&pool_timeout=0.2", create=True) as store:
                store.save_all(Measurement(metric="m", value=n) for n in range(3))
                held = store.query(Measurement)
                next(held)
                store.count()

        with pytest.raises(StoreError) as caught:
            fail()
        _assert_no_canary(*_texts_of(caught.value), caplog.text, *capfd.readouterr())
        _assert_no_canary(*(r.getMessage() for r in caplog.records))

    def test_dropped_connection_does_not_show_it(
        self,
        canary_url: Callable[..., str],
        postgres_server: PostgresServer,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A connection cut mid-write, and DEBUG logs of a whole session, keep it hidden."""
        caplog.set_level(logging.DEBUG)
        application = f"canary-{uuid.uuid4().hex[:8]}"
        with _open(canary_url(application_name=application), create=True) as store:
            objective = store.save(Objective(title="Welfare"))
            list(store.query(Objective, title="Welfare"))
            error = _cut_off_midway(
                postgres_server,
                store,
                application,
                _batch_of(objective, [Measurement(metric="m", value=1)]),
            )
            assert isinstance(error, StoreError)
            assert store.count(Objective) == 1
        _assert_no_canary(*_texts_of(error), caplog.text)
        _assert_no_canary(*(r.getMessage() for r in caplog.records))
        assert any(r.name.startswith("psycopg") for r in caplog.records)  # it did log


# --- connections that drop -------------------------------------------------------------------


@pytest.mark.postgres
class TestDroppedConnections:
    """A connection lost mid-way loses nothing committed; the next call connects again."""

    def test_batch_cut_off_midway(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """A batch whose session dies half-way writes nothing; retrying it commits it once."""
        application = f"cut-{uuid.uuid4().hex[:8]}"
        with _open(postgres_url(application_name=application), create=True) as store:
            objective = store.save(Objective(title="Welfare"))
            measurements = [Measurement(metric="visits", value=n) for n in range(20)]
            batch = _batch_of(objective, measurements)
            error = _cut_off_midway(postgres_server, store, application, batch)
            assert isinstance(error, StoreError)
            assert "connection" in str(error)
            assert "nothing of this write was committed" in str(error)
            assert store.count(Measurement) == 0  # the next call connects again
            assert store.get(objective.id).revision == 1
            batch(store)  # the same records again: no duplicates, no conflict
            assert store.count(Measurement) == 20
            assert store.get(objective.id).revision == 2
            with pytest.raises(ConflictError):
                batch(store)  # and a third time they are all there already
            assert store.count(Measurement) == 20

    def test_idle_connections_killed_are_replaced(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """Pooled connections killed while idle are noticed and replaced, without an error."""
        application = f"idle-{uuid.uuid4().hex[:8]}"
        url = postgres_url(application_name=application, pool_min="3")
        with _open(url, create=True) as store:
            store.save(Objective(title="Before"))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                rows = postgres_server.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (application,),
                )
                if rows[0][0] >= 3:  # the pool may have grown past its minimum
                    break
                time.sleep(0.05)
            killed = postgres_server.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (application,),
            )
            assert killed
            time.sleep(0.2)
            assert store.count(Objective) == 1
            store.save(Objective(title="After"))
            assert [o.title for o in store.query(Objective, order_by="title")] == [  # type: ignore[attr-defined]
                "After",
                "Before",
            ]


# --- streaming ----------------------------------------------------------------------------------


@pytest.mark.postgres
class TestStreaming:
    """Queries stream through server-side cursors, each holding its connection meanwhile."""

    def test_query_uses_a_server_side_cursor(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """Rows arrive in batches fetched from a cursor on the server."""
        application = f"stream-{uuid.uuid4().hex[:8]}"
        with _open(postgres_url(application_name=application), create=True) as store:
            store.save_all(Measurement(metric="visits", value=n) for n in range(1200))
            rows = store.query(Measurement)
            next(rows)
            activity = postgres_server.query(
                "SELECT query FROM pg_stat_activity WHERE application_name = %s",
                (application,),
            )
            assert any("FETCH" in str(q) or "DECLARE" in str(q) for (q,) in activity)
            assert sum(1 for _ in rows) == 1199

    def test_closing_a_result_whose_connection_died(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """A half-read result closes quietly after its connection died; the store goes on."""
        application = f"closing-{uuid.uuid4().hex[:8]}"
        with _open(postgres_url(application_name=application), create=True) as store:
            store.save_all(Measurement(metric="visits", value=n) for n in range(3))
            rows = store.query(Measurement)
            next(rows)
            postgres_server.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (application,),
            )
            rows.close()  # an error here, or later in a finalizer, fails the test
            gc.collect()
            assert store.count(Measurement) == 3

    def test_an_open_query_holds_its_connection(self, postgres_url: MakeURL) -> None:
        """With every connection held by unfinished queries, others wait, then fail clearly."""
        with _open(postgres_url(pool_max="1", pool_timeout="0.2"), create=True) as store:
            store.save_all(Measurement(metric="visits", value=n) for n in range(3))
            rows = store.query(Measurement)
            next(rows)
            with pytest.raises(StoreError, match="pool_max"):
                store.count()
            rows.close()
            assert store.count() == 3


# --- bulk writes -------------------------------------------------------------------------------


@pytest.mark.postgres
class TestBulkWrites:
    """New records in a batch go in a statement at a time, with the same promises."""

    def test_a_taken_id_among_many_is_a_conflict(self, postgres_url: MakeURL) -> None:
        """One new record whose id is taken stops the whole batch, naming that record."""
        with _open(postgres_url(), create=True) as store:
            taken = store.save(Objective(title="Taken", slug="taken"))
            fresh = [Measurement(metric="visits", value=n) for n in range(2500)]
            with pytest.raises(ConflictError, match="Again"):
                store.save_all(
                    [*fresh[:1200], Objective(title="Again", slug="taken"), *fresh[1200:]]
                )
            assert store.count() == 1
            assert store.get(taken.id).title == "Taken"  # type: ignore[attr-defined]
            saved = store.save_all(fresh)
            assert [r.id for r in saved] == [r.id for r in fresh]
            assert store.count(Measurement) == 2500
            assert len(store.history(fresh[-1].id)) == 1

    def test_the_same_new_record_twice_in_a_batch(self, postgres_url: MakeURL) -> None:
        """Saving one new record twice in a batch is a conflict, as it is one at a time."""
        with _open(postgres_url(), create=True) as store:
            twin = Objective(title="Twin", slug="twin")
            with pytest.raises(ConflictError):
                store.save_all([Objective(title="Other"), twin, twin])
            assert store.count() == 0


# --- data kept exactly --------------------------------------------------------------------------


@pytest.mark.postgres
class TestExactness:
    """What is stored reads back as written, and SQL answers as Python does."""

    def test_numbers_and_control_characters_round_trip(self, postgres_url: MakeURL) -> None:
        """Numbers jsonb would change, and control characters in text, come back exactly."""
        metadata = {"huge": 1e300, "negative zero": -0.0, "float one": 1.0, "one": 1, "big": 2**60}
        with _open(postgres_url(), create=True) as store:
            saved = store.save(
                Participant(role="citizen", department="Nørre\x01bro\x1f", metadata=metadata)
            )
            for read in (store.get(saved.id), store.history(saved.id)[0], next(store.export())):
                assert to_data(read) == to_data(saved)
                stored = dict(read.metadata)
                assert math.copysign(1, stored["negative zero"]) == -1
                assert type(stored["float one"]) is float
                assert type(stored["one"]) is int

    def test_text_compares_by_code_point(self, postgres_url: MakeURL) -> None:
        """Filters, orders and groups on awkward text equal the Python fallback."""

        @settings(max_examples=20, deadline=None)
        @given(
            departments=st.lists(st.one_of(st.none(), _awkward_text.filter(str.strip)), max_size=8),
            probe=_awkward_text,
        )
        def check(departments: list[str | None], probe: str) -> None:
            with _open(postgres_url(), create=True) as store:
                store.save_all(
                    Participant(role="citizen", department=d, external=bool(n % 2))
                    for n, d in enumerate(departments)
                )
                for where in (
                    F.department == probe,
                    F.department < probe,
                    F.department.in_([probe, "a"]),
                    ~(F.department >= probe),
                ):
                    for order in ("department", "-department"):
                        engine = [
                            to_data(r) for r in store.query(Participant, where, order_by=order)
                        ]
                        python = [
                            to_data(r)
                            for r in store.query(Participant, where, order_by=order, pushdown=False)
                        ]
                        assert engine == python
                measures = {
                    "n": Count(),
                    "distinct": CountDistinct("department"),
                    "first": Min("department"),
                    "last": Max("department"),
                    "latest": Latest("department", by="created_at"),
                    "external": Max("external"),
                }
                for group_by in ([], ["department"], ["external"]):
                    engine_rows = list(
                        store.aggregate(Participant, group_by=group_by, measures=measures)
                    )
                    python_rows = list(
                        store.aggregate(
                            Participant, group_by=group_by, measures=measures, pushdown=False
                        )
                    )
                    key = repr
                    assert sorted(engine_rows, key=key) == sorted(python_rows, key=key)

        check()

    def test_sums_round_once(self, postgres_url: MakeURL) -> None:
        """A pushed-down sum equals math.fsum, even where adding floats in turn would not."""
        values = [1e12 + 0.3, -1e12, 0.1, 0.2, -0.3, 123456789.123456789]
        with _open(postgres_url(), create=True) as store:
            store.save_all(Measurement(metric="m", value=v) for v in values)
            (row,) = store.aggregate(Measurement, measures={"total": Sum("value")})
        assert row["total"] == math.fsum(values)


# --- purge, verification and the roles of a shared server ----------------------------------------


@pytest.mark.postgres
class TestSharedServer:
    """What a database administrator and a data protection officer will ask about."""

    def test_team_role_with_the_documented_grants(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """A team's role with only the everyday grants reads, writes and purges."""
        owner_url = postgres_url()
        schema = _schema_of(owner_url)
        _open(owner_url, create=True).close()
        team, password = f"team_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        postgres_server.admin(
            f"CREATE ROLE {team} LOGIN PASSWORD '{password}'",
            f"GRANT CONNECT ON DATABASE {DATABASE} TO {team}",
            f'GRANT USAGE ON SCHEMA "{schema}" TO {team}',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{schema}".records, "{schema}".versions '
            f"TO {team}",
            f'GRANT SELECT ON "{schema}".experiments_migrations TO {team}',
            database=DATABASE,
        )
        with _open(postgres_server.url(schema, user=team, password=password)) as store:
            experiment = store.save(Experiment(title="Night bus"))
            store.save(Measurement(metric="riders", value=12, experiment=experiment))
            assert store.count(Measurement, experiment=experiment.id) == 1
            report = store.purge(experiment)
            assert report.purged == (experiment.id,)
            assert store.count(Experiment) == 0
            assert store.count(Measurement, experiment=None) == 1  # unlinked, as it should
        with pytest.raises(StoreError, match="not allowed"):  # nor make a schema of its own
            _open(postgres_server.url(user=team, password=password), create=True)

    def test_purge_leaves_no_row_or_statistic(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """After a purge no table row, and no planner statistic, holds the purged text."""
        marker = f"Secret-{uuid.uuid4().hex}"
        url = postgres_url()
        schema = _schema_of(url)
        with _open(url, create=True) as store:
            person = store.save(Participant(role="citizen", name=marker))
            store.save(person.evolve(department=f"{marker}-unit"))
            store.save_all(Participant(role="citizen", name=f"Other {n}") for n in range(50))
            postgres_server.query(f'ANALYZE "{schema}".records, "{schema}".versions')
            store.purge(person)
        postgres_server.query(f'ANALYZE "{schema}".records, "{schema}".versions')
        for table in ("records", "versions"):
            rows = postgres_server.query(
                f'SELECT count(*) FROM "{schema}".{table} WHERE data LIKE %s',  # noqa: S608 - our schema
                (f"%{marker}%",),
            )
            assert rows == [(0,)]
        statistics = postgres_server.query(
            "SELECT attname, most_common_vals::text, histogram_bounds::text FROM pg_stats "
            "WHERE schemaname = %s",
            (schema,),
        )
        assert statistics  # ANALYZE ran...
        assert all(marker not in str(row) for row in statistics)  # ...and kept none of it
        assert not [row for row in statistics if row[0] in ("data", "doc")]

    def test_verify_finds_tampering(
        self, postgres_url: MakeURL, postgres_server: PostgresServer
    ) -> None:
        """verify() reports unreadable versions and current rows out of step with history."""
        url = postgres_url()
        schema = _schema_of(url)
        with _open(url, create=True) as store:
            kept = store.save(Objective(title="Kept"))
            broken = store.save(Objective(title="Broken"))
            edited = store.save(Objective(title="Edited"))
            postgres_server.query(
                f"UPDATE \"{schema}\".versions SET data = '{{not json' WHERE id = %s",  # noqa: S608 - our schema
                (broken.id,),
            )
            postgres_server.query(
                f"UPDATE \"{schema}\".records SET data = replace(data, 'Edited', 'Forged') "  # noqa: S608 - our schema
                "WHERE id = %s",
                (edited.id,),
            )
            damage = store.verify()
        found = {(d.id, "JSON" in d.problem) for d in damage}
        assert (broken.id, True) in found
        assert (edited.id, False) in found
        assert kept.id not in {d.id for d in damage}
        assert all(url not in str(d) for d in damage)


@pytest.mark.postgres
def test_socket_url_without_a_host(postgres_server: PostgresServer) -> None:
    """postgresql:///database?host=/socket/dir reaches the server through its socket."""
    query = urllib.parse.urlencode(
        {
            "host": str(postgres_server.root),
            "port": postgres_server.port,
            "user": "experiments",
            "schema": f"t_{uuid.uuid4().hex[:12]}",
        }
    )
    with _open(f"postgresql:///{DATABASE}?{query}", create=True) as store:
        store.save(Objective(title="Through the socket"))
        assert store.count() == 1
