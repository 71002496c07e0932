"""``KafkaMemoryLogger``: OrKa's Kafka logger class, with its constructor, on the ``kafka`` backend.

OrKa's original only wrote to Kafka (no key, no headers) and read everything back from Redis. This one keys
messages by run id, carries the indexed fields as headers, reads the log back from Kafka, and keeps what needs
random access (KV, stored memories) on the companion backend; ``redis_url`` makes that companion Redis, as the
original's reads were.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, cast

from orka_memory.logger import MemoryLogger
from orka_memory.plugins import PluginManager
from orka_memory.record import compat_dict_of
from orka_memory.settings import CoreSettings, resolve_settings

if TYPE_CHECKING:
    from orka_memory.backend import Backend, EncodedRecord

    from orka_memory_kafka.backend import KafkaBackend


class KafkaMemoryLogger(MemoryLogger):
    """The memory logger on Kafka. ``create_memory_logger("kafka", ...)`` returns one; so does the constructor."""

    def __init__(
        self,
        bootstrap_servers: str | None = None,
        redis_url: str | None = None,
        stream_key: str = "orka:memory",
        debug_keep_previous_outputs: bool = False,
        decay_config: dict[str, Any] | None = None,
        enable_hnsw: bool = True,
        vector_params: dict[str, Any] | None = None,
        topic_prefix: str = "orka-memory",
        schema_registry_url: str | None = None,
        use_schema_registry: bool = False,
        **settings: Any,
    ) -> None:
        """OrKa's signature. ``stream_key``, ``enable_hnsw`` and ``vector_params`` concern Redis-based loggers and
        are accepted for compatibility; any other keyword is a core or ``[kafka]`` setting (``companion=...``)."""
        from orka_memory_kafka.backend import KafkaBackend  # the backend names this class: import it late

        if use_schema_registry or schema_registry_url:
            warnings.warn(
                "KafkaMemoryLogger does not use a schema registry: record values are JSON documents whose format "
                "(docs/record-format.md) is versioned by their schema_version header",
                UserWarning,
                stacklevel=2,
            )
        section = {"bootstrap_servers": bootstrap_servers, "redis_url": redis_url}
        if topic_prefix != "orka-memory":
            section["topic_prefix"] = topic_prefix
        overrides: dict[str, Any] = {"backend": "kafka", "debug_keep_previous_outputs": debug_keep_previous_outputs}
        kafka: dict[str, Any] = {key: value for key, value in section.items() if value is not None}
        for key, value in settings.items():
            if key in KafkaBackend.settings_model.model_fields:
                kafka[key] = value
            elif key in CoreSettings.model_fields:
                overrides[key] = value
            else:
                raise TypeError(f"KafkaMemoryLogger() got an unexpected argument {key!r}")
        resolved = resolve_settings({**overrides, "kafka": kafka})
        backend = KafkaBackend.open(resolved.settings.kafka)  # type: ignore[attr-defined]
        MemoryLogger.__init__(self, backend, resolved.settings, decay_config=decay_config)
        self._prepare_topics()

    @classmethod
    def attach(
        cls,
        backend: Backend,
        settings: CoreSettings,
        *,
        decay_config: dict[str, Any] | None = None,
        plugins: PluginManager | None = None,
    ) -> MemoryLogger:
        """The factory's path: attach to an opened backend, then prepare its topics for this decay config."""
        attached = super().attach(backend, settings, decay_config=decay_config, plugins=plugins)
        logger = cast("KafkaMemoryLogger", attached)
        logger._prepare_topics()
        return logger

    def _prepare_topics(self) -> None:
        """Create or verify the topics, their retention following the decay lifetimes when decay is on. A failure
        closes the logger (and its backend) before it is raised."""
        decay = self.decay_config
        hours: dict[str, float | None] = {}
        if decay.enabled:
            hours = {"short_term": decay.default_short_term_hours, "long_term": decay.default_long_term_hours}
        try:
            cast("KafkaBackend", self.backend).prepare(hours)
        except BaseException:
            self.close()
            raise

    def follow(self) -> Generator[dict[str, Any], None, None]:
        """Every event logged from now on (this call), by any process, as it arrives (oldest first); endless.
        Close the iterator to release its consumer."""
        return self._as_dicts(cast("KafkaBackend", self.backend).follow())

    def _as_dicts(self, records: Generator[EncodedRecord, None, None]) -> Generator[dict[str, Any], None, None]:
        try:
            for encoded in records:
                yield from map(compat_dict_of, self._decode_documents([encoded]))
        finally:
            records.close()
