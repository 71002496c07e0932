"""The ``kafka`` backend: the event log on Kafka topics, random access on a companion backend.

Writes: every record goes to the topic of its memory type (``retention.ms`` enforces decay natively), keyed by run
id so a run's events stay ordered in one partition, with the indexed fields as headers (``wire``); acks=all and the
idempotent producer by default. Stored memories also go to the companion, which serves their search and deletion,
and the KV/set API (``companion``). Blobs go to a compacted topic keyed by hash (``keyed``).

Reads come from Kafka by assign + seek (``reading``): ``tail`` from an in-memory buffer of the newest records that
a follower thread keeps current (``recent``), a run's trace from its stretch of the partition its key maps to
(``runs``), exports from every partition. Readers drop duplicate ids (a batch the writer replays after an
unacknowledged send may be stored twice) and expired records.

Counts come from the ``<prefix>.state`` topic, where each writer publishes its running totals with every batch and
``cleanup`` its marks, so ``stats`` never reads the event topics. ``cleanup`` cannot delete single messages from a
Kafka log: it moves a per-partition mark past the expired records at the head of each partition (readers start
there) and leaves reclaiming space to retention; expired records behind a live one are hidden by every read and go
with their segment.
"""

from __future__ import annotations

import heapq
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar, cast

from orka_memory.backend import (
    Backend,
    BackendStats,
    BackendUnavailable,
    Blob,
    Capability,
    CapabilityError,
    CleanupReport,
    EncodedRecord,
    MemoryFilter,
    VectorQuery,
)
from orka_memory.record import now_ms as current_ms

from orka_memory_kafka import wire
from orka_memory_kafka.client import (
    READ_FETCH_WAIT_MS,
    STREAM_FETCH_WAIT_MS,
    ClientLibrary,
    Consumer,
    InMessage,
    OutMessage,
    Partition,
    Producer,
    client_library,
    probe,
)
from orka_memory_kafka.companion import open_companion
from orka_memory_kafka.keyed import KeyedTopic
from orka_memory_kafka.logger import KafkaMemoryLogger
from orka_memory_kafka.reading import partition_for_key, read_ranges, stream
from orka_memory_kafka.recent import Follower, RecentRecords
from orka_memory_kafka.runs import RunDirectory
from orka_memory_kafka.settings import MEMORY_TYPES, KafkaSettings
from orka_memory_kafka.topics import TopicLayout, TopicSpec, ensure_topics, topic_specs

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger
    from pydantic import BaseModel

T = TypeVar("T")
log = logging.getLogger("orka_memory.kafka")

DEDUP_WINDOW = 10_000  # ids remembered per partition while streaming an export, to drop replayed duplicates
EXPORT_CHUNK = 2_000  # messages read per partition at a time while streaming an export
COMPANION_CAPABILITIES = frozenset(
    {Capability.KV, Capability.MEMORIES, Capability.TEXT_SEARCH, Capability.VECTOR_SEARCH}
)


def _live(record: EncodedRecord, now_ms: int) -> bool:
    return record.expires_at is None or record.expires_at > now_ms


def _events(messages: Iterable[InMessage], now_ms: int, key: bytes | None = None) -> Iterator[EncodedRecord]:
    """The live orchestration events among ``messages`` (of run ``key`` if given)."""
    for m in messages:
        if key is not None and m.key != key:
            continue
        record = wire.record_from_message(m)
        if record is not None and record.log_type == "log" and _live(record, now_ms):
            yield record


def _unique(records: Iterable[EncodedRecord]) -> list[EncodedRecord]:
    """Each id once, oldest first."""
    return sorted({record.id: record for record in records}.values(), key=lambda record: record.id)


class _Prepared:
    """What exists once the topics do: their partition counts, the blob and state maps, the recent buffer."""

    def __init__(self, partitions: dict[str, int], blobs: KeyedTopic, state: KeyedTopic) -> None:
        self.partitions = partitions
        self.blobs = blobs
        self.state = state
        self.recent: RecentRecords | None = None
        self.follower: Follower | None = None
        self.runs = RunDirectory()


