"""Reading what the backend wrote straight from the broker, with the client library alone (no backend code)."""

from __future__ import annotations

from typing import Any

from orka_memory_kafka.client import READ_FETCH_WAIT_MS, InMessage, client_library
from orka_memory_kafka.reading import read_ranges
from orka_memory_kafka.settings import KafkaSettings


def topic_messages(kafka_args: dict[str, Any], topic: str) -> list[InMessage]:
    """Every message of ``topic``, partition by partition."""
    settings = KafkaSettings(bootstrap_servers=kafka_args["bootstrap_servers"], client=kafka_args["client"])
    library = client_library(settings)
    admin = library.admin(settings)
    info = admin.describe(topic)
    admin.close()
    if info is None:
        return []
    consumer = library.consumer(settings, fetch_wait_ms=READ_FETCH_WAIT_MS)
    try:
        partitions = [(topic, partition) for partition in range(info.partitions)]
        ranges = {p: (first, end) for p, (first, end) in consumer.watermarks(partitions).items()}
        return [m for batch in read_ranges(consumer, ranges, idle_timeout=10) for m in batch]
    finally:
        consumer.close()
