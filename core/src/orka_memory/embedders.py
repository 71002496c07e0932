"""Embedders: text to vectors for stored-memory search, registered through ``orka_memory_register_embedders``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of a fixed dimension. Backends store ``name`` and ``dimension`` with the vectors,
    so vectors from different embedders are never compared."""

    name: ClassVar[str]
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...
