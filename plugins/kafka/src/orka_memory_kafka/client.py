"""The small interface the backend needs from a Kafka client library, and the choice of library.

Two libraries sit behind it: kafka-python (pure Python, always installed, with ``crc32c`` for fast checksums) and
confluent-kafka (librdkafka, several times faster, installed with ``orka-memory[kafka-fast]``). Everything above
this interface (topics, record headers, reads, blobs) is written once; each adapter only translates calls and turns
the library's connection failures into ``BackendUnavailable``.
"""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from orka_memory.backend import BackendUnavailable

from orka_memory_kafka.settings import KafkaSettings

Partition = tuple[str, int]  # (topic, partition)


@dataclass(slots=True)
class OutMessage:
    """A message to produce. ``timestamp_ms`` None lets the producer stamp it. Not frozen: one is made per record
    on the writer's hot path, and a frozen dataclass sets each field through ``object.__setattr__``."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class InMessage:
    """A consumed message (a ``value`` of None is a tombstone)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]  # an adapter may read them from its library only when asked
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class TopicInfo:
    partitions: int
    config: dict[str, str]  # empty when the broker does not describe topic configs


class Producer(Protocol):
    def send(self, messages: Sequence[OutMessage]) -> list[tuple[int, int]]:
        """Produce ``messages`` and wait until every one is acknowledged; returns (partition, offset) of each, in
        order. Raises ``BackendUnavailable`` when any is not."""
        ...

    def close(self) -> None: ...


class Consumer(Protocol):
    """A consumer without a group: partitions are assigned explicitly and read from given offsets."""

    def assign(self, positions: Mapping[Partition, int]) -> None:
        """Read exactly these partitions, each from its offset (replaces the previous assignment)."""
        ...

    def poll(self, timeout: float) -> list[InMessage]:
        """Messages fetched within ``timeout`` seconds (maybe none)."""
        ...

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, tuple[int, int]]:
        """(first offset, end offset) of each partition, from the broker."""
        ...

    def close(self) -> None: ...


class Admin(Protocol):
    def describe(self, topic: str) -> TopicInfo | None:
        """Partitions and configuration of ``topic``; None when it does not exist."""
        ...

    def create(self, topic: str, partitions: int, replication_factor: int, config: Mapping[str, str]) -> None:
        """Create ``topic``; one that exists meanwhile (another process won the race) is not an error."""
        ...

    def close(self) -> None: ...


# How long a consumer's fetch may wait at the broker for messages that are not there yet. A broker answers the
# requests of one connection in order, so a fetch still long-polling after a read of a range delays the reader's next
# request (a watermark query) by up to this wait: readers of ranges (trace, catch-up) keep it short. Streaming
# consumers (the tail buffer's follower, follow()) wait longer, so an idle stream does not ask again and again.
READ_FETCH_WAIT_MS = 5
STREAM_FETCH_WAIT_MS = 100


class ClientLibrary(Protocol):
    name: str

    def producer(self, settings: KafkaSettings) -> Producer: ...
    def consumer(self, settings: KafkaSettings, *, fetch_wait_ms: int) -> Consumer: ...
    def admin(self, settings: KafkaSettings) -> Admin: ...


def confluent_available() -> bool:
    return importlib.util.find_spec("confluent_kafka") is not None


def client_library(settings: KafkaSettings) -> ClientLibrary:
    """The library ``settings.client`` names (``auto``: confluent-kafka when installed, else kafka-python)."""
    choice = settings.client
    if choice == "auto":
        choice = "confluent" if confluent_available() else "kafka-python"
    if choice == "confluent":
        if not confluent_available():
            raise ImportError(
                "client = 'confluent' needs confluent-kafka: pip install 'orka-memory[kafka-fast]' (or set client "
                "to 'kafka-python' or 'auto')"
            )
        from orka_memory_kafka.client_confluent import ConfluentLibrary

        return ConfluentLibrary()
    from orka_memory_kafka.client_kafka_python import KafkaPythonLibrary

    return KafkaPythonLibrary()


def probe(settings: KafkaSettings) -> None:
    """Raise ``BackendUnavailable`` at once when no bootstrap server accepts a connection. Both libraries would keep
    retrying for their whole bootstrap timeout; a refused connection is a clear answer already."""
    problems = []
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host or "localhost", int(port)), settings.connect_timeout_ms / 1000).close()
            return
        except (OSError, ValueError) as error:
            problems.append(f"{server.strip()}: {getattr(error, 'strerror', None) or error}")
    raise BackendUnavailable(f"no Kafka broker answers at {settings.bootstrap_servers} ({'; '.join(problems)})")
