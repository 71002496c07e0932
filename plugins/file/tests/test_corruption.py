"""Damaged, foreign and unreachable files raise orka-memory errors that name the path and the fix."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from orka_memory.backend import BackendUnavailable, CorruptStoreError, EncodedRecord, MemoryFilter
from orka_memory.vectors import normalize, pack
from orka_memory_file import FileBackend, FileSettings
from orka_memory_file.schema import APPLICATION_ID, SCHEMA_VERSION

MakeRecord = Callable[..., EncodedRecord]

NOW = 1_700_000_000_000


def open_at(path: Path) -> FileBackend:
    return FileBackend.open(FileSettings(path=path))


def expect_corrupt(path: Path, *fragments: str) -> str:
    with pytest.raises(CorruptStoreError) as raised:
        open_at(path).close()
    message = str(raised.value)
    assert str(path.resolve()) in message
    for fragment in fragments:
        assert fragment in message
    return message


def fill(path: Path, record: MakeRecord, count: int) -> None:
    """A real store holding ``count`` records with bodies big enough to span many pages."""
    backend = open_at(path)
    try:
        backend.append([record(f"r{index}", body=bytes(600)) for index in range(count)], [])
    finally:
        backend.close()


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xffgarbage\x13\x37" * 200,
        b"this is a plain text file, not a database\n" * 50,
        b"SQLite format",  # a header cut short
    ],
    ids=["garbage", "text", "short-header"],
)
def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "memory.db"
    path.write_bytes(content)
    message = expect_corrupt(path, "is not a SQLite database", "move the file aside", "orka-memory import")
    assert repr(content[:16]) in message
    assert path.read_bytes() == content, "the file is left as it was"


def test_an_empty_file_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    path.touch()
    backend = open_at(path)
    try:
        assert backend.recent(1, now_ms=NOW) == []
    finally:
        backend.close()


def test_a_store_truncated_to_its_header_is_refused(tmp_path: Path, record: MakeRecord) -> None:
    path = tmp_path / "memory.db"
    fill(path, record, 50)
    with path.open("r+b") as handle:
        handle.truncate(100)
    expect_corrupt(path, "cannot be read", "move the file aside")


def test_a_store_truncated_in_the_middle_is_refused_or_still_read(tmp_path: Path, record: MakeRecord) -> None:
    path = tmp_path / "memory.db"
    fill(path, record, 3000)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    try:
        backend = open_at(path)
    except CorruptStoreError as error:
        assert str(path) in str(error)
        return
    try:  # SQLite could still read it: reads work or raise CorruptStoreError, never a raw sqlite3 error
        list(backend.iter_records(now_ms=NOW))
    except CorruptStoreError as error:
        assert str(path) in str(error)
    finally:
        backend.close()


def test_a_store_with_damaged_pages_fails_the_check_at_open(tmp_path: Path, record: MakeRecord) -> None:
    path = tmp_path / "memory.db"
    fill(path, record, 3000)
    page_size = 4096
    with path.open("r+b") as handle:
        handle.seek(page_size * 5)
        handle.write(b"\xa5" * page_size * 3)
    expect_corrupt(path, "move the file aside")


def test_damage_found_after_open_raises_corrupt_store_error(tmp_path: Path, record: MakeRecord) -> None:
    path = tmp_path / "memory.db"
    fill(path, record, 3000)
    backend = open_at(path)
    try:
        size = path.stat().st_size
        with path.open("r+b") as handle:  # damage every page of the second half while the store is open
            handle.seek(size // 2)
            handle.write(b"\xff" * (size - size // 2))
        errors: list[BaseException] = []

        def read_all() -> None:  # a new thread, so a new connection without cached pages
            try:
                list(backend.iter_records(now_ms=NOW))
            except BaseException as error:
                errors.append(error)

        reader = threading.Thread(target=read_all)
        reader.start()
        reader.join()
        assert len(errors) == 1 and isinstance(errors[0], CorruptStoreError), errors
        assert str(path) in str(errors[0]) and "move the file aside" in str(errors[0])
    finally:
        backend.close()


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    expect_corrupt(path, "another application", "invoices", "set [file] path")
    assert path.read_bytes() == before


def test_a_store_written_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    expect_corrupt(path, "newer orka-memory-file", f"schema version {SCHEMA_VERSION + 1}", "upgrade")


def layout(path: Path) -> tuple[int, set[str]]:
    """The schema version of the store at ``path`` and the names of its tables, indexes and triggers."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        return version, {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}


VERSION_1_TALLY_TRIGGER = """
    CREATE TRIGGER records_tally_insert AFTER INSERT ON records
    BEGIN
        INSERT INTO tallies VALUES ('record', new.log_type, new.memory_type, 1, new.raw_size, length(new.body))
        ON CONFLICT (kind, log_type, memory_type) DO UPDATE SET
            rows = rows + 1,
            raw_bytes = raw_bytes + excluded.raw_bytes,
            stored_bytes = stored_bytes + excluded.stored_bytes;
    END
"""


VERSION_2_TEXT_TRIGGER = """
    CREATE TRIGGER records_text_insert AFTER INSERT ON records
    WHEN new.log_type = 'memory' AND new.text IS NOT NULL
    BEGIN
        INSERT INTO memory_text (rowid, text) VALUES (new.seq, new.text);
    END
"""


