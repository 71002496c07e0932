"""Vector search ranks vectors held in process memory (vectorcache.py): what it ranks must be what the store holds,
whichever connection, thread or process changed it."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from orka_memory.backend import EncodedRecord, MemoryFilter
from orka_memory.vectors import normalize, pack
from orka_memory_file import FileBackend
from orka_memory_file.schema import DELETION_LOG_ROWS
from orka_memory_file.vectorcache import row_bytes

MakeRecord = Callable[..., EncodedRecord]
NOW = 1_700_000_000_000
DIMENSION = 8


def unit(seed: int) -> bytes:
    rng = random.Random(seed)
    return pack(normalize([rng.uniform(-1, 1) for _ in range(DIMENSION)], DIMENSION))


def best(backend: FileBackend, query: bytes, limit: int = 1, **filters: Any) -> list[tuple[str, float]]:
    hits = backend.search_vector(query, filters=MemoryFilter(**filters), limit=limit, now_ms=NOW)
    return [(record.id, round(score, 4)) for record, score in hits]


def seq_of(path: Path, record_id: str) -> int:
    with sqlite3.connect(path) as connection:
        seq: int = connection.execute("SELECT seq FROM records WHERE id = ?", (record_id,)).fetchone()[0]
        return seq


def test_memories_stored_by_another_connection_are_ranked(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    searcher, writer = open_store(), open_store()
    writer.append([memory("m1", "one", vector=unit(1))], [])
    assert best(searcher, unit(1)) == [("m1", 1.0)]  # the cache is built here
    writer.append([memory("m2", "two", vector=unit(2)), memory("m3", "three", vector=unit(3))], [])
    assert best(searcher, unit(3)) == [("m3", 1.0)]
    assert {record_id for record_id, _ in best(searcher, unit(2), limit=10)} == {"m1", "m2", "m3"}


def test_a_deleted_newest_memory_whose_seq_is_reused_is_not_ranked_by_its_old_vector(
    open_store: Callable[..., FileBackend], memory: MakeRecord, store_path: Path
) -> None:
    """SQLite gives the seq of a deleted newest row to the next row inserted: a cache that only appended newer seqs
    would rank the new memory by the deleted one's vector."""
    searcher, writer = open_store(), open_store()
    writer.append([memory("old", "old", vector=unit(1))], [])
    assert best(searcher, unit(1)) == [("old", 1.0)]
    reused = seq_of(store_path, "old")
    assert writer.delete_record("old")
    writer.append([memory("new", "new", vector=unit(2))], [])
    assert seq_of(store_path, "new") == reused  # the case under test
    assert best(searcher, unit(2)) == [("new", 1.0)]
    ((found, score),) = best(searcher, unit(1))
    assert found == "new" and score < 1.0


def test_a_seq_given_again_and_deleted_again_marks_one_more_row(
    open_store: Callable[..., FileBackend], memory: MakeRecord, store_path: Path
) -> None:
    """The cache may hold a seq twice: a deleted memory's row, and the row of the memory SQLite gave its seq to.
    Deleting that memory marks its own row; the other stays marked once."""
    searcher, writer = open_store(), open_store()
    fillers = [memory(f"f{i}", "filler", vector=unit(100 + i)) for i in range(5)]
    writer.append([*fillers, memory("old", "old", vector=unit(1))], [])
    assert best(searcher, unit(1)) == [("old", 1.0)]
    reused = seq_of(store_path, "old")
    assert writer.delete_record("old")
    writer.append([memory("new", "new", vector=unit(2))], [])
    assert seq_of(store_path, "new") == reused and best(searcher, unit(2)) == [("new", 1.0)]
    assert writer.delete_record("new")
    assert best(searcher, unit(2))[0][0].startswith("f")
    buffer = searcher._vectors._buffers[DIMENSION * 4]
    assert (buffer.count, buffer.deleted) == (7, 2)


def test_expired_deleted_and_filtered_memories_are_not_ranked(backend: FileBackend, memory: MakeRecord) -> None:
    backend.append([
        memory("live", "live", vector=unit(1), namespace="a"),
        memory("expired", "expired", vector=unit(1), namespace="a", expires_at=NOW - 1),
        memory("other", "other", vector=unit(1), namespace="b"),
        memory("gone", "gone", vector=unit(1), namespace="a"),
    ], [])  # fmt: skip
    assert {record_id for record_id, _ in best(backend, unit(1), limit=10)} == {"live", "other", "gone"}
    assert backend.delete_record("gone")
    assert best(backend, unit(1), limit=10, namespace="a") == [("live", 1.0)]


