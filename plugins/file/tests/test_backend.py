"""The file backend's Store and Query behaviour: order, idempotence, expiry, search, stats and query plans."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from orka_memory.backend import (
    Backend,
    BackendUnavailable,
    Blob,
    Capability,
    EncodedRecord,
    MemoryFilter,
)
from orka_memory_file import FileBackend, FileSettings, __version__, queries
from orka_memory_file import plugin as file_plugin
from orka_memory_file.backend import ITER_BATCH, _now_ms, filter_conditions, fts_query, statement_sizes
from pydantic import ValidationError

MakeRecord = Callable[..., EncodedRecord]

# Record expiry is judged against the now_ms a call passes; key-value TTLs against the wall clock. Tests that mix
# both (cleanup, stats) need NOW near the wall clock.
NOW = _now_ms()
PAST = NOW - 1
FUTURE = NOW + 3_600_000


def ids(records: list[EncodedRecord]) -> list[str]:
    return [record.id for record in records]


def hit_ids(hits: list[tuple[EncodedRecord, float]]) -> list[str]:
    return [record.id for record, _ in hits]


def true_counts(backend: FileBackend, now_ms: int) -> dict[str, Any]:
    """What stats() must say, counted the slow way straight from the tables."""
    connection = sqlite3.connect(backend.path)

    def scalar(sql: str) -> Any:
        return connection.execute(sql, {"now": now_ms}).fetchone()[0]

    live = "(expires_at IS NULL OR expires_at > :now)"
    try:
        return {
            "events": scalar(f"SELECT count(*) FROM records WHERE log_type = 'log' AND {live}"),
            "memories": scalar(f"SELECT count(*) FROM records WHERE log_type = 'memory' AND {live}"),
            "by_memory_type": dict(
                connection.execute(
                    f"SELECT memory_type, count(*) FROM records WHERE {live} GROUP BY 1", {"now": now_ms}
                )
            ),
            "blobs": scalar(f"SELECT count(*) FROM blobs WHERE {live}"),
            "kv_keys": scalar(f"SELECT count(*) FROM kv_keys WHERE {live}"),
            "expired_pending": scalar("SELECT count(*) FROM records WHERE expires_at <= :now"),
            "raw_bytes": scalar("SELECT total(raw_size) FROM records") + scalar("SELECT total(raw_size) FROM blobs"),
            "stored_bytes": scalar("SELECT total(length(body)) FROM records")
            + scalar("SELECT total(length(body)) FROM blobs"),
        }
    finally:
        connection.close()


def assert_stats_true(backend: FileBackend, now_ms: int = NOW) -> None:
    stats = backend.stats(now_ms=now_ms)
    reported = {name: getattr(stats, name) for name in true_counts(backend, now_ms)}
    assert reported == true_counts(backend, now_ms)


# -- the class and its plugin ---------------------------------------------------------------------------------


def test_backend_class_declares_itself_and_registers_through_the_hook(backend: FileBackend) -> None:
    assert isinstance(backend, Backend)
    assert FileBackend.name == "file" and FileBackend.settings_model is FileSettings
    assert FileBackend.capabilities == frozenset(Capability) - {Capability.COMPRESSED_TRANSPORT}
    assert FileBackend.logger_class is None and __version__
    registered: list[type] = []
    file_plugin.orka_memory_register_backends(register=registered.append)
    assert registered == [FileBackend]
    assert backend.describe() == f"sqlite:{backend.path}" and backend.path.is_absolute()
    backend.ping()


def test_settings_forbid_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="pth"):
        FileSettings(pth=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        FileSettings(busy_timeout_ms=0)
    with pytest.raises(ValidationError):
        FileSettings(synchronous="OFF")  # type: ignore[arg-type]
    assert FileSettings().path == Path(".orka-memory/memory.db")


def test_open_creates_parent_directories_relative_to_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    backend = FileBackend.open(FileSettings())
    try:
        assert backend.path == tmp_path.resolve() / ".orka-memory" / "memory.db"
        assert backend.path.is_file()
    finally:
        backend.close()


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("NORMAL", 1)])
def test_connections_use_wal_and_the_synchronous_setting(
    open_store: Callable[..., FileBackend], synchronous: str, level: int
) -> None:
    backend = open_store(synchronous=synchronous)
    connection = backend._connection()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == level
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000


def test_closed_backend_refuses_calls_and_close_is_idempotent(backend: FileBackend) -> None:
    backend.close()
    backend.close()
    with pytest.raises(BackendUnavailable, match="closed"):
        backend.recent(1, now_ms=NOW)


# -- the event log ----------------------------------------------------------------------------------------------


def test_recent_is_newest_first_respects_count_and_log_type(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    backend.append([record(f"e{index}") for index in range(5)], [])
    backend.append([memory("m0", "first"), record("e5"), memory("m1", "second")], [])
    assert ids(backend.recent(3, now_ms=NOW)) == ["m1", "e5", "m0"]
    assert ids(backend.recent(3, now_ms=NOW, log_type="log")) == ["e5", "e4", "e3"]
    assert ids(backend.recent(10, now_ms=NOW, log_type="memory")) == ["m1", "m0"]
    assert len(backend.recent(100, now_ms=NOW)) == 8
    assert backend.recent(0, now_ms=NOW) == []


def test_records_round_trip_every_field(backend: FileBackend, record: MakeRecord) -> None:
    stored = record(
        "full",
        run_id=None,
        namespace="ns",
        session="s1",
        importance=0.25,
        expires_at=FUTURE,
        text="words",
        codec="zstd",
        body=b"\x00\xff binary",
        raw_size=123,
    )
    backend.append([stored], [])
    assert backend.recent(1, now_ms=NOW) == [stored]


def test_by_run_is_oldest_first_and_filters_log_type(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    backend.append([record(f"a{index}", run_id="run-a") for index in range(3)], [])
    backend.append(
        [record("b0", run_id="run-b"), memory("am", "note", run_id="run-a"), record("a3", run_id="run-a")], []
    )
    assert ids(backend.by_run("run-a", now_ms=NOW)) == ["a0", "a1", "a2", "am", "a3"]
    assert ids(backend.by_run("run-a", now_ms=NOW, log_type="log")) == ["a0", "a1", "a2", "a3"]
    assert ids(backend.by_run("run-a", now_ms=NOW, log_type="memory")) == ["am"]
    assert backend.by_run("no-such-run", now_ms=NOW) == []


def test_replayed_batch_is_stored_once_and_counters_do_not_change(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    batch = [record("e1"), memory("m1", "hello world"), record("e2")]
    blobs = [Blob("h1", "none", b"blob-body", 9, None)]
    backend.append(batch, blobs)
    before = backend.stats(now_ms=NOW)
    backend.append(batch, blobs)
    backend.append([record("e1", agent_id="other"), record("e3")], [])  # a replayed id keeps the first version
    after = backend.stats(now_ms=NOW)
    assert ids(backend.recent(10, now_ms=NOW)) == ["e3", "e2", "m1", "e1"]
    assert backend.recent(10, now_ms=NOW)[-1].agent_id == "agent"
    assert (after.events, after.memories, after.blobs) == (before.events + 1, before.memories, before.blobs)
    assert after.raw_bytes == before.raw_bytes + record("e3").raw_size
    assert len(backend.search_text("hello", filters=MemoryFilter(), limit=10, now_ms=NOW)) == 1
    assert_stats_true(backend)


def test_a_batch_larger_than_one_statement_allows_is_stored_whole(backend: FileBackend, record: MakeRecord) -> None:
    """A batch goes in with as few multi-row INSERTs as SQLite's parameter limit allows; here a limit of 100
    parameters (5 rows a statement) splits 23 records into 5 statements, one of them replayed."""
    backend._connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    backend.append([record(f"r{index:02}") for index in range(3)], [])
    backend.append([record(f"r{index:02}") for index in range(23)], [])
    assert ids(backend.recent(30, now_ms=NOW)) == [f"r{index:02}" for index in reversed(range(23))]
    assert backend.stats(now_ms=NOW).events == 23
    assert_stats_true(backend)


def test_a_partly_replayed_batch_indexes_the_text_of_its_new_memories_once(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    """The text of a batch's memories is indexed by one statement from the rows the batch inserted (schema.py):
    across several INSERTs of one batch, and for the new memories only when some were stored already."""
    backend._connection().setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)  # 5 rows a statement
    backend.append([memory("m0", "hello world"), record("e0")], [])
    batch = [memory("m0", "hello world"), record("e0")]  # stored already
    batch += [memory(f"m{index}", f"hello moon {index}") if index % 3 == 0 else record(f"e{index}") for index in
              range(1, 12)]  # fmt: skip
    backend.append(batch, [])
    search = backend.search_text
    assert sorted(hit_ids(search("hello", filters=MemoryFilter(), limit=20, now_ms=NOW))) == ["m0", "m3", "m6", "m9"]
    assert sorted(hit_ids(search("moon", filters=MemoryFilter(), limit=20, now_ms=NOW))) == ["m3", "m6", "m9"]
    assert hit_ids(search("world", filters=MemoryFilter(), limit=20, now_ms=NOW)) == ["m0"]
    assert_stats_true(backend)


def test_statement_sizes_cover_a_batch_with_few_distinct_statements() -> None:
    assert statement_sizes(500, 500) == [500]
    assert statement_sizes(1234, 500) == [500, 500, 128, 64, 32, 8, 2]
    assert statement_sizes(0, 500) == []
    distinct = {size for count in range(1, 1501) for size in statement_sizes(count, 500)}
    assert len(distinct) <= 10 and sum(statement_sizes(1499, 500)) == 1499


def test_deleted_memory_leaves_the_text_index(backend: FileBackend, memory: MakeRecord) -> None:
    """seq values are reused after the newest row is deleted, so a stale index entry would attach the old text to
    the next record."""
    backend.append([memory("m1", "alpha")], [])
    assert backend.delete_record("m1") is True
    backend.append([memory("m2", "beta")], [])
    assert backend.search_text("alpha", filters=MemoryFilter(), limit=5, now_ms=NOW) == []
    assert hit_ids(backend.search_text("beta", filters=MemoryFilter(), limit=5, now_ms=NOW)) == ["m2"]


def test_iter_records_pages_oldest_first_across_batches(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    total = ITER_BATCH * 2 + 37
    batch = [memory(f"r{index:05}", "t") if index % 10 == 0 else record(f"r{index:05}") for index in range(total)]
    backend.append(batch, [])
    assert ids(list(backend.iter_records(now_ms=NOW))) == [item.id for item in batch]
    memories = [item.id for item in batch if item.log_type == "memory"]
    assert ids(list(backend.iter_records(now_ms=NOW, log_type="memory"))) == memories


def test_delete_record_and_delete_records(backend: FileBackend, record: MakeRecord, memory: MakeRecord) -> None:
    backend.append([record("e1"), record("e2"), memory("m1", "alpha"), memory("m2", "alpha beta")], [])
    assert backend.delete_record("m1") is True
    assert backend.delete_record("m1") is False
    assert hit_ids(backend.search_text("alpha", filters=MemoryFilter(), limit=5, now_ms=NOW)) == ["m2"]
    assert backend.delete_records(log_type="memory") == 1
    assert backend.search_text("alpha", filters=MemoryFilter(), limit=5, now_ms=NOW) == []
    assert ids(backend.recent(10, now_ms=NOW)) == ["e2", "e1"]
    assert_stats_true(backend)
    assert backend.delete_records() == 2
    assert backend.recent(10, now_ms=NOW) == []
    assert_stats_true(backend)


# -- expiry and cleanup ---------------------------------------------------------------------------------------------


def test_expired_records_are_never_returned(backend: FileBackend, record: MakeRecord, memory: MakeRecord) -> None:
    backend.append(
        [
            record("gone", expires_at=NOW),  # expires_at <= now is expired
            record("kept", expires_at=NOW + 1),
            memory("gone-m", "quarterly revenue", expires_at=PAST),
            memory("kept-m", "quarterly revenue", expires_at=None),
        ],
        [],
    )
    assert ids(backend.recent(10, now_ms=NOW)) == ["kept-m", "kept"]
    assert ids(backend.by_run("run-1", now_ms=NOW)) == ["kept", "kept-m"]
    assert ids(list(backend.iter_records(now_ms=NOW))) == ["kept", "kept-m"]
    assert hit_ids(backend.search_text("revenue", filters=MemoryFilter(), limit=10, now_ms=NOW)) == ["kept-m"]
    # the same rows are live at an earlier moment: expiry is decided by now_ms, not by a sweep
    assert len(backend.recent(10, now_ms=PAST - 1)) == 4


def test_cleanup_dry_run_counts_and_cleanup_deletes(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    backend.append(
        [
            record("e-old", expires_at=PAST),
            record("e-old-long", expires_at=PAST, memory_type="long_term"),
            record("e-new", expires_at=FUTURE),
            memory("m-old", "old memory", expires_at=NOW),
            memory("m-keep", "kept memory"),
        ],
        [
            Blob("b-old", "none", b"x", 1, PAST),
            Blob("b-new", "none", b"y", 1, FUTURE),
            Blob("b-ever", "none", b"z", 1, None),
        ],
    )
    backend.set("kv-old", "v", ttl_seconds=0.001)
    backend.set("kv-keep", "v")
    now = _now_ms() + 1000  # past the 1 ms TTL of kv-old too, still before FUTURE
    dry = backend.cleanup(now_ms=now, dry_run=True)
    assert (dry.dry_run, dry.events, dry.memories, dry.blobs, dry.kv_keys) == (True, 2, 1, 1, 1)
    assert dry.by_memory_type == {"short_term": 2, "long_term": 1}
    assert len(backend.recent(10, now_ms=PAST - 1)) == 5, "a dry run deletes nothing"
    assert backend.stats(now_ms=now).expired_pending == 3
    done = backend.cleanup(now_ms=now, dry_run=False)
    assert dataclasses.replace(done, dry_run=True) == dry
    assert ids(backend.recent(10, now_ms=PAST - 1)) == ["m-keep", "e-new"]
    assert set(backend.get_blobs(["b-old", "b-new", "b-ever"])) == {"b-new", "b-ever"}
    assert backend.get("kv-keep") == "v" and backend.scan(0, count=10) == (0, ["kv-keep"])
    assert backend.cleanup(now_ms=now, dry_run=True).total == 0
    assert hit_ids(backend.search_text("memory", filters=MemoryFilter(), limit=5, now_ms=PAST - 1)) == ["m-keep"]
    assert_stats_true(backend, now)


@pytest.mark.parametrize(
    ("first", "second", "kept"),
    [
        (NOW + 10, NOW + 20, NOW + 20),  # the later expiry wins
        (NOW + 20, NOW + 10, NOW + 20),  # ... in either order
        (None, NOW + 10, None),  # never expiring wins over any time
        (NOW + 10, None, None),
        (None, None, None),
    ],
)
def test_blob_stored_again_keeps_its_body_and_takes_the_later_expiry(
    backend: FileBackend, first: int | None, second: int | None, kept: int | None
) -> None:
    backend.append([], [Blob("h", "none", b"original", 8, first)])
    backend.append([], [Blob("h", "zstd", b"other", 5, second)])
    assert backend.get_blobs(["h", "missing"]) == {"h": Blob("h", "none", b"original", 8, kept)}
    expected_blobs = 0 if kept is not None else 1
    assert backend.cleanup(now_ms=NOW + 30, dry_run=False).blobs == 1 - expected_blobs
    assert backend.stats(now_ms=NOW).blobs == expected_blobs


def test_get_blobs_reads_many_hashes(backend: FileBackend) -> None:
    blobs = [Blob(f"h{index}", "none", f"body{index}".encode(), 5, None) for index in range(1200)]
    backend.append([], blobs)
    found = backend.get_blobs([f"h{index}" for index in range(1300)])
    assert len(found) == 1200 and found["h1199"] == blobs[1199]
    assert backend.get_blobs([]) == {}


# -- search ---------------------------------------------------------------------------------------------------


def test_search_ranks_records_with_more_and_rarer_words_first(backend: FileBackend, memory: MakeRecord) -> None:
    backend.append(
        [
            memory("one-word", "the revenue report for the board"),
            memory("two-words", "quarterly revenue report for the board"),
            memory("three-words", "quarterly revenue grew, the board said"),
            memory("none", "an unrelated note about lunch"),
            *[memory(f"filler{index}", f"filler text number {index}") for index in range(6)],
        ],
        [],
    )
    hits = backend.search_text("quarterly revenue grew", filters=MemoryFilter(), limit=10, now_ms=NOW)
    assert hit_ids(hits) == ["three-words", "two-words", "one-word"]
    scores = [score for _, score in hits]
    assert all(0.0 < score <= 1.0 for score in scores)
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1] > scores[2]


def test_search_matches_any_word_case_and_accent_insensitively(backend: FileBackend, memory: MakeRecord) -> None:
    backend.append([memory("m1", "Café Revenue"), memory("m2", "other words")], [])
    assert hit_ids(backend.search_text("cafe", filters=MemoryFilter(), limit=5, now_ms=NOW)) == ["m1"]
    assert hit_ids(backend.search_text("REVENUE nothing", filters=MemoryFilter(), limit=5, now_ms=NOW)) == ["m1"]


@pytest.mark.parametrize(
    "query", ['"', "AND", "OR NOT", "(", ")", "*", "revenue*", "NEAR(a b)", "text:revenue", "^", "", "   ", "_", "-x"]
)
def test_search_odd_inputs_never_raise(backend: FileBackend, memory: MakeRecord, query: str) -> None:
    backend.append([memory("m1", "revenue and text of near x")], [])
    hits = backend.search_text(query, filters=MemoryFilter(), limit=5, now_ms=NOW)
    assert hit_ids(hits) in ([], ["m1"])


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('Revenue AND "growth" (q3*)') == '"revenue" OR "and" OR "growth" OR "q3"'
    assert fts_query('" * ( )') is None
    assert fts_query("revenue revenue REVENUE") == '"revenue"'


def test_search_limit_and_expired_and_log_type(backend: FileBackend, memory: MakeRecord, record: MakeRecord) -> None:
    backend.append([memory(f"m{index}", f"revenue {index}") for index in range(8)], [])
    backend.append([record("event", text="revenue")], [])  # an event's text is not indexed
    assert len(backend.search_text("revenue", filters=MemoryFilter(), limit=5, now_ms=NOW)) == 5
    assert backend.search_text("revenue", filters=MemoryFilter(), limit=0, now_ms=NOW) == []
    assert backend.search_text("revenue", filters=MemoryFilter(log_type="log"), limit=5, now_ms=NOW) == []


FILTER_CASES: list[tuple[str, Any, Any]] = [
    ("run_id", "run-wanted", "run-other"),
    ("agent_id", "analyst", "noise-agent"),
    ("memory_type", "long_term", "short_term"),
    ("namespace", "finance", "noise"),
    ("session", "s-wanted", "s-other"),
    ("category", "stored", "log"),
    ("min_importance", 0.8, 0.2),
]


@pytest.mark.parametrize(("field", "wanted", "other"), FILTER_CASES)
def test_every_filter_applies_inside_the_query(
    backend: FileBackend, memory: MakeRecord, field: str, wanted: Any, other: Any
) -> None:
    """20 decoys match the words better; with the filter, limit=3 still returns the 3 matching records."""
    column = "importance" if field == "min_importance" else field
    decoys = [
        memory(f"decoy{index}", "quarterly revenue growth quarterly revenue", **{column: other}) for index in range(20)
    ]
    right = [memory(f"right{index}", f"revenue note {index}", **{column: wanted}) for index in range(3)]
    backend.append([*decoys[:10], *right, *decoys[10:]], [])
    unfiltered = backend.search_text("quarterly revenue", filters=MemoryFilter(), limit=3, now_ms=NOW)
    assert all(record_id.startswith("decoy") for record_id in hit_ids(unfiltered))
    hits = backend.search_text("quarterly revenue", filters=MemoryFilter(**{field: wanted}), limit=3, now_ms=NOW)
    assert sorted(hit_ids(hits)) == ["right0", "right1", "right2"]


def test_filters_combine(backend: FileBackend, memory: MakeRecord) -> None:
    backend.append(
        [
            memory("both", "revenue", namespace="finance", session="s1"),
            memory("ns-only", "revenue", namespace="finance", session="s2"),
            memory("session-only", "revenue", namespace="other", session="s1"),
        ],
        [],
    )
    filters = MemoryFilter(namespace="finance", session="s1")
    assert hit_ids(backend.search_text("revenue", filters=filters, limit=5, now_ms=NOW)) == ["both"]


def test_filter_conditions_use_fixed_sql_and_parameters() -> None:
    conditions, params = filter_conditions(MemoryFilter(namespace="x'; DROP TABLE records; --", min_importance=0.5))
    assert conditions == " AND r.log_type = :log_type AND r.namespace = :namespace AND r.importance >= :min_importance"
    assert params == {"log_type": "memory", "namespace": "x'; DROP TABLE records; --", "min_importance": 0.5}


# -- stats ----------------------------------------------------------------------------------------------------


def test_stats_equal_true_counts_after_appends_deletes_and_cleanup(
    backend: FileBackend, record: MakeRecord, memory: MakeRecord
) -> None:
    assert_stats_true(backend)
    backend.append(
        [record(f"e{index}", expires_at=PAST if index % 3 == 0 else None) for index in range(30)]
        + [
            memory(f"m{index}", "text", memory_type="long_term", expires_at=PAST if index < 2 else None)
            for index in range(7)
        ],
        [Blob("b1", "none", b"abc", 10, None), Blob("b2", "none", b"defg", 12, PAST)],
    )
    backend.hset("h", "f", "v")
    backend.sadd("s", "a", "b")
    stats = backend.stats(now_ms=NOW)
    assert (stats.events, stats.memories, stats.expired_pending) == (20, 5, 12)
    assert stats.by_memory_type == {"short_term": 20, "long_term": 5}
    assert (stats.blobs, stats.kv_keys) == (1, 2)
    assert stats.engine_bytes and stats.engine_bytes > 0
    assert_stats_true(backend)
    backend.delete_record("e1")
    backend.delete_records(log_type="memory")
    backend.delete("h")
    assert_stats_true(backend)
    backend.cleanup(now_ms=NOW, dry_run=False)
    assert_stats_true(backend)
    assert backend.stats(now_ms=NOW).expired_pending == 0


# -- query plans: every read reaches its rows through an index ------------------------------------------------------

PLAN_PARAMS = {"now_ms": NOW, "count": 5, "log_type": "log", "run_id": "r", "after": 0, "batch": ITER_BATCH}

INDEXED_QUERIES = {
    "RECENT_OF_TYPE": ("records_log_type",),
    "BY_RUN": ("records_run",),
    "PAGE": ("INTEGER PRIMARY KEY",),
    "PAGE_OF_TYPE": ("records_log_type",),
    "EXPIRED_RECORDS": ("records_expiry",),
    "EXPIRED_BLOBS": ("blobs_expiry",),
    "EXPIRED_KEYS": ("kv_keys_expiry",),
    "DELETE_RECORDS_OF_TYPE": ("records_log_type",),
}


def query_plan(backend: FileBackend, sql: str) -> list[str]:
    return [row[3] for row in backend._connection().execute(f"EXPLAIN QUERY PLAN {sql}", PLAN_PARAMS)]


@pytest.mark.parametrize(("name", "indexes"), INDEXED_QUERIES.items())
def test_queries_use_their_index(backend: FileBackend, name: str, indexes: tuple[str, ...]) -> None:
    plan = query_plan(backend, getattr(queries, name))
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert all(any(index in step for step in plan) for index in indexes), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


EXPIRY_INDEXES = list(zip(queries.DELETE_EXPIRED, ["records", "blobs", "kv_keys"], strict=True))


@pytest.mark.parametrize(("statement", "index"), EXPIRY_INDEXES)
def test_cleanup_deletes_through_the_expiry_indexes(backend: FileBackend, statement: str, index: str) -> None:
    assert query_plan(backend, statement) == [f"SEARCH {index} USING COVERING INDEX {index}_expiry (expires_at<?)"]


def test_recent_walks_seq_backwards_and_stops_at_the_count(backend: FileBackend, record: MakeRecord) -> None:
    """RECENT reads the table's own b-tree, keyed by seq, newest first: SQLite calls that walk "SCAN records",
    but without a sort it stops after ``count`` rows, which the instruction counts below prove."""
    assert query_plan(backend, queries.RECENT) == ["SCAN records"]

    def steps() -> int:
        counted = [0]

        def tick() -> int:
            counted[0] += 1
            return 0

        connection = backend._connection()
        connection.set_progress_handler(tick, 10)
        try:
            backend.recent(5, now_ms=NOW)
        finally:
            connection.set_progress_handler(None, 0)
        return counted[0]

    backend.append([record(f"a{index}") for index in range(50)], [])
    small = steps()
    backend.append([record(f"b{index}") for index in range(5000)], [])
    assert steps() <= small + 2


def test_search_plan_starts_from_the_full_text_index(backend: FileBackend) -> None:
    conditions, params = filter_conditions(MemoryFilter(namespace="n"))
    sql = queries.SEARCH.format(filters=conditions)
    plan = [
        row[3]
        for row in backend._connection().execute(
            f"EXPLAIN QUERY PLAN {sql}", {**params, "match": '"x"', "now_ms": NOW, "limit": 3}
        )
    ]
    assert plan[0].startswith("SCAN memory_text VIRTUAL TABLE")
    assert "SEARCH r USING INTEGER PRIMARY KEY (rowid=?)" in plan


# -- restart --------------------------------------------------------------------------------------------------


def test_reopened_store_keeps_records_blobs_keys_and_counters(
    open_store: Callable[..., FileBackend], record: MakeRecord, memory: MakeRecord
) -> None:
    first = open_store()
    first.append([record("e1"), memory("m1", "persistent memory")], [Blob("h", "none", b"body", 4, None)])
    first.hset("h", "f", "v")
    first.sadd("s", "x")
    first.set("k", "v")
    stats = first.stats(now_ms=NOW)
    first.close()
    second = open_store()
    assert ids(second.recent(10, now_ms=NOW)) == ["m1", "e1"]
    assert hit_ids(second.search_text("persistent", filters=MemoryFilter(), limit=5, now_ms=NOW)) == ["m1"]
    assert second.get_blobs(["h"])["h"].body == b"body"
    assert (second.hgetall("h"), second.smembers("s"), second.get("k")) == ({"f": "v"}, ["x"], "v")
    reopened = second.stats(now_ms=NOW)
    assert dataclasses.replace(reopened, engine_bytes=None) == dataclasses.replace(stats, engine_bytes=None)
    second.append([record("e1"), record("e2")], [])  # dedup holds across restarts
    assert ids(second.recent(10, now_ms=NOW)) == ["e2", "m1", "e1"]
