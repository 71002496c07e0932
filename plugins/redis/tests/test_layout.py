"""What the backend writes into Redis: streams per memory type and lifetime, hashes with native TTLs, run indexes
that expire with their records, exact trimming, idempotent batches, and reads that never scan."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory.record import now_ms
from orka_memory_redis import layout
from orka_memory_redis.keys import Keys
from redis import Redis

KEYS = Keys("orka:memory")
SHORT = {"enabled": True, "short_term_hours": 0.3 / 3600}  # a 300 ms lifetime
HOUR_MS = 3_600_000


@pytest.fixture
def memory(redis_url: str) -> Iterator[MemoryLogger]:
    """With decay on: records live for the default hours, or as their agent's config says."""
    with create_memory_logger("redis", redis_url=redis_url, decay_config={"enabled": True}) as logger:
        yield logger


def test_events_are_stream_entries_holding_the_whole_encoded_record(memory: MemoryLogger, raw: Redis) -> None:
    payloads = [{"answer": index, "text": "x" * 700} for index in range(3)]  # above the compression threshold
    for index, payload in enumerate(payloads):
        memory.log("agent", "result", payload, step=index, run_id="run-layout")
    memory.flush()
    assert raw.smembers(KEYS.streams) == {f"short_term:{HOUR_MS}".encode()}
    entries = raw.xrange(KEYS.event_stream("short_term", str(HOUR_MS)))
    assert [sorted(fields) for _, fields in entries] == [[b"b", b"h", b"i", b"x", b"z"]] * 3
    for (_, fields), payload in zip(entries, payloads, strict=True):
        record = layout.decode(fields[b"h"], fields[b"b"])
        assert record.codec == "zstd" and fields[b"i"].decode() == record.id
        assert int(fields[b"x"]) == record.expires_at == record.created_at + HOUR_MS
        assert memory.encoder.decode_document(record)["payload"] == payload
    assert raw.hlen(KEYS.ids) == 3


def test_each_lifetime_has_a_stream_and_cleanup_trims_exactly_its_expired_prefix(
    memory: MemoryLogger, raw: Redis
) -> None:
    for index in range(5):
        memory.log("fleeting", "debug", {"n": index}, run_id="run-trim", agent_decay_config=SHORT)
    for index in range(3):
        memory.log("lasting", "debug", {"n": 10 + index}, run_id="run-trim")
    memory.flush()
    time.sleep(0.5)
    for index in range(2):
        memory.log("fleeting", "debug", {"n": 20 + index}, run_id="run-trim", agent_decay_config=SHORT)
    memory.flush()
    short_stream, long_stream = KEYS.event_stream("short_term", "300"), KEYS.event_stream("short_term", str(HOUR_MS))
    assert raw.smembers(KEYS.streams) == {b"short_term:300", f"short_term:{HOUR_MS}".encode()}
    assert [event["payload"]["n"] for event in memory.trace("run-trim")] == [10, 11, 12, 20, 21]
    assert memory.get_memory_stats()["expired_entries"] == 5

    assert memory.cleanup_expired_memories(dry_run=True)["events"] == 5
    assert raw.xlen(short_stream) == 7, "a dry run removes nothing"
    assert memory.cleanup_expired_memories()["events"] == 5
    assert raw.xlen(short_stream) == 2 and raw.xlen(long_stream) == 3
    survivors = [layout.decode(f[b"h"], f[b"b"]) for _, f in raw.xrange(short_stream)]
    assert all(record.expires_at > now_ms() for record in survivors)
    assert raw.hlen(KEYS.ids) == 5, "trimmed entries leave the id index too"
    stats = memory.get_memory_stats()
    assert stats["total_events"] == 5 and stats["expired_entries"] == 0
    assert [event["payload"]["n"] for event in memory.tail(10)] == [10, 11, 12, 20, 21]


def test_stored_memories_are_hashes_with_native_ttls(redis_url: str, raw: Redis) -> None:
    with create_memory_logger("redis", redis_url=redis_url) as memory:  # decay off: only explicit expiries
        lasting = memory.log_memory("kept an hour", node_id="n", trace_id="t-ttl", expiry_hours=1,
                                    metadata={"namespace": "ops"})  # fmt: skip
        forever = memory.log_memory("kept forever", node_id="n", trace_id="t-ttl", metadata={"namespace": "ops"})
        memory.flush()
        [hit] = [item for item in memory.get_all_memories("t-ttl") if item["key"] == lasting]
    lasting_key = KEYS.memory + lasting.removeprefix("orka_memory:")
    assert raw.type(lasting_key) == b"hash"
    assert raw.pexpiretime(lasting_key) == hit["expires_at"]
    assert 0 < raw.pttl(lasting_key) <= HOUR_MS
    assert raw.hmget(lasting_key, "run_id", "namespace", "agent_id") == [b"t-ttl", b"ops", b"n"]
    assert raw.pttl(KEYS.memory + forever.removeprefix("orka_memory:")) == -1