def test_a_version_1_store_is_migrated_and_counts_each_record_once(tmp_path: Path, record: MakeRecord) -> None:
    """Version 1 counted inserted records with a trigger; opened by this version it loses the trigger (or every
    record would be counted twice), keeps its rows and counts, and says it is this version."""
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    connection.execute(VERSION_1_TALLY_TRIGGER)
    connection.execute(VERSION_2_TEXT_TRIGGER)
    connection.execute("PRAGMA user_version = 1")
    connection.execute(
        "INSERT INTO records (id, created_at, log_type, agent_id, event_type, memory_type, "
        "category, importance, codec, body, raw_size) "
        "VALUES ('old', 1, 'log', 'a', 'e', 'short_term', 'log', 0.5, 'none', x'7b7d', 2)"
    )
    connection.commit()
    connection.close()
    backend = open_at(path)
    try:
        backend.append([record("new")], [])
        stats = backend.stats(now_ms=NOW)
        assert stats.events == 2
        assert stats.raw_bytes == 2 + record("new").raw_size
    finally:
        backend.close()
    version, names = layout(path)
    assert version == SCHEMA_VERSION
    assert not {"records_tally_insert", "records_text_insert"} & names


def test_a_version_2_store_is_migrated_and_indexes_each_memory_once(tmp_path: Path, memory: MakeRecord) -> None:
    """Version 2 indexed the text of inserted memories with a trigger; opened by this version it loses the trigger
    (or a memory would be indexed twice, which a contentless FTS5 table refuses), and finds old and new memories."""
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    connection.execute(VERSION_2_TEXT_TRIGGER)
    connection.execute("PRAGMA user_version = 2")
    connection.execute(
        "INSERT INTO records (id, created_at, log_type, agent_id, event_type, memory_type, category, importance, "
        "text, codec, body, raw_size) "
        "VALUES ('old', 1, 'memory', 'a', 'e', 'long_term', 'stored', 0.5, 'harbour pilots', 'none', x'7b7d', 2)"
    )
    connection.commit()
    connection.close()
    backend = open_at(path)
    try:
        backend.append([memory("new", "harbour cranes")], [])
        found = backend.search_text("harbour", filters=MemoryFilter(), limit=10, now_ms=NOW)
        assert sorted(record.id for record, _ in found) == ["new", "old"]
    finally:
        backend.close()
    version, names = layout(path)
    assert version == SCHEMA_VERSION and "records_text_insert" not in names


VERSION_4_DELETION_COUNT = (
    "DROP TRIGGER records_memory_delete",
    "DROP TRIGGER deleted_memories_prune",
    "DROP TABLE deleted_memories",
    "CREATE TABLE memory_deletions (generation INTEGER NOT NULL)",
    "INSERT INTO memory_deletions VALUES (0)",
    """
    CREATE TRIGGER records_memory_delete AFTER DELETE ON records WHEN old.log_type = 'memory'
    BEGIN
        UPDATE memory_deletions SET generation = generation + 1;
    END
    """,
)
VERSION_3_VECTOR_INDEX = (
    "DROP INDEX records_memories",
    "CREATE INDEX records_vectors ON records (seq) WHERE vector IS NOT NULL",
    "DROP TRIGGER records_memory_delete",
    "DROP TABLE memory_deletions",
)


@pytest.mark.parametrize(
    ("version", "statements"),
    [(4, VERSION_4_DELETION_COUNT), (3, VERSION_4_DELETION_COUNT + VERSION_3_VECTOR_INDEX)],
)
def test_a_version_3_or_4_store_is_migrated_and_its_vectors_are_searched(
    tmp_path: Path, memory: MakeRecord, version: int, statements: tuple[str, ...]
) -> None:
    """Version 3 read every vector from the file for each search, through an index on seq alone; version 4 counted
    deletions of stored memories. Opened by this version, either gets the covering index of stored memories and the
    log of deleted memories the vector cache relies on."""
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    for statement in (*statements, f"PRAGMA user_version = {version}"):
        connection.execute(statement)
    old = pack(normalize([1.0, 0.0, 0.0, 0.0], 4))
    connection.execute(
        "INSERT INTO records (id, created_at, log_type, agent_id, event_type, memory_type, category, importance, "
        "text, codec, body, raw_size, vector) "
        "VALUES ('old', 1, 'memory', 'a', 'e', 'long_term', 'stored', 0.5, 'harbour pilots', 'none', x'7b7d', 2, ?)",
        (old,),
    )
    connection.commit()
    connection.close()
    backend = open_at(path)
    try:
        backend.append([memory("new", "harbour cranes", vector=pack(normalize([0.0, 1.0, 0.0, 0.0], 4)))], [])
        found = backend.search_vector(old, filters=MemoryFilter(), limit=2, now_ms=NOW)
        assert [(record.id, round(score, 3)) for record, score in found] == [("old", 1.0), ("new", 0.0)]
        assert backend.delete_record("old")
        found = backend.search_vector(old, filters=MemoryFilter(), limit=2, now_ms=NOW)
        assert [record.id for record, _ in found] == ["new"]
    finally:
        backend.close()
    version, names = layout(path)
    assert version == SCHEMA_VERSION == 5
    assert "records_memories" in names and not {"records_vectors", "memory_deletions"} & names
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT seq FROM deleted_memories").fetchall() == [(1,)]  # "old", the first row


def test_a_store_missing_a_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    connection.execute("DROP TABLE kv_set")
    connection.close()
    expect_corrupt(path, "missing tables (kv_set)")


def test_a_new_store_is_marked_as_ours(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    open_at(path).close()
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        connection.close()


def test_a_directory_path_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "a-directory"
    path.mkdir()
    with pytest.raises(BackendUnavailable) as raised:
        open_at(path)
    assert str(path) in str(raised.value) and "unable to open" in str(raised.value)


def test_a_parent_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    path = blocker / "sub" / "memory.db"
    with pytest.raises(BackendUnavailable) as raised:
        open_at(path)
    assert str(path) in str(raised.value)
