"""A bounded FIFO that its one consumer drains in batches.

``queue.Queue`` takes its lock and signals a condition for every item on both sides; the writer would pay that once
per record. Here the producer pays one short lock per item and signals only when the queue was empty (the only
moment the consumer can be waiting), and the consumer takes up to a whole batch under one lock.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class BatchQueue(Generic[T]):
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    def put(self, item: T) -> None:
        """Append ``item``; blocks while the queue is full (back-pressure, never loss)."""
        with self._lock:
            while len(self._items) >= self.maxsize:
                self._not_full.wait()
            self._items.append(item)
            if len(self._items) == 1:
                self._not_empty.notify()

    def take(self, limit: int, timeout: float | None = None) -> list[T]:
        """Remove and return up to ``limit`` items, oldest first, waiting up to ``timeout`` seconds (None: forever)
        for the first one; an empty list when the time ran out."""
        with self._lock:
            if not self._items and not self._not_empty.wait_for(lambda: bool(self._items), timeout):
                return []
            was_full = len(self._items) >= self.maxsize
            count = min(limit, len(self._items))
            batch = [self._items.popleft() for _ in range(count)]
            if was_full:
                self._not_full.notify_all()
            return batch

    def __len__(self) -> int:
        return len(self._items)
