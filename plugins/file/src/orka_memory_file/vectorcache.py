"""The stored memories' vectors, held in process memory for the file backend's vector search.

Reading every vector out of the file for each search cost about 2.5 µs a memory (a quarter of a second at 100,000
memories); ranking them in memory costs a tenth of that. The cache holds one float32 matrix per vector length, rows
in ``seq`` order, and catches up inside each search's own read transaction, so it ranks what that snapshot holds:

- memories deleted since it last looked, by this process or another, are dropped (a trigger logs each deleted
  memory's ``seq`` in ``deleted_memories``); then it reads again from the newest memory it still holds, because
  SQLite gives the next row inserted the ``seq`` above the largest left, which may be a deleted one's;
- memories stored since it last looked (``seq`` above the newest it has seen) are appended.

A cache further behind than the log keeps (``schema.DELETION_LOG_ROWS``) reads every vector again. A search whose
snapshot is older than deletions the cache has already dropped gets None, and reads its vectors from the file.

It is built on the first vector search, so a process that never searches holds nothing, and it holds at most
``limit`` bytes (the ``vector_cache_mb`` setting; spare rows count): a store with more makes it give up, free what
it held and answer None, and searches read the vectors from the file instead, until a deletion lets it try again.
Arrays handed out are never changed: appends go into spare rows beyond those a search was given, or into a new
buffer, and dropping rows copies the rest into new arrays, so searches in several threads share the cache under a
short lock. A forked child starts its own (the parent's lock may have been held at the fork).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from orka_memory_file import queries

FLOAT32_LE = np.dtype("<f4")
MIN_CAPACITY = 1024  # rows a new buffer holds at least; it doubles when full
FETCH_ROWS = 4096  # rows read at a time, so a store over the limit is noticed before all of it is in memory


@dataclass(frozen=True, slots=True)
class Vectors:
    """Stored memories' vectors of one length: ``matrix[i]`` is the vector of the memory with ``seqs[i]``, which
    expires at ``expires[i]`` (epoch ms; ``NEVER`` for a memory that does not)."""

    seqs: np.ndarray  # int64, ascending
    expires: np.ndarray  # int64
    matrix: np.ndarray  # float32, (len(seqs), dimension)


class _Buffer:
    """A growing ``Vectors`` of one dimension, with spare rows at the end."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.count = 0
        self.seqs = np.empty(0, dtype=np.int64)
        self.expires = np.empty(0, dtype=np.int64)
        self.matrix = np.empty((0, dimension), dtype=FLOAT32_LE)

    def extend(self, rows: Sequence[tuple[int, int | None, bytes]], max_rows: int | None = None) -> None:
        """Append ``(seq, expires_at, vector)`` rows; a new buffer doubles the capacity, but takes no more than
        ``max_rows`` rows unless the rows themselves need more."""
        needed = self.count + len(rows)
        if needed > len(self.seqs):  # a new buffer: the old one stays intact for searches that hold it
            capacity = max(needed, 2 * len(self.seqs), MIN_CAPACITY)
            if max_rows is not None:
                capacity = max(needed, min(capacity, max_rows))
            seqs, expires = np.empty(capacity, dtype=np.int64), np.empty(capacity, dtype=np.int64)
            matrix = np.empty((capacity, self.dimension), dtype=FLOAT32_LE)
            seqs[: self.count], expires[: self.count] = self.seqs[: self.count], self.expires[: self.count]
            matrix[: self.count] = self.matrix[: self.count]
            self.seqs, self.expires, self.matrix = seqs, expires, matrix
        self.seqs[self.count : needed] = [seq for seq, _, _ in rows]
        self.expires[self.count : needed] = [NEVER if expires is None else expires for _, expires, _ in rows]
        self.matrix[self.count : needed] = np.frombuffer(
            b"".join(vector for _, _, vector in rows), dtype=FLOAT32_LE
        ).reshape(len(rows), self.dimension)
        self.count = needed

    def remove(self, seqs: np.ndarray) -> None:
        """Drop the rows of ``seqs`` (those it holds), into new arrays without spare rows."""
        keep = ~np.isin(self.seqs[: self.count], seqs)
        if not keep.all():
            self.seqs, self.expires = self.seqs[: self.count][keep], self.expires[: self.count][keep]
            self.matrix = self.matrix[: self.count][keep]
            self.count = len(self.seqs)

    @property
    def newest(self) -> int:
        """The highest seq it holds (0 when empty)."""
        return int(self.seqs[self.count - 1]) if self.count else 0

    def view(self) -> Vectors:
        return Vectors(self.seqs[: self.count], self.expires[: self.count], self.matrix[: self.count])

    @property
    def nbytes(self) -> int:
        """The memory its arrays take, spare rows included."""
        return self.seqs.nbytes + self.expires.nbytes + self.matrix.nbytes

    @staticmethod
    def row_bytes(length: int) -> int:
        """The memory one row takes: its vector of ``length`` bytes, its seq and its expiry."""
        return length + 2 * np.dtype(np.int64).itemsize


