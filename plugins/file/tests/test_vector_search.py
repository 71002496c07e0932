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
from pathlib import Path

import pytest
from orka_memory.backend import EncodedRecord, MemoryFilter
from orka_memory.vectors import normalize, pack
from orka_memory_file import FileBackend

MakeRecord = Callable[..., EncodedRecord]
NOW = 1_700_000_000_000
DIMENSION = 8


def unit(seed: int) -> bytes:
    rng = random.Random(seed)
    return pack(normalize([rng.uniform(-1, 1) for _ in range(DIMENSION)], DIMENSION))


def best(backend: FileBackend, query: bytes, limit: int = 1, **filters: str) -> list[tuple[str, float]]:
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


def test_searches_in_threads_beside_a_writer_rank_what_each_snapshot_holds(
    open_store: Callable[..., FileBackend], memory: MakeRecord
) -> None:
    """Four threads search while another appends 40 batches and deletes a memory of every fifth: a search scores a
    memory 1.0 exactly when it is the one whose vector was asked for (no memory is ranked by another's vector), and
    at the end each memory left is found by its vector."""
    backend = open_store()
    errors: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                backend.append([memory(f"m{batch}-{i}", "text", vector=unit(batch * 10 + i)) for i in range(10)], [])
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
                for record_id, score in best(backend, unit(batch * 10 + i), limit=3):
                    assert (score == 1.0) == (record_id == f"m{batch}-{i}"), (record_id, score)
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
    small = open_store(vector_cache_mb=300 * (DIMENSION * 4 + 8) / 2**20)  # room for 300 vectors and their seqs
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


def test_a_search_whose_snapshot_is_older_than_the_cache_ranks_only_what_its_snapshot_holds(
    backend: FileBackend, memory: MakeRecord
) -> None:
    """Another thread can bring the shared cache past a search's snapshot while the search runs: a search without
    filters takes no candidates from SQL, so it must stop at its snapshot's newest memory."""
    backend.append([memory("m1", "one", vector=unit(1))], [])
    assert best(backend, unit(1)) == [("m1", 1.0)]
    cache, delayed = backend._vectors, []

    def store_and_search_elsewhere() -> None:
        backend.append([memory("m2", "two", vector=unit(2))], [])
        assert best(backend, unit(2)) == [("m2", 1.0)]  # this search appends m2 to the cache

    def late(connection: sqlite3.Connection, length: int) -> object:
        if not delayed:  # the first search only: its snapshot starts, then another thread moves the cache on
            delayed.append(connection.execute("SELECT count(*) FROM records").fetchone())
            helper = threading.Thread(target=store_and_search_elsewhere)
            helper.start()
            helper.join()
        return type(cache).vectors(cache, connection, length)

    cache.vectors = late  # type: ignore[method-assign]
    assert [record_id for record_id, _ in best(backend, unit(2), limit=5)] == ["m1"]
    assert delayed and best(backend, unit(2)) == [("m2", 1.0)]
