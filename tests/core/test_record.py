"""The record's document: every field written when it has a value, nothing else, and read back unchanged."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from orka_memory.record import SCHEMA_VERSION, MemoryRecord, compat_dict_of, iso_from_ms


def full_record() -> MemoryRecord:
    """A record with a distinct, non-default value in every field (the vector is an index input, not data)."""
    return MemoryRecord(
        id="0" * 32,
        log_type="memory",
        agent_id="agent",
        event_type="write",
        created_at=1_700_000_000_000,
        run_id="run",
        step=3,
        fork_group="fork",
        parent="parent",
        payload={"content": "text"},
        previous_outputs={"earlier": {"answer": 42}},
        content="text",
        metadata={"namespace": "ns"},
        namespace="ns",
        session="session",
        importance=0.9,
        memory_type="long_term",
        category="stored",
        expires_at=1_700_000_100_000,
        vector=[1.0, 0.0],
    )


def test_every_field_but_the_vector_is_written_and_read_back() -> None:
    record = full_record()
    document = record.to_document()
    fields = {field.name for field in dataclasses.fields(MemoryRecord)}
    assert set(document) == fields - {"vector"}
    assert document["schema_version"] == SCHEMA_VERSION
    assert MemoryRecord.from_document(document) == dataclasses.replace(record, vector=None)


def test_fields_without_a_value_are_left_out() -> None:
    record = MemoryRecord(id="1" * 32, log_type="log", agent_id="a", event_type="e", created_at=1, payload={})
    assert record.to_document() == {
        "schema_version": SCHEMA_VERSION,
        "id": "1" * 32,
        "log_type": "log",
        "agent_id": "a",
        "event_type": "e",
        "created_at": 1,
        "importance": 0.5,
        "memory_type": "short_term",
        "category": "log",
    }


def test_falsy_values_other_than_empty_dicts_are_kept() -> None:
    record = MemoryRecord(id="2" * 32, log_type="log", agent_id="a", event_type="e", created_at=1, step=0, payload=[])
    document = record.to_document()
    assert document["step"] == 0 and document["payload"] == []


def test_a_document_read_back_gets_its_defaults_and_ignores_unknown_keys() -> None:
    document = {"id": "3" * 32, "log_type": "log", "agent_id": "a", "event_type": "e", "created_at": 1, "new": 1}
    first, second = MemoryRecord.from_document(document), MemoryRecord.from_document(document)
    assert first == MemoryRecord(id="3" * 32, log_type="log", agent_id="a", event_type="e", created_at=1)
    assert first.metadata == {} and first.metadata is not second.metadata  # a dict of its own, as a new record's


def test_a_document_without_a_required_field_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="agent_id"):
        MemoryRecord.from_document({"id": "4" * 32, "log_type": "log", "event_type": "e", "created_at": 1})


@pytest.mark.parametrize(
    "epoch_ms",
    [0, 1, 999, 1_000, -1, -999, -1_001, 1_700_000_000_123, 1_700_000_000_999, 4_102_444_800_000, 253_402_300_799_999],
)
def test_times_are_iso_8601_utc_to_the_exact_millisecond(epoch_ms: int) -> None:
    exact = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=epoch_ms)
    assert iso_from_ms(epoch_ms) == exact.isoformat(timespec="milliseconds")
    if epoch_ms >= 0:
        assert iso_from_ms(float(epoch_ms)) == iso_from_ms(epoch_ms)  # a time another writer stored as a float


@pytest.mark.parametrize(
    "document",
    [
        full_record().to_document(),
        MemoryRecord(id="5" * 32, log_type="log", agent_id="a", event_type="e", created_at=1).to_document(),
        {**full_record().to_document(), "from_a_newer_writer": 1},  # unknown keys are dropped
        {**full_record().to_document(), "payload": None, "metadata": {}},  # values to_document leaves out
        {"id": "6" * 32, "log_type": "log", "agent_id": "a", "event_type": "e", "created_at": 1},  # defaults left out
    ],
    ids=["full", "minimal", "unknown-key", "left-out-values", "older-writer"],
)
def test_a_stored_document_reads_as_the_compat_dict_of_its_record(document: dict[str, Any]) -> None:
    expected = MemoryRecord.from_document(dict(document)).to_compat_dict()
    read = compat_dict_of(dict(document))
    assert read == expected
    assert list(read) == list(expected)  # the same key order, aliases last
