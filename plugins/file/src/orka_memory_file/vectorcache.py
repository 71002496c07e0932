"""The stored memories' vectors, held in process memory for the file backend's vector search, with what its filters
read.

Reading every vector out of the file for each search cost about 2.5 µs a memory (a quarter of a second at 100,000
memories); ranking them in memory costs a tenth of that. The cache holds one float32 matrix per vector length, rows
in the order read, beside each memory's expiry, importance and labels (agent, run, namespace, ...: the columns
``MemoryFilter`` compares, as codes of the strings), so a search selects the memories its filters let through in
memory too: SQL would scan the index of every stored memory to find them. It catches up inside each search's own
read transaction, so it ranks what that snapshot holds:

- memories deleted since it last looked, by this process or another, are marked deleted (a trigger logs each
  deleted memory's ``seq`` in ``deleted_memories``), and dropped once they are most of the rows; then it reads
  again from the newest memory it still holds, because SQLite gives the next row inserted the ``seq`` above the
  largest left, which may be a deleted one's (so a ``seq`` may be held twice, once deleted);
- memories stored since it last looked (``seq`` above the newest it has seen) are appended.

A cache further behind than the log keeps (``schema.DELETION_LOG_ROWS``) reads every vector again. A search whose
snapshot is older than deletions the cache has already dropped gets None, and reads its vectors from the file.

It is built on the first vector search, so a process that never searches holds nothing, and it holds at most
``limit`` bytes (the ``vector_cache_mb`` setting; spare rows and the labels' text count): a store with more makes it
give up, free what it held and answer None, and searches read the vectors from the file instead, until a deletion
lets it try again.
Arrays handed out are never changed: appends go into spare rows beyond those a search was given, or into a new
buffer; marking rows deleted makes a new expiry column, and dropping them new arrays; so searches in several
threads share the cache under a short lock. A forked child starts its own (the parent's lock may have been held at
the fork).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from orka_memory.backend import MemoryFilter

from orka_memory_file import queries

FLOAT32_LE = np.dtype("<f4")
MIN_CAPACITY = 1024  # rows a new buffer holds at least; it doubles when full
FETCH_ROWS = 4096  # rows read at a time, so a store over the limit is noticed before all of it is in memory
LABEL_ENTRY_BYTES = 64  # what a label's place in the codes dict and its code take, beside the string itself
NEVER = np.iinfo(np.int64).max  # the expiry of a memory that does not expire
DELETED = np.iinfo(np.int64).min  # the expiry of a deleted memory's row, until the rows are compacted
# The MemoryFilter fields compared for equality, which the cache keeps as codes: the last columns of
# ``queries.MEMORY_VECTORS_AFTER``, in this order.
LABELS = ("agent_id", "run_id", "memory_type", "namespace", "session", "category")

Row = tuple[Any, ...]  # seq, expires_at, importance, vector (None for a memory without one), *LABELS


@dataclass(frozen=True, slots=True)
class Vectors:
    """Vectors of one length to rank: ``matrix[i]`` is the vector of the memory with ``seqs[i]``."""

    seqs: np.ndarray  # int64
    matrix: np.ndarray  # float32, (len(seqs), dimension)


def vectors_of(rows: Sequence[tuple[int, bytes]], length: int) -> Vectors:
    """The vectors of ``length`` bytes among ``rows`` of ``(seq, vector)``, as one matrix."""
    usable = [(seq, vector) for seq, vector in rows if len(vector) == length]
    if not usable or length % FLOAT32_LE.itemsize:
        return NO_MEMORIES.vectors
    matrix = np.frombuffer(b"".join(vector for _, vector in usable), dtype=FLOAT32_LE)
    seqs = np.fromiter((seq for seq, _ in usable), dtype=np.int64, count=len(usable))
    return Vectors(seqs, matrix.reshape(len(usable), length // FLOAT32_LE.itemsize))


class _Columns(NamedTuple):
    """A cache's arrays for one vector length, one row per memory."""

    seqs: np.ndarray  # int64, in the order read
    expires: np.ndarray  # int64 epoch ms (NEVER; DELETED)
    importance: np.ndarray  # float64, as stored
    labels: np.ndarray  # int32, (rows, len(LABELS)): the codes of the memory's LABELS
    matrix: np.ndarray  # float32, (rows, dimension)

    @classmethod
    def allocate(cls, rows: int, dimension: int) -> _Columns:
        return cls(
            seqs=np.empty(rows, dtype=np.int64),
            expires=np.empty(rows, dtype=np.int64),
            importance=np.empty(rows, dtype=np.float64),
            labels=np.empty((rows, len(LABELS)), dtype=np.int32),
            matrix=np.empty((rows, dimension), dtype=FLOAT32_LE),
        )

    def rows(self, selection: slice | np.ndarray) -> _Columns:
        return _Columns._make(array[selection] for array in self)


