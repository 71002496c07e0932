"""The stored memories' vectors, held in process memory for the file backend's vector search.

Reading every vector out of the file for each search cost about 2.5 µs a memory (a quarter of a second at 100,000
memories); ranking them in memory costs a tenth of that. The cache holds one float32 matrix per vector length, rows
in ``seq`` order, and catches up inside each search's own read transaction, so it ranks what that snapshot holds:

- memories stored since it last looked (``seq`` above the newest it has seen) are appended;
- when a stored memory was deleted, by this process or another (``memory_deletions`` counts them, by a trigger),
  it reads every vector again: deletions are rare (cleanup, ``delete_record``, clearing), and the ``seq`` of a deleted
  newest row is given to the next row inserted, which appending alone would miss.

It is built on the first vector search, so a process that never searches holds nothing, and it holds at most
``limit`` bytes (the ``vector_cache_mb`` setting; spare rows count): a store with more makes it give up, free what
it held and answer None, and searches read the vectors from the file instead, until a deletion lets it try again.
Arrays handed out are never changed: appends go into spare rows beyond those a search was given, or into a new
buffer, so searches in several threads share the cache under a short lock. A forked child starts its own (the
parent's lock may have been held at the fork).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

from orka_memory_file import queries

FLOAT32_LE = np.dtype("<f4")
MIN_CAPACITY = 1024  # rows a new buffer holds at least; it doubles when full
FETCH_ROWS = 4096  # rows read at a time, so a store over the limit is noticed before all of it is in memory


@dataclass(frozen=True, slots=True)
class Vectors:
    """Stored memories' vectors of one length: ``matrix[i]`` is the vector of the memory with ``seqs[i]``."""

    seqs: np.ndarray  # int64, ascending
    matrix: np.ndarray  # float32, (len(seqs), dimension)


class _Buffer:
    """A growing ``Vectors`` of one dimension, with spare rows at the end."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.count = 0
        self.seqs = np.empty(0, dtype=np.int64)
        self.matrix = np.empty((0, dimension), dtype=FLOAT32_LE)

    def extend(self, seqs: list[int], vectors: list[bytes], max_rows: int | None = None) -> None:
        """Append rows; a new buffer doubles the capacity, but takes no more than ``max_rows`` rows unless the
        rows themselves need more."""
        needed = self.count + len(seqs)
        if needed > len(self.seqs):  # a new buffer: the old one stays intact for searches that hold it
            capacity = max(needed, 2 * len(self.seqs), MIN_CAPACITY)
            if max_rows is not None:
                capacity = max(needed, min(capacity, max_rows))
            grown_seqs = np.empty(capacity, dtype=np.int64)
            grown_matrix = np.empty((capacity, self.dimension), dtype=FLOAT32_LE)
            grown_seqs[: self.count] = self.seqs[: self.count]
            grown_matrix[: self.count] = self.matrix[: self.count]
            self.seqs, self.matrix = grown_seqs, grown_matrix
        self.seqs[self.count : needed] = seqs
        self.matrix[self.count : needed] = np.frombuffer(b"".join(vectors), dtype=FLOAT32_LE).reshape(
            len(vectors), self.dimension
        )
        self.count = needed

    def view(self) -> Vectors:
        return Vectors(self.seqs[: self.count], self.matrix[: self.count])

    @property
    def nbytes(self) -> int:
        """The memory its arrays take, spare rows included."""
        return self.seqs.nbytes + self.matrix.nbytes


EMPTY = Vectors(np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=FLOAT32_LE))


def vectors_of(rows: list[tuple[int, bytes]], length: int) -> Vectors:
    """The vectors of ``length`` bytes among ``rows`` of ``(seq, vector)`` in ``seq`` order, as one matrix."""
    usable = [(seq, vector) for seq, vector in rows if len(vector) == length]
    if not usable or length % FLOAT32_LE.itemsize:
        return EMPTY
    buffer = _Buffer(length // FLOAT32_LE.itemsize)
    buffer.extend([seq for seq, _ in usable], [vector for _, vector in usable])
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
        self._generation: int | None = None  # memory_deletions when the buffers were started
        self._newest = 0  # the highest memory seq read, with or without a vector
        self._buffers: dict[int, _Buffer] = {}  # by vector length in bytes
        self._over = False  # the store's vectors exceed ``limit`` (in generation ``_generation``)

    def vectors(self, connection: sqlite3.Connection, length: int) -> Vectors | None:
        """The stored memories' vectors of ``length`` bytes in ``connection``'s snapshot (call it inside the read
        transaction the search runs in), or None when they do not fit in the limit. May also hold memories newer
        than that snapshot: the search's own SQL picks which of them count."""
        if self.limit <= 0:
            return None
        if self._pid != os.getpid():
            self._start()
        generation: int = connection.execute(queries.MEMORY_DELETIONS).fetchone()[0]
        with self._lock:
            if generation != self._generation:
                self._generation, self._newest, self._buffers, self._over = generation, 0, {}, False
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

    def _append(self, rows: list[tuple[int, bytes | None]]) -> None:
        by_length: dict[int, tuple[list[int], list[bytes]]] = {}
        for seq, vector in rows:
            if vector is not None and len(vector) % FLOAT32_LE.itemsize == 0:
                seqs, vectors = by_length.setdefault(len(vector), ([], []))
                seqs.append(seq)
                vectors.append(vector)
        for length, (seqs, vectors) in by_length.items():
            buffer = self._buffers.get(length)
            if buffer is None:
                buffer = self._buffers[length] = _Buffer(length // FLOAT32_LE.itemsize)
            buffer.extend(seqs, vectors, max_rows=self.limit // (length + np.dtype(np.int64).itemsize))
        self._newest = rows[-1][0]
