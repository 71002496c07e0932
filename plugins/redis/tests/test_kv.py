"""The key-value API fork/join coordination runs on: Redis's own types under the caller's key names, str values,
type errors that change nothing, and the optional TTL of fork/join keys."""

from __future__ import annotations

import pytest
from orka_memory import MemoryLogger, WrongTypeError, create_memory_logger
from redis import Redis


def test_values_are_str_and_keys_are_the_callers_own(memory: MemoryLogger, raw: Redis) -> None:
    memory.hset("fork_group_results:g1", "planner", {"answer": 42, "sources": ["a", "b"]})
    memory.sadd("fork_group:g1", "planner", 7)
    memory.set("agent_result:g1:planner", ["done"])
    assert memory.hget("fork_group_results:g1", "planner") == '{"answer":42,"sources":["a","b"]}'
    assert memory.hgetall("fork_group_results:g1") == {"planner": '{"answer":42,"sources":["a","b"]}'}
    assert memory.smembers("fork_group:g1") == ["7", "planner"]
    assert memory.get("agent_result:g1:planner") == '["done"]'
    # OrKa's fork managers use the client directly, on the same key names.
    assert memory.redis.hget("fork_group_results:g1", "planner") == b'{"answer":42,"sources":["a","b"]}'
    assert raw.type("fork_group:g1") == b"set" and raw.type("agent_result:g1:planner") == b"string"


def test_a_type_error_changes_nothing(memory: MemoryLogger, raw: Redis) -> None:
    memory.set("waitfor:g1:inputs", "ready")
    memory.sadd("fork_group:g1", "a", "b")
    memory.hset("join_outputs", "a", "1")
    with pytest.raises(WrongTypeError, match="WRONGTYPE"):
        memory.hset("waitfor:g1:inputs", "k", "v")
    with pytest.raises(WrongTypeError):
        memory.hdel("fork_group:g1", "a")
    with pytest.raises(WrongTypeError):
        memory.srem("join_outputs", "a")
    with pytest.raises(WrongTypeError):
        memory.get("join_outputs")
    assert memory.get("waitfor:g1:inputs") == "ready"
    assert memory.smembers("fork_group:g1") == ["a", "b"]
    assert memory.hgetall("join_outputs") == {"a": "1"}
    assert raw.dbsize() == 3


def test_fork_and_join_keys_get_the_configured_ttl(redis_url: str, raw: Redis) -> None:
    with create_memory_logger("redis", redis_url=redis_url, fork_ttl_seconds=60) as memory:
        memory.hset("fork_group_results:g1", "a", "1")
        memory.sadd("fork_group:g1", "a")
        memory.set("agent_result:g1:a", "x")
        memory.hset("my_own_hash", "a", "1")
    for key in ("fork_group_results:g1", "fork_group:g1", "agent_result:g1:a"):
        assert 0 < raw.pttl(key) <= 60_000, key
    assert raw.pttl("my_own_hash") == -1


def test_set_replaces_any_type_and_clears_the_ttl_like_redis(memory: MemoryLogger, raw: Redis) -> None:
    memory.sadd("k", "member")
    assert memory.backend.expire("k", 30) is True
    assert memory.set("k", "now a string") is True
    assert memory.get("k") == "now a string" and raw.pttl("k") == -1
    assert memory.backend.expire("missing", 30) is False
    assert memory.delete("k", "missing") == 1


def test_scan_shows_the_key_value_keys_and_hides_the_logs_own(memory: MemoryLogger) -> None:
    memory.log("agent", "start", {"n": 1}, run_id="run-scan")
    memory.log_memory("a stored memory", node_id="n", trace_id="run-scan")
    memory.flush()
    memory.set("fork_group_mapping:n1", "g1")
    memory.hset("join_retry_counts", "g1", "0")
    cursor, found = 0, []
    while True:
        cursor, keys = memory.scan(cursor, count=3)
        found.extend(keys)
        if cursor == 0:
            break
    assert sorted(found) == ["fork_group_mapping:n1", "join_retry_counts"]
