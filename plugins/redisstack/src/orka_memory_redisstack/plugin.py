"""The module the ``orka_memory`` entry point names: only the hook implementation registering
``RedisStackBackend``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orka_memory import hookimpl

from orka_memory_redisstack.backend import RedisStackBackend

if TYPE_CHECKING:
    from orka_memory.backend import Backend


@hookimpl
def orka_memory_register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register the ``redisstack`` backend (``create_memory_logger("redisstack")``,
    ``ORKA_MEMORY_BACKEND=redisstack``)."""
    register(RedisStackBackend)
