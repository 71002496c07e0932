"""Exact nearest-neighbour ranking of stored memory vectors (numpy), for the file backend's ``search_vector``.

Exact search is the right tool at embedded scale: it has perfect recall, no index to build or tune, and filters
select the memories before ranking (in memory, from the cache: ``vectorcache.Memories.passing``). Its cost is linear
in the memories ranked: one matrix product over their vectors (about 1 ms per 10,000 vectors of 256 dimensions on
the project's machine), then the scores of the best.
"""

from __future__ import annotations

import numpy as np
from orka_memory.vectors import similarity

from orka_memory_file.vectorcache import FLOAT32_LE, Vectors

GATHER_SHARE = 0.5  # rank a selection by copying its vectors out when it is at most this share of them


def nearest(vectors: Vectors, positions: np.ndarray | None, query: bytes, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` memories at ``positions`` of ``vectors`` (None: all of them) most similar to ``query``, best
    first, each with its ``seq`` and its similarity; ties go to the newest (highest ``seq``)."""
    total = len(vectors.seqs)
    if limit <= 0 or not (total if positions is None else len(positions)):
        return []
    target = np.frombuffer(query, dtype=FLOAT32_LE)
    if positions is None:
        cosines, found = vectors.matrix @ target, vectors.seqs
    elif len(positions) <= GATHER_SHARE * total:  # a few selected: multiply their rows only
        cosines, found = vectors.matrix[positions] @ target, vectors.seqs[positions]
    else:  # most of them: one product over the whole matrix is cheaper than copying the rows out
        cosines, found = (vectors.matrix @ target)[positions], vectors.seqs[positions]
    if limit < len(found):
        keep = np.argpartition(-cosines, limit - 1)[:limit]
        cosines, found = cosines[keep], found[keep]
    order = np.lexsort((-found, -cosines))
    return [(int(found[i]), similarity(float(cosines[i]))) for i in order]
