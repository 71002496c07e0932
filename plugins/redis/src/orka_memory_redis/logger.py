"""``RedisMemoryLogger``: OrKa's Redis logger class, a ``MemoryLogger`` on ``RedisBackend``."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.settings import resolve_settings

from orka_memory_redis.backend import RedisBackend
from orka_memory_redis.connection import Client
from orka_memory_redis.settings import DEFAULT_STREAM_KEY


class RedisMemoryLogger(MemoryLogger):
    """OrKa's ``RedisMemoryLogger``: the memory-logger API on Redis, constructed the way OrKa code does.

    ``create_memory_logger("redis", ...)`` returns one too (built by the factory through ``attach``). Arguments
    left at their defaults do not override the environment or the config file, exactly as in the factory.
    """

    # The backend a constructor call opens; a logger class of a backend built on this one names its own.
    backend_class: ClassVar[type[RedisBackend]] = RedisBackend

    def __init__(
        self,
        redis_url: str | None = None,
        stream_key: str = DEFAULT_STREAM_KEY,
        debug_keep_previous_outputs: bool = False,
        decay_config: dict[str, Any] | None = None,
        memory_preset: str | None = None,
    ) -> None:
        section, core = self._settings_of(redis_url, stream_key, debug_keep_previous_outputs, memory_preset)
        self._start(section, core, decay_config)

    @staticmethod
    def _settings_of(
        redis_url: str | None, stream_key: str, debug_keep_previous_outputs: bool, memory_preset: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """OrKa's constructor arguments as settings of the backend's section and of the core. Arguments left at
        their defaults are left out, so they do not override the environment or the config file."""
        section: dict[str, Any] = {}
        if redis_url is not None:
            section["url"] = redis_url
        if stream_key != DEFAULT_STREAM_KEY:
            section["stream_key"] = stream_key
        core: dict[str, Any] = {}
        if debug_keep_previous_outputs:
            core["debug_keep_previous_outputs"] = True
        if memory_preset is not None:
            core["memory_preset"] = memory_preset
        return section, core

    def _start(self, section: dict[str, Any], core: dict[str, Any], decay_config: dict[str, Any] | None) -> None:
        """Resolve the settings (these arguments over the environment over the config file), open
        ``backend_class`` and start the logger: what a constructor does once it has sorted OrKa's arguments into
        its backend's ``section`` and the ``core`` settings."""
        backend_class = self.backend_class
        overrides: dict[str, Any] = {**core, "backend": backend_class.name, backend_class.name: section}
        # Every installed backend's section (so the config file validates as the factory's would), and this one's
        # even when plugin loading is restricted (ORKA_MEMORY_LOAD_PLUGINS) to others.
        sections = {name: cls.settings_model for name, cls in get_plugin_manager().backends().items()}
        sections[backend_class.name] = backend_class.settings_model
        settings = resolve_settings(overrides, sections=sections).settings
        backend = backend_class.open(getattr(settings, backend_class.name))
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
