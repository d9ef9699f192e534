"""The built-in backends pass the conformance suite shipped to backend authors."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from experiments import Plugins, connect
from experiments.stores import Store
from experiments.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    """memory:// keeps its promises."""

    @pytest.fixture
    def make_store(self, request: pytest.FixtureRequest) -> Callable[..., Store]:
        prefix = uuid.uuid4().hex

        def make(name: str = "default") -> Store:
            return connect(f"memory://{prefix}-{name}", plugins=Plugins(autoload=False))

        return make


class TestSQLiteStore(StoreConformance):
    """sqlite:/// keeps its promises."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[..., Store]:
        def make(name: str = "default") -> Store:
            return connect(
                f"sqlite:///{tmp_path}/{name}.db", plugins=Plugins(autoload=False), create=True
            )

        return make

    @pytest.fixture
    def storage_files(self, tmp_path: Path) -> Callable[..., list[Path]]:
        def files(make: object, name: str) -> list[Path]:
            return sorted(tmp_path.glob(f"{name}.db*"))

        return files


class TestFileStore(StoreConformance):
    """files:/// keeps its promises."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[..., Store]:
        def make(name: str = "default") -> Store:
            return connect(
                f"files:///{tmp_path}/{name}", plugins=Plugins(autoload=False), create=True
            )

        return make

    @pytest.fixture
    def storage_files(self, tmp_path: Path) -> Callable[..., list[Path]]:
        def files(make: object, name: str) -> list[Path]:
            return sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())

        return files


@pytest.mark.postgres
class TestPostgresStore(StoreConformance):
    """postgresql:// keeps its promises (each store name is a schema of its own)."""

    @pytest.fixture
    def make_store(self, postgres_url: Callable[..., str]) -> Callable[..., Store]:
        prefix = uuid.uuid4().hex

        def make(name: str = "default") -> Store:
            schema = "c_" + hashlib.blake2b(f"{prefix}/{name}".encode(), digest_size=12).hexdigest()
            return connect(postgres_url(schema), plugins=Plugins(autoload=False), create=True)

        return make

    @pytest.fixture
    def storage_files(self) -> Callable[..., list[Path]]:
        pytest.skip(
            "PostgreSQL keeps deleted rows in its files until VACUUM and in its write-ahead "
            "log; test_postgres.py checks that no row or statistic keeps a purged record"
        )
