"""Exact nearest-neighbour ranking of stored memory vectors (numpy), for the file backend's ``search_vector``.

Exact search is the right tool at embedded scale: it has perfect recall, no index to build or tune, and filters
are applied by SQL before ranking. Its cost is linear in the number of memories passing the filters: about 2 ms
per 10,000 vectors of 256 dimensions for the product, plus reading their bytes from the file.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from orka_memory.vectors import similarity

_FLOAT32_LE = np.dtype("<f4")


def nearest(candidates: Sequence[tuple[int, bytes]], query: bytes, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` candidates (``(seq, packed vector)``) most similar to ``query``, best first, each with its
    similarity; ties go to the newest (highest ``seq``). Vectors of another length than the query are skipped."""
    wanted = np.frombuffer(query, dtype=_FLOAT32_LE)
    usable = [(seq, vector) for seq, vector in candidates if len(vector) == len(query)]
    if not usable or limit <= 0:
        return []
    matrix = np.frombuffer(b"".join(vector for _, vector in usable), dtype=_FLOAT32_LE).reshape(len(usable), -1)
    cosines = matrix @ wanted
    seqs = np.fromiter((seq for seq, _ in usable), dtype=np.int64, count=len(usable))
    if limit < len(usable):
        keep = np.argpartition(-cosines, limit - 1)[:limit]
        cosines, seqs = cosines[keep], seqs[keep]
    order = np.lexsort((-seqs, -cosines))
    return [(int(seqs[i]), similarity(float(cosines[i]))) for i in order]
