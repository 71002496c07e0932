"""OrKa's ``orka.memory.redisstack_logger`` import path; the class lives in its backend plugin."""

from orka_memory.compat import logger_class

RedisStackMemoryLogger = logger_class("RedisStackMemoryLogger")

__all__ = ["RedisStackMemoryLogger"]
