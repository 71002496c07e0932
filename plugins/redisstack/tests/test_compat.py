"""OrKa's ``RedisStackMemoryLogger``: its import paths, its constructor, the result dicts, and the settings section."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from orka_memory import create_memory_logger
from orka_memory.settings import ConfigurationError
from orka_memory_redis import RedisMemoryLogger
from orka_memory_redisstack import RedisStackBackend, RedisStackMemoryLogger, VectorParams
from redis import Redis

# The keys ORKA_COMPAT.md lists for a search result.
RESULT_KEYS = {
    "content", "node_id", "trace_id", "importance_score", "memory_type", "timestamp", "metadata",
    "similarity_score", "key", "ttl_seconds", "ttl_formatted", "expires_at", "expires_at_formatted", "has_expiry",
}  # fmt: skip


def test_orkas_import_paths_give_the_plugins_class() -> None:
    assert importlib.import_module("orka.memory.redisstack_logger").RedisStackMemoryLogger is RedisStackMemoryLogger
    assert importlib.import_module("orka.memory").RedisStackMemoryLogger is RedisStackMemoryLogger
    assert issubclass(RedisStackMemoryLogger, RedisMemoryLogger)


def test_the_factory_returns_a_redis_stack_logger(stack_url: str) -> None:
    with create_memory_logger("redisstack", redis_url=stack_url) as memory:
        assert type(memory) is RedisStackMemoryLogger and type(memory.backend) is RedisStackBackend
        assert memory.redis.ping() is True


def test_orkas_constructor_arguments_are_used(stack_url: str, raw: Redis) -> None:
    memory = RedisStackMemoryLogger(
        redis_url=stack_url,
        index_name="orka_test_index",
        memory_decay_config={"enabled": False, "default_short_term_hours": 2.0},
        vector_params={"M": 8, "ef_construction": 100, "EF_RUNTIME": 50},
        format_params={"style": "compact"},
        vector_dim=256,
        stream_key="orka:compat",
    )
    with memory:
        schema = memory.backend.schema
        assert (schema.name, schema.dimension, schema.params) == (
            "orka_test_index",
            256,
            VectorParams(m=8, ef_construction=100, ef_runtime=50),
        )
        assert memory.decay_config.default_short_term_hours == 2.0
        assert memory.format_params == {"style": "compact"}
        key = memory.log_memory("what the planner decided", node_id="planner", trace_id="run-1",
                                metadata={"namespace": "plans"}, importance_score=0.8, expiry_hours=2)  # fmt: skip
        memory.flush()
        [hit] = memory.search_memories("what the planner decided", num_results=3, trace_id="run-1")
        metrics = memory.get_performance_metrics()
    assert raw.execute_command("FT.INFO", "orka_test_index")[b"index_definition"][b"prefixes"] == [
        b"{orka:compat}:memory:"
    ]
    assert set(hit) >= RESULT_KEYS
    assert key.startswith("orka_memory:") and hit["key"] == key
    assert hit["similarity_score"] > 0.99 and isinstance(hit["importance_score"], float)
    assert hit["metadata"]["namespace"] == "plans" and hit["has_expiry"] is True
    assert 7100 < hit["ttl_seconds"] <= 7200 and isinstance(hit["timestamp"], int)
    assert metrics["vector_search_enabled"] is True and metrics["embedder"] == "hashing"
    assert metrics["index_status"]["num_docs"] == 1 and metrics["index_status"]["hnsw"]["m"] == 8


def test_unknown_arguments_and_embedder_objects_are_refused(stack_url: str) -> None:
    with pytest.raises(TypeError, match="indexname"):
        RedisStackMemoryLogger(redis_url=stack_url, indexname="typo")
    with pytest.raises(TypeError, match="names an installed embedder"):
        RedisStackMemoryLogger(redis_url=stack_url, embedder=object())  # type: ignore[arg-type]


def test_settings_come_from_the_environment_and_bad_ones_are_named(
    stack_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", stack_url)
    monkeypatch.setenv("ORKA_MEMORY_REDISSTACK__VECTOR_PARAMS__EF_RUNTIME", "77")
    monkeypatch.setenv("ORKA_MEMORY_REDISSTACK__INDEX_NAME", "from_env")
    with create_memory_logger("redisstack") as memory:
        assert (memory.backend.schema.name, memory.backend.schema.params.ef_runtime) == ("from_env", 77)
    with pytest.raises(ConfigurationError, match="efruntime"):
        create_memory_logger("redisstack", vector_params={"efruntime": 5})
    with pytest.raises(ConfigurationError, match="one Redis Stack server"):
        create_memory_logger("redisstack", cluster=True)


def test_stored_memories_round_trip_through_the_memory_api(memory: Any) -> None:
    keys = [memory.log_memory(f"memory {index}", node_id="n", trace_id="t-api") for index in range(3)]
    memory.flush()
    assert [item["key"] for item in memory.get_recent_stored_memories(2)] == keys[:0:-1]
    assert memory.delete_memory(keys[0]) is True
    assert memory.search_memories("memory 0", num_results=3, trace_id="t-api")[0]["key"] != keys[0]
    memory.clear_all_memories()
    assert memory.search_memories("memory", num_results=3) == []
    assert memory.get_memory_stats()["stored_memories"] == 0
