"""OrKa's ``orka.memory_logger`` import path, served by orka-memory."""

from orka_memory.factory import create_memory_logger
from orka_memory.logger import BaseMemoryLogger

__all__ = ["BaseMemoryLogger", "create_memory_logger"]


def __getattr__(name: str) -> object:
    from orka_memory.compat import LOGGER_CLASSES, logger_class

    if name in LOGGER_CLASSES:
        return logger_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
