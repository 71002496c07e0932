"""The vector index on a real Redis Stack server: its schema, the HNSW parameters, and what happens when an existing
index or store does not match the logger (refused with the fix, or rebuilt)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from orka_memory.settings import ConfigurationError
from orka_memory_redisstack import IndexSchemaMismatch, VectorParams
from redis import Redis

from .conftest import MakeLogger

INDEX = "orka_enhanced_memory"
MEMORY_HASHES = "{orka:memory}:memory:"


def attributes(raw: Redis, index: str = INDEX) -> dict[str, dict[bytes, Any]]:
    """The index's attributes as FT.INFO reports them, by name."""
    return {item[b"attribute"].decode(): item for item in raw.execute_command("FT.INFO", index)[b"attributes"]}


def vector_schema(raw: Redis, index: str = INDEX) -> tuple[Any, ...]:
    vector = attributes(raw, index)["content_vector"]
    return tuple(vector.get(key) for key in (b"algorithm", b"data_type", b"dim", b"distance_metric", b"M",
                                              b"ef_construction"))  # fmt: skip


def test_the_index_covers_the_memory_hashes_with_a_field_per_filter(memory: Any, raw: Redis) -> None:
    info = raw.execute_command("FT.INFO", INDEX)
    assert info[b"index_definition"][b"prefixes"] == [MEMORY_HASHES.encode()]
    assert vector_schema(raw) == (b"HNSW", b"FLOAT32", 256, b"COSINE", 16, 200)
    fields = attributes(raw)
    tags = {name for name, item in fields.items() if item[b"type"] == b"TAG"}
    assert tags == {"run_id", "agent_id", "memory_type", "namespace", "session", "category", "log_type"}
    assert all(b"CASESENSITIVE" in fields[tag][b"flags"] for tag in tags)
    assert {fields[name][b"type"] for name in ("importance", "expires_at")} == {b"NUMERIC"}
    assert fields["content"][b"type"] == b"TEXT"

    memory.log_memory("expires in an hour", node_id="n", trace_id="t", metadata={"session": "s"}, expiry_hours=1)
    memory.log_memory("never expires", node_id="n", trace_id="t")
    memory.flush()
    info = raw.execute_command("FT.INFO", INDEX)
    assert (info[b"num_docs"], info[b"hash_indexing_failures"]) == (2, 0)
    stored = {raw.hget(key, "content"): raw.hgetall(key) for key in raw.keys(MEMORY_HASHES + "*")}
    lasting, never = stored[b"expires in an hour"], stored[b"never expires"]
    assert len(lasting[b"content_vector"]) == 256 * 4  # float32
    assert 0 < float(lasting[b"expiry"]) - time.time() * 1000 <= 3_600_000
    assert never[b"expiry"] == b"inf" and never[b"log_type"] == b"memory"
    assert raw.keys("{orka:memory}:term:*") == [], "RediSearch indexes the text: no inverted index of the redis backend"


def test_vector_params_in_either_case_reach_the_index_and_the_queries(make_logger: MakeLogger, raw: Redis) -> None:
    with make_logger(vector_params={"M": 8, "EF_CONSTRUCTION": 64, "ef_runtime": 30}) as memory:
        assert memory.backend.schema.params == VectorParams(m=8, ef_construction=64, ef_runtime=30)
        memory.log_memory("one memory", node_id="n", trace_id="t")
        memory.flush()
        with raw.monitor() as monitor:
            memory.search_memories("one memory", num_results=1)
            command = next(line["command"] for line in monitor.listen() if "FT.SEARCH" in line["command"])
    assert vector_schema(raw)[4:] == (8, 64)
    assert "EF_RUNTIME $ef_runtime" in command and " ef_runtime 30 " in command


def test_enable_hnsw_false_builds_an_exact_flat_index(make_logger: MakeLogger, raw: Redis) -> None:
    with make_logger(enable_hnsw=False) as memory:
        key = memory.log_memory("a memory in a flat index", node_id="n", trace_id="t")
        memory.log_memory("something else entirely", node_id="n", trace_id="t")
        memory.flush()
        [hit] = memory.search_memories("a memory in a flat index", num_results=1)
    assert vector_schema(raw)[:4] == (b"FLAT", b"FLOAT32", 256, b"COSINE")
    assert hit["key"] == key and hit["similarity_score"] > 0.99


