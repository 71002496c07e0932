"""OrKa's ``orka.memory`` package, served by orka-memory."""

from orka_memory.logger import BaseMemoryLogger

__all__ = ["BaseMemoryLogger"]


def __getattr__(name: str) -> object:
    from orka_memory.compat import LOGGER_CLASSES, logger_class

    if name in LOGGER_CLASSES:
        return logger_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
