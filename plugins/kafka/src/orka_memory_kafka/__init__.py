"""orka-memory's kafka backend (not implemented yet: this distribution registers no backend)."""

from orka_memory_kafka.version import __version__

__all__ = ["__version__"]
