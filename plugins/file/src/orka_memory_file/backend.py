"""The ``file`` backend: orka-memory's embedded default store, one SQLite database in WAL mode.

Why SQLite: it ships with Python, needs no server, and gives real transactions, B-tree indexes and full-text search
(FTS5) in one file. WAL mode lets readers run while a writer commits, and lets several processes share the file.

How the guarantees are met:

- Durability: every ``append`` (and every key-value write) is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction,
  so when it returns the batch is in the WAL, fsynced with ``synchronous=FULL``.
- Concurrency: each thread gets its own connection (a SQLite connection must not run two statements from two
  threads at once); writers sharing a backend queue on a lock, and writers of other processes wait for SQLite's
  write lock through ``busy_timeout``. ``BEGIN IMMEDIATE`` takes that lock up front, so a write transaction never
  fails half-way on a lock; the rare ``database is locked`` that still escapes is retried.
- Expiry: every read filters ``expires_at > now_ms`` in SQL; ``cleanup`` finds expired rows through partial indexes
  on ``expires_at`` and never touches live data.
- Counts: ``stats`` reads the ``tallies`` table that triggers maintain (see ``schema``), plus the expired rows the
  expiry indexes find, so it never scans.
- Errors: a damaged or foreign file raises ``CorruptStoreError`` naming the path and the fix; an unreachable file
  (a directory, a missing permission, a full disk, a lock held too long) raises ``BackendUnavailable``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import operator
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Concatenate, ParamSpec, Self, TypeVar

from orka_memory.backend import (
    BackendError,
    BackendStats,
    BackendUnavailable,
    Blob,
    Capability,
    CleanupReport,
    CorruptStoreError,
    EncodedRecord,
    MemoryFilter,
    VectorSpaceMismatch,
    WrongTypeError,
)

from orka_memory_file import queries
from orka_memory_file.nearest import nearest
from orka_memory_file.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    MIN_SQLITE_VERSION,
    RECORD_COLUMNS,
    REQUIRED_TABLES,
    SCHEMA,
    SCHEMA_VERSION,
)
from orka_memory_file.settings import FileSettings
from orka_memory_file.vectorcache import VectorCache, vectors_of

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger
    from pydantic import BaseModel

P = ParamSpec("P")
T = TypeVar("T")

ITER_BATCH = 1000  # records per page of iter_records
BLOB_CHUNK = 500  # hashes per SELECT in get_blobs and held_blobs, well under SQLite's limit on bound parameters
LOCK_ATTEMPTS = 4  # tries of a statement or transaction that finds the database locked after busy_timeout
LOCK_PAUSE_S = 0.05  # pause before the next try, times the attempt number

SQLITE_HEADER = b"SQLite format 3\x00"
_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_UNAVAILABLE_CODES = _BUSY_CODES | {
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_PROTOCOL,
    sqlite3.SQLITE_NOMEM,
}
_MOVE_ASIDE = (
    "move the file aside (with its -wal and -shm files) and start a new store; `orka-memory import` can load an "
    "export into it"
)
_ELSEWHERE = "set [file] path (ORKA_MEMORY_FILE__PATH) to another file"

# What a search query is split into: runs of letters and digits, close to FTS5's unicode61 tokenizer. Each is then
# quoted, so no user text is ever parsed as FTS5 syntax (AND, NEAR, *, ", parentheses, column filters).
_WORD = re.compile(r"\w+")


# -- errors -----------------------------------------------------------------------------------------------------


def _corrupt(path: Path, problem: str, fix: str = _MOVE_ASIDE) -> CorruptStoreError:
    return CorruptStoreError(f"the orka-memory store {path} {problem}; {fix}")


def _primary_code(error: sqlite3.Error) -> int | None:
    """SQLite's primary result code (extended codes carry it in the low byte), None for Python-level errors."""
    code: int | None = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def translate_error(path: Path, error: sqlite3.Error) -> BackendError | None:
    """The orka-memory error for a SQLite error, or None when it is a bug to report as is (a SQL mistake).

    Corruption codes become ``CorruptStoreError`` (the front-end cannot retry its way out of them), codes that
    say the file cannot be reached right now become ``BackendUnavailable`` (the writer retries, then spools).
    """
    code = _primary_code(error)
    if code in _CORRUPT_CODES or type(error) is sqlite3.DatabaseError:
        return _corrupt(path, f"cannot be read ({error})")
    if code in _UNAVAILABLE_CODES:
        return BackendUnavailable(f"the SQLite store {path} is unavailable: {error}")
    return None


