"""Reading offset ranges with assign + seek: no consumer group, so a read starts at once (a group join takes
seconds), and every reader sees every partition.

A range is read "to its end" when the consumer has returned the message just before the end offset the broker
reported. Kafka returns whole batches, so the rest of that batch comes with it; this also covers brokers that
report the end of a partition as one past the first offset of its last batch (Tansu does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from kafka.partitioner.default import murmur2
from orka_memory.backend import BackendUnavailable

from orka_memory_kafka.client import Consumer, InMessage, Partition

POLL_SECONDS = 0.2


def read_ranges(
    consumer: Consumer, ranges: Mapping[Partition, tuple[int, int]], *, idle_timeout: float, exact: bool = False
) -> Iterator[list[InMessage]]:
    """Batches of the messages of each partition from its start offset through its end offset (and the rest of the
    last batch). ``exact`` ends are each one past a message's own offset, not an end the broker reported: the rest
    of the last batch is not waited for then, nor what the client fetched beyond it. Raises ``BackendUnavailable``
    when nothing arrives for ``idle_timeout`` seconds before the end."""
    pending = {partition: end for partition, (start, end) in ranges.items() if start < end}
    if not pending:
        return
    positions = {partition: ranges[partition][0] for partition in pending}
    consumer.assign(positions)
    try:
        yield from _read_assigned(consumer, pending, positions, idle_timeout, exact)
    finally:
        consumer.assign({})  # an idle assignment keeps long-polling fetches going, which delay the next request


def _read_assigned(
    consumer: Consumer,
    pending: dict[Partition, int],
    positions: dict[Partition, int],
    idle_timeout: float,
    exact: bool,
) -> Iterator[list[InMessage]]:
    quiet_since = time.monotonic()
    while pending:
        batch = consumer.poll(POLL_SECONDS)
        if not batch:
            if time.monotonic() - quiet_since > idle_timeout:
                raise BackendUnavailable(f"Kafka returned nothing for {idle_timeout:.0f} s while reading {pending}")
            continue
        quiet_since = time.monotonic()
        done = _advance(positions, batch, pending)
        yield batch
        if done:
            # The rest of a finished partition's last batch may still sit in the client, past what one poll hands
            # out: take it before the assignment changes (already fetched, so poll(0) does not wait).
            while not exact and (extra := consumer.poll(0)):
                done = _advance(positions, extra, pending)
                yield extra
            for partition in done:
                del pending[partition]
            if pending:  # stop fetching finished partitions: a busy topic would keep them going forever
                consumer.assign({partition: positions[partition] for partition in pending})


def _advance(
    positions: dict[Partition, int], batch: list[InMessage], pending: Mapping[Partition, int]
) -> list[Partition]:
    """Move ``positions`` past ``batch``; the pending partitions now read through their end."""
    for m in batch:
        positions[(m.topic, m.partition)] = m.offset + 1
    return [partition for partition, end in pending.items() if positions[partition] >= end]


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as in the Java client and kafka-python; librdkafka is
    configured to match) puts ``key`` in."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


def stream(
    consumer: Consumer, positions: Mapping[Partition, int], stopped: Callable[[], bool]
) -> Iterator[list[InMessage]]:
    """Every message from ``positions`` on, as it arrives, until ``stopped()``; yields empty batches while idle so
    the caller can check its own conditions. A broker that is away is waited for, not reported."""
    consumer.assign(positions)
    while not stopped():
        try:
            yield consumer.poll(POLL_SECONDS)
        except BackendUnavailable:
            time.sleep(POLL_SECONDS)
