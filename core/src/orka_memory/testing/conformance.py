"""The conformance suite: what every backend must do, as pytest tests a plugin's own test suite inherits.

Usage in a plugin's tests::

    import pytest
    from orka_memory.testing import LoggerConformance

    class TestMyBackend(LoggerConformance):
        @pytest.fixture
        def make_logger(self, tmp_path):
            def make(**settings):
                return create_memory_logger("mine", **settings)  # a fresh, empty store each call... or the same
            return make

``make_logger(**settings)`` must return a logger on the backend under test; calls within one test must reach the
same store (that is how restarts and cross-process dedup are tested), and each test must start empty.

Tests of a capability the backend does not declare check that the logger refuses clearly (``CapabilityError``)
instead of being skipped, so a missing feature never passes for a working one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from orka_memory.backend import Capability, CapabilityError, VectorSpaceMismatch, WrongTypeError, held_blobs
from orka_memory.blobs import blob_hash, canonical_json
from orka_memory.logger import MemoryLogger

MakeLogger = Callable[..., MemoryLogger]

LARGE_OUTPUT = {
    "response": "The quarterly revenue grew by twelve percent, driven by subscriptions. " * 8,
    "_metrics": {"tokens": 812, "cost_usd": 0.0041, "model": "gpt-4o-mini"},
}


# Stored texts and a paraphrase of each, for vector search quality (exact-text recall must be perfect; paraphrase
# recall depends on the embedder, and is printed).
LABELLED_MEMORIES = (
    ("The deployment failed because the database migration timed out", "database migration timeout broke the deploy"),
    ("Customer churn rose after the price increase in March", "customers churned more after March's pricing change"),
    ("The model hallucinated citations that do not exist", "the model invented citations"),
    ("Invoices are paid within thirty days of receipt", "invoice payment happens thirty days after receipt"),
    ("The cache hit ratio dropped below sixty percent", "cache hit ratio fell under sixty percent"),
    ("Kafka consumers lag behind the producers during peak hours", "consumer lag in Kafka at peak hours"),
    ("The planner splits each question into three research tasks", "planner divides a question into research tasks"),
    ("Password resets require a second authentication factor", "a second factor is needed to reset a password"),
)
# The lexical built-in embedder must find at least this share of paraphrases in its top 5.
PARAPHRASE_RECALL_FLOOR = 0.75


def _require_or_refuse(memory: MemoryLogger, capability: Capability, call: Callable[[], Any]) -> bool:
    """True when the backend declares ``capability``; otherwise assert the call is refused clearly."""
    if capability in memory.backend.capabilities:
        return True
    with pytest.raises(CapabilityError, match=memory.backend.name):
        call()
    return False


def _search_by_vector(memory: MemoryLogger) -> Any:
    memory.settings.search_mode = "vector"
    return memory.search_memories("anything")


class LoggerConformance:
    """Behaviour every backend shares, tested through the public logger API."""

    @pytest.fixture
    def make_logger(self) -> MakeLogger:
        raise NotImplementedError("a conformance test class must define the make_logger fixture")

    @pytest.fixture
    def memory(self, make_logger: MakeLogger) -> Any:
        with make_logger() as memory:
            yield memory

    # -- the event log ---------------------------------------------------------------------------------------

    def test_log_then_tail_returns_newest_oldest_first(self, memory: MemoryLogger) -> None:
        for step in range(15):
            memory.log("agent", "step", {"n": step}, step=step, run_id="run-tail")
        memory.flush()
        tail = memory.tail(5)
        assert [event["payload"]["n"] for event in tail] == [10, 11, 12, 13, 14]
        assert all(event["agent_id"] == "agent" and event["run_id"] == "run-tail" for event in tail)

    def test_step_zero_is_stored_as_zero(self, memory: MemoryLogger) -> None:
        memory.log("agent", "start", {}, step=0, run_id="run-zero")
        memory.flush()
        assert memory.trace("run-zero")[0]["step"] == 0

    def test_trace_returns_one_run_in_order(self, memory: MemoryLogger) -> None:
        for step in range(30):
            memory.log(f"agent-{step % 3}", "step", {"step": step}, step=step, run_id=f"run-{step % 2}")
        memory.flush()
        trace = memory.trace("run-1")
        assert [event["step"] for event in trace] == list(range(1, 30, 2))
        assert memory.trace("no-such-run") == []

    def test_empty_agent_id_raises_value_error(self, memory: MemoryLogger) -> None:
        with pytest.raises(ValueError, match="agent_id"):
            memory.log("", "start", {})

    def test_full_payload_and_previous_outputs_are_stored(self, memory: MemoryLogger) -> None:
        payload = {"result": LARGE_OUTPUT, "nested": {"list": [1, 2.5, None, True], "text": "é ✓"}}
        previous = {"planner": LARGE_OUTPUT, "critic": {"verdict": "ok"}}
        memory.log("writer", "result", payload, run_id="run-full", previous_outputs=previous)
        memory.flush()
        [event] = memory.trace("run-full")
        assert event["payload"] == payload
        assert event["previous_outputs"] == previous

    def test_unusual_values_log_without_raising(self, memory: MemoryLogger) -> None:
        cyclic: dict[str, Any] = {"name": "loop"}
        cyclic["self"] = cyclic
        payload = {"nan": float("nan"), "bytes": b"\xff\xfe", "set": {3, 1}, "big": 2**80, 7: "int key"}
        memory.log("agent", "odd", {"payload": payload, "cyclic": cyclic}, run_id="run-odd")
        memory.flush()
        [event] = memory.trace("run-odd")
        stored = event["payload"]["payload"]
        assert stored["nan"] == "NaN"
        assert stored["big"] == {"__type": "int", "data": str(2**80)}
        assert stored["7"] == "int key"
        assert stored["set"] == {"__type": "set", "data": [1, 3]}
        assert event["payload"]["cyclic"]["self"].startswith("<circular-reference")

    def test_reopened_store_keeps_records_and_dedups_across_loggers(self, make_logger: MakeLogger) -> None:
        with make_logger() as first:
            first.log("a", "result", {"result": LARGE_OUTPUT}, run_id="run-restart")
        with make_logger() as second:
            second.log("b", "result", {"result": LARGE_OUTPUT}, run_id="run-restart")
            second.flush()
            trace = second.trace("run-restart")
            stats = second.get_memory_stats()
        assert [event["agent_id"] for event in trace] == ["a", "b"]
        assert all(event["payload"]["result"] == LARGE_OUTPUT for event in trace)
        assert stats["blobs"] == 1, "the shared output must be stored once per backend, not once per process"

    def test_held_blobs_names_the_stored_blobs_only(self, memory: MemoryLogger) -> None:
        """What the writer asks before a batch refers to a blob it does not send again (``backend.held_blobs``)."""
        memory.log("a", "result", {"result": LARGE_OUTPUT}, run_id="run-held")
        memory.flush()
        stored, unknown = blob_hash(canonical_json(LARGE_OUTPUT)), "0" * 64
        assert set(memory.backend.get_blobs([stored, unknown])) == {stored}
        assert held_blobs(memory.backend, [stored, unknown]) == {stored}
        assert held_blobs(memory.backend, [unknown]) == set()
        assert held_blobs(memory.backend, []) == set()

    def test_concurrent_logging_keeps_every_record_once(self, memory: MemoryLogger) -> None:
        threads, per_thread = 16, 2000

        def work(worker: int) -> None:
            for index in range(per_thread):
                memory.log(f"agent-{worker}", "tick", {"i": index}, step=index, run_id=f"run-c{worker}")

        pool = [threading.Thread(target=work, args=(worker,)) for worker in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        memory.flush()
        seen: set[tuple[str, int]] = set()
        for worker in range(threads):
            trace = memory.trace(f"run-c{worker}")
            assert [event["payload"]["i"] for event in trace] == list(range(per_thread))
            seen.update((event["agent_id"], event["payload"]["i"]) for event in trace)
        assert len(seen) == threads * per_thread
        assert memory.get_memory_stats()["total_events"] == threads * per_thread

    # -- decay -------------------------------------------------------------------------------------------------

    def test_expired_records_are_never_returned_and_cleanup_reports_them(self, memory: MemoryLogger) -> None:
        short = {"enabled": True, "short_term_hours": 0.2 / 3600}
        memory.log("agent", "debug", {"n": 1}, run_id="run-exp", agent_decay_config=short)
        memory.log("agent", "result", {"n": 2}, run_id="run-exp")
        memory.flush()
        time.sleep(0.4)
        assert [event["payload"]["n"] for event in memory.trace("run-exp")] == [2]
        assert [event["payload"]["n"] for event in memory.tail(10)] == [2]
        dry = memory.cleanup_expired_memories(dry_run=True)
        assert dry["events"] == 1 and dry["dry_run"] is True
        done = memory.cleanup_expired_memories()
        assert done["events"] == 1
        assert memory.cleanup_expired_memories(dry_run=True)["events"] == 0

    # -- key-value coordination ------------------------------------------------------------------------------

    def test_kv_api_returns_strings_and_keeps_redis_semantics(self, memory: MemoryLogger) -> None:
        if not _require_or_refuse(memory, Capability.KV, lambda: memory.hset("h", "k", "v")):
            return
        assert memory.hset("fork_group_results:g1", "a", {"answer": 42}) == 1
        assert memory.hset("fork_group_results:g1", "a", "again") == 0
        assert memory.hget("fork_group_results:g1", "a") == "again"
        assert memory.hset("fork_group_results:g1", "b", 7) == 1
        assert memory.hget("fork_group_results:g1", "b") == "7"
        assert memory.hkeys("fork_group_results:g1") == ["a", "b"]
        assert memory.hdel("fork_group_results:g1", "a", "missing") == 1
        assert memory.sadd("fork_group:g1", "x", "y", "x") == 2
        assert memory.srem("fork_group:g1", "x", "zz") == 1
        assert memory.smembers("fork_group:g1") == ["y"]
        assert memory.set("agent_result:g1:x", {"ok": True}) is True
        assert memory.get("agent_result:g1:x") == '{"ok":true}'
        assert memory.get("missing") is None and memory.hget("missing", "k") is None
        assert memory.delete("agent_result:g1:x", "missing") == 1
        with pytest.raises(WrongTypeError):
            memory.sadd("fork_group_results:g1", "oops")
        with pytest.raises(WrongTypeError):
            memory.hdel("fork_group:g1", "y")
        assert memory.smembers("fork_group:g1") == ["y"], "a type error must not delete the key"
        assert memory.hkeys("fork_group_results:g1") == ["b"]

    def test_scan_visits_every_key_once(self, memory: MemoryLogger) -> None:
        if not _require_or_refuse(memory, Capability.KV, lambda: memory.scan(0)):
            return
        for index in range(25):
            memory.set(f"scan:{index}", str(index))
        memory.set("other", "x")
        cursor, found = 0, []
        while True:
            cursor, keys = memory.scan(cursor, match="scan:*", count=4)
            found.extend(keys)
            if cursor == 0:
                break
        assert sorted(found) == sorted(f"scan:{index}" for index in range(25))

    # -- stored memories ---------------------------------------------------------------------------------------

    def test_stored_memories_search_filters_inside_the_query(self, memory: MemoryLogger) -> None:
        def store() -> str:
            return memory.log_memory("x", node_id="n", trace_id="t")

        if not _require_or_refuse(memory, Capability.MEMORIES, store):
            return
        for index in range(20):
            memory.log_memory(
                f"distractor about quarterly revenue growth and revenue #{index}",
                node_id="other",
                trace_id="t-other",
                metadata={"namespace": "noise"},
            )
        wanted = memory.log_memory(
            "quarterly revenue grew twelve percent",
            node_id="analyst",
            trace_id="t-1",
            metadata={"namespace": "finance"},
        )
        memory.flush()
        hits = memory.search_memories("quarterly revenue", num_results=3, namespace="finance")
        assert [hit["key"] for hit in hits] == [wanted]
        hit = hits[0]
        assert hit["content"] == "quarterly revenue grew twelve percent"
        assert hit["node_id"] == "analyst" and hit["trace_id"] == "t-1"
        assert 0.0 < hit["similarity_score"] <= 1.0
        assert hit["has_expiry"] is False and hit["ttl_formatted"] == "Never"
        assert len(memory.search_memories("revenue", num_results=5)) == 5

    def test_recent_delete_and_clear_memories(self, memory: MemoryLogger) -> None:
        if not _require_or_refuse(memory, Capability.MEMORIES, lambda: memory.get_recent_stored_memories()):
            return
        keys = [memory.log_memory(f"memory {index}", node_id="n", trace_id="t-m") for index in range(4)]
        memory.log("agent", "start", {}, run_id="t-m")
        memory.flush()
        recent = memory.get_recent_stored_memories(2)
        assert [item["key"] for item in recent] == keys[:1:-1]
        assert len(memory.get_all_memories(trace_id="t-m")) == 4
        assert memory.delete_memory(keys[0]) is True
        assert memory.delete_memory(keys[0]) is False
        memory.clear_all_memories()
        assert memory.get_all_memories() == []
        assert len(memory.trace("t-m")) == 1, "clearing memories keeps orchestration events"

    def test_memory_expiry_is_reported_and_enforced(self, memory: MemoryLogger) -> None:
        if not _require_or_refuse(memory, Capability.MEMORIES, lambda: memory.get_all_memories()):
            return
        memory.log_memory("fleeting", node_id="n", trace_id="t-e", expiry_hours=0.2 / 3600)
        lasting = memory.log_memory("lasting", node_id="n", trace_id="t-e", expiry_hours=1)
        memory.flush()
        [item] = [m for m in memory.get_all_memories("t-e") if m["key"] == lasting]
        assert item["has_expiry"] is True and 3500 <= item["ttl_seconds"] <= 3600
        time.sleep(0.4)
        assert [m["key"] for m in memory.get_all_memories("t-e")] == [lasting]

    # -- vector search -----------------------------------------------------------------------------------------

    def _vector_store(self, memory: MemoryLogger) -> dict[str, str] | None:
        """Store the labelled set in namespace ``kb``, the same texts again in namespace ``decoy`` and filler;
        return target text -> key (None when the backend has no vector search, after checking it refuses)."""
        if not _require_or_refuse(memory, Capability.VECTOR_SEARCH, lambda: _search_by_vector(memory)):
            return None
        keys = {}
        for text, _ in LABELLED_MEMORIES:
            keys[text] = memory.log_memory(text, node_id="kb", trace_id="t-kb", metadata={"namespace": "kb"})
            memory.log_memory(text, node_id="decoy", trace_id="t-decoy", metadata={"namespace": "decoy"})
        for index in range(30):
            memory.log_memory(f"filler note {index} about lunch plans", node_id="f", trace_id="t-f")
        memory.flush()
        return keys

    def test_vector_search_finds_exact_text_inside_the_filter_with_similarity_one(self, memory: MemoryLogger) -> None:
        keys = self._vector_store(memory)
        if keys is None:
            return
        for text, key in keys.items():
            hits = memory.search_memories(text, num_results=5, namespace="kb")
            assert hits[0]["key"] == key, f"exact text not ranked first: {text!r}"
            assert hits[0]["similarity_score"] > 0.99
            assert all(hit["namespace"] == "kb" for hit in hits), "a filter was applied after the KNN"
            assert all(0.0 < hit["similarity_score"] <= 1.0 for hit in hits)

    def test_vector_search_paraphrase_recall_is_reported(self, memory: MemoryLogger) -> None:
        keys = self._vector_store(memory)
        if keys is None:
            return
        found = 0
        for text, paraphrase in LABELLED_MEMORIES:
            hits = memory.search_memories(paraphrase, num_results=5, namespace="kb")
            found += keys[text] in [hit["key"] for hit in hits]
        recall = found / len(LABELLED_MEMORIES)
        print(f"paraphrase recall@5 with {memory.embedder.name if memory.embedder else '-'}: {recall:.2f}")
        assert recall >= PARAPHRASE_RECALL_FLOOR

    def test_caller_vectors_and_hybrid_ranking(self, memory: MemoryLogger) -> None:
        if not _require_or_refuse(memory, Capability.VECTOR_SEARCH, lambda: _search_by_vector(memory)):
            return
        assert memory.embedder is not None
        dimension = memory.embedder.dimension
        axis = [1.0] + [0.0] * (dimension - 1)
        with pytest.raises(ValueError, match=f"embedder in use produces {dimension}"):
            memory.log_memory("wrong size", node_id="n", trace_id="t", content_vector=[1.0, 2.0])
        own = memory.log_memory("text unrelated to its vector", node_id="n", trace_id="t-v", content_vector=axis)
        memory.log_memory("quarterly revenue grew", node_id="n", trace_id="t-v")
        memory.flush()
        [hit] = memory.search_memories("ignored", num_results=1, query_vector=axis)
        assert hit["key"] == own and hit["similarity_score"] > 0.99
        memory.settings.search_mode = "hybrid"
        hybrid = memory.search_memories("quarterly revenue", num_results=5, trace_id="t-v")
        assert hybrid[0]["content"] == "quarterly revenue grew"
        assert all(0.0 <= hit["similarity_score"] <= 1.0 for hit in hybrid)

    def test_expired_memories_are_not_found_by_vector(self, memory: MemoryLogger) -> None:
        if Capability.VECTOR_SEARCH not in memory.backend.capabilities:
            return
        memory.log_memory("fleeting vector memory", node_id="n", trace_id="t-x", expiry_hours=0.2 / 3600)
        memory.flush()
        time.sleep(0.4)
        assert memory.search_memories("fleeting vector memory", num_results=3) == []

    def test_another_embedder_on_a_store_with_vectors_is_refused(self, make_logger: MakeLogger) -> None:
        with make_logger() as memory:
            if Capability.VECTOR_SEARCH not in memory.backend.capabilities:
                return
            memory.log_memory("a memory with a vector", node_id="n", trace_id="t")
        with pytest.raises(VectorSpaceMismatch, match="use a new store"):
            make_logger(embedder="hashing", embedder_options={"dimension": 64})
        with make_logger() as memory:  # the original embedder still works, and nothing was lost
            assert memory.search_memories("a memory with a vector", num_results=1)[0]["similarity_score"] > 0.99

    # -- export and import -------------------------------------------------------------------------------------

    def test_save_and_load_round_trip_with_dedup(self, memory: MemoryLogger, tmp_path: Any) -> None:
        memory.log("a", "result", {"result": LARGE_OUTPUT}, run_id="run-x")
        memory.log("b", "result", {"summary": "short"}, run_id="run-x", previous_outputs={"a": LARGE_OUTPUT})
        path = tmp_path / "export.json"
        memory.save_to_file(path)
        raw = MemoryLogger.load_from_file(path, resolve_blobs=False)
        assert raw["_metadata"]["total_blobs_stored"] == 1
        assert raw["events"][0]["payload"]["result"]["_type"] == "blob_reference"
        loaded = MemoryLogger.load_from_file(path)
        assert loaded["events"][0]["payload"]["result"] == LARGE_OUTPUT
        assert loaded["events"][1]["previous_outputs"]["a"] == LARGE_OUTPUT

    def test_import_is_idempotent(self, memory: MemoryLogger, tmp_path: Any) -> None:
        for step in range(5):
            memory.log("a", "step", {"s": step}, step=step, run_id="run-imp")
        path = tmp_path / "export.jsonl.zst"
        assert memory.export_jsonl(path) == 5
        assert memory.import_file(path) == 5
        assert [event["step"] for event in memory.trace("run-imp")] == [0, 1, 2, 3, 4]