@dataclass(frozen=True, slots=True)
class Memories:
    """The cached memories whose vectors have one length, and what a search's filters compare."""

    columns: _Columns
    codes: Mapping[str | None, int]  # label -> its code (the cache's; it only grows)

    @property
    def vectors(self) -> Vectors:
        return Vectors(self.columns.seqs, self.columns.matrix)

    def passing(self, filters: MemoryFilter, newest: int, now_ms: int) -> np.ndarray:
        """The positions of the memories a search with ``filters`` may return at ``now_ms``, up to the snapshot's
        ``newest`` seq (the cache may hold newer ones): the same test as ``queries.FILTER_CONDITIONS`` in SQL."""
        columns = self.columns
        if filters.log_type not in (None, "memory"):  # the cache, like the search, holds stored memories only
            return np.empty(0, dtype=np.intp)
        selected = (columns.seqs <= newest) & (columns.expires > now_ms)
        for index, name in enumerate(LABELS):
            value = getattr(filters, name)
            if value is not None:
                code = self.codes.get(str(value))  # SQLite compares a TEXT column with the parameter as text
                if code is None:  # no memory held has this label
                    return np.empty(0, dtype=np.intp)
                selected &= columns.labels[:, index] == code
        if filters.min_importance is not None:
            selected &= columns.importance >= filters.min_importance
        return np.flatnonzero(selected)


def row_bytes(length: int) -> int:
    """The memory one cached memory takes: its vector of ``length`` bytes, its seq, expiry, importance and label
    codes (the labels' text is kept once however many memories share it: ``label_bytes``)."""
    return length + 3 * 8 + 4 * len(LABELS)


def label_bytes(label: str | None) -> int:
    """The memory one distinct label takes in the cache: the string and its entry in the codes."""
    return sys.getsizeof(label) + LABEL_ENTRY_BYTES