# Per MemoryFilter field: values some stored memories have, and one none has.
FILTER_VALUES: dict[str, list[Any]] = {
    "run_id": ["run-0", "run-3", "run-9"],
    "agent_id": ["agent-1", "agent-9"],
    "memory_type": ["long_term", "short_term", "working"],
    "log_type": ["memory", None, "log"],
    "namespace": ["ns-1", "ns-2", "ns-9"],
    "session": ["s-0", "s-9"],
    "category": ["stored", "other", "missing"],
    "min_importance": [0.0, 0.55, 0.95, 2.0],
}


def test_each_filter_selects_in_memory_what_sql_selects(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    """The cache applies the filters itself (vectorcache.Memories.passing); a store over the cache's limit applies
    them in SQL (queries.FILTER_CONDITIONS). Both must select the same memories, for every MemoryFilter field."""
    assert set(FILTER_VALUES) == {field.name for field in fields(MemoryFilter)}  # a new filter must be tested here
    cached, uncached = open_store(), open_store(vector_cache_mb=0)
    cached.append([
        memory(f"m{i}", "text", vector=unit(i), run_id=f"run-{i % 4}", agent_id=f"agent-{i % 3}",
               memory_type=("long_term", "short_term")[i % 2], namespace=(None, "ns-1", "ns-2")[i % 3],
               session=(None, "s-0")[i % 2], category=("stored", "other")[i % 5 == 0], importance=(i % 10) / 10,
               expires_at=NOW - 1 if i % 7 == 0 else (None if i % 2 else NOW + 1000))
        for i in range(60)
    ], [])  # fmt: skip
    everything = {record_id for record_id, _ in best(cached, unit(0), 100)}
    assert 0 < len(everything) < 60  # the expired ones are left out
    selected_some = False
    for name, values in FILTER_VALUES.items():
        for value in values:
            found = best(cached, unit(0), 100, **{name: value})
            assert found == best(uncached, unit(0), 100, **{name: value}), (name, value)
            selected_some = selected_some or 0 < len(found) < len(everything)
    both = {"namespace": "ns-1", "min_importance": 0.5, "session": "s-0"}
    assert best(cached, unit(5), 100, **both) == best(uncached, unit(5), 100, **both) != []
    assert selected_some


def test_searches_in_threads_beside_a_writer_rank_what_each_snapshot_holds(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    """Four threads search, every other search filtered by the run (a label new to the cache with each batch), while
    another appends 40 batches and deletes a memory of every fifth: a search scores a memory 1.0 exactly when it is
    the one whose vector was asked for (no memory is ranked by another's vector), a filtered one returns only that
    run's memories, and at the end each memory left is found by its vector."""
    backend = open_store()
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                backend.append([memory(f"m{batch}-{i}", "text", vector=unit(batch * 10 + i), run_id=f"run-{batch}")
                                for i in range(10)], [])  # fmt: skip
                if batch % 5 == 4:
                    backend.delete_record(f"m{batch}-0")
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            done.set()

    def search(seed: int) -> None:
        try:
            while not done.is_set():
                batch, i = divmod(seed % 400, 10)
                filters = {"run_id": f"run-{batch}"} if seed % 2 else {}
                for record_id, score in best(backend, unit(batch * 10 + i), limit=3, **filters):
                    assert (score == 1.0) == (record_id == f"m{batch}-{i}"), (record_id, score)
                    assert not filters or record_id.startswith(f"m{batch}-"), (record_id, filters)
                seed += 7
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write), *(threading.Thread(target=search, args=(n,)) for n in range(4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for batch in range(40):
        for i in range(10):
            record_id = f"m{batch}-{i}"
            expected = [] if i == 0 and batch % 5 == 4 else [(record_id, 1.0)]
            hits = [hit for hit in best(backend, unit(batch * 10 + i)) if hit[0] == record_id]
            assert hits == expected, record_id


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_searches_with_a_cache_of_its_own(backend: FileBackend, memory: MakeRecord) -> None:
    """The child of a fork taken while another thread held the cache's lock would wait on it for ever if it kept
    the parent's cache; it starts its own, and sees what it stores itself."""
    backend.append([memory("parent", "parent", vector=unit(1))], [])
    assert best(backend, unit(1)) == [("parent", 1.0)]
    with backend._vectors._lock:  # as if another thread were refreshing the cache at the moment of the fork
        child = os.fork()
        if child == 0:  # the child: report by exit status only, and never return into pytest
            ok = False
            try:
                backend.append([memory("child", "child", vector=unit(2))], [])
                ok = best(backend, unit(1)) == [("parent", 1.0)] and best(backend, unit(2)) == [("child", 1.0)]
            finally:
                os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while (waited := os.waitpid(child, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if waited[0] == 0:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked child's search did not return within 30 s")
    assert os.waitstatus_to_exitcode(waited[1]) == 0
    assert best(backend, unit(2)) == [("child", 1.0)]


def test_a_store_over_the_cache_limit_is_searched_from_the_file_with_the_same_results(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    """``vector_cache_mb`` bounds the memory the cache takes: 0 keeps none; a store whose vectors outgrow the limit
    makes the cache give up (and free what it held) until a deletion lets it try again. Either way every search
    returns what the cached search returns."""
    cached, uncached = open_store(), open_store(vector_cache_mb=0)
    small = open_store(vector_cache_mb=(300 * row_bytes(DIMENSION * 4) + 4096) / 2**20)  # 300 memories, few labels
    cached.append([memory(f"m{i}", "text", vector=unit(i), namespace=f"ns-{i % 3}") for i in range(200)], [])
    queries = [unit(seed) for seed in range(1000, 1010)]

    def results(backend: FileBackend) -> list[list[tuple[str, float]]]:
        return [best(backend, query, 5) + best(backend, query, 5, namespace="ns-1") for query in queries]

    expected = results(cached)
    assert results(uncached) == expected and results(small) == expected
    assert small._vectors._buffers  # 200 vectors fit
    cached.append([memory(f"n{i}", "text", vector=unit(500 + i)) for i in range(200)], [])
    assert results(uncached) == results(small) == results(cached)
    assert small._vectors._over and not small._vectors._buffers  # 400 do not: nothing is held
    for i in range(150):
        assert cached.delete_record(f"n{i}")
    assert results(small) == results(cached)
    assert small._vectors._buffers and not small._vectors._over  # 250 fit again
    assert not uncached._vectors._buffers


def move_the_cache_on_during_the_next_search(backend: FileBackend, elsewhere: Callable[[], None]) -> list[object]:
    """Make the next search start its snapshot, then run ``elsewhere`` in another thread (which may bring the shared
    cache past that snapshot) before the search reads the cache. The list returned is filled when that happened."""
    cache, delayed = backend._vectors, []

    def late(connection: sqlite3.Connection, length: int) -> object:
        if not delayed:
            delayed.append(connection.execute("SELECT count(*) FROM records").fetchone())  # the snapshot starts
            helper = threading.Thread(target=elsewhere)
            helper.start()
            helper.join()
        return type(cache).memories(cache, connection, length)

    cache.memories = late  # type: ignore[method-assign]
    return delayed


def test_the_labels_text_counts_in_the_cache_limit(open_store: Callable[..., FileBackend], memory: MakeRecord) -> None:
    """Each distinct label (a namespace, a session, a run id) is kept once, beside the vectors, and counts toward
    ``vector_cache_mb``: memories with labels of their own can outgrow a limit their rows alone fit in."""
    cached, writer = open_store(vector_cache_mb=(150 * row_bytes(DIMENSION * 4) + 8192) / 2**20), open_store()
    uncached = open_store(vector_cache_mb=0)
    writer.append([memory(f"m{i}", "text", vector=unit(i), namespace=f"ns-{i % 3}") for i in range(100)], [])
    assert best(cached, unit(1)) == [("m1", 1.0)]
    assert cached._vectors._buffers and not cached._vectors._over  # 100 rows and a few labels fit
    writer.append([memory(f"s{i}", "text", vector=unit(200 + i), session=f"{i}-" + "x" * 400) for i in range(40)], [])
    assert best(cached, unit(201), 5) == best(uncached, unit(201), 5)
    assert cached._vectors._over and not cached._vectors._buffers  # 140 rows would fit; their 40 sessions do not


def test_a_search_whose_snapshot_is_older_than_the_cache_ranks_only_what_its_snapshot_holds(
    backend: FileBackend, memory: MakeRecord
) -> None:
    """Another thread can bring the shared cache past a search's snapshot while the search runs: a search without
    filters takes no candidates from SQL, so it must stop at its snapshot's newest memory."""
    backend.append([memory("m1", "one", vector=unit(1))], [])
    assert best(backend, unit(1)) == [("m1", 1.0)]

    def store_and_search_elsewhere() -> None:
        backend.append([memory("m2", "two", vector=unit(2))], [])
        assert best(backend, unit(2)) == [("m2", 1.0)]  # this search appends m2 to the cache

    delayed = move_the_cache_on_during_the_next_search(backend, store_and_search_elsewhere)
    assert [record_id for record_id, _ in best(backend, unit(2), limit=5)] == ["m1"]
    assert delayed and best(backend, unit(2)) == [("m2", 1.0)]


def test_a_search_whose_snapshot_still_holds_a_memory_the_cache_dropped_ranks_it(
    backend: FileBackend, memory: MakeRecord
) -> None:
    backend.append([memory("m1", "one", vector=unit(1)), memory("m2", "two", vector=unit(2))], [])
    assert best(backend, unit(1)) == [("m1", 1.0)]

    def delete_and_search_elsewhere() -> None:
        assert backend.delete_record("m1")
        assert [record_id for record_id, _ in best(backend, unit(1), limit=5)] == ["m2"]  # the cache drops m1

    delayed = move_the_cache_on_during_the_next_search(backend, delete_and_search_elsewhere)
    assert best(backend, unit(1)) == [("m1", 1.0)]
    assert delayed and [record_id for record_id, _ in best(backend, unit(1), limit=5)] == ["m2"]


def test_a_deletion_marks_the_memory_deleted_without_reading_or_copying_the_other_vectors(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    """A deleted memory's row is marked in a new expiry column; the vectors are neither read again nor copied,
    until more than half the rows are deleted and the live ones are copied into arrays of their own."""
    searcher, writer = open_store(), open_store()
    writer.append([memory(f"m{i}", "text", vector=unit(i)) for i in range(50)], [])
    assert best(searcher, unit(10)) == [("m10", 1.0)]
    buffer = searcher._vectors._buffers[DIMENSION * 4]
    matrix = buffer.columns.matrix
    read: list[int] = []
    append = searcher._vectors._append
    searcher._vectors._append = lambda rows: (read.append(len(rows)), append(rows))[1]  # type: ignore[method-assign]
    assert writer.delete_record("m10") and writer.delete_record("m49")  # the newest too
    assert best(searcher, unit(10), limit=50)[0][0] != "m10"
    remaining = {f"m{i}" for i in range(50)} - {"m10", "m49"}
    assert {record_id for record_id, _ in best(searcher, unit(1), limit=50)} == remaining
    assert read == [] and buffer.columns.matrix is matrix and (buffer.count, buffer.deleted) == (50, 2)
    for i in range(20, 45):
        assert writer.delete_record(f"m{i}")
    remaining -= {f"m{i}" for i in range(20, 45)}
    assert {record_id for record_id, _ in best(searcher, unit(1), limit=50)} == remaining
    assert (buffer.count, buffer.deleted) == (len(remaining), 0) and buffer.columns.matrix is not matrix


def test_a_memory_given_the_seq_of_a_deleted_event_above_the_newest_cached_memory_is_ranked(
    open_store: Callable[..., FileBackend], memory: MakeRecord, record: MakeRecord, store_path: Path
) -> None:
    """After the newest memory and an event below it are deleted, the next row inserted takes the event's seq,
    which is below every seq the cache had read: it must read again from the newest memory it still holds."""
    searcher, writer = open_store(), open_store()
    writer.append([memory("m1", "one", vector=unit(1)), record("event"), memory("m2", "two", vector=unit(2))], [])
    assert best(searcher, unit(2)) == [("m2", 1.0)]
    event = seq_of(store_path, "event")
    assert writer.delete_record("m2") and writer.delete_record("event")
    writer.append([memory("new", "new", vector=unit(3))], [])
    assert seq_of(store_path, "new") == event  # the case under test
    assert best(searcher, unit(3)) == [("new", 1.0)]
    assert best(searcher, unit(2), limit=5)[0][0] != "m2"


def test_a_cache_further_behind_than_the_deletion_log_reads_every_vector_again(
    open_store: Callable[..., FileBackend], memory: MakeRecord, record: MakeRecord, store_path: Path
) -> None:
    """Only the newest DELETION_LOG_ROWS deletions (and up to a thousand more) are kept: a cache that missed older
    ones cannot tell which of its memories are gone, so it starts again."""
    searcher, writer = open_store(), open_store()
    count = DELETION_LOG_ROWS + 2000
    for start in range(0, count, 1000):
        writer.append([memory(f"d{i}", "text", vector=unit(i)) for i in range(start, start + 1000)], [])
    writer.append([record("event")], [])  # so that no seq is given again
    assert best(searcher, unit(0)) == [("d0", 1.0)]
    assert writer.delete_records(log_type="memory") == count
    writer.append([memory("after", "after", vector=unit(-1))], [])
    with sqlite3.connect(store_path) as connection:
        logged, oldest = connection.execute("SELECT count(*), min(seq) FROM deleted_memories").fetchone()
    assert logged < DELETION_LOG_ROWS + 1000 and oldest > 1  # the log is bounded: d0's deletion is gone
    assert [record_id for record_id, _ in best(searcher, unit(0), limit=5)] == ["after"]
    assert best(searcher, unit(-1), limit=5) == [("after", 1.0)]
