"""On a server without the search module (Debian's plain redis-server) the redisstack backend degrades to the redis
backend, with a warning, and stored memories are still searched (by text)."""

from __future__ import annotations

import pytest
from orka_memory import create_memory_logger
from orka_memory_redis import RedisBackend, RedisMemoryLogger
from orka_memory_redisstack import RedisStackMemoryLogger, SearchModuleMissingWarning


def test_the_factory_returns_a_redis_logger_with_a_warning_and_search_still_works(plain_url: str) -> None:
    with pytest.warns(SearchModuleMissingWarning, match="no search module"):
        memory = create_memory_logger("redisstack", redis_url=plain_url)
    with memory:
        assert type(memory) is RedisMemoryLogger and type(memory.backend) is RedisBackend
        wanted = memory.log_memory("quarterly revenue grew", node_id="n", trace_id="t", metadata={"namespace": "f"})
        memory.log_memory("quarterly revenue fell", node_id="n", trace_id="t", metadata={"namespace": "g"})
        memory.flush()
        hits = memory.search_memories("quarterly revenue", num_results=5, namespace="f")
        assert [hit["key"] for hit in hits] == [wanted] and hits[0]["similarity_score"] > 0
        assert memory.ensure_index() is True


def test_no_backend_configured_tries_redis_stack_first_and_degrades_on_plain_redis(plain_url: str) -> None:
    with pytest.warns(SearchModuleMissingWarning), create_memory_logger(redis_url=plain_url) as memory:
        assert type(memory) is RedisMemoryLogger


def test_orkas_constructor_on_plain_redis_degrades_the_same_way(plain_url: str) -> None:
    with pytest.warns(SearchModuleMissingWarning):
        memory = RedisStackMemoryLogger(redis_url=plain_url)
    with memory:
        assert type(memory.backend) is RedisBackend
        key = memory.log_memory("a memory without a vector index", node_id="n", trace_id="t")
        memory.flush()
        assert [hit["key"] for hit in memory.search_memories("vector index")] == [key]
        assert memory.ensure_index() is True
        metrics = memory.get_performance_metrics()
        assert metrics["vector_search_enabled"] is False and metrics["index_status"] is None
