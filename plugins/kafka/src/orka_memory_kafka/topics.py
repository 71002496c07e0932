"""The topics of one store (``topic_prefix``), created when missing and allowed, verified when present.

- ``<prefix>.short-term`` and ``<prefix>.long-term``: every record, on the topic of its memory type, so each
  topic's ``retention.ms`` is the lifetime of that memory type and Kafka itself drops what decayed.
- ``<prefix>.blobs``: deduplicated sub-objects keyed by their SHA-256, compacted (one copy per hash, forever).
- ``<prefix>.state``: small shared facts keyed by name (write counters, cleanup marks), compacted.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

from orka_memory.backend import BackendUnavailable

from orka_memory_kafka.client import Admin
from orka_memory_kafka.settings import MEMORY_TYPES, KafkaSettings

log = logging.getLogger("orka_memory.kafka")

DAY_MS = 86_400_000


class TopicConfigWarning(UserWarning):
    """An existing topic is configured differently from what this store's settings would create."""


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


class TopicLayout:
    """The topic names of one store."""

    def __init__(self, prefix: str) -> None:
        self.events = {memory_type: f"{prefix}.{memory_type.replace('_', '-')}" for memory_type in MEMORY_TYPES}
        self.blobs = f"{prefix}.blobs"
        self.state = f"{prefix}.state"

    def event_topic(self, memory_type: str) -> str:
        return self.events.get(memory_type, self.events["short_term"])


def topic_specs(layout: TopicLayout, settings: KafkaSettings, decay_hours: dict[str, float | None]) -> list[TopicSpec]:
    """What each topic should look like: event topics with their retention, the others compacted."""
    shared = {} if settings.min_insync_replicas is None else {"min.insync.replicas": str(settings.min_insync_replicas)}
    specs = []
    for memory_type, topic in layout.events.items():
        retention = settings.retention_ms(memory_type, decay_hours.get(memory_type))
        config = {**shared, "cleanup.policy": "delete", "retention.ms": str(retention)}
        if retention > 0:
            # Retention drops whole segments: roll them often enough that decay happens near its time.
            config["segment.ms"] = str(min(max(retention // 4, 60_000), DAY_MS))
        specs.append(TopicSpec(topic, settings.partitions, config))
    specs.append(TopicSpec(layout.blobs, settings.partitions, {**shared, "cleanup.policy": "compact"}))
    specs.append(TopicSpec(layout.state, 1, {**shared, "cleanup.policy": "compact"}))
    return specs


def ensure_topics(admin: Admin, specs: list[TopicSpec], settings: KafkaSettings) -> dict[str, int]:
    """Create missing topics (when ``create_topics`` allows) and warn about existing ones configured otherwise;
    returns each topic's partition count, as it is now.

    A broker that does not describe topic configurations leaves only the partition count to check.
    """
    partitions = {}
    for spec in specs:
        info = admin.describe(spec.name)
        if info is None:
            if not settings.create_topics:
                raise BackendUnavailable(
                    f"Kafka topic {spec.name} does not exist at {settings.bootstrap_servers} and create_topics is "
                    f"off; create it ({spec.partitions} partitions, {spec.config}) or allow create_topics"
                )
            admin.create(spec.name, spec.partitions, settings.replication_factor, spec.config)
            log.info("created Kafka topic %s (%d partitions, %s)", spec.name, spec.partitions, spec.config)
            partitions[spec.name] = spec.partitions
            continue
        partitions[spec.name] = info.partitions
        differences = [
            f"{key}={info.config[key]} (settings: {wanted})"
            for key, wanted in spec.config.items()
            if key in info.config and info.config[key] != wanted and key != "segment.ms"
        ]
        if info.partitions != spec.partitions:
            differences.append(f"{info.partitions} partitions (settings: {spec.partitions})")
        if differences:
            warnings.warn(
                f"Kafka topic {spec.name} exists with {', '.join(differences)}; it is used as it is",
                TopicConfigWarning,
                stacklevel=4,
            )
    return partitions
