"""The confluent-kafka adapter: librdkafka, several times faster than kafka-python (``orka-memory[kafka-fast]``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast, overload

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
from orka_memory.backend import BackendUnavailable

from orka_memory_kafka.client import InMessage, OutMessage, Partition, TopicInfo
from orka_memory_kafka.settings import KafkaSettings

POLL_BATCH = 500


def _common(settings: KafkaSettings) -> dict[str, Any]:
    """librdkafka properties shared by producer, consumer and admin client."""
    config: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": "orka-memory",
        "socket.timeout.ms": settings.request_timeout_ms,
        "socket.connection.setup.timeout.ms": settings.connect_timeout_ms,
        "reconnect.backoff.max.ms": 1000,  # notice a broker that is back within a second
        "security.protocol": settings.security_protocol,
        "log_level": 3,  # errors only: a broker that is away is reported through our exceptions, not stderr
    }
    if settings.sasl_mechanism:
        config["sasl.mechanism"] = settings.sasl_mechanism
        config["sasl.username"] = settings.sasl_plain_username
        if settings.sasl_plain_password is not None:
            config["sasl.password"] = settings.sasl_plain_password.get_secret_value()
    if settings.ssl_cafile:
        config["ssl.ca.location"] = settings.ssl_cafile
    return config


def _unavailable(settings: KafkaSettings, error: object) -> BackendUnavailable:
    return BackendUnavailable(f"Kafka at {settings.bootstrap_servers} (confluent-kafka): {error}")


class _Headers(Sequence[tuple[str, bytes]]):
    """A consumed message's headers, taken from librdkafka when first asked for: that costs more than the rest of
    the message, and most messages a read returns are never decoded (a trace keeps its own run's)."""

    __slots__ = ("_message", "_pairs")

    def __init__(self, message: Message) -> None:
        self._message: Message | None = message
        self._pairs: list[tuple[str, bytes]] = []

    def _taken(self) -> list[tuple[str, bytes]]:
        message = self._message  # two threads may ask at once: each reads the headers, either result will do
        if message is not None:
            pairs = cast(list[tuple[str, bytes | None]], message.headers() or [])
            self._pairs = [(name, value or b"") for name, value in pairs]
            self._message = None  # after the pairs are there, for a thread that finds it gone
        return self._pairs

    @overload
    def __getitem__(self, index: int) -> tuple[str, bytes]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[str, bytes]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, bytes] | Sequence[tuple[str, bytes]]:
        return self._taken()[index]

    def __len__(self) -> int:
        return len(self._taken())


def _in_message(m: Message) -> InMessage:
    """A consumed message without error: librdkafka always sets its topic, partition and offset, and gives keys,
    values and header values as bytes (its type stubs allow None and str for messages of every kind)."""
    _, timestamp = m.timestamp()
    topic, partition, offset = cast(str, m.topic()), cast(int, m.partition()), cast(int, m.offset())
    return InMessage(topic, partition, offset, m.key(), m.value(), _Headers(m), timestamp)


def consumer_config(settings: KafkaSettings, fetch_wait_ms: int) -> dict[str, Any]:
    """librdkafka properties of a consumer that assigns partitions (the benchmark's raw reads use them too).
    ``fetch_wait_ms``: how long a fetch waits for data the broker does not have yet."""
    return {
        **_common(settings),
        "group.id": "orka-memory-reader",  # required by librdkafka; never joined: partitions are assigned
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",  # an offset gone (retention, a truncated partition): the first one
        "fetch.wait.max.ms": fetch_wait_ms,
        "max.partition.fetch.bytes": 4 * 1_048_576,
    }


def producer_config(settings: KafkaSettings) -> dict[str, Any]:
    """librdkafka producer properties for ``settings`` (the benchmark's raw producer uses them too)."""
    return {
        **_common(settings),
        "acks": settings.acks,
        "partitioner": "murmur2_random",  # Kafka's default (Java, kafka-python): a run id maps to one partition
        "enable.idempotence": settings.idempotence and settings.acks == "all",
        "compression.type": settings.compression,
        "linger.ms": settings.linger_ms,
        "batch.size": settings.batch_bytes,
        "message.max.bytes": max(settings.batch_bytes, 1_048_576),
        "delivery.timeout.ms": settings.delivery_timeout_ms,
        "request.timeout.ms": settings.request_timeout_ms,
    }


