"""The database layout of the file backend: tables, indexes and the triggers that keep derived data in sync.

Derived data (the full-text index and the ``tallies`` behind ``stats``) is maintained by triggers, not by the
Python code, so it cannot drift from the rows it describes: a trigger fires for exactly the rows a statement
really inserted or deleted (``ON CONFLICT DO NOTHING`` skips, blob upserts that only extend an expiry, cascades
from ``cleanup``) and runs inside the same transaction. One exception, for speed: what the records a batch inserts
add (their tallies, and the full-text rows of its stored memories) is written once per batch, in the batch's
transaction; a trigger runs for every inserted row, and every event paid 3.5 µs for the tally trigger and 1.2 µs
for the text trigger's test, which only stored memories pass (a fifth and a tenth of the backend's time). When the
INSERT reports every row new, the backend adds the sums of the rows it has just bound
(``queries.ADD_RECORD_TALLIES``); otherwise (a replay that was partly stored) one statement counts the newest rows,
as many as were inserted (``queries.TALLY_NEWEST_RECORDS``): exactly the batch's new rows, since the write lock is
held and each new rowid is one above the largest. The text of the batch's new memories is indexed the same way,
from the newest rows (``queries.INDEX_NEWEST_MEMORY_TEXT``), in batches that hold a memory with text only.

The file identifies itself with ``PRAGMA application_id`` (so a foreign SQLite database is told apart from an
empty one) and versions its layout with ``PRAGMA user_version``.
"""

from __future__ import annotations

import dataclasses

from orka_memory.backend import Blob, EncodedRecord

APPLICATION_ID = 0x4F524B41  # "ORKA" in ASCII: marks the file as an orka-memory store
SCHEMA_VERSION = 5

# UPSERT (3.24) and unicode61's ``remove_diacritics 2`` (3.27) are the newest features this layout uses.
MIN_SQLITE_VERSION = (3, 27, 0)

# The EncodedRecord (and Blob) fields, in dataclass order: the columns of ``records`` (and ``blobs``) are named after
# them, so one list drives the INSERT, every SELECT and the row -> dataclass conversion.
RECORD_COLUMNS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(EncodedRecord))
BLOB_COLUMNS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(Blob))

# What a version-1 store must contain; an orka-memory file missing one of these was damaged or hand-edited.
REQUIRED_TABLES = frozenset(
    {"records", "blobs", "memory_text", "tallies", "kv_keys", "kv_strings", "kv_hash", "kv_set", "vector_space"}
)

# Vector search ranks the stored memories' vectors in process memory (vectorcache.py); SQL picks the memories that
# pass the expiry test and the filters from this index alone, which holds stored memories only and covers every
# column those read, so neither the rows nor the events are read, however many events the store holds.
MEMORY_INDEX = """
    CREATE INDEX IF NOT EXISTS records_memories ON records
    (seq, expires_at, log_type, memory_type, agent_id, run_id, namespace, session, category, importance)
    WHERE log_type = 'memory'
"""
# The stored memories deleted, by any process, in the order they were deleted (``position``): a vector cache drops
# those deleted since it last looked, instead of reading every vector again. ``position`` aliases the rowid and the
# newest row is never pruned, so positions only grow. Every thousandth deletion prunes all but the newest
# ``DELETION_LOG_ROWS``; a cache further behind than the log reaches reads every vector again. (``IF NOT EXISTS``
# here and in MEMORY_INDEX: the same statements create a new store and migrate an old one, whatever it has.)
DELETION_LOG_ROWS = 10_000
DELETED_MEMORIES: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS deleted_memories (position INTEGER PRIMARY KEY, seq INTEGER NOT NULL)",
    """
    CREATE TRIGGER IF NOT EXISTS records_memory_delete AFTER DELETE ON records
    WHEN old.log_type = 'memory'
    BEGIN
        INSERT INTO deleted_memories (seq) VALUES (old.seq);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS deleted_memories_prune AFTER INSERT ON deleted_memories
    WHEN new.position % 1000 = 0
    BEGIN
        DELETE FROM deleted_memories WHERE position <= new.position - {DELETION_LOG_ROWS};
    END
    """,
)

# Statements that bring a store of an older layout to this one, by the version they start from. Version 1 counted
# inserted records with a trigger per row; version 2 counts them per batch. Version 2 indexed the text of inserted
# memories with a trigger per row; version 3 indexes it per batch. Version 3 read every vector from the file for
# each search; version 4 keeps them in memory and picks the candidates from a covering index. Version 4 counted
# deletions, and a vector cache read every vector again after one; version 5 logs which memories were deleted.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("DROP TRIGGER records_tally_insert",),
    2: ("DROP TRIGGER records_text_insert",),
    3: ("DROP INDEX IF EXISTS records_vectors", MEMORY_INDEX),
    4: ("DROP TRIGGER IF EXISTS records_memory_delete", "DROP TABLE IF EXISTS memory_deletions", *DELETED_MEMORIES),
}

