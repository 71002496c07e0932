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
from orka_memory.blobs import blob_hash, canonical_json
from orka_memory.cli.app import main
from orka_memory.codecs import CodecRegistry
from orka_memory.plugins import get_plugin_manager
from orka_memory_file import FileBackend, FileSettings
from orka_memory_kafka import KafkaBackend, KafkaMemoryLogger, KafkaSettings
from orka_memory_kafka.client import InMessage, client_library
from orka_memory_kafka.keyed import _continues
from orka_memory_kafka.reading import partition_for_key
from orka_memory_kafka.runs import MAX_RUNS, RunDirectory
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


def _same_partition_runs(count: int, partitions: int = 6) -> list[str]:
    """``count`` run ids whose events go to one partition (the fixture's topics have 6)."""
    runs = (f"run-{n}" for n in range(1000))
    first = next(runs)
    return [first, *[run for run in runs if partition_for_key(run.encode(), partitions) ==
                     partition_for_key(first.encode(), partitions)][: count - 1]]  # fmt: skip


def _recording_reads(backend: KafkaBackend) -> list[dict[Any, tuple[int, int]]]:
    """The offset ranges each later read of ``backend`` asks for (its real reads, recorded)."""
    asked: list[dict[Any, tuple[int, int]]] = []
    read = backend._read_ranges

    def recording(ranges: dict[Any, tuple[int, int]], *, exact: bool = False) -> list[Any]:
        asked.append(dict(ranges))
        return read(ranges, exact=exact)

    backend._read_ranges = recording  # type: ignore[method-assign]
    return asked


def test_a_trace_reads_the_runs_stretch_of_a_partition_it_has_read_before(make_logger: MakeLogger) -> None:
    """The first trace reads the partition whole and notes where each run lies; later ones read only what came
    since and the run's own stretch, and still see what other processes wrote meanwhile."""
    run_a, run_b = _same_partition_runs(2)
    with make_logger() as reader, make_logger() as writer:
        for step in range(5):
            writer.log("agent", "step", {"n": step}, step=step, run_id=run_b)
        for step in range(5):
            writer.log("agent", "step", {"n": step}, step=step, run_id=run_a)
        for step in range(5, 10):
            writer.log("agent", "step", {"n": step}, step=step, run_id=run_b)
        writer.flush()
        assert isinstance(reader.backend, KafkaBackend)
        asked = _recording_reads(reader.backend)
        partition = (reader.backend.layout.events["short_term"], partition_for_key(run_a.encode(), 6))
        assert [event["payload"]["n"] for event in reader.trace(run_a)] == list(range(5))
        assert [ranges[partition][0] for ranges in asked] == [0]  # the whole partition, once
        asked.clear()
        assert [event["payload"]["n"] for event in reader.trace(run_b)] == list(range(10))
        assert asked == [{partition: (0, 15)}]  # run b's stretch: offsets 0 to 14 (the long-term topic is empty)
        asked.clear()
        assert [event["payload"]["n"] for event in reader.trace(run_a)] == list(range(5))
        assert asked == [{partition: (5, 10)}]
        asked.clear()
        for step in range(5, 8):
            writer.log("agent", "step", {"n": step}, step=step, run_id=run_a)
        writer.flush()
        assert [event["payload"]["n"] for event in reader.trace(run_a)] == list(range(8))
        # What came since (from the last message read, which shows the partition is still the one read), then the
        # run's older stretch.
        assert [ranges[partition][0] for ranges in asked] == [14, 5]
        assert asked[1] == {partition: (5, 10)}


def _make_anew_with(topic: str, bootstrap_servers: str, partitions: int) -> None:
    """Delete ``topic`` and create it again with ``partitions`` partitions."""
    from kafka.admin import KafkaAdminClient, NewTopic  # the test's own hands on the broker

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        admin.delete_topics([topic])
        admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        admin.close()


def _log_one_batch_each(make_logger: MakeLogger, runs: list[str]) -> None:
    """Log one event of each of ``runs`` in turn, each in a batch of its own (``n`` counts per run)."""
    counts: dict[str, int] = {}
    with make_logger() as writer:
        for run in runs:
            writer.log("agent", "step", {"n": counts.get(run, 0)}, run_id=run)
            counts[run] = counts.get(run, 0) + 1
            writer.flush()


