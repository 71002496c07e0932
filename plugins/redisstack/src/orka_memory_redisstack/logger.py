"""``RedisStackMemoryLogger``: OrKa's Redis Stack logger class, a ``RedisMemoryLogger`` on ``RedisStackBackend``."""

from __future__ import annotations

from typing import Any

from orka_memory.settings import CoreSettings
from orka_memory_redis.logger import RedisMemoryLogger
from orka_memory_redis.settings import DEFAULT_STREAM_KEY

from orka_memory_redisstack.backend import RedisStackBackend
from orka_memory_redisstack.settings import DEFAULT_INDEX_NAME, RedisStackSettings


class RedisStackMemoryLogger(RedisMemoryLogger):
    """OrKa's ``RedisStackMemoryLogger``: stored memories searched by vector (HNSW) and text in a RediSearch index,
    the event log and the fork/join keys as the redis backend keeps them; constructed the way OrKa code does.

    ``create_memory_logger("redisstack", ...)`` returns one too (built by the factory through ``attach``), unless
    the server has no search module: then the factory returns a ``RedisMemoryLogger`` (with a warning), and this
    constructor a ``RedisStackMemoryLogger`` over the plain redis backend, which searches by text.

    ``embedder`` names an installed embedder (the ``embedder`` setting); ``memory_decay_config`` is OrKa's other name
    for ``decay_config``; ``format_params`` is kept as an attribute for the code that reads it. Further keyword
    arguments set fields of the ``[redisstack]`` section (``index_name``, ``vector_dim``, ``force_recreate_index``,
    ...) or of the core (``spool_dir``, ``search_mode``, ...); any other name is a ``TypeError``.
    """

    backend_class = RedisStackBackend
    format_params: dict[str, Any] | None = None

    def __init__(
        self,
        redis_url: str | None = None,
        index_name: str = DEFAULT_INDEX_NAME,
        embedder: str | None = None,
        memory_decay_config: dict[str, Any] | None = None,
        stream_key: str = DEFAULT_STREAM_KEY,
        debug_keep_previous_outputs: bool = False,
        decay_config: dict[str, Any] | None = None,
        memory_preset: str | None = None,
        enable_hnsw: bool = True,
        vector_params: dict[str, Any] | None = None,
        format_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        section, core = self._settings_of(redis_url, stream_key, debug_keep_previous_outputs, memory_preset)
        if index_name != DEFAULT_INDEX_NAME:
            section["index_name"] = index_name
        if not enable_hnsw:
            section["enable_hnsw"] = False
        if vector_params is not None:
            section["vector_params"] = vector_params
        if embedder is not None:
            if not isinstance(embedder, str):
                raise TypeError(
                    "embedder names an installed embedder plugin (`orka-memory plugins` lists them), not an object; "
                    "register an embedder through the orka_memory_register_embedders hook"
                )
            core["embedder"] = embedder
        for name, value in kwargs.items():
            if value is None:
                continue
            if name in RedisStackSettings.model_fields:
                section[name] = value
            elif name in CoreSettings.model_fields:
                core[name] = value
            else:
                raise TypeError(f"RedisStackMemoryLogger() got an unexpected argument {name!r}")
        self.format_params = format_params
        self._start(section, core, decay_config if decay_config is not None else memory_decay_config)

    def ensure_index(self) -> bool:
        """Create the vector index again if it is gone; True when memories can be searched (on a server without the
        search module: by text)."""
        if isinstance(self.backend, RedisStackBackend):
            return self.backend.ensure_index()
        return super().ensure_index()

    def get_performance_metrics(self) -> dict[str, Any]:
        """The writer's metrics plus the vector index's state (``FT.INFO``: size, background indexing, failures,
        HNSW parameters)."""
        metrics = super().get_performance_metrics()
        stack = self.backend if isinstance(self.backend, RedisStackBackend) else None
        metrics["vector_search_enabled"] = stack is not None
        metrics["embedder"] = self.embedder.identity if self.embedder is not None else None
        metrics["index_status"] = stack.index_status() if stack is not None else None
        return metrics


# The factory returns a RedisStackMemoryLogger for the redisstack backend.
RedisStackBackend.logger_class = RedisStackMemoryLogger
