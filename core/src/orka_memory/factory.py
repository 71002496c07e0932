"""``create_memory_logger``: OrKa's factory, with settings resolution and the backend fallback rules.

Backend choice: the ``backend`` argument, else the ``backend`` setting (``ORKA_MEMORY_BACKEND``, config file). With
neither, the first of ``redisstack``/``redis`` that is installed and answers at its configured URL is used, else
the embedded ``file`` backend, with a warning saying so. A backend chosen explicitly that cannot be reached raises
``ConnectionError`` naming where and why; a backend whose plugin is missing raises ``ImportError`` naming the extra.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from orka_memory.backend import Backend, BackendUnavailable
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import PluginManager, get_plugin_manager
from orka_memory.settings import CoreSettings, resolve_settings

log = logging.getLogger("orka_memory")

# Backends shipped as extras of the orka-memory distribution.
EXTRAS = {"redis": "redis", "redisstack": "redisstack", "kafka": "kafka"}
AUTO_CHAIN = ("redisstack", "redis")
FALLBACK_BACKEND = "file"

# OrKa factory parameters with their defaults: an argument left at its default does not override the
# environment or the config file.
_COMPAT_DEFAULTS: dict[str, Any] = {
    "redis_url": None,
    "bootstrap_servers": None,
    "topic_prefix": "orka-memory",
    "stream_key": "orka:memory",
    "debug_keep_previous_outputs": False,
    "enable_hnsw": True,
    "vector_params": None,
}
# OrKa keyword arguments that only some backends use; others accept and ignore them.
_KNOWN_KWARGS = {
    "memory_preset",
    "operation",
    "format_params",
    "index_name",
    "vector_dim",
    "force_recreate_index",
    "schema_registry_url",
    "use_schema_registry",
    "embedder",
    "memory_decay_config",
}


class BackendFallbackWarning(UserWarning):
    """No backend was configured and no Redis answered, so the embedded file backend is used."""


def _overrides(arguments: dict[str, Any], sections: dict[str, type[Any]]) -> dict[str, Any]:
    """Route each given argument to the core field or section fields that accept it.

    A section model may map OrKa argument names onto its fields with a ``compat_args`` class attribute
    (``{"redis_url": "url"}``); otherwise an argument reaches a field of the same name.
    """
    overrides: dict[str, Any] = {}
    used: set[str] = set()
    for name, value in arguments.items():
        if name in CoreSettings.model_fields:
            overrides[name] = value
            used.add(name)
    for section, model in sections.items():
        compat = getattr(model, "compat_args", {})
        for name, value in arguments.items():
            field = compat.get(name, name)
            if field in model.model_fields:
                overrides.setdefault(section, {})[field] = value
                used.add(name)
    unknown = set(arguments) - used - _KNOWN_KWARGS - set(_COMPAT_DEFAULTS)
    if unknown:
        raise TypeError(
            f"create_memory_logger() got unexpected arguments: {', '.join(sorted(unknown))}; "
            "they are neither orka-memory settings nor settings of an installed backend"
        )
    return overrides


def create_memory_logger(
    backend: str | None = None,
    redis_url: str | None = None,
    bootstrap_servers: str | None = None,
    topic_prefix: str = "orka-memory",
    stream_key: str = "orka:memory",
    debug_keep_previous_outputs: bool = False,
    decay_config: dict[str, Any] | None = None,
    enable_hnsw: bool = True,
    vector_params: dict[str, Any] | None = None,
    *,
    config_file: str | Path | None = None,
    plugins: PluginManager | None = None,
    **kwargs: Any,
) -> MemoryLogger:
    """Create a memory logger for the configured backend (see the module docstring for the rules)."""
    plugins = plugins or get_plugin_manager()
    backends = plugins.backends()
    sections = {name: cls.settings_model for name, cls in backends.items()}
    given = {
        "redis_url": redis_url,
        "bootstrap_servers": bootstrap_servers,
        "topic_prefix": topic_prefix,
        "stream_key": stream_key,
        "debug_keep_previous_outputs": debug_keep_previous_outputs,
        "enable_hnsw": enable_hnsw,
        "vector_params": vector_params,
    }
    arguments = {k: v for k, v in given.items() if v != _COMPAT_DEFAULTS[k]}
    arguments.update({k: v for k, v in kwargs.items() if v is not None})
    if backend is not None:
        arguments["backend"] = backend
    resolved = resolve_settings(
        _overrides(arguments, sections),
        sections=sections,
        config_file=Path(config_file) if config_file else None,
    )
    settings = resolved.settings
    if settings.backend is None:
        opened = _auto_backend(backends, settings)
    else:
        backend_cls = _backend_class(settings.backend, backends)
        opened = backend_cls.open(getattr(settings, backend_cls.name))
    # ``open`` may hand back a more basic backend than the one asked for (Redis Stack without its search module
    # degrades to plain Redis, with a warning): the logger class follows what was opened.
    logger_cls = type(opened).logger_class or MemoryLogger
    return logger_cls.attach(opened, settings, decay_config=decay_config, plugins=plugins)


def _backend_class(name: str, backends: dict[str, type[Backend]]) -> type[Backend]:
    if name in backends:
        return backends[name]
    if name in EXTRAS:
        raise ImportError(
            f"backend {name!r} is not installed; install it with: pip install 'orka-memory[{EXTRAS[name]}]'"
        )
    raise ValueError(f"unknown backend {name!r}; installed backends: {', '.join(sorted(backends))}")


def _auto_backend(backends: dict[str, type[Backend]], settings: CoreSettings) -> Backend:
    """Nothing configured: a Redis backend that answers, else the embedded file backend, with a warning."""
    tried: list[str] = []
    for name in AUTO_CHAIN:
        if name not in backends:
            continue
        try:
            return backends[name].open(getattr(settings, name))
        except BackendUnavailable as error:
            tried.append(f"{name}: {error}")
    fallback = _backend_class(FALLBACK_BACKEND, backends)
    opened = fallback.open(getattr(settings, FALLBACK_BACKEND))
    reason = "; ".join(tried) if tried else "no Redis backend plugin is installed"
    warnings.warn(
        f"orka-memory: no backend configured ({reason}); using the embedded file backend at {opened.describe()}. "
        "Set ORKA_MEMORY_BACKEND or `backend` in orka-memory.toml to choose one.",
        BackendFallbackWarning,
        stacklevel=3,
    )
    return opened
