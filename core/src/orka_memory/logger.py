"""The logger front-end: OrKa's ``BaseMemoryLogger`` API over any backend.

A ``MemoryLogger`` holds a backend, an encoder (dedup, JSON, codec), a decay policy and a background writer, each
small and testable alone. It is thread-safe: any number of threads may log, read and use the KV API at once.

Reads return records in the order they were logged: ``tail(n)`` gives the newest ``n`` events, oldest first and
newest last (like the Unix ``tail``), and ``trace(run_id)`` a run's events in order.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import orjson

from orka_memory import exporting
from orka_memory.allocator import keep_freed_memory
from orka_memory.backend import Backend, Capability, CapabilityError, EncodedRecord, MemoryFilter, VectorQuery
from orka_memory.codecs import CodecRegistry
from orka_memory.decay import DecayConfig, DecayPolicy, preset_overrides
from orka_memory.embedders import Embedder, create_embedder
from orka_memory.encoding import RecordEncoder
from orka_memory.plugins import PluginManager, get_plugin_manager
from orka_memory.record import MemoryRecord, compat_dict_of, new_record_id, now_ms
from orka_memory.results import MEMORY_KEY_PREFIX, blend, memory_result
from orka_memory.serialization import to_jsonable
from orka_memory.settings import CoreSettings
from orka_memory.spool import Spool, spool_path
from orka_memory.vectors import normalize, pack
from orka_memory.writer import Writer

log = logging.getLogger("orka_memory")

FORK_KEY_PREFIXES = (
    "fork_group:",
    "fork_group_mapping:",
    "fork_agent_to_group",
    "waitfor:",
    "fork_group_results:",
    "join_retry_counts",
    "join_outputs",
    "fork_branch:",
    "agent_result:",
)

_open_loggers: weakref.WeakSet[MemoryLogger] = weakref.WeakSet()


@atexit.register
def _close_open_loggers() -> None:
    """Loggers a program forgot to close still deliver what they queued."""
    for memory_logger in list(_open_loggers):
        memory_logger.close()


def effective_decay(settings: CoreSettings, decay_config: dict[str, Any] | None = None) -> DecayConfig:
    """Decay settings after the preset and an explicit OrKa-style ``decay_config`` dict (merged one level deep)."""
    merged = settings.decay.model_dump()
    if settings.memory_preset:
        merged.update(preset_overrides(settings.memory_preset))
    for key, value in (decay_config or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return DecayConfig.model_validate(merged)


class MemoryLogger:
    """OrKa's memory-logger API (``BaseMemoryLogger``) on a pluggable backend. Use as a context manager, or call
    ``close()``: it flushes what is queued and releases the backend."""

    def __init__(
        self,
        backend: Backend,
        settings: CoreSettings,
        *,
        decay_config: dict[str, Any] | None = None,
        plugins: PluginManager | None = None,
    ) -> None:
        plugins = plugins or get_plugin_manager()
        self.backend = backend
        self.settings = settings
        self.decay_config = effective_decay(settings, decay_config)
        self.decay = DecayPolicy(self.decay_config)
        self.codecs = CodecRegistry(plugins.codecs())
        self.embedder = self._vector_embedder(plugins)
        self.encoder = RecordEncoder(
            self.codecs,
            codec="none" if Capability.COMPRESSED_TRANSPORT in backend.capabilities else settings.codec,
            compress_threshold=settings.compress_threshold,
            dedup=settings.dedup,
            blob_threshold=settings.blob_threshold_chars,
            embedder=self.embedder,
        )
        self._serialize_hook = plugins.serialize_hook()
        self._recent: deque[MemoryRecord] = deque(maxlen=settings.memory_buffer or None)
        keep_freed_memory(settings.malloc_trim_threshold)
        self.writer = Writer(
            backend,
            self.encoder,
            Spool(spool_path(settings.spool_dir, backend.name, backend.describe())),
            queue_size=settings.queue_size,
            batch_size=settings.batch_size,
            retry_attempts=settings.retry_attempts,
            retry_backoff=settings.retry_backoff_seconds,
        )
        self._closed = False
        self._decay_stop = threading.Event()
        self._decay_thread: threading.Thread | None = None
        if self.decay_config.enabled:
            self._start_decay_scheduler()
        _open_loggers.add(self)

    @classmethod
    def attach(
        cls,
        backend: Backend,
        settings: CoreSettings,
        *,
        decay_config: dict[str, Any] | None = None,
        plugins: PluginManager | None = None,
    ) -> MemoryLogger:
        """A logger of this class over an opened backend, bypassing a compatible subclass's own constructor
        (``RedisMemoryLogger(redis_url=...)`` builds its backend itself; the factory has built it already)."""
        logger = cls.__new__(cls)
        MemoryLogger.__init__(logger, backend, settings, decay_config=decay_config, plugins=plugins)
        return logger

    def _vector_embedder(self, plugins: PluginManager) -> Embedder | None:
        """The configured embedder when the backend searches by vector (checked against the store's vectors)."""
        if Capability.VECTOR_SEARCH not in self.backend.capabilities:
            return None
        embedder = create_embedder(plugins.embedders(), self.settings.embedder, self.settings.embedder_options)
        cast(VectorQuery, self.backend).vector_space(embedder.identity, embedder.dimension)
        return embedder

    # -- identity ----------------------------------------------------------------------------------------------

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} backend={self.backend.name} at {self.backend.describe()}>"

    def _require(self, capability: Capability, operation: str) -> None:
        if capability not in self.backend.capabilities:
            offered = ", ".join(sorted(self.backend.capabilities))
            raise CapabilityError(
                f"backend {self.backend.name!r} does not support {capability.value} ({operation}); it offers: "
                f"{offered}. Choose a backend that does (`orka-memory plugins` lists them)."
            )

    # -- writing -----------------------------------------------------------------------------------------------

    def log(
        self,
        agent_id: str,
        event_type: str,
        payload: Any,
        step: int | None = None,
        run_id: str | None = None,
        fork_group: str | None = None,
        parent: str | None = None,
        previous_outputs: Any = None,
        agent_decay_config: dict[str, Any] | None = None,
        log_type: str = "log",
    ) -> None:
        """Record an orchestration event. Returns at once; raises ValueError only for a missing agent_id."""
        if not agent_id:
            raise ValueError("agent_id is required: pass the id of the agent or node that produced this event")
        if log_type not in ("log", "memory"):
            raise ValueError(f"log_type must be 'log' or 'memory', not {log_type!r}")
        agent_id, event_type = str(agent_id), str(event_type)
        created = now_ms()
        payload = to_jsonable(payload, hook=self._serialize_hook)
        previous = to_jsonable(previous_outputs, hook=self._serialize_hook) if previous_outputs else None
        metadata: dict[str, Any] = {}
        content = None
        if type(payload) is dict:
            if "metadata" in payload and type(payload["metadata"]) is dict:
                metadata = payload["metadata"]
            if log_type == "memory":
                content = payload.get("content")
        cls = self.decay.classify(
            agent_id=agent_id,
            event_type=event_type,
            payload=payload,
            log_type=log_type,
            created_at=created,
            agent_config=agent_decay_config,
        )
        self._submit(
            MemoryRecord(  # positional, in field order: 19 keyword arguments would cost 1.3 µs more per call
                new_record_id(created),
                log_type,
                agent_id,
                event_type,
                created,
                run_id,
                step,
                fork_group,
                parent,
                payload,
                previous,
                content,
                metadata,
                _metadata_str(metadata, "namespace") if metadata else None,
                _metadata_str(metadata, "session") if metadata else None,
                cls.importance,
                cls.memory_type,
                cls.category,
                cls.expires_at,
            )
        )

    def log_memory(
        self,
        content: str,
        node_id: str,
        trace_id: str,
        metadata: dict[str, Any] | None = None,
        importance_score: float = 1.0,
        memory_type: str = "short_term",
        expiry_hours: float | None = None,
        content_vector: list[float] | None = None,
    ) -> str:
        """Store a memory agents can recall later; returns its key (``orka_memory:<id>``).

        On a backend with vector search the writer embeds ``content`` with the configured embedder, unless
        ``content_vector`` gives the embedding (it must have the embedder's dimension); elsewhere it is ignored.
        """
        if not node_id:
            raise ValueError("node_id is required: pass the id of the node storing this memory")
        if memory_type not in ("short_term", "long_term"):
            raise ValueError(f"memory_type must be 'short_term' or 'long_term', not {memory_type!r}")
        self._require(Capability.MEMORIES, "log_memory")
        vector = None
        if content_vector is not None and self.embedder is not None:
            vector = normalize(content_vector, self.embedder.dimension)
        created = now_ms()
        meta = to_jsonable(metadata or {}, hook=self._serialize_hook)
        meta.setdefault("log_type", "memory")
        meta.setdefault("category", "stored")
        cls = self.decay.classify(
            agent_id=node_id,
            event_type=str(meta.get("event_type", "write")),
            payload=None,
            log_type="memory",
            created_at=created,
            memory_type=memory_type,
            importance=float(importance_score),
            expiry_hours=expiry_hours,
        )
        record = MemoryRecord(
            id=new_record_id(created),
            log_type="memory",
            agent_id=str(node_id),
            event_type=str(meta.get("event_type", "write")),
            created_at=created,
            run_id=trace_id,
            content=str(content),
            metadata=meta,
            namespace=_metadata_str(meta, "namespace"),
            session=_metadata_str(meta, "session"),
            importance=cls.importance,
            memory_type=cls.memory_type,
            category="stored",
            expires_at=cls.expires_at,
            vector=vector,
        )
        self._submit(record)
        return MEMORY_KEY_PREFIX + record.id

    def append_record(self, record: MemoryRecord) -> None:
        """Store an already-built record (imports): it keeps its id, so importing twice stores it once."""
        self._submit(record)

    def _submit(self, record: MemoryRecord) -> None:
        self.writer.metrics.records_logged += 1
        self.writer.put(record)
        self._remember(record)
        if self.settings.durability == "event":
            self.writer.flush()

    def _remember(self, record: MemoryRecord) -> None:
        if self.settings.memory_buffer:
            self._recent.append(record)  # deque.append is atomic; dicts are built only when `memory` is read

    @property
    def memory(self) -> list[dict[str, Any]]:
        """OrKa's in-process trace: this logger's newest ``memory_buffer`` records, oldest first, as dicts
        (``previous_outputs`` only with ``debug_keep_previous_outputs``)."""
        entries = [record.to_compat_dict() for record in list(self._recent)]
        if not self.settings.debug_keep_previous_outputs:
            for entry in entries:
                entry.pop("previous_outputs", None)
        return entries

    def flush(self, timeout: float | None = None) -> None:
        """Return when every record logged before this call is durable (stored, or spooled while the backend is
        away). Raises TimeoutError if that takes longer than ``timeout`` seconds."""
        if not self.writer.flush(timeout):
            raise TimeoutError(f"flush did not finish within {timeout} s; {self.writer.queued} records still queued")

    # -- reading -----------------------------------------------------------------------------------------------

    def _decode(self, encoded: list[Any], resolve: bool = True) -> list[MemoryRecord]:
        return self.encoder.decode(encoded, self.backend, resolve=resolve)

    def _decode_documents(self, encoded: list[Any]) -> list[dict[str, Any]]:
        """Stored documents, references resolved: the cheaper path to compat dicts (``compat_dict_of``)."""
        return self.encoder.decode_documents(encoded, self.backend)

    def tail(self, count: int = 10) -> list[dict[str, Any]]:
        """The newest ``count`` orchestration events from the backend, oldest first (newest last)."""
        self._require(Capability.EVENTS, "tail")
        encoded = self.backend.recent(count, now_ms=now_ms(), log_type="log")
        return [compat_dict_of(document) for document in reversed(self._decode_documents(encoded))]

    def trace(self, run_id: str) -> list[dict[str, Any]]:
        """Every event of one run, in the order they were logged."""
        self._require(Capability.EVENTS, "trace")
        encoded = self.backend.by_run(run_id, now_ms=now_ms(), log_type="log")
        return [compat_dict_of(document) for document in self._decode_documents(encoded)]

    def search_memories(
        self,
        query: str,
        num_results: int = 10,
        trace_id: str | None = None,
        node_id: str | None = None,
        memory_type: str | None = None,
        min_importance: float | None = None,
        log_type: str = "memory",
        namespace: str | None = None,
        query_vector: list[float] | None = None,
    ) -> list[dict[str, Any]]:
        """Stored memories matching ``query``, best first, every filter applied inside the backend's query.

        The ``search_mode`` setting chooses the ranking: ``auto`` searches by vector where the backend can (the
        query embedded by the same embedder as the memories, or ``query_vector``) and by text elsewhere; ``hybrid``
        blends both scores. ``similarity_score`` is in [0, 1], 1 best.
        """
        self._require(Capability.MEMORIES, "search_memories")
        filters = MemoryFilter(
            run_id=trace_id,
            agent_id=node_id,
            memory_type=memory_type,
            log_type=log_type,
            namespace=namespace,
            min_importance=min_importance,
        )
        current = now_ms()
        mode = self._search_mode()
        if mode == "text":
            hits = self._search_text(query, filters, num_results, current)
        else:
            vector = self._query_vector(query, query_vector)
            hits = cast(VectorQuery, self.backend).search_vector(
                vector, filters=filters, limit=num_results, now_ms=current
            )
            hits = [(record, score) for record, score in hits if score > 0]  # 0: nothing in common
            if mode == "hybrid":
                text_hits = self._search_text(query, filters, num_results, current)
                hits = blend(hits, text_hits, self.settings.hybrid_text_weight, num_results)
        records = self._decode([encoded for encoded, _ in hits])
        return [memory_result(record, score, current) for record, (_, score) in zip(records, hits, strict=True)]

    def _search_mode(self) -> str:
        """The configured mode, ``auto`` resolved; vector and hybrid need vector search (text search is checked
        where it runs, in ``_search_text``)."""
        mode = self.settings.search_mode
        if mode == "auto":
            return "vector" if Capability.VECTOR_SEARCH in self.backend.capabilities else "text"
        if mode != "text":
            self._require(Capability.VECTOR_SEARCH, f"search_mode {mode!r}")
        return mode

    def _search_text(
        self, query: str, filters: MemoryFilter, limit: int, current: int
    ) -> list[tuple[EncodedRecord, float]]:
        self._require(Capability.TEXT_SEARCH, "search_memories by text")
        return self.backend.search_text(query, filters=filters, limit=limit, now_ms=current)

    def _query_vector(self, query: str, query_vector: list[float] | None) -> bytes:
        assert self.embedder is not None  # set whenever the backend declares VECTOR_SEARCH
        raw = query_vector if query_vector is not None else self.embedder.embed([query])[0]
        return pack(normalize(raw, self.embedder.dimension))

    def get_recent_stored_memories(self, count: int = 5) -> list[dict[str, Any]]:
        """The newest stored memories, newest first."""
        self._require(Capability.MEMORIES, "get_recent_stored_memories")
        current = now_ms()
        records = self._decode(self.backend.recent(count, now_ms=current, log_type="memory"))
        return [memory_result(record, None, current) for record in records]

    def get_all_memories(self, trace_id: str | None = None) -> list[dict[str, Any]]:
        """Every live stored memory (of one trace, if given), oldest first."""
        self._require(Capability.MEMORIES, "get_all_memories")
        current = now_ms()
        if trace_id is not None:
            encoded = self.backend.by_run(trace_id, now_ms=current, log_type="memory")
        else:
            encoded = list(self.backend.iter_records(now_ms=current, log_type="memory"))
        return [memory_result(record, None, current) for record in self._decode(encoded)]

    def delete_memory(self, key: str) -> bool:
        self._require(Capability.MEMORIES, "delete_memory")
        return self.backend.delete_record(key.removeprefix(MEMORY_KEY_PREFIX))

    def clear_all_memories(self) -> None:
        """Delete every stored memory (orchestration events stay)."""
        self._require(Capability.MEMORIES, "clear_all_memories")
        self.flush()
        self.backend.delete_records(log_type="memory")

    def ensure_index(self) -> bool:
        """Backends create their indexes when they open; True when the backend can search memories."""
        return Capability.TEXT_SEARCH in self.backend.capabilities

    def iter_records(self, log_type: str | None = None) -> Iterator[MemoryRecord]:
        """Every live record, oldest first, blob references resolved (streams in batches)."""
        batch: list[Any] = []
        for encoded in self.backend.iter_records(now_ms=now_ms(), log_type=log_type):
            batch.append(encoded)
            if len(batch) >= 500:
                yield from self._decode(batch)
                batch = []
        if batch:
            yield from self._decode(batch)

    # -- decay and stats ---------------------------------------------------------------------------------------

    def cleanup_expired_memories(self, dry_run: bool = False) -> dict[str, Any]:
        """Remove expired records, blobs and keys; report what was (or, on a dry run, would be) removed."""
        started = time.perf_counter()
        report = self.backend.cleanup(now_ms=now_ms(), dry_run=dry_run)
        if not dry_run and report.blobs:
            self.encoder.forget_blobs()
        return {
            "dry_run": dry_run,
            "deleted_count": report.total,
            "events": report.events,
            "memories": report.memories,
            "blobs": report.blobs,
            "kv_keys": report.kv_keys,
            "by_memory_type": report.by_memory_type,
            "backend": self.backend.name,
            "duration_seconds": round(time.perf_counter() - started, 6),
            "decay_enabled": self.decay_config.enabled,
        }

    def get_memory_stats(self) -> dict[str, Any]:
        """Counts from the backend (no scans) plus this process's write metrics."""
        stats = self.backend.stats(now_ms=now_ms())
        metrics = self.writer.metrics
        return {
            "backend": self.backend.name,
            "location": self.backend.describe(),
            "total_events": stats.events,
            "stored_memories": stats.memories,
            "total_entries": stats.events + stats.memories,
            "by_memory_type": stats.by_memory_type,
            "blobs": stats.blobs,
            "kv_keys": stats.kv_keys,
            "expired_entries": stats.expired_pending,
            "raw_bytes": stats.raw_bytes,
            "stored_bytes": stats.stored_bytes,
            "engine_bytes": stats.engine_bytes,
            "compression_ratio": _ratio(stats.stored_bytes, stats.raw_bytes),
            "session": {
                "logged": metrics.records_logged,
                "written": metrics.records_written,
                "spooled": metrics.records_spooled,
                "logical_bytes": metrics.logical_bytes,
                "encoded_bytes": metrics.encoded_bytes,
                "stored_bytes": metrics.stored_bytes,
                "dedup_ratio": _ratio(metrics.encoded_bytes, metrics.logical_bytes),
                "compression_ratio": _ratio(metrics.stored_bytes, metrics.encoded_bytes),
                "overall_ratio": _ratio(metrics.stored_bytes, metrics.logical_bytes),
            },
            "decay_enabled": self.decay_config.enabled,
            "decay_config": self.decay_config.model_dump(),
            **stats.extra,
        }

    def get_performance_metrics(self) -> dict[str, Any]:
        metrics = self.writer.metrics
        return {
            "backend": self.backend.name,
            "records_logged": metrics.records_logged,
            "records_written": metrics.records_written,
            "batches_written": metrics.batches_written,
            "average_batch_size": round(metrics.records_written / metrics.batches_written, 2)
            if metrics.batches_written
            else 0.0,
            "write_seconds": round(metrics.write_seconds, 6),
            "records_spooled": metrics.records_spooled,
            "records_replayed": metrics.records_replayed,
            "spool_pending": self.writer.spool.pending(),
            "retries": metrics.retries,
            "blobs_written": metrics.blobs_written,
            "blobs_resent": metrics.blobs_resent,
            "queue_depth": self.writer.queued,
            "last_error": metrics.last_error,
        }

    def _start_decay_scheduler(self) -> None:
        interval = self.decay_config.check_interval_minutes * 60

        def run() -> None:
            while not self._decay_stop.wait(interval):
                try:
                    self.cleanup_expired_memories()
                except Exception as error:  # cleanup trouble never reaches the workflow
                    log.warning("orka-memory scheduled cleanup failed: %s", error)

        self._decay_thread = threading.Thread(target=run, name="orka-memory-decay", daemon=True)
        self._decay_thread.start()

    def stop_decay_scheduler(self) -> None:
        self._decay_stop.set()
        if self._decay_thread is not None:
            self._decay_thread.join()
            self._decay_thread = None

    # -- key-value and sets (fork/join coordination) -----------------------------------------------------------

    def _kv_ttl(self, name: str) -> float | None:
        ttl = self.settings.fork_ttl_seconds
        return ttl if ttl and name.startswith(FORK_KEY_PREFIXES) else None

    def _after_write(self, name: str) -> None:
        ttl = self._kv_ttl(name)
        if ttl:
            self.backend.expire(name, ttl)

    def hset(self, name: str, key: str, value: Any) -> int:
        self._require(Capability.KV, "hset")
        added = self.backend.hset(name, str(key), _kv_str(value))
        self._after_write(name)
        return added

    def hget(self, name: str, key: str) -> str | None:
        self._require(Capability.KV, "hget")
        return self.backend.hget(name, str(key))

    def hkeys(self, name: str) -> list[str]:
        self._require(Capability.KV, "hkeys")
        return self.backend.hkeys(name)

    def hgetall(self, name: str) -> dict[str, str]:
        self._require(Capability.KV, "hgetall")
        return self.backend.hgetall(name)

    def hdel(self, name: str, *keys: str) -> int:
        self._require(Capability.KV, "hdel")
        return self.backend.hdel(name, *(str(key) for key in keys)) if keys else 0

    def sadd(self, name: str, *values: Any) -> int:
        self._require(Capability.KV, "sadd")
        added = self.backend.sadd(name, *(_kv_str(value) for value in values)) if values else 0
        self._after_write(name)
        return added

    def srem(self, name: str, *values: Any) -> int:
        self._require(Capability.KV, "srem")
        return self.backend.srem(name, *(_kv_str(value) for value in values)) if values else 0

    def smembers(self, name: str) -> list[str]:
        self._require(Capability.KV, "smembers")
        return self.backend.smembers(name)

    def get(self, key: str) -> str | None:
        self._require(Capability.KV, "get")
        return self.backend.get(key)

    def set(self, key: str, value: Any) -> bool:
        self._require(Capability.KV, "set")
        return self.backend.set(key, _kv_str(value), ttl_seconds=self._kv_ttl(key))

    def delete(self, *keys: str) -> int:
        self._require(Capability.KV, "delete")
        return self.backend.delete(*keys) if keys else 0

    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]:
        self._require(Capability.KV, "scan")
        return self.backend.scan(cursor, match, count)

    # -- files -------------------------------------------------------------------------------------------------

    def save_to_file(self, file_path: str | Path) -> None:
        """Write every live record to one JSON file in OrKa's export envelope (blobs deduplicated)."""
        self.flush()
        exporting.save_envelope(self, Path(file_path))

    @staticmethod
    def load_from_file(file_path: str | Path, resolve_blobs: bool = True) -> dict[str, Any]:
        """Read an export (envelope or legacy list); references resolve recursively unless told not to."""
        return exporting.load_envelope(Path(file_path), resolve_blobs=resolve_blobs)

    def export_jsonl(self, file_path: str | Path) -> int:
        """Stream every live record as one self-contained JSON document per line (``.zst``: compressed)."""
        self.flush()
        return exporting.export_jsonl(self, Path(file_path))

    def import_file(self, file_path: str | Path) -> int:
        """Load an export (envelope, legacy list or JSONL) into this logger's backend; returns records read."""
        count = exporting.import_file(self, Path(file_path))
        self.flush()
        return count

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Flush what is queued, stop background threads and release the backend. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.stop_decay_scheduler()
        self.writer.close()
        self.backend.close()
        _open_loggers.discard(self)

    def __enter__(self) -> MemoryLogger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


BaseMemoryLogger = MemoryLogger


def _kv_str(value: Any) -> str:
    """KV values are strings; dicts and lists are stored as JSON, bytes as UTF-8 text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list | tuple):
        return orjson.dumps(to_jsonable(value)).decode()
    return str(value)


def _metadata_str(metadata: Any, key: str) -> str | None:
    if isinstance(metadata, dict) and metadata.get(key) is not None:
        return str(metadata[key])
    return None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
