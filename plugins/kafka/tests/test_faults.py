"""The broker goes away in the middle of 10,000 logs and comes back.

Tansu keeps its data in memory, so two faults are tested, each honestly:

- the broker hangs (SIGSTOP, then SIGCONT after several seconds: a stalled broker or a network partition, data
  kept): every one of the 10,000 records is in the topic exactly once afterwards, by the idempotent producer;
- the broker dies and a new one starts empty (what a restart of Tansu's memory storage is): records logged while
  it is away are spooled, replayed once it is back, and each is in the new topic exactly once; the records the
  old broker had acknowledged died with it, which a broker with durable storage would not do.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from orka_memory_kafka.testing import LocalBroker

from .conftest import MakeLogger
from .helpers import topic_messages

TOTAL = 10_000
FAULT_AT = 3_000


def _log_in_background(memory: Any, first: int, last: int) -> threading.Thread:
    def work() -> None:
        for step in range(first, last):
            memory.log("agent", "tick", {"step": step}, step=step, run_id=f"run-{step % 20}")
            if step % 500 == 0:
                time.sleep(0.05)  # a workflow's pace, so the fault lands in the middle of the run

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def _steps_in_topic(kafka_args: dict[str, Any]) -> list[int]:
    import orjson

    return [
        orjson.loads(m.value)["step"]
        for m in topic_messages(kafka_args, f"{kafka_args['topic_prefix']}.short-term")
        if m.value is not None
    ]


def test_a_hung_broker_loses_and_duplicates_nothing(
    make_logger: MakeLogger, kafka_args: dict[str, Any], broker: LocalBroker
) -> None:
    with make_logger(compress_threshold=10**9) as memory:
        for step in range(FAULT_AT):
            memory.log("agent", "tick", {"step": step}, step=step, run_id=f"run-{step % 20}")
        memory.flush()
        broker.pause()
        try:
            logging = _log_in_background(memory, FAULT_AT, TOTAL)
            time.sleep(4)
        finally:
            broker.resume()
        logging.join()
        memory.flush(timeout=60)
        assert memory.get_memory_stats()["total_events"] == TOTAL
    steps = _steps_in_topic(kafka_args)
    assert len(steps) == TOTAL and set(steps) == set(range(TOTAL)), "every record once"


# The reads before the broker dies may make Tansu create the topics anew with its own partition count before the
# producer does, and ensure_topics warns that they differ from the settings; the backend follows the partitions
# they have (test_backend tests that on its own).
@pytest.mark.filterwarnings("ignore::orka_memory_kafka.topics.TopicConfigWarning")
def test_a_restarted_empty_broker_gets_the_spooled_records_once(
    make_logger: MakeLogger, kafka_args: dict[str, Any], broker: LocalBroker
) -> None:
    fast_failure = {
        "delivery_timeout_ms": 2000,
        "request_timeout_ms": 1000,
        "retry_attempts": 2,
        "retry_backoff_seconds": 0.1,
        "compress_threshold": 10**9,
    }
    with make_logger(**fast_failure) as memory:
        for step in range(FAULT_AT):
            memory.log("agent", "tick", {"step": step}, step=step, run_id=f"run-{step % 20}")
        memory.flush()
        # This process has read the topics before the broker died; its reads after may make Tansu create them anew
        # with its default partition count before the producer creates them with the backend's.
        assert len(memory.trace("run-7")) == FAULT_AT // 20
        broker.stop()
        try:
            logging = _log_in_background(memory, FAULT_AT, TOTAL)
            logging.join()
            memory.flush(timeout=60)  # stored or spooled
            assert memory.get_performance_metrics()["spool_pending"] > 0
            time.sleep(2)
        finally:
            broker.start()
        deadline = time.monotonic() + 60
        while memory.get_performance_metrics()["spool_pending"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert memory.get_performance_metrics()["spool_pending"] == 0
        memory.flush(timeout=60)
        trace = memory.trace("run-7")
    steps = _steps_in_topic(kafka_args)
    assert sorted(steps) == list(range(FAULT_AT, TOTAL)), "each record logged after the broker died, once"
    assert [event["step"] for event in trace] == list(range(FAULT_AT + 7, TOTAL, 20))
