"""The ``redis`` backend: the event log in Redis streams, stored memories in hashes with native TTLs, the fork/join
key-value API on Redis's own hashes, sets and strings.

How the guarantees are met (``README.md`` has the full layout):

- Writes: one writer batch is one pipeline, one round trip: ``append.lua`` stores the events, memories, blobs and
  counters of the log atomically, and ``run_index.lua`` adds the ids to each run's index. Both skip what is already
  stored, so a batch retried after a lost reply, replayed from the spool or imported twice stores each record once.
- Expiry: events go to one stream per memory type and lifetime, so trimming the expired prefix of each stream
  (``XTRIM MINID``) is exact; stored memories are hashes with ``PEXPIREAT``; run indexes expire with their
  longest-lived record. Reads skip whatever expired and was not cleaned up yet.
- Reads: ``tail`` reads the newest entries of each stream (``XREVRANGE``), ``trace`` a run's index and then the
  entries by id, ``search_text`` an inverted index, ``stats`` lengths and counters; no read uses ``KEYS`` or
  ``SCAN``, each is one or two round trips whatever the size of the store.
- Errors: connection errors and timeouts are retried with backoff by the client, then raised as
  ``BackendUnavailable`` (the logger's writer spools and replays); ``WRONGTYPE`` becomes ``WrongTypeError``.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, Self, TypeVar, cast

import orjson
from orka_memory.backend import (
    BackendStats,
    BackendUnavailable,
    Blob,
    Capability,
    CleanupReport,
    EncodedRecord,
    MemoryFilter,
)
from orka_memory.record import MEMORY_TYPES
from orka_memory.settings import mask_secret
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from orka_memory_redis import layout, search
from orka_memory_redis.connection import Client, connect, translate
from orka_memory_redis.keys import Keys
from orka_memory_redis.scripts import Scripts
from orka_memory_redis.settings import RedisSettings

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger
    from pydantic import BaseModel

P = ParamSpec("P")
T = TypeVar("T")
# The backend a ``_translated`` method belongs to: RedisBackend or a backend built on it (RedisStackBackend).
B = TypeVar("B", bound="RedisBackend")

MIN_SERVER_VERSION = (7, 0)  # PEXPIREAT ... GT, used to keep run indexes alive as long as their records
PAGE = 1000  # ids per fetch call, entries per XRANGE page, runs per page when deleting their keys
CLEANUP_BUDGET = 5000  # items one cleanup call removes before it lets other clients in
CLEAR_BUDGET = 2000  # stored memories one clear call deletes
# MemoryFilter fields and the memory hash fields they compare with.
FILTER_FIELDS = ("run_id", "agent_id", "memory_type", "namespace", "session", "category")


def _translated(method: Callable[Concatenate[B, P], T]) -> Callable[Concatenate[B, P], T]:
    """Re-raise redis-py errors of ``method`` as orka-memory errors naming the server (see ``translate``). Generic
    in the backend class, so that the methods of a subclass keep their own ``self`` type."""

    def call(self: B, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            translated = translate(error, self.describe())
            if translated is None:
                raise
            raise translated from error

    functools.update_wrapper(call, method)
    return call


def _raw(reply: bytes | str) -> bytes:
    """A string reply as the bytes it is. redis-py types string replies ``bytes | str`` (a client made with
    ``decode_responses=True`` decodes them); ``connect`` never asks for that, so this backend's replies are bytes."""
    return cast(bytes, reply)


def _text(value: bytes | str | None) -> str | None:
    return None if value is None else _raw(value).decode("utf-8", "replace")


class _RunIndex:
    """What one batch adds to one run index: score/id pairs, and the latest expiry among those records."""

    def __init__(self) -> None:
        self.pairs: list[Any] = []
        self.latest = -math.inf

    def add(self, record: EncodedRecord) -> None:
        self.pairs.extend((record.created_at, record.id))
        self.latest = layout.latest(self.latest, record.expires_at)

    @property
    def expiry(self) -> str:
        """As run_index.lua takes it: epoch ms, or '' for never."""
        return "" if self.latest == math.inf else str(int(self.latest))


