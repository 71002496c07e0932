"""What a storage backend implements: the ``Store``, ``KeyValue`` and ``Query`` protocols (and, optionally,
``VectorQuery`` and ``HeldBlobs``).

The logger front-end does everything that is the same for every engine (serialization, deduplication, encoding,
compression, decay, batching, retry and spooling) and hands a backend finished ``EncodedRecord`` batches. A backend
only stores and finds bytes, using its engine's native mechanisms: indexes rather than scans, native expiry rather
than sweeps. It declares what it can do in ``capabilities``, so the front-end says clearly what a backend cannot
do instead of failing somewhere deep.

Every method may be called from several threads at once (the writer thread appends while callers read).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pydantic import BaseModel

    from orka_memory.logger import MemoryLogger


class Capability(enum.StrEnum):
    """A part of the logger API that a backend serves."""

    EVENTS = "events"  # append, recent, by_run, iter_records
    KV = "kv"  # the hash/set/string API fork/join coordination runs on
    MEMORIES = "memories"  # stored memories: log_memory, recent/all memories, delete
    TEXT_SEARCH = "text_search"  # search_text over stored memories
    VECTOR_SEARCH = "vector_search"  # search by embedding
    TTL = "ttl"  # expiry enforced by the engine itself
    # The engine compresses whole batches itself (a Kafka producer's compression.type): the core then stores records
    # with codec "none" instead of compressing every record twice.
    COMPRESSED_TRANSPORT = "compressed_transport"


class BackendError(Exception):
    """Base class of the errors backends raise."""


class BackendUnavailable(BackendError, ConnectionError):
    """The storage engine cannot be reached. Raised by ``open()`` and by any call; the writer retries and spools."""


class CorruptStoreError(BackendError):
    """The stored data cannot be read as this backend's format; the message says where and what to do."""


class WrongTypeError(BackendError, TypeError):
    """A key-value operation against a key holding another type (Redis's WRONGTYPE). Nothing is changed."""


class CapabilityError(BackendError, NotImplementedError):
    """The backend does not offer this part of the API; the message names the backend and an alternative."""


class VectorSpaceMismatch(BackendError, ValueError):
    """The store holds vectors from another embedder (or dimension) than the logger's; comparing them would return
    garbage, so the logger refuses to start. The message names both and the fix."""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs several microseconds per record
class EncodedRecord:
    """One record as a backend stores it: the fields it indexes, and the encoded document.

    ``body`` is the record document (``docs/record-format.md``) encoded as JSON and compressed with ``codec``;
    ``raw_size`` is the length of the JSON before compression. The index fields repeat values from the document
    so that backends filter inside their queries without decoding anything.
    """

    id: str
    created_at: int  # epoch milliseconds
    log_type: str  # "log" (orchestration event) or "memory" (stored memory)
    agent_id: str
    event_type: str
    run_id: str | None
    memory_type: str  # "short_term" or "long_term"
    category: str  # "log" or "stored"
    importance: float
    namespace: str | None
    session: str | None
    expires_at: int | None  # epoch milliseconds; None keeps the record until deleted
    text: str | None  # the searchable text of a stored memory
    codec: str
    body: bytes
    raw_size: int
    # A stored memory's embedding (``orka_memory.vectors``: float32 little-endian, unit length), for backends that
    # declare VECTOR_SEARCH; None for events and when no embedder ran.
    vector: bytes | None = None


@dataclass(slots=True, frozen=True)
class Blob:
    """A deduplicated sub-object: stored once per backend under the SHA-256 of its canonical JSON.

    ``expires_at`` is the latest expiry of the records referring to it (None: never), so a backend may drop a blob
    once that moment has passed without tracking references.
    """

    hash: str
    codec: str
    body: bytes
    raw_size: int
    expires_at: int | None


@dataclass(slots=True, frozen=True)
class MemoryFilter:
    """Filters applied inside a backend's query, so the top k results are all matches."""

    run_id: str | None = None
    agent_id: str | None = None
    memory_type: str | None = None
    log_type: str | None = "memory"
    namespace: str | None = None
    session: str | None = None
    category: str | None = None
    min_importance: float | None = None


@dataclass(slots=True)
class CleanupReport:
    """What a cleanup removed (or would remove, on a dry run)."""

    dry_run: bool
    events: int = 0
    memories: int = 0
    blobs: int = 0
    kv_keys: int = 0
    by_memory_type: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.events + self.memories + self.blobs + self.kv_keys


@dataclass(slots=True)
class BackendStats:
    """Counts a backend keeps without scanning its data (counters maintained at write time or engine metadata)."""

    events: int = 0
    memories: int = 0
    by_memory_type: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    kv_keys: int = 0
    expired_pending: int = 0
    raw_bytes: int = 0  # JSON bytes of records and blobs before compression
    stored_bytes: int = 0  # bytes after compression, as handed to the engine
    engine_bytes: int | None = None  # what the engine reports using (file size, server memory), if it can tell
    extra: dict[str, Any] = field(default_factory=dict)


# -- the protocols --------------------------------------------------------------------------------------------------


