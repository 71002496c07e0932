"""A compacted topic read as a map: key -> the latest message of that key (a tombstone removes the key).

Used for the blobs (keyed by SHA-256) and the shared state of a store. Any process reaches the same map by reading
the topic: that is what makes dedup span processes, and what lets any consumer resolve blob references. The map is
caught up on demand, from where this process last read; message values are cached up to a byte budget (least
recently used go first) and an evicted value is fetched again by its offset.

A partition can be emptied and written again under the map (a broker that lost its data, a topic deleted and made
again). A catch-up notices it when the partition's end went back, or when the newest message the map knows in it
(read or sent by this process) is no longer at its offset; what the map held from that partition is then forgotten,
and the partition is read again from its start.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence

from orka_memory_kafka.client import Consumer, InMessage, OutMessage, Partition
from orka_memory_kafka.reading import partition_for_key, read_ranges


class KeyedTopic:
    """Safe to use from several threads, each with its own consumer."""

    def __init__(self, topic: str, partitions: int, *, cache_bytes: int, idle_timeout: float) -> None:
        self.topic = topic
        self.partitions = partitions
        self._index: dict[str, tuple[int, int]] = {}  # key -> (partition, offset) of its latest message
        self._expiry: dict[str, int] = {}  # key -> its message's ``expires_at`` header, when it has one
        self._cache: OrderedDict[str, InMessage] = OrderedDict()
        self._cached_bytes = 0
        self._cache_limit = cache_bytes
        self._positions = dict.fromkeys(range(partitions), 0)  # next offset to read, per partition
        self._reported = dict.fromkeys(range(partitions), 0)  # the end each reported last: it never goes back
        self._newest: dict[int, InMessage] = {}  # per partition, the message of the highest offset applied
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()  # the map, held briefly
        # One catch-up at a time (readers' and the writer's blob checks run on consumers of their own): two that
        # interleaved could each move the positions past what the other has just forgotten.
        self._catch_up_lock = threading.Lock()

    # -- keeping the map ---------------------------------------------------------------------------------------

    def apply(self, messages: Sequence[InMessage]) -> None:
        """Take messages read from the topic, or just produced to it, into the map (an older offset of a key than
        the one held changes nothing)."""
        with self._lock:
            for m in messages:
                newest = self._newest.get(m.partition)
                if newest is None or m.offset > newest.offset:
                    self._newest[m.partition] = m
                if m.key is None:
                    continue
                key = m.key.decode()
                held = self._index.get(key)
                if held is not None and held[1] > m.offset:
                    continue
                self._drop_cached(key)
                self._expiry.pop(key, None)
                if m.value is None:
                    self._index.pop(key, None)
                    continue
                self._index[key] = (m.partition, m.offset)
                expires = dict(m.headers).get("expires_at")
                if expires is not None:
                    self._expiry[key] = int(expires)
                self._cache_value(key, m)

    def remember_sent(self, sent: Sequence[tuple[OutMessage, tuple[int, int]]]) -> None:
        """Apply messages this process produced, with the (partition, offset) the broker acknowledged."""
        self.apply(
            [InMessage(m.topic, partition, offset, m.key, m.value, m.headers, 0) for m, (partition, offset) in sent]
        )

    def catch_up(self, consumer: Consumer, partitions: Collection[int] | None = None) -> None:
        """Read what was written since this process last read (by anyone), in ``partitions`` (default: all)."""
        with self._catch_up_lock:
            self._catch_up(consumer, partitions)

    def _catch_up(self, consumer: Consumer, partitions: Collection[int] | None) -> None:
        chosen = range(self.partitions) if partitions is None else sorted(partitions)
        marks = consumer.watermarks([(self.topic, partition) for partition in chosen])
        ranges: dict[Partition, tuple[int, int]] = {}
        expected: dict[int, InMessage] = {}  # per partition, a message the read must find where it was
        with self._lock:
            for (topic, partition), (first, end) in marks.items():
                if end < self._reported[partition]:
                    self._forget_partition(partition)
                self._reported[partition] = end
                start = max(self._positions[partition], first)
                newest = self._newest.get(partition)
                if newest is not None and first <= newest.offset and start < end:
                    start = min(start, newest.offset)  # read it again with what follows it
                    expected[partition] = newest
                ranges[(topic, partition)] = (start, end)
        anew: set[int] = set()
        for batch in read_ranges(consumer, ranges, idle_timeout=self._idle_timeout):
            kept = [m for m in batch if m.partition not in anew and _continues(m, expected, anew)]
            self.apply(kept)
            with self._lock:
                for m in kept:
                    self._positions[m.partition] = max(self._positions[m.partition], m.offset + 1)
        if anew:
            with self._lock:
                for partition in anew:
                    self._forget_partition(partition)
            self._catch_up(consumer, anew)  # those partitions from their start

    def _forget_partition(self, partition: int) -> None:
        """Drop what the map holds from ``partition`` and read it from its start next time (holding the lock)."""
        for key in [key for key, (held, _) in self._index.items() if held == partition]:
            del self._index[key]
            self._expiry.pop(key, None)
            self._drop_cached(key)
        self._positions[partition] = 0
        self._newest.pop(partition, None)

    # -- reading -----------------------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._index)

    def holds(self, keys: Collection[str], consumer: Consumer) -> set[str]:
        """The ``keys`` the topic holds, the partitions they map to caught up first."""
        self.catch_up(consumer, {partition_for_key(key.encode(), self.partitions) for key in keys})
        with self._lock:
            return {key for key in keys if key in self._index}

    def expired(self, now_ms: int) -> list[str]:
        """Keys whose message carries an ``expires_at`` at or before ``now_ms``."""
        with self._lock:
            return [key for key, expires_at in self._expiry.items() if expires_at <= now_ms]

    def get(self, keys: Collection[str], consumer: Consumer) -> dict[str, InMessage]:
        """The latest message of each key present; catches up once if any key is unknown."""
        found = self._cached(keys)
        if len(found) < len(keys):
            self.catch_up(consumer)
            found = self._cached(keys)
        missing = [key for key in keys if key not in found and key in self._index]
        if missing:
            found.update(self._fetch(missing, consumer))
        return found

    def snapshot(self, consumer: Consumer) -> dict[str, InMessage]:
        """Every key's latest message, caught up first (for small topics such as the state)."""
        self.catch_up(consumer)
        return self.get(self.keys(), consumer)

    def _cached(self, keys: Collection[str]) -> dict[str, InMessage]:
        with self._lock:
            found = {}
            for key in keys:
                message = self._cache.get(key)
                if message is not None:
                    self._cache.move_to_end(key)
                    found[key] = message
            return found

    def _fetch(self, keys: list[str], consumer: Consumer) -> dict[str, InMessage]:
        """Values evicted from the cache, read again at their offsets."""
        with self._lock:
            wanted = {self._index[key]: key for key in keys if key in self._index}
        ranges: dict[tuple[str, int], tuple[int, int]] = {}
        for partition, offset in wanted:
            start, end = ranges.get((self.topic, partition), (offset, offset + 1))
            ranges[(self.topic, partition)] = (min(start, offset), max(end, offset + 1))
        found = {}
        for batch in read_ranges(consumer, ranges, idle_timeout=self._idle_timeout):
            for m in batch:
                key = wanted.get((m.partition, m.offset))
                if key is not None:
                    found[key] = m
        return found

    # -- the value cache ---------------------------------------------------------------------------------------

    def _cache_value(self, key: str, message: InMessage) -> None:
        size = len(message.value or b"")
        if size > self._cache_limit:
            return
        self._cache[key] = message
        self._cached_bytes += size
        while self._cached_bytes > self._cache_limit:
            _, evicted = self._cache.popitem(last=False)
            self._cached_bytes -= len(evicted.value or b"")

    def _drop_cached(self, key: str) -> None:
        message = self._cache.pop(key, None)
        if message is not None:
            self._cached_bytes -= len(message.value or b"")


def _continues(m: InMessage, expected: dict[int, InMessage], anew: set[int]) -> bool:
    """Whether ``m`` may be taken into the map: False when its partition turns out to be written anew (added to
    ``anew``). The first message read of a partition at or past the expected one decides: the same key and value
    at the same offset show the partition is the one read before; another message there shows it is not. When the
    expected message is gone from a partition that kept its data (compaction keeps only a key's latest message),
    nothing can be told from it, and nothing is assumed."""
    known = expected.get(m.partition)
    if known is None or m.offset < known.offset:
        return True
    del expected[m.partition]
    if m.offset == known.offset and (m.key, m.value) != (known.key, known.value):
        anew.add(m.partition)
        return False
    return True
