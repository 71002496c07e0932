"""The module the ``orka_memory`` entry point names: only the hook registering the embedder (cheap to import:
torch and the model load when a logger first uses the embedder)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orka_memory import hookimpl

from orka_memory_sentence_transformers.embedder import SentenceTransformerEmbedder

if TYPE_CHECKING:
    from orka_memory.embedders import Embedder


@hookimpl
def orka_memory_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    """Register ``sentence-transformers`` (``embedder = "sentence-transformers"``)."""
    register(SentenceTransformerEmbedder)
