"""Helpers for testing code built on strategy-experiments, and backends for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.testing.conformance import StoreConformance

__all__ = ["StoreConformance"]


def __getattr__(name: str) -> Any:
    if name == "StoreConformance":
        from experiments.testing.conformance import StoreConformance  # noqa: PLC0415

        return StoreConformance
    raise AttributeError(name)
