"""OrKa's ``orka.memory.redis_logger`` import path; the class lives in its backend plugin."""

from orka_memory.compat import logger_class

RedisMemoryLogger = logger_class("RedisMemoryLogger")

__all__ = ["RedisMemoryLogger"]
