"""The newest records of the event topics, held in memory and followed live, so ``tail`` needs no round trip.

A follower thread, started by the first ``tail``, reads every new message of the event topics (from every
producer, not only this process) into a ``RecentRecords`` buffer; this process's own appends go in as soon as they
are acknowledged, so a ``tail`` right after ``flush`` sees them. The buffer starts with the newest ``capacity``
messages of each partition and answers a read only when it holds enough live records for it, or everything the
topics hold; otherwise the backend reads Kafka.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Mapping

from orka_memory.backend import EncodedRecord

from orka_memory_kafka.client import Consumer, InMessage, Partition
from orka_memory_kafka.reading import stream


class RecentRecords:
    """Up to ``capacity`` records in id (time) order, each id once."""

    def __init__(self, capacity: int, *, complete: bool) -> None:
        self.capacity = capacity
        self._ids: list[str] = []
        self._records: dict[str, EncodedRecord] = {}
        self._complete = complete  # holds every record the topics hold (nothing before it was dropped)
        self._lock = threading.Lock()

    def add(self, records: Iterable[EncodedRecord]) -> None:
        with self._lock:
            for record in records:
                if record.id in self._records:
                    continue
                self._records[record.id] = record
                if not self._ids or record.id > self._ids[-1]:
                    self._ids.append(record.id)
                else:
                    bisect.insort(self._ids, record.id)
            excess = len(self._ids) - self.capacity
            if excess > 0:
                for record_id in self._ids[:excess]:
                    del self._records[record_id]
                del self._ids[:excess]
                self._complete = False

    def newest(self, count: int, *, now_ms: int, log_type: str | None) -> list[EncodedRecord] | None:
        """The newest ``count`` live records of ``log_type``, newest first; None when the buffer cannot tell."""
        found: list[EncodedRecord] = []
        with self._lock:
            for record_id in reversed(self._ids):
                record = self._records[record_id]
                if (log_type is None or record.log_type == log_type) and (
                    record.expires_at is None or record.expires_at > now_ms
                ):
                    found.append(record)
                    if len(found) == count:
                        return found
            return found if self._complete else None


class Follower:
    """A thread feeding every new message of some partitions to ``sink``, from given offsets on.

    ``caught_up`` is set once each partition has been read through its ``targets`` offset (the end when the
    follower started), that is, once the buffer it fills holds the present.
    """

    def __init__(
        self,
        consumer: Consumer,
        start: Mapping[Partition, int],
        targets: Mapping[Partition, int],
        sink: Callable[[list[InMessage]], None],
    ) -> None:
        self._consumer = consumer
        self._start = dict(start)
        self._remaining = {partition: end for partition, end in targets.items() if start[partition] < end}
        self._sink = sink
        self._stop = threading.Event()
        self.caught_up = threading.Event()
        self._thread = threading.Thread(target=self._run, name="orka-memory-kafka-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for batch in stream(self._consumer, self._start, self._stop.is_set):
                if batch:
                    self._sink(batch)
                    for m in batch:
                        end = self._remaining.get((m.topic, m.partition))
                        if end is not None and m.offset + 1 >= end:
                            del self._remaining[(m.topic, m.partition)]
                if not self._remaining:
                    self.caught_up.set()
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
