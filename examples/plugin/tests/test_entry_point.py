"""Installed, the plugin is found through its entry point: no code names it."""

from __future__ import annotations

from pathlib import Path

import pytest
from experiments_jsonl.store import JsonlStore

import experiments
from experiments.plugins import Plugins


def test_connect_finds_the_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """connect("jsonl:///...") with default plugin discovery opens this backend."""
    monkeypatch.delenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    with experiments.connect(f"jsonl:///{tmp_path}/programme.jsonl", create=True) as store:
        assert isinstance(store, JsonlStore)
        saved = store.save(experiments.Objective(title="Found through the entry point"))
        assert store.get(saved.id).revision == 1
    (plugin,) = [p for p in Plugins().plugins() if p.name == "jsonl"]
    assert plugin.source == "entry point"
    assert plugin.distribution == "experiments-jsonl"


def test_discovery_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """With autoload disabled the scheme is unknown, and the error lists what is installed."""
    monkeypatch.setenv("EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD", "1")
    with pytest.raises(experiments.StoreError, match="unknown store scheme 'jsonl'"):
        experiments.connect("jsonl:///anywhere.jsonl")
