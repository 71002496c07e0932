"""Exact nearest-neighbour ranking of stored memory vectors (numpy), for the file backend's ``search_vector``.

Exact search is the right tool at embedded scale: it has perfect recall, no index to build or tune, and filters
are applied by SQL before ranking. Its cost is linear in the stored memories: one matrix product over the vectors
held in memory (``vectorcache.py``; about 1 ms per 10,000 vectors of 256 dimensions on the project's machine),
then the scores of the candidates SQL picked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from orka_memory.vectors import similarity

from orka_memory_file.vectorcache import FLOAT32_LE, Vectors


def nearest(vectors: Vectors, candidates: Sequence[Sequence[Any]], query: bytes, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` memories among ``candidates`` (rows whose first column is a ``seq``) most similar to ``query``,
    best first, each with its similarity; ties go to the newest (highest ``seq``). A candidate without a vector of
    the query's length in ``vectors`` is skipped."""
    seqs = vectors.seqs
    if limit <= 0 or not candidates or not len(seqs):
        return []
    wanted = np.fromiter((row[0] for row in candidates), dtype=np.int64, count=len(candidates))
    at = np.minimum(np.searchsorted(seqs, wanted), len(seqs) - 1)
    at = at[seqs[at] == wanted]
    if not len(at):
        return []
    cosines = (vectors.matrix @ np.frombuffer(query, dtype=FLOAT32_LE))[at]
    found = seqs[at]
    if limit < len(at):
        keep = np.argpartition(-cosines, limit - 1)[:limit]
        cosines, found = cosines[keep], found[keep]
    order = np.lexsort((-found, -cosines))
    return [(int(found[i]), similarity(float(cosines[i]))) for i in order]
