"""The file backend (SQLite, WAL, ``synchronous=FULL``) next to raw SQLite doing the same durable work.

The raw client inserts each event's JSON with its id and run id into one table indexed by run, one transaction per
batch, with the same journal mode and fsync policy: what a hand-written SQLite event log would do. Its reads are
the same SQL on the logger's own store, without decoding: what the backend's queries cost the engine.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import orjson
from cputime import spent
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory_file.backend import FileBackend
from target import RawWrite, Target
from workload import Event, timed


def sqlite_bytes(path: Path) -> int:
    """The database's size once its write-ahead log is checkpointed into it (the WAL file keeps its size after a
    checkpoint, so counting it would measure SQLite's reuse policy, not the data)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


class FileTarget(Target):
    name = "file"
    family = "file"
    describe = "SQLite file, WAL, synchronous=FULL (one fsync per batch)"
    raw_client = "sqlite3 INSERT of the same JSON, same WAL/fsync policy, one transaction per batch"
    searches = True  # exact vector search over the stored memories the SQL filters select
    largest_read = None  # reads by run and newest first are indexed: flat at every size

    @contextlib.contextmanager
    def store(self) -> Iterator[MemoryLogger]:
        with tempfile.TemporaryDirectory(prefix="orka-bench-") as folder:
            path = Path(folder) / "orka.db"
            with create_memory_logger("file", path=str(path), spool_dir=str(Path(folder) / "spool")) as memory:
                yield memory

    def engine_bytes(self, memory: MemoryLogger) -> int:
        return sqlite_bytes(_path(memory))

    def write_raw(self, events: Sequence[Event], batch: int) -> RawWrite:
        with tempfile.TemporaryDirectory(prefix="orka-bench-raw-") as folder:
            path = Path(folder) / "raw.db"
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, run_id TEXT, body BLOB)")
                db.execute("CREATE INDEX events_run ON events (run_id)")

                def write() -> None:
                    for start in range(0, len(events), batch):
                        part = events[start : start + batch]
                        rows = [(e.raw_id, e.run_id, orjson.dumps(e.payload)) for e in part]
                        db.execute("BEGIN")
                        db.executemany("INSERT INTO events (id, run_id, body) VALUES (?, ?, ?)", rows)
                        db.execute("COMMIT")

                empty = sqlite_bytes(path)
                seconds, cpu_seconds = spent(self.cpu_clock(), write)
            return RawWrite(seconds, cpu_seconds, sqlite_bytes(path) - empty)

    def write_raw_others(self, events: Sequence[Event], batch: int) -> dict[str, float]:
        """A buffered append: each event's id, run id and JSON as one line of a file, fsynced once per batch, as
        the WAL is at each commit. The least any durable log of these bytes can do."""

        def line(event: Event) -> bytes:
            return b"%s\t%s\t%s\n" % (event.raw_id.encode(), event.run_id.encode(), orjson.dumps(event.payload))

        with (
            tempfile.TemporaryDirectory(prefix="orka-bench-raw-") as folder,
            open(Path(folder) / "raw.log", "ab") as log,
        ):

            def write() -> None:
                for start in range(0, len(events), batch):
                    log.write(b"".join(line(event) for event in events[start : start + batch]))
                    log.flush()
                    os.fsync(log.fileno())

            return {"a buffered append, fsync per batch": timed(write)}

    @contextlib.contextmanager
    def raw_reads(self, memory: MemoryLogger, run_id: str) -> Iterator[dict[str, Callable[[], object]]]:
        with contextlib.closing(sqlite3.connect(_path(memory))) as db:
            yield {
                "tail": lambda: db.execute("SELECT body FROM records ORDER BY seq DESC LIMIT 100").fetchall(),
                "trace": lambda: db.execute(
                    "SELECT body FROM records WHERE run_id = ? ORDER BY seq", (run_id,)
                ).fetchall(),
            }


def _path(memory: MemoryLogger) -> Path:
    return cast(FileBackend, memory.backend).path
