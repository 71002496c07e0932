"""The write path under trouble: outages spool and replay exactly once, in order; a full queue blocks, never drops.

``OutageFileBackend`` is a test double, named as such: the real file backend with outages injected on demand,
because a local SQLite file cannot be made unreachable the way a server can. The real-server versions of these
tests (a redis-server restarted mid-run, a broker stopped) belong to the server backends' suites.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from orka_memory import BackendUnavailable, Blob, EncodedRecord, create_memory_logger, hookimpl
from orka_memory.plugins import PluginManager
from orka_memory.testing.conformance import LARGE_OUTPUT
from orka_memory_file import FileBackend


class OutageFileBackend(FileBackend):
    """The file backend, plus switches that make ``append`` fail or wait (fault injection for the writer)."""

    name = "outage-file"
    down = threading.Event()
    gate: threading.Event | None = None
    failed_calls = 0

    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        if type(self).gate is not None:
            type(self).gate.wait()
        if type(self).down.is_set():
            type(self).failed_calls += 1
            raise BackendUnavailable("injected outage")
        super().append(records, blobs)


@pytest.fixture
def plugins() -> PluginManager:
    class Plugin:
        @hookimpl
        def orka_memory_register_backends(self, register):  # type: ignore[no-untyped-def]
            register(OutageFileBackend)

    OutageFileBackend.down.clear()
    OutageFileBackend.gate = None
    OutageFileBackend.failed_calls = 0
    manager = PluginManager().load()
    manager.register(Plugin(), name="outage")
    return manager


def _logger(tmp_path: Path, plugins: PluginManager, **settings: Any):  # type: ignore[no-untyped-def]
    return create_memory_logger(
        "outage-file",
        path=str(tmp_path / "store.db"),
        spool_dir=str(tmp_path / "spool"),
        retry_backoff_seconds=0.01,
        plugins=plugins,
        **settings,
    )


def test_outage_spools_then_replays_every_record_once_in_order(tmp_path: Path, plugins: PluginManager) -> None:
    with _logger(tmp_path, plugins, batch_size=50) as memory:
        for step in range(300):
            memory.log("a", "tick", {"step": step}, step=step, run_id="r")
        memory.flush()
        OutageFileBackend.down.set()
        for step in range(300, 1000):
            memory.log("a", "tick", {"step": step}, step=step, run_id="r")  # never raises
        memory.flush()  # returns: spooled records are durable locally
        metrics = memory.get_performance_metrics()
        assert metrics["spool_pending"] == 700 and metrics["records_spooled"] == 700
        assert OutageFileBackend.failed_calls >= 3
        OutageFileBackend.down.clear()
        for step in range(1000, 1100):
            memory.log("a", "tick", {"step": step}, step=step, run_id="r")
        memory.flush()
        assert [event["step"] for event in memory.trace("r")] == list(range(1100))
        assert memory.get_performance_metrics()["spool_pending"] == 0


def test_spool_left_by_a_closed_logger_is_replayed_by_the_next(tmp_path: Path, plugins: PluginManager) -> None:
    OutageFileBackend.down.set()
    with _logger(tmp_path, plugins) as memory:
        for step in range(50):
            memory.log("a", "tick", {}, step=step, run_id="r")
    OutageFileBackend.down.clear()
    with _logger(tmp_path, plugins) as memory:
        memory.log("a", "tick", {}, step=50, run_id="r")
        memory.flush()
        assert [event["step"] for event in memory.trace("r")] == list(range(51))


def test_a_full_queue_blocks_log_and_loses_nothing(tmp_path: Path, plugins: PluginManager) -> None:
    OutageFileBackend.gate = threading.Event()
    with _logger(tmp_path, plugins, queue_size=10, batch_size=5) as memory:
        done = threading.Event()

        def produce() -> None:
            for step in range(100):
                memory.log("a", "tick", {}, step=step, run_id="r")
            done.set()

        producer = threading.Thread(target=produce)
        producer.start()
        assert not done.wait(0.5), "log() must block while the queue is full"
        assert memory.writer.queued == 10
        OutageFileBackend.gate.set()
        producer.join()
        memory.flush()
        assert len(memory.trace("r")) == 100


def test_event_durability_stores_before_log_returns(tmp_path: Path, plugins: PluginManager) -> None:
    with _logger(tmp_path, plugins, durability="event") as memory:
        memory.log("a", "tick", {"n": 1}, run_id="r")
        assert memory.writer.queued == 0
        assert [e["payload"] for e in memory.trace("r")] == [{"n": 1}]


def test_logging_after_close_is_an_error_not_a_silent_drop(tmp_path: Path, plugins: PluginManager) -> None:
    memory = _logger(tmp_path, plugins)
    memory.close()
    with pytest.raises(RuntimeError, match="closed"):
        memory.log("a", "tick", {})


# -- a blob the engine lost -------------------------------------------------------------------------------------

SHARED_OUTPUT = LARGE_OUTPUT  # stored as a blob: above the blob threshold


def _lose_every_blob(memory: Any) -> None:
    """What an engine that lost data looks like to this process: the blobs it stored are gone. (A second SQLite
    connection deletes them; the servers' suites lose them for real, by restart or a topic made anew.)"""
    with sqlite3.connect(memory.backend.path) as other:
        other.execute("DELETE FROM blobs")


def test_a_blob_the_engine_lost_is_sent_again_with_the_next_record_that_refers_to_it(
    tmp_path: Path, plugins: PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    with _logger(tmp_path, plugins) as memory:
        memory.log("a", "result", {"out": SHARED_OUTPUT}, step=1, run_id="r")
        memory.flush()
        memory.log("a", "result", {"out": SHARED_OUTPUT}, step=2, run_id="r")
        memory.flush()
        assert memory.get_performance_metrics()["blobs_written"] == 1, "a known blob is not sent twice"
        _lose_every_blob(memory)
        memory.log("b", "result", {"out": SHARED_OUTPUT}, step=3, run_id="r")
        memory.flush()
        metrics = memory.get_performance_metrics()
        trace = memory.trace("r")
    assert metrics["blobs_resent"] == 1 and metrics["blobs_written"] == 2
    assert [event["payload"]["out"] for event in trace] == [SHARED_OUTPUT] * 3, "the lost blob is stored again"
    assert "no longer holds 1 blobs" in caplog.text


def test_a_spooled_batch_carries_the_blobs_it_refers_to(tmp_path: Path, plugins: PluginManager) -> None:
    with _logger(tmp_path, plugins) as memory:
        memory.log("a", "result", {"out": SHARED_OUTPUT}, step=1, run_id="r")
        memory.flush()
        OutageFileBackend.down.set()
        memory.log("b", "result", {"out": SHARED_OUTPUT}, step=2, run_id="r")
        memory.flush()
        assert memory.get_performance_metrics()["spool_pending"] == 1
        _lose_every_blob(memory)  # the engine came back without its data
        OutageFileBackend.down.clear()
        memory.log("c", "tick", {"n": 3}, step=3, run_id="r")
        memory.flush()
        trace = memory.trace("r")
    assert [event["agent_id"] for event in trace] == ["a", "b", "c"]
    assert trace[1]["payload"]["out"] == SHARED_OUTPUT, "the replayed record's blob came with it from the spool"