def _translated(method: Callable[Concatenate[FileBackend, P], T]) -> Callable[Concatenate[FileBackend, P], T]:
    """Re-raise SQLite errors of ``method`` as orka-memory errors naming the store, so callers never see a raw
    ``sqlite3`` traceback for a damaged or unreachable file."""

    def call(self: FileBackend, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            translated = translate_error(self.path, error)
            if translated is None:
                raise
            raise translated from error

    functools.update_wrapper(call, method)
    return call


# -- transactions -----------------------------------------------------------------------------------------------


def _retry_locked(operation: Callable[[], T]) -> T:
    """Run ``operation``, again after a short pause when SQLite still reports the database locked.

    busy_timeout already waits for other writers, but SQLite skips it in a few cases (such as a lock met while
    another connection recovers the WAL after a crash), and these clear up at once.
    """
    for attempt in range(1, LOCK_ATTEMPTS):
        try:
            return operation()
        except sqlite3.OperationalError as error:
            if _primary_code(error) not in _BUSY_CODES:
                raise
            time.sleep(LOCK_PAUSE_S * attempt)
    return operation()


def _run_transaction(connection: sqlite3.Connection, begin: str, work: Callable[[sqlite3.Connection], T]) -> T:
    """``begin``, ``work``, COMMIT; ROLLBACK on any error, so a failed call (``WrongTypeError`` included) changes
    nothing."""
    connection.execute(begin)
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the original error is the one to report
                connection.execute("ROLLBACK")
        raise
    return result


# -- records, search and stats ----------------------------------------------------------------------------------

_RECORD_WIDTH = len(RECORD_COLUMNS)
_record_row = operator.attrgetter(*RECORD_COLUMNS)  # an EncodedRecord as the row queries.insert_records binds
INSERT_ROWS_MAX = 500  # records per INSERT statement, within SQLite's limit on parameters


def _tallies(records: Sequence[EncodedRecord]) -> list[tuple[str, str, int, int, int]]:
    """(log type, memory type, rows, raw bytes, stored bytes) of ``records``, per log type and memory type."""
    sums: dict[tuple[str, str], list[int]] = {}
    for record in records:
        total = sums.setdefault((record.log_type, record.memory_type), [0, 0, 0])
        total[0] += 1
        total[1] += record.raw_size
        total[2] += len(record.body)
    return [(log_type, memory_type, rows, raw, stored) for (log_type, memory_type), (rows, raw, stored) in sums.items()]


def _insert_records(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``rows`` with few statements, within SQLite's parameter limit; returns how many were new."""
    largest = min(INSERT_ROWS_MAX, connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _RECORD_WIDTH)
    inserted, start = 0, 0
    for size in statement_sizes(len(rows), largest):
        parameters = list(itertools.chain.from_iterable(rows[start : start + size]))
        inserted += connection.execute(queries.insert_records(size), parameters).rowcount
        start += size
    return inserted


def statement_sizes(count: int, largest: int) -> list[int]:
    """How many rows each INSERT of a ``count``-row batch takes: ``largest`` while that many are left, then powers
    of two. So a connection prepares (and caches) at most a dozen INSERT statements, whatever the batch sizes: a
    prepared 500-row INSERT is large, and sqlite3 keeps up to 128 statements per connection."""
    sizes = [largest] * (count // largest)
    rest = count % largest
    while rest:
        size = 1 << (rest.bit_length() - 1)
        sizes.append(size)
        rest -= size
    return sizes


def _cache_limit(settings: FileSettings) -> int:
    """``vector_cache_mb`` in bytes."""
    return int(settings.vector_cache_mb * 1024 * 1024)


def _record(row: Sequence[Any]) -> EncodedRecord:
    """The one row -> EncodedRecord conversion: every query selects the record columns first, in field order."""
    return EncodedRecord(*row[:_RECORD_WIDTH])


def fts_query(text: str) -> str | None:
    """The FTS5 query for a user's search text: each distinct word quoted, joined by OR (None: no words).

    OR matches records sharing any word with the query; bm25 then ranks records with more of the words, and rarer
    ones, first. Quoting makes every word a plain term, so no input is an FTS5 syntax error. Words are lowercased
    only to drop duplicates (FTS5 folds case itself).
    """
    words = dict.fromkeys(word.lower() for word in _WORD.findall(text))
    return " OR ".join(f'"{word}"' for word in words) or None


def filter_conditions(filters: MemoryFilter) -> tuple[str, dict[str, Any]]:
    """The SQL conditions (``AND r.<column> ...``) and parameters for the set fields of ``filters``."""
    params = {name: value for name in queries.FILTER_CONDITIONS if (value := getattr(filters, name)) is not None}
    return "".join(f" AND {queries.FILTER_CONDITIONS[name]}" for name in params), params


def relevance(bm25: float) -> float:
    """Map FTS5's bm25 (negative, lower is better) onto [0, 1], higher is better: ``s / (1 + s)`` with ``s = -bm25``.

    Monotonic, so the order is bm25's; it depends on neither ``limit`` nor the filters.
    ``s`` sums, over the matched words, their rarity (IDF) weighted by their frequency in the record: a record
    holding several rare query words scores near 1, one holding only a word found in most records scores near 0
    (but above 0: FTS5 floors IDF at 1e-6).
    """
    strength = max(-bm25, 0.0)
    return strength / (1.0 + strength)


@dataclass(slots=True)
class _Expired:
    """What expired at or before a moment, counted through the expiry indexes (for ``cleanup`` and ``stats``)."""

    records: dict[tuple[str, str], int] = field(default_factory=dict)  # (log_type, memory_type) -> count
    blobs: int = 0
    kv_keys: int = 0

    @classmethod
    def count(cls, connection: sqlite3.Connection, now_ms: int) -> _Expired:
        params = {"now_ms": now_ms}
        rows = connection.execute(queries.EXPIRED_RECORDS, params)
        records = {(log_type, memory_type): count for log_type, memory_type, count in rows}
        blobs = connection.execute(queries.EXPIRED_BLOBS, params).fetchone()[0]
        kv_keys = connection.execute(queries.EXPIRED_KEYS, params).fetchone()[0]
        return cls(records, blobs, kv_keys)


def _add(counts: dict[str, int], key: str, amount: int) -> None:
    if amount:
        counts[key] = counts.get(key, 0) + amount


# -- key-value helpers (called inside a transaction) ------------------------------------------------------------


def _now_ms() -> int:
    """Epoch milliseconds: key-value calls carry no ``now_ms``, so their TTLs use the wall clock."""
    return time.time_ns() // 1_000_000


def _live_key(connection: sqlite3.Connection, key: str, now_ms: int) -> tuple[int, str] | None:
    """(kid, type) of ``key`` when it exists and has not expired."""
    row = connection.execute(queries.LIVE_KEY, {"key": key, "now_ms": now_ms}).fetchone()
    return None if row is None else (row[0], row[1])


def _typed_key(connection: sqlite3.Connection, key: str, kind: str, operation: str) -> int | None:
    """The kid of live ``key`` holding ``kind``; None when absent; ``WrongTypeError`` when it holds another type."""
    found = _live_key(connection, key, _now_ms())
    if found is None:
        return None
    kid, held = found
    if held != kind:
        raise WrongTypeError(f"WRONGTYPE: {operation} needs a {kind}, but key {key!r} holds a {held}")
    return kid


def _new_key(connection: sqlite3.Connection, key: str, kind: str, expires_at: int | None = None) -> int:
    """Create ``key`` holding an empty ``kind``, first dropping the row it had (an expired key with its values, or
    for SET a key of another type), so nothing of the old key survives."""
    connection.execute(queries.DELETE_KEY, (key,))
    kid = connection.execute(queries.INSERT_KEY, (key, kind, expires_at)).lastrowid
    assert kid is not None  # an INSERT into a rowid table always sets it
    return kid


def _writable_key(connection: sqlite3.Connection, key: str, kind: str, operation: str) -> int:
    """The kid of ``key`` holding ``kind``, created when absent (without a TTL, as Redis does)."""
    kid = _typed_key(connection, key, kind, operation)
    return kid if kid is not None else _new_key(connection, key, kind)


def _drop_if_empty(connection: sqlite3.Connection, kid: int, any_value_sql: str) -> None:
    """Delete a hash or set key left without values: in Redis, empty hashes and sets do not exist."""
    if connection.execute(any_value_sql, (kid,)).fetchone() is None:
        connection.execute(queries.DELETE_KID, (kid,))


# A hash's fields and a set's members: how to delete one, and how to tell whether any is left.
_VALUE_SQL = {"hash": (queries.DELETE_FIELD, queries.ANY_FIELD), "set": (queries.DELETE_MEMBER, queries.ANY_MEMBER)}


def _remove_values(connection: sqlite3.Connection, key: str, kind: str, operation: str, values: Sequence[str]) -> int:
    """HDEL / SREM: remove fields or members, return how many existed, and drop the key with its last value."""
    kid = _typed_key(connection, key, kind, operation)
    if kid is None:
        return 0
    delete_sql, any_value_sql = _VALUE_SQL[kind]
    removed: int = connection.executemany(delete_sql, [(kid, value) for value in values]).rowcount
    _drop_if_empty(connection, kid, any_value_sql)
    return removed


def _deadline(now_ms: int, ttl_seconds: float) -> int:
    return now_ms + int(ttl_seconds * 1000)


# -- the backend ------------------------------------------------------------------------------------------------


class FileBackend:
    """orka-memory's embedded store: ``Store``, ``KeyValue`` and ``Query`` over one SQLite file in WAL mode."""

    name: ClassVar[str] = "file"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.EVENTS,
            Capability.KV,
            Capability.MEMORIES,
            Capability.TEXT_SEARCH,
            Capability.VECTOR_SEARCH,
            Capability.TTL,
        }
    )
    settings_model: ClassVar[type[BaseModel]] = FileSettings
    logger_class: ClassVar[type[MemoryLogger] | None] = None

    def __init__(self, settings: FileSettings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self._local = threading.local()
        # Every connection opened, with the process and thread that own it, so close() reaches them all.
        self._connections: list[tuple[int, threading.Thread, sqlite3.Connection]] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()  # this backend's writers queue here instead of polling SQLite's lock
        self._vectors = VectorCache(_cache_limit(settings))  # filled by the first vector search
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: FileSettings) -> Self:
        """Open (creating if needed) the store at ``settings.path``: check the file is an intact orka-memory store,
        switch it to WAL and create the schema. Raises ``CorruptStoreError`` for a damaged or foreign file and
        ``BackendUnavailable`` for one that cannot be opened, both naming the path."""
        backend = cls(settings, settings.path.expanduser().resolve())
        try:
            backend._prepare()
        except BaseException:
            backend.close()
            raise
        return backend

    @_translated
    def _prepare(self) -> None:
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            needed = ".".join(map(str, MIN_SQLITE_VERSION))
            raise BackendUnavailable(
                f"the file backend needs SQLite {needed} or newer; Python uses {sqlite3.sqlite_version}"
            )
        self._create_parent()
        self._check_header()
        # Nothing is written to the file until it is known to be an intact orka-memory store (or empty).
        connection = self._connection()
        self._quick_check(connection)
        _retry_locked(lambda: self._identify(connection))
        self._enable_wal(connection)
        self._transaction(self._create_schema_if_new, write=True)

    def _create_parent(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BackendUnavailable(
                f"cannot create the directory of the SQLite store {self.path}: {error.strerror or error}"
            ) from error

    def _check_header(self) -> None:
        """Refuse a file that is not a SQLite database before SQLite touches it, showing what it starts with.

        An empty file is accepted: SQLite treats it as a new database.
        """
        if not self.path.is_file():
            return
        with self.path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:
            raise _corrupt(self.path, f"is not a SQLite database (it starts with {head!r})")

    def _quick_check(self, connection: sqlite3.Connection) -> None:
        """SQLite's quick_check: page structure and record formats (not index contents). It reads the whole file
        once per open, so a store damaged by a crash of the disk is reported at open, not half-way through a run."""
        problems = [row[0] for row in _retry_locked(lambda: connection.execute("PRAGMA quick_check(5)").fetchall())]
        if problems != ["ok"]:
            raise _corrupt(self.path, f"is damaged (SQLite's quick_check: {'; '.join(problems)})")

    def _enable_wal(self, connection: sqlite3.Connection) -> None:
        """Switch to WAL (a persistent property of the file; a no-op once set)."""
        mode = _retry_locked(lambda: connection.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if mode != "wal":
            raise BackendUnavailable(
                f"the SQLite store {self.path} cannot use write-ahead logging (journal mode stays {mode!r}); "
                "put it on a local file system"
            )

    def _identify(self, connection: sqlite3.Connection) -> int | None:
        """The schema version when the file holds our schema, None when it is empty; ``CorruptStoreError`` for a
        foreign database, a newer schema or missing tables."""
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if application_id == APPLICATION_ID:
            self._check_schema(version, tables)
            return version
        if application_id or tables:
            listed = ", ".join(sorted(tables)) or "none"
            raise _corrupt(self.path, f"is a SQLite database of another application (tables: {listed})", _ELSEWHERE)
        return None

    def _create_schema_if_new(self, connection: sqlite3.Connection) -> None:
        """Runs in an IMMEDIATE transaction, so of several processes opening a new file at once exactly one
        creates the schema and the others find it."""
        version = self._identify(connection)
        if version is not None:
            self._migrate(connection, version)
            return
        for statement in SCHEMA:
            connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _migrate(connection: sqlite3.Connection, version: int) -> None:
        """Bring a store of layout ``version`` to this one, in the opening transaction (all or nothing)."""
        if version == SCHEMA_VERSION:
            return
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step]:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _check_schema(self, version: int, tables: set[str]) -> None:
        if version > SCHEMA_VERSION:
            raise _corrupt(
                self.path,
                f"was written by a newer orka-memory-file (schema version {version}; this version reads up to "
                f"{SCHEMA_VERSION})",
                "upgrade orka-memory-file, or " + _ELSEWHERE,
            )
        missing = REQUIRED_TABLES - tables
        if missing:
            raise _corrupt(self.path, f"is missing tables ({', '.join(sorted(missing))})")

    def ping(self) -> None:
        """Read from the file: raises when it has become unreadable or unreachable since open."""
        self._read(queries.PING, {})

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        """Close every connection this process opened, whichever thread opened it. Idempotent; later calls raise
        ``BackendUnavailable``."""
        with self._connections_lock:
            self._closed = True
            handles, self._connections = self._connections, []
        self._vectors = VectorCache(_cache_limit(self.settings))  # its memory goes with the store
        for pid, _thread, connection in handles:
            if pid == os.getpid():
                connection.close()

    # -- connections and transactions ---------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (again in a forked child: a connection must not cross
        a fork)."""
        if self._closed:
            raise BackendUnavailable(f"the SQLite store {self.path} is closed")
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.connection = self._connect()
            local.pid = os.getpid()
        connection: sqlite3.Connection = local.connection
        return connection

    def _connect(self) -> sqlite3.Connection:
        """A new connection: autocommit mode (transactions are explicit), busy_timeout, the synchronous setting.

        ``check_same_thread=False`` only so that close() can close it from another thread; each connection is
        otherwise used by the thread that opened it.
        """
        connection = sqlite3.connect(
            self.path,
            timeout=self.settings.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            connection.execute(f"PRAGMA synchronous = {self.settings.synchronous}")
        except BaseException:
            connection.close()
            raise
        self._track(connection)
        return connection

    def _track(self, connection: sqlite3.Connection) -> None:
        """Remember ``connection`` for close(); close those of threads that have ended, and forget those inherited
        from a parent process (closing them in the child could disturb the parent's locks)."""
        pid = os.getpid()
        with self._connections_lock:
            if self._closed:  # close() ran while this connection was being opened
                connection.close()
                raise BackendUnavailable(f"the SQLite store {self.path} is closed")
            kept = []
            for owner, thread, other in self._connections:
                if owner != pid:
                    continue
                if thread.is_alive():
                    kept.append((owner, thread, other))
                else:
                    other.close()
            kept.append((pid, threading.current_thread(), connection))
            self._connections = kept

    def _transaction(self, work: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run ``work`` in one transaction on this thread's connection, retried while the database is locked.

        Writes use BEGIN IMMEDIATE (the write lock is taken first, so the transaction cannot fail later for want of
        it) and queue on this process's write lock; reads use a deferred BEGIN, one consistent snapshot that never
        blocks a writer.
        """
        connection = self._connection()
        if not write:
            return _retry_locked(lambda: _run_transaction(connection, "BEGIN", work))
        with self._write_lock:
            return _retry_locked(lambda: _run_transaction(connection, "BEGIN IMMEDIATE", work))

    def _read(self, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
        """All rows of one statement (a single statement is its own consistent snapshot)."""
        return _retry_locked(lambda: self._connection().execute(sql, params).fetchall())

    # -- Store ---------------------------------------------------------------------------------------------------

    @_translated
    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        """Store a batch in one transaction, committed when this returns. Records whose id is stored are skipped
        (replays never duplicate); a stored blob keeps its body and takes the later expiry."""
        record_rows = [_record_row(record) for record in records]
        blob_rows = [(blob.hash, blob.codec, blob.body, blob.raw_size, blob.expires_at) for blob in blobs]

        def work(connection: sqlite3.Connection) -> None:
            connection.executemany(queries.UPSERT_BLOB, blob_rows)
            if record_rows:
                inserted = _insert_records(connection, record_rows)
                if inserted == len(record_rows):  # the usual case: the batch's own sums are the tallies to add
                    connection.executemany(queries.ADD_RECORD_TALLIES, _tallies(records))
                elif inserted:  # a replay, partly stored already: count the rows this batch really inserted
                    connection.execute(queries.TALLY_NEWEST_RECORDS, (inserted,))
                if inserted and any(record.text is not None and record.log_type == "memory" for record in records):
                    connection.execute(queries.INDEX_NEWEST_MEMORY_TEXT, (inserted,))

        if record_rows or blob_rows:
            self._transaction(work, write=True)

    @_translated
    def get_blobs(self, hashes: Collection[str]) -> dict[str, Blob]:
        """The stored blobs among ``hashes``, read in one snapshot. An expired blob is returned until ``cleanup``
        removes it: no live record refers to it any more, and a record being logged may just have renewed it."""
        return {row[0]: Blob(*row) for row in self._blob_rows(queries.SELECT_BLOBS, hashes)}

    @_translated
    def held_blobs(self, hashes: Collection[str]) -> set[str]:
        """Which of ``hashes`` are stored, from the blobs' primary key alone (``HeldBlobs``)."""
        return {row[0] for row in self._blob_rows(queries.HELD_BLOBS, hashes)}

    def _blob_rows(self, sql: str, hashes: Collection[str]) -> list[Any]:
        """The rows ``sql`` (``... WHERE hash IN ({marks})``) selects for ``hashes``, in one snapshot."""
        wanted = list(dict.fromkeys(hashes))

        def work(connection: sqlite3.Connection) -> list[Any]:
            rows: list[Any] = []
            for start in range(0, len(wanted), BLOB_CHUNK):
                chunk = wanted[start : start + BLOB_CHUNK]
                rows.extend(connection.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk))
            return rows

        return self._transaction(work, write=False) if wanted else []

    @_translated
    def delete_record(self, record_id: str) -> bool:
        return self._transaction(lambda c: c.execute(queries.DELETE_RECORD, (record_id,)).rowcount == 1, write=True)

    @_translated
    def delete_records(self, *, log_type: str | None = None) -> int:
        """Delete every record, or every record of one log type; returns how many. Blobs stay until they expire:
        the front-end still counts on the blobs it has sent."""
        sql = queries.DELETE_ALL_RECORDS if log_type is None else queries.DELETE_RECORDS_OF_TYPE
        count: int = self._transaction(lambda c: c.execute(sql, {"log_type": log_type}).rowcount, write=True)
        return count

    @_translated
    def cleanup(self, *, now_ms: int, dry_run: bool) -> CleanupReport:
        """Count what expired at or before ``now_ms`` and, unless ``dry_run``, delete it, all in one transaction
        and through the expiry indexes (live rows are never read)."""

        def work(connection: sqlite3.Connection) -> CleanupReport:
            expired = _Expired.count(connection, now_ms)
            if not dry_run:
                for statement in queries.DELETE_EXPIRED:
                    connection.execute(statement, {"now_ms": now_ms})
            return self._report(expired, dry_run)

        return self._transaction(work, write=not dry_run)

    @staticmethod
    def _report(expired: _Expired, dry_run: bool) -> CleanupReport:
        report = CleanupReport(dry_run=dry_run, blobs=expired.blobs, kv_keys=expired.kv_keys)
        for (log_type, memory_type), count in expired.records.items():
            if log_type == "memory":
                report.memories += count
            else:
                report.events += count
            _add(report.by_memory_type, memory_type, count)
        return report

    # -- Query ---------------------------------------------------------------------------------------------------

    @_translated
    def recent(self, count: int, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """The newest ``count`` live records, newest first: walks seq backwards (through the log_type index when
        filtering) and stops at ``count``."""
        if count <= 0:
            return []
        sql = queries.RECENT if log_type is None else queries.RECENT_OF_TYPE
        rows = self._read(sql, {"count": count, "now_ms": now_ms, "log_type": log_type})
        return [_record(row) for row in rows]

    @_translated
    def by_run(self, run_id: str, *, now_ms: int, log_type: str | None = None) -> list[EncodedRecord]:
        """Every live record of one run in log order, through the (run_id, seq) index."""
        rows = self._read(queries.BY_RUN, {"run_id": run_id, "now_ms": now_ms, "log_type": log_type})
        return [_record(row) for row in rows]

    @_translated
    def search_text(
        self, query: str, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """Full-text search over stored memories, best first, with every filter inside the query (so ``limit``
        results are all matches) and a relevance in [0, 1] (see ``relevance``). A query without words finds
        nothing."""
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        conditions, params = filter_conditions(filters)
        sql = queries.SEARCH.format(filters=conditions)
        rows = self._read(sql, {**params, "match": match, "now_ms": now_ms, "limit": limit})
        return [(_record(row), relevance(row[_RECORD_WIDTH])) for row in rows]

    @_translated
    def vector_space(self, embedder: str, dimension: int) -> None:
        """Record the embedder of this store's vectors, or check it. Switching embedders is allowed while the
        store holds no vectors; after that a different one is refused, naming both and the fix."""

        def work(connection: sqlite3.Connection) -> None:
            recorded = connection.execute(queries.VECTOR_SPACE).fetchone()
            if recorded is not None and tuple(recorded) == (embedder, dimension):
                return
            if recorded is not None and connection.execute(queries.ANY_VECTOR).fetchone() is not None:
                raise VectorSpaceMismatch(
                    f"the store {self.path} holds vectors from embedder {recorded[0]!r} ({recorded[1]} dimensions), "
                    f"but this logger embeds with {embedder!r} ({dimension} dimensions), and vectors of different "
                    f"embedders cannot be compared. Set the embedder setting to {recorded[0]!r} "
                    f"(ORKA_MEMORY_EMBEDDER={recorded[0]}) for this store, or use a new store for {embedder!r}."
                )
            connection.execute(queries.CLEAR_VECTOR_SPACE)
            connection.execute(queries.SET_VECTOR_SPACE, (embedder, dimension))

        self._transaction(work, write=True)

    @_translated
    def search_vector(
        self, vector: bytes, *, filters: MemoryFilter, limit: int, now_ms: int
    ) -> list[tuple[EncodedRecord, float]]:
        """Exact nearest neighbours among the live stored memories passing ``filters``, best first, with their
        similarity in [0, 1]. The vectors ranked are held in this process's memory (``vectorcache.py``), with what the
        filters compare, so the filters are applied there, before ranking; in SQL only for a store whose vectors do not
        fit in the cache's limit."""
        if limit <= 0:
            return []
        conditions, params = filter_conditions(filters)

        def work(connection: sqlite3.Connection) -> list[tuple[EncodedRecord, float]]:
            memories = self._vectors.memories(connection, len(vector))
            if memories is not None:  # the cache holds every memory, and what the filters compare
                newest = connection.execute(queries.NEWEST_MEMORY).fetchone()[0] or 0
                vectors, positions = memories.vectors, memories.passing(filters, newest, now_ms)
            else:  # more vectors than the cache may hold: the candidates' own, read from the file
                sql = queries.VECTOR_CANDIDATES.format(filters=conditions)
                candidates = connection.execute(sql, {**params, "now_ms": now_ms}).fetchall()
                vectors, positions = vectors_of(candidates, len(vector)), None
            best = nearest(vectors, positions, vector, limit)
            if not best:
                return []
            sql = queries.RECORDS_BY_SEQ.format(marks=", ".join("?" * len(best)))
            rows = {row[_RECORD_WIDTH]: row for row in connection.execute(sql, [seq for seq, _ in best])}
            return [(_record(rows[seq]), score) for seq, score in best]

        return self._transaction(work, write=False)

    def iter_records(self, *, now_ms: int, log_type: str | None = None) -> Iterator[EncodedRecord]:
        """Every live record, oldest first, read in pages of ``ITER_BATCH`` by seq. No statement stays open
        between pages, so a slow consumer holds no lock and no snapshot."""
        after = 0
        while True:
            rows = self._page(after, now_ms=now_ms, log_type=log_type)
            yield from (_record(row) for row in rows)
            if len(rows) < ITER_BATCH:
                return
            after = rows[-1][_RECORD_WIDTH]

    @_translated
    def _page(self, after: int, *, now_ms: int, log_type: str | None) -> list[Any]:
        sql = queries.PAGE if log_type is None else queries.PAGE_OF_TYPE
        return self._read(sql, {"after": after, "now_ms": now_ms, "log_type": log_type, "batch": ITER_BATCH})

    @_translated
    def stats(self, *, now_ms: int) -> BackendStats:
        """Counts from the tallies, less what has expired but awaits cleanup (``expired_pending`` records, plus
        expired blobs and keys), all from one snapshot. ``raw_bytes``/``stored_bytes`` count every stored row,
        expired ones included: that is the space held until cleanup. ``engine_bytes`` is the database file plus
        its WAL."""

        def work(connection: sqlite3.Connection) -> tuple[list[Any], _Expired]:
            return connection.execute(queries.TALLIES).fetchall(), _Expired.count(connection, now_ms)

        tallies, expired = self._transaction(work, write=False)
        stats = BackendStats(
            expired_pending=sum(expired.records.values()),
            engine_bytes=self._engine_bytes(),
            extra={"sqlite_version": sqlite3.sqlite_version, "synchronous": self.settings.synchronous},
        )
        for kind, log_type, memory_type, rows, raw_bytes, stored_bytes in tallies:
            stats.raw_bytes += raw_bytes
            stats.stored_bytes += stored_bytes
            if kind == "blob":
                stats.blobs += rows
            elif kind == "kv":
                stats.kv_keys += rows
            else:
                live = rows - expired.records.get((log_type, memory_type), 0)
                if log_type == "memory":
                    stats.memories += live
                else:
                    stats.events += live
                _add(stats.by_memory_type, memory_type, live)
        stats.blobs -= expired.blobs
        stats.kv_keys -= expired.kv_keys
        return stats

    def _engine_bytes(self) -> int:
        """The database file plus its write-ahead log: what the store occupies on disk."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + "-wal")):
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size
        return total

    # -- KeyValue (Redis semantics; each call one transaction) ------------------------------------------------------

    @_translated
    def hset(self, name: str, key: str, value: str) -> int:
        """Set one field; 1 when the field is new, 0 when its value was replaced."""

        def work(connection: sqlite3.Connection) -> int:
            kid = _writable_key(connection, name, "hash", "hset")
            if connection.execute(queries.ADD_FIELD, (kid, key, value)).rowcount:
                return 1
            connection.execute(queries.UPDATE_FIELD, (value, kid, key))
            return 0

        return self._transaction(work, write=True)

    @_translated
    def hget(self, name: str, key: str) -> str | None:
        def work(connection: sqlite3.Connection) -> str | None:
            kid = _typed_key(connection, name, "hash", "hget")
            row = None if kid is None else connection.execute(queries.GET_FIELD, (kid, key)).fetchone()
            return None if row is None else str(row[0])

        return self._transaction(work, write=False)

    @_translated
    def hkeys(self, name: str) -> list[str]:
        """Field names, sorted (deterministic, unlike Redis)."""
        return list(self._hash(name, "hkeys"))

    @_translated
    def hgetall(self, name: str) -> dict[str, str]:
        """Fields and values, ordered by field name."""
        return self._hash(name, "hgetall")

    def _hash(self, name: str, operation: str) -> dict[str, str]:
        def work(connection: sqlite3.Connection) -> dict[str, str]:
            kid = _typed_key(connection, name, "hash", operation)
            return {} if kid is None else dict(connection.execute(queries.FIELDS, (kid,)).fetchall())

        return self._transaction(work, write=False)

    @_translated
    def hdel(self, name: str, *keys: str) -> int:
        """Remove fields; returns how many existed. The key goes with its last field; on a key of another type,
        ``WrongTypeError`` and nothing is removed."""

        return self._transaction(lambda connection: _remove_values(connection, name, "hash", "hdel", keys), write=True)

    @_translated
    def sadd(self, name: str, *values: str) -> int:
        """Add members; returns how many were not members yet."""

        def work(connection: sqlite3.Connection) -> int:
            kid = _writable_key(connection, name, "set", "sadd")
            added: int = connection.executemany(queries.ADD_MEMBER, [(kid, value) for value in values]).rowcount
            _drop_if_empty(connection, kid, queries.ANY_MEMBER)  # sadd without values creates nothing
            return added

        return self._transaction(work, write=True)

    @_translated
    def srem(self, name: str, *values: str) -> int:
        """Remove members; returns how many were members. The key goes with its last member."""

        return self._transaction(lambda connection: _remove_values(connection, name, "set", "srem", values), write=True)

    @_translated
    def smembers(self, name: str) -> list[str]:
        """Members, sorted (deterministic, unlike Redis)."""

        def work(connection: sqlite3.Connection) -> list[str]:
            kid = _typed_key(connection, name, "set", "smembers")
            return [] if kid is None else [row[0] for row in connection.execute(queries.MEMBERS, (kid,))]

        return self._transaction(work, write=False)

    @_translated
    def get(self, key: str) -> str | None:
        def work(connection: sqlite3.Connection) -> str | None:
            kid = _typed_key(connection, key, "string", "get")
            row = None if kid is None else connection.execute(queries.GET_STRING, (kid,)).fetchone()
            return None if row is None else str(row[0])

        return self._transaction(work, write=False)

    @_translated
    def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> bool:
        """Store a string whatever the key held (like Redis SET): ``ttl_seconds`` sets an expiry, its absence
        clears an existing one. Always True."""

        def work(connection: sqlite3.Connection) -> bool:
            now = _now_ms()
            expires_at = None if ttl_seconds is None else _deadline(now, ttl_seconds)
            found = _live_key(connection, key, now)
            if found is not None and found[1] == "string":
                kid = found[0]
                connection.execute(queries.SET_EXPIRY, (expires_at, kid))
            else:
                kid = _new_key(connection, key, "string", expires_at)
            connection.execute(queries.PUT_STRING, (kid, value))
            return True

        return self._transaction(work, write=True)

    @_translated
    def delete(self, *keys: str) -> int:
        """Delete keys of any type; returns how many existed (an expired key does not, but is purged too)."""

        def work(connection: sqlite3.Connection) -> int:
            now = _now_ms()
            distinct = list(dict.fromkeys(keys))
            connection.executemany(queries.PURGE_EXPIRED_KEY, [(key, now) for key in distinct])
            deleted: int = connection.executemany(queries.DELETE_KEY, [(key,) for key in distinct]).rowcount
            return deleted

        return self._transaction(work, write=True)

    @_translated
    def expire(self, key: str, ttl_seconds: float) -> bool:
        """Give a live key a TTL (0 or less: it expires at once); False when the key does not exist."""

        def work(connection: sqlite3.Connection) -> bool:
            now = _now_ms()
            found = _live_key(connection, key, now)
            if found is None:
                return False
            connection.execute(queries.SET_EXPIRY, (_deadline(now, ttl_seconds), found[0]))
            return True

        return self._transaction(work, write=True)

    @_translated
    def scan(self, cursor: int = 0, match: str | None = None, count: int = 10) -> tuple[int, list[str]]:
        """One page of up to ``count`` live keys matching ``match``, by creation order; ``(0, keys)`` on the last.

        The cursor is the last key id returned (keyset pagination), so a key that exists for the whole scan is
        returned exactly once, even if others are added or deleted meanwhile. ``match`` is SQLite GLOB, which
        reads Redis's glob syntax (``*``, ``?``, ``[abc]``, ``[^abc]``) the same way; there is no backslash
        escape, and matching is case-sensitive, as in Redis.
        """
        page = max(count, 1)
        rows = self._read(queries.SCAN_KEYS, {"cursor": cursor, "match": match, "count": page, "now_ms": _now_ms()})
        next_cursor = rows[-1][0] if len(rows) == page else 0
        return next_cursor, [row[1] for row in rows]
