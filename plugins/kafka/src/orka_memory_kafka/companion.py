"""The companion backend: where the Kafka backend keeps what needs random access.

Kafka is an append-only log read by offset; the KV/set API fork/join coordination runs on (read-modify-write by
key) and stored-memory search (an index) need a store with random access. The companion is any installed backend,
chosen by name in the settings: the embedded ``file`` store by default (one machine), or ``redis`` (shared by every
process of a deployment).
"""

from __future__ import annotations

from orka_memory.backend import Backend
from orka_memory.plugins import get_plugin_manager

from orka_memory_kafka.settings import KafkaSettings


def open_companion(settings: KafkaSettings) -> Backend:
    """Open the companion backend the settings name, with its settings; errors name the setting to change."""
    name, values = settings.companion_name_and_settings()
    backends = get_plugin_manager().backends()
    if name == "kafka" or name not in backends:
        usable = ", ".join(sorted(set(backends) - {"kafka"}))
        raise ValueError(
            f"[kafka] companion = {name!r} is not an installed backend to pair with Kafka; use one of: {usable}"
        )
    cls = backends[name]
    return cls.open(cls.settings_model.model_validate(values))
