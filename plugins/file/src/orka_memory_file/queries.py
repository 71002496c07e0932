"""Every SQL statement the file backend runs, as module constants (the tests EXPLAIN them to prove index use).

Conventions: reads of records take ``:now_ms`` and keep ``LIVE`` in their WHERE clause, so an expired row is never
returned whether or not ``cleanup`` has run. Statements that differ in whether they filter one log type exist
twice rather than as ``(:log_type IS NULL OR log_type = :log_type)``, because SQLite cannot use an index for an
OR over a bound parameter; where another index already narrows the rows (``BY_RUN``) the OR form is fine.
"""

from __future__ import annotations

import functools

from orka_memory_file.schema import BLOB_COLUMNS, RECORD_COLUMNS

LIVE = "(expires_at IS NULL OR expires_at > :now_ms)"
_RECORD = ", ".join(RECORD_COLUMNS)

# -- writes ---------------------------------------------------------------------------------------------------

# ON CONFLICT (id) rather than INSERT OR IGNORE: only a duplicate id is skipped; a NOT NULL violation still raises.
# Many rows per statement: sqlite3 releases the GIL around every statement step, and a thread that released it may
# wait up to the switch interval (5 ms) to take it back while the caller's thread runs Python; one step per batch
# instead of one per row made a busy-caller batch of 500 rows about 150 times faster (benchmarks/README.md).
_ROW_MARKS = f"({', '.join('?' * len(RECORD_COLUMNS))})"


@functools.lru_cache(maxsize=16)
def insert_records(rows: int) -> str:
    """INSERT of ``rows`` records in one statement (one parameter per column, row after row)."""
    return f"INSERT INTO records ({_RECORD}) VALUES {', '.join([_ROW_MARKS] * rows)} ON CONFLICT (id) DO NOTHING"


# Counting a batch's records (see schema.py): its own sums when every row was new, else the ``?`` rows it inserted,
# which are the newest: each new rowid is one above the largest, and nothing else writes inside the transaction.
_ADD_TO_TALLY = """
    ON CONFLICT (kind, log_type, memory_type) DO UPDATE SET
        rows = rows + excluded.rows,
        raw_bytes = raw_bytes + excluded.raw_bytes,
        stored_bytes = stored_bytes + excluded.stored_bytes
"""
ADD_RECORD_TALLIES = "INSERT INTO tallies VALUES ('record', ?, ?, ?, ?, ?)" + _ADD_TO_TALLY
TALLY_NEWEST_RECORDS = (
    """
    INSERT INTO tallies
    SELECT 'record', log_type, memory_type, count(*), sum(raw_size), sum(length(body))
    FROM records WHERE seq > (SELECT max(seq) FROM records) - ?1 GROUP BY log_type, memory_type
    """
    + _ADD_TO_TALLY
)
# The full-text rows of the stored memories among the ``?`` newest records: a batch's new ones (see schema.py).
INDEX_NEWEST_MEMORY_TEXT = """
    INSERT INTO memory_text (rowid, text)
    SELECT seq, text FROM records
    WHERE seq > (SELECT max(seq) FROM records) - ? AND log_type = 'memory' AND text IS NOT NULL
"""
# A stored blob keeps its body; its expiry becomes the later of both, NULL (never) winning over any time.
UPSERT_BLOB = f"""
    INSERT INTO blobs ({", ".join(BLOB_COLUMNS)}) VALUES ({", ".join("?" * len(BLOB_COLUMNS))})
    ON CONFLICT (hash) DO UPDATE SET expires_at = CASE
        WHEN blobs.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL
        ELSE max(blobs.expires_at, excluded.expires_at)
    END
"""
DELETE_RECORD = "DELETE FROM records WHERE id = ?"
DELETE_ALL_RECORDS = "DELETE FROM records"
DELETE_RECORDS_OF_TYPE = "DELETE FROM records WHERE log_type = :log_type"

