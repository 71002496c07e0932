"""Where each run's events lie in the event partitions, as far as this process has read them, so that a trace reads
the run's own stretch of its partition instead of the whole partition.

A partition's ``RunSpans`` covers a stretch of offsets this process has read through, every message of it (reads
return whole batches, in order), up to ``end``: for every run key in it, the first and the last offset of its
messages there. The first trace of a partition reads it whole, as a trace always had to, and records the spans;
each later trace first reads what came after ``end`` (the spans grow with it), then only the stretch between the
run's first and last offset before that. A run without a span has no
message in the stretch covered. Nothing is written anywhere: the spans are made of what was read, so they hold
whichever processes wrote the events, and a process that restarts reads the partition whole once more.

Offsets below a partition's first readable one (gone by retention, or hidden by a cleanup mark) are not read. A
partition emptied and written again (a broker back without its data, a topic deleted and created again) starts its
offsets afresh: that shows as an end the broker reports below the one it reported before, or as the message read
last not being where it was when what came after it is read (from that message on), and the partition is read whole
again.

A partition's spans hold at most ``MAX_RUNS`` runs: past that the runs whose events are all gone are forgotten and,
if that is not enough, the spans are dropped and the next trace reads the partition whole again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from orka_memory_kafka.client import InMessage, Partition

MAX_RUNS = 50_000  # runs a partition's spans hold at most (about 200 bytes each: 10 MB a partition)


class ReadRanges(Protocol):
    def __call__(self, ranges: dict[Partition, tuple[int, int]], *, exact: bool = False) -> list[InMessage]:
        """Every message of ``ranges`` (``reading.read_ranges``)."""
        ...


class RunSpans:
    """The runs of one partition below ``end``: key -> [first offset, last offset]; and what shows that the
    partition is still the one they were read from."""

    def __init__(self, start: int) -> None:
        """Covering nothing yet: the first read starts at ``start``."""
        self.end = start
        self.spans: dict[bytes, list[int]] = {}
        self.reported = 0  # the end the broker reported last: it never goes back in a partition that kept its data
        self.last: InMessage | None = None  # the last message read, read again with what comes after it

    def add(self, messages: Sequence[InMessage]) -> None:
        if messages:
            newest = max(messages, key=lambda m: m.offset)
            if self.last is None or newest.offset >= self.last.offset:
                self.last = newest
        spans = self.spans
        for m in messages:
            if m.key is None:
                continue
            span = spans.get(m.key)
            if span is None:
                spans[m.key] = [m.offset, m.offset]
            elif m.offset < span[0]:
                span[0] = m.offset
            elif m.offset > span[1]:
                span[1] = m.offset

    def span(self, key: bytes, readable: int) -> tuple[int, int] | None:
        """The offsets ``[first, last + 1)`` of ``key``'s messages, from ``readable`` on and below ``end``."""
        span = self.spans.get(key)
        if span is None:
            return None
        first, stop = max(span[0], readable), min(span[1] + 1, self.end)
        return (first, stop) if first < stop else None

    def continues(self, messages: Sequence[InMessage]) -> bool:
        """Whether ``messages``, read from the last message read on, begin with that same message: else the
        partition was emptied and written again since (a broker that lost its data, a topic made anew)."""
        last = self.last
        if last is None:
            return True
        again = next((m for m in messages if m.offset == last.offset), None)
        return again is not None and (again.key, again.timestamp_ms, again.value) == (
            last.key,
            last.timestamp_ms,
            last.value,
        )

    def forget_gone(self, readable: int) -> None:
        """Forget the runs whose messages are all below ``readable``."""
        self.spans = {key: span for key, span in self.spans.items() if span[1] >= readable}


class RunDirectory:
    """``RunSpans`` per event partition. Used under the backend's read lock, as the reads it makes are."""

    def __init__(self, max_runs: int = MAX_RUNS) -> None:
        self.max_runs = max_runs
        self._partitions: dict[Partition, RunSpans] = {}

    def read_run(self, key: bytes, bounds: Mapping[Partition, tuple[int, int]], read: ReadRanges) -> list[InMessage]:
        """The messages of run ``key`` in ``bounds`` (each partition's first readable offset and end), read with
        ``read`` (every message of some ranges): what no trace read yet, then the run's span in what was."""
        older: dict[Partition, tuple[int, int]] = {}  # the run's stretch in what was read before
        fresh: dict[Partition, tuple[int, int]] = {}  # what no trace has read yet, from the last message read on
        for partition, (readable, end) in bounds.items():
            spans = self._partitions.get(partition)
            if spans is None or spans.end < readable or end < spans.reported:  # never read, all gone, or emptied
                spans = self._partitions[partition] = RunSpans(readable)
            spans.reported = end
            if (span := spans.span(key, readable)) is not None:
                older[partition] = span
            if spans.end < end:
                after = spans.last.offset if spans.last is not None and spans.last.offset >= readable else spans.end
                fresh[partition] = (max(after, readable), end)
        messages = read(fresh) if fresh else []
        by_partition: dict[Partition, list[InMessage]] = {partition: [] for partition in fresh}
        for m in messages:
            by_partition[(m.topic, m.partition)].append(m)
        anew = [partition for partition, got in by_partition.items() if not self._partitions[partition].continues(got)]
        if anew:
            for partition in anew:
                del self._partitions[partition]
            return self.read_run(key, bounds, read)  # read those partitions whole
        for partition, (readable, end) in fresh.items():
            self._extend(partition, by_partition[partition], readable, end)
        found = [m for m in messages if m.key == key]
        if older:
            found.extend(m for m in read(older, exact=True) if m.key == key)  # a span ends at a message of its own
        return found

    def _extend(self, partition: Partition, messages: list[InMessage], readable: int, end: int) -> None:
        """Take the messages read after a partition's end into its spans."""
        spans = self._partitions[partition]
        spans.add(messages)
        # Kafka returns whole batches, read in order: what was read is contiguous, and may go past ``end`` (the rest
        # of the last batch; some brokers report the end as one past the first offset of that batch).
        spans.end = max(end, max((m.offset + 1 for m in messages), default=end))
        if len(spans.spans) > self.max_runs:
            spans.forget_gone(readable)
            if len(spans.spans) > self.max_runs:
                del self._partitions[partition]  # the next trace reads this partition whole again