# kafka-python only: librdkafka 2.16's consumer crashes the process (SIGSEGV) reading a topic the test broker deleted
# and created again under it. What is tested here, the run directory, is the same code for both libraries.
@pytest.mark.parametrize("client", ["kafka-python"])
@pytest.mark.parametrize(("before", "after"), [(20, 40), (25, 5)], ids=["made anew longer", "made anew shorter"])
def test_a_trace_reads_a_partition_made_anew_whole(
    make_logger: MakeLogger, kafka_args: dict[str, Any], before: int, after: int
) -> None:
    """A topic deleted and created again (as after a broker lost its data) starts its offsets afresh. Longer than
    before, the message a trace read last is not where it was; shorter, the partition's end went back. Either way
    the run directory starts over and the partition is read whole."""
    run, other = _same_partition_runs(2)
    with make_logger() as reader:
        _log_one_batch_each(make_logger, [other] * before + [run] * 5)
        assert [event["payload"]["n"] for event in reader.trace(run)] == list(range(5))  # after the other run's
        assert isinstance(reader.backend, KafkaBackend)
        _make_anew_with(reader.backend.layout.events["short_term"], kafka_args["bootstrap_servers"], 6)
        _log_one_batch_each(make_logger, [run] * 5 + [other] * (after - 5))  # now where the other run was
        assert [event["payload"]["n"] for event in reader.trace(run)] == list(range(5))


@pytest.mark.parametrize("client", ["kafka-python"])  # librdkafka: as above
def test_topics_made_anew_with_other_partition_counts_are_read_where_records_now_go(
    make_logger: MakeLogger, kafka_args: dict[str, Any]
) -> None:
    """A broker back without its data may hold the topics anew with its own default partition count (a client's
    request made them before the producer could). When the producer reconnects it describes the topics again, so
    a trace looks in the partition a run's records go to now."""
    with make_logger() as memory:
        for step in range(20):
            memory.log("agent", "step", {"n": step}, step=step, run_id=f"run-{step % 4}")
        memory.flush()
        assert len(memory.trace("run-3")) == 5
        backend = memory.backend
        assert isinstance(backend, KafkaBackend)
        for topic in backend.layout.events.values():
            _make_anew_with(topic, kafka_args["bootstrap_servers"], 4)
        with backend._send_lock:  # as after a failed send: the next one reconnects
            assert backend._producer is not None
            backend._producer.close()
            backend._producer = None
        with pytest.warns(TopicConfigWarning, match="4 partitions"):
            for step in range(20, 40):
                memory.log("agent", "step", {"n": step}, step=step, run_id=f"run-{step % 4}")
            memory.flush()
        assert backend._ready().partitions[backend.layout.events["short_term"]] == 4
        assert [event["payload"]["n"] for event in memory.trace("run-3")] == list(range(23, 40, 4))


def _output(n: int) -> dict[str, str]:
    return {"report": f"agent output number {n}, long enough to be stored as a blob " * 20}


def _blob_partition(output: dict[str, str], partitions: int) -> int:
    return partition_for_key(blob_hash(canonical_json(output)).encode(), partitions)


# kafka-python only: librdkafka as above.
@pytest.mark.parametrize("client", ["kafka-python"])
@pytest.mark.parametrize("written_again", [False, True], ids=["emptied", "written again by another process"])
def test_blobs_a_broker_lost_are_sent_again_with_the_next_record_that_refers_to_them(
    make_logger: MakeLogger, kafka_args: dict[str, Any], written_again: bool
) -> None:
    """The blobs topic made anew with the same partitions (a broker back without its data): this process still
    remembers storing the shared output, so it would send a reference only. The writer asks the blobs topic first.
    Its map notices the partition was emptied: its end went back; or, written again by another process past where
    this one read, the message the map last read there is not at its offset any more. The blob is sent again."""
    shared = _output(0)
    with make_logger() as memory:
        memory.log("agent", "result", {"out": shared}, step=1, run_id="run-a")
        memory.flush()
        memory.log("agent", "result", {"out": shared}, step=2, run_id="run-a")  # asks, and reads the blob back
        memory.flush()
        assert memory.get_performance_metrics()["blobs_written"] == 1
        backend = memory.backend
        assert isinstance(backend, KafkaBackend)
        blobs_topic = backend.layout.blobs
        partitions = backend._ready().partitions[blobs_topic]
        _make_anew_with(blobs_topic, kafka_args["bootstrap_servers"], partitions)
        if written_again:  # three other blobs where the shared one was: its offset now holds another
            home = _blob_partition(shared, partitions)
            others = [output for output in map(_output, range(1, 200)) if _blob_partition(output, partitions) == home]
            with make_logger() as other:
                for step, output in enumerate(others[:3]):
                    other.log("agent", "result", {"out": output}, step=step, run_id="run-other")
                    # A batch each: Tansu reports a partition's end as one past the first offset of its last batch,
                    # so one batch of three would end where this process has already read.
                    other.flush()
        memory.log("agent", "result", {"out": shared}, step=3, run_id="run-b")
        memory.flush()
        assert memory.get_performance_metrics()["blobs_resent"] == 1
        assert [event["payload"]["out"] for event in memory.trace("run-b")] == [shared]
    with make_logger() as fresh:  # another process reads the blob from the topic, not from the writer's cache
        assert [event["payload"]["out"] for event in fresh.trace("run-b")] == [shared]