def test_a_run_index_lives_exactly_as_long_as_its_longest_lived_record(memory: MemoryLogger, raw: Redis) -> None:
    memory.log("a", "debug", {}, run_id="run-ttl", agent_decay_config={"short_term_hours": 1})
    memory.log("b", "debug", {}, run_id="run-ttl", agent_decay_config={"short_term_hours": 2})
    memory.log("c", "debug", {}, run_id="run-ttl", agent_decay_config={"short_term_hours": 1})
    memory.flush()
    trace = memory.trace("run-ttl")
    assert raw.pexpiretime(KEYS.run_events("run-ttl")) == max(event["expires_at"] for event in trace)
    memory.log("d", "debug", {}, run_id="run-ttl", agent_decay_config={"enabled": False})
    memory.flush()
    assert raw.pttl(KEYS.run_events("run-ttl")) == -1, "a record that never expires keeps its run's index"


def test_a_replayed_batch_stores_nothing_twice(memory: MemoryLogger, raw: Redis) -> None:
    shared = {"response": "the same long agent output, repeated in every step " * 8}
    for index in range(4):
        memory.log("agent", "result", {"result": shared, "n": index}, run_id="run-replay")
    memory.log_memory("remember the replay", node_id="n", trace_id="run-replay")
    memory.flush()
    before = memory.get_memory_stats()
    stored = list(memory.backend.iter_records(now_ms=now_ms()))
    blobs = memory.backend.get_blobs([digest.decode() for digest in raw.zrange(KEYS.blobs, 0, -1)])
    assert len(stored) == 5 and len(blobs) == 1

    memory.backend.append(stored, list(blobs.values()))

    after = memory.get_memory_stats()
    for name in ("total_events", "stored_memories", "blobs", "raw_bytes", "stored_bytes"):
        assert after[name] == before[name], name
    assert len(memory.trace("run-replay")) == 4
    assert raw.zcard(KEYS.run_events("run-replay")) == 4 and raw.zcard(KEYS.run_memories("run-replay")) == 1
    assert len(memory.search_memories("replay")) == 1


def test_reads_and_stats_never_scan_and_take_one_script_call(memory: MemoryLogger, raw: Redis) -> None:
    for index in range(300):
        memory.log("agent", "step", {"n": index}, step=index, run_id=f"run-{index % 3}")
    memory.log_memory("a note about the quarterly plan", node_id="n", trace_id="run-0")
    memory.flush()
    raw.config_resetstat()

    assert len(memory.tail(100)) == 100
    calls = raw.info("commandstats")
    assert calls["cmdstat_evalsha"]["calls"] == 1, "tail is one script call"
    assert calls["cmdstat_xrevrange"]["calls"] == 1, "one XREVRANGE per stream, whatever the count"

    raw.config_resetstat()
    assert len(memory.trace("run-1")) == 100
    calls = raw.info("commandstats")
    assert calls["cmdstat_zrange"]["calls"] == 1 and calls["cmdstat_evalsha"]["calls"] == 1

    memory.search_memories("quarterly plan")
    memory.get_recent_stored_memories(5)
    memory.get_memory_stats()
    memory.cleanup_expired_memories(dry_run=True)
    memory.cleanup_expired_memories()
    commands = set(raw.info("commandstats"))
    assert not commands & {"cmdstat_keys", "cmdstat_scan", "cmdstat_hscan", "cmdstat_zscan", "cmdstat_sscan"}


def test_a_large_cleanup_runs_in_bounded_steps(
    memory: MemoryLogger, raw: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("orka_memory_redis.backend.CLEANUP_BUDGET", 4)  # items per script call
    for index in range(9):
        memory.log("fleeting", "debug", {"n": index}, run_id="run-steps", agent_decay_config=SHORT)
        memory.log_memory(f"fleeting note {index}", node_id="n", trace_id="run-steps", expiry_hours=0.3 / 3600)
    memory.log("lasting", "debug", {"n": 99}, run_id="run-steps")
    memory.flush()
    time.sleep(0.5)
    raw.config_resetstat()
    report = memory.cleanup_expired_memories()
    assert (report["events"], report["memories"]) == (9, 9)
    assert raw.info("commandstats")["cmdstat_evalsha"]["calls"] == 5, "18 items, 4 per call"
    assert raw.xlen(KEYS.event_stream("short_term", "300")) == 0
    assert raw.zcard(KEYS.memories) == 0 and raw.hlen(KEYS.ids) == 1
    assert [event["payload"]["n"] for event in memory.trace("run-steps")] == [99]
