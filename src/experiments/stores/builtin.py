"""The built-in storage backends, registered through the same hook as any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.plugins import hookimpl
from experiments.stores._openers import BUILTIN_BACKENDS

if TYPE_CHECKING:
    from experiments.hookspecs import RegisterBackend


@hookimpl
def register_backends(register: RegisterBackend) -> None:
    for scheme, (opener, description) in BUILTIN_BACKENDS.items():
        register(scheme, opener, description=description)
