"""Exact nearest-neighbour ranking of stored memory vectors (numpy), for the file backend's ``search_vector``.

Exact search is the right tool at embedded scale: it has perfect recall, no index to build or tune, and filters
are applied by SQL before ranking (a search without filters needs no SQL: the cache knows each memory's expiry). Its
cost is linear in the stored memories: one matrix product over the vectors held in memory (``vectorcache.py``;
about 1 ms per 10,000 vectors of 256 dimensions on the project's machine), then the scores of the candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from orka_memory.vectors import similarity

from orka_memory_file.vectorcache import FLOAT32_LE, Vectors


def positions_of(vectors: Vectors, candidates: Sequence[Sequence[Any]]) -> np.ndarray:
    """Where ``candidates`` (rows whose first column is a ``seq``) are in ``vectors``; a candidate without a vector
    there is left out."""
    seqs = vectors.seqs
    if not candidates or not len(seqs):
        return np.empty(0, dtype=np.intp)
    wanted = np.fromiter((row[0] for row in candidates), dtype=np.int64, count=len(candidates))
    at: np.ndarray = np.minimum(np.searchsorted(seqs, wanted), len(seqs) - 1)
    found: np.ndarray = at[seqs[at] == wanted]
    return found


def live_positions(vectors: Vectors, newest: int, now_ms: int) -> np.ndarray:
    """The memories in ``vectors`` a search without filters may return: those up to the snapshot's ``newest`` seq
    (the cache may hold newer ones) that have not expired at ``now_ms``."""
    return np.flatnonzero((vectors.seqs <= newest) & (vectors.expires > now_ms))


def nearest(vectors: Vectors, positions: np.ndarray, query: bytes, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` memories at ``positions`` of ``vectors`` most similar to ``query``, best first, each with its
    ``seq`` and its similarity; ties go to the newest (highest ``seq``)."""
    if limit <= 0 or not len(positions):
        return []
    cosines = (vectors.matrix @ np.frombuffer(query, dtype=FLOAT32_LE))[positions]
    found = vectors.seqs[positions]
    if limit < len(positions):
        keep = np.argpartition(-cosines, limit - 1)[:limit]
        cosines, found = cosines[keep], found[keep]
    order = np.lexsort((-found, -cosines))
    return [(int(found[i]), similarity(float(cosines[i]))) for i in order]
