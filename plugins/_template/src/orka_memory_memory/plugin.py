"""The module the ``orka_memory`` entry point names: only hook implementations, so loading it is cheap and safe.

Keep engine code out of this file. The core imports it when plugins load (and reports it by name if the import
fails), then calls each hook with keyword arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orka_memory import hookimpl

from orka_memory_memory.backend import MemoryBackend

if TYPE_CHECKING:
    from orka_memory.backend import Backend


@hookimpl
def orka_memory_register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register the ``memory`` backend; its ``name`` is what users select (``create_memory_logger("memory")``)."""
    register(MemoryBackend)