class Store(Protocol):
    """Writes. ``append`` is the only call on the logging hot path; it is made by the writer's storer thread."""

    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        """Store a batch atomically where the engine allows, durably when it returns.

        Idempotent by ``EncodedRecord.id``: a record whose id is already stored is skipped, so a replay after a
        failure never duplicates. A blob whose hash is stored keeps its body; its expiry becomes the later of both.
        Raises ``BackendUnavailable`` when the engine cannot be reached (the writer retries, then spools).
        """
        ...

    def get_blobs(self, hashes: Collection[str]) -> dict[str, Blob]:
        """The stored blobs among ``hashes`` (missing ones are simply absent), in one round trip."""
        ...

    def delete_record(self, record_id: str) -> bool: ...

    def delete_records(self, *, log_type: str | None = None) -> int:
        """Delete every record, or every record of one log type; returns how many."""
        ...

    def cleanup(self, *, now_ms: int, dry_run: bool) -> CleanupReport:
        """Remove what expired at or before ``now_ms`` (records, blobs, KV keys) without scanning live data."""
        ...


@runtime_checkable
class HeldBlobs(Protocol):
    """A store that can tell which blobs it holds without reading them: the writer asks before every batch that
    refers to blobs this process stored earlier and does not send again. A store without it is asked through
    ``get_blobs``, which reads the bodies too (see ``held_blobs``)."""

    def held_blobs(self, hashes: Collection[str]) -> set[str]:
        """The hashes among ``hashes`` whose blobs the engine holds now, in one round trip."""
        ...


def held_blobs(store: Store, hashes: Collection[str]) -> set[str]:
    """The hashes among ``hashes`` that ``store`` holds: by ``HeldBlobs.held_blobs`` where the store offers it."""
    if isinstance(store, HeldBlobs):
        return store.held_blobs(hashes)
    return set(store.get_blobs(hashes))


class KeyValue(Protocol):
    """The small Redis-like API fork/join coordination runs on. Values are ``str``; a call against a key of
    another type raises ``WrongTypeError`` and changes nothing. Served when ``Capability.KV`` is declared."""

    def hset(self, name: str, key: str, value: str) -> int: ...
    def hget(self, name: str, key: str) -> str | None: ...
    def hkeys(self, name: str) -> list[str]: ...
    def hgetall(self, name: str) -> dict[str, str]: ...
    def hdel(self, name: str, *keys: str) -> int: ...
    def sadd(self, name: str, *values: str) -> int: ...
    def srem(self, name: str, *values: str) -> int: ...
    def smembers(self, name: str) -> list[str]: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> bool: ...
    def delete(self, *keys: str) -> int: ...
    def expire(self, key: str, ttl_seconds: float) -> bool: ...
    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]: ...


class Query(Protocol):
    """Reads. None may scan the whole store, and none returns a record whose ``expires_at`` <= ``now_ms``."""

    def recent(self, count: int, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """The newest ``count`` records, newest first."""
        ...

    def by_run(self, run_id: str, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """Every record of one run, in the order they were logged."""
        ...

    def search_text(
        self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """Full-text search over stored memories' text, best first, each with a relevance in [0, 1]."""
        ...

    def iter_records(self, *, now_ms: int, log_type: str | None = None) -> Iterator[EncodedRecord]:
        """Every live record, oldest first, streamed in batches (for export)."""
        ...

    def stats(self, *, now_ms: int) -> BackendStats: ...


class VectorQuery(Protocol):
    """Search by embedding. Served when ``Capability.VECTOR_SEARCH`` is declared."""

    def vector_space(self, embedder: str, dimension: int) -> None:
        """Record which embedder the store's vectors come from, or check it: raise ``VectorSpaceMismatch`` when the
        store already holds vectors of another embedder or dimension. Called once when a logger starts."""
        ...

    def search_vector(
        self, vector: bytes, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """Stored memories nearest to ``vector`` (packed like ``EncodedRecord.vector``), best first, with every filter
        applied before the top ``limit`` are chosen, each with its similarity (``orka_memory.vectors.similarity``)."""
        ...


@runtime_checkable
class Backend(Store, KeyValue, Query, Protocol):
    """A storage engine, registered by name through ``orka_memory_register_backends``."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    settings_model: ClassVar[type[BaseModel]]
    # A compatible logger class (such as ``RedisMemoryLogger``) the factory returns for this backend; None: the
    # plain ``MemoryLogger``.
    logger_class: ClassVar[type[MemoryLogger] | None]

    @classmethod
    def open(cls, settings: Any) -> Backend:
        """Connect with this backend's settings section; raise ``BackendUnavailable`` naming where and why.

        Usually returns an instance of ``cls``; a backend may hand over to another one instead (``redisstack``
        returns a plain ``redis`` backend on a server without the search module), and the factory builds the
        logger for whatever it returns."""
        ...

    def ping(self) -> None:
        """Raise ``BackendUnavailable`` when the engine does not answer."""
        ...

    def describe(self) -> str:
        """Where the data lives, with secrets masked (for messages, ``stats`` and ``plugins``)."""
        ...

    def close(self) -> None: ...
