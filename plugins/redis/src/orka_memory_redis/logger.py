"""``RedisMemoryLogger``: OrKa's Redis logger class, a ``MemoryLogger`` on ``RedisBackend``."""

from __future__ import annotations

from typing import Any, cast

from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.settings import resolve_settings

from orka_memory_redis.backend import RedisBackend
from orka_memory_redis.connection import Client
from orka_memory_redis.settings import DEFAULT_STREAM_KEY, RedisSettings


class RedisMemoryLogger(MemoryLogger):
    """OrKa's ``RedisMemoryLogger``: the memory-logger API on Redis, constructed the way OrKa code does.

    ``create_memory_logger("redis", ...)`` returns one too (built by the factory through ``attach``). Arguments
    left at their defaults do not override the environment or the config file, exactly as in the factory.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        stream_key: str = DEFAULT_STREAM_KEY,
        debug_keep_previous_outputs: bool = False,
        decay_config: dict[str, Any] | None = None,
        memory_preset: str | None = None,
    ) -> None:
        section: dict[str, Any] = {}
        if redis_url is not None:
            section["url"] = redis_url
        if stream_key != DEFAULT_STREAM_KEY:
            section["stream_key"] = stream_key
        overrides: dict[str, Any] = {"backend": RedisBackend.name, RedisBackend.name: section}
        if debug_keep_previous_outputs:
            overrides["debug_keep_previous_outputs"] = True
        if memory_preset is not None:
            overrides["memory_preset"] = memory_preset
        # Every installed backend's section (so the config file validates as the factory's would), and this one's
        # even when plugin loading is restricted (ORKA_MEMORY_LOAD_PLUGINS) to others.
        sections = {name: cls.settings_model for name, cls in get_plugin_manager().backends().items()}
        sections[RedisBackend.name] = RedisSettings
        settings = resolve_settings(overrides, sections=sections).settings
        backend = RedisBackend.open(getattr(settings, RedisBackend.name))
        try:
            super().__init__(backend, settings, decay_config=decay_config)
        except BaseException:
            backend.close()
            raise

    @property
    def redis(self) -> Client:
        """The redis-py client (``Redis``, or ``RedisCluster`` with ``cluster = true``) the backend uses, which
        OrKa's fork managers call directly. It returns bytes, as OrKa's did; the logger's own KV methods return
        ``str``."""
        return cast(RedisBackend, self.backend).client


# The factory returns a RedisMemoryLogger for the redis backend.
RedisBackend.logger_class = RedisMemoryLogger
