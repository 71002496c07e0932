"""The settings section of the ``redisstack`` backend: the ``redis`` backend's settings plus the vector index.

``RedisStackBackend.settings_model`` becomes the ``[redisstack]`` section of ``orka-memory.toml``, the variables
``ORKA_MEMORY_REDISSTACK__<FIELD>`` and keyword arguments of ``create_memory_logger("redisstack", <field>=...)``.
OrKa's names reach the fields of the same name (``index_name``, ``vector_dim``, ``force_recreate_index``,
``enable_hnsw``, ``vector_params``); ``REDIS_URL`` and ``redis_url`` set ``url`` as for the redis backend.
"""

from __future__ import annotations

from typing import Any

from orka_memory_redis.settings import RedisSettings
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_INDEX_NAME = "orka_enhanced_memory"


class VectorParams(BaseModel):
    """HNSW parameters. OrKa's ``vector_params`` dict maps onto these, with keys in either case (``M`` or ``m``).

    The default ``ef_runtime`` is 100, not RediSearch's 10, which finds about 6 of the true 10 nearest neighbours
    (the package README's Recall section has the measurements, and when to raise it).
    """

    model_config = ConfigDict(extra="forbid")

    m: int = Field(default=16, ge=2, description="HNSW M: edges per node (memory and recall grow with it).")
    ef_construction: int = Field(
        default=200, ge=1, description="HNSW EF_CONSTRUCTION: candidates considered while inserting (build quality)."
    )
    ef_runtime: int = Field(
        default=100, ge=1, description="HNSW EF_RUNTIME: candidates considered by each query (recall vs. latency)."
    )

    @model_validator(mode="before")
    @classmethod
    def _any_case(cls, data: Any) -> Any:
        """OrKa wrote ``{"M": 16, "ef_construction": 200}`` and read only the lower-case keys; accept both."""
        if isinstance(data, dict):
            return {str(key).lower(): value for key, value in data.items()}
        return data


class RedisStackSettings(RedisSettings):
    """A Redis Stack server: the redis backend's event log and key-value API, stored memories in a RediSearch
    index with an HNSW vector field (degrades to the redis backend on a server without the search module)."""

    index_name: str = Field(
        default=DEFAULT_INDEX_NAME,
        description="RediSearch index over the stored memories. Index names are per server: loggers with different "
        "stream_key prefixes on one server need different index names.",
    )
    vector_dim: int | None = Field(
        default=None,
        ge=1,
        description="Expected vector dimension. Unset: the embedder's. Set: it must equal the embedder's dimension "
        "(the embedder makes the vectors; a different number would only break searches later).",
    )
    force_recreate_index: bool = Field(
        default=False,
        description="Rebuild an existing index whose schema differs (dimension, HNSW parameters, fields) instead "
        "of refusing to start; the memories are kept and indexed again.",
    )
    enable_hnsw: bool = Field(
        default=True, description="HNSW (approximate, fast at any size); false: FLAT (exact, linear in the memories)."
    )
    vector_params: VectorParams = Field(default_factory=VectorParams, description="HNSW parameters (M, EF_*).")

    @field_validator("vector_params", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any) -> Any:
        """OrKa's factory passes ``vector_params=None`` for the defaults."""
        return {} if value is None else value