def test_an_index_with_other_hnsw_parameters_is_refused_then_rebuilt_on_request(
    make_logger: MakeLogger, raw: Redis
) -> None:
    with make_logger() as memory:
        key = memory.log_memory("kept across the rebuild", node_id="n", trace_id="t")
    with pytest.raises(IndexSchemaMismatch, match=r"(?s)content_vector: .*M 16.*needed: .*M 32.*force_recreate_index"):
        make_logger(vector_params={"m": 32})
    assert vector_schema(raw)[4] == 16, "a refused logger leaves the index alone"
    with make_logger(vector_params={"m": 32}, force_recreate_index=True) as memory:
        [hit] = memory.search_memories("kept across the rebuild", num_results=1)
    assert vector_schema(raw)[4] == 32
    assert hit["key"] == key and hit["similarity_score"] > 0.99, "the memories are indexed again"


def test_orkas_own_index_of_the_same_name_is_reported_with_the_fix(make_logger: MakeLogger, raw: Redis) -> None:
    raw.execute_command(
        "FT.CREATE", INDEX, "ON", "HASH", "PREFIX", 1, "orka_memory:", "SCHEMA", "content", "TEXT",
        "content_vector", "VECTOR", "HNSW", 6, "TYPE", "FLOAT32", "DIM", 384, "DISTANCE_METRIC", "COSINE",
    )  # fmt: skip
    with pytest.raises(IndexSchemaMismatch) as refused:
        make_logger()
    message = str(refused.value)
    assert "DIM 384" in message and "orka_memory:" in message
    assert "force_recreate_index" in message and "index_name" in message
    with make_logger(index_name="orka_memory_v2") as memory:
        key = memory.log_memory("beside OrKa's index", node_id="n", trace_id="t")
        memory.flush()
        assert memory.search_memories("beside OrKa's index", num_results=1)[0]["key"] == key
    assert vector_schema(raw)[2] == 384, "OrKa's index is left as it was"


def test_vector_dim_must_be_the_embedders(make_logger: MakeLogger) -> None:
    with pytest.raises(ConfigurationError, match=r"vector_dim is 384, but embedder 'hashing' makes 256-dimensional"):
        make_logger(vector_dim=384)
    with make_logger(vector_dim=256) as memory:
        assert memory.backend.schema.dimension == 256


def test_another_embedder_is_taken_while_no_vector_is_stored_and_the_index_follows(
    make_logger: MakeLogger, raw: Redis
) -> None:
    with make_logger() as memory:
        memory.log("agent", "start", {}, run_id="r")  # events only: no vectors
    with make_logger(embedder_options={"dimension": 64}) as memory:
        key = memory.log_memory("a 64-dimensional memory", node_id="n", trace_id="t")
        memory.flush()
        assert memory.search_memories("a 64-dimensional memory", num_results=1)[0]["key"] == key
        assert len(memory.trace("r")) == 1
    assert vector_schema(raw)[2] == 64
    assert raw.hgetall("{orka:memory}:vector-space") == {b"embedder": b"hashing", b"dimension": b"64"}


def test_an_index_dropped_behind_the_loggers_back_comes_back(memory: Any, raw: Redis) -> None:
    key = memory.log_memory("survives a dropped index", node_id="n", trace_id="t")
    memory.flush()
    raw.execute_command("FT.DROPINDEX", INDEX)  # the hashes stay
    assert memory.search_memories("survives a dropped index", num_results=1)[0]["key"] == key
    raw.execute_command("FT.DROPINDEX", INDEX)
    assert memory.ensure_index() is True
    assert raw.execute_command("FT.INFO", INDEX)[b"num_docs"] == 1


def test_the_backends_own_keys_stay_out_of_the_key_value_view(memory: Any) -> None:
    memory.log_memory("a memory", node_id="n", trace_id="t")
    memory.set("fork_group:g1", "x")
    memory.flush()
    cursor, keys = 0, []
    while True:
        cursor, batch = memory.scan(cursor, count=100)
        keys.extend(batch)
        if cursor == 0:
            break
    assert keys == ["fork_group:g1"]
