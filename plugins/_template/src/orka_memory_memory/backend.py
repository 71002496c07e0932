"""The ``memory`` backend: every record, blob and key in Python dicts behind one lock per named store.

It is for tests and as the template of a backend plugin. **Nothing survives the process**: a store lives in a
module-level dict, so loggers opened with the same ``name`` in one process share data (that is how the conformance
suite's restart test passes), and everything is gone when the process exits.

What a backend does, and what this one shows:

- The logger front-end hands over finished ``EncodedRecord`` batches (already serialized, deduplicated, compressed).
  A backend never decodes ``body``; it stores it and filters on the index fields beside it.
- ``append`` is idempotent by record id (the writer replays batches after failures, imports replay exports).
- Blobs are stored once per hash; a blob sent again keeps its body and takes the later expiry, ``None`` (never)
  beating any time, so a blob lives as long as the longest-lived record referring to it.
- No read returns a record whose ``expires_at`` is at or before ``now_ms``; ``cleanup`` only reclaims space.
- ``held_blobs(hashes)`` (the optional ``HeldBlobs`` protocol) is left out: the writer then asks ``get_blobs`` which
  blobs a batch refers to are still stored. An engine that can answer without reading the blobs should offer it.
- The key-value API follows Redis: a call against a key of another type raises ``WrongTypeError`` and changes
  nothing, empty hashes and sets do not exist, ``set`` replaces any type and drops the TTL.
- Every method may be called from several threads at once (the writer thread appends while callers read): here
  one ``RLock`` per store serializes everything. It is re-entrant so helpers may be called with it held.

Where a real engine must differ, the docstrings say so: this backend scans its dicts in ``stats``, ``cleanup``,
``search_text`` and ``scan``, which is fine for a test store of thousands of records and wrong for a database.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar

from orka_memory.backend import (
    BackendStats,
    Blob,
    Capability,
    CleanupReport,
    EncodedRecord,
    MemoryFilter,
    WrongTypeError,
)

from orka_memory_memory.settings import MemorySettings

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger
    from pydantic import BaseModel

# A key-value entry: a string, a hash (field -> value, in insertion order like Redis's small hashes) or a set.
KVValue = str | dict[str, str] | set[str]
_KV = TypeVar("_KV", str, dict[str, str], set[str])
_KV_TYPE_NAMES: dict[type, str] = {str: "string", dict: "hash", set: "set"}

_WORD = re.compile(r"\w+")


def _now_ms() -> int:
    """Epoch milliseconds, the unit of ``created_at``/``expires_at``; used for key-value TTLs only (reads get
    ``now_ms`` from the front-end, so one call sees one consistent moment)."""
    return time.time_ns() // 1_000_000


def _expired(expires_at: int | None, now_ms: int) -> bool:
    return expires_at is not None and expires_at <= now_ms


def _later_expiry(first: int | None, second: int | None) -> int | None:
    """The blob rule: the later expiry wins, and ``None`` (never expires) wins over any time."""
    if first is None or second is None:
        return None
    return max(first, second)


def _words(text: str | None) -> frozenset[str]:
    """The distinct lowercase words of a text: this backend's whole full-text analyzer."""
    return frozenset(_WORD.findall(text.casefold())) if text else frozenset()


def _matches(record: EncodedRecord, filters: MemoryFilter, now_ms: int) -> bool:
    """Every ``MemoryFilter`` field (``None`` means "any"), applied before ranking so the top k are all matches."""
    return (
        not _expired(record.expires_at, now_ms)
        and (filters.log_type is None or record.log_type == filters.log_type)
        and (filters.run_id is None or record.run_id == filters.run_id)
        and (filters.agent_id is None or record.agent_id == filters.agent_id)
        and (filters.memory_type is None or record.memory_type == filters.memory_type)
        and (filters.namespace is None or record.namespace == filters.namespace)
        and (filters.session is None or record.session == filters.session)
        and (filters.category is None or record.category == filters.category)
        and (filters.min_importance is None or record.importance >= filters.min_importance)
    )


