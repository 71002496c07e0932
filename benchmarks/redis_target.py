"""The redis backend next to redis-py doing the same writes: pipelined XADD of the same JSON.

Runs on ``--redis-url``, else on a redis-server of its own on a free loopback port (``orka_memory_redis.testing``:
no persistence, stopped after), else is skipped. Every store lives under a fresh key prefix and is deleted
afterwards, so a shared server keeps its data. What the engine holds is ``MEMORY USAGE`` (exact, ``SAMPLES 0``)
summed over the store's keys.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from cputime import spent
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from target import RawWrite, Target
from workload import Event


class RedisTarget(Target):
    name = "redis"
    family = "redis"
    describe = "Redis streams + Lua, one pipeline per batch (no persistence on the benchmark's own server)"
    raw_client = "redis-py: pipelined XADD of the same JSON with its id, one pipeline per batch"
    largest_read = None  # reads by run and newest first are indexed: flat at every size

    def __init__(self, args: argparse.Namespace) -> None:
        self.given_url: str | None = args.redis_url
        self.url = ""
        self.server_pid: int | None = None  # the redis-server this target started

    def unavailable(self) -> str | None:
        if "redis" not in get_plugin_manager().backends():
            return "the redis backend is not installed (pip install 'orka-memory[redis]')"
        if self.given_url is None and shutil.which("redis-server") is None:
            return "redis-server is not installed and --redis-url was not given"
        return None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        if self.given_url is not None:
            self.url = self.given_url
            yield
            return
        from orka_memory_redis.testing import RedisServer

        with tempfile.TemporaryDirectory(prefix="orka-bench-redis-") as folder:
            server = RedisServer(Path(folder)).start()
            try:
                self.url = server.url
                self.server_pid = server.process.pid if server.process else None
                yield
            finally:
                self.server_pid = None
                server.stop()

    def engine_processes(self) -> Sequence[int] | None:
        return None if self.server_pid is None else (self.server_pid,)

    def _client(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.url, protocol=3)

    @contextlib.contextmanager
    def store(self) -> Iterator[MemoryLogger]:
        prefix = f"orka-bench-{uuid.uuid4().hex[:12]}"
        with tempfile.TemporaryDirectory(prefix="orka-bench-") as spool:
            try:
                with create_memory_logger("redis", redis_url=self.url, stream_key=prefix, spool_dir=spool) as memory:
                    yield memory
            finally:
                with self._client() as client:
                    for key in client.scan_iter(match=f"*{prefix}*", count=1000):  # a tool, not a read path
                        client.unlink(key)

    def engine_bytes(self, memory: MemoryLogger) -> int:
        prefix = _backend(memory).keys.prefix
        with self._client() as client:
            keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
            return sum(client.memory_usage(key, samples=0) or 0 for key in keys)

    def write_raw(self, events: Sequence[Event], batch: int) -> RawWrite:
        key = f"orka-bench-raw-{uuid.uuid4().hex[:12]}"
        with self._client() as client:

            def write() -> None:
                for start in range(0, len(events), batch):
                    pipeline = client.pipeline(transaction=False)
                    for event in events[start : start + batch]:
                        pipeline.xadd(key, {"i": event.raw_id, "b": orjson.dumps(event.payload)})
                    pipeline.execute()

            try:
                client.ping()  # connect before the clock starts
                seconds, cpu_seconds = spent(self.cpu_clock(), write)
                return RawWrite(seconds, cpu_seconds, client.memory_usage(key, samples=0))
            finally:
                client.unlink(key)

    @contextlib.contextmanager
    def raw_reads(self, memory: MemoryLogger, run_id: str) -> Iterator[dict[str, Callable[[], object]]]:
        """XREVRANGE of the newest 100 entries of the event stream, and XRANGE of the run's 500 entries from its
        first (a raw stream has no run index: a hand-written log would read a contiguous range)."""
        keys = _backend(memory).keys
        with self._client() as client:
            first = client.zrange(keys.run_events(run_id), 0, 0)[0]
            suffix, entry = client.hget(keys.ids, first).decode().split(" ")
            stream = keys.stream + suffix
            yield {
                "tail": lambda: client.xrevrange(stream, count=100),
                "trace": lambda: client.xrange(stream, min=entry, count=500),
            }


def _backend(memory: MemoryLogger) -> Any:
    """The logger's RedisBackend (typed loosely: orka-memory-redis is an optional install)."""
    return memory.backend
