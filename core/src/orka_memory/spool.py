"""The local spool: where encoded batches wait, durably, while the backend cannot be reached.

A spool is a small SQLite file per backend location (``<spool_dir>/<backend>-<hash of location>.sqlite``), so a
process that restarts replays what an earlier one could not deliver. Replays are idempotent because every record
carries its client-generated id, and the backend skips ids it already has.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Any

from orka_memory.backend import Blob, EncodedRecord

_RECORD_FIELDS = tuple(field.name for field in dataclasses.fields(EncodedRecord))
_BLOB_FIELDS = tuple(field.name for field in dataclasses.fields(Blob))


def spool_path(spool_dir: Path, backend_name: str, location: str) -> Path:
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return spool_dir / f"{backend_name}-{digest}.sqlite"


class Spool:
    """A FIFO of batches on local disk. Used by the writer's storer thread only, plus ``pending()`` from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, {', '.join(_RECORD_FIELDS)})")
            db.execute(f"CREATE TABLE IF NOT EXISTS blobs (hash PRIMARY KEY, {', '.join(_BLOB_FIELDS[1:])})")
            self._db = db
        return self._db

    def exists(self) -> bool:
        return self._db is not None or self.path.exists()

    def push(self, records: list[EncodedRecord], blobs: list[Blob]) -> None:
        """Append a batch durably (one transaction, fsynced)."""
        with self._lock:
            db = self._connection()
            with db:
                db.execute("BEGIN IMMEDIATE")
                columns, marks = ", ".join(_RECORD_FIELDS), ", ".join("?" * len(_RECORD_FIELDS))
                db.executemany(
                    f"INSERT INTO records ({columns}) VALUES ({marks})",
                    [dataclasses.astuple(record) for record in records],
                )
                db.executemany(
                    f"INSERT OR REPLACE INTO blobs VALUES ({', '.join('?' * len(_BLOB_FIELDS))})",
                    [dataclasses.astuple(blob) for blob in blobs],
                )

    def peek(self, limit: int) -> tuple[list[EncodedRecord], list[Blob], int]:
        """The oldest ``limit`` records with every spooled blob, and the last seq they reach (for ``drop``)."""
        with self._lock:
            db = self._connection()
            rows = db.execute(
                f"SELECT seq, {', '.join(_RECORD_FIELDS)} FROM records ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
            blobs = [Blob(*row) for row in db.execute(f"SELECT {', '.join(_BLOB_FIELDS)} FROM blobs")]
        records = [EncodedRecord(*row[1:]) for row in rows]
        return records, blobs, rows[-1][0] if rows else 0

    def drop(self, up_to_seq: int) -> None:
        """Forget records up to ``up_to_seq`` once the backend has them; blobs go when the last record does,
        since any spooled record may refer to any spooled blob."""
        with self._lock:
            db = self._connection()
            with db:
                db.execute("BEGIN IMMEDIATE")
                db.execute("DELETE FROM records WHERE seq <= ?", (up_to_seq,))
                if db.execute("SELECT NOT EXISTS (SELECT 1 FROM records)").fetchone()[0]:
                    db.execute("DELETE FROM blobs")

    def pending(self) -> int:
        """How many records wait in the spool."""
        if not self.exists():
            return 0
        with self._lock:
            row: Any = self._connection().execute("SELECT count(*) FROM records").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