class _Buffer:
    """The growing columns of one vector length, with spare rows at the end."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.count = 0  # rows in use, deleted ones included
        self.deleted = 0  # rows marked deleted
        self.columns = _Columns.allocate(0, dimension)

    def extend(self, rows: Sequence[Row], codes: dict[str | None, int], room: int | None = None) -> int:
        """Append rows (their labels coded with ``codes``, which takes new labels); a new buffer doubles the
        capacity, but takes no more than ``room`` bytes beside the new labels unless the rows themselves need more.
        Returns the memory the new labels take."""
        new_labels = 0
        coded = np.empty((len(rows), len(LABELS)), dtype=np.int32)
        for index in range(len(LABELS)):  # column by column: a store's memories share few distinct labels
            column = [row[4 + index] for row in rows]
            for label in dict.fromkeys(column).keys() - codes.keys():
                codes[label] = len(codes)
                new_labels += label_bytes(label)
            coded[:, index] = np.fromiter(map(codes.__getitem__, column), dtype=np.int32, count=len(column))
        needed = self.count + len(rows)
        capacity = len(self.columns.seqs)
        if needed > capacity:  # a new buffer: the old one stays intact for searches that hold it
            capacity = max(needed, 2 * capacity, MIN_CAPACITY)
            if room is not None:
                capacity = max(needed, min(capacity, (room - new_labels) // row_bytes(4 * self.dimension)))
            grown = _Columns.allocate(capacity, self.dimension)
            for new, old in zip(grown, self.columns, strict=True):
                new[: self.count] = old[: self.count]
            self.columns = grown
        added = slice(self.count, needed)
        seqs, expires, importance, labels, matrix = self.columns
        seqs[added] = [row[0] for row in rows]
        expires[added] = [NEVER if row[1] is None else row[1] for row in rows]
        importance[added] = [row[2] for row in rows]
        matrix[added] = np.frombuffer(b"".join(row[3] for row in rows), dtype=FLOAT32_LE).reshape(-1, self.dimension)
        labels[added] = coded
        self.count = needed
        return new_labels

    def remove(self, seqs: np.ndarray) -> None:
        """Mark the rows of ``seqs`` (those it holds) deleted, in a new expiry column: no search selects them, and
        the vectors are not copied. Once most rows are deleted, the live ones are copied into new arrays."""
        held = self.columns.rows(slice(self.count))
        gone = np.isin(held.seqs, seqs) & (held.expires != DELETED)
        if not gone.any():
            return
        expires = self.columns.expires.copy()  # the column searches may hold stays as it was
        expires[: self.count][gone] = DELETED
        self.columns = self.columns._replace(expires=expires)
        self.deleted += int(gone.sum())
        if 2 * self.deleted > self.count:
            self.columns = held._replace(expires=expires[: self.count]).rows(expires[: self.count] != DELETED)
            self.count, self.deleted = len(self.columns.seqs), 0

    @property
    def newest(self) -> int:
        """The highest seq of a memory it holds that is not deleted (0 when none)."""
        held = self.columns.rows(slice(self.count))
        live = held.seqs[held.expires != DELETED]
        return int(live.max()) if len(live) else 0

    def view(self, codes: Mapping[str | None, int]) -> Memories:
        return Memories(self.columns.rows(slice(self.count)), codes)

    @property
    def nbytes(self) -> int:
        """The memory its arrays take, spare rows included."""
        return sum(array.nbytes for array in self.columns)


NO_MEMORIES = Memories(_Columns.allocate(0, 0), {})  # what a cache holding no vector of a length hands out


class VectorCache:
    """The vectors of one store's stored memories, for every thread of this process (see the module)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # bytes of vectors held at most
        self._start()

    def _start(self) -> None:
        """Empty, owned by this process, with a lock of its own."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._restart(None)

    def _restart(self, deleted: int | None) -> None:
        """Empty, to read every vector again in a snapshot whose newest deletion is at position ``deleted``."""
        self._deleted = deleted  # the position of the newest deletion dropped; None before the first read
        self._newest = 0  # the highest memory seq read, with or without a vector
        self._buffers: dict[int, _Buffer] = {}  # by vector length in bytes
        self._codes: dict[str | None, int] = {}  # every label read, coded (a new dict, for views yet to be made)
        self._label_bytes = 0  # what the labels in ``_codes`` take
        self._over = False  # the store's vectors exceed ``limit`` (until the next deletion)

    def memories(self, connection: sqlite3.Connection, length: int) -> Memories | None:
        """The stored memories with vectors of ``length`` bytes in ``connection``'s snapshot (call it inside the read
        transaction the search runs in), or None when they do not fit in the limit. May also hold memories newer
        than that snapshot: the snapshot's newest seq picks which of them count (``Memories.passing``)."""
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
                if sum(buffer.nbytes for buffer in self._buffers.values()) + self._label_bytes > self.limit:
                    cursor.close()
                    self._buffers, self._codes, self._label_bytes, self._over = {}, {}, 0, True
                    return None
            buffer = self._buffers.get(length)
            return NO_MEMORIES if buffer is None else buffer.view(self._codes)

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

    def _append(self, rows: list[Row]) -> None:
        by_length: dict[int, list[Row]] = {}
        for row in rows:
            vector = row[3]
            if vector is not None and len(vector) % FLOAT32_LE.itemsize == 0:
                by_length.setdefault(len(vector), []).append(row)
        for length, usable in by_length.items():
            buffer = self._buffers.get(length)
            if buffer is None:
                buffer = self._buffers[length] = _Buffer(length // FLOAT32_LE.itemsize)
            self._label_bytes += buffer.extend(usable, self._codes, room=self.limit - self._label_bytes)
        self._newest = rows[-1][0]
