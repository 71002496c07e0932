"""orka-memory's redisstack backend (not implemented yet: this distribution registers no backend)."""

from orka_memory_redisstack.version import __version__

__all__ = ["__version__"]
