"""orka-memory: the memory layer of agent orchestrators.

Every orchestration event and agent output is logged and persisted, can be read back (recent events, one run's
trace, fork/join state), searched, aged out by decay rules, and exported. Storage engines are plugins::

    from orka_memory import create_memory_logger

    with create_memory_logger("file") as memory:
        memory.log("planner", "start", {"goal": "answer"}, run_id="run-1", step=0)
        memory.flush()
        print(memory.trace("run-1"))

Writing a plugin: see ``orka_memory.hookspecs`` and the README's plugin author guide.
"""

from orka_memory.backend import (
    Backend,
    BackendError,
    BackendUnavailable,
    Blob,
    Capability,
    CapabilityError,
    CorruptStoreError,
    EncodedRecord,
    MemoryFilter,
    WrongTypeError,
)
from orka_memory.factory import create_memory_logger
from orka_memory.hookspecs import hookimpl
from orka_memory.logger import BaseMemoryLogger, MemoryLogger
from orka_memory.record import MemoryRecord
from orka_memory.settings import ConfigurationError, resolve_settings
from orka_memory.version import __version__

__all__ = [
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "BaseMemoryLogger",
    "Blob",
    "Capability",
    "CapabilityError",
    "ConfigurationError",
    "CorruptStoreError",
    "EncodedRecord",
    "MemoryFilter",
    "MemoryLogger",
    "MemoryRecord",
    "WrongTypeError",
    "__version__",
    "create_memory_logger",
    "hookimpl",
    "resolve_settings",
]
