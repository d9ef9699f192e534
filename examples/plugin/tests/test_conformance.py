"""jsonl:/// keeps every promise of the strategy-experiments store interface."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import experiments_jsonl
import pytest

from experiments import Plugins, connect
from experiments.stores import Store
from experiments.testing import StoreConformance


class TestJsonlStore(StoreConformance):
    """The conformance suite, run against the plugin's backend."""

    @pytest.fixture
    def make_store(self, tmp_path: Path) -> Callable[..., Store]:
        def make(name: str = "default") -> Store:
            plugins = Plugins(autoload=False, plugins=[experiments_jsonl])
            return connect(f"jsonl:///{tmp_path}/{name}.jsonl", plugins=plugins, create=True)

        return make

    @pytest.fixture
    def storage_files(self, tmp_path: Path) -> Callable[..., list[Path]]:
        def files(_make: object, name: str) -> list[Path]:
            return sorted(tmp_path.glob(f"*{name}.jsonl*"))

        return files
