"""The record model: one versioned shape for orchestration events and stored memories.

A record's *document* (``MemoryRecord.to_document()``) is what every backend stores and every export contains; its
fields are documented one by one in ``docs/record-format.md``, the format other tools read. ``to_compat_dict()``
adds the aliases OrKa's memory-logger API returns (``trace_id``, ``node_id``, ``timestamp``, ...).
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SCHEMA_VERSION = 1

LOG_TYPES = ("log", "memory")
MEMORY_TYPES = ("short_term", "long_term")


class RecordIds:
    """Client-generated, time-ordered ids: 12 hex digits of epoch milliseconds, 12 random per process, 8 of a counter.

    Ids sort by creation time, so backends can order by id, and replays after a failure are idempotent: the same
    record always carries the same id. Within one process ids are strictly increasing even within a millisecond.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = 0
        self._prefix = os.urandom(6).hex()

    def new(self, now_ms: int) -> str:
        with self._lock:
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                self._counter += 1
            else:
                self._last_ms = now_ms
                self._counter = 0
            counter = self._counter
        return f"{now_ms:012x}{self._prefix}{counter:08x}"


_ids = RecordIds()


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit of every timestamp in a record."""
    return time.time_ns() // 1_000_000


def new_record_id(created_ms: int | None = None) -> str:
    return _ids.new(created_ms if created_ms is not None else now_ms())


@dataclass(slots=True)
class MemoryRecord:
    """One orchestration event (``log_type="log"``) or stored memory (``log_type="memory"``).

    Payload-like fields (``payload``, ``previous_outputs``, ``metadata``) hold JSON-able values only: the logger
    converts caller values with ``orka_memory.serialization.to_jsonable`` before building a record.
    """

    id: str
    log_type: str
    agent_id: str
    event_type: str
    created_at: int  # epoch milliseconds, UTC
    run_id: str | None = None
    step: int | None = None
    fork_group: str | None = None
    parent: str | None = None
    payload: Any = None
    previous_outputs: Any = None
    content: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    namespace: str | None = None
    session: str | None = None
    importance: float = 0.5
    memory_type: str = "short_term"
    category: str = "log"
    expires_at: int | None = None  # epoch milliseconds, UTC; None: kept until deleted
    schema_version: int = SCHEMA_VERSION
    # A caller's own embedding of ``content`` (``log_memory(content_vector=...)``, which checks its dimension and
    # scales it to unit length): an index input, not part of the document; without it the writer embeds ``content``
    # where the backend has vector search.
    vector: list[float] | None = None

    def to_document(self) -> dict[str, Any]:
        """The stored form: every field, fields without a value left out."""
        doc: dict[str, Any] = {
            "schema_version": self.schema_version,
            "id": self.id,
            "log_type": self.log_type,
            "agent_id": self.agent_id,
            "event_type": self.event_type,
            "created_at": self.created_at,
            "importance": self.importance,
            "memory_type": self.memory_type,
            "category": self.category,
        }
        for name, value in zip(_OPTIONAL_FIELDS, _optional_values(self), strict=True):
            if value is not None and (value or type(value) is not dict):
                doc[name] = value
        return doc

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> MemoryRecord:
        """Rebuild a record from a stored document; unknown keys from newer writers are ignored.

        Every read builds one record per stored record, so the fields are looked up in one ``map`` and passed by
        position; a document without a required field takes the keyword call, whose TypeError names it.
        """
        values = list(map(doc.get, _ALL_FIELDS, _DEFAULTS))
        if _REQUIRED in values:
            return cls(**{name: doc[name] for name in _ALL_FIELDS if name in doc})
        record = cls(*values)
        if record.metadata is None:  # left out of the document because it was empty
            record.metadata = {}
        return record

    def to_compat_dict(self) -> dict[str, Any]:
        """The dict OrKa's memory-logger API returns: the document plus its aliases.

        ``trace_id``/``node_id`` alias ``run_id``/``agent_id``, ``importance_score`` aliases ``importance``,
        ``timestamp`` is ISO-8601 UTC and ``timestamp_ms`` epoch milliseconds.
        """
        return _with_aliases(self.to_document())


def compat_dict_of(document: dict[str, Any]) -> dict[str, Any]:
    """``MemoryRecord.from_document(document).to_compat_dict()``, taking ``document`` itself as the result when it
    is what ``to_document`` writes (every read of events returns these dicts, and most stored documents are that).
    ``document`` becomes the result: pass one that is not used elsewhere."""
    keys = document.keys()
    if keys <= _DOCUMENT_KEYS and keys >= _ALWAYS_WRITTEN:
        values = document.values()
        if None not in values and {} not in values:  # to_document leaves those out
            return _with_aliases(document)
    return MemoryRecord.from_document(document).to_compat_dict()


def _with_aliases(document: dict[str, Any]) -> dict[str, Any]:
    """A record's document plus the aliases of OrKa's API (see ``to_compat_dict``), added to ``document``."""
    created, expires = document["created_at"], document.get("expires_at")
    document["trace_id"] = document.get("run_id")
    document["node_id"] = document["agent_id"]
    document["importance_score"] = document["importance"]
    document["timestamp"] = iso_from_ms(created)
    document["timestamp_ms"] = created
    document["expires_at_iso"] = iso_from_ms(expires) if expires is not None else None
    return document


_ALL_FIELDS = tuple(name for name in MemoryRecord.__dataclass_fields__ if name != "vector")
_REQUIRED = object()
# What ``from_document`` takes for a field the document leaves out: its default (None for ``metadata``, whose
# default is a new dict per record), or ``_REQUIRED``.
_DEFAULTS = tuple(
    _REQUIRED if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING else
    None if f.default is dataclasses.MISSING else f.default
    for f in dataclasses.fields(MemoryRecord) if f.name != "vector"
)  # fmt: skip
# The fields ``to_document`` writes only when they have a value (the others it writes always).
_OPTIONAL_FIELDS = (
    "run_id",
    "step",
    "fork_group",
    "parent",
    "payload",
    "previous_outputs",
    "content",
    "metadata",
    "namespace",
    "session",
    "expires_at",
)
_optional_values = operator.attrgetter(*_OPTIONAL_FIELDS)
_DOCUMENT_KEYS = frozenset(_ALL_FIELDS)
_ALWAYS_WRITTEN = _DOCUMENT_KEYS - frozenset(_OPTIONAL_FIELDS)


def iso_from_ms(epoch_ms: int) -> str:
    """ISO-8601 UTC with milliseconds (``2026-11-27T19:14:14.123+00:00``), as every compat dict shows a record's
    times. The text of the whole second is cached: the records of one read mostly share a few seconds. (``int``:
    documents of other writers may hold times as floats.)"""
    seconds, millis = divmod(int(epoch_ms), 1000)
    return f"{_iso_second(seconds)}.{millis:03d}+00:00"


@functools.lru_cache(maxsize=4096)
def _iso_second(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).replace(tzinfo=None).isoformat()