SCHEMA: tuple[str, ...] = (
    # -- records: the event log and stored memories ----------------------------------------------------------
    # ``seq`` aliases the rowid, so it is the insertion (= log) order and every secondary index ends with it:
    # an index on (run_id) is an index on (run_id, seq) and serves ORDER BY seq without sorting.
    """
    CREATE TABLE records (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        log_type TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        run_id TEXT,
        memory_type TEXT NOT NULL,
        category TEXT NOT NULL,
        importance REAL NOT NULL,
        namespace TEXT,
        session TEXT,
        expires_at INTEGER,
        text TEXT,
        codec TEXT NOT NULL,
        body BLOB NOT NULL,
        raw_size INTEGER NOT NULL,
        vector BLOB
    )
    """,
    "CREATE INDEX records_log_type ON records (log_type)",  # recent / iter_records of one log type
    "CREATE INDEX records_run ON records (run_id)",  # by_run, oldest first
    # Covering for cleanup and stats: they count expired rows per (log_type, memory_type) from the index alone.
    """
    CREATE INDEX records_expiry ON records (expires_at, log_type, memory_type)
    WHERE expires_at IS NOT NULL
    """,
    # The search filters (namespace, session, agent, ...) are indexed for stored memories only: text search starts
    # from the full-text index and vector search from records_memories; an index over every event would cost every
    # event.
    MEMORY_INDEX,
    # -- vector_space: the embedder the stored vectors come from (one row once a logger with vectors opened) ---
    "CREATE TABLE vector_space (embedder TEXT NOT NULL, dimension INTEGER NOT NULL)",
    *DELETED_MEMORIES,
    # -- blobs: deduplicated sub-objects, addressed by hash -----------------------------------------------------
    """
    CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        codec TEXT NOT NULL,
        body BLOB NOT NULL,
        raw_size INTEGER NOT NULL,
        expires_at INTEGER
    ) WITHOUT ROWID
    """,
    "CREATE INDEX blobs_expiry ON blobs (expires_at) WHERE expires_at IS NOT NULL",
    # -- full-text index over stored memories ------------------------------------------------------------------
    # Contentless (the text already lives in ``records``): its rowid is ``records.seq``. The backend adds the rows
    # of the memories a batch inserts (see above); a contentless row is deleted by repeating its original text,
    # which the delete trigger has at hand as ``old.text``.
    """
    CREATE VIRTUAL TABLE memory_text USING fts5 (
        text, content = '', tokenize = 'unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER records_text_delete AFTER DELETE ON records
    WHEN old.log_type = 'memory' AND old.text IS NOT NULL
    BEGIN
        INSERT INTO memory_text (memory_text, rowid, text) VALUES ('delete', old.seq, old.text);
    END
    """,
    # -- tallies: the counters behind stats(), one row per kind and record type ---------------------------------
    # kind 'record' is split by (log_type, memory_type); 'blob' and 'kv' use '' for both.
    """
    CREATE TABLE tallies (
        kind TEXT NOT NULL CHECK (kind IN ('record', 'blob', 'kv')),
        log_type TEXT NOT NULL,
        memory_type TEXT NOT NULL,
        rows INTEGER NOT NULL,
        raw_bytes INTEGER NOT NULL,
        stored_bytes INTEGER NOT NULL,
        PRIMARY KEY (kind, log_type, memory_type)
    ) WITHOUT ROWID
    """,
    """
    CREATE TRIGGER records_tally_delete AFTER DELETE ON records
    BEGIN
        UPDATE tallies SET
            rows = rows - 1,
            raw_bytes = raw_bytes - old.raw_size,
            stored_bytes = stored_bytes - length(old.body)
        WHERE kind = 'record' AND log_type = old.log_type AND memory_type = old.memory_type;
    END
    """,
    # An upsert that only extends a stored blob's expiry is an UPDATE: no INSERT trigger fires, nothing is counted.
    """
    CREATE TRIGGER blobs_tally_insert AFTER INSERT ON blobs
    BEGIN
        INSERT INTO tallies VALUES ('blob', '', '', 1, new.raw_size, length(new.body))
        ON CONFLICT (kind, log_type, memory_type) DO UPDATE SET
            rows = rows + 1,
            raw_bytes = raw_bytes + excluded.raw_bytes,
            stored_bytes = stored_bytes + excluded.stored_bytes;
    END
    """,
    """
    CREATE TRIGGER blobs_tally_delete AFTER DELETE ON blobs
    BEGIN
        UPDATE tallies SET
            rows = rows - 1,
            raw_bytes = raw_bytes - old.raw_size,
            stored_bytes = stored_bytes - length(old.body)
        WHERE kind = 'blob';
    END
    """,
    # -- key-value: Redis-like strings, hashes and sets --------------------------------------------------------
    # ``kid`` aliases the rowid, so it is stable (VACUUM keeps it) and serves as the SCAN cursor and as the
    # reference from the value tables.
    """
    CREATE TABLE kv_keys (
        kid INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL CHECK (type IN ('string', 'hash', 'set')),
        expires_at INTEGER
    )
    """,
    "CREATE INDEX kv_keys_expiry ON kv_keys (expires_at) WHERE expires_at IS NOT NULL",
    "CREATE TABLE kv_strings (kid INTEGER PRIMARY KEY, value TEXT NOT NULL)",
    """
    CREATE TABLE kv_hash (
        kid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kid, field)
    ) WITHOUT ROWID
    """,
    "CREATE TABLE kv_set (kid INTEGER NOT NULL, member TEXT NOT NULL, PRIMARY KEY (kid, member)) WITHOUT ROWID",
    # Deleting a key (DEL, expiry cleanup, an overwrite) removes its values and its count in one place.
    """
    CREATE TRIGGER kv_keys_delete AFTER DELETE ON kv_keys
    BEGIN
        DELETE FROM kv_strings WHERE kid = old.kid;
        DELETE FROM kv_hash WHERE kid = old.kid;
        DELETE FROM kv_set WHERE kid = old.kid;
        UPDATE tallies SET rows = rows - 1 WHERE kind = 'kv';
    END
    """,
    """
    CREATE TRIGGER kv_keys_insert AFTER INSERT ON kv_keys
    BEGIN
        INSERT INTO tallies VALUES ('kv', '', '', 1, 0, 0)
        ON CONFLICT (kind, log_type, memory_type) DO UPDATE SET rows = rows + 1;
    END
    """,
)
