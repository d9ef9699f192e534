"""Shared fixtures: stores of every backend, never loading installed plugins."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from experiments import Plugins, connect
from experiments.stores import Store

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

os.environ.setdefault("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.fixture
def plugins() -> Plugins:
    """Built-in plugins only: tests never load whatever happens to be installed."""
    return Plugins(autoload=False)


BACKENDS = ["memory", "sqlite", "files"]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh store URL of each backend in turn."""
    if request.param == "memory":
        return f"memory://{uuid.uuid4().hex}"
    directory = tmp_path_factory.mktemp("store")
    if request.param == "files":
        return f"files:///{directory}/experiments"
    return f"sqlite:///{directory}/experiments.db"


@pytest.fixture
def any_store(backend_url: str, plugins: Plugins) -> Iterator[Store]:
    """An empty store of each backend in turn."""
    with connect(backend_url, plugins=plugins) as store:
        yield store