class ConfluentProducer:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._producer = Producer(producer_config(settings))

    def send(self, messages: Sequence[OutMessage]) -> list[tuple[int, int]]:
        results: list[tuple[int, int] | None] = [None] * len(messages)
        errors: list[KafkaError] = []

        def delivered(index: int) -> Any:
            def report(error: KafkaError | None, message: Message) -> None:
                if error is not None:
                    errors.append(error)
                else:
                    results[index] = (cast(int, message.partition()), cast(int, message.offset()))

            return report

        for index, m in enumerate(messages):
            self._produce(m, delivered(index))
        remaining = self._producer.flush(self.settings.delivery_timeout_ms / 1000 + 1)
        if errors or remaining:
            self._producer.purge()  # nothing of a failed batch may be delivered later behind a replay
            raise _unavailable(self.settings, errors[0] if errors else f"{remaining} messages not acknowledged")
        return [result for result in results if result is not None]

    def _produce(self, m: OutMessage, on_delivery: Any) -> None:
        options: dict[str, Any] = {"key": m.key, "value": m.value, "headers": m.headers, "on_delivery": on_delivery}
        if m.timestamp_ms is not None:
            options["timestamp"] = m.timestamp_ms
        while True:
            try:
                self._producer.produce(m.topic, **options)
                return
            except BufferError:  # librdkafka's local queue is full: let it deliver, then try again
                self._producer.poll(0.05)

    def close(self) -> None:
        self._producer.purge()
        self._producer.flush(0)


class ConfluentConsumer:
    def __init__(self, settings: KafkaSettings, fetch_wait_ms: int) -> None:
        self.settings = settings
        self._consumer = Consumer(consumer_config(settings, fetch_wait_ms))

    def assign(self, positions: Mapping[Partition, int]) -> None:
        self._consumer.assign(
            [TopicPartition(topic, partition, offset) for (topic, partition), offset in positions.items()]
        )

    def poll(self, timeout: float) -> list[InMessage]:
        try:
            # poll() returns as soon as one message is there; consume(..., 0) then takes what was fetched with it
            # (consume alone waits for the whole batch or the timeout).
            first = self._consumer.poll(timeout)
            fetched = [] if first is None else [first, *self._consumer.consume(POLL_BATCH, 0)]
        except KafkaException as error:
            raise _unavailable(self.settings, error) from error
        out = []
        for m in fetched:
            failure = m.error()
            if failure is not None:
                if failure.fatal():
                    raise _unavailable(self.settings, failure)
                continue
            out.append(_in_message(m))
        return out

    def watermarks(self, partitions: Sequence[Partition]) -> dict[Partition, tuple[int, int]]:
        timeout = self.settings.request_timeout_ms / 1000
        try:
            return {
                partition: self._consumer.get_watermark_offsets(TopicPartition(*partition), timeout, cached=False)
                for partition in partitions
            }
        except KafkaException as error:
            raise _unavailable(self.settings, error) from error

    def close(self) -> None:
        self._consumer.close()


class ConfluentAdmin:
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self._admin = AdminClient(_common(settings))
        self._timeout = settings.request_timeout_ms / 1000

    def describe(self, topic: str) -> TopicInfo | None:
        try:
            # All topics, not list_topics(topic): asking for one topic's metadata auto-creates it on some brokers.
            metadata = self._admin.list_topics(timeout=self._timeout).topics.get(topic)
        except KafkaException as error:
            raise _unavailable(self.settings, error) from error
        if metadata is None or metadata.error is not None:
            return None
        return TopicInfo(len(metadata.partitions), self._config(topic))

    def _config(self, topic: str) -> dict[str, str]:
        """The topic's configuration, or {} from a broker that does not describe configs."""
        [future] = self._admin.describe_configs([ConfigResource("topic", topic)]).values()
        try:
            entries = future.result(timeout=self._timeout)
        except KafkaException:
            return {}
        return {name: str(entry.value) for name, entry in entries.items() if entry.value is not None}

    def create(self, topic: str, partitions: int, replication_factor: int, config: Mapping[str, str]) -> None:
        new = NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor, config=dict(config))
        [future] = self._admin.create_topics([new], request_timeout=self._timeout).values()
        try:
            future.result(timeout=self._timeout)
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise _unavailable(self.settings, error) from error

    def close(self) -> None:
        """The admin client holds no resources to release beyond what garbage collection frees."""


class ConfluentLibrary:
    name = "confluent"

    def producer(self, settings: KafkaSettings) -> ConfluentProducer:
        return ConfluentProducer(settings)

    def consumer(self, settings: KafkaSettings, *, fetch_wait_ms: int) -> ConfluentConsumer:
        return ConfluentConsumer(settings, fetch_wait_ms)

    def admin(self, settings: KafkaSettings) -> ConfluentAdmin:
        return ConfluentAdmin(settings)
