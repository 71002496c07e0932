"""The settings section of the ``kafka`` backend.

``KafkaBackend.settings_model`` becomes the ``[kafka]`` section of ``orka-memory.toml``, the variables
``ORKA_MEMORY_KAFKA__<FIELD>`` (plus OrKa's ``KAFKA_BOOTSTRAP_SERVERS``) and keyword arguments of
``create_memory_logger("kafka", <field>=...)``. ``extra="forbid"`` turns a misspelled key into an error naming it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

MEMORY_TYPES = ("short_term", "long_term")


class KafkaSettings(BaseModel):
    """Kafka: the event log on one topic per memory type, keyed by run id; KV and search on a companion backend."""

    model_config = ConfigDict(extra="forbid")
    compat_env: ClassVar[dict[str, str]] = {"KAFKA_BOOTSTRAP_SERVERS": "bootstrap_servers"}

    bootstrap_servers: str = Field(
        default="localhost:9092", min_length=1, description="Comma-separated host:port list of brokers."
    )
    topic_prefix: str = Field(
        default="orka-memory",
        pattern=r"^[A-Za-z0-9._-]+$",
        description="Topics are <prefix>.short-term, <prefix>.long-term, <prefix>.blobs and <prefix>.state.",
    )
    client: Literal["auto", "kafka-python", "confluent"] = Field(
        default="auto",
        description="Client library: confluent (librdkafka, `orka-memory[kafka-fast]`), kafka-python, or auto: "
        "confluent when installed, else kafka-python.",
    )
    # -- topics ----------------------------------------------------------------------------------------------
    create_topics: bool = Field(
        default=True, description="Create missing topics; off: missing topics are an error (managed clusters)."
    )
    partitions: int = Field(default=6, ge=1, description="Partitions of the event topics when created.")
    replication_factor: int = Field(default=1, ge=1, description="Replicas of each topic when created (production: 3).")
    min_insync_replicas: int | None = Field(
        default=None, ge=1, description="min.insync.replicas of created topics (production: 2); unset: broker's."
    )
    short_term_retention_hours: float | None = Field(
        default=None,
        gt=0,
        description="retention.ms of the short-term topic. Unset: the decay model's default_short_term_hours when "
        "decay is enabled, else unlimited. Must cover the longest lifetime of a record in the topic.",
    )
    long_term_retention_hours: float | None = Field(
        default=None, gt=0, description="retention.ms of the long-term topic; unset: as for short-term."
    )
    # -- producing -------------------------------------------------------------------------------------------
    acks: Literal["all", "1", "0"] = Field(default="all", description="Acknowledgements a produce waits for.")
    idempotence: bool = Field(
        default=True, description="Idempotent producer: broker-side retries never duplicate (needs acks=all)."
    )
    compression: Literal["zstd", "gzip", "lz4", "snappy", "none"] = Field(
        default="zstd",
        description="Producer batch compression; while on, records go to Kafka uncompressed (codec none) so nothing is "
        "compressed twice.",
    )
    linger_ms: int = Field(default=5, ge=0, description="How long the producer waits to fill a batch.")
    batch_bytes: int = Field(default=1_048_576, ge=1024, description="Largest producer batch per partition.")
    delivery_timeout_ms: int = Field(
        default=30_000,
        ge=1000,
        description="How long the producer retries a batch (idempotently) before append fails and the logger's "
        "writer retries, then spools.",
    )
    request_timeout_ms: int = Field(default=10_000, ge=500, description="Timeout of one broker request.")
    connect_timeout_ms: int = Field(
        default=5_000, ge=100, description="How long opening the backend waits for a broker to answer."
    )
    # -- reading ---------------------------------------------------------------------------------------------
    recent_buffer: int = Field(
        default=2000, ge=0, description="Newest records kept in memory, followed live, so tail() needs no round trip."
    )
    blob_cache_mb: float = Field(default=64, ge=0, description="Blob bodies kept in memory (LRU).")
    # -- security --------------------------------------------------------------------------------------------
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: SecretStr | None = None
    ssl_cafile: str | None = Field(default=None, description="CA bundle that signed the brokers' certificates.")
    # -- the companion backend -------------------------------------------------------------------------------
    companion: str = Field(
        default="file",
        min_length=1,
        description="Backend serving the KV/set API and stored memories (random access Kafka lacks): file, "
        "redis, or any installed backend's name.",
    )
    companion_settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings of the companion backend (its own section's fields, e.g. {path = ...} for file, "
        "{url = ...} for redis); unset fields take that backend's defaults.",
    )
    redis_url: str | None = Field(
        default=None,
        description="OrKa's KafkaMemoryLogger argument: when set, the companion is the redis backend at this URL.",
    )

    def retention_ms(self, memory_type: str, decay_hours: float | None) -> int:
        """The topic retention for a memory type: the explicit setting, else the decay lifetime, else -1."""
        hours = getattr(self, f"{memory_type}_retention_hours")
        if hours is None:
            hours = decay_hours
        return -1 if hours is None else round(hours * 3_600_000)

    def companion_name_and_settings(self) -> tuple[str, dict[str, Any]]:
        if self.redis_url is not None:
            return "redis", {**self.companion_settings, "url": self.redis_url}
        return self.companion, dict(self.companion_settings)
