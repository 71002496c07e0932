"""orka-memory's ``redisstack`` backend: the redis backend's event log and key-value API, plus stored memories
searched by vector (HNSW) and by text in a RediSearch index, every filter inside the query.

Selected with ``create_memory_logger("redisstack", redis_url=...)`` or constructed as OrKa code does,
``RedisStackMemoryLogger(redis_url=...)``. On a server without the search module it degrades to the redis backend
with a ``SearchModuleMissingWarning``. The core finds it through the ``orka_memory`` entry point naming
``orka_memory_redisstack.plugin``; see this package's README for the index and the guarantees.
"""

from orka_memory_redisstack.backend import RedisStackBackend, SearchModuleMissingWarning
from orka_memory_redisstack.index import IndexSchemaMismatch
from orka_memory_redisstack.logger import RedisStackMemoryLogger
from orka_memory_redisstack.settings import RedisStackSettings, VectorParams
from orka_memory_redisstack.version import __version__

__all__ = [
    "IndexSchemaMismatch",
    "RedisStackBackend",
    "RedisStackMemoryLogger",
    "RedisStackSettings",
    "SearchModuleMissingWarning",
    "VectorParams",
    "__version__",
]
