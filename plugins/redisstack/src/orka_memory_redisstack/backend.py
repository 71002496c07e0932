"""The ``redisstack`` backend: the redis backend, plus a RediSearch index over its stored-memory hashes for search by
vector (HNSW) and by text, every filter inside the query.

It is a ``RedisBackend``: the event log (streams), the key-value API, the memory hashes with their native TTLs,
cleanup, export and stats are the redis backend's own code, unchanged. What this class adds:

- the fields the index reads, in each memory hash (``_memory_args``; see ``index.py``). The redis backend's own
  inverted index is not written: RediSearch indexes the text itself;
- the index, created or checked when a logger starts (``vector_space``), with the embedder's identity and dimension
  recorded next to it, so vectors of different embedders are never compared;
- ``search_vector`` and ``search_text``, one ``FT.SEARCH`` each (``commands.py``);
- on a server without the search module, ``open`` returns a plain ``RedisBackend`` with a warning: the factory
  then builds a ``RedisMemoryLogger``, whose ``search_memories`` searches by text.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from orka_memory.backend import Capability, EncodedRecord, MemoryFilter, VectorSpaceMismatch
from orka_memory.settings import ConfigurationError
from orka_memory.vectors import pack, similarity_from_distance
from orka_memory_redis import layout, search
from orka_memory_redis.backend import RedisBackend, _translated
from orka_memory_redis.connection import Client
from redis.exceptions import ResponseError

from orka_memory_redisstack import commands
from orka_memory_redisstack.index import (
    EXPIRY_FIELD,
    NEVER,
    TEXT_FIELD,
    VECTOR_FIELD,
    IndexSchema,
    IndexSchemaMismatch,
)
from orka_memory_redisstack.settings import RedisStackSettings

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger
    from pydantic import BaseModel

log = logging.getLogger("orka_memory")

INDEX_POLL_S = 0.05  # how often a (re)built index is checked while RediSearch indexes the existing memories
Hit = tuple[EncodedRecord, float]


class SearchModuleMissingWarning(UserWarning):
    """The server has no search module (plain Redis): the redisstack backend runs as the redis backend."""


def _no_such_index(error: ResponseError) -> bool:
    message = str(error).lower()
    return "no such index" in message or "unknown index name" in message


def _best_first(hits: list[Hit]) -> list[Hit]:
    """Highest score first; ties go to the newest memory (ids are time-ordered), as on the other backends."""
    return sorted(hits, key=lambda hit: (hit[1], hit[0].created_at, hit[0].id), reverse=True)


class RedisStackBackend(RedisBackend):
    """``RedisBackend`` with a RediSearch index over its stored memories (``VectorQuery`` and ``search_text``)."""

    name: ClassVar[str] = "redisstack"
    capabilities: ClassVar[frozenset[Capability]] = RedisBackend.capabilities | {Capability.VECTOR_SEARCH}
    settings_model: ClassVar[type[BaseModel]] = RedisStackSettings
    # RedisStackMemoryLogger; assigned in orka_memory_redisstack.logger, which needs this class first.
    logger_class: ClassVar[type[MemoryLogger] | None] = None
    settings: RedisStackSettings

    def __init__(self, settings: RedisStackSettings, client: Client) -> None:
        super().__init__(settings, client)
        self.space_key = self.keys.global_key("vector-space")  # hash: embedder, dimension
        self.schema: IndexSchema | None = None  # the index in use, known once vector_space has run

    @classmethod
    # Its own settings class, and it may hand over to the plain redis backend: not the parent's signature.
    def open(cls, settings: RedisStackSettings) -> RedisBackend:  # type: ignore[override]
        """Connect as the redis backend does. On a server without the search module, warn and return a plain
        ``RedisBackend`` on the same connection: everything but vector search works, text search included.

        Refuses ``cluster = true`` (checked here, not in the settings: the factory gives every section the
        ``cluster`` argument meant for the redis backend): Redis Stack's search module indexes the keys of one
        server, and Redis Cluster needs a coordinator Redis Stack does not ship, so a cluster would search one
        node's part of the memories and say nothing."""
        if settings.cluster:
            raise ConfigurationError("the redisstack backend needs one Redis Stack server; use the redis backend on a "
                                     "cluster")  # fmt: skip
        backend = super().open(settings)
        try:
            searchable = backend._has_search()
        except BaseException:
            backend.close()
            raise
        if searchable:
            return backend
        warnings.warn(
            f"orka-memory: Redis at {backend.describe()} has no search module (it is not Redis Stack), so the "
            "redisstack backend runs as the redis backend: no vector index, text search by its inverted index.",
            SearchModuleMissingWarning,
            stacklevel=3,
        )
        return RedisBackend(settings, backend.client)

    @_translated
    def _has_search(self) -> bool:
        """Whether the server knows the search module's commands (no admin rights needed, unlike MODULE LIST)."""
        try:
            self._command("FT._LIST")
        except ResponseError as error:
            if "unknown command" in str(error).lower():
                return False
            raise
        return True

    def _command(self, *args: Any) -> Any:
        """``execute_command``, for the search module's commands redis-py has no method for here. redis-py leaves
        it unannotated, and strict mypy refuses calls to unannotated functions; the reply's shape is the command's."""
        execute: Callable[..., Any] = self.client.execute_command
        return execute(*args)

    # -- the index and the vector space ------------------------------------------------------------------------

    def _schema(self, dimension: int) -> IndexSchema:
        settings = self.settings
        return IndexSchema(
            settings.index_name, self.keys.memory, dimension, settings.enable_hnsw, settings.vector_params
        )

    @_translated
    def vector_space(self, embedder: str, dimension: int) -> None:
        """Record the embedder of the stored vectors, or check it (as the file backend does: another embedder is
        refused while vectors of the recorded one exist), then create the index for its dimension, or check the
        existing one (``IndexSchemaMismatch`` unless ``force_recreate_index``)."""
        expected = self.settings.vector_dim
        if expected is not None and expected != dimension:
            raise ConfigurationError(
                f"vector_dim is {expected}, but embedder {embedder!r} makes {dimension}-dimensional vectors. Unset "
                f"vector_dim (the index takes the embedder's dimension), or choose an embedder of {expected} "
                f"dimensions (the hashing embedder: embedder_options = {{dimension = {expected}}})."
            )
        # Bytes (see orka_memory_redis.backend._raw), both or neither: one HSET writes them (below).
        stored = cast("list[bytes | None]", self.client.hmget(self.space_key, "embedder", "dimension"))
        recorded = (stored[0].decode(), int(cast(bytes, stored[1]))) if stored[0] is not None else None
        rebuild = False
        if recorded is not None and recorded != (embedder, dimension):
            previous = self._schema(recorded[1])
            self._ensure(previous, rebuild=False)
            if self._holds_vectors(previous):
                raise VectorSpaceMismatch(
                    f"Redis at {self.describe()} holds vectors from embedder {recorded[0]!r} ({recorded[1]} "
                    f"dimensions), but this logger embeds with {embedder!r} ({dimension} dimensions), and vectors of "
                    f"different embedders cannot be compared. Set the embedder setting to {recorded[0]!r} "
                    f"(ORKA_MEMORY_EMBEDDER={recorded[0]}) for this store, or use a new store for {embedder!r} "
                    "(another stream_key and index_name, or another database)."
                )
            rebuild = True  # an index of the old dimension holding no vectors: nothing is lost by rebuilding it
        schema = self._schema(dimension)
        self._ensure(schema, rebuild=rebuild)
        self.client.hset(self.space_key, mapping={"embedder": embedder, "dimension": dimension})
        self.schema = schema

    def _ensure(self, schema: IndexSchema, *, rebuild: bool) -> None:
        """Create the index, or check the existing one; rebuild it when it differs and ``rebuild`` or
        ``force_recreate_index`` allow. Waits until the memories already stored are indexed."""
        try:
            info = self._command("FT.INFO", schema.name)
        except ResponseError as error:
            if not _no_such_index(error):
                raise
        else:
            differences = schema.differences(info)
            if not differences:
                return
            if not (rebuild or self.settings.force_recreate_index):
                listed = "\n  ".join(differences)
                raise IndexSchemaMismatch(
                    f"index {schema.name!r} on Redis at {self.describe()} does not match what this logger needs:\n"
                    f"  {listed}\nSet force_recreate_index=True (ORKA_MEMORY_REDISSTACK__FORCE_RECREATE_INDEX=true) "
                    "to rebuild it (the memories are kept and indexed again), or set index_name to another name to "
                    "leave it as it is."
                )
            log.warning("orka-memory: rebuilding index %r: %s", schema.name, "; ".join(differences))
            self._command("FT.DROPINDEX", schema.name)  # without DD: the memory hashes stay
        try:
            self._command(*schema.create_command())
        except ResponseError as error:
            if "already exists" not in str(error).lower():
                raise
            self._ensure(schema, rebuild=False)  # another process created it first: check theirs
            return
        while int(self._command("FT.INFO", schema.name)[b"indexing"]):
            time.sleep(INDEX_POLL_S)

    def _holds_vectors(self, schema: IndexSchema) -> bool:
        """Whether any stored memory has a vector in ``schema``'s index (a KNN query for one)."""
        axis = pack([1.0] + [0.0] * (schema.dimension - 1))
        reply = self._command(
            "FT.SEARCH", schema.name, f"*=>[KNN 1 @{VECTOR_FIELD} $vector]", "PARAMS", 2, "vector", axis,
            "NOCONTENT", "LIMIT", 0, 1, "DIALECT", commands.DIALECT,
        )  # fmt: skip
        return bool(reply[b"results"])

    @_translated
    def ensure_index(self) -> bool:
        """Create the index again if it is gone (``FT.DROPINDEX``, ``FLUSHALL``); False before any logger recorded
        the vector space (the index's dimension is the embedder's)."""
        if self.schema is None:
            stored = self.client.hget(self.space_key, "dimension")
            if stored is None:
                return False
            self.schema = self._schema(int(stored))
        self._ensure(self.schema, rebuild=False)
        return True

    @_translated
    def index_status(self) -> dict[str, Any]:
        """The index as ``FT.INFO`` reports it: size, background indexing, failures, vector parameters."""
        schema = self._require_schema()
        info = self._command("FT.INFO", schema.name)
        return {
            "index_name": schema.name,
            "num_docs": int(info[b"num_docs"]),
            "indexing": bool(int(info[b"indexing"])),
            "percent_indexed": float(info[b"percent_indexed"]),
            "hash_indexing_failures": int(info[b"hash_indexing_failures"]),
            "vector_index_mb": float(info[b"vector_index_sz_mb"]),
            "algorithm": "HNSW" if schema.hnsw else "FLAT",
            "dimension": schema.dimension,
            **({"hnsw": schema.params.model_dump()} if schema.hnsw else {}),
        }

    def _require_schema(self) -> IndexSchema:
        if self.schema is None and not self.ensure_index():
            raise ConfigurationError(
                f"no vector index on Redis at {self.describe()} yet: it is created when a logger starts "
                "(create_memory_logger('redisstack', ...))"
            )
        return cast(IndexSchema, self.schema)

    # -- writing -----------------------------------------------------------------------------------------------

    def _memory_args(self, record: EncodedRecord) -> list[Any]:
        """The redis backend's memory hash plus the fields the index reads (``index.py``)."""
        fields: dict[str, Any] = {
            TEXT_FIELD: " ".join(search.words(record.text or "")),
            "log_type": record.log_type,
            EXPIRY_FIELD: NEVER if record.expires_at is None else record.expires_at,
        }
        if record.vector is not None:
            fields[VECTOR_FIELD] = record.vector
        return layout.memory_args(record, fields, index_words=False)

    # -- searching ---------------------------------------------------------------------------------------------

    def _search(self, command: list[Any]) -> Any:
        """Run an ``FT.SEARCH``; an index dropped behind the backend's back is created again and searched once more."""
        try:
            return self._command(*command)
        except ResponseError as error:
            if not _no_such_index(error):
                raise
        self.ensure_index()
        return self._command(*command)

    @_translated
    def search_vector(self, vector: bytes, *, filters: MemoryFilter, limit: int, now_ms: int) -> list[Hit]:
        """The ``limit`` memories nearest to ``vector`` among those passing ``filters`` (the KNN pre-filter), with
        their similarity, in one round trip."""
        if limit <= 0:
            return []
        schema = self._require_schema()
        ef_runtime = schema.params.ef_runtime if schema.hnsw else None
        command = commands.knn_command(schema.name, vector, filters, limit=limit, now_ms=now_ms, ef_runtime=ef_runtime)
        hits = commands.hits(self._search(command), commands.DISTANCE)
        return _best_first([(layout.decode(head, body), similarity_from_distance(d)) for head, body, d in hits])

    @_translated
    def search_text(self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int) -> list[Hit]:
        """RediSearch BM25 over the memories' text (folded as the redis backend folds it), every filter in the
        query, relevance in [0, 1) (``orka_memory_redis.search.relevance``), in one round trip."""
        words = search.query_words(query)
        if not words or limit <= 0:
            return []
        schema = self._require_schema()
        command = commands.text_command(schema.name, words, filters, limit=limit, now_ms=now_ms)
        hits = commands.hits(self._search(command), commands.SCORE)
        return _best_first([(layout.decode(head, body), search.relevance(score)) for head, body, score in hits])
