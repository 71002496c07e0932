"""OrKa's ``orka.memory.base_logger`` import path."""

from orka_memory.logger import BaseMemoryLogger

__all__ = ["BaseMemoryLogger"]
