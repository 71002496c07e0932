"""The kafka-python adapter: pure Python, always installed (with ``crc32c``, which makes its checksums 16x faster)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError, UnknownTopicOrPartitionError
from orka_memory.backend import BackendUnavailable

from orka_memory_kafka.client import InMessage, OutMessage, Partition, TopicInfo
from orka_memory_kafka.settings import KafkaSettings


def _common(settings: KafkaSettings) -> dict[str, Any]:
    """Connection settings shared by producer, consumer and admin client."""
    config: dict[str, Any] = {
        "bootstrap_servers": [server.strip() for server in settings.bootstrap_servers.split(",")],
        "client_id": "orka-memory",
        "request_timeout_ms": settings.request_timeout_ms,
        "bootstrap_timeout_ms": settings.connect_timeout_ms,
        "reconnect_backoff_max_ms": 1000,  # notice a broker that is back within a second
        "security_protocol": settings.security_protocol,
    }
    if settings.sasl_mechanism:
        config["sasl_mechanism"] = settings.sasl_mechanism
        config["sasl_plain_username"] = settings.sasl_plain_username
        if settings.sasl_plain_password is not None:
            config["sasl_plain_password"] = settings.sasl_plain_password.get_secret_value()
    if settings.ssl_cafile:
        config["ssl_cafile"] = settings.ssl_cafile
    return config


def _unavailable(settings: KafkaSettings, error: Exception) -> BackendUnavailable:
    return BackendUnavailable(f"Kafka at {settings.bootstrap_servers} (kafka-python): {type(error).__name__}: {error}")


def consumer_config(settings: KafkaSettings, fetch_wait_ms: int) -> dict[str, Any]:
    """``KafkaConsumer`` keyword arguments for a reader that assigns partitions (the benchmark's raw reads use them
    too). ``fetch_wait_ms``: how long a fetch waits for data the broker does not have yet."""
    return {
        **_common(settings),
        "group_id": None,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",  # an offset gone (retention, a truncated partition): the first one
        "fetch_max_wait_ms": fetch_wait_ms,
        "max_partition_fetch_bytes": 4 * 1_048_576,
        # The backend creates its topics with their partition counts (topics.ensure_topics); a topic a client's
        # metadata request made (a broker back without its data) would have the broker's default count, and a run's
        # events would go to another partition than the one its trace reads.
        "allow_auto_create_topics": False,
    }


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    """``KafkaProducer`` keyword arguments for ``settings`` (the benchmark's raw producer uses them too)."""
    acks: str | int = "all" if settings.acks == "all" else int(settings.acks)
    return {
        **_common(settings),
        "acks": acks,
        "enable_idempotence": settings.idempotence and acks == "all",
        "compression_type": None if settings.compression == "none" else settings.compression,
        "linger_ms": settings.linger_ms,
        "batch_size": settings.batch_bytes,
        "max_request_size": max(settings.batch_bytes, 1_048_576),
        "delivery_timeout_ms": settings.delivery_timeout_ms,
        "max_block_ms": settings.request_timeout_ms,
        "allow_auto_create_topics": False,  # see the consumer
    }


class KafkaPythonProducer:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        try:
            self._producer = KafkaProducer(**producer_config(settings))
        except KafkaError as error:
            raise _unavailable(settings, error) from error

    def send(self, messages: Sequence[OutMessage]) -> list[tuple[int, int]]:
        try:
            futures = [
                self._producer.send(m.topic, value=m.value, key=m.key, headers=m.headers, timestamp_ms=m.timestamp_ms)
                for m in messages
            ]
            self._producer.flush(timeout=self.settings.delivery_timeout_ms / 1000 + 1)
            results = [future.get(timeout=0) for future in futures]
        except KafkaError as error:
            raise _unavailable(self.settings, error) from error
        return [(metadata.partition, metadata.offset) for metadata in results]

    def close(self) -> None:
        self._producer.close(timeout=1)


class KafkaPythonConsumer:
    def __init__(self, settings: KafkaSettings, fetch_wait_ms: int) -> None:
        try:
            self._consumer = KafkaConsumer(**consumer_config(settings, fetch_wait_ms))
        except KafkaError as error:
            raise _unavailable(settings, error) from error
        self.settings = settings

    def assign(self, positions: Mapping[Partition, int]) -> None:
        partitions = {TopicPartition(topic, partition): offset for (topic, partition), offset in positions.items()}
        self._consumer.assign(list(partitions))
        for partition, offset in partitions.items():
            self._consumer.seek(partition, offset)

    def poll(self, timeout: float) -> list[InMessage]:
        try:
            fetched = self._consumer.poll(timeout_ms=int(timeout * 1000))
        except KafkaError as error:
            raise _unavailable(self.settings, error) from error
        return [
            InMessage(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers or ()), r.timestamp)
            for records in fetched.values()
            for r in records
        ]

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, tuple[int, int]]:
        wanted = [TopicPartition(*partition) for partition in partitions]
        try:
            first = self._consumer.beginning_offsets(wanted)
            end = self._consumer.end_offsets(wanted)
        except (KafkaError, KeyError) as error:  # KeyError: kafka-python 3.0 on a response lacking a partition
            raise _unavailable(self.settings, error) from error
        return {(tp.topic, tp.partition): (first[tp], end[tp]) for tp in wanted}

    def close(self) -> None:
        self._consumer.close(autocommit=False)


class KafkaPythonAdmin:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        try:
            self._admin = KafkaAdminClient(**_common(settings))
        except KafkaError as error:
            raise _unavailable(settings, error) from error

    def describe(self, topic: str) -> TopicInfo | None:
        try:
            [found] = self._admin.describe_topics([topic])
            if found["error_code"] == UnknownTopicOrPartitionError.errno:
                return None
            resource = ConfigResource(ConfigResourceType.TOPIC, topic)
            described = self._admin.describe_configs([resource], config_filter="all")
        except UnknownTopicOrPartitionError:
            return None
        except KafkaError as error:
            raise _unavailable(self.settings, error) from error
        entries = described.get("topic", {}).get(topic, {})
        config = {key: str(entry.get("value") if isinstance(entry, dict) else entry) for key, entry in entries.items()}
        return TopicInfo(len(found["partitions"]), config)

    def create(self, topic: str, partitions: int, replication_factor: int, config: Mapping[str, str]) -> None:
        spec = {topic: {"num_partitions": partitions, "replication_factor": replication_factor, "configs": config}}
        try:
            self._admin.create_topics(spec, timeout_ms=self.settings.request_timeout_ms)
        except TopicAlreadyExistsError:
            return
        except KafkaError as error:
            raise _unavailable(self.settings, error) from error

    def close(self) -> None:
        self._admin.close()


class KafkaPythonLibrary:
    name = "kafka-python"

    def producer(self, settings: KafkaSettings) -> KafkaPythonProducer:
        return KafkaPythonProducer(settings)

    def consumer(self, settings: KafkaSettings, *, fetch_wait_ms: int) -> KafkaPythonConsumer:
        return KafkaPythonConsumer(settings, fetch_wait_ms)

    def admin(self, settings: KafkaSettings) -> KafkaPythonAdmin:
        return KafkaPythonAdmin(settings)
