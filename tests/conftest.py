"""Shared fixtures: stores of every backend, never loading installed plugins."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from experiments import Plugins, connect
from experiments.reports import Report
from experiments.stores import Store
from needs import missing
from pgserver import PostgresServer, find_bin
from report_programmes import large_report
from special_files import SpecialFile

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

os.environ.setdefault("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "1")

pytest_plugins = ["reliability_table"]


@pytest.fixture
def plugins() -> Plugins:
    """Built-in plugins only: tests never load whatever happens to be installed."""
    return Plugins(autoload=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on loopback for the whole session.

    Without the server binaries or psycopg the tests that need it skip, except in CI,
    where they fail: CI must run them.
    """
    bin_dir = find_bin()
    reason = None
    if bin_dir is None:
        reason = (
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql, or set EXPERIMENTS_PG_BIN)"
        )
    elif importlib.util.find_spec("psycopg") is None:
        reason = "psycopg is not installed (pip install 'strategy-experiments[postgres]')"
    if reason is not None:
        missing(reason)
    assert bin_dir is not None
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Callable[..., str]:
    """``make(schema=None, **options)``: a store URL on the test server; a new schema each call."""
    return postgres_server.url


BACKENDS = ["memory", "sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh store URL of each backend in turn."""
    if request.param == "memory":
        return f"memory://{uuid.uuid4().hex}"
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url")())
    directory = tmp_path_factory.mktemp("store")
    if request.param == "files":
        return f"files:///{directory}/experiments"
    return f"sqlite:///{directory}/experiments.db"


#: The key every store made in a test gets (see ``same_key``).
TEST_KEY = "5e" * 32


@pytest.fixture(autouse=True, scope="session")
def same_key() -> Iterator[None]:
    """Every store made in this process gets one key, so reports come out the same.

    A store's key is random, and a pseudonymous person's anonymous name derives from
    their id: the golden files and the comparisons of one programme in two stores need
    one key.  The tests of the keys themselves put the random one back.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("experiments.stores._keys.new_key", lambda: TEST_KEY)
        yield


@pytest.fixture
def any_store(backend_url: str, plugins: Plugins) -> Iterator[Store]:
    """An empty store of each backend in turn."""
    with connect(backend_url, plugins=plugins) as store:
        yield store


@pytest.fixture(params=["fifo", "device"])
def special_file(request: pytest.FixtureRequest, tmp_path: Path) -> SpecialFile:
    """A named pipe with a reader, or a null device node (as root), in the test's directory."""
    return SpecialFile(request.param, tmp_path / f"special-{request.param}")


@pytest.fixture(params=["sqlite", "files", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL that several processes can open, the store made."""
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url")())
    elif request.param == "files":
        url = f"files:///{tmp_path}/shared"
    else:
        url = f"sqlite:///{tmp_path}/shared.db"
    with connect(url, plugins=Plugins(autoload=False), create=True):
        pass
    return url


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """Where the sweep copies stores: memory (/dev/shm) where there is one, for speed.

    Every flush the sweep makes would otherwise wait for the disk, hundreds of times;
    the faults are injected, so what the disk does is beside the point here.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="experiments-sweep-") as made:
        yield Path(made)


@pytest.fixture(scope="session")
def large(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A report of ten thousand experiments, made once per test process."""
    return large_report(tmp_path_factory.mktemp("large"))


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store :mod:`cli_programme` builds, once per test module."""
    from cli_programme import build  # noqa: PLC0415 - the command line, for its tests only

    return build(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def workdir(cli_built: Path, tmp_path: Path) -> Path:
    """A fresh copy of :func:`cli_built`: the store, its export and two sheets."""
    from cli_programme import copy_into  # noqa: PLC0415 - the command line, for its tests only

    return copy_into(cli_built, tmp_path)
