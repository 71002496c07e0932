"""Codecs: the one rule for when to compress, applied alike to one item and to a batch, with or without a batch
codec."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from orka_memory.codecs import BatchCodec, CodecRegistry
from orka_memory.default_plugins.codecs import NoneCodec, ZstdCodec

TEXT = b'{"response": "' + b"the same words again and again " * 40 + b'"}'
ITEMS = [TEXT, b"", b"tiny", TEXT + b" ", bytes(range(256)) * 4]


class DeflateCodec:
    """A codec with ``compress`` only (no batch call), as a third-party plugin may register it."""

    name = "deflate"
    calls = 0

    def compress(self, data: bytes) -> bytes:
        DeflateCodec.calls += 1
        return zlib.compress(data)

    def decompress(self, data: bytes) -> bytes:
        return zlib.decompress(data)


class CountingZstd(ZstdCodec):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def compress_many(self, items: Sequence[bytes]) -> list[bytes]:
        self.batches.append(len(items))
        return super().compress_many(items)


def registry(*codecs: object) -> CodecRegistry:
    return CodecRegistry({codec.name: codec for codec in (NoneCodec(), *codecs)})  # type: ignore[attr-defined]


def test_a_batch_is_compressed_in_one_call_and_reads_back() -> None:
    zstd = CountingZstd()
    codecs = registry(zstd)
    assert isinstance(zstd, BatchCodec) and not isinstance(DeflateCodec(), BatchCodec)
    encoded = codecs.encode_many(ITEMS, codec=zstd, threshold=16)
    assert zstd.batches == [3]  # the items of 16 bytes or more, together
    assert [name for name, _ in encoded] == ["zstd", "none", "none", "zstd", "zstd"]
    assert [codecs.decode(name, body) for name, body in encoded] == ITEMS


def test_one_item_and_a_batch_follow_the_same_rule() -> None:
    for codec in (ZstdCodec(), DeflateCodec()):
        codecs = registry(codec)
        one_by_one = [codecs.encode_many([item], codec=codec, threshold=16)[0] for item in ITEMS]
        assert codecs.encode_many(ITEMS, codec=codec, threshold=16) == one_by_one


def test_a_codec_without_a_batch_call_compresses_item_by_item() -> None:
    codec = DeflateCodec()
    DeflateCodec.calls = 0
    encoded = registry(codec).encode_many(ITEMS, codec=codec, threshold=16)
    assert DeflateCodec.calls == 3
    assert encoded[0][0] == "deflate" and zlib.decompress(encoded[0][1]) == TEXT


def test_compression_that_does_not_pay_keeps_the_bytes_raw() -> None:
    noise = bytes(range(256))  # incompressible: zstd's frame would be larger
    [(name, body)] = registry(ZstdCodec()).encode_many([noise], codec=ZstdCodec(), threshold=0)
    assert (name, body) == ("none", noise)


def test_an_empty_item_in_a_batch_is_stored_raw() -> None:
    """zstd's batch call refuses empty inputs; the codec then compresses item by item."""
    codec = ZstdCodec()
    encoded = registry(codec).encode_many([TEXT, b""], codec=codec, threshold=0)
    assert [name for name, _ in encoded] == ["zstd", "none"] and encoded[1][1] == b""
