"""What a store, a batch and a run share: each is used in a ``with`` block as itself."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Scoped"]


class Scoped:
    """An object a ``with`` block gives as itself, and tells how the block ended.

    Stores close, batches commit (or discard on an error) and runs conclude (or note
    the failure); each says only what it does on the way out, in :meth:`_leave`.
    """

    __slots__ = ()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._leave(exc)

    def _leave(self, exc: BaseException | None) -> None:
        """What leaving the block does; ``exc`` is what ended it early, or None."""
        raise NotImplementedError
