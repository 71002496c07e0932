"""OrKa's ``orka.memory.kafka_logger`` import path; the class lives in its backend plugin."""

from orka_memory.compat import logger_class

KafkaMemoryLogger = logger_class("KafkaMemoryLogger")

__all__ = ["KafkaMemoryLogger"]
