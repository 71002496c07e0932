"""orka-memory's redis backend (not implemented yet: this distribution registers no backend)."""

from orka_memory_redis.version import __version__

__all__ = ["__version__"]
