"""search_memories on the redis backend: BM25 over an inverted index maintained at write time, filters inside
the query, word folding, and postings that leave with their memory."""

from __future__ import annotations

import time

from orka_memory import MemoryLogger
from orka_memory_redis.keys import Keys
from redis import Redis

KEYS = Keys("orka:memory")


def test_more_and_rarer_query_words_rank_first(memory: MemoryLogger) -> None:
    one = memory.log_memory("the invoice was paid", node_id="n", trace_id="t")
    two = memory.log_memory("the invoice was paid late by the customer", node_id="n", trace_id="t")
    three = memory.log_memory("the customer paid the overdue invoice late", node_id="n", trace_id="t")
    for index in range(10):
        memory.log_memory(f"the weather report number {index}", node_id="n", trace_id="t")
    memory.flush()
    hits = memory.search_memories("overdue invoice paid late", num_results=5)
    assert [hit["key"] for hit in hits] == [three, two, one]
    scores = [hit["similarity_score"] for hit in hits]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0 and scores[0] < 1
    assert memory.search_memories("zeppelin") == [] and memory.search_memories("?!") == []


def test_case_and_accents_fold(memory: MemoryLogger) -> None:
    key = memory.log_memory("Crème brûlée at the CAFÉ", node_id="n", trace_id="t")
    memory.flush()
    assert [hit["key"] for hit in memory.search_memories("creme brulee cafe")] == [key]


def test_every_filter_applies_before_the_limit(memory: MemoryLogger) -> None:
    wanted = memory.log_memory("deploy the release on friday", node_id="ops-agent", trace_id="t-1",
                               importance_score=0.9, metadata={"namespace": "ops"})  # fmt: skip
    failing_one_filter = [  # node, trace, importance, namespace, memory type
        ("other", "t-1", 0.9, "ops", "short_term"),
        ("ops-agent", "t-2", 0.9, "ops", "short_term"),
        ("ops-agent", "t-1", 0.2, "ops", "short_term"),
        ("ops-agent", "t-1", 0.9, "dev", "short_term"),
        ("ops-agent", "t-1", 0.9, "ops", "long_term"),
    ]
    for index in range(30):  # newer and better matches than the wanted one
        node, trace, importance, namespace, memory_type = failing_one_filter[index % 5]
        memory.log_memory(
            f"deploy deploy the release release on friday {index}",
            node_id=node,
            trace_id=trace,
            importance_score=importance,
            memory_type=memory_type,
            metadata={"namespace": namespace},
        )
    memory.flush()
    query = "deploy release friday"
    assert memory.search_memories(query, num_results=1)[0]["key"] != wanted
    filters = {"trace_id": "t-1", "node_id": "ops-agent", "min_importance": 0.5, "namespace": "ops",
               "memory_type": "short_term"}  # fmt: skip
    assert [hit["key"] for hit in memory.search_memories(query, num_results=1, **filters)] == [wanted]
    assert memory.search_memories("deploy", log_type="log") == [], "events are not searched"


def test_deleted_and_expired_memories_leave_the_index(memory: MemoryLogger, raw: Redis) -> None:
    deleted = memory.log_memory("zebra crossing", node_id="n", trace_id="t")
    memory.log_memory("zebra stripes fade", node_id="n", trace_id="t", expiry_hours=0.2 / 3600)
    memory.flush()
    assert raw.zcard(KEYS.term + "zebra") == 2
    assert memory.delete_memory(deleted) is True
    time.sleep(0.4)
    assert memory.search_memories("zebra") == []
    assert memory.cleanup_expired_memories()["memories"] == 1
    assert raw.exists(KEYS.term + "zebra", KEYS.term + "stripes", KEYS.memory_index, KEYS.memories) == 0
    assert int(raw.hget(KEYS.counters, "memory_words") or 0) == 0
