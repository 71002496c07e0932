"""The settings section of the ``redis`` backend.

``RedisBackend.settings_model`` becomes the ``[redis]`` section of ``orka-memory.toml``, the variables
``ORKA_MEMORY_REDIS__<FIELD>`` and keyword arguments of ``create_memory_logger("redis", <field>=...)``. OrKa's own
names keep working: the ``REDIS_URL`` variable and the ``redis_url`` argument set ``url``, and the factory's
``stream_key`` argument reaches the field of the same name. ``extra="forbid"`` turns a misspelled key into an error
naming it instead of a silently ignored value.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

DEFAULT_URL = "redis://localhost:6379/0"
DEFAULT_STREAM_KEY = "orka:memory"


class RedisSettings(BaseModel):
    """A Redis server (or Redis Cluster) holding the event log in streams, stored memories in hashes, and the
    fork/join keys."""

    # Defaults are passed as ``default=`` so type checkers without the pydantic plugin see them too.
    model_config = ConfigDict(extra="forbid")
    compat_env: ClassVar[dict[str, str]] = {"REDIS_URL": "url"}
    compat_args: ClassVar[dict[str, str]] = {"redis_url": "url"}

    url: str = Field(
        default=DEFAULT_URL,
        description="redis://[user:password@]host:port/db, or rediss://... for TLS. With `cluster`, any node of "
        "the cluster (the others are discovered). The password is masked wherever the URL is shown.",
    )
    cluster: bool = Field(
        default=False, description="Talk to a Redis Cluster (redis-py's RedisCluster) instead of one server."
    )
    stream_key: str = Field(
        default=DEFAULT_STREAM_KEY,
        description="Prefix of every key this backend creates (OrKa's stream_key); loggers with different "
        "prefixes share a server without seeing each other's records.",
    )
    username: str | None = Field(default=None, description="ACL user, when not given in the URL.")
    password: SecretStr | None = Field(default=None, description="Password, when not given in the URL.")
    socket_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a command may wait for its reply before it counts as failed."
    )
    socket_connect_timeout: float = Field(
        default=2.0, gt=0, description="Seconds a connection attempt may take (an unreachable host fails fast)."
    )
    max_connections: int = Field(
        default=64, ge=1, description="Size of the connection pool (per node on a cluster) shared by all threads."
    )
    connection_retries: int = Field(
        default=3,
        ge=0,
        description="Retries of a command after a connection error or timeout, with exponential backoff; then "
        "the logger's writer spools the batch locally and replays it when Redis answers again.",
    )
    connection_backoff_seconds: float = Field(
        default=0.05, gt=0, description="First retry delay; doubles on each retry up to connection_backoff_cap_seconds."
    )
    connection_backoff_cap_seconds: float = Field(default=1.0, gt=0, description="Longest delay between two retries.")
    health_check_interval: float = Field(
        default=30.0, ge=0, description="Seconds after which an idle pooled connection is checked before use (0: off)."
    )
    ssl_ca_certs: Path | None = Field(
        default=None, description="CA bundle that signed the server's certificate (rediss:// URLs)."
    )
    ssl_certfile: Path | None = Field(default=None, description="Client certificate, for servers that ask for one.")
    ssl_keyfile: Path | None = Field(default=None, description="Private key of the client certificate.")
    ssl_cert_reqs: Literal["required", "optional", "none"] = Field(
        default="required", description="Whether the server's certificate must verify against ssl_ca_certs."
    )

    @field_validator("stream_key")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        """The backend puts Redis Cluster hash tags (``{...}``) into its key names itself; braces in the prefix
        would change which part of a key Redis hashes."""
        if not value or "{" in value or "}" in value:
            raise ValueError("must be a non-empty key prefix without '{' or '}'")
        return value

    @model_validator(mode="after")
    def _tls_options_need_tls(self) -> Self:
        """TLS files given with a plain redis:// URL would be ignored silently; say so instead."""
        given = [name for name in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile") if getattr(self, name) is not None]
        if given and not self.url.startswith("rediss://"):
            raise ValueError(f"{', '.join(given)} need a rediss:// url (TLS); the url is {self.url.split('://')[0]}://")
        return self
