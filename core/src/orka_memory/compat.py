"""Imports of OrKa's backend-specific logger classes, which live in the backend plugins.

A missing plugin gives an ImportError that names the extra to install, as OrKa users expect.
"""

from __future__ import annotations

import importlib
from typing import Any

# OrKa class name -> (plugin module, extra)
LOGGER_CLASSES = {
    "RedisMemoryLogger": ("orka_memory_redis", "redis"),
    "RedisStackMemoryLogger": ("orka_memory_redisstack", "redisstack"),
    "KafkaMemoryLogger": ("orka_memory_kafka", "kafka"),
}


def logger_class(name: str) -> Any:
    module_name, extra = LOGGER_CLASSES[name]
    try:
        module = importlib.import_module(module_name)
        return getattr(module, name)
    except (ImportError, AttributeError) as error:
        raise ImportError(
            f"{name} needs the {extra} backend plugin ({module_name.replace('_', '-')}), which is not installed "
            f"or does not provide it yet: pip install 'orka-memory[{extra}]'"
        ) from error
