"""The background writer: takes records off a bounded queue and stores them in batches.

``log()`` only builds a record and puts it on the queue, so the orchestrator's hot path never waits for storage.
The writer thread drains up to ``batch_size`` records at a time, encodes them (dedup, JSON, compression) and
hands the batch to the backend in one call (a SQLite transaction, a Redis pipeline, a producer batch).

Storage trouble never reaches the workflow: a failing batch is retried with exponential backoff, then spooled to
local disk and replayed, in order, when the backend answers again. While the spool holds records, new batches go
behind them, so a run's events keep their order.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from orka_memory.backend import Backend, Blob, EncodedRecord
from orka_memory.batchqueue import BatchQueue
from orka_memory.encoding import RecordEncoder
from orka_memory.record import MemoryRecord
from orka_memory.spool import Spool

log = logging.getLogger("orka_memory.writer")

SPOOL_REPLAY_INTERVAL = 1.0  # seconds between attempts to deliver spooled records


class _Marker:
    """A flush or stop request: set once every record queued before it is stored or spooled."""

    def __init__(self, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


@dataclass
class WriterMetrics:
    """Counters of this process's writer, for ``get_performance_metrics`` and ``stats``."""

    records_logged: int = 0
    records_written: int = 0
    batches_written: int = 0
    records_spooled: int = 0
    records_replayed: int = 0
    retries: int = 0
    blobs_written: int = 0
    logical_bytes: int = 0  # JSON of every record as logged, before dedup
    encoded_bytes: int = 0  # JSON after dedup, before compression (blobs included)
    stored_bytes: int = 0  # after compression (blobs included)
    write_seconds: float = 0.0
    last_error: str | None = None


class Writer:
    """Owns the queue and the writer thread of one logger."""

    def __init__(
        self,
        backend: Backend,
        encoder: RecordEncoder,
        spool: Spool,
        *,
        queue_size: int,
        batch_size: int,
        retry_attempts: int,
        retry_backoff: float,
    ) -> None:
        self.backend = backend
        self.encoder = encoder
        self.spool = spool
        self.batch_size = batch_size
        self.retry_attempts = retry_attempts
        self.retry_backoff = retry_backoff
        self.metrics = WriterMetrics()
        self._queue: BatchQueue[MemoryRecord | _Marker] = BatchQueue(queue_size)
        self._spooling = spool.exists() and spool.pending() > 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"orka-memory-writer-{backend.name}", daemon=True)
        self._thread.start()

    # -- caller side -------------------------------------------------------------------------------------------

    def put(self, record: MemoryRecord) -> None:
        """Queue a record; blocks while the queue is full (back-pressure, never loss)."""
        if self._closed:
            raise RuntimeError("this memory logger is closed; create a new one to log again")
        self._queue.put(record)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued before this call is stored (or spooled); False on timeout."""
        if not self._thread.is_alive():
            return not self._queue
        marker = _Marker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Store what is queued, try once more to deliver the spool, and stop the thread."""
        if self._closed:
            return
        self._closed = True
        marker = _Marker(stop=True)
        self._queue.put(marker)
        marker.done.wait(timeout)
        self._thread.join(timeout)
        self.spool.close()

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- writer thread -----------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            items = self._queue.take(self.batch_size, timeout=SPOOL_REPLAY_INTERVAL if self._spooling else None)
            if not items:
                self._replay_spool()
                continue
            batch: list[MemoryRecord] = []
            for item in items:
                if not isinstance(item, _Marker):
                    batch.append(item)
                    continue
                # A flush or stop marker: everything queued before it is stored first, so flush order is exact.
                if batch:
                    self._store(batch)
                    batch = []
                if item.stop:
                    self._replay_spool()
                item.done.set()
                if item.stop:
                    return
            if batch:
                self._store(batch)

    def _store(self, batch: list[MemoryRecord]) -> None:
        try:
            records, blobs, logical_bytes = self.encoder.encode_batch(batch)
        except Exception as error:  # an encoder bug must not kill the thread; spooling raw is impossible, so say so
            log.exception("orka-memory could not encode %d records: %s", len(batch), error)
            self.metrics.last_error = f"encode: {error}"
            return
        self.metrics.logical_bytes += logical_bytes
        self.metrics.encoded_bytes += sum(r.raw_size for r in records) + sum(b.raw_size for b in blobs)
        self.metrics.stored_bytes += sum(len(r.body) for r in records) + sum(len(b.body) for b in blobs)
        if self._spooling:
            self._push_to_spool(records, blobs)
            self._replay_spool()
            return
        if self._append_with_retry(records, blobs):
            return
        self._spooling = True
        self._push_to_spool(records, blobs)

    def _append_with_retry(self, records: list[EncodedRecord], blobs: list[Blob]) -> bool:
        delay = self.retry_backoff
        for attempt in range(1, self.retry_attempts + 1):
            started = time.perf_counter()
            try:
                self.backend.append(records, blobs)
            except Exception as error:  # storage trouble of any kind: retry, then spool
                self.metrics.last_error = f"{type(error).__name__}: {error}"
                if attempt == self.retry_attempts:
                    log.warning(
                        "orka-memory backend %s failed %d times (%s); spooling %d records to %s",
                        self.backend.name,
                        attempt,
                        self.metrics.last_error,
                        len(records),
                        self.spool.path,
                    )
                    return False
                self.metrics.retries += 1
                time.sleep(delay)
                delay *= 2
                continue
            self.metrics.write_seconds += time.perf_counter() - started
            self.metrics.records_written += len(records)
            self.metrics.batches_written += 1
            self.metrics.blobs_written += len(blobs)
            self.encoder.mark_stored(blobs)
            return True
        return False

    def _push_to_spool(self, records: list[EncodedRecord], blobs: list[Blob]) -> None:
        while True:
            try:
                self.spool.push(records, blobs)
            except Exception:
                # The local disk failed too: keep the batch in memory and try again; the queue fills and log()
                # blocks meanwhile, which is back-pressure rather than loss.
                log.exception("orka-memory cannot write its spool %s; retrying", self.spool.path)
                time.sleep(SPOOL_REPLAY_INTERVAL)
                continue
            self.metrics.records_spooled += len(records)
            return

    def _replay_spool(self) -> None:
        """Deliver spooled records in order; stop at the first failure and stay in spool mode."""
        if not self._spooling:
            return
        while True:
            records, blobs, last_seq = self.spool.peek(self.batch_size)
            if not records:
                self._spooling = False
                log.warning("orka-memory backend %s is back; the spool is delivered", self.backend.name)
                return
            try:
                self.backend.append(records, blobs)
            except Exception as error:
                self.metrics.last_error = f"{type(error).__name__}: {error}"
                return
            self.spool.drop(last_seq)
            self.encoder.mark_stored(blobs)
            self.metrics.records_replayed += len(records)
            self.metrics.records_written += len(records)
