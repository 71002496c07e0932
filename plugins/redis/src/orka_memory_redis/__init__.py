"""orka-memory's ``redis`` backend: the event log in Redis streams, stored memories in hashes with native TTLs,
the fork/join key-value API on Redis's own types; on one server or a Redis Cluster.

Selected with ``create_memory_logger("redis", redis_url=...)`` or constructed as OrKa code does,
``RedisMemoryLogger(redis_url=...)``. The core finds it through the ``orka_memory`` entry point naming
``orka_memory_redis.plugin``; see this package's README for the key layout and the guarantees.
"""

from orka_memory_redis.backend import RedisBackend
from orka_memory_redis.logger import RedisMemoryLogger
from orka_memory_redis.settings import RedisSettings
from orka_memory_redis.version import __version__

__all__ = ["RedisBackend", "RedisMemoryLogger", "RedisSettings", "__version__"]