def test_a_trace_is_right_when_the_run_directory_overflows(make_logger: MakeLogger) -> None:
    """A partition's directory holds a bounded number of runs; past it the partition is read whole again."""
    runs = _same_partition_runs(4)
    with make_logger() as memory:
        assert isinstance(memory.backend, KafkaBackend)
        memory.backend._ready().runs = RunDirectory(max_runs=2)
        for step in range(12):
            memory.log("agent", "step", {"n": step}, step=step, run_id=runs[step % 4])
        memory.flush()
        asked = _recording_reads(memory.backend)
        for index, run in enumerate(runs):
            assert [event["payload"]["n"] for event in memory.trace(run)] == [index, index + 4, index + 8]
        assert [next(iter(ranges.values()))[0] for ranges in asked] == [0] * 4  # 4 runs never fit in 2: read whole


def test_an_exact_range_is_read_without_what_the_client_fetched_past_it(make_logger: MakeLogger) -> None:
    """A run's stretch ends at a message of its own, so the read stops there: it does not take the rest of what the
    client fetched (up to 4 MB), as a read to an end the broker reported must (Tansu reports the first offset of
    the last batch)."""
    with make_logger() as memory:
        for step in range(3000):
            memory.log("agent", "step", {"n": step}, step=step, run_id="run-long")
        memory.flush()
        assert isinstance(memory.backend, KafkaBackend)
        partition = (memory.backend.layout.events["short_term"], partition_for_key(b"run-long", 6))
        exact = memory.backend._read_ranges({partition: (0, 10)}, exact=True)
        assert [m.offset for m in exact[:10]] == list(range(10))
        assert len(exact) <= 1001  # one poll's worth at most
        assert len(memory.backend._read_ranges({partition: (0, 10)})) > len(exact)  # the drain, as a broker's end needs


