"""The fixed, seeded workload every target runs, and the timing and summary helpers every measurement uses.

Events look like what an orchestrator logs after an agent call: about 1.7 KB of JSON, mostly the model's text, plus
a small metrics dict. The text is drawn from a seeded vocabulary with a Zipf-like spread, so it compresses like
prose does (random letters would flatter nothing and penalise compression). Two workloads:

- ``plain``: every event distinct (the typical case: dedup finds nothing, compression does the work);
- ``dedup``: 30% of the events also carry one shared 50 KB agent output, as ``previous_outputs`` copies do in real
  workflows; storing it once is what the core's blob deduplication is for.

Runs hold 500 events each (``run-0``, ``run-1``, ...), the size ``trace(run)`` is measured on.
"""

from __future__ import annotations

import itertools
import random
import statistics
import string
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

EVENT_BYTES = 1700  # JSON size of a typical orchestration event's payload
SHARED_OUTPUT_BYTES = 50_000  # the repeated agent output of the dedup workload
REPEAT_SHARE = 0.3  # share of dedup-workload events carrying it
RUN_SIZE = 500  # events per run: the size of the run ``trace`` reads
AGENTS = ("planner", "web_search", "summarizer", "critic", "writer")
VOCABULARY_SIZE = 3000


@dataclass(frozen=True, slots=True)
class Event:
    """One ``log()`` call's arguments, so the logger and the raw clients write the same thing."""

    step: int
    run_id: str
    agent_id: str
    event_type: str
    payload: dict[str, Any]

    @property
    def raw_id(self) -> str:
        """The id a raw client stores with the event: its step as 32 hex digits, a record id's length."""
        return f"{self.step:032x}"


@dataclass(frozen=True, slots=True)
class Workload:
    name: str  # short key in results.json: "plain" or "dedup"
    label: str  # what the table says
    events: list[Event]


def run_id(step: int) -> str:
    return f"run-{step // RUN_SIZE}"


class _Prose:
    """Seeded text from a fixed vocabulary, frequent words first (Zipf-like weights), as model output reads."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        words = {"".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(VOCABULARY_SIZE)}
        self._words = sorted(words)
        rng.shuffle(self._words)
        self._cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(self._words) + 1)))

    def text(self, length: int) -> str:
        """About ``length`` characters of words (average word plus space: 7 characters)."""
        words = self._rng.choices(self._words, cum_weights=self._cumulative, k=length // 7 + 1)
        return " ".join(words)[:length]


def make_events(count: int, *, seed: int, repeat_share: float = 0.0) -> list[Event]:
    """``count`` deterministic events; ``repeat_share`` of them carry one shared 50 KB output."""
    rng = random.Random(seed)
    prose = _Prose(rng)
    shared = {"response": prose.text(SHARED_OUTPUT_BYTES), "model": "gpt-4o-mini", "confidence": 0.91}
    events = []
    for step in range(count):
        payload: dict[str, Any] = {
            "response": prose.text(EVENT_BYTES - 120),
            "confidence": round(rng.random(), 3),
            "_metrics": {
                "model": "gpt-4o-mini",
                "tokens": rng.randint(100, 900),
                "latency_ms": rng.randint(200, 4000),
                "cost_usd": round(rng.random() / 100, 5),
            },
        }
        if rng.random() < repeat_share:
            payload["shared_output"] = shared
        agent = AGENTS[step % len(AGENTS)]
        events.append(Event(step, run_id(step), agent, "result", payload))
    return events


def make_workloads(count: int, *, seed: int) -> list[Workload]:
    return [
        Workload("plain", "1.7 KB events", make_events(count, seed=seed)),
        Workload("dedup", "30% repeat a 50 KB output", make_events(count, seed=seed + 1, repeat_share=REPEAT_SHARE)),
    ]


def split(events: Sequence[Event], parts: int) -> list[Sequence[Event]]:
    """``events`` in ``parts`` contiguous slices (one per thread), so each run's events stay in order."""
    size = -(-len(events) // parts)
    return [events[start : start + size] for start in range(0, len(events), size)]


# -- timing ---------------------------------------------------------------------------------------------------------


def timed(function: Callable[[], Any]) -> float:
    """Seconds one call of ``function`` takes."""
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def percentile(samples: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in [0, 1]) of unsorted ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def latencies(
    function: Callable[[], Any], rounds: int, *, before: Callable[[], Any] | None = None
) -> tuple[float, float]:
    """p50 and p99 in milliseconds of ``rounds`` calls (after one untimed call, which warms caches); ``before``, if
    given, runs untimed before each call."""
    samples = []
    for _ in range(rounds + 1):
        if before is not None:
            before()
        samples.append(timed(function))
    return percentile(samples[1:], 0.5) * 1000, percentile(samples[1:], 0.99) * 1000


# -- summaries ------------------------------------------------------------------------------------------------------


def summarize(values: Sequence[float], digits: int = 0) -> str:
    """``median (min-max)``: the form every absolute number over ``--repeat`` runs is printed in."""
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{statistics.median(values):,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def ratio(part: Sequence[float], whole: Sequence[float]) -> float:
    """Median over median: the headline comparison of two sets of runs."""
    return statistics.median(part) / statistics.median(whole)
