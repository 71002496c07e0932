"""How records, blobs and shared state look on Kafka: one message each, readable by any Kafka client.

A record message has the run id as key (a run's events share a partition, in order), the encoded record document
(``docs/record-format.md``, compressed with the codec its ``codec`` header names) as value, ``created_at`` as
timestamp, and the indexed fields as UTF-8 headers, so consumers filter and route without decoding the value.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import orjson
from orka_memory.backend import Blob, EncodedRecord
from orka_memory.record import SCHEMA_VERSION

from orka_memory_kafka.client import InMessage, OutMessage

# Headers of a record message: the fields consumers route and filter on, each its own header, and the other
# indexed fields together in one compact JSON header ``index`` (every header costs a client time to parse).
RECORD_HEADERS = ("id", "schema_version", "log_type", "event_type", "agent_id", "codec", "index")
INDEX_FIELDS = ("created_at", "memory_type", "category", "importance", "raw_size")
OPTIONAL_INDEX_FIELDS = ("expires_at", "namespace", "session")
_SCHEMA = str(SCHEMA_VERSION).encode()
_index_values = attrgetter(*INDEX_FIELDS)
_optional_index_values = attrgetter(*OPTIONAL_INDEX_FIELDS)


def record_message(topic: str, record: EncodedRecord) -> OutMessage:
    index = dict(zip(INDEX_FIELDS, _index_values(record), strict=True))
    for name, value in zip(OPTIONAL_INDEX_FIELDS, _optional_index_values(record), strict=True):
        if value is not None:
            index[name] = value
    headers = [
        ("id", record.id.encode()),
        ("schema_version", _SCHEMA),
        ("log_type", record.log_type.encode()),
        ("event_type", record.event_type.encode()),
        ("agent_id", record.agent_id.encode()),
        ("codec", record.codec.encode()),
        ("index", orjson.dumps(index)),
    ]
    key = None if record.run_id is None else record.run_id.encode()
    return OutMessage(topic, key, record.body, headers, record.created_at)


def headers_of(message: InMessage) -> dict[str, bytes]:
    return dict(message.headers)


def record_from_message(message: InMessage) -> EncodedRecord | None:
    """The record a message carries; None for a message that is not an orka-memory record."""
    headers = headers_of(message)
    if message.value is None or not all(name in headers for name in RECORD_HEADERS):
        return None
    index = orjson.loads(headers["index"])
    return EncodedRecord(
        id=headers["id"].decode(),
        created_at=index["created_at"],
        log_type=headers["log_type"].decode(),
        agent_id=headers["agent_id"].decode(),
        event_type=headers["event_type"].decode(),
        run_id=None if message.key is None else message.key.decode("utf-8", "replace"),
        memory_type=index["memory_type"],
        category=index["category"],
        importance=index["importance"],
        namespace=index.get("namespace"),
        session=index.get("session"),
        expires_at=index.get("expires_at"),
        text=None,  # stored memories are searched on the companion backend, never from Kafka
        codec=headers["codec"].decode(),
        body=message.value,
        raw_size=index["raw_size"],
    )


def blob_message(topic: str, blob: Blob) -> OutMessage:
    headers = [("codec", blob.codec.encode()), ("raw_size", str(blob.raw_size).encode())]
    if blob.expires_at is not None:
        headers.append(("expires_at", str(blob.expires_at).encode()))
    return OutMessage(topic, blob.hash.encode(), blob.body, headers)


def blob_from_message(message: InMessage) -> Blob | None:
    """The blob a message carries; None for a tombstone."""
    if message.key is None or message.value is None:
        return None
    headers = headers_of(message)
    expires = headers.get("expires_at")
    return Blob(
        hash=message.key.decode(),
        codec=headers.get("codec", b"none").decode(),
        body=message.value,
        raw_size=int(headers.get("raw_size", len(message.value))),
        expires_at=None if expires is None else int(expires),
    )


def tombstone(topic: str, key: str) -> OutMessage:
    """Deletes ``key`` from a compacted topic."""
    return OutMessage(topic, key.encode(), None, [])


def state_message(topic: str, key: str, value: dict[str, Any]) -> OutMessage:
    return OutMessage(topic, key.encode(), orjson.dumps(value), [])


def state_value(message: InMessage) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(message.value) if message.value else {}
    return value