def _order(record: EncodedRecord) -> tuple[int, str]:
    """Log order across kinds and streams: creation time, then id (ids are time-ordered)."""
    return record.created_at, record.id


class RedisBackend:
    """``Store``, ``KeyValue`` and ``Query`` on one Redis server or Redis Cluster."""

    name: ClassVar[str] = "redis"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.EVENTS, Capability.KV, Capability.MEMORIES, Capability.TEXT_SEARCH, Capability.TTL}
    )
    settings_model: ClassVar[type[BaseModel]] = RedisSettings
    # RedisMemoryLogger; assigned in orka_memory_redis.logger, which needs this class first.
    logger_class: ClassVar[type[MemoryLogger] | None] = None

    def __init__(self, settings: RedisSettings, client: Client) -> None:
        self.settings = settings
        self.client = client
        self.keys = Keys(settings.stream_key)
        self.scripts = Scripts(self.keys)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: RedisSettings) -> Self:
        """Connect, check the server (Redis 7.0 or newer) and load the scripts. Raises ``BackendUnavailable``
        naming the server (password masked) when it cannot be reached or is too old."""
        location = describe(settings)
        try:
            client = connect(settings)
        except (RedisClusterException, RedisError) as error:
            raise translate(error, location) or BackendUnavailable(f"Redis at {location}: {error}") from error
        backend = cls(settings, client)
        try:
            backend._prepare()
        except BaseException:
            backend.close()
            raise
        return backend

    @_translated
    def _prepare(self) -> None:
        info = self.client.info("server")
        per_node = [info] if "redis_version" in info else list(info.values())  # a cluster answers per node
        for version in (str(node["redis_version"]) for node in per_node):
            if tuple(int(part) for part in version.split(".")[:2]) < MIN_SERVER_VERSION:
                needed = ".".join(map(str, MIN_SERVER_VERSION))
                raise BackendUnavailable(f"Redis at {self.describe()} runs {version}; the backend needs {needed}+")
        self.scripts.load(self.client)

    @_translated
    def ping(self) -> None:
        self.client.ping()

    def describe(self) -> str:
        return describe(self.settings)

    def close(self) -> None:
        self.client.close()

    # -- running scripts and pipelines -------------------------------------------------------------------------

    def _run(self, build: Callable[[Any], object]) -> list[Any]:
        """Execute the pipeline ``build`` fills, in one round trip (one per node on a cluster), and return its
        replies. A server that restarted has forgotten the scripts (``NOSCRIPT``): load them and run the pipeline
        once more, which is safe because every script and command sent this way is idempotent."""
        for attempt in (1, 2):
            pipeline = self.client.pipeline(transaction=False)
            build(pipeline)
            replies = pipeline.execute(raise_on_error=False)
            errors = [reply for reply in replies if isinstance(reply, Exception)]
            if not errors:
                return list(replies)
            if attempt == 1 and any(isinstance(error, NoScriptError) for error in errors):
                self.scripts.load(self.client)
                continue
            raise errors[0]
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _call(self, name: str, *args: Any) -> Any:
        """One call of a global script."""
        return self._run(lambda pipeline: self.scripts.call(pipeline, name, *args))[0]

    # -- Store -------------------------------------------------------------------------------------------------

    @_translated
    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        """Store a batch in one round trip: the log's part atomically (``append.lua``), then each run's index.
        Idempotent by record id and blob hash."""
        if not records and not blobs:
            return
        events: list[tuple[Any, ...]] = []
        memories: list[list[Any]] = []
        runs: dict[str, float] = {}  # run id -> latest expiry of its records in this batch (inf: never)
        indexes: dict[str, _RunIndex] = {}  # run index key -> what to add
        for record in records:
            if record.log_type == "memory":
                memories.append(self._memory_args(record))
            else:
                events.append(layout.event_args(record))
            if record.run_id is not None:
                runs[record.run_id] = layout.latest(runs.get(record.run_id, -math.inf), record.expires_at)
                indexes.setdefault(self.keys.run_key(record.run_id, record.log_type), _RunIndex()).add(record)
        arguments: list[Any] = [len(events), len(memories), len(blobs), len(runs)]
        for items in (events, memories, [layout.blob_args(blob) for blob in blobs]):
            for item in items:
                arguments.extend(item)
        for run_id, expiry in runs.items():
            arguments.extend((run_id, "+inf" if expiry == math.inf else int(expiry)))

        def build(pipeline: Any) -> None:
            self.scripts.call(pipeline, "append", *arguments)
            for key, index in indexes.items():
                self.scripts.index_run(pipeline, key, index.expiry, index.pairs)

        self._run(build)

    def _memory_args(self, record: EncodedRecord) -> list[Any]:
        """append.lua's arguments for one stored memory; a backend built on this one overrides it to store more
        fields in the memory's hash (``layout.memory_args``)."""
        return layout.memory_args(record)

    @_translated
    def get_blobs(self, hashes: Collection[str]) -> dict[str, Blob]:
        """The stored blobs among ``hashes``, in one round trip. An expired blob is returned until ``cleanup``
        removes it (a record being logged may just have renewed it)."""
        wanted = list(dict.fromkeys(hashes))
        if not wanted:
            return {}

        def build(pipeline: Any) -> None:
            for digest in wanted:
                pipeline.hmget(self.keys.blob + digest, "c", "b", "z", "x")

        return {
            digest: layout.blob_from_fields(digest, *fields)
            for digest, fields in zip(wanted, self._run(build), strict=True)
            if fields[1] is not None
        }

    @_translated
    def held_blobs(self, hashes: Collection[str]) -> set[str]:
        """Which of ``hashes`` are stored: one ``EXISTS`` each, in one round trip (``HeldBlobs``)."""
        wanted = list(dict.fromkeys(hashes))
        if not wanted:
            return set()

        def build(pipeline: Any) -> None:
            for digest in wanted:
                pipeline.exists(self.keys.blob + digest)

        return {digest for digest, exists in zip(wanted, self._run(build), strict=True) if exists}

    @_translated
    def delete_record(self, record_id: str) -> bool:
        reply = self._call("delete", record_id)
        if not reply:
            return False
        kind, document = reply[0].decode(), reply[1]
        run_id = orjson.loads(document)["run_id"] if kind == "memory" else layout.decode(document, b"").run_id
        if run_id is not None:
            self.client.zrem(self.keys.run_key(run_id, kind), record_id)
        return True

    @_translated
    def delete_records(self, *, log_type: str | None = None) -> int:
        """Delete every record, or every record of one log type; returns how many. Blobs stay until cleanup:
        the front-end still counts on the blobs it has sent."""
        deleted = 0
        for kind in ("log", "memory") if log_type is None else (log_type,):
            while True:
                count, more = self._call("clear", kind, CLEAR_BUDGET)
                deleted += count
                if not more:
                    break
            self._delete_run_indexes(kind)
        if log_type is None:
            self.client.delete(self.keys.runs)
        return deleted

    def _delete_run_indexes(self, kind: str) -> None:
        """Delete the run index of ``kind`` of every run in the run registry, a page at a time."""
        start = 0
        while runs := cast("list[bytes]", self.client.zrange(self.keys.runs, start, start + PAGE - 1)):  # see _raw

            def build(pipeline: Any, runs: list[bytes] = runs) -> None:
                for run_id in runs:
                    pipeline.delete(self.keys.run_key(run_id.decode(), kind))

            self._run(build)
            start += PAGE

    @_translated
    def cleanup(self, *, now_ms: int, dry_run: bool) -> CleanupReport:
        """Remove what expired at or before ``now_ms``, touching expired data only (``cleanup.lua``), in calls of
        at most ``CLEANUP_BUDGET`` items so other clients are served in between."""
        report = CleanupReport(dry_run=dry_run)
        while True:
            blobs, more, *counts = self._call("cleanup", now_ms, "1" if dry_run else "0", CLEANUP_BUDGET, *MEMORY_TYPES)
            report.blobs += blobs
            for index in range(0, len(counts), 3):
                log_type, memory_type, count = counts[index].decode(), counts[index + 1].decode(), counts[index + 2]
                if log_type == "memory":
                    report.memories += count
                else:
                    report.events += count
                if count:
                    report.by_memory_type[memory_type] = report.by_memory_type.get(memory_type, 0) + count
            if dry_run or not more:
                return report

    # -- Query -------------------------------------------------------------------------------------------------

    @_translated
    def recent(self, count: int, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """The newest ``count`` live records, newest first: events in write order, memories by created_at."""
        if count <= 0:
            return []
        kinds = ("log", "memory") if log_type is None else (log_type,)

        def build(pipeline: Any) -> None:
            for kind in kinds:
                self.scripts.call(pipeline, "recent", kind, count, now_ms)

        replies = self._run(build)
        found = [record for reply in replies for record in layout.decode_pairs(reply)]
        if len(kinds) > 1:
            found = sorted(found, key=_order, reverse=True)[:count]
        return found

    @_translated
    def by_run(self, run_id: str, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """Every live record of one run in log order: its index (one round trip to the run's node), then the
        records by id (one round trip to the log's node)."""
        kinds = ("log", "memory") if log_type is None else (log_type,)

        def read_indexes(pipeline: Any) -> None:
            for kind in kinds:
                pipeline.zrange(self.keys.run_key(run_id, kind), 0, -1)

        id_lists = self._run(read_indexes)

        def fetch(pipeline: Any) -> None:
            for kind, ids in zip(kinds, id_lists, strict=True):
                for start in range(0, len(ids), PAGE):
                    self.scripts.call(pipeline, "fetch", kind, now_ms, *ids[start : start + PAGE])

        found = [record for reply in self._run(fetch) for record in layout.decode_pairs(reply)]
        return sorted(found, key=_order) if len(kinds) > 1 else found

    @_translated
    def search_text(
        self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """BM25 over the inverted index of stored memories, every filter applied inside the script, so the
        ``limit`` results are all matches; relevance in [0, 1) (``search.relevance``). Events are not indexed:
        a filter on ``log_type="log"`` finds nothing."""
        words = search.query_words(query)
        if not words or limit <= 0 or filters.log_type not in (None, "memory"):
            return []
        wanted: dict[str, Any] = {"equal": {f: v for f in FILTER_FIELDS if (v := getattr(filters, f)) is not None}}
        if filters.min_importance is not None:
            wanted["min_importance"] = filters.min_importance
        reply = self._call("search", limit, now_ms, orjson.dumps(wanted), *words)
        return [
            (layout.decode(reply[index], reply[index + 1]), search.relevance(float(reply[index + 2])))
            for index in range(0, len(reply), 3)
        ]

    def iter_records(self, *, now_ms: int, log_type: str | None = None) -> Iterator[EncodedRecord]:
        """Every live record, oldest first (by created_at, then id), read a page at a time."""
        sources: list[Iterator[EncodedRecord]] = []
        if log_type in (None, "log"):
            sources.extend(self._iter_stream(suffix, now_ms) for suffix in self._stream_suffixes())
        if log_type in (None, "memory"):
            sources.append(self._iter_memories(now_ms))
        return heapq.merge(*sources, key=_order)

    @_translated
    def _stream_suffixes(self) -> list[str]:
        return sorted(_raw(suffix).decode() for suffix in self.client.smembers(self.keys.streams))

    def _iter_stream(self, suffix: str, now_ms: int) -> Iterator[EncodedRecord]:
        start = "-"
        while entries := self._stream_page(self.keys.stream + suffix, start):
            for _, fields in entries:
                expires_at = fields[b"x"]
                if not expires_at or int(expires_at) > now_ms:
                    yield layout.decode(fields[b"h"], fields[b"b"])
            if len(entries) < PAGE:
                return
            start = "(" + entries[-1][0].decode()

    @_translated
    def _stream_page(self, key: str, start: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """Up to ``PAGE`` entries from ``start`` on: (id, fields) pairs, in bytes (see ``_raw``). redis-py types the
        reply as possibly None, which XRANGE never answers (an empty range is an empty list)."""
        return list(cast("list[tuple[bytes, dict[bytes, bytes]]]", self.client.xrange(key, start, "+", count=PAGE)))

    def _iter_memories(self, now_ms: int) -> Iterator[EncodedRecord]:
        score, member = -math.inf, b""
        while page := self._memory_page(score, member):
            yield from self._fetch("memory", now_ms, [member for member, _ in page])
            member, score = page[-1]

    @_translated
    def _memory_page(self, score: float, member: bytes) -> list[tuple[bytes, float]]:
        """The next ids of the memory index after (score, member), in index order. Keyset pagination: a memory
        present for the whole export is returned once even while others are added or deleted."""
        offset = 0
        while True:
            page = cast(  # see _raw; with scores: (member, score) pairs
                "list[tuple[bytes, float]]",
                self.client.zrangebyscore(self.keys.memories, score, "+inf", start=offset, num=PAGE, withscores=True),
            )
            after = [(m, s) for m, s in page if s > score or m > member]  # equal scores sort by member bytes
            if after or len(page) < PAGE:
                return after
            offset += PAGE

    @_translated
    def _fetch(self, kind: str, now_ms: int, ids: list[bytes]) -> list[EncodedRecord]:
        return layout.decode_pairs(self._call("fetch", kind, now_ms, *ids))

    @_translated
    def stats(self, *, now_ms: int) -> BackendStats:
        """Counts from stream lengths, index cardinalities and counters kept by every write (``stats.lua``), less
        what expired and awaits cleanup. ``kv_keys`` is not counted: Redis cannot tell the coordination keys from
        other keys without a scan. ``engine_bytes`` is the server's ``used_memory``."""
        streams, memories, blobs, counters, used_memory = self._call("stats", now_ms, *MEMORY_TYPES)
        stats = BackendStats(engine_bytes=used_memory, extra={"streams": {}, "cluster": self.settings.cluster})
        for index in range(0, len(streams), 3):
            suffix, length, expired = streams[index].decode(), streams[index + 1], streams[index + 2]
            memory_type = suffix.rsplit(":", 1)[0]
            stats.events += length - expired
            stats.expired_pending += expired
            stats.by_memory_type[memory_type] = stats.by_memory_type.get(memory_type, 0) + length - expired
            stats.extra["streams"][self.keys.stream + suffix] = length
        for index in range(0, len(memories), 3):
            memory_type, live, expired = memories[index].decode(), memories[index + 1], memories[index + 2]
            stats.memories += live
            stats.expired_pending += expired
            if live:
                stats.by_memory_type[memory_type] = stats.by_memory_type.get(memory_type, 0) + live
        stats.blobs = blobs[0] - blobs[1]
        totals = {counters[i].decode(): int(counters[i + 1]) for i in range(0, len(counters), 2)}
        stats.raw_bytes = sum(value for name, value in totals.items() if name.endswith("_raw"))
        stats.stored_bytes = sum(value for name, value in totals.items() if name.endswith("_stored"))
        return stats

    # -- KeyValue: Redis's own commands on the caller's key names ----------------------------------------------

    @_translated
    def hset(self, name: str, key: str, value: str) -> int:
        return int(self.client.hset(name, key, value))

    @_translated
    def hget(self, name: str, key: str) -> str | None:
        return _text(self.client.hget(name, key))

    @_translated
    def hkeys(self, name: str) -> list[str]:
        """Field names, sorted (deterministic, as on every backend)."""
        return sorted(_raw(field).decode() for field in self.client.hkeys(name))

    @_translated
    def hgetall(self, name: str) -> dict[str, str]:
        """Fields and values, ordered by field name."""
        fields = cast("dict[bytes, bytes]", self.client.hgetall(name))  # see _raw
        return {key.decode(): value.decode() for key, value in sorted(fields.items())}

    @_translated
    def hdel(self, name: str, *keys: str) -> int:
        """Remove fields (the key goes with its last one); on a key of another type, ``WrongTypeError`` and
        nothing is removed (Redis checks the type before it changes anything)."""
        return int(self.client.hdel(name, *keys))

    @_translated
    def sadd(self, name: str, *values: str) -> int:
        return int(self.client.sadd(name, *values))

    @_translated
    def srem(self, name: str, *values: str) -> int:
        return int(self.client.srem(name, *values))

    @_translated
    def smembers(self, name: str) -> list[str]:
        """Members, sorted (deterministic, as on every backend)."""
        return sorted(_raw(member).decode() for member in self.client.smembers(name))

    @_translated
    def get(self, key: str) -> str | None:
        return _text(self.client.get(key))

    @_translated
    def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> bool:
        """Redis SET: replaces a key of any type; ``ttl_seconds`` sets an expiry, its absence clears one."""
        expiry = None if ttl_seconds is None else max(int(ttl_seconds * 1000), 1)
        return bool(self.client.set(key, value, px=expiry))

    @_translated
    def delete(self, *keys: str) -> int:
        """Delete keys of any type; returns how many existed (split per slot on a cluster)."""
        return int(self.client.delete(*keys))

    @_translated
    def expire(self, key: str, ttl_seconds: float) -> bool:
        return bool(self.client.pexpire(key, int(ttl_seconds * 1000)))

    @_translated
    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]:
        """Redis SCAN over the key-value keys (this backend's own keys are left out). On a cluster the cursor
        walks the primaries one after the other: ``node cursor * primaries + node index``."""
        if not self.settings.cluster:
            next_cursor, keys = self.client.scan(cursor=cursor, match=match, count=count)
            return int(next_cursor), self._visible(keys)
        client = self.client
        assert isinstance(client, RedisCluster)  # connect makes a RedisCluster exactly when settings.cluster
        primaries: Callable[[], list[ClusterNode]] = client.get_primaries  # unannotated in redis-py
        nodes = sorted(primaries(), key=lambda node: node.name)
        node_cursor, index = divmod(cursor, len(nodes))
        # A cluster's SCAN answers a cursor per node, by node name, where redis-py's annotation says one cursor.
        cursors, keys = cast(
            "tuple[dict[str, int], list[bytes | str]]",
            client.scan(cursor=node_cursor, match=match, count=count, target_nodes=nodes[index]),
        )
        node_cursor = int(cursors[nodes[index].name])
        if node_cursor:
            return node_cursor * len(nodes) + index, self._visible(keys)
        return (index + 1 if index + 1 < len(nodes) else 0), self._visible(keys)

    def _visible(self, keys: list[bytes | str]) -> list[str]:
        return [name for key in keys if not self.keys.is_internal(name := _raw(key).decode())]


def describe(settings: RedisSettings) -> str:
    """The server and key prefix, password masked: ``redis://:***@host:6379/0 (prefix orka:memory)``."""
    cluster = "cluster, " if settings.cluster else ""
    return f"{mask_secret('url', settings.url)} ({cluster}prefix {settings.stream_key})"