NEVER = np.iinfo(np.int64).max
EMPTY = Vectors(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=FLOAT32_LE))


def vectors_of(rows: list[tuple[int, bytes]], length: int) -> Vectors:
    """The vectors of ``length`` bytes among ``rows`` of ``(seq, vector)`` in ``seq`` order, as one matrix (rows a
    query has already found live: their expiry is not kept)."""
    usable = [(seq, None, vector) for seq, vector in rows if len(vector) == length]
    if not usable or length % FLOAT32_LE.itemsize:
        return EMPTY
    buffer = _Buffer(length // FLOAT32_LE.itemsize)
    buffer.extend(usable)
    return buffer.view()


class VectorCache:
    """The vectors of one store's stored memories, for every thread of this process (see the module)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # bytes of vectors held at most
        self._start()

    def _start(self) -> None:
        """Empty, owned by this process, with a lock of its own."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._deleted: int | None = None  # the position of the newest deletion dropped; None before the first read
        self._newest = 0  # the highest memory seq read, with or without a vector
        self._buffers: dict[int, _Buffer] = {}  # by vector length in bytes
        self._over = False  # the store's vectors exceed ``limit`` (until the next deletion)

    def _restart(self, deleted: int) -> None:
        """Empty, to read every vector again in a snapshot whose newest deletion is at position ``deleted``."""
        self._deleted, self._newest, self._buffers, self._over = deleted, 0, {}, False

    def vectors(self, connection: sqlite3.Connection, length: int) -> Vectors | None:
        """The stored memories' vectors of ``length`` bytes in ``connection``'s snapshot (call it inside the read
        transaction the search runs in), or None when they do not fit in the limit. May also hold memories newer
        than that snapshot: the search's own SQL, or its snapshot's newest seq, picks which of them count."""
        if self.limit <= 0:
            return None
        if self._pid != os.getpid():
            self._start()
        oldest, newest = connection.execute(queries.DELETION_POSITIONS).fetchone()
        deleted = newest or 0  # the snapshot's newest deletion (0: none logged)
        with self._lock:
            if self._deleted is not None and deleted < self._deleted:
                return None  # the cache has dropped memories this snapshot still holds
            if self._deleted is None or (oldest or 0) > self._deleted + 1 or (self._over and deleted > self._deleted):
                self._restart(deleted)  # never read, further behind than the log, or over the limit before a deletion
            elif deleted > self._deleted:
                self._drop_deleted(connection, deleted)
            if self._over:
                return None
            cursor = connection.execute(queries.MEMORY_VECTORS_AFTER, (self._newest,))
            while rows := cursor.fetchmany(FETCH_ROWS):
                self._append(rows)
                if sum(buffer.nbytes for buffer in self._buffers.values()) > self.limit:
                    cursor.close()
                    self._buffers, self._over = {}, True
                    return None
            buffer = self._buffers.get(length)
            return EMPTY if buffer is None else buffer.view()

    def _drop_deleted(self, connection: sqlite3.Connection, deleted: int) -> None:
        """Drop the memories deleted after the last deletion dropped, through position ``deleted``."""
        rows = connection.execute(queries.DELETED_MEMORIES_AFTER, (self._deleted,)).fetchall()
        seqs = np.fromiter((seq for (seq,) in rows), dtype=np.int64, count=len(rows))
        for buffer in self._buffers.values():
            buffer.remove(seqs)
        # A seq above the newest memory held may have been deleted and given to a new memory: read from there again
        # (memories without a vector in between are read again too, and skipped).
        self._newest = max((buffer.newest for buffer in self._buffers.values()), default=0)
        self._deleted = deleted

    def _append(self, rows: list[tuple[int, int | None, bytes | None]]) -> None:
        by_length: dict[int, list[tuple[int, int | None, bytes]]] = {}
        for seq, expires_at, vector in rows:
            if vector is not None and len(vector) % FLOAT32_LE.itemsize == 0:
                by_length.setdefault(len(vector), []).append((seq, expires_at, vector))
        for length, usable in by_length.items():
            buffer = self._buffers.get(length)
            if buffer is None:
                buffer = self._buffers[length] = _Buffer(length // FLOAT32_LE.itemsize)
            buffer.extend(usable, max_rows=self.limit // _Buffer.row_bytes(length))
        self._newest = rows[-1][0]
