"""Blob deduplication: OrKa's reference shape, the threshold, recursive resolution."""

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from orka_memory import create_memory_logger, encoding
from orka_memory.blobs import BLOB_REFERENCE, DEFAULT_THRESHOLD, canonical_json, extract_blobs, resolve_references
from orka_memory.codecs import CodecRegistry
from orka_memory.encoding import RecordEncoder
from orka_memory.plugins import get_plugin_manager
from orka_memory.record import MemoryRecord


def _canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _dict_of_size(size: int) -> dict:
    base = {"text": ""}
    base["text"] = "x" * (size - len(_canonical(base)))
    assert len(_canonical(base)) == size
    return base


def test_threshold_and_reference_shape() -> None:
    small, large = _dict_of_size(199), _dict_of_size(200)
    found: dict[str, bytes] = {}
    out = extract_blobs({"small": small, "large": large, "list": [large]}, 200, found)
    digest = hashlib.sha256(_canonical(large)).hexdigest()
    assert out["small"] == small
    assert out["large"] == {"ref": digest, "_type": BLOB_REFERENCE, "_original_keys": ["text"]}
    assert out["list"] == [out["large"]]
    assert found == {digest: _canonical(large)}


def test_the_input_is_never_changed_and_only_the_path_to_a_blob_is_copied() -> None:
    """The in-process trace shares the logged value with the writer, so extraction must not change it."""
    large, untouched = _dict_of_size(300), {"n": [1, 2]}
    value = {"outputs": [{"answer": large}], "other": untouched}
    before = json.dumps(value)
    out = extract_blobs(value, 200, {})
    assert json.dumps(value) == before
    assert out is not value and out["outputs"] is not value["outputs"]
    assert out["other"] is untouched
    assert out["outputs"][0]["_type"] == BLOB_REFERENCE  # the first qualifying dict from the top is replaced whole
    plain = {"a": {"b": [1, 2]}, "c": "text"}
    assert extract_blobs(plain, 200, {}) is plain


def test_root_is_never_replaced_and_key_order_is_restored() -> None:
    value = {"z": 1, "a": "y" * 300}
    found: dict[str, bytes] = {}
    assert extract_blobs(value, 200, found) == value and not found
    nested = {"out": {"z": 1, "a": "y" * 300}}
    replaced = extract_blobs(nested, 200, found)
    [resolved] = resolve_references([replaced], lambda hashes: {h: json.loads(found[h]) for h in hashes})
    assert list(resolved["out"]) == ["z", "a"]
    assert resolved == nested


def test_references_resolve_recursively_and_missing_ones_are_marked() -> None:
    inner = {"ref": "b" * 64, "_type": BLOB_REFERENCE, "_original_keys": ["v"]}
    blobs = {"a" * 64: {"child": inner}, "b" * 64: {"v": 1}}
    missing = {"ref": "c" * 64, "_type": BLOB_REFERENCE}
    events = [{"payload": {"ref": "a" * 64, "_type": BLOB_REFERENCE}}, {"payload": missing}]
    calls: list[set[str]] = []

    def fetch(hashes: set[str]) -> dict:
        calls.append(set(hashes))
        return {h: blobs[h] for h in hashes if h in blobs}

    first, second = resolve_references(events, fetch)
    assert first["payload"] == {"child": {"v": 1}}
    assert second["payload"]["_type"] == "missing_blob_reference" and second["payload"]["ref"] == "c" * 64
    assert len(calls) == 2, "one fetch per nesting level, not one per reference"


def test_reference_cycles_in_a_corrupt_store_terminate() -> None:
    blobs = {"a" * 64: {"loop": {"ref": "a" * 64, "_type": BLOB_REFERENCE}}}
    [out] = resolve_references([{"x": {"ref": "a" * 64, "_type": BLOB_REFERENCE}}], lambda h: blobs)
    assert out["x"]["loop"]["_type"] == BLOB_REFERENCE


def test_a_blob_repeated_in_one_batch_is_encoded_once_with_the_latest_expiry() -> None:
    encoder = RecordEncoder(
        CodecRegistry(get_plugin_manager().codecs()),
        codec="zstd",
        compress_threshold=0,
        dedup=True,
        blob_threshold=DEFAULT_THRESHOLD,
    )
    shared = {"response": "the same long agent output " * 20}
    records = [
        MemoryRecord(
            id=f"r{n}",
            log_type="log",
            agent_id="a",
            event_type="e",
            created_at=1,
            payload={"out": shared},
            expires_at=expiry,
        )
        for n, expiry in enumerate([5_000, 9_000, 7_000])
    ]
    batch = encoder.encode_batch(records)
    [blob] = batch.blobs
    assert blob.expires_at == 9_000 and blob.raw_size == len(canonical_json(shared))
    assert encoder.decode_blob(blob) == shared
    assert all(encoder.decode_document(item)["payload"]["out"]["ref"] == blob.hash for item in batch.records)
    never = replace(records[0], id="r9", expires_at=None)
    assert encoder.encode_batch([*records, never]).blobs[0].expires_at is None


def test_reads_look_for_references_only_in_records_that_mention_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding walks only the documents whose JSON mentions a reference (the walk costs more than decompressing),
    asks the store for the blobs of those, and decodes a record that only mentions the word unchanged."""
    walked: list[list[Any]] = []

    def counting_resolve(values: list[Any], fetch: Callable[[Collection[str]], dict[str, Any]]) -> list[Any]:
        walked.append(values)
        return resolve_references(values, fetch)

    monkeypatch.setattr(encoding, "resolve_references", counting_resolve)
    shared = {"response": "the same long agent output " * 20}
    mention = {"note": f"a {BLOB_REFERENCE} is a dict", "_type": BLOB_REFERENCE}
    with create_memory_logger("file", path=str(tmp_path / "store.db"), spool_dir=str(tmp_path / "spool")) as memory:
        memory.log("a", "plain", {"answer": 42}, run_id="plain")
        memory.log("a", "plain", {"answer": 43}, run_id="plain")
        memory.log("a", "mention", mention, run_id="mention")
        memory.log("a", "shared", {"out": shared}, run_id="shared")
        memory.flush()
        assert [event["payload"] for event in memory.trace("plain")] == [{"answer": 42}, {"answer": 43}]
        assert walked == []
        assert [event["payload"] for event in memory.trace("mention")] == [mention]
        assert [event["payload"] for event in memory.trace("shared")] == [{"out": shared}]
        assert [len(values) for values in walked] == [1, 1]
        assert walked[1][0]["payload"]["out"]["ref"] == hashlib.sha256(canonical_json(shared)).hexdigest()
