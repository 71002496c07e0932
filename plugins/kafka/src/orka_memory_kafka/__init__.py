"""orka-memory's ``kafka`` backend: the event log on Kafka topics (one per memory type, keyed by run id, retained
by decay), read back from Kafka; KV and stored memories on a companion backend (the embedded file store by default).

Selected with ``create_memory_logger("kafka", bootstrap_servers=...)`` or ``ORKA_MEMORY_BACKEND=kafka``; OrKa's
``KafkaMemoryLogger(bootstrap_servers=...)`` works too. See this package's README for settings and guarantees.
"""

from orka_memory_kafka.backend import KafkaBackend
from orka_memory_kafka.logger import KafkaMemoryLogger
from orka_memory_kafka.settings import KafkaSettings
from orka_memory_kafka.version import __version__

__all__ = ["KafkaBackend", "KafkaMemoryLogger", "KafkaSettings", "__version__"]
