"""What the Kafka backend promises beyond the shared conformance suite: the layout of its messages and topics, reads
from Kafka (buffer, other processes, follow), blobs any consumer can resolve, the companion, and the entry points."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from orka_memory import create_memory_logger
from orka_memory.backend import BackendUnavailable, Capability
from orka_memory.cli.app import main
from orka_memory.codecs import CodecRegistry
from orka_memory.plugins import get_plugin_manager
from orka_memory_file import FileBackend, FileSettings
from orka_memory_kafka import KafkaBackend, KafkaMemoryLogger, KafkaSettings
from orka_memory_kafka.client import client_library
from orka_memory_kafka.reading import partition_for_key
from orka_memory_kafka.topics import TopicConfigWarning

from .conftest import MakeLogger
from .helpers import topic_messages

OUTPUT = {"response": "Kafka keeps a run's events in one partition, in order. " * 10, "model": "m"}


def _headers(message: Any) -> dict[str, str]:
    return {name: value.decode() for name, value in message.headers}


def test_records_are_keyed_by_run_with_headers_on_the_topic_of_their_memory_type(
    make_logger: MakeLogger, kafka_args: dict[str, Any]
) -> None:
    prefix = kafka_args["topic_prefix"]
    with make_logger() as memory:
        assert Capability.COMPRESSED_TRANSPORT in memory.backend.capabilities
        for step in range(40):
            memory.log(
                f"agent-{step % 2}",
                "result",
                {"step": step, "text": "long " * 200},
                step=step,
                run_id=f"run-{step % 4}",
            )
        memory.log_memory("remember this", node_id="writer", trace_id="run-0", memory_type="long_term")
        memory.flush()
    events = topic_messages(kafka_args, f"{prefix}.short-term")
    assert len(events) == 40
    for m in events:
        headers = _headers(m)
        assert headers["event_type"] == "result" and headers["agent_id"].startswith("agent-")
        assert headers["schema_version"] == "1" and headers["log_type"] == "log"
        assert headers["codec"] == "none", "the producer compresses batches, so records are not compressed twice"
        assert m.partition == partition_for_key(m.key, 6), "the run id key decides the partition"
    assert {m.key for m in events} == {f"run-{n}".encode() for n in range(4)}
    per_run = [[orjson.loads(m.value)["step"] for m in events if m.key == b"run-1"]]
    assert per_run == [list(range(1, 40, 4))], "a run's events stay in order"
    [stored] = topic_messages(kafka_args, f"{prefix}.long-term")
    assert _headers(stored)["log_type"] == "memory" and stored.key == b"run-0"


def test_topics_get_retention_from_decay_and_existing_ones_are_verified(
    make_logger: MakeLogger, kafka_args: dict[str, Any]
) -> None:
    decay = {"enabled": True, "default_short_term_hours": 2, "default_long_term_hours": 48}
    with make_logger(decay_config=decay) as memory:
        backend = memory.backend
        assert isinstance(backend, KafkaBackend)
        admin = backend.library.admin(backend.settings)
        short = admin.describe(f"{kafka_args['topic_prefix']}.short-term")
        long = admin.describe(f"{kafka_args['topic_prefix']}.long-term")
        blobs = admin.describe(f"{kafka_args['topic_prefix']}.blobs")
        admin.close()
    assert short is not None and long is not None and blobs is not None
    assert short.partitions == 6 and short.config["retention.ms"] == str(2 * 3_600_000)
    assert long.config["retention.ms"] == str(48 * 3_600_000)
    assert blobs.config["cleanup.policy"] == "compact"
    with pytest.warns(TopicConfigWarning, match=r"retention\.ms=7200000 \(settings: 3600000\)"):
        make_logger(short_term_retention_hours=1, long_term_retention_hours=48).close()


def test_tail_comes_from_the_buffer_and_sees_other_processes(make_logger: MakeLogger) -> None:
    with make_logger() as reader, make_logger() as writer, make_logger(recent_buffer=0) as unbuffered:
        reader.tail(1)  # the reader follows the topics from here on
        for step in range(30):
            writer.log("agent", "step", {"n": step}, step=step, run_id="run-x")
        writer.flush()
        deadline = time.monotonic() + 10
        while len(reader.tail(30)) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [event["payload"]["n"] for event in reader.tail(5)] == [25, 26, 27, 28, 29]
        assert unbuffered.tail(30) == reader.tail(30), "a read from Kafka and the buffer agree"
        assert [event["payload"]["n"] for event in reader.tail(100)] == list(range(30))


def test_follow_yields_events_logged_after_it_started(make_logger: MakeLogger) -> None:
    with make_logger() as memory:
        memory.log("agent", "before", {}, run_id="run-f")
        memory.flush()
        assert isinstance(memory, KafkaMemoryLogger)
        seen: list[dict[str, Any]] = []
        iterator = memory.follow()  # "from now on" is this call, not the first next()
        for step in range(3):
            memory.log("agent", "after", {"n": step}, run_id="run-f")
        memory.flush()
        reader = threading.Thread(target=lambda: seen.extend(next(iterator) for _ in range(3)), daemon=True)
        reader.start()
        reader.join(10)
        iterator.close()
    assert [(event["event_type"], event["payload"]["n"]) for event in seen] == [
        ("after", 0),
        ("after", 1),
        ("after", 2),
    ]


def test_blobs_live_once_on_a_compacted_topic_any_process_resolves(
    make_logger: MakeLogger, kafka_args: dict[str, Any]
) -> None:
    with make_logger() as first:
        for _ in range(3):
            first.log("writer", "result", {"result": OUTPUT}, run_id="run-b", previous_outputs={"p": OUTPUT})
    with make_logger(blob_cache_mb=0) as second:  # nothing cached: references resolve from the topic
        trace = second.trace("run-b")
        assert [event["payload"]["result"] for event in trace] == [OUTPUT] * 3
        assert second.get_memory_stats()["blobs"] == 1
    [blob] = topic_messages(kafka_args, f"{kafka_args['topic_prefix']}.blobs")
    canonical = orjson.dumps(OUTPUT, option=orjson.OPT_SORT_KEYS)
    assert blob.key == hashlib.sha256(canonical).hexdigest().encode()
    codecs = CodecRegistry(get_plugin_manager().codecs())
    assert orjson.loads(codecs.decode(_headers(blob)["codec"], blob.value)) == OUTPUT
    for m in topic_messages(kafka_args, f"{kafka_args['topic_prefix']}.short-term"):
        document = orjson.loads(codecs.decode(_headers(m)["codec"], m.value))
        assert document["payload"]["result"] == {
            "ref": blob.key.decode(),
            "_type": "blob_reference",
            "_original_keys": ["response", "model"],
        }


def test_kv_and_stored_memories_live_on_the_companion_which_describe_names(
    make_logger: MakeLogger, kafka_args: dict[str, Any], tmp_path: Path
) -> None:
    with make_logger() as memory:
        memory.hset("fork_group_results:g", "a", "done")
        key = memory.log_memory("the companion answers searches", node_id="n", trace_id="t")
        memory.flush()
        assert [hit["key"] for hit in memory.search_memories("companion searches")] == [key]
        assert "KV and stored memories on file: sqlite:" in memory.backend.describe()
        assert Capability.VECTOR_SEARCH in memory.backend.capabilities
    companion = FileBackend.open(FileSettings(path=tmp_path / "companion.db"))
    try:
        assert companion.hget("fork_group_results:g", "a") == "done"
        assert companion.stats(now_ms=time.time_ns() // 1_000_000).memories == 1
    finally:
        companion.close()


def test_plugins_command_reports_kafka_health_and_its_companion(
    kafka_args: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_args["bootstrap_servers"])
    assert main(["--json", "plugins"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    [kafka] = [backend for backend in report["backends"] if backend["name"] == "kafka"]
    assert kafka["health"] == "ok" and "KV and stored memories on file" in kafka["detail"]
    assert {"events", "kv", "ttl"} <= set(kafka["capabilities"])


def test_factory_environment_and_constructor_give_a_kafka_memory_logger(
    kafka_args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import orka.memory_logger
    from orka.memory.kafka_logger import KafkaMemoryLogger as Compat

    assert Compat is KafkaMemoryLogger is orka.memory_logger.KafkaMemoryLogger
    extra = {"companion_settings": kafka_args["companion_settings"], "client": kafka_args["client"]}
    with create_memory_logger(
        "kafka", bootstrap_servers=kafka_args["bootstrap_servers"], topic_prefix=kafka_args["topic_prefix"], **extra
    ) as memory:
        assert type(memory) is KafkaMemoryLogger
    monkeypatch.setenv("ORKA_MEMORY_BACKEND", "kafka")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_args["bootstrap_servers"])
    with create_memory_logger(topic_prefix=kafka_args["topic_prefix"], **extra) as memory:
        assert type(memory) is KafkaMemoryLogger
    fresh = kafka_args["topic_prefix"] + "-ctor"  # decay on: topics of their own, whose retention follows it
    with KafkaMemoryLogger(topic_prefix=fresh, decay_config={"enabled": True}, **extra) as memory:
        memory.log("agent", "start", {}, run_id="run-c")
        memory.flush()
        assert memory.trace("run-c")[0]["expires_at"] is not None


def test_an_unreachable_broker_fails_at_once_with_the_address(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"127\.0\.0\.1:9"):
        KafkaBackend.open(KafkaSettings(bootstrap_servers="127.0.0.1:9"))
    assert time.monotonic() - started < 2


def test_redis_url_makes_redis_the_companion() -> None:
    settings = KafkaSettings(redis_url="redis://cache:6379/0", companion_settings={"socket_timeout": 1})
    assert settings.companion_name_and_settings() == ("redis", {"socket_timeout": 1, "url": "redis://cache:6379/0"})
    assert KafkaSettings().companion_name_and_settings() == ("file", {})


def test_the_client_setting_chooses_the_library(kafka_args: dict[str, Any]) -> None:
    library = client_library(KafkaSettings(client=kafka_args["client"]))
    assert library.name == kafka_args["client"]
