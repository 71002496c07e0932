"""Redis restarted in the middle of a run: the writer retries, spools what it cannot deliver, replays it when Redis
is back, and every event is stored exactly once."""

from __future__ import annotations

import time
from pathlib import Path

from orka_memory import create_memory_logger
from orka_memory.testing.conformance import LARGE_OUTPUT
from redis import Redis

from .conftest import RedisServer

EVENTS = 10_000
STOP_AT, START_AT = 3_000, 6_000
SPOOL_WAIT_SECONDS = 30  # the writer's retries take about a second; a loaded machine may need more


def test_a_restart_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "aof", "--appendonly", "yes", "--appendfsync", "everysec").start()
    try:
        with create_memory_logger("redis", redis_url=server.url, batch_size=200, socket_timeout=1,
                                  connection_retries=2) as memory:  # fmt: skip
            for step in range(EVENTS):
                if step == STOP_AT:
                    server.stop()
                elif step == START_AT:
                    # Redis comes back only once the writer has given up its retries and spooled, however long
                    # that takes on this machine: the replay is what this test is about.
                    deadline = time.monotonic() + SPOOL_WAIT_SECONDS
                    while memory.get_performance_metrics()["records_spooled"] == 0 and time.monotonic() < deadline:
                        time.sleep(0.05)
                    server.start()
                memory.log("agent", "step", {"step": step}, step=step, run_id="run-restart")
            memory.flush()
            metrics = memory.get_performance_metrics()
        assert metrics["records_spooled"] > 0, "the outage must have been long enough to reach the spool"
        assert metrics["records_replayed"] > 0 and metrics["spool_pending"] == 0

        server.stop()  # and once more: what was acknowledged is in the append-only file
        server.start()
        with create_memory_logger("redis", redis_url=server.url) as memory:
            steps = [event["step"] for event in memory.trace("run-restart")]
            assert steps == list(range(EVENTS))
            assert memory.get_memory_stats()["total_events"] == EVENTS
        with Redis(port=server.port) as client:
            assert client.hlen("{orka:memory}:ids") == EVENTS
    finally:
        server.stop()


def test_blobs_a_restart_without_persistence_lost_are_sent_again(tmp_path: Path) -> None:
    """This process remembers storing the shared output, so it would send a reference only; the server restarted
    empty. The writer asks which blobs the server holds before storing, and sends the lost one with the record."""
    shared = LARGE_OUTPUT
    server = RedisServer(tmp_path / "volatile").start()
    try:
        with create_memory_logger("redis", redis_url=server.url, socket_timeout=1, connection_retries=2) as memory:
            memory.log("agent", "result", {"out": shared}, step=1, run_id="run-before")
            memory.flush()
            server.stop()
            server.start()
            assert memory.trace("run-before") == [], "no persistence: the restart lost everything"
            memory.log("agent", "result", {"out": shared}, step=2, run_id="run-after")
            memory.flush()
            metrics = memory.get_performance_metrics()
            trace = memory.trace("run-after")
        assert metrics["blobs_resent"] == 1 and metrics["records_spooled"] == 0
        assert [event["payload"]["out"] for event in trace] == [shared]
    finally:
        server.stop()
