"""The benchmark runner: every installed backend next to its raw client doing the same work, in one run.

Ratios are the headline (they hold on a noisy machine); absolute numbers are printed as median (min-max) over
``--repeat`` runs. Run with ``make bench`` or ``python benchmarks/run.py [--events N] [--repeat R]``.

Measured for the file backend now (the server backends add their rows as they land):
- ``log()`` + ``flush()`` throughput of 1.7 KB events, against raw SQLite inserting the same encoded bytes in
  transactions of the same size with the same durability (WAL, synchronous=FULL);
- the same with a dedup workload where 30% of events repeat a 50 KB output, with bytes stored per event;
- ``tail(100)`` and ``trace(run)`` of a 500-event run, p50/p99, against the raw SQL of the same reads;
- how read cost grows with the store: ``tail(100)`` / ``trace`` / ``stats`` at each ``--scale`` size.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger

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


def summarize(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, nargs="*", default=[1_000, 100_000])
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
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
                     f"{raw_tail[0]:.2f}/{raw_tail[1]:.2f}", f"{tail[0] / raw_tail[0]:.2f}x"))
        rows.append((f"trace(500-event run) at {size:,}, p50/p99 ms", f"{trace[0]:.2f}/{trace[1]:.2f}", "", ""))
        rows.append((f"stats at {size:,}, p50/p99 ms", f"{stats_ms[0]:.2f}/{stats_ms[1]:.2f}", "", ""))
        results[f"reads@{size}"] = {"tail": tail, "trace": trace, "stats": stats_ms, "raw_tail": raw_tail}

    header = ("measure", "orka-memory", "raw client", "ratio")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
