"""The built-in hashing embedder, embedder selection, and the shared vector layout."""

from pathlib import Path

import pytest
from orka_memory import ConfigurationError, create_memory_logger
from orka_memory.default_plugins.embedders import HashingEmbedder
from orka_memory.embedders import create_embedder
from orka_memory.plugins import get_plugin_manager
from orka_memory.vectors import VectorError, normalize, pack, similarity, similarity_from_distance, unpack


def cosine(first: str, second: str, embedder: HashingEmbedder | None = None) -> float:
    embedder = embedder or HashingEmbedder()
    a, b = (normalize(vector, embedder.dimension) for vector in embedder.embed([first, second]))
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hashing_is_deterministic_and_has_its_dimension() -> None:
    first, again = HashingEmbedder().embed(["the same text", "the same text"])
    assert first == again and len(first) == 256
    assert HashingEmbedder(dimension=64).embed(["x"])[0].__len__() == 64


def test_hashing_ranks_shared_words_and_stems_above_unrelated_text() -> None:
    query = "deduplication of repeated agent outputs"
    related = cosine(query, "agent outputs that repeat are deduplicated")
    unrelated = cosine(query, "the weather in Lisbon is sunny today")
    assert related > 0.4 > 0.1 > unrelated
    assert cosine(query, query) == pytest.approx(1.0)


def test_a_text_without_words_still_gets_a_unit_vector() -> None:
    [vector] = HashingEmbedder().embed(["  ...  "])
    assert normalize(vector, 256)[0] == 1.0


def test_too_small_a_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        HashingEmbedder(dimension=4)


def test_the_builtin_embedder_registers_through_the_hook() -> None:
    manager = get_plugin_manager()
    assert manager.embedders()["hashing"] is HashingEmbedder
    assert "embedder:hashing" in manager.registered_by("orka_memory.embedders")


def test_an_unknown_embedder_or_bad_options_name_the_fix() -> None:
    classes = get_plugin_manager().embedders()
    with pytest.raises(ConfigurationError, match=r"is not installed \(installed embedders: hashing"):
        create_embedder(classes, "word2vec", {})
    with pytest.raises(ConfigurationError, match="does not accept the embedder_options"):
        create_embedder(classes, "hashing", {"model": "x"})


def test_the_logger_uses_the_configured_embedder_and_options(orka_memory_env: Path) -> None:
    with create_memory_logger("file", embedder_options={"dimension": 32}) as memory:
        assert memory.embedder is not None and memory.embedder.dimension == 32
    with pytest.raises(ConfigurationError, match="'nope' is not installed"):
        create_memory_logger("file", embedder="nope", path=str(orka_memory_env / "other.db"))


def test_vectors_pack_as_unit_float32_little_endian() -> None:
    unit = normalize([3.0, 4.0], 2)
    assert unit == [0.6, 0.8]
    data = pack(unit)
    assert len(data) == 8 and data[:4] == bytes.fromhex("9a99193f")  # 0.6 as float32, little-endian
    assert unpack(data) == pytest.approx(unit)


@pytest.mark.parametrize(
    ("vector", "message"),
    [([1.0], "has 1 values"), ([0.0, 0.0], "not all zero"), ([float("nan"), 1.0], "finite"), (["a", 1], "numbers")],
)
def test_unusable_vectors_are_refused_with_the_reason(vector: list[object], message: str) -> None:
    with pytest.raises(VectorError, match=message):
        normalize(vector, 2)  # type: ignore[arg-type]


def test_similarity_is_clamped_to_zero_one() -> None:
    assert similarity(1.0000001) == 1.0 and similarity(-0.3) == 0.0 and similarity(0.42) == 0.42
    assert similarity_from_distance(0.0) == 1.0 and similarity_from_distance(1.5) == 0.0