# -- reads of records -------------------------------------------------------------------------------------------

RECENT = f"SELECT {_RECORD} FROM records WHERE {LIVE} ORDER BY seq DESC LIMIT :count"
RECENT_OF_TYPE = f"SELECT {_RECORD} FROM records WHERE log_type = :log_type AND {LIVE} ORDER BY seq DESC LIMIT :count"
BY_RUN = (
    f"SELECT {_RECORD} FROM records WHERE run_id = :run_id AND (:log_type IS NULL OR log_type = :log_type) "
    f"AND {LIVE} ORDER BY seq"
)
# Keyset pagination for iter_records: the page's last seq is the next page's :after (never OFFSET, which rereads).
# seq is selected last, after the record columns.
PAGE = f"SELECT {_RECORD}, seq FROM records WHERE seq > :after AND {LIVE} ORDER BY seq LIMIT :batch"
PAGE_OF_TYPE = (
    f"SELECT {_RECORD}, seq FROM records WHERE log_type = :log_type AND seq > :after AND {LIVE} "
    "ORDER BY seq LIMIT :batch"
)
# The full-text match drives the query; ``{filters}`` is filled with fixed ``AND r.<column> ...`` conditions (see
# ``FILTER_CONDITIONS``), never with user text, so every MemoryFilter applies before LIMIT. bm25() is negative,
# lower is better; ties go to the newest record. The bm25 score is selected last.
SEARCH = (
    f"SELECT {', '.join('r.' + column for column in RECORD_COLUMNS)}, bm25(memory_text) AS score "
    "FROM memory_text JOIN records AS r ON r.seq = memory_text.rowid "
    "WHERE memory_text MATCH :match AND (r.expires_at IS NULL OR r.expires_at > :now_ms){filters} "
    "ORDER BY score, r.seq DESC LIMIT :limit"
)
# Vector search ranks the memories held in memory (vectorcache.py), which it also filters; then reads the full rows of
# the best few only. A store whose vectors do not fit in the cache's limit gets the live stored memories that pass
# the filters, with their vectors, from the covering index and the rows. ``{filters}`` as in SEARCH.
VECTOR_CANDIDATES = (
    "SELECT r.seq, r.vector FROM records AS r INDEXED BY records_memories WHERE r.log_type = 'memory' "
    "AND (r.expires_at IS NULL OR r.expires_at > :now_ms){filters}"
)
# What a vector cache reads: the positions of the deletions logged, the memories deleted since it last looked, then
# the memories newer than the newest it holds, with their expiry, importance and labels (vectorcache.LABELS; a memory
# without a vector comes too, so the cache knows it has seen that seq).
DELETION_POSITIONS = "SELECT min(position), max(position) FROM deleted_memories"
DELETED_MEMORIES_AFTER = "SELECT seq FROM deleted_memories WHERE position > ?"
MEMORY_VECTORS_AFTER = (
    "SELECT seq, expires_at, importance, vector, agent_id, run_id, memory_type, namespace, session, category "
    "FROM records INDEXED BY records_memories WHERE log_type = 'memory' AND seq > ? ORDER BY seq"
)
# The newest stored memory of a snapshot: a search without filters ranks the cached memories up to it.
NEWEST_MEMORY = "SELECT max(seq) FROM records INDEXED BY records_memories WHERE log_type = 'memory'"
RECORDS_BY_SEQ = f"SELECT {_RECORD}, seq FROM records WHERE seq IN ({{marks}})"
VECTOR_SPACE = "SELECT embedder, dimension FROM vector_space"
SET_VECTOR_SPACE = "INSERT INTO vector_space (embedder, dimension) VALUES (?, ?)"
CLEAR_VECTOR_SPACE = "DELETE FROM vector_space"
ANY_VECTOR = (
    "SELECT 1 FROM records INDEXED BY records_memories WHERE log_type = 'memory' AND vector IS NOT NULL LIMIT 1"
)
FILTER_CONDITIONS: dict[str, str] = {
    "run_id": "r.run_id = :run_id",
    "agent_id": "r.agent_id = :agent_id",
    "memory_type": "r.memory_type = :memory_type",
    "log_type": "r.log_type = :log_type",
    "namespace": "r.namespace = :namespace",
    "session": "r.session = :session",
    "category": "r.category = :category",
    "min_importance": "r.importance >= :min_importance",
}

