"""``FT.SEARCH`` commands over the stored-memory index, and their replies.

Every filter goes into the query, so the top k are all matches: for vector search as the KNN pre-filter
(``(<filters>)=>[KNN k @content_vector $vector EF_RUNTIME e AS distance]``), for text search next to the words.
Filter values travel as query parameters (``@namespace:{$namespace}`` with ``PARAMS``), never inside the query
text: RediSearch does not parse them, so any value (``a-b, c``, ``{x}``, ``$y``, quotes, spaces, non-ASCII) matches
itself, without escaping rules to get wrong and with nothing a caller's value could inject. Tag values are trimmed,
because RediSearch trims them when it indexes. The expiry filter is always there: a memory whose time has come is
never returned, even before Redis has removed its hash (``expires_at > now``; memories that never expire hold
``inf``).

Each search is one round trip: ``RETURN`` brings back the two fields a record is rebuilt from (``header`` and
``body``, as the redis backend stores them), so there is no per-hit ``HGETALL`` or ``TTL``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orka_memory.backend import BackendError, MemoryFilter

from orka_memory_redisstack.index import EXPIRY_ATTRIBUTE, IMPORTANCE_FIELD, TAG_FIELDS, TEXT_FIELD, VECTOR_FIELD

DIALECT = 2  # query parameters and KNN clauses need dialect 2
RECORD_FIELDS = ("header", "body")
DISTANCE = "distance"  # the KNN distance, returned as a field
SCORE = "score"  # the scorer's, from WITHSCORES


def where(filters: MemoryFilter, now_ms: int) -> tuple[str, dict[str, Any]]:
    """The filter clauses of a query, and their parameters."""
    clauses = [f"@{EXPIRY_ATTRIBUTE}:[($now +inf]"]
    params: dict[str, Any] = {"now": now_ms}
    for field in TAG_FIELDS:
        value = getattr(filters, field)
        if value is not None:
            clauses.append(f"@{field}:{{${field}}}")
            params[field] = str(value).strip()
    if filters.min_importance is not None:
        clauses.append(f"@{IMPORTANCE_FIELD}:[$min_importance +inf]")
        params["min_importance"] = filters.min_importance
    return " ".join(clauses), params


def knn_command(
    index: str, vector: bytes, filters: MemoryFilter, *, limit: int, now_ms: int, ef_runtime: int | None
) -> list[Any]:
    """The ``limit`` nearest memories passing ``filters``, nearest first. ``ef_runtime``: the HNSW query parameter
    (None for a FLAT index, which has none: RediSearch answers a FLAT query given one with no results)."""
    clauses, params = where(filters, now_ms)
    ef = ""
    if ef_runtime is not None:
        ef = " EF_RUNTIME $ef_runtime"
        params["ef_runtime"] = ef_runtime
    params.update(k=limit, vector=vector)
    query = f"({clauses})=>[KNN $k @{VECTOR_FIELD} $vector{ef} AS {DISTANCE}]"
    returned = (*RECORD_FIELDS, DISTANCE)
    return [
        "FT.SEARCH", index, query, *_params(params), "SORTBY", DISTANCE, "ASC",
        "RETURN", len(returned), *returned, "LIMIT", 0, limit, "DIALECT", DIALECT,
    ]  # fmt: skip


def text_command(index: str, words: Sequence[str], filters: MemoryFilter, *, limit: int, now_ms: int) -> list[Any]:
    """The ``limit`` memories whose text holds any of ``words`` and that pass ``filters``, by BM25, best first.
    ``words`` are letters, digits and underscores only (``orka_memory_redis.search.query_words``), which the query
    syntax reads as plain terms."""
    clauses, params = where(filters, now_ms)
    query = f"@{TEXT_FIELD}:({'|'.join(words)}) {clauses}"
    return [
        "FT.SEARCH", index, query, *_params(params), "WITHSCORES", "SCORER", "BM25",
        "RETURN", len(RECORD_FIELDS), *RECORD_FIELDS, "LIMIT", 0, limit, "DIALECT", DIALECT,
    ]  # fmt: skip


def hits(reply: Any, score: str) -> list[tuple[bytes, bytes, float]]:
    """``(header, body, score)`` of each result of an ``FT.SEARCH`` reply, in reply order; ``score`` is ``DISTANCE``
    or ``SCORE``. A hit whose hash vanished between indexing and loading (it just expired) comes without fields and
    is skipped."""
    if not isinstance(reply, Mapping):
        raise BackendError(f"FT.SEARCH replied with a {type(reply).__name__}; the backend's client must speak RESP3")
    out = []
    for result in reply[b"results"]:
        fields = result[b"extra_attributes"]
        if b"header" in fields and b"body" in fields:
            value = fields[b"distance"] if score == DISTANCE else result[b"score"]
            out.append((fields[b"header"], fields[b"body"], float(value)))
    return out


def _params(params: Mapping[str, Any]) -> list[Any]:
    return ["PARAMS", 2 * len(params), *(item for pair in params.items() for item in pair)]
