"""Records to bytes and back: dedup, JSON encoding (orjson), compression with the codec recorded beside the data."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from orka_memory.backend import Blob, EncodedRecord, Store
from orka_memory.blobs import BLOB_REFERENCE_MARK, extract_blobs, resolve_references
from orka_memory.codecs import Codec, CodecRegistry
from orka_memory.embedders import Embedder
from orka_memory.record import MemoryRecord
from orka_memory.vectors import normalize, pack

log = logging.getLogger("orka_memory")

# The record fields that may hold large repeated sub-objects.
DEDUP_FIELDS = ("payload", "previous_outputs")


# A blob found in a batch, not yet encoded: its canonical JSON and the latest expiry of the records carrying it.
PendingBlob = tuple[bytes, int | None]


@dataclass(slots=True)
class EncodedBatch:
    """A batch ready for ``Store.append``, with what the writer needs beside it."""

    records: list[EncodedRecord]
    blobs: list[Blob]  # the blobs to send: new to this process, or to be kept longer than it stored them for
    logical_bytes: int  # the JSON of every record as logged, before dedup
    # Blobs the records refer to that this process stored before and does not send again. Kept with the batch, so
    # that they can be sent after all when the engine turns out to have lost them (``Writer``).
    reused: dict[str, PendingBlob]


class RecordEncoder:
    """Turns records into ``EncodedRecord`` + ``Blob`` batches for a backend, and decodes what a backend returns.

    Remembers which blobs this process has already stored (a bounded LRU of hash -> expiry), so a repeated output
    costs one hash and no bytes on the wire; the backend's own idempotent upsert keeps this correct across processes,
    and the writer checks that the engine still holds a blob before a batch refers to it without sending it.
    """

    def __init__(
        self,
        codecs: CodecRegistry,
        *,
        codec: str,
        compress_threshold: int,
        dedup: bool,
        blob_threshold: int,
        known_blobs_limit: int = 100_000,
        embedder: Embedder | None = None,
    ) -> None:
        self.codecs = codecs
        self.embedder = embedder
        self.codec: Codec = codecs.get(codec)
        self.compress_threshold = compress_threshold
        self.dedup = dedup
        self.blob_threshold = blob_threshold
        self._known_blobs: OrderedDict[str, int | None] = OrderedDict()
        self._known_limit = known_blobs_limit
        self._lock = threading.Lock()

    # -- write path --------------------------------------------------------------------------------------------

    def encode_batch(self, records: Sequence[MemoryRecord]) -> EncodedBatch:
        """Encode a batch for ``Store.append``.

        Compression runs once for the whole batch (``CodecRegistry.encode_many``): records first, then the new
        blobs, each blob once however many records of the batch carry it, with the latest of their expiries.
        """
        vectors = self._vectors(records) if self.embedder is not None else {}
        raws: list[bytes] = []
        new_blobs: dict[str, PendingBlob] = {}
        reused: dict[str, PendingBlob] = {}
        logical_bytes = 0
        for record in records:
            found: dict[str, bytes] = {}
            raw = orjson.dumps(self.document(record, found))
            raws.append(raw)
            logical_bytes += len(orjson.dumps(record.to_document())) if found else len(raw)
            for digest, canonical in found.items():
                pending = new_blobs if self._needs_store(digest, record.expires_at) else reused
                earlier = pending.get(digest)
                expires_at = record.expires_at if earlier is None else _later(earlier[1], record.expires_at)
                pending[digest] = (canonical, expires_at)
        bodies = self.codecs.encode_many(raws, codec=self.codec, threshold=self.compress_threshold)
        encoded = [
            self._encoded(record, raw, codec_name, body, vectors.get(record.id))
            for record, raw, (codec_name, body) in zip(records, raws, bodies, strict=True)
        ]
        for digest in new_blobs.keys() & reused.keys():  # sent anyway, with the later expiry of both
            canonical, expires_at = reused.pop(digest)
            new_blobs[digest] = (canonical, _later(new_blobs[digest][1], expires_at))
        return EncodedBatch(encoded, self.blobs_of(new_blobs), logical_bytes, reused)

    def blobs_of(self, pending: Mapping[str, PendingBlob]) -> list[Blob]:
        """``Blob``s of found sub-objects (hash -> canonical JSON and expiry), compressed in one call."""
        canonicals = [canonical for canonical, _ in pending.values()]
        bodies = self.codecs.encode_many(canonicals, codec=self.codec, threshold=self.compress_threshold)
        return [
            Blob(hash=digest, codec=codec_name, body=body, raw_size=len(canonical), expires_at=expires_at)
            for (digest, (canonical, expires_at)), (codec_name, body) in zip(pending.items(), bodies, strict=True)
        ]

    def _vectors(self, records: Sequence[MemoryRecord]) -> dict[str, bytes]:
        """Packed vectors of the stored memories in a batch: the caller's own, else the embedder's, in one call.

        A memory whose vector cannot be made is stored without one (text search still finds it): an embedder
        failure must never lose the record.
        """
        assert self.embedder is not None
        dimension = self.embedder.dimension
        memories = [record for record in records if record.log_type == "memory" and record.content is not None]
        vectors: dict[str, bytes] = {}
        to_embed = []
        for record in memories:
            if record.vector is None:
                to_embed.append(record)
            else:  # the caller's vector, checked and normalized by log_memory already
                vectors[record.id] = pack(record.vector)
        if to_embed:
            try:
                embedded = self.embedder.embed([record.content or "" for record in to_embed])
                for record, vector in zip(to_embed, embedded, strict=True):
                    vectors[record.id] = pack(normalize(vector, dimension))
            except Exception as error:  # the embedder is a plugin: its failure must not cost the records
                log.warning(
                    "orka-memory embedder %r failed; %d memories stored without vectors: %s",
                    self.embedder.name,
                    len(to_embed),
                    error,
                )
        return vectors

    def document(self, record: MemoryRecord, found_blobs: dict[str, bytes]) -> dict[str, Any]:
        """The record's document with its shared sub-objects replaced by references (added to ``found_blobs``)."""
        document = record.to_document()
        if self.dedup:
            for name in DEDUP_FIELDS:
                if name in document:
                    document[name] = extract_blobs(document[name], self.blob_threshold, found_blobs)
        return document

    @staticmethod
    def _encoded(record: MemoryRecord, raw: bytes, codec_name: str, body: bytes, vector: bytes | None) -> EncodedRecord:
        # Positional, in field order: with 17 keyword arguments the call costs three times as much.
        return EncodedRecord(
            record.id,
            record.created_at,
            record.log_type,
            record.agent_id,
            record.event_type,
            record.run_id,
            record.memory_type,
            record.category,
            record.importance,
            record.namespace,
            record.session,
            record.expires_at,
            record.content if record.log_type == "memory" else None,
            codec_name,
            body,
            len(raw),
            vector,
        )

    def _needs_store(self, digest: str, expires_at: int | None) -> bool:
        with self._lock:
            if digest not in self._known_blobs:
                return True
            known = self._known_blobs[digest]
            return known is not None and (expires_at is None or expires_at > known)

    def mark_stored(self, blobs: Sequence[Blob]) -> None:
        """Remember blobs the backend has acknowledged, so they are not sent again."""
        with self._lock:
            for blob in blobs:
                self._known_blobs[blob.hash] = blob.expires_at
                self._known_blobs.move_to_end(blob.hash)
            while len(self._known_blobs) > self._known_limit:
                self._known_blobs.popitem(last=False)

    def forget_blobs(self) -> None:
        """Forget what was stored (after the backend's data was cleared or cleaned up)."""
        with self._lock:
            self._known_blobs.clear()

    # -- read path ---------------------------------------------------------------------------------------------

    def decode_document(self, encoded: EncodedRecord) -> dict[str, Any]:
        document: dict[str, Any] = orjson.loads(self.codecs.decode(encoded.codec, encoded.body))
        return document

    def decode_blob(self, blob: Blob) -> Any:
        return orjson.loads(self.codecs.decode(blob.codec, blob.body))

    def decode(self, encoded: Sequence[EncodedRecord], store: Store, *, resolve: bool = True) -> list[MemoryRecord]:
        """Decode a batch of records, resolving blob references (see ``decode_documents``)."""
        return [MemoryRecord.from_document(document) for document in self.decode_documents(encoded, store, resolve)]

    def decode_documents(
        self, encoded: Sequence[EncodedRecord], store: Store, resolve: bool = True
    ) -> list[dict[str, Any]]:
        """The documents of a batch of records, blob references resolved with one ``get_blobs`` call per nesting
        level. Only documents whose JSON mentions a reference are searched for them: walking every payload in
        Python cost more than decompressing it, and most records of a read hold none."""
        documents: list[dict[str, Any]] = []
        referring: list[int] = []  # positions of the documents that may hold references
        for item in encoded:
            raw = self.codecs.decode(item.codec, item.body)
            if BLOB_REFERENCE_MARK in raw:
                referring.append(len(documents))
            documents.append(orjson.loads(raw))
        if resolve and referring:
            resolved = resolve_references(
                [documents[at] for at in referring], lambda hashes: self.fetch_blobs(store, hashes)
            )
            for at, document in zip(referring, resolved, strict=True):
                documents[at] = document
        return documents

    def fetch_blobs(self, store: Store, hashes: Collection[str]) -> dict[str, Any]:
        return {digest: self.decode_blob(blob) for digest, blob in store.get_blobs(hashes).items()}


def _later(first: int | None, second: int | None) -> int | None:
    if first is None or second is None:
        return None
    return max(first, second)
