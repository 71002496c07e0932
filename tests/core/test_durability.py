"""Durability with real processes: a kill -9 after flush() loses nothing; two processes share one store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from orka_memory import create_memory_logger

LOGGING_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from orka_memory import create_memory_logger

    path, run_id, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    memory = create_memory_logger("file", path=path)
    for step in range(count):
        memory.log("agent", "tick", {"step": step, "text": "x" * 500}, step=step, run_id=run_id)
    memory.flush()
    print("flushed", flush=True)
    if mode == "hang":
        time.sleep(60)
    memory.close()
    """
)


def _start(path: Path, run_id: str, count: int, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LOGGING_SCRIPT, str(path), run_id, str(count), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_kill_9_after_flush_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    process = _start(path, "run-kill", 5000, "hang")
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "flushed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    with create_memory_logger("file", path=str(path)) as memory:
        assert [event["step"] for event in memory.trace("run-kill")] == list(range(5000))


def test_two_processes_logging_at_once_keep_all_records(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    processes = [_start(path, f"run-{index}", 3000, "exit") for index in range(2)]
    for process in processes:
        assert process.wait(120) == 0
    with create_memory_logger("file", path=str(path)) as memory:
        for index in range(2):
            assert [event["step"] for event in memory.trace(f"run-{index}")] == list(range(3000))
        assert memory.get_memory_stats()["total_events"] == 6000
