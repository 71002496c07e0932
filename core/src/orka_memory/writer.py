"""The background writer: takes records off a bounded queue and stores them in batches.

``log()`` only builds a record and puts it on the queue, so the orchestrator's hot path never waits for storage.
Two threads do the rest, as a two-stage pipeline: the *encoder* drains up to ``batch_size`` records at a time and
encodes them (dedup, JSON, compression, vectors); the *storer* hands each encoded batch to the backend in one call
(a SQLite transaction, a Redis pipeline, a producer batch). While the storer waits for the engine (an fsync, a
reply, acknowledgements, all without the GIL), the encoder prepares the next batch: the two costs overlap instead
of adding up. At most ``PIPELINE_DEPTH`` encoded batches wait between the stages, so memory stays bounded and a slow
backend still pushes back on ``log()`` through the queue.

Storage trouble never reaches the workflow: a failing batch is retried with exponential backoff, then spooled to
local disk and replayed, in order, when the backend answers again. While the spool holds records, new batches go
behind them, so a run's events keep their order.

A record never refers to a blob the engine does not hold. The encoder does not send again a blob this process has
stored; but an engine can lose data and keep running (a Redis restarted without persistence, or from an older
snapshot; a Kafka broker that came back empty). So before a batch that refers to such blobs is stored, the storer
asks the engine which of them it still holds (``backend.held_blobs``) and sends the others with the batch. A spooled
batch carries every blob it refers to, since the engine it is replayed to may have lost any of them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from orka_memory.backend import Backend, Blob, EncodedRecord, held_blobs
from orka_memory.batchqueue import BatchQueue
from orka_memory.encoding import EncodedBatch, RecordEncoder
from orka_memory.record import MemoryRecord
from orka_memory.spool import Spool

log = logging.getLogger("orka_memory.writer")

SPOOL_REPLAY_INTERVAL = 1.0  # seconds between attempts to deliver spooled records
PIPELINE_DEPTH = 1  # encoded batches waiting for the storer, beyond the one it is storing


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
    blobs_resent: int = 0  # blobs stored before that the engine had lost when a batch referred to them
    logical_bytes: int = 0  # JSON of every record as logged, before dedup
    encoded_bytes: int = 0  # JSON after dedup, before compression (blobs included)
    stored_bytes: int = 0  # after compression (blobs included)
    write_seconds: float = 0.0
    last_error: str | None = None


class Writer:
    """Owns the queue and the two threads (encoder, storer) of one logger."""

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
        self._encoded: queue.Queue[EncodedBatch | _Marker] = queue.Queue(PIPELINE_DEPTH)
        self._spooling = spool.exists() and spool.pending() > 0
        self._closed = False
        self._encoder = threading.Thread(
            target=self._encode_loop, name=f"orka-memory-encoder-{backend.name}", daemon=True
        )
        self._storer = threading.Thread(target=self._store_loop, name=f"orka-memory-writer-{backend.name}", daemon=True)
        self._encoder.start()
        self._storer.start()

    # -- caller side -------------------------------------------------------------------------------------------

    def put(self, record: MemoryRecord) -> None:
        """Queue a record; blocks while the queue is full (back-pressure, never loss)."""
        if self._closed:
            raise RuntimeError("this memory logger is closed; create a new one to log again")
        self._queue.put(record)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every record queued before this call is stored (or spooled); False on timeout."""
        if not self._storer.is_alive():
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
        self._encoder.join(timeout)
        self._storer.join(timeout)
        self.spool.close()

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- encoder thread ----------------------------------------------------------------------------------------

    def _encode_loop(self) -> None:
        while True:
            items = self._queue.take(self.batch_size)
            batch: list[MemoryRecord] = []
            for item in items:
                if not isinstance(item, _Marker):
                    batch.append(item)
                    continue
                # A flush or stop marker follows the records queued before it through both stages: flush order
                # is exact.
                if batch:
                    self._encode(batch)
                    batch = []
                self._encoded.put(item)
                if item.stop:
                    return
            if batch:
                self._encode(batch)

    def _encode(self, batch: list[MemoryRecord]) -> None:
        try:
            encoded = self.encoder.encode_batch(batch)
        except Exception as error:  # an encoder bug must not kill the thread; spooling raw is impossible, so say so
            log.exception("orka-memory could not encode %d records: %s", len(batch), error)
            self.metrics.last_error = f"encode: {error}"
            return
        self.metrics.logical_bytes += encoded.logical_bytes
        self._count_sent(encoded.records, encoded.blobs)
        self._encoded.put(encoded)

    def _count_sent(self, records: list[EncodedRecord], blobs: list[Blob]) -> None:
        self.metrics.encoded_bytes += sum(r.raw_size for r in records) + sum(b.raw_size for b in blobs)
        self.metrics.stored_bytes += sum(len(r.body) for r in records) + sum(len(b.body) for b in blobs)

    # -- storer thread -----------------------------------------------------------------------------------------

    def _store_loop(self) -> None:
        while True:
            try:
                item = self._encoded.get(timeout=SPOOL_REPLAY_INTERVAL if self._spooling else None)
            except queue.Empty:
                self._replay_spool()
                continue
            if isinstance(item, EncodedBatch):
                self._store(item)
                continue
            if item.stop:
                self._replay_spool()
            item.done.set()
            if item.stop:
                return

    def _store(self, batch: EncodedBatch) -> None:
        if self._spooling:
            self._push_to_spool(batch)
            self._replay_spool()
            return
        if self._append_with_retry(batch):
            return
        self._spooling = True
        self._push_to_spool(batch)

    def _append_with_retry(self, batch: EncodedBatch) -> bool:
        records = batch.records
        delay = self.retry_backoff
        for attempt in range(1, self.retry_attempts + 1):
            started = time.perf_counter()
            try:
                blobs = batch.blobs + self._lost_blobs(batch)
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
            resent = blobs[len(batch.blobs) :]
            self.metrics.blobs_resent += len(resent)
            self._count_sent([], resent)
            self.encoder.mark_stored(blobs)
            return True
        return False

    def _lost_blobs(self, batch: EncodedBatch) -> list[Blob]:
        """The blobs ``batch`` refers to without sending them that the engine no longer holds, ready to send."""
        if not batch.reused:
            return []
        held = held_blobs(self.backend, batch.reused.keys())
        lost = {digest: pending for digest, pending in batch.reused.items() if digest not in held}
        if not lost:
            return []
        log.warning(
            "orka-memory backend %s no longer holds %d blobs this process stored (did it lose data?); sending them "
            "again with the records that refer to them",
            self.backend.name,
            len(lost),
        )
        return self.encoder.blobs_of(lost)

    def _push_to_spool(self, batch: EncodedBatch) -> None:
        records, blobs = batch.records, batch.blobs + self.encoder.blobs_of(batch.reused)
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
