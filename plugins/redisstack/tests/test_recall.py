"""HNSW recall@10 against exact search, and EF_RUNTIME reaching the queries.

8,000 random unit vectors of 32 dimensions: above 5,500 memories RediSearch answers a KNN query whose filter keeps
most memories (here the expiry filter, which every query carries) from the HNSW graph; below that, or with a
selective filter, it ranks the filter's matches by brute force, which is exact. With RediSearch's own default
EF_RUNTIME of 10 recall@10 here is about 0.6; the backend's default of 100 gives about 0.99.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conftest import MakeLogger

MEMORIES, DIMENSION, QUERIES, K = 8000, 32, 50, 10


def unit_rows(rng: np.random.Generator, count: int) -> Any:
    rows = rng.normal(size=(count, DIMENSION)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def recall_at_k(memory: Any, stored: Any, keys: list[str], queries: Any) -> float:
    found = 0
    for query in queries:
        exact = {keys[index] for index in np.argsort(-(stored @ query))[:K]}
        hits = memory.search_memories("", num_results=K, query_vector=query.tolist())
        found += len(exact & {hit["key"] for hit in hits})
    return found / (K * len(queries))


def test_default_ef_runtime_gives_recall_at_10_of_at_least_0_95(make_logger: MakeLogger) -> None:
    rng = np.random.default_rng(11)
    stored, queries = unit_rows(rng, MEMORIES), unit_rows(rng, QUERIES)
    space = {"embedder_options": {"dimension": DIMENSION}}
    with make_logger(**space) as memory:
        keys = [memory.log_memory(f"v{i}", node_id="n", trace_id="t", content_vector=row.tolist())
                for i, row in enumerate(stored)]  # fmt: skip
        memory.flush()
        default = recall_at_k(memory, stored, keys, queries)
    with make_logger(**space, vector_params={"ef_runtime": 10}) as memory:  # the same index, queried with 10
        low = recall_at_k(memory, stored, keys, queries)
    print(f"recall@{K} over {MEMORIES:,} random {DIMENSION}-d vectors: EF_RUNTIME 100 {default:.3f}, 10 {low:.3f}")
    assert default >= 0.95
    assert low < default - 0.1, "EF_RUNTIME must reach the queries (a smaller one finds fewer true neighbours)"
