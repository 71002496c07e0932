"""The stored-memory workload the search measurements share: memories as agents store them, embedded once per run.

Each memory is 30 words drawn from the event workload's prose (its word frequencies), with an agent, a run, one of
ten namespaces and an importance, and is embedded with the built-in ``hashing`` embedder: unrelated texts, which it
turns into nearly random 256-d points, the hardest case for an approximate index (memories about related things
cluster, and are found more easily). Embedding 100,000 takes about 25 s on the project's machine, so a run makes
the largest set it needs once (``memory_workload``) and every measurement takes a prefix of it.
"""

from __future__ import annotations

import functools
import gc
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from orka_memory.backend import MemoryFilter
from orka_memory.logger import MemoryLogger
from workload import make_events, timed

NAMESPACES = 10
MEMORY_WORDS = 30  # words per memory text (about 200 characters)
QUERY_COUNT = 50  # distinct query memories, drawn with another seed
# The filtered searches: one namespace in ten and the upper half of importance, about 5% of the memories.
FILTERED = {"namespace": "ns-3", "min_importance": 0.5}
SEARCHES: dict[str, dict[str, Any]] = {"no filter": {}, "namespace + min_importance": FILTERED}


@dataclass(frozen=True, slots=True)
class Memory:
    """One ``log_memory()`` call's arguments, so the logger and a raw client write the same thing."""

    content: str
    node_id: str
    trace_id: str
    namespace: str
    importance: float
    vector: Any  # a float32 row of the memories' matrix, unit length: compact, unlike 256 Python floats

    def passes(self, options: dict[str, Any]) -> bool:
        """Whether a search with ``options`` (one of ``SEARCHES``) may return this memory."""
        return all(
            (self.namespace == value) if name == "namespace" else (self.importance >= value)
            for name, value in options.items()
        )


def make_memories(count: int, *, seed: int, embed: Callable[[list[str]], list[list[float]]]) -> list[Memory]:
    """``count`` memories with texts drawn from the workload's prose (its word frequencies), embedded once."""
    rng = random.Random(seed)
    words = " ".join(event.payload["response"] for event in make_events(200, seed=seed)).split()
    texts = [" ".join(rng.choices(words, k=MEMORY_WORDS)) for _ in range(count)]
    matrix = np.concatenate([np.array(embed(texts[start : start + 1000]), dtype="<f4")
                             for start in range(0, count, 1000)])  # fmt: skip
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return [
        Memory(text, f"agent-{index % 5}", f"run-{index // 500}", f"ns-{index % NAMESPACES}",
               round(rng.random(), 3), matrix[index])
        for index, text in enumerate(texts)
    ]  # fmt: skip


@functools.lru_cache(maxsize=1)
def memory_workload(count: int, seed: int) -> tuple[list[Memory], list[Memory]]:
    """``count`` memories and ``QUERY_COUNT`` query memories, embedded by the built-in ``hashing`` embedder (the
    default), made once per run for every measurement that asks for as many or fewer."""
    from orka_memory.default_plugins.embedders import HashingEmbedder

    embedder = HashingEmbedder()
    return (make_memories(count, seed=seed, embed=embedder.embed),
            make_memories(QUERY_COUNT, seed=seed + 1, embed=embedder.embed))  # fmt: skip


def log_memories(memory: MemoryLogger, memories: Sequence[Memory]) -> float:
    """Memories per second of ``log_memory()`` of every memory, then ``flush()``."""

    def work() -> None:
        for item in memories:
            memory.log_memory(item.content, node_id=item.node_id, trace_id=item.trace_id,
                              metadata={"namespace": item.namespace}, importance_score=item.importance,
                              content_vector=item.vector.tolist())  # fmt: skip
        memory.flush()

    gc.collect()
    return len(memories) / timed(work)


def grow(memory: MemoryLogger, memories: Sequence[Memory], sizes: Sequence[int], *, held: int = 0) -> Iterator[int]:
    """Grow ``memory``'s store, which holds the first ``held`` of ``memories``, by ``log_memory()`` to each of
    ``sizes`` in ascending order, yielding each size once the store holds that many."""
    for size in sorted(sizes):
        if size > held:
            log_memories(memory, memories[held:size])
            held = size
        yield size


def search_filter(options: dict[str, Any]) -> MemoryFilter:
    """The backend-level filter of a search with ``options`` (one of ``SEARCHES``)."""
    return MemoryFilter(namespace=options.get("namespace"), min_importance=options.get("min_importance"))
