"""The stored-memory result dict of OrKa's ``search_memories`` and friends."""

from __future__ import annotations

from typing import Any

from orka_memory.backend import EncodedRecord
from orka_memory.record import MemoryRecord, iso_from_ms

MEMORY_KEY_PREFIX = "orka_memory:"


def format_duration(seconds: float) -> str:
    """Human-readable remaining time, e.g. ``1h 5m 3s``."""
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def memory_result(record: MemoryRecord, similarity: float | None, now_ms: int) -> dict[str, Any]:
    """One stored memory as OrKa returns it. ``similarity_score`` is a similarity in [0, 1], 1 best; ``timestamp``
    is epoch milliseconds; the ttl fields describe the remaining lifetime (-1 and "Never" without expiry)."""
    has_expiry = record.expires_at is not None
    ttl_seconds = (record.expires_at - now_ms) / 1000 if record.expires_at is not None else -1
    return {
        "content": record.content or "",
        "node_id": record.agent_id,
        "trace_id": record.run_id,
        "importance_score": float(record.importance),
        "memory_type": record.memory_type,
        "timestamp": record.created_at,
        "metadata": record.metadata,
        "similarity_score": float(similarity) if similarity is not None else 0.0,
        "key": MEMORY_KEY_PREFIX + record.id,
        "ttl_seconds": int(ttl_seconds),
        "ttl_formatted": format_duration(ttl_seconds) if has_expiry else "Never",
        "expires_at": record.expires_at,
        "expires_at_formatted": iso_from_ms(record.expires_at) if record.expires_at is not None else "Never",
        "has_expiry": has_expiry,
        "log_type": record.log_type,
        "category": record.category,
        "namespace": record.namespace,
        "session": record.session,
    }


def blend(
    vector_hits: list[tuple[EncodedRecord, float]],
    text_hits: list[tuple[EncodedRecord, float]],
    text_weight: float,
    limit: int,
) -> list[tuple[EncodedRecord, float]]:
    """Hybrid ranking: ``(1 - w) * similarity + w * text relevance`` over the union of both result lists (a record
    missing from one list scores 0 there), best first. Both inputs are in [0, 1], so the blend is too."""
    scores: dict[str, list[float]] = {}
    records: dict[str, EncodedRecord] = {}
    for position, hits in enumerate((vector_hits, text_hits)):
        for record, score in hits:
            records.setdefault(record.id, record)
            scores.setdefault(record.id, [0.0, 0.0])[position] = score
    blended = [
        (records[key], (1 - text_weight) * vector + text_weight * text) for key, (vector, text) in scores.items()
    ]
    blended.sort(key=lambda hit: (-hit[1], hit[0].id))
    return blended[:limit]
