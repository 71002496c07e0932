"""The sentence-transformers embedder with the real all-MiniLM-L6-v2 model (bundled, no model hub), alone and
through the shared conformance suite on the embedded file backend: search by meaning."""

from pathlib import Path

import pytest
from orka_memory import create_memory_logger
from orka_memory.plugins import get_plugin_manager
from orka_memory.testing import LoggerConformance
from orka_memory.testing.conformance import MakeLogger
from orka_memory.vectors import normalize
from orka_memory_sentence_transformers import SentenceTransformerEmbedder

MEANING = {"embedder": "sentence-transformers"}


def cosine(embedder: SentenceTransformerEmbedder, first: str, second: str) -> float:
    a, b = (normalize(vector, embedder.dimension) for vector in embedder.embed([first, second]))
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_the_embedder_registers_through_the_entry_point() -> None:
    assert get_plugin_manager().embedders()["sentence-transformers"] is SentenceTransformerEmbedder


def test_the_bundled_default_model_embeds_by_meaning() -> None:
    embedder = SentenceTransformerEmbedder()
    assert embedder.dimension == 384 and embedder.identity == "sentence-transformers:all-MiniLM-L6-v2"
    query = "the model invented references that are not real"
    related = cosine(embedder, query, "the language model hallucinated citations")
    unrelated = cosine(embedder, query, "invoices are paid within thirty days")
    assert related > 0.35 and unrelated < 0.15


def test_search_by_meaning_finds_a_paraphrase_without_shared_words(orka_memory_env: Path) -> None:
    with create_memory_logger("file", **MEANING) as memory:
        wanted = memory.log_memory("The customer cancelled the subscription", node_id="n", trace_id="t")
        memory.log_memory("The server room is too warm", node_id="n", trace_id="t")
        memory.flush()
        [hit] = memory.search_memories("a client ended their plan", num_results=1)
    assert hit["key"] == wanted


def test_switching_from_the_hashing_embedder_is_refused_on_a_store_with_vectors(orka_memory_env: Path) -> None:
    with create_memory_logger("file") as memory:
        memory.log_memory("stored with hashing", node_id="n", trace_id="t")
    with pytest.raises(ValueError, match=r"'hashing' \(256 dimensions\).*'sentence-transformers:all-MiniLM-L6-v2'"):
        create_memory_logger("file", **MEANING)


class TestFileBackendWithSentenceTransformers(LoggerConformance):
    @pytest.fixture
    def make_logger(self, tmp_path: Path) -> MakeLogger:
        def make(**settings: object):  # type: ignore[no-untyped-def]
            return create_memory_logger("file", path=str(tmp_path / "store.db"), **{**MEANING, **settings})

        return make