# -- blobs ------------------------------------------------------------------------------------------------------

SELECT_BLOBS = f"SELECT {', '.join(BLOB_COLUMNS)} FROM blobs WHERE hash IN ({{marks}})"
HELD_BLOBS = "SELECT hash FROM blobs WHERE hash IN ({marks})"

# -- expiry and stats: every statement reaches expired rows through a partial index on expires_at ---------------

EXPIRED_RECORDS = (
    "SELECT log_type, memory_type, count(*) FROM records WHERE expires_at <= :now_ms GROUP BY log_type, memory_type"
)
EXPIRED_BLOBS = "SELECT count(*) FROM blobs WHERE expires_at <= :now_ms"
EXPIRED_KEYS = "SELECT count(*) FROM kv_keys WHERE expires_at <= :now_ms"
DELETE_EXPIRED = (
    "DELETE FROM records WHERE expires_at <= :now_ms",
    "DELETE FROM blobs WHERE expires_at <= :now_ms",
    "DELETE FROM kv_keys WHERE expires_at <= :now_ms",
)
TALLIES = "SELECT kind, log_type, memory_type, rows, raw_bytes, stored_bytes FROM tallies"
PING = "SELECT 1 FROM tallies LIMIT 1"

# -- key-value --------------------------------------------------------------------------------------------------

LIVE_KEY = f"SELECT kid, type FROM kv_keys WHERE key = :key AND {LIVE}"
INSERT_KEY = "INSERT INTO kv_keys (key, type, expires_at) VALUES (?, ?, ?)"
DELETE_KEY = "DELETE FROM kv_keys WHERE key = ?"
DELETE_KID = "DELETE FROM kv_keys WHERE kid = ?"
PURGE_EXPIRED_KEY = "DELETE FROM kv_keys WHERE key = ? AND expires_at <= ?"
SET_EXPIRY = "UPDATE kv_keys SET expires_at = ? WHERE kid = ?"
SCAN_KEYS = (
    f"SELECT kid, key FROM kv_keys WHERE kid > :cursor AND {LIVE} AND (:match IS NULL OR key GLOB :match) "
    "ORDER BY kid LIMIT :count"
)

GET_STRING = "SELECT value FROM kv_strings WHERE kid = ?"
PUT_STRING = "INSERT OR REPLACE INTO kv_strings (kid, value) VALUES (?, ?)"

GET_FIELD = "SELECT value FROM kv_hash WHERE kid = ? AND field = ?"
FIELDS = "SELECT field, value FROM kv_hash WHERE kid = ? ORDER BY field"
ADD_FIELD = "INSERT INTO kv_hash (kid, field, value) VALUES (?, ?, ?) ON CONFLICT (kid, field) DO NOTHING"
UPDATE_FIELD = "UPDATE kv_hash SET value = ? WHERE kid = ? AND field = ?"
DELETE_FIELD = "DELETE FROM kv_hash WHERE kid = ? AND field = ?"
ANY_FIELD = "SELECT 1 FROM kv_hash WHERE kid = ? LIMIT 1"

MEMBERS = "SELECT member FROM kv_set WHERE kid = ? ORDER BY member"
ADD_MEMBER = "INSERT INTO kv_set (kid, member) VALUES (?, ?) ON CONFLICT (kid, member) DO NOTHING"
DELETE_MEMBER = "DELETE FROM kv_set WHERE kid = ? AND member = ?"
ANY_MEMBER = "SELECT 1 FROM kv_set WHERE kid = ? LIMIT 1"
