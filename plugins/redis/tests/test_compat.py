"""OrKa's ways in: the factory, the RedisMemoryLogger constructor, the orka.* import paths, REDIS_URL."""

from __future__ import annotations

import importlib

import pytest
from orka_memory import create_memory_logger
from orka_memory.plugins import get_plugin_manager
from orka_memory_redis import RedisBackend, RedisMemoryLogger
from orka_memory_redis.keys import Keys
from redis import Redis


def test_the_entry_point_registers_the_backend_and_the_factory_returns_its_logger(redis_url: str) -> None:
    assert get_plugin_manager().backends()["redis"] is RedisBackend
    with create_memory_logger("redis", redis_url=redis_url) as memory:
        assert type(memory) is RedisMemoryLogger
        assert isinstance(memory.redis, Redis) and memory.redis.ping() is True


def test_direct_construction_takes_orkas_arguments(redis_url: str) -> None:
    with RedisMemoryLogger(
        redis_url=redis_url, stream_key="app:mem", debug_keep_previous_outputs=True, memory_preset="working",
        decay_config={"default_short_term_hours": 3},
    ) as memory:  # fmt: skip
        memory.log("agent", "step", {"n": 1}, run_id="run-direct", previous_outputs={"a": 1})
        memory.flush()
        assert memory.memory[-1]["previous_outputs"] == {"a": 1}
        assert memory.decay_config.enabled, "a preset turns decay on"
        [event] = memory.trace("run-direct")
        assert event["expires_at"] - event["created_at"] == 3 * 3_600_000, "decay_config wins over the preset"
        assert memory.redis.xlen(Keys("app:mem").event_stream("short_term", str(3 * 3_600_000))) == 1


def test_redis_url_from_the_environment(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    with RedisMemoryLogger() as memory:
        assert memory.backend.describe().startswith(redis_url)
    monkeypatch.setenv("ORKA_MEMORY_BACKEND", "redis")
    with create_memory_logger() as memory:
        assert type(memory) is RedisMemoryLogger and memory.backend.describe().startswith(redis_url)


def test_orka_import_paths_give_the_plugins_class() -> None:
    from orka.memory import RedisMemoryLogger as FromPackage

    assert importlib.import_module("orka.memory.redis_logger").RedisMemoryLogger is RedisMemoryLogger
    assert FromPackage is RedisMemoryLogger


def test_two_prefixes_share_a_server_without_seeing_each_other(redis_url: str) -> None:
    with RedisMemoryLogger(redis_url=redis_url, stream_key="team-a") as first, \
            RedisMemoryLogger(redis_url=redis_url, stream_key="team-b") as second:  # fmt: skip
        first.log("a", "step", {"team": "a"}, run_id="shared-run")
        second.log("b", "step", {"team": "b"}, run_id="shared-run")
        first.flush()
        second.flush()
        assert [event["payload"]["team"] for event in first.trace("shared-run")] == ["a"]
        assert [event["payload"]["team"] for event in second.tail(10)] == ["b"]
        assert first.get_memory_stats()["total_events"] == 1
