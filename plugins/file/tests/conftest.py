"""Fixtures of the file backend's tests: a fresh store per test, a record factory, and what subprocesses need."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import orka_memory
import orka_memory_file
import pytest
from orka_memory.backend import EncodedRecord
from orka_memory_file import FileBackend, FileSettings

MakeRecord = Callable[..., EncodedRecord]


def make_record(record_id: str, **fields: Any) -> EncodedRecord:
    """An event record (log_type "log") with the given fields overridden; ``text`` makes a searchable memory only
    together with ``log_type="memory"``."""
    values: dict[str, Any] = {
        "id": record_id,
        "created_at": 1_700_000_000_000,
        "log_type": "log",
        "agent_id": "agent",
        "event_type": "step",
        "run_id": "run-1",
        "memory_type": "short_term",
        "category": "log",
        "importance": 0.5,
        "namespace": None,
        "session": None,
        "expires_at": None,
        "text": None,
        "codec": "none",
        "body": orjson.dumps({"id": record_id}),
        "raw_size": 0,
    }
    values.update(fields)
    if not values["raw_size"]:
        values["raw_size"] = len(values["body"])
    return EncodedRecord(**values)


def make_memory(record_id: str, text: str, **fields: Any) -> EncodedRecord:
    """A stored memory (log_type "memory", category "stored") holding ``text``."""
    return make_record(record_id, **{"log_type": "memory", "category": "stored", "text": text, **fields})


@pytest.fixture
def record() -> MakeRecord:
    return make_record


@pytest.fixture
def memory() -> MakeRecord:
    return make_memory


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "memory.db"


@pytest.fixture
def open_store(store_path: Path) -> Iterator[Callable[..., FileBackend]]:
    """Opens backends on ``store_path`` (settings overridable) and closes every one after the test."""
    opened: list[FileBackend] = []

    def open_(**settings: Any) -> FileBackend:
        backend = FileBackend.open(FileSettings(path=store_path, **settings))
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(open_store: Callable[..., FileBackend]) -> FileBackend:
    return open_store()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment of a child Python that imports the same orka_memory and orka_memory_file as the tests."""
    roots = [str(Path(module.__file__ or "").parents[1]) for module in (orka_memory, orka_memory_file)]
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*roots, *([inherited] if inherited else [])])}
