"""Where the time of one event goes: every stage of ``log()`` and of the writer, timed alone, in µs per event.

``run.py`` says how fast each backend logs; this says why. The caller's stages are what ``log()`` does before it
returns (serialization, decay, the record, the queue); the writer's are what its thread does per record (the
document, blob extraction, JSON, compression) and the backend's ``append()``. Both threads share one interpreter, so
a backend's throughput is bounded by the sum of both columns, not by the larger one.

Each stage runs over the workload in batches of the writer's size, keeping its outputs until the batch ends, as the
writer does: on this machine keeping a batch of 2 KB objects alive costs more than producing them (see
benchmarks/README.md, "Where the time goes"). Best of three passes.

    python benchmarks/stages.py [--events 5000] [--only file,redis,kafka]
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import orjson
from core_target import CoreTarget
from measure import append_alone, build_record
from orka_memory.batchqueue import BatchQueue
from orka_memory.blobs import extract_blobs
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.record import MemoryRecord, new_record_id, now_ms
from orka_memory.serialization import to_jsonable
from registry import TARGETS, families
from target import Target
from workload import Event, Workload, make_workloads, timed

T = TypeVar("T")
Stage = Callable[[Sequence[Any]], list[Any]]


def per_event(stage: Callable[[Sequence[T]], object], items: Sequence[T], batch: int) -> float:
    """µs per item of ``stage`` run over ``items`` batch by batch (each batch's output dropped before the next)."""

    def run() -> None:
        for start in range(0, len(items), batch):
            stage(items[start : start + batch])

    gc.collect()
    return min(timed(run) for _ in range(3)) / len(items) * 1e6


def caller_stages(memory: MemoryLogger) -> dict[str, Callable[[Sequence[Event]], object]]:
    """What ``log()`` does, in order, each over a batch of events."""
    hook = get_plugin_manager().serialize_hook()
    decay = memory.decay

    def put(events: Sequence[Event]) -> None:
        queue: BatchQueue[Event] = BatchQueue(len(events) + 1)
        for event in events:
            queue.put(event)

    return {
        "to_jsonable (serialization)": lambda events: [to_jsonable(e.payload, hook=hook) for e in events],
        "decay classify": lambda events: [
            decay.classify(
                agent_id=e.agent_id,
                event_type=e.event_type,
                payload=e.payload,
                log_type="log",
                created_at=0,
                agent_config=None,
            )
            for e in events
        ],
        "clock + record id (now_ms, new_record_id)": lambda events: [new_record_id(now_ms()) for _ in events],
        "record build (MemoryRecord, positional as log() does)": lambda events: [
            MemoryRecord("0" * 32, "log", e.agent_id, e.event_type, 0, e.run_id, e.step, None, None, e.payload)
            for e in events
        ],
        "queue put (BatchQueue)": put,
    }


def writer_stages(memory: MemoryLogger) -> dict[str, Callable[[Sequence[MemoryRecord]], object]]:
    """What the writer does per record, in order, each over a batch of records (each stage's input prepared by
    the stages before it, outside the clock, from ``prepared``)."""
    encoder = memory.encoder
    codec, threshold = encoder.codec, encoder.compress_threshold

    def extract(records: Sequence[MemoryRecord]) -> list[dict[str, Any]]:
        return [encoder.document(record, {}) for record in records]

    def encode_batch(records: Sequence[MemoryRecord]) -> object:
        encoded = encoder.encode_batch(records)
        encoder.mark_stored(encoded.blobs)  # as the writer does once the batch is stored: repeated blobs are skipped
        return encoded

    return {
        "to_document": lambda records: [record.to_document() for record in records],
        "to_document + blob extraction (hash, canonical JSON)": extract,
        "to_document + extraction + orjson.dumps": lambda records: [orjson.dumps(d) for d in extract(records)],
        f"... + compression ({codec.name}, one call per batch)": lambda records: encoder.codecs.encode_many(
            [orjson.dumps(d) for d in extract(records)], codec=codec, threshold=threshold
        ),
        "encode_batch (all of it, EncodedRecords, blobs, logical size)": encode_batch,
    }


def logical_size_stage(records: Sequence[MemoryRecord], threshold: int, batch: int) -> float:
    """µs per event encode_batch spends serializing the whole document of a record with blobs a second time, only
    to count the bytes logged (averaged over every event)."""
    sharing = [record for record in records if _shares(record, threshold)]
    if not sharing:
        return 0.0
    dumps = per_event(lambda part: [len(orjson.dumps(record.to_document())) for record in part], sharing, batch)
    return dumps * len(sharing) / len(records)


def _shares(record: MemoryRecord, threshold: int) -> bool:
    """True when blob extraction replaces part of ``record``: encode_batch then serializes its whole document a
    second time to count the bytes logged."""
    found: dict[str, bytes] = {}
    for value in (record.payload, record.previous_outputs):
        extract_blobs(value, threshold, found)
    return bool(found)


def append_stage(target: Target, workload: Workload, batch: int) -> float:
    """µs per event of the backend's ``append()`` alone, records encoded beforehand (``measure.append_alone``)."""
    return 1e6 / append_alone(target, workload.events, batch)


def render(columns: Sequence[str], table: dict[str, list[float]]) -> str:
    width = max(len(stage) for stage in table)
    lines = [f"{'stage, µs per event':<{width}}  " + "  ".join(f"{column:>26}" for column in columns)]
    lines.extend(f"{stage:<{width}}  " + "  ".join(f"{value:>26.1f}" for value in values)
                 for stage, values in table.items())  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", type=families, default=("file", "redis"), help="backends whose append is timed")
    parser.add_argument("--redis-url")
    parser.add_argument("--kafka-bootstrap")
    args = parser.parse_args(argv)
    workloads = make_workloads(args.events, seed=args.seed)
    gc.freeze()  # the workloads stay alive throughout: keep full collections from walking them
    table: dict[str, list[float]] = {}
    core = CoreTarget()
    with core.store() as memory:
        batch = memory.settings.batch_size
        for workload in workloads:
            records = [build_record(memory, event, event.step) for event in workload.events]
            for stage, function in caller_stages(memory).items():
                table.setdefault(f"log(): {stage}", []).append(per_event(function, workload.events, batch))
            for stage, function in writer_stages(memory).items():
                table.setdefault(f"writer: {stage}", []).append(per_event(function, records, batch))
            logical = logical_size_stage(records, memory.encoder.blob_threshold, batch)
            table.setdefault("writer: of which the logical size (whole document dumped again)", []).append(logical)
            memory.encoder.forget_blobs()
    for family in (name for name in TARGETS if name in args.only and name != "core"):
        for target in TARGETS[family](args):
            reason = target.unavailable()
            if reason is not None:
                print(f"note: {target.name} skipped: {reason}")
                continue
            with target.running():
                values = [append_stage(target, workload, batch) for workload in workloads]
            table[f"writer: {target.name} append()"] = values
    print(render([workload.label for workload in workloads], table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