class _SharedStore:
    """The data of one named store. Every ``MemoryBackend`` opened with the same name holds the same instance.

    ``records`` keeps insertion order, which is the order records were logged (one writer thread per logger
    appends its queue in order), so it doubles as the "time" index of ``recent`` and ``iter_records``. ``runs``
    and ``words`` are the secondary indexes a real engine would keep (a run_id index, a full-text index).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.records: dict[str, EncodedRecord] = {}  # id -> record, oldest first
        self.runs: dict[str, dict[str, None]] = {}  # run_id -> ids in append order (a dict as an ordered set)
        self.words: dict[str, frozenset[str]] = {}  # id -> words of a record's searchable text
        self.blobs: dict[str, Blob] = {}  # hash -> blob
        self.kv: dict[str, KVValue] = {}
        self.kv_expires: dict[str, int] = {}  # key -> epoch ms; keys without a TTL are absent


_stores: dict[str, _SharedStore] = {}
_stores_lock = threading.Lock()


def drop_store(name: str) -> bool:
    """Forget the named store and all its data (for tests that want the memory back); True if it existed.

    Backends already open on it keep working on the forgotten data; the next ``open`` starts empty.
    """
    with _stores_lock:
        return _stores.pop(name, None) is not None


class MemoryBackend:
    """An in-process backend: ``Store``, ``KeyValue`` and ``Query`` over Python dicts. For tests and templates."""

    name: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.EVENTS, Capability.KV, Capability.MEMORIES, Capability.TEXT_SEARCH, Capability.TTL}
    )
    settings_model: ClassVar[type[BaseModel]] = MemorySettings
    logger_class: ClassVar[type[MemoryLogger] | None] = None  # the plain MemoryLogger is all this backend needs

    def __init__(self, store_name: str, store: _SharedStore) -> None:
        self.store_name = store_name
        self._store = store

    # -- lifecycle -------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: MemorySettings) -> Self:
        """Bind to the named store, creating it empty the first time. A real backend connects here, creates its
        tables or indexes, and raises ``BackendUnavailable`` naming where and why when it cannot."""
        with _stores_lock:
            store = _stores.setdefault(settings.name, _SharedStore())
        return cls(settings.name, store)

    def ping(self) -> None:
        """Nothing to reach: an in-process store always answers. A real backend round-trips to its engine."""

    def describe(self) -> str:
        """Where the data lives (it names the spool file too, so two stores never share one)."""
        return f"{self.name}:{self.store_name}"

    def close(self) -> None:
        """Release nothing: the data belongs to the named store, so a logger opened later with the same name
        finds it (the in-process equivalent of reopening a database)."""

    # -- Store -------------------------------------------------------------------------------------------------

    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        """Store a batch atomically (under the lock); skip record ids already stored, so replays never duplicate."""
        store = self._store
        with store.lock:
            for blob in blobs:
                stored = store.blobs.get(blob.hash)
                if stored is None:
                    store.blobs[blob.hash] = blob
                else:  # same hash, same content: keep the stored body, extend its lifetime
                    expires_at = _later_expiry(stored.expires_at, blob.expires_at)
                    store.blobs[blob.hash] = dataclasses.replace(stored, expires_at=expires_at)
            for record in records:
                if record.id in store.records:
                    continue
                store.records[record.id] = record
                if record.run_id is not None:
                    store.runs.setdefault(record.run_id, {})[record.id] = None
                if record.text:
                    store.words[record.id] = _words(record.text)

    def get_blobs(self, hashes: Collection[str]) -> dict[str, Blob]:
        """The stored blobs among ``hashes``. An expired blob is still returned until ``cleanup`` reclaims it: no
        live record refers to it any more, and a record logged meanwhile may have renewed it."""
        with self._store.lock:
            return {digest: self._store.blobs[digest] for digest in hashes if digest in self._store.blobs}

    def delete_record(self, record_id: str) -> bool:
        with self._store.lock:
            return self._remove_record(record_id)

    def delete_records(self, *, log_type: str | None = None) -> int:
        """Delete every record (or those of one log type). Blobs stay: ``cleanup`` reclaims them by expiry, and the
        front-end still believes the blobs it sent are stored."""
        with self._store.lock:
            doomed = [rid for rid, rec in self._store.records.items() if log_type is None or rec.log_type == log_type]
            for record_id in doomed:
                self._remove_record(record_id)
            return len(doomed)

    def cleanup(self, *, now_ms: int, dry_run: bool) -> CleanupReport:
        """Remove records, blobs and keys that expired at or before ``now_ms``; on a dry run only count them.

        This scans everything. A real engine finds expired data through an index on ``expires_at`` (or lets the
        engine expire it natively and only reports), never by reading live data.
        """
        report = CleanupReport(dry_run=dry_run)
        store = self._store
        with store.lock:
            for record in [r for r in store.records.values() if _expired(r.expires_at, now_ms)]:
                if record.log_type == "memory":
                    report.memories += 1
                else:
                    report.events += 1
                report.by_memory_type[record.memory_type] = report.by_memory_type.get(record.memory_type, 0) + 1
                if not dry_run:
                    self._remove_record(record.id)
            for digest in [h for h, blob in store.blobs.items() if _expired(blob.expires_at, now_ms)]:
                report.blobs += 1
                if not dry_run:
                    del store.blobs[digest]
            for key in [k for k, at in store.kv_expires.items() if at <= now_ms]:
                report.kv_keys += 1
                if not dry_run:
                    self._kv_remove(key)
        return report

    def _remove_record(self, record_id: str) -> bool:
        """Remove a record and its index entries (call with the lock held)."""
        store = self._store
        record = store.records.pop(record_id, None)
        if record is None:
            return False
        store.words.pop(record_id, None)
        if record.run_id is not None:
            run = store.runs.get(record.run_id)
            if run is not None:
                run.pop(record_id, None)
                if not run:
                    del store.runs[record.run_id]
        return True

    # -- Query -------------------------------------------------------------------------------------------------

    def recent(self, count: int, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """The newest ``count`` live records, newest first: walks insertion order backwards and stops early."""
        found: list[EncodedRecord] = []
        if count <= 0:
            return found
        with self._store.lock:
            for record in reversed(self._store.records.values()):
                if _expired(record.expires_at, now_ms) or (log_type is not None and record.log_type != log_type):
                    continue
                found.append(record)
                if len(found) == count:
                    break
        return found

    def by_run(self, run_id: str, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """Every live record of one run, in the order it was appended, through the run index."""
        with self._store.lock:
            ids = self._store.runs.get(run_id, {})
            records = (self._store.records[record_id] for record_id in ids)
            return [
                record
                for record in records
                if not _expired(record.expires_at, now_ms) and (log_type is None or record.log_type == log_type)
            ]

    def search_text(
        self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """Word-overlap search: relevance = the share of the query's distinct words found in the text, in [0, 1].

        Filters apply before ranking, so ``limit`` results are all matches; records sharing no word with the query
        (and every record, for a query without words) are not results. Ties go to the newest record. A real
        engine uses its full-text index (SQLite FTS5, RediSearch) and normalizes the engine's score into [0, 1].
        """
        wanted = _words(query)
        if not wanted or limit <= 0:
            return []
        hits: list[tuple[EncodedRecord, float]] = []
        with self._store.lock:
            for record_id, words in reversed(self._store.words.items()):  # newest first, so ties keep that order
                record = self._store.records[record_id]
                if not _matches(record, filters, now_ms):
                    continue
                shared = len(wanted & words)
                if shared:
                    hits.append((record, shared / len(wanted)))
        hits.sort(key=lambda hit: hit[1], reverse=True)  # stable: equal scores stay newest first
        return hits[:limit]

    def iter_records(self, *, now_ms: int, log_type: str | None = None) -> Iterator[EncodedRecord]:
        """Every live record, oldest first. The matching records are copied under the lock and yielded after it is
        released, so a slow consumer never blocks writers; a real engine pages with a cursor (``id > last``)."""
        with self._store.lock:
            live = [
                record
                for record in self._store.records.values()
                if not _expired(record.expires_at, now_ms) and (log_type is None or record.log_type == log_type)
            ]
        yield from live

    def stats(self, *, now_ms: int) -> BackendStats:
        """Counts by iterating over everything. Fine for a test store; a real engine must not scan: it keeps counters
        updated at write time or asks its engine's metadata (``BackendStats`` says so)."""
        stats = BackendStats()
        store = self._store
        with store.lock:
            for record in store.records.values():
                if _expired(record.expires_at, now_ms):
                    stats.expired_pending += 1
                    continue
                if record.log_type == "memory":
                    stats.memories += 1
                else:
                    stats.events += 1
                stats.by_memory_type[record.memory_type] = stats.by_memory_type.get(record.memory_type, 0) + 1
                stats.raw_bytes += record.raw_size
                stats.stored_bytes += len(record.body)
            for blob in store.blobs.values():
                if not _expired(blob.expires_at, now_ms):
                    stats.blobs += 1
                    stats.raw_bytes += blob.raw_size
                    stats.stored_bytes += len(blob.body)
            stats.kv_keys = sum(1 for key in store.kv if self._kv_live(key, now_ms) is not None)
        return stats

    # -- KeyValue (Redis semantics) ----------------------------------------------------------------------------

    def _kv_live(self, key: str, now_ms: int) -> KVValue | None:
        """The value of a key that has not expired (call with the lock held). Expired keys read as absent and are
        left for ``cleanup`` to count and remove, like Redis's lazy expiry plus its active sweep."""
        at = self._store.kv_expires.get(key)
        if at is not None and at <= now_ms:
            return None
        return self._store.kv.get(key)

    def _kv_read(self, key: str, kind: type[_KV]) -> _KV | None:
        """A live value of ``kind``, or None when absent; ``WrongTypeError`` when the key holds another type."""
        value = self._kv_live(key, _now_ms())
        if value is None:
            return None
        if not isinstance(value, kind):
            raise WrongTypeError(
                f"WRONGTYPE: key {key!r} holds a {_KV_TYPE_NAMES[type(value)]}, not a {_KV_TYPE_NAMES[kind]}"
            )
        return value

    def _kv_write(self, key: str, kind: type[_KV]) -> _KV:
        """The value of ``kind`` to modify in place, created empty (and without a TTL) when the key is absent."""
        value = self._kv_read(key, kind)
        if value is None:
            self._kv_remove(key)  # an expired key is replaced, TTL included
            value = kind()
            self._store.kv[key] = value
        return value

    def _kv_remove(self, key: str) -> bool:
        """Remove a key and its TTL; True when it existed (expired or not)."""
        self._store.kv_expires.pop(key, None)
        return self._store.kv.pop(key, None) is not None

    def hset(self, name: str, key: str, value: str) -> int:
        """Set one field; 1 when the field is new, 0 when it was replaced."""
        with self._store.lock:
            fields = self._kv_write(name, dict)
            added = key not in fields
            fields[key] = value
            return int(added)

    def hget(self, name: str, key: str) -> str | None:
        with self._store.lock:
            fields = self._kv_read(name, dict)
            return None if fields is None else fields.get(key)

    def hkeys(self, name: str) -> list[str]:
        """Field names in the order they were first set."""
        with self._store.lock:
            return list(self._kv_read(name, dict) or {})

    def hgetall(self, name: str) -> dict[str, str]:
        with self._store.lock:
            return dict(self._kv_read(name, dict) or {})

    def hdel(self, name: str, *keys: str) -> int:
        """Remove fields (never the other fields); the key disappears with its last field, as in Redis."""
        with self._store.lock:
            fields = self._kv_read(name, dict)
            if fields is None:
                return 0
            removed = sum(1 for key in set(keys) if fields.pop(key, None) is not None)
            if not fields:
                self._kv_remove(name)
            return removed

    def sadd(self, name: str, *values: str) -> int:
        """Add members; returns how many were new."""
        with self._store.lock:
            members = self._kv_write(name, set)
            before = len(members)
            members.update(values)
            return len(members) - before

    def srem(self, name: str, *values: str) -> int:
        """Remove members; the key disappears with its last member."""
        with self._store.lock:
            members = self._kv_read(name, set)
            if members is None:
                return 0
            before = len(members)
            members.difference_update(values)
            removed = before - len(members)
            if not members:
                self._kv_remove(name)
            return removed

    def smembers(self, name: str) -> list[str]:
        """Members, sorted (Redis gives no order; sorting makes results reproducible)."""
        with self._store.lock:
            return sorted(self._kv_read(name, set) or ())

    def get(self, key: str) -> str | None:
        with self._store.lock:
            return self._kv_read(key, str)

    def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> bool:
        """Replace the key whatever it held, dropping its old TTL; ``ttl_seconds`` gives it a new one."""
        with self._store.lock:
            self._kv_remove(key)
            self._store.kv[key] = value
            if ttl_seconds is not None:
                self._store.kv_expires[key] = _now_ms() + int(ttl_seconds * 1000)
            return True

    def delete(self, *keys: str) -> int:
        """Delete keys of any type; returns how many existed (expired keys do not count)."""
        with self._store.lock:
            now = _now_ms()
            live = [key for key in set(keys) if self._kv_live(key, now) is not None]
            for key in live:
                self._kv_remove(key)
            return len(live)

    def expire(self, key: str, ttl_seconds: float) -> bool:
        """Give a live key a TTL (a TTL of 0 or less deletes it at once); False when the key does not exist."""
        with self._store.lock:
            now = _now_ms()
            if self._kv_live(key, now) is None:
                return False
            if ttl_seconds <= 0:
                self._kv_remove(key)
            else:
                self._store.kv_expires[key] = now + int(ttl_seconds * 1000)
            return True

    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]:
        """One page of live keys: the cursor is an index into the sorted key list, 0 starts and ends a scan.

        As in Redis, ``match`` (a glob, matched with ``fnmatch.fnmatchcase``) filters a page after it is taken, so a
        page may be short or empty before the scan ends. Keys added or deleted during a scan shift the indexes, so
        such keys may be missed or seen twice; keys present throughout are each returned exactly once when the
        key set does not change. Sorting every call is a scan of all keys: a real engine uses its own cursor.
        """
        with self._store.lock:
            now = _now_ms()
            keys = sorted(key for key in self._store.kv if self._kv_live(key, now) is not None)
        start = max(cursor, 0)
        page = keys[start : start + max(count, 1)]
        next_cursor = start + len(page)
        if next_cursor >= len(keys):
            next_cursor = 0
        if match is not None:
            page = [key for key in page if fnmatchcase(key, match)]
        return next_cursor, page
