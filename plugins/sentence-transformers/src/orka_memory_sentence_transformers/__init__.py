"""orka-memory's ``sentence-transformers`` embedder: stored memories and queries embedded by a language model, so
``search_memories`` finds texts by meaning. Select it with ``embedder = "sentence-transformers"``."""

from orka_memory_sentence_transformers.embedder import SentenceTransformerEmbedder
from orka_memory_sentence_transformers.version import __version__

__all__ = ["SentenceTransformerEmbedder", "__version__"]
