"""The measurements, written once for every target.

- ``measure_writes``: ``log()`` throughput to durability (every event logged, then ``flush()``) from one thread and
  from several, the caller's latency of each ``log()`` call, the raw client writing the same events, and the bytes
  each store holds per event.
- ``measure_reads``: ``tail(100)``, ``trace(run)`` of a 500-event run and ``stats`` on a store of a given size,
  with the raw client's reads beside them. The store is bulk-loaded (``bulk_load``), not logged: see there.
- ``measure_searches``: ``search_memories(10)`` by vector, without and with filters, then right after a deletion,
  on a store of stored memories grown by ``log_memory()`` to each size in turn (``memories.py``), for targets whose
  backend searches itself.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from cputime import CpuClock
from memories import SEARCHES, Memory, grow, memory_workload
from orka_memory.encoding import EncodedBatch
from orka_memory.logger import MemoryLogger
from orka_memory.record import MemoryRecord, new_record_id, now_ms
from target import Target
from workload import RUN_SIZE, Event, Workload, latencies, make_events, percentile, run_id, split, timed

TAIL_COUNT = 100
READ_ROUNDS = {"tail": 50, "trace": 20, "stats": 50}  # timed calls per read; the p99 of 20 is their maximum
SEARCH_ROUNDS = 20  # timed searches per filter and size (an exact search of 100,000 memories takes a quarter second)
LOAD_POOL = 2_000  # distinct payloads a bulk load cycles through


# -- writes ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRun:
    """One pass of a workload through ``log()``."""

    rate: float  # events per second, from the first log() call to the end of flush()
    p50_us: float  # the caller's view of one log() call
    p99_us: float
    cpu_us: float | None  # CPU µs per event over the same span, this process and the engine's servers (cputime)


@dataclass(frozen=True, slots=True)
class Footprint:
    """Bytes per event, measured on the first repeat (they do not vary between runs)."""

    raw_json: float  # the JSON of what the caller logged: what the raw clients write
    encoded: float  # what orka-memory hands to the engine, after dedup and compression (blobs included)
    engine: float | None  # what the engine holds for orka-memory's store (None: the engine cannot tell)
    raw_engine: float | None  # ... for the raw client's store


@dataclass(slots=True)
class WriteResult:
    workload: str
    label: str
    single: list[LogRun] = field(default_factory=list)  # one thread, one entry per repeat
    threaded: list[LogRun] = field(default_factory=list)  # ``--threads`` threads
    raw: list[float] = field(default_factory=list)  # the raw client's events per second
    raw_cpu_us: list[float] = field(default_factory=list)  # ... and its CPU µs per event, where known
    other_raw: dict[str, list[float]] = field(default_factory=dict)  # Target.write_raw_others: events per second
    # The core ceiling (the core logging into a backend that stores nothing), measured in the same repeats: a busy
    # moment of the machine moves both sides of the "of core ceiling" ratio, as it does the raw client's.
    ceiling: list[LogRun] = field(default_factory=list)  # one thread
    ceiling_threaded: list[LogRun] = field(default_factory=list)  # ``--threads`` threads
    # The backend's own append() storing the workload already encoded (``append_alone``): events per second. The
    # bound from the other side: log() cannot store faster than the stage that stores.
    append_alone: list[float] = field(default_factory=list)
    footprint: Footprint | None = None


def warm_up(memory: MemoryLogger) -> None:
    """Log and flush one event outside the clock: a fresh store's first batch pays one-time costs (a Kafka client
    fetches the metadata of the topics just created, up to half a second) that a long-lived logger never sees
    again. The raw clients warm up the same way."""
    memory.log("warm-up", "warm-up", {"response": "warm-up"}, step=0, run_id="warm-up")
    memory.flush()


def log_events(memory: MemoryLogger, events: Sequence[Event], threads: int, cpu: CpuClock) -> LogRun:
    """Log ``events`` from ``threads`` threads at once (contiguous slices, so runs stay in order), then flush.

    Every call is timed on its own (``perf_counter_ns``, about 0.1 µs of a call of tens): the latency a caller
    sees includes waiting for the GIL while the writer thread encodes. ``cpu`` counts the CPU time of the whole
    span, the writer's threads and the engine's server included.
    """
    parts = split(events, threads)
    samples: list[list[int]] = [[] for _ in parts]
    start = threading.Barrier(len(parts) + 1)

    def work(part: Sequence[Event], out: list[int]) -> None:
        clock, log = time.perf_counter_ns, memory.log
        start.wait()
        for event in part:
            began = clock()
            log(event.agent_id, event.event_type, event.payload, step=event.step, run_id=event.run_id)
            out.append(clock() - began)

    workers = [threading.Thread(target=work, args=pair) for pair in zip(parts, samples, strict=True)]
    for worker in workers:
        worker.start()
    gc.collect()  # the previous run's garbage is not this run's cost
    start.wait()
    spooled_before = memory.writer.metrics.records_spooled
    cpu_began, began = cpu(), time.perf_counter()
    for worker in workers:
        worker.join()
    memory.flush()
    seconds, cpu_ended = time.perf_counter() - began, cpu()
    if spooled := memory.writer.metrics.records_spooled - spooled_before:  # what was measured is not the backend
        error = memory.writer.metrics.last_error
        raise RuntimeError(f"{memory.backend.name} failed, {spooled} records were spooled: {error}")
    merged = [sample / 1000 for part in samples for sample in part]
    cpu_us = None if cpu_began is None or cpu_ended is None else (cpu_ended - cpu_began) / len(events) * 1e6
    return LogRun(len(events) / seconds, percentile(merged, 0.5), percentile(merged, 0.99), cpu_us)


def append_alone(target: Target, events: Sequence[Event], batch: int) -> float:
    """Events per second of the backend's ``append()`` storing ``events`` already encoded, in batches of the
    writer's size, from one thread with nothing else running: what ``log()`` would reach if the core cost nothing.

    The batches are built and encoded outside the clock (``encoded_batches``), so later batches refer to a repeated
    output instead of sending it. The writer's check that the engine still holds such blobs (``held_blobs``, one
    query a batch on the dedup workload) is not counted: it is not ``append()``.
    """
    with target.store() as memory:
        warm_up(memory)
        batches = list(encoded_batches(memory, len(events), events.__getitem__, batch))
        gc.collect()  # the encoding's garbage is not the backend's cost
        began = time.perf_counter()
        for encoded in batches:
            memory.backend.append(encoded.records, encoded.blobs)
        return len(events) / (time.perf_counter() - began)


def _holding(target: Target, memory: MemoryLogger) -> tuple[int, int | None]:
    """Bytes the logger has handed to its engine so far, and what the engine holds for its store."""
    return memory.writer.metrics.stored_bytes, target.engine_bytes(memory)


def _logged(target: Target, events: Sequence[Event], threads: int) -> LogRun:
    """``events`` logged from ``threads`` threads into a fresh, warmed-up store of ``target``."""
    with target.store() as memory:
        warm_up(memory)
        return log_events(memory, events, threads, target.cpu_clock())


def measure_writes(
    target: Target, workload: Workload, *, repeat: int, threads: int, batch: int, ceiling: Target | None = None
) -> WriteResult:
    """``repeat`` rounds of: one thread, ``threads`` threads (each on a fresh, warmed-up store), the raw client, and,
    unless this is the core itself, the same two runs into ``ceiling`` (the core target) and the backend's
    ``append()`` alone: the bounds from either side.

    Bytes per event are the growth of the stores across the first round, so the warm-up event and the empty
    store's own size (schema, scripts) do not count.
    """
    events, count = workload.events, len(workload.events)
    result = WriteResult(workload.name, workload.label)
    for attempt in range(repeat):
        with target.store() as memory:
            warm_up(memory)
            sent_before, held_before = _holding(target, memory)
            result.single.append(log_events(memory, events, 1, target.cpu_clock()))
            sent_after, held_after = _holding(target, memory)
        result.threaded.append(_logged(target, events, threads))
        written = target.write_raw(events, batch)
        if written is not None:
            result.raw.append(count / written.seconds)
            if written.cpu_seconds is not None:
                result.raw_cpu_us.append(written.cpu_seconds / count * 1e6)
        for other, seconds in target.write_raw_others(events, batch).items():
            result.other_raw.setdefault(other, []).append(count / seconds)
        if ceiling is not None:
            result.ceiling.append(_logged(ceiling, events, 1))
            result.ceiling_threaded.append(_logged(ceiling, events, threads))
            result.append_alone.append(append_alone(target, events, batch))
        if attempt == 0:
            result.footprint = Footprint(
                raw_json=sum(len(orjson.dumps(event.payload)) for event in events) / count,
                encoded=(sent_after - sent_before) / count,
                engine=None if held_after is None or held_before is None else (held_after - held_before) / count,
                raw_engine=None if written is None or written.engine_bytes is None else written.engine_bytes / count,
            )
    return result


# -- reads ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadResult:
    size: int
    load_seconds: float
    latency_ms: dict[str, tuple[float, float]]  # tail, trace, stats -> (p50, p99)
    raw_ms: dict[str, tuple[float, float]]  # the raw client's tail and trace, where meaningful


def bulk_load(memory: MemoryLogger, count: int, *, seed: int, batch: int) -> None:
    """Fill ``memory``'s store with ``count`` 1.7 KB events through its backend's own ``append()``.

    Logging a million events through ``log()`` would take minutes and measure writes, not reads. Here each record
    is built as ``log()`` builds it (decay classified, time-ordered id), encoded once by the logger's own encoder
    (``encode_batch``: dedup, JSON, compression) and appended in batches of the writer's size: the store ends up
    exactly as logging would leave it.
    """
    pool = make_events(min(count, LOAD_POOL), seed=seed)
    for encoded in encoded_batches(memory, count, lambda step: pool[step % len(pool)], batch):
        memory.backend.append(encoded.records, encoded.blobs)


def encoded_batches(
    memory: MemoryLogger, count: int, event_at: Callable[[int], Event], batch: int
) -> Iterator[EncodedBatch]:
    """Steps 0 to ``count`` - 1 (the event of each from ``event_at``) as ``log()`` builds their records, encoded by
    the logger's own encoder ``batch`` at a time. Each batch's blobs are marked stored once the caller has taken the
    batch, as the writer marks them after an append, so later batches refer to a repeated output instead of sending
    it again."""
    for start in range(0, count, batch):
        records = [build_record(memory, event_at(step), step) for step in range(start, min(count, start + batch))]
        encoded = memory.encoder.encode_batch(records)
        yield encoded
        memory.encoder.mark_stored(encoded.blobs)


def build_record(memory: MemoryLogger, event: Event, step: int) -> MemoryRecord:
    """The record ``log()`` would build for ``event`` as step ``step`` (payloads are JSON already)."""
    created = now_ms()
    kind = memory.decay.classify(
        agent_id=event.agent_id,
        event_type=event.event_type,
        payload=event.payload,
        log_type="log",
        created_at=created,
        agent_config=None,
    )
    return MemoryRecord(
        id=new_record_id(created),
        log_type="log",
        agent_id=event.agent_id,
        event_type=event.event_type,
        created_at=created,
        run_id=run_id(step),
        step=step,
        payload=event.payload,
        importance=kind.importance,
        memory_type=kind.memory_type,
        category=kind.category,
        expires_at=kind.expires_at,
    )


def measure_reads(target: Target, size: int, *, seed: int, batch: int) -> ReadResult:
    """Read latencies on a store of ``size`` events; the run traced is the one in the middle of the store."""
    with target.store() as memory:
        load_seconds = timed(lambda: bulk_load(memory, size, seed=seed, batch=batch))
        traced = run_id(size // 2 // RUN_SIZE * RUN_SIZE)
        # A benchmark reading the wrong thing would still print numbers: check the reads return what they should.
        if len(memory.tail(TAIL_COUNT)) != min(TAIL_COUNT, size) or len(memory.trace(traced)) != min(RUN_SIZE, size):
            raise RuntimeError(f"{target.name}: tail or trace of the bulk-loaded store returned the wrong count")
        reads = {
            "tail": lambda: memory.tail(TAIL_COUNT),
            "trace": lambda: memory.trace(traced),
            "stats": memory.get_memory_stats,
        }
        latency = {name: latencies(read, READ_ROUNDS[name]) for name, read in reads.items()}
        with target.raw_reads(memory, traced) as raw:
            raw_latency = {name: latencies(read, READ_ROUNDS[name]) for name, read in raw.items()}
    return ReadResult(size, load_seconds, latency, raw_latency)


# -- searches -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchLatency:
    size: int  # stored memories
    latency_ms: dict[str, tuple[float, float]]  # a label of memories.SEARCHES, or "after a deletion" -> (p50, p99)


def measure_searches(target: Target, sizes: Sequence[int], *, seed: int) -> list[SearchLatency]:
    """``search_memories(num_results=10)`` by vector (each query's vector given, as a caller holding an embedding
    passes it) with each of ``memories.SEARCHES``' filters, on one store grown by ``log_memory()`` to each size; then
    without filters, each search right after an untimed ``delete_memory()`` of the newest memory (a store whose
    search keeps state, as the file backend's vector cache does, must catch up with the deletion in the search). The
    next size's store holds that many memories fewer."""
    memories, queries = memory_workload(max(sizes), seed)
    results = []
    with target.store() as memory:
        for size in grow(memory, memories, sizes):
            latency = {}
            for label, options in SEARCHES.items():
                search = _searcher(memory, queries, options)
                if not search():  # a benchmark searching the wrong store would still print numbers
                    raise RuntimeError(f"{target.name}: search_memories of {size} memories found nothing")
                latency[label] = latencies(search, SEARCH_ROUNDS)
            latency["no filter, after a deletion"] = latencies(
                _searcher(memory, queries, {}), SEARCH_ROUNDS, before=_newest_deleter(memory, SEARCH_ROUNDS + 1)
            )
            results.append(SearchLatency(size, latency))
    return results


def _newest_deleter(memory: MemoryLogger, count: int) -> Callable[[], None]:
    """Each call deletes the newest of the ``count`` newest stored memories left."""
    keys = iter([item["key"] for item in memory.get_recent_stored_memories(count)])

    def delete() -> None:
        key = next(keys)
        if not memory.delete_memory(key):  # a search after nothing was deleted would still print numbers
            raise RuntimeError(f"delete_memory({key!r}) found nothing to delete")

    return delete


def _searcher(
    memory: MemoryLogger, queries: Sequence[Memory], options: dict[str, Any]
) -> Callable[[], list[dict[str, Any]]]:
    """One search per call, each with the next of ``queries`` (so no query is answered from a warm cache)."""
    turns = itertools.cycle(queries)

    def search() -> list[dict[str, Any]]:
        query = next(turns)
        vector = query.vector.tolist()
        return memory.search_memories(query.content, num_results=10, query_vector=vector, **options)

    return search


# -- one target -----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TargetResult:
    name: str
    family: str
    describe: str
    raw_client: str | None
    writes: list[WriteResult]
    reads: list[ReadResult]
    searches: list[SearchLatency]
    seconds: float  # wall time of this target's measurements, server start included


def measure_target(
    target: Target,
    workloads: Sequence[Workload],
    *,
    repeat: int,
    threads: int,
    batch: int,
    scales: Sequence[int],
    memories: Sequence[int],
    seed: int,
    ceiling: Target | None = None,
) -> TargetResult:
    """Every measurement of one target, its server running throughout, its writes beside ``ceiling`` (the core
    target; None for the core itself). Reads are measured at the ``scales`` sizes the target takes
    (``Target.read_sizes``); searches at every ``memories`` size for targets whose backend searches itself."""
    began = time.perf_counter()
    with target.running():
        writes = [measure_writes(target, one, repeat=repeat, threads=threads, batch=batch, ceiling=ceiling)
                  for one in workloads]  # fmt: skip
        sizes = target.read_sizes(scales)
        reads = [measure_reads(target, size, seed=seed, batch=batch) for size in sizes] if target.reads else []
        searches = measure_searches(target, memories, seed=seed) if target.searches else []
    seconds = time.perf_counter() - began
    return TargetResult(target.name, target.family, target.describe, target.raw_client, writes, reads, searches,
                        seconds)  # fmt: skip