@pytest.mark.parametrize("max_runs", [MAX_RUNS, 4], ids=["directory kept", "directory overflowing"])
def test_traces_in_threads_beside_a_writer_each_see_their_whole_run(make_logger: MakeLogger, max_runs: int) -> None:
    """Four threads trace runs that share a partition while another process keeps logging into it: the run
    directory is read and extended (or, over its bound, dropped) by one trace at a time, and every trace returns
    its run whole."""
    *runs, busy = _same_partition_runs(5)
    with make_logger() as reader, make_logger() as writer:
        assert isinstance(reader.backend, KafkaBackend)
        reader.backend._ready().runs = RunDirectory(max_runs=max_runs)
        for step in range(40):
            writer.log("agent", "step", {"n": step}, step=step, run_id=runs[step % 4])
        writer.flush()
        done, errors = threading.Event(), []

        def write() -> None:
            for step in range(60):
                writer.log("agent", "step", {"n": step}, step=step, run_id=busy)
                if step % 10 == 9:
                    writer.flush()
            done.set()

        def trace(index: int) -> None:
            try:
                while not done.is_set():
                    for offset in range(4):
                        run = (index + offset) % 4
                        found = [event["payload"]["n"] for event in reader.trace(runs[run])]
                        assert found == list(range(run, 40, 4)), (run, found)
            except BaseException as error:  # reported by the test, not lost in the thread
                errors.append(error)

        threads = [threading.Thread(target=write), *(threading.Thread(target=trace, args=(i,)) for i in range(4))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        assert [event["payload"]["n"] for event in reader.trace(busy)] == list(range(60))


def test_runs_whose_events_are_gone_make_room_in_the_run_directory(make_logger: MakeLogger) -> None:
    """Runs below a partition's first readable offset (here: past the cleanup mark) are forgotten first when the
    directory is full, so it keeps serving the runs that are left."""
    gone_1, gone_2, live_1, live_2 = _same_partition_runs(4)
    short = {"enabled": True, "short_term_hours": 0.2 / 3600}
    with make_logger() as memory:
        assert isinstance(memory.backend, KafkaBackend)
        memory.backend._ready().runs = RunDirectory(max_runs=2)
        for run in (gone_1, gone_2):
            memory.log("agent", "debug", {"n": 0}, run_id=run, agent_decay_config=short)
        memory.flush()
        time.sleep(0.4)
        assert memory.trace(gone_1) == []  # the directory now holds both expired runs
        assert memory.cleanup_expired_memories()["events"] == 2  # the cleanup mark moves past them
        for step, run in enumerate([live_1, live_2]):
            memory.log("agent", "step", {"n": step}, run_id=run)
        memory.flush()
        asked = _recording_reads(memory.backend)
        assert [event["payload"]["n"] for event in memory.trace(live_1)] == [0]
        assert [event["payload"]["n"] for event in memory.trace(live_2)] == [1]
        partition = (memory.backend.layout.events["short_term"], partition_for_key(live_2.encode(), 6))
        assert asked[-1] == {partition: (3, 4)}  # live_2's own offset: the directory was kept


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


def test_a_long_read_does_not_hold_up_a_batch_that_refers_to_a_stored_blob(make_logger: MakeLogger) -> None:
    """The writer asks the blobs topic about a blob it stored before on a consumer of its own: a caller's read in
    progress (held here as long as the test likes, as the first trace of a big partition would) does not stop it."""
    shared = _output(0)
    with make_logger() as memory:
        memory.log("agent", "result", {"out": shared}, step=1, run_id="run-a")
        memory.flush()
        backend = memory.backend
        assert isinstance(backend, KafkaBackend)
        with backend._reads.lock:
            memory.log("agent", "result", {"out": shared}, step=2, run_id="run-a")
            memory.flush(timeout=20)  # raises TimeoutError while the batch waits for the caller's read
        metrics = memory.get_performance_metrics()
        assert metrics["blobs_written"] == 1 and metrics["records_written"] == 2
        assert [event["payload"]["out"] for event in memory.trace("run-a")] == [shared, shared]


def test_the_blob_map_caught_up_from_several_threads_at_once_holds_every_blob(make_logger: MakeLogger) -> None:
    """Callers' reads and the writer's blob checks catch the blobs topic up on consumers of their own, at the same
    time, while another process writes blobs: each thread ends up finding every blob written."""
    outputs = [_output(n) for n in range(40)]
    hashes = [blob_hash(canonical_json(output)) for output in outputs]
    with make_logger() as reader, make_logger() as writer:
        backend = reader.backend
        assert isinstance(backend, KafkaBackend)
        blobs, done, errors = backend._ready().blobs, threading.Event(), []

        def check() -> None:
            consumer = backend.library.consumer(backend.settings, fetch_wait_ms=5)
            try:
                while not done.is_set():
                    blobs.holds(hashes, consumer)
                assert blobs.holds(hashes, consumer) == set(hashes)
            except BaseException as error:  # reported by the main thread
                errors.append(error)
            finally:
                consumer.close()

        threads = [threading.Thread(target=check) for _ in range(3)]
        for thread in threads:
            thread.start()
        for step, output in enumerate(outputs):
            writer.log("agent", "result", {"out": output}, step=step, run_id="run-blobs")
            if step % 5 == 4:
                writer.flush()
        writer.flush()
        done.set()
        for thread in threads:
            thread.join()
        assert errors == []
        assert set(backend.get_blobs(hashes)) == set(hashes)


def test_a_partition_is_written_anew_only_when_another_message_sits_where_the_known_one_was() -> None:
    """The check a keyed topic's catch-up makes (``keyed._continues``). Compaction keeps only a key's latest
    message, so the known message may be gone from a partition that kept its data: that tells nothing."""
    known = InMessage("blobs", 0, 5, b"k", b"v", [], 0)
    for offset, value, continues in [(3, b"x", True), (5, b"v", True), (7, b"x", True), (5, b"x", False)]:
        anew: set[int] = set()
        expected = {0: known}
        assert _continues(InMessage("blobs", 0, offset, b"k", value, [], 1), expected, anew) is continues
        assert anew == (set() if continues else {0})
        assert (0 in expected) is (offset < 5), "decided by the first message at or past the known one"
