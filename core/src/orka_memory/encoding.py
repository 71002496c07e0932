"""Records to bytes and back: dedup, JSON encoding (orjson), compression with the codec recorded beside the data."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

import orjson

from orka_memory.backend import Blob, EncodedRecord, Store
from orka_memory.blobs import extract_blobs, resolve_references
from orka_memory.codecs import Codec, CodecRegistry
from orka_memory.embedders import Embedder
from orka_memory.record import MemoryRecord
from orka_memory.vectors import normalize, pack

log = logging.getLogger("orka_memory")

# The record fields that may hold large repeated sub-objects.
DEDUP_FIELDS = ("payload", "previous_outputs")


class RecordEncoder:
    """Turns records into ``EncodedRecord`` + ``Blob`` batches for a backend, and decodes what a backend returns.

    Remembers which blobs this process has already stored (a bounded LRU of hash -> expiry), so a repeated output
    costs one hash and no bytes on the wire; the backend's own idempotent upsert keeps this correct across processes.
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

    def encode_batch(self, records: Sequence[MemoryRecord]) -> tuple[list[EncodedRecord], list[Blob], int]:
        """Encode a batch; also returns its logical size (the JSON of every record before dedup)."""
        encoded: list[EncodedRecord] = []
        blobs: dict[str, Blob] = {}
        logical_bytes = 0
        vectors = self._vectors(records) if self.embedder is not None else {}
        for record in records:
            found: dict[str, bytes] = {}
            item = self.encode(record, found, vectors.get(record.id))
            encoded.append(item)
            logical_bytes += len(orjson.dumps(record.to_document())) if found else item.raw_size
            for digest, canonical in found.items():
                if not self._needs_store(digest, record.expires_at):
                    continue
                earlier = blobs.get(digest)
                if earlier is None:
                    blobs[digest] = self._blob(digest, canonical, record.expires_at)
                else:  # seen earlier in this batch: compressed once, its expiry extended
                    blobs[digest] = replace(earlier, expires_at=_later(earlier.expires_at, record.expires_at))
        return encoded, list(blobs.values()), logical_bytes

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

    def encode(self, record: MemoryRecord, found_blobs: dict[str, bytes], vector: bytes | None = None) -> EncodedRecord:
        document = record.to_document()
        if self.dedup:
            for name in DEDUP_FIELDS:
                if name in document:
                    document[name] = extract_blobs(document[name], self.blob_threshold, found_blobs)
        raw = orjson.dumps(document)
        codec_name, body = self.codecs.encode(raw, codec=self.codec, threshold=self.compress_threshold)
        return EncodedRecord(
            id=record.id,
            created_at=record.created_at,
            log_type=record.log_type,
            agent_id=record.agent_id,
            event_type=record.event_type,
            run_id=record.run_id,
            memory_type=record.memory_type,
            category=record.category,
            importance=record.importance,
            namespace=record.namespace,
            session=record.session,
            expires_at=record.expires_at,
            text=record.content if record.log_type == "memory" else None,
            codec=codec_name,
            body=body,
            raw_size=len(raw),
            vector=vector,
        )

    def _blob(self, digest: str, canonical: bytes, expires_at: int | None) -> Blob:
        codec_name, body = self.codecs.encode(canonical, codec=self.codec, threshold=self.compress_threshold)
        return Blob(hash=digest, codec=codec_name, body=body, raw_size=len(canonical), expires_at=expires_at)

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
        """Decode a batch of records, resolving blob references with one ``get_blobs`` call per nesting level."""
        documents = [self.decode_document(item) for item in encoded]
        if resolve and self.dedup_may_apply(documents):
            documents = resolve_references(documents, lambda hashes: self.fetch_blobs(store, hashes))
        return [MemoryRecord.from_document(document) for document in documents]

    def fetch_blobs(self, store: Store, hashes: Collection[str]) -> dict[str, Any]:
        return {digest: self.decode_blob(blob) for digest, blob in store.get_blobs(hashes).items()}

    @staticmethod
    def dedup_may_apply(documents: list[dict[str, Any]]) -> bool:
        """Cheap pre-check: only documents with a dedup field can hold references."""
        return any(name in document for document in documents for name in DEDUP_FIELDS)


def _later(first: int | None, second: int | None) -> int | None:
    if first is None or second is None:
        return None
    return max(first, second)