class _ConsumerSlot:
    """A consumer made when first needed, used by one thread at a time (``lock``, re-entrant). One that fails is
    replaced and the work tried once more: after a broker outage a new connection answers at once, where the old
    one may still be backing off."""

    def __init__(self, make: Callable[[], Consumer]) -> None:
        self.lock = threading.RLock()
        self._make = make
        self._consumer: Consumer | None = None

    def run(self, work: Callable[[Consumer], T]) -> T:
        with self.lock:
            for attempt in (1, 2):
                if self._consumer is None:
                    self._consumer = self._make()
                try:
                    return work(self._consumer)
                except BackendUnavailable:
                    self._consumer.close()
                    self._consumer = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self.lock:
            if self._consumer is not None:
                self._consumer.close()
                self._consumer = None


class KafkaBackend:
    """Events on Kafka topics; KV, stored memories and search on the companion backend."""

    name: ClassVar[str] = "kafka"
    # What the default companion (file) adds to the event log; an instance reports its own companion's.
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.EVENTS,
            Capability.KV,
            Capability.MEMORIES,
            Capability.TEXT_SEARCH,
            Capability.VECTOR_SEARCH,
            Capability.TTL,
            Capability.COMPRESSED_TRANSPORT,
        }
    )
    settings_model: ClassVar[type[BaseModel]] = KafkaSettings
    logger_class: ClassVar[type[MemoryLogger] | None] = KafkaMemoryLogger

    def __init__(self, settings: KafkaSettings, library: ClientLibrary, companion: Backend) -> None:
        self.settings = settings
        self.library = library
        self.companion = companion
        transport = {Capability.COMPRESSED_TRANSPORT} if settings.compression != "none" else set()
        self.capabilities = frozenset(  # type: ignore[misc]  # the instance narrows the class default
            {Capability.EVENTS, Capability.TTL} | transport | (companion.capabilities & COMPANION_CAPABILITIES)
        )
        self.layout = TopicLayout(settings.topic_prefix)
        self._idle_timeout = settings.request_timeout_ms / 1000
        self._admin = library.admin(settings)
        self._producer: Producer | None = None
        # Caller-thread reads, and the writer's questions about blobs: each its own consumer, so a long read (the
        # first trace of a big partition) never holds up a batch being stored.
        reader = partial(library.consumer, settings, fetch_wait_ms=READ_FETCH_WAIT_MS)
        self._reads, self._blob_checks = _ConsumerSlot(reader), _ConsumerSlot(reader)
        self._prepared: _Prepared | None = None
        self._specs: list[TopicSpec] = []
        self._prepare_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._writer_id = uuid.uuid4().hex[:16]
        self._tally: dict[str, Any] = {"events": {}, "raw_bytes": 0, "stored_bytes": 0}
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: KafkaSettings) -> Self:
        """Connect to the brokers and open the companion. Topics are prepared on first use (or by
        ``KafkaMemoryLogger``, which knows the decay lifetimes their retention follows)."""
        probe(settings)
        library = client_library(settings)
        companion = open_companion(settings)
        try:
            backend = cls(settings, library, companion)
            backend.ping()
        except BaseException:
            companion.close()
            raise
        return backend

    def prepare(self, decay_hours: dict[str, float | None] | None = None) -> None:
        """Create or verify the topics (event topics' retention from the settings, else ``decay_hours`` per memory
        type). Idempotent: the first call decides."""
        with self._prepare_lock:
            if self._prepared is not None:
                return
            self._specs = topic_specs(self.layout, self.settings, decay_hours or {})
            self._prepared = self._described(ensure_topics(self._admin, self._specs, self.settings))

    def _described(self, partitions: dict[str, int]) -> _Prepared:
        """The topics with these partition counts, and blob and state maps to fill."""
        cache = int(self.settings.blob_cache_mb * 1_048_576)
        return _Prepared(
            partitions,
            KeyedTopic(
                self.layout.blobs, partitions[self.layout.blobs], cache_bytes=cache, idle_timeout=self._idle_timeout
            ),
            KeyedTopic(self.layout.state, 1, cache_bytes=1 << 62, idle_timeout=self._idle_timeout),
        )

    def _described_again(self, partitions: dict[str, int]) -> None:
        """After the producer reconnected: a broker that came back without its data may hold the topics anew, with
        other partition counts (a client's request made them with the broker's default before the producer could).
        Records go to the partitions that exist, so reads must look there: when a count changed, everything read
        from the topics so far is dropped and described again."""
        with self._prepare_lock:
            held = self._prepared
            if held is None or partitions == held.partitions:
                return
            log.warning("Kafka topics of %s now have %s partitions (were %s)", self.describe(), partitions,
                        held.partitions)  # fmt: skip
            self._prepared = self._described(partitions)
        if held.follower is not None:
            held.follower.stop()

    def _ready(self) -> _Prepared:
        if self._closed:
            raise BackendUnavailable(f"the Kafka backend {self.describe()} is closed")
        if self._prepared is None:
            self.prepare()
        assert self._prepared is not None
        return self._prepared

    def ping(self) -> None:
        """A metadata round trip to the brokers, and the companion's own ping."""
        self._admin.describe(self.layout.state)
        self.companion.ping()

    def describe(self) -> str:
        return (
            f"kafka://{self.settings.bootstrap_servers}/{self.settings.topic_prefix}.* ({self.library.name}); "
            f"KV and stored memories on {self.companion.name}: {self.companion.describe()}"
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._prepared is not None and self._prepared.follower is not None:
            self._prepared.follower.stop()
        with self._send_lock:
            if self._producer is not None:
                self._producer.close()
        self._reads.close()
        self._blob_checks.close()
        self._admin.close()
        self.companion.close()

    # -- clients -----------------------------------------------------------------------------------------------

    def _send(self, messages: Sequence[OutMessage]) -> list[tuple[int, int]]:
        """Produce and wait for every acknowledgement. After a failure the producer is dropped (its idempotence
        state may be stale, say after a broker restart); the next call first checks that a broker accepts
        connections (failing at once while none does, so the writer spools without waiting) and that the topics
        exist (a broker may have come back without its data)."""
        with self._send_lock:
            if self._producer is None:
                probe(self.settings)
                if self._specs:
                    self._described_again(ensure_topics(self._admin, self._specs, self.settings))
                self._producer = self.library.producer(self.settings)
            try:
                return self._producer.send(messages)
            except BackendUnavailable:
                self._producer.close()
                self._producer = None
                raise

    def _read(self, work: Callable[[Consumer], T]) -> T:
        """Run ``work`` with the consumer of caller-thread reads (see ``_ConsumerSlot``)."""
        return self._reads.run(work)

    def _read_ranges(self, ranges: dict[Partition, tuple[int, int]], *, exact: bool = False) -> list[InMessage]:
        """Every message of ``ranges`` (see ``reading.read_ranges``)."""

        def work(consumer: Consumer) -> list[InMessage]:
            batches = read_ranges(consumer, ranges, idle_timeout=self._idle_timeout, exact=exact)
            return [m for batch in batches for m in batch]

        return self._read(work)

    # -- Store ---------------------------------------------------------------------------------------------------

    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        """Stored memories to the companion first (idempotent by id), then blobs, records and this writer's new
        totals to Kafka in one acknowledged send. A failure raises ``BackendUnavailable``; the writer retries."""
        prepared = self._ready()
        memories = [record for record in records if record.log_type == "memory"]
        if memories:
            self.companion.append(memories, [])
        blob_messages = [wire.blob_message(self.layout.blobs, blob) for blob in blobs]
        tally = self._next_tally(records, blobs)
        messages = [
            *blob_messages,
            *(wire.record_message(self.layout.event_topic(record.memory_type), record) for record in records),
            wire.state_message(self.layout.state, f"tally/{self._writer_id}", tally),
        ]
        acknowledged = self._send(messages)
        self._tally = tally
        prepared.blobs.remember_sent(list(zip(blob_messages, acknowledged[: len(blob_messages)], strict=True)))
        if prepared.recent is not None:
            prepared.recent.add(records)

    def _next_tally(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> dict[str, Any]:
        """This writer's running totals including a batch: events per memory type, raw and stored bytes."""
        events = Counter(self._tally["events"])
        events.update(record.memory_type for record in records if record.log_type == "log")
        logged = [record for record in records if record.log_type == "log"]
        return {
            "events": dict(events),
            "raw_bytes": self._tally["raw_bytes"] + sum(r.raw_size for r in logged) + sum(b.raw_size for b in blobs),
            "stored_bytes": self._tally["stored_bytes"]
            + sum(len(r.body) for r in logged)
            + sum(len(b.body) for b in blobs),
        }

    def get_blobs(self, hashes: Collection[str]) -> dict[str, Blob]:
        """From the local cache, else the compacted blobs topic (caught up once per call that misses)."""
        prepared = self._ready()
        wanted = list(dict.fromkeys(hashes))
        if not wanted:
            return {}
        found = self._read(lambda consumer: prepared.blobs.get(wanted, consumer))
        return {key: blob for key, m in found.items() if (blob := wire.blob_from_message(m)) is not None}

    def held_blobs(self, hashes: Collection[str]) -> set[str]:
        """Which of ``hashes`` the blobs topic holds, the partitions they map to caught up first: a partition a
        broker lost is read again from its start, so its blobs count as gone (``HeldBlobs``)."""
        prepared = self._ready()
        return self._blob_checks.run(partial(prepared.blobs.holds, hashes))

    def delete_record(self, record_id: str) -> bool:
        """Stored memories are deleted on the companion; an event in a Kafka log cannot be, so this is False."""
        return self.companion.delete_record(record_id)

    def delete_records(self, *, log_type: str | None = None) -> int:
        if log_type == "memory":
            return self.companion.delete_records(log_type="memory")
        raise CapabilityError(
            "backend 'kafka' cannot delete orchestration events: a Kafka log drops them by retention (set "
            "short_term_retention_hours), or cleanup when they have expired; stored memories can be deleted"
        )

    def cleanup(self, *, now_ms: int, dry_run: bool) -> CleanupReport:
        """Expired events at the head of each partition (marks moved past them), expired blobs (tombstoned), and
        the companion's own cleanup (memories, KV keys)."""
        prepared = self._ready()
        report = self.companion.cleanup(now_ms=now_ms, dry_run=dry_run)
        marks = self._marks(prepared)
        updates = []
        for topic in self.layout.events.values():
            for partition in range(prepared.partitions[topic]):
                removed, mark = self._read(partial(self._expired_head, (topic, partition), marks, now_ms))
                if not removed:
                    continue
                report.events += sum(removed.values())
                for memory_type, count in removed.items():
                    report.by_memory_type[memory_type] = report.by_memory_type.get(memory_type, 0) + count
                total = Counter(marks.get((topic, partition), {}).get("removed", {}))
                total.update(removed)
                updates.append(
                    wire.state_message(
                        self.layout.state, f"truncate/{topic}/{partition}", {"offset": mark, "removed": dict(total)}
                    )
                )
        self._read(prepared.blobs.catch_up)
        expired_blobs = prepared.blobs.expired(now_ms)
        report.blobs += len(expired_blobs)
        if not dry_run:
            tombstones = [wire.tombstone(self.layout.blobs, key) for key in expired_blobs]
            acknowledged = self._send([*tombstones, *updates]) if tombstones or updates else []
            prepared.blobs.remember_sent(list(zip(tombstones, acknowledged[: len(tombstones)], strict=True)))
            prepared.state.remember_sent(list(zip(updates, acknowledged[len(tombstones) :], strict=True)))
        return report

    def _expired_head(
        self, partition: Partition, marks: dict[Partition, dict[str, Any]], now_ms: int, consumer: Consumer
    ) -> tuple[Counter[str], int]:
        """Expired events before the first live message of a partition, per memory type, and the offset of that
        message (where the new mark goes). Reads only expired messages, plus one batch."""
        removed: Counter[str] = Counter()
        [(first, end)] = consumer.watermarks([partition]).values()
        mark = max(first, marks.get(partition, {}).get("offset", 0))
        for batch in read_ranges(consumer, {partition: (mark, end)}, idle_timeout=self._idle_timeout):
            for m in sorted(batch, key=lambda m: m.offset):
                record = wire.record_from_message(m)
                if record is not None and _live(record, now_ms):
                    return removed, mark
                if record is not None and record.log_type == "log":
                    removed[record.memory_type] += 1
                mark = m.offset + 1
        return removed, mark

    # -- shared state ------------------------------------------------------------------------------------------

    def _state(self, prepared: _Prepared) -> dict[str, dict[str, Any]]:
        """Every writer's totals and every cleanup mark, as published to the state topic by any process."""
        found = self._read(prepared.state.snapshot)
        return {key: wire.state_value(m) for key, m in found.items()}

    def _marks(self, prepared: _Prepared) -> dict[Partition, dict[str, Any]]:
        marks = {}
        for key, value in self._state(prepared).items():
            if key.startswith("truncate/"):
                topic, partition = key.removeprefix("truncate/").rsplit("/", 1)
                marks[(topic, int(partition))] = value
        return marks

    def _starts(self, prepared: _Prepared, partitions: Sequence[Partition]) -> dict[Partition, tuple[int, int]]:
        """(first readable offset, end) of each partition: reads begin at the cleanup mark when there is one."""
        marks = self._marks(prepared)
        bounds = self._read(lambda consumer: consumer.watermarks(partitions))
        return {p: (max(first, marks.get(p, {}).get("offset", 0)), end) for p, (first, end) in bounds.items()}

    def _event_partitions(self, prepared: _Prepared) -> list[Partition]:
        return [(topic, p) for topic in self.layout.events.values() for p in range(prepared.partitions[topic])]

    # -- Query ---------------------------------------------------------------------------------------------------

    def recent(self, count: int, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        if count <= 0:
            return []
        if log_type == "memory":
            return self.companion.recent(count, now_ms=now_ms, log_type="memory")
        events = self._recent_events(count, now_ms)
        if log_type == "log":
            return events
        memories = self.companion.recent(count, now_ms=now_ms, log_type="memory")
        return sorted([*events, *memories], key=lambda record: record.id, reverse=True)[:count]

    def _recent_events(self, count: int, now_ms: int) -> list[EncodedRecord]:
        """Newest first: from the buffer when it can answer, else from the heads of every partition."""
        prepared = self._ready()
        if self.settings.recent_buffer and prepared.follower is None:
            with self._prepare_lock:
                if prepared.follower is None:
                    self._start_follower(prepared)
        follower, recent = prepared.follower, prepared.recent
        if follower is not None and recent is not None and follower.caught_up.wait(self._idle_timeout):
            answer = recent.newest(count, now_ms=now_ms, log_type="log")
            if answer is not None:
                return answer
        return self._newest_from_kafka(prepared, count, now_ms)

    def _newest_from_kafka(self, prepared: _Prepared, count: int, now_ms: int) -> list[EncodedRecord]:
        """Read the last ``window`` messages of every partition, widening until ``count`` live events are found
        or every partition has been read from its start."""
        bounds = self._starts(prepared, self._event_partitions(prepared))
        window = count
        while True:
            ranges = {p: (max(start, end - window), end) for p, (start, end) in bounds.items()}
            found = _unique(_events(self._read_ranges(ranges), now_ms))
            if len(found) >= count or all(ranges[p][0] == start for p, (start, _) in bounds.items()):
                return found[::-1][:count]
            window *= 4

    def by_run(self, run_id: str, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """A run's events from the one partition of each event topic its key maps to, in log (id) order: the stretch
        of it that holds the run, once this process has read the partition through (``runs``)."""
        if log_type == "memory":
            return self.companion.by_run(run_id, now_ms=now_ms, log_type="memory")
        prepared = self._ready()
        key = run_id.encode()
        partitions = [
            (topic, partition_for_key(key, prepared.partitions[topic])) for topic in self.layout.events.values()
        ]
        bounds = self._starts(prepared, partitions)
        with self._reads.lock:  # the directory changes with the reads it makes
            messages = prepared.runs.read_run(key, bounds, self._read_ranges)
        events = _unique(_events(messages, now_ms, key))
        if log_type == "log":
            return events
        memories = self.companion.by_run(run_id, now_ms=now_ms, log_type="memory")
        return sorted([*events, *memories], key=lambda record: record.id)

    def search_text(
        self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        return self.companion.search_text(query, filters=filters, limit=limit, now_ms=now_ms)

    def vector_space(self, embedder: str, dimension: int) -> None:
        cast(VectorQuery, self.companion).vector_space(embedder, dimension)

    def search_vector(
        self, vector: bytes, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        return cast(VectorQuery, self.companion).search_vector(vector, filters=filters, limit=limit, now_ms=now_ms)

    def iter_records(self, *, now_ms: int, log_type: str | None = None) -> Iterator[EncodedRecord]:
        """Events streamed from every partition (merged by id, so oldest first), and the companion's memories."""
        if log_type == "memory":
            yield from self.companion.iter_records(now_ms=now_ms, log_type="memory")
            return
        prepared = self._ready()
        bounds = self._starts(prepared, self._event_partitions(prepared))
        streams = [self._partition_events(p, start, end, now_ms) for p, (start, end) in bounds.items()]
        if log_type is None:
            streams.append(self.companion.iter_records(now_ms=now_ms, log_type="memory"))
        yield from heapq.merge(*streams, key=lambda record: record.id)

    def _partition_events(self, partition: Partition, start: int, end: int, now_ms: int) -> Iterator[EncodedRecord]:
        """One partition's live events in chunks, each id once (within the last ``DEDUP_WINDOW``)."""
        seen: dict[str, None] = {}
        while start < end:
            messages = sorted(
                self._read_ranges({partition: (start, min(start + EXPORT_CHUNK, end))}), key=lambda m: m.offset
            )
            if not messages:
                return
            start = messages[-1].offset + 1
            for record in _events(messages, now_ms):
                if record.id not in seen:
                    seen[record.id] = None
                    yield record
            while len(seen) > DEDUP_WINDOW:
                del seen[next(iter(seen))]

    def stats(self, *, now_ms: int) -> BackendStats:
        """Events from the writers' published totals less what cleanup removed, blobs from the blobs topic's
        keys, stored memories and keys from the companion."""
        prepared = self._ready()
        companion = self.companion.stats(now_ms=now_ms)
        events: Counter[str] = Counter()
        raw = stored = 0
        for key, value in self._state(prepared).items():
            if key.startswith("tally/"):
                events.update(value.get("events", {}))
                raw += value.get("raw_bytes", 0)
                stored += value.get("stored_bytes", 0)
            elif key.startswith("truncate/"):
                events.subtract(value.get("removed", {}))
        self._read(prepared.blobs.catch_up)
        blobs = len(prepared.blobs.keys())
        by_memory_type = Counter({t: n for t, n in companion.by_memory_type.items() if n})
        by_memory_type.update(+events)
        return BackendStats(
            events=sum((+events).values()),
            memories=companion.memories,
            by_memory_type={t: by_memory_type[t] for t in MEMORY_TYPES if by_memory_type[t]},
            blobs=blobs,
            kv_keys=companion.kv_keys,
            raw_bytes=raw + companion.raw_bytes,
            stored_bytes=stored + companion.stored_bytes,
            extra={
                "kafka_client": self.library.name,
                "kafka_topics": sorted(prepared.partitions),
                "companion": f"{self.companion.name}: {self.companion.describe()}",
            },
        )

    def follow(self) -> Generator[EncodedRecord, None, None]:
        """Every event logged from now on (by any process), as it arrives: an endless iterator on a consumer of
        its own, which closing the iterator (or the backend) releases. Expired events are skipped. "Now" is this
        call: the end of each partition is taken here, not at the first ``next``."""
        prepared = self._ready()
        partitions = self._event_partitions(prepared)
        ends = {p: end for p, (_, end) in self._read(lambda consumer: consumer.watermarks(partitions)).items()}
        return self._follow_from(ends)

    def _follow_from(self, ends: dict[Partition, int]) -> Generator[EncodedRecord, None, None]:
        consumer = self.library.consumer(self.settings, fetch_wait_ms=STREAM_FETCH_WAIT_MS)
        try:
            for batch in stream(consumer, ends, lambda: self._closed):
                yield from _events(batch, current_ms())
        finally:
            consumer.close()

    # -- the recent buffer -------------------------------------------------------------------------------------

    def _start_follower(self, prepared: _Prepared) -> None:
        """Start the buffer with the newest ``recent_buffer`` messages of each partition, then follow. Started by
        the first ``tail``: a process that only logs (an orchestrator's hot path) never pays for following."""
        bounds = self._starts(prepared, self._event_partitions(prepared))
        capacity = self.settings.recent_buffer
        start = {p: max(first, end - capacity) for p, (first, end) in bounds.items()}
        recent = RecentRecords(capacity, complete=all(start[p] == first for p, (first, _) in bounds.items()))

        def sink(messages: list[InMessage]) -> None:
            recent.add(record for m in messages if (record := wire.record_from_message(m)) is not None)

        prepared.recent = recent
        prepared.follower = Follower(
            self.library.consumer(self.settings, fetch_wait_ms=STREAM_FETCH_WAIT_MS),
            start,
            {p: end for p, (_, end) in bounds.items()},
            sink,
        )

    # -- KeyValue: the companion's ------------------------------------------------------------------------------

    def hset(self, name: str, key: str, value: str) -> int:
        return self.companion.hset(name, key, value)

    def hget(self, name: str, key: str) -> str | None:
        return self.companion.hget(name, key)

    def hkeys(self, name: str) -> list[str]:
        return self.companion.hkeys(name)

    def hgetall(self, name: str) -> dict[str, str]:
        return self.companion.hgetall(name)

    def hdel(self, name: str, *keys: str) -> int:
        return self.companion.hdel(name, *keys)

    def sadd(self, name: str, *values: str) -> int:
        return self.companion.sadd(name, *values)

    def srem(self, name: str, *values: str) -> int:
        return self.companion.srem(name, *values)

    def smembers(self, name: str) -> list[str]:
        return self.companion.smembers(name)

    def get(self, key: str) -> str | None:
        return self.companion.get(key)

    def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> bool:
        return self.companion.set(key, value, ttl_seconds=ttl_seconds)

    def delete(self, *keys: str) -> int:
        return self.companion.delete(*keys)

    def expire(self, key: str, ttl_seconds: float) -> bool:
        return self.companion.expire(key, ttl_seconds)

    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]:
        return self.companion.scan(cursor, match, count)
