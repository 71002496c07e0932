"""Threads and processes sharing one store keep every record; an acknowledged batch survives a killed process."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from orka_memory.backend import EncodedRecord
from orka_memory_file import FileBackend

MakeRecord = Callable[..., EncodedRecord]

NOW = 1_700_000_000_000

# A child process appending ``total`` records with ids ``<prefix>-<n>`` in batches, printing how many it has
# committed after each append returns. With a "wait" argument it first prints "ready" and waits for a line on stdin,
# so several children start writing at the same moment.
WRITER = """
import sys
from pathlib import Path

import pytest
from orka_memory.backend import EncodedRecord
from orka_memory_file import FileBackend, FileSettings

path, prefix, total, batch, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
backend = FileBackend.open(FileSettings(path=Path(path)))


def record(index):
    body = b'{"n": %d}' % index
    return EncodedRecord(
        id=f"{prefix}-{index}", created_at=index, log_type="log", agent_id=prefix, event_type="tick",
        run_id=prefix, memory_type="short_term", category="log", importance=0.5, namespace=None, session=None,
        expires_at=None, text=None, codec="none", body=body, raw_size=len(body),
    )


if wait == "wait":
    print("ready", flush=True)
    sys.stdin.readline()
for start in range(0, total, batch):
    backend.append([record(index) for index in range(start, min(start + batch, total))], [])
    print(min(start + batch, total), flush=True)
backend.close()
"""


SpawnWriter = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def spawn_writer(store_path: Path, subprocess_env: dict[str, str]) -> Iterator[SpawnWriter]:
    """Starts WRITER children on the test's store; kills any still running and closes their pipes afterwards."""
    started: list[subprocess.Popen[str]] = []

    def spawn(prefix: str, total: int, batch: int, *, wait: bool) -> subprocess.Popen[str]:
        arguments = [str(store_path), prefix, str(total), str(batch), "wait" if wait else "go"]
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER, *arguments],
            env=subprocess_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        with process:  # closes the pipes and waits
            process.kill()


def test_threads_appending_at_once_keep_every_record(backend: FileBackend, record: MakeRecord) -> None:
    threads, per_thread, batch = 8, 500, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def write(worker: int) -> None:
        try:
            start.wait()
            for first in range(0, per_thread, batch):
                backend.append(
                    [record(f"t{worker}-{index}", run_id=f"run-{worker}") for index in range(first, first + batch)], []
                )
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    def read() -> None:  # a reader running alongside, as callers do while the writer appends
        start.wait()
        while any(thread.is_alive() for thread in pool):
            backend.recent(10, now_ms=NOW)

    pool = [threading.Thread(target=write, args=(worker,)) for worker in range(threads)]
    reader = threading.Thread(target=read)
    for thread in [*pool, reader]:
        thread.start()
    for thread in [*pool, reader]:
        thread.join()
    assert errors == []
    stored = [item.id for item in backend.iter_records(now_ms=NOW)]
    assert len(stored) == len(set(stored)) == threads * per_thread
    assert backend.stats(now_ms=NOW).events == threads * per_thread
    for worker in range(threads):
        trace = [item.id for item in backend.by_run(f"run-{worker}", now_ms=NOW)]
        assert trace == [f"t{worker}-{index}" for index in range(per_thread)], "each thread's records stay in order"


def test_connections_of_finished_threads_are_closed(backend: FileBackend) -> None:
    def touch() -> None:
        backend.recent(1, now_ms=NOW)

    for _ in range(5):
        thread = threading.Thread(target=touch)
        thread.start()
        thread.join()
    backend.recent(1, now_ms=NOW)
    assert len(backend._connections) <= 2, "only live threads keep a connection"


def test_processes_appending_at_once_keep_every_record(
    open_store: Callable[..., FileBackend], spawn_writer: SpawnWriter
) -> None:
    """Two processes create the same new store and append to it at the same time."""
    per_process = 2000
    writers = [spawn_writer(name, per_process, 20, wait=True) for name in ("p1", "p2")]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        _, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr
    backend = open_store()
    stored = [item.id for item in backend.iter_records(now_ms=NOW)]
    assert len(stored) == len(set(stored)) == 2 * per_process
    assert backend.stats(now_ms=NOW).events == 2 * per_process
    for name in ("p1", "p2"):
        assert [item.id for item in backend.by_run(name, now_ms=NOW)] == [f"{name}-{i}" for i in range(per_process)]


def test_every_acknowledged_batch_survives_a_killed_process(
    open_store: Callable[..., FileBackend], spawn_writer: SpawnWriter
) -> None:
    writer = spawn_writer("d", 1_000_000, 50, wait=False)
    assert writer.stdout is not None
    acknowledged = 0
    while acknowledged < 1500:
        line = writer.stdout.readline()
        assert line, "the writer stopped early"
        acknowledged = int(line)
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate(timeout=10)  # lines printed before the kill: acknowledged too
    acknowledged = max([acknowledged, *map(int, rest.split())])
    assert writer.returncode == -signal.SIGKILL
    backend = open_store()
    stored = [item.id for item in backend.iter_records(now_ms=NOW)]
    assert len(stored) >= acknowledged
    assert stored[:acknowledged] == [f"d-{index}" for index in range(acknowledged)]
    assert backend.stats(now_ms=NOW).events == len(stored), "the counters were committed with the records"
