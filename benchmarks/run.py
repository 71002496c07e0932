"""The benchmark runner: every installed backend next to its raw client doing the same work, in one run.

Ratios are the headline (they hold on a noisy machine); absolute numbers are printed as median (min-max) over
``--repeat`` runs. Run with ``make bench`` or ``python benchmarks/run.py [--events N] [--repeat R]``.

Measured for the file backend:
- ``log()`` + ``flush()`` throughput of 1.7 KB events, against raw SQLite inserting the same encoded bytes in
  transactions of the same size with the same durability (WAL, synchronous=FULL);
- the same with a dedup workload where 30% of events repeat a 50 KB output, with bytes stored per event;
- ``tail(100)`` and ``trace(run)`` of a 500-event run, p50/p99, against the raw SQL of the same reads;
- how read cost grows with the store: ``tail(100)`` / ``trace`` / ``stats`` at each ``--scale`` size.

Measured for the redis backend, on ``--redis-url`` or else a redis-server the runner starts on a free loopback port
(the rows are skipped, with a note, when neither is there):
- ``log()`` + ``flush()`` throughput of 1.7 KB events, against redis-py XADDing the same JSON bytes in pipelines of
  the writer's batch size; next to it, the same logging through a backend that stores nothing: the core's own
  ceiling, which bounds every backend;
- ``tail(100)`` against ``XREVRANGE COUNT 100`` of the same stream, ``trace`` and ``stats``, at each ``--scale``.
Each measurement uses keys under a fresh prefix and deletes them afterwards, so a shared server keeps its data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import shutil
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.settings import resolve_settings

try:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
except ImportError:  # orka-memory without the [redis] extra: the redis rows are skipped
    Redis = None  # type: ignore[assignment,misc]

EVENT_BYTES = 1700


def make_events(count: int, *, seed: int, repeat_share: float = 0.0) -> list[dict[str, Any]]:
    """Deterministic orchestration events of about 1.7 KB; ``repeat_share`` of them carry one shared 50 KB output."""
    rng = random.Random(seed)
    shared = {"response": "".join(rng.choices(string.ascii_letters + " ", k=50_000)), "model": "gpt-4o-mini"}
    events = []
    for _ in range(count):
        text = "".join(rng.choices(string.ascii_letters + " ", k=EVENT_BYTES - 260))
        payload: dict[str, Any] = {
            "response": text,
            "confidence": round(rng.random(), 3),
            "_metrics": {"tokens": rng.randint(100, 900), "cost_usd": round(rng.random() / 100, 5)},
        }
        if rng.random() < repeat_share:
            payload["shared_output"] = shared
        events.append(payload)
    return events


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def latencies(function: Callable[[], Any], rounds: int) -> tuple[float, float]:
    samples = sorted(timed(function) for _ in range(rounds))
    return samples[len(samples) // 2] * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def open_logger(path: Path) -> MemoryLogger:
    return create_memory_logger("file", path=str(path), spool_dir=str(path.parent / "spool"))


def bench_log(directory: Path, events: list[dict[str, Any]]) -> tuple[float, MemoryLogger]:
    memory = open_logger(directory / "orka.db")

    def run() -> None:
        for step, payload in enumerate(events):
            memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
        memory.flush()

    return len(events) / timed(run), memory


def bench_raw_sqlite(directory: Path, events: list[dict[str, Any]], batch: int) -> float:
    """Raw SQLite doing the same durable work: the same bytes, one indexed table, same transactions and fsyncs."""
    db = sqlite3.connect(directory / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, run_id TEXT, body BLOB)")
    db.execute("CREATE INDEX events_run ON events (run_id, seq)")

    def run() -> None:
        for start in range(0, len(events), batch):
            rows = [
                (f"{start + offset:032x}", f"run-{(start + offset) // 500}", orjson.dumps(payload))
                for offset, payload in enumerate(events[start : start + batch])
            ]
            db.execute("BEGIN")
            db.executemany("INSERT INTO events (id, run_id, body) VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")

    rate = len(events) / timed(run)
    db.close()
    return rate


def bench_reads(directory: Path, size: int) -> tuple[tuple[float, float], ...]:
    """Read latencies on a store of ``size`` events: tail, a 500-event trace, stats, and raw SQL tail."""
    memory = open_logger(directory / "orka.db")
    for step, payload in enumerate(make_events(min(size, 2_000), seed=3) * (size // 2_000 or 1)):
        memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
    memory.flush()
    tail = latencies(lambda: memory.tail(100), 50)
    trace = latencies(lambda: memory.trace("run-1"), 20)
    stats = latencies(memory.get_memory_stats, 50)
    db = sqlite3.connect(directory / "orka.db")
    raw_tail = latencies(lambda: db.execute("SELECT body FROM records ORDER BY seq DESC LIMIT 100").fetchall(), 50)
    db.close()
    memory.close()
    return tail, trace, stats, raw_tail


# -- redis -------------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_server(url: str | None) -> Iterator[str | None]:
    """``url`` when given; else a redis-server of our own on a free loopback port (no persistence), stopped after;
    None when redis-server is not installed."""
    binary = shutil.which("redis-server")
    if url is not None or binary is None:
        yield url
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        with Redis(port=port) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except RedisConnectionError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def redis_logger(url: str, spool: Path) -> Iterator[MemoryLogger]:
    """A redis logger on keys under a fresh prefix, all deleted afterwards (by SCAN: this is a tool, not a read
    path)."""
    prefix = f"orka-bench-{uuid.uuid4().hex[:12]}"
    memory = create_memory_logger("redis", redis_url=url, stream_key=prefix, spool_dir=str(spool))
    try:
        yield memory
    finally:
        memory.close()
        with Redis.from_url(url) as client:
            for key in client.scan_iter(match=f"*{prefix}*", count=1000):
                client.unlink(key)


def bench_redis_log(url: str, events: list[dict[str, Any]], spool: Path) -> float:
    with redis_logger(url, spool) as memory:

        def run() -> None:
            for step, payload in enumerate(events):
                memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
            memory.flush()

        return len(events) / timed(run)


def bench_raw_redis(url: str, events: list[dict[str, Any]], batch: int) -> float:
    """redis-py doing the same writes: XADD of the same JSON bytes with an id, in pipelines of the batch size."""
    key = f"orka-bench-raw-{uuid.uuid4().hex[:12]}"
    with Redis.from_url(url, protocol=3) as client:

        def run() -> None:
            for start in range(0, len(events), batch):
                pipeline = client.pipeline(transaction=False)
                for offset, payload in enumerate(events[start : start + batch]):
                    pipeline.xadd(key, {"i": f"{start + offset:032x}", "b": orjson.dumps(payload)})
                pipeline.execute()

        rate = len(events) / timed(run)
        client.unlink(key)
    return rate


class Discard:
    """A backend that stores nothing: logging through it measures the core alone, the ceiling of every backend."""

    name = "discard"
    capabilities: frozenset[str] = frozenset()

    def append(self, records: Sequence[Any], blobs: Sequence[Any]) -> None:
        pass

    def describe(self) -> str:
        return "nowhere"

    def close(self) -> None:
        pass


def bench_core_only(events: list[dict[str, Any]], spool: Path) -> float:
    settings = resolve_settings({"spool_dir": str(spool)}).settings
    with MemoryLogger(Discard(), settings) as memory:  # type: ignore[arg-type]

        def run() -> None:
            for step, payload in enumerate(events):
                memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
            memory.flush()

        return len(events) / timed(run)


def bench_redis_reads(url: str, size: int, spool: Path) -> tuple[tuple[float, float], ...]:
    """Read latencies on ``size`` events: tail, a 500-event trace, stats, and raw XREVRANGE of the same stream."""
    with redis_logger(url, spool) as memory, Redis.from_url(url, protocol=3) as client:
        for step, payload in enumerate(make_events(min(size, 2_000), seed=3) * (size // 2_000 or 1)):
            memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
        memory.flush()
        tail = latencies(lambda: memory.tail(100), 50)
        trace = latencies(lambda: memory.trace("run-1"), 20)
        stats = latencies(memory.get_memory_stats, 50)
        stream = next(iter(memory.get_memory_stats()["streams"]))
        raw_tail = latencies(lambda: client.xrevrange(stream, count=100), 50)
    return tail, trace, stats, raw_tail


Row = tuple[str, str, str, str]  # measure, orka-memory, raw client, ratio


def redis_section(args: argparse.Namespace, events: list[dict[str, Any]]) -> tuple[list[Row], Any]:
    """The redis rows, or a note saying why there are none."""
    rows: list[Row] = []
    results: dict[str, Any] = {}
    if Redis is None or "redis" not in get_plugin_manager().backends():
        print("note: redis rows skipped: the redis backend is not installed (pip install 'orka-memory[redis]')")
        return rows, None
    with redis_server(args.redis_url) as url, tempfile.TemporaryDirectory() as folder:
        if url is None:
            print("note: redis rows skipped: redis-server is not installed and --redis-url was not given")
            return rows, None
        spool = Path(folder) / "spool"
        ours, raw, core = [], [], []
        for _ in range(args.repeat):
            ours.append(bench_redis_log(url, events, spool))
            raw.append(bench_raw_redis(url, events, batch=500))
            core.append(bench_core_only(events, spool))
        ratio = statistics.median(ours) / statistics.median(raw)
        rows.append(("redis log()+flush, 1.7 KB events", summarize(ours) + " ev/s", summarize(raw) + " ev/s",
                     f"{ratio:.2f}x"))  # fmt: skip
        share = statistics.median(ours) / statistics.median(core)
        rows.append(("log()+flush storing nothing (core ceiling)", summarize(core) + " ev/s", "", f"{share:.2f}x"))
        results["log"] = {"ours": ours, "raw": raw, "core_only": core}
        for size in args.scale:
            tail, trace, stats_ms, raw_tail = bench_redis_reads(url, size, spool)
            rows.append((f"redis tail(100) at {size:,} events, p50/p99 ms", f"{tail[0]:.2f}/{tail[1]:.2f}",
                         f"{raw_tail[0]:.2f}/{raw_tail[1]:.2f}", f"{tail[0] / raw_tail[0]:.2f}x"))  # fmt: skip
            rows.append((f"redis trace(500-event run) at {size:,}, p50/p99 ms", f"{trace[0]:.2f}/{trace[1]:.2f}", "",
                         ""))  # fmt: skip
            rows.append((f"redis stats at {size:,}, p50/p99 ms", f"{stats_ms[0]:.2f}/{stats_ms[1]:.2f}", "", ""))
            results[f"reads@{size}"] = {"tail": tail, "trace": trace, "stats": stats_ms, "raw_tail": raw_tail}
    return rows, results


def summarize(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs="*", default=[1_000, 100_000])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
    parser.add_argument("--redis-url", help="a Redis server to measure on; default: start one on a free port")
    parser.add_argument("--kafka-bootstrap", help="a Kafka cluster to measure on; default: start a Tansu broker")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str, str, str]] = []
    results: dict[str, Any] = {}
    plain = make_events(args.events, seed=1)
    dedup = make_events(args.events, seed=2, repeat_share=0.3)

    for label, events in (("1.7 KB events", plain), ("30% repeat a 50 KB output", dedup)):
        ours, raw, stored = [], [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as folder:
                rate, memory = bench_log(Path(folder), events)
                stats = memory.get_memory_stats()
                memory.close()
                ours.append(rate)
                stored.append(stats["session"]["overall_ratio"] or 0)
                raw.append(bench_raw_sqlite(Path(folder), events, batch=500))
        ratio = statistics.median(ours) / statistics.median(raw)
        rows.append(
            (f"file log()+flush, {label}", summarize(ours) + " ev/s", summarize(raw) + " ev/s", f"{ratio:.2f}x")
        )
        rows.append((f"file bytes stored / logged, {label}", f"{statistics.median(stored):.3f}", "1.000", ""))
        results[label] = {"ours": ours, "raw": raw, "stored_ratio": stored}

    for size in args.scale:
        with tempfile.TemporaryDirectory() as folder:
            tail, trace, stats_ms, raw_tail = bench_reads(Path(folder), size)
        rows.append((f"tail(100) at {size:,} events, p50/p99 ms", f"{tail[0]:.2f}/{tail[1]:.2f}",
                     f"{raw_tail[0]:.2f}/{raw_tail[1]:.2f}", f"{tail[0] / raw_tail[0]:.2f}x"))  # fmt: skip
        rows.append((f"trace(500-event run) at {size:,}, p50/p99 ms", f"{trace[0]:.2f}/{trace[1]:.2f}", "", ""))
        rows.append((f"stats at {size:,}, p50/p99 ms", f"{stats_ms[0]:.2f}/{stats_ms[1]:.2f}", "", ""))
        results[f"reads@{size}"] = {"tail": tail, "trace": trace, "stats": stats_ms, "raw_tail": raw_tail}

    redis_rows, results["redis"] = redis_section(args, plain)
    rows.extend(redis_rows)
    from kafka_bench import kafka_section  # here, not at the top: kafka_bench imports this module's helpers

    kafka_rows, results["kafka"] = kafka_section(args, plain)
    rows.extend(kafka_rows)

    header = ("measure", "orka-memory", "raw client", "ratio")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
