"""How a record is laid out in Redis, and read back.

- An event is a stream entry with five fields: ``i`` (record id), ``x`` (expires_at in epoch ms, empty for never),
  ``z`` (JSON size before compression), ``h`` (header) and ``b`` (the encoded document, as the writer made it).
  Short names because there is one entry per event: the names are stored in every entry.
- A stored memory is a hash (one per memory, with a native TTL) holding the same header and body, plus the fields
  search filters on (``run_id``, ``agent_id``, ``memory_type``, ``namespace``, ``session``, ``category``,
  ``importance``), ``created_at``, ``expires_at`` and ``words`` (the text's length in words, for BM25).
- The header is the JSON list of the ``EncodedRecord`` fields but the body (and the embedding, unused here), in
  declaration order, so a read rebuilds the record without decompressing anything.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from operator import attrgetter
from typing import Any

import orjson
from orka_memory.backend import Blob, EncodedRecord

from orka_memory_redis import search
from orka_memory_redis.keys import lifetime

# Every field but the body and the embedding: the redis backend does not search by vector, so the logger sends
# none (``EncodedRecord.vector`` is None).
HEADER_FIELDS = tuple(field.name for field in dataclasses.fields(EncodedRecord) if field.name not in ("body", "vector"))
_header_values = attrgetter(*HEADER_FIELDS)  # one C call per record on the writer's hot path


def header(record: EncodedRecord) -> bytes:
    return orjson.dumps(_header_values(record))


def decode(header_json: bytes, body: bytes) -> EncodedRecord:
    return EncodedRecord(**dict(zip(HEADER_FIELDS, orjson.loads(header_json), strict=True)), body=body)


def decode_pairs(flat: list[bytes]) -> list[EncodedRecord]:
    """Records from a script's ``{header, body, header, body, ...}`` reply."""
    return [decode(flat[index], flat[index + 1]) for index in range(0, len(flat), 2)]


def expiry(expires_at: int | None) -> int | str:
    """An expiry as the scripts store it: epoch ms, or ``''`` for never."""
    return "" if expires_at is None else expires_at


def latest(current: float, expires_at: int | None) -> float:
    """The later of two expiries, never (``math.inf``) beating any time."""
    return max(current, math.inf if expires_at is None else expires_at)


def stream_suffix(record: EncodedRecord) -> str:
    """The event stream a record goes to: one per memory type and lifetime (see ``keys.lifetime``)."""
    return f"{record.memory_type}:{lifetime(record)}"


def event_args(record: EncodedRecord) -> tuple[Any, ...]:
    return (record.id, stream_suffix(record), expiry(record.expires_at), record.raw_size, header(record), record.body)


def memory_args(
    record: EncodedRecord, extra: Mapping[str, Any] | None = None, *, index_words: bool = True
) -> list[Any]:
    """A stored memory's arguments for append.lua: id, created_at, expiry, index document, then its hash fields.

    For backends built on this one: ``extra`` adds hash fields (an embedding, the text a search engine indexes);
    ``index_words=False`` leaves the memory out of the inverted index, for an engine that indexes the text itself.
    """
    head = header(record)
    counts = search.frequencies(record.text or "") if index_words else {}
    length = sum(counts.values())
    index = {
        "words": counts,
        "length": length,
        "memory_type": record.memory_type,
        "run_id": record.run_id,
        "raw_size": record.raw_size,
        "stored_size": len(record.body),
    }
    fields: dict[str, Any] = {
        "id": record.id,
        "created_at": record.created_at,
        "expires_at": expiry(record.expires_at),
        "memory_type": record.memory_type,
        "category": record.category,
        "agent_id": record.agent_id,
        "importance": record.importance,
        "words": length,
        "header": head,
        "body": record.body,
    }
    for name in ("run_id", "namespace", "session"):  # absent, not empty, when unset: no filter value matches
        value = getattr(record, name)
        if value is not None:
            fields[name] = value
    if extra:
        fields.update(extra)
    flat = [item for pair in fields.items() for item in pair]
    return [record.id, record.created_at, expiry(record.expires_at), orjson.dumps(index), len(fields), *flat]


def blob_args(blob: Blob) -> tuple[Any, ...]:
    return (blob.hash, blob.codec, blob.raw_size, expiry(blob.expires_at), blob.body)


def blob_from_fields(digest: str, codec: bytes, body: bytes, raw_size: bytes, expires_at: bytes) -> Blob:
    return Blob(digest, codec.decode(), body, int(raw_size), int(expires_at) if expires_at else None)
