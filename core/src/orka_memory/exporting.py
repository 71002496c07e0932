"""Exports and imports: OrKa's JSON envelope, and a streaming JSONL (optionally zstd) format for large logs.

The envelope (``save_to_file``/``load_from_file``) keeps deduplication: events hold blob references and the
``blob_store`` holds each blob once. JSONL exports are for streaming tools: one header line, then one
self-contained record document per line with references resolved, so any JSON reader can use a line alone.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
import zstandard

from orka_memory.blobs import collect_references, resolve_references
from orka_memory.record import SCHEMA_VERSION, MemoryRecord, new_record_id, now_ms
from orka_memory.version import __version__

if TYPE_CHECKING:
    from orka_memory.logger import MemoryLogger

JSONL_HEADER_TYPE = "orka_memory_export"


class ExportFormatError(ValueError):
    """A file that is not an orka-memory (or OrKa) export; the message names the file and the problem."""


def _write_atomically(path: Path, chunks: Iterator[bytes]) -> None:
    """Write to a temporary file beside ``path`` and rename it, so a crash never leaves half an export."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temporary.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


# -- the envelope -------------------------------------------------------------------------------------------------


def save_envelope(logger: MemoryLogger, path: Path) -> None:
    events: list[dict[str, Any]] = []
    refs: set[str] = set()
    for encoded in logger.backend.iter_records(now_ms=now_ms()):
        document = logger.encoder.decode_document(encoded)
        collect_references(document, refs)
        events.append(document)
    blob_store: dict[str, Any] = {}
    pending = refs
    while pending:  # blobs may refer to further blobs
        fetched = logger.encoder.fetch_blobs(logger.backend, pending)
        blob_store.update(fetched)
        nested: set[str] = set()
        collect_references(list(fetched.values()), nested)
        pending = nested - blob_store.keys()
    metadata = {
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "backend": logger.backend.name,
        "deduplication_enabled": logger.settings.dedup,
        "blob_threshold_chars": logger.settings.blob_threshold_chars,
        "total_blobs_stored": len(blob_store),
        "total_events": len(events),
        "missing_blobs": sorted(refs - blob_store.keys()),
        "stats": {"events": len(events), "blobs": len(blob_store)},
        "generated_at": datetime.now(UTC).isoformat(),
    }
    envelope = {"_metadata": metadata, "blob_store": blob_store, "events": events}
    _write_atomically(path, iter([orjson.dumps(envelope, option=orjson.OPT_INDENT_2)]))


def load_envelope(path: Path, *, resolve_blobs: bool = True) -> dict[str, Any]:
    data = _read_json(path)
    if isinstance(data, list):
        data = {"_metadata": {"format": "legacy"}, "blob_store": {}, "events": data}
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise ExportFormatError(f"{path} is not an orka-memory export: expected an object with an 'events' list")
    blob_store = data.get("blob_store") or {}
    if resolve_blobs:
        data["events"] = resolve_references(
            data["events"], lambda hashes: {h: blob_store[h] for h in hashes if h in blob_store}
        )
    data.setdefault("_metadata", {})
    data.setdefault("blob_store", blob_store)
    return data


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExportFormatError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ExportFormatError(f"{path} is not valid JSON ({error}); is it a JSONL export? use import") from None


# -- JSONL ----------------------------------------------------------------------------------------------------


def _open_binary(path: Path, mode: str) -> IO[bytes]:
    raw = path.open(mode + "b")
    if path.suffix != ".zst":
        return raw
    if mode == "w":
        return zstandard.ZstdCompressor(level=6).stream_writer(raw, closefd=True)
    return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))


def export_jsonl(logger: MemoryLogger, path: Path) -> int:
    header = {
        "_type": JSONL_HEADER_TYPE,
        "version": __version__,
        "schema_version": SCHEMA_VERSION,
        "backend": logger.backend.name,
        "generated_at": datetime.now(UTC).isoformat(),
    }
    count = 0

    def lines() -> Iterator[bytes]:
        nonlocal count
        yield orjson.dumps(header) + b"\n"
        for record in logger.iter_records():
            count += 1
            yield orjson.dumps(record.to_document()) + b"\n"

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix}")
    try:
        with _open_binary(temporary, "w") as handle:
            for line in lines():
                handle.write(line)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return count


def _iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with _open_binary(path, "r") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                document = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise ExportFormatError(f"{path}, line {number}: not valid JSON ({error})") from None
            if isinstance(document, dict) and document.get("_type") != JSONL_HEADER_TYPE:
                yield document


# -- import ---------------------------------------------------------------------------------------------------


def import_file(logger: MemoryLogger, path: Path) -> int:
    """Queue every record of an export on ``logger``; records keep their ids, so importing twice stores once."""
    if ".jsonl" in path.suffixes:
        documents: Iterator[dict[str, Any]] | list[Any] = _iter_jsonl(path)
    else:
        documents = load_envelope(path, resolve_blobs=True)["events"]
    count = 0
    for document in documents:
        if isinstance(document, dict):
            logger.append_record(record_from_export(document))
            count += 1
    return count


def record_from_export(document: dict[str, Any]) -> MemoryRecord:
    """An orka-memory document as it is; an OrKa event (no id) mapped field by field onto a new record."""
    if "id" in document and "created_at" in document and "log_type" in document:
        return MemoryRecord.from_document(document)
    created = _epoch_ms(document.get("timestamp"))
    metadata = document["metadata"] if isinstance(document.get("metadata"), dict) else {}
    log_type = document.get("log_type") or metadata.get("log_type") or "log"
    return MemoryRecord(
        id=new_record_id(created),
        log_type="memory" if log_type == "memory" else "log",
        agent_id=str(document.get("agent_id") or document.get("node_id") or "unknown"),
        event_type=str(document.get("event_type") or "event"),
        created_at=created,
        run_id=document.get("run_id") or document.get("trace_id"),
        step=document.get("step") if isinstance(document.get("step"), int) else None,
        fork_group=document.get("fork_group"),
        parent=document.get("parent"),
        payload=document.get("payload"),
        previous_outputs=document.get("previous_outputs"),
        content=document.get("content"),
        metadata=metadata,
        importance=float(document.get("importance_score", document.get("importance", 0.5)) or 0.5),
        memory_type="long_term" if document.get("memory_type") == "long_term" else "short_term",
        category="stored" if log_type == "memory" else "log",
    )


def _epoch_ms(value: Any) -> int:
    if isinstance(value, int | float):
        return int(value if value > 10**11 else value * 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return now_ms()
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)
    return now_ms()
