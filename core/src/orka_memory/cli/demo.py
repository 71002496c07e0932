"""The demo workflow: what an orchestrator logs for one realistic multi-agent run.

A planner splits a question; a fork runs three research agents in parallel threads, coordinating through the KV
and set API exactly as OrKa's fork and join nodes do; the join merges their results; a synthesizer answers; a
memory writer stores the findings as memories and a reader recalls them by text. Agents return LLM-like outputs
with token, cost and latency metrics, and every agent sees all earlier outputs in ``previous_outputs``, the
repetition that blob deduplication removes. One debug probe is logged with a lifetime of a fraction of a second,
so ``cleanup --dry-run`` has something to show.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from orka_memory.logger import MemoryLogger

QUESTION = "How should a team choose a storage engine for an agent orchestrator's event log?"
BRANCHES = ("web_search", "paper_reader", "code_analyst")
FINDINGS = {
    "web_search": (
        "Practitioners report that append-only logs with per-run indexes keep tail and trace reads cheap as the "
        "log grows; teams running one Redis already prefer streams, larger fleets move the log to Kafka topics."
    ),
    "paper_reader": (
        "Write-ahead logging with group commit gives durability at batch cost; content-addressed deduplication "
        "removes the repeated context windows that dominate agent traces, often by a factor of three or more."
    ),
    "code_analyst": (
        "The orchestrator code logs every node's input, output and previous outputs; payloads above a few hundred "
        "bytes repeat across steps, so storing them once and compressing the rest is where the bytes are saved."
    ),
}
# Lifetime of the debug probe: 0.36 s, so it has expired when the demo reports.
PROBE_DECAY = {"enabled": True, "short_term_hours": 0.0001}


@dataclass
class DemoRun:
    """What one demo run produced, for the report."""

    run_id: str
    memory_keys: list[str] = field(default_factory=list)
    recalled: list[dict[str, Any]] = field(default_factory=list)


def llm_output(agent: str, response: str, rng: random.Random, *, model: str = "gpt-4o-mini") -> dict[str, Any]:
    """An agent result shaped like an LLM node's: the response plus the metrics orchestrators track."""
    prompt_tokens = rng.randint(600, 1400)
    completion_tokens = max(len(response.split()) * 4 // 3, 1)
    tokens = prompt_tokens + completion_tokens
    return {
        "response": response,
        "confidence": round(rng.uniform(0.72, 0.97), 2),
        "internal_reasoning": f"{agent} weighed the sources it was given against the question before answering.",
        "_metrics": {
            "model": model,
            "tokens": tokens,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost_usd": round(tokens * 0.15 / 1_000_000 + completion_tokens * 0.45 / 1_000_000, 6),
            "latency_ms": rng.randint(400, 2400),
        },
    }


class DemoWorkflow:
    """Runs the workflow against a logger. Each run gets its own run id; ``seed`` makes the outputs repeatable."""

    def __init__(self, memory: MemoryLogger, *, seed: int | None = None) -> None:
        self.memory = memory
        self.rng = random.Random(seed)

    def run(self) -> DemoRun:
        run = DemoRun(run_id=f"demo-{uuid.uuid4().hex[:12]}")
        outputs: dict[str, Any] = {}
        step = self._steps()
        self._event(run, next(step), "orchestrator", "run.start", {"input": QUESTION}, outputs)

        plan = "Split the question into what practitioners report, what the literature says, and what the code does."
        self._agent(run, next(step), "planner", plan, outputs)
        self._fork_and_join(run, step, outputs)

        merged = " ".join(outputs[name]["response"] for name in BRANCHES)
        answer = f"Choose an append-only engine with per-run indexes and deduplicated, compressed payloads. {merged}"
        self._agent(run, next(step), "synthesizer", answer, outputs)
        self._store_findings(run, next(step), outputs)
        self._recall(run, next(step), outputs)
        self.memory.log(
            "debug_probe",
            "debug",
            {"note": "verbose diagnostics, kept only briefly"},
            step=next(step),
            run_id=run.run_id,
            agent_decay_config=PROBE_DECAY,
        )
        self._event(run, next(step), "orchestrator", "run.end", {"answer": outputs["synthesizer"]}, outputs)
        return run

    @staticmethod
    def _steps() -> Iterator[int]:
        step = 0
        while True:
            yield step
            step += 1

    def _event(
        self,
        run: DemoRun,
        step: int,
        agent: str,
        event_type: str,
        payload: Any,
        outputs: dict[str, Any],
        **fields: Any,
    ) -> None:
        self.memory.log(
            agent, event_type, payload, step=step, run_id=run.run_id, previous_outputs=dict(outputs), **fields
        )

    def _agent(self, run: DemoRun, step: int, agent: str, response: str, outputs: dict[str, Any], **fields: Any) -> Any:
        result = llm_output(agent, response, self.rng)
        payload = {"input": QUESTION, "formatted_prompt": f"You are {agent}. {QUESTION}", "result": result}
        self._event(run, step, agent, "agent.end", payload, outputs, **fields)
        outputs[agent] = result
        return result

    def _fork_and_join(self, run: DemoRun, step: Iterator[int], outputs: dict[str, Any]) -> None:
        """Fork into parallel branches that report through the KV API, then join, as OrKa's nodes do."""
        group = f"fork_research_{run.run_id}"
        pending_key, results_key = f"fork_group:{group}", f"fork_group_results:{group}"
        self.memory.sadd(pending_key, *BRANCHES)
        self.memory.hset(f"fork_group_mapping:{run.run_id}", "fork_research", group)
        self._event(run, next(step), "fork_research", "fork.start", {"fork_group": group, "agents": BRANCHES}, outputs)

        branch_step = next(step)
        before_fork = dict(outputs)

        def branch(agent: str) -> None:
            seen = dict(before_fork)  # a branch sees what existed at the fork, not its siblings
            result = self._agent(
                run, branch_step, agent, FINDINGS[agent], seen, fork_group=group, parent="fork_research"
            )
            self.memory.hset(results_key, agent, result)
            self.memory.srem(pending_key, agent)

        threads = [threading.Thread(target=branch, args=(agent,), name=f"demo-{agent}") for agent in BRANCHES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if self.memory.smembers(pending_key):
            raise RuntimeError(f"join found unfinished branches: {self.memory.smembers(pending_key)}")
        for agent in BRANCHES:
            outputs[agent] = orjson.loads(self.memory.hget(results_key, agent) or "null")
        self.memory.delete(pending_key, results_key)
        self._event(run, next(step), "join_research", "join.end", {"merged": list(BRANCHES)}, outputs)

    def _store_findings(self, run: DemoRun, step: int, outputs: dict[str, Any]) -> None:
        for agent in BRANCHES:
            key = self.memory.log_memory(
                FINDINGS[agent],
                node_id="memory_writer",
                trace_id=run.run_id,
                metadata={"source_agent": agent, "namespace": "research"},
                importance_score=0.8,
                memory_type="long_term",
            )
            run.memory_keys.append(key)
        self._event(run, step, "memory_writer", "memory.write", {"stored": run.memory_keys}, outputs)

    def _recall(self, run: DemoRun, step: int, outputs: dict[str, Any]) -> None:
        self.memory.flush()  # a reader in the same run sees what the writer stored
        run.recalled = self.memory.search_memories("deduplication", num_results=3, trace_id=run.run_id)
        found = [{"key": hit["key"], "score": hit["similarity_score"]} for hit in run.recalled]
        self._event(run, step, "memory_reader", "memory.read", {"query": "deduplication", "found": found}, outputs)


def wait_for_probe_expiry() -> None:
    """Sleep until the debug probe of a run that just ended has expired."""
    time.sleep(PROBE_DECAY["short_term_hours"] * 3600 + 0.05)
