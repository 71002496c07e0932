"""Search on a real Redis Stack server: filters inside the KNN query, values that look like query syntax, one
round trip per search, and full-text search through RediSearch."""

from __future__ import annotations

from typing import Any

import pytest
from orka_memory.backend import MemoryFilter
from orka_memory.record import now_ms
from orka_memory.vectors import normalize, pack
from redis import Redis


def test_filters_sit_inside_the_knn_query_so_the_top_k_are_all_matches(memory: Any) -> None:
    query = "the deployment failed because the migration timed out"
    for index in range(300):
        memory.log_memory(f"{query} #{index}", node_id="ops", trace_id="t-noise", metadata={"namespace": "noise"})
    wanted = {
        memory.log_memory(text, node_id="kb", trace_id="t-kb", metadata={"namespace": "target"})
        for text in ("invoices failed to send", "the cache request timed out", "a migration of the birds")
    }
    memory.flush()
    unfiltered = memory.search_memories(query, num_results=3)
    assert {hit["namespace"] for hit in unfiltered} == {"noise"}, "without the filter the top 3 are all noise"
    filtered = memory.search_memories(query, num_results=3, namespace="target")
    assert {hit["key"] for hit in filtered} == wanted


def test_every_filter_of_search_memories_and_the_backend(memory: Any) -> None:
    rows = [  # content, node, trace, memory type, importance, metadata
        ("alpha report", "writer", "t-1", "short_term", 0.2, {"namespace": "a", "session": "s1"}),
        ("alpha report", "reader", "t-1", "long_term", 0.9, {"namespace": "a", "session": "s2"}),
        ("alpha report", "writer", "t-2", "long_term", 0.6, {"namespace": "b", "category": "notes"}),
    ]
    keys = [memory.log_memory(content, node_id=node, trace_id=trace, memory_type=kind, importance_score=weight,
                              metadata=meta) for content, node, trace, kind, weight, meta in rows]  # fmt: skip
    memory.flush()

    def found(**filters: Any) -> set[str]:
        return {hit["key"] for hit in memory.search_memories("alpha report", num_results=10, **filters)}

    assert found() == set(keys)
    assert found(trace_id="t-1") == {keys[0], keys[1]}
    assert found(node_id="writer") == {keys[0], keys[2]}
    assert found(memory_type="long_term") == {keys[1], keys[2]}
    assert found(min_importance=0.6) == {keys[1], keys[2]}
    assert found(namespace="a", node_id="writer") == {keys[0]}
    assert found(log_type="log") == set(), "stored memories are not orchestration logs"
    vector = pack(normalize(memory.embedder.embed(["alpha report"])[0], memory.embedder.dimension))

    def backend_found(**filters: Any) -> set[str]:
        hits = memory.backend.search_vector(vector, filters=MemoryFilter(**filters), limit=10, now_ms=now_ms())
        return {"orka_memory:" + record.id for record, _ in hits}

    assert backend_found(session="s2") == {keys[1]}
    assert backend_found(category="notes") == set(), "log_memory's category is always 'stored'"
    assert backend_found(category="stored", session="s1") == {keys[0]}


@pytest.mark.parametrize(
    "namespace", ["a-b, c", "{x}", "$dollar", "x|y", 'quo"te', "back\\slash", "Café ü", "日本語", "@at * (p)", ""]
)
def test_filter_values_that_look_like_query_syntax_match_only_themselves(memory: Any, namespace: str) -> None:
    own = memory.log_memory("shared text", node_id="n", trace_id="t", metadata={"namespace": namespace})
    for other in ("a", "b", "x", "y", "c", "cafe ü", "dollar", "at"):
        memory.log_memory("shared text", node_id="n", trace_id="t", metadata={"namespace": other})
    memory.flush()
    assert [hit["key"] for hit in memory.search_memories("shared text", num_results=5, namespace=namespace)] == [own]
    memory.settings.search_mode = "text"
    assert [hit["key"] for hit in memory.search_memories("shared text", num_results=5, namespace=namespace)] == [own]


def test_a_search_is_one_ft_search_and_nothing_else(memory: Any, raw: Redis) -> None:
    for index in range(50):
        memory.log_memory(f"memory number {index} about search", node_id="n", trace_id="t", expiry_hours=1)
    memory.flush()
    raw.config_resetstat()
    hits = memory.search_memories("memory about search", num_results=10, trace_id="t")
    memory.settings.search_mode = "hybrid"
    hybrid = memory.search_memories("memory about search", num_results=10)
    commands = {name: stats["calls"] for name, stats in raw.info("commandstats").items()}
    assert len(hits) == len(hybrid) == 10 and all(hit["ttl_seconds"] > 3500 for hit in hits)
    assert commands.pop("cmdstat_FT.SEARCH") == 3  # vector, then vector + text for the hybrid search
    housekeeping = {"cmdstat_config|resetstat", "cmdstat_info", "cmdstat_ping"}  # ping: a pooled connection's check
    assert set(commands) <= housekeeping, f"more than FT.SEARCH ran: {commands}"


def test_text_search_folds_words_like_the_redis_backend_and_keeps_the_filters(memory: Any) -> None:
    cafe = memory.log_memory("Le Café Crème was closed", node_id="n", trace_id="t-1")
    memory.log_memory("the cafe opened at nine", node_id="n", trace_id="t-2")
    memory.log_memory("nothing relevant here", node_id="n", trace_id="t-1")
    memory.flush()
    memory.settings.search_mode = "text"
    hits = memory.search_memories("CAFE creme", num_results=5, trace_id="t-1")
    assert [hit["key"] for hit in hits] == [cafe]
    assert 0.0 < hits[0]["similarity_score"] < 1.0
    assert len(memory.search_memories("café", num_results=5)) == 2
    assert memory.search_memories("?!", num_results=5) == [], "a query without words finds nothing"
