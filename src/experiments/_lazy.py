"""Names a package exports but imports only when first used (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, homes: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name of ``homes`` from its module.

    ``homes`` maps an exported name to the module that defines it, or a submodule's name
    to the submodule itself; the first use imports it and keeps it in the package's
    ``namespace``, so later uses cost nothing.  Assign the result under ``if not
    TYPE_CHECKING:``, so that type checkers see only the names the package declares.
    """

    def attribute(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(home)
        value = module if home == f"{package}.{name}" else getattr(module, name)
        namespace[name] = value
        return value

    return attribute
