"""Byte codecs: how encoded records and blobs are compressed at rest.

A codec is chosen by name in settings and its name is stored beside every record, so data written with one codec
stays readable after the setting changes. Records below the size threshold are stored uncompressed (codec
``none``): compressing a 300-byte event costs more CPU than the bytes it saves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Codec(Protocol):
    """Compresses and decompresses bytes. Instances must be safe to call from several threads at once."""

    name: str

    def compress(self, data: bytes) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


@runtime_checkable
class BatchCodec(Codec, Protocol):
    """A codec that can also compress a whole batch in one call; the writer prefers it when a codec offers it.

    Why it matters: a C compressor releases the GIL while it works, and a thread that released the GIL may wait up
    to the interpreter's switch interval (5 ms) to take it back while another thread runs Python (a caller logging
    in a loop). Once per record that wait dominates everything; once per batch it is noise.
    """

    def compress_many(self, items: Sequence[bytes]) -> list[bytes]:
        """``[compress(item) for item in items]``, in one call."""
        ...


class UnknownCodecError(LookupError):
    """Data names a codec that no installed plugin provides."""


class CodecRegistry:
    """The codecs plugins registered, and the one rule for choosing when to compress."""

    def __init__(self, codecs: dict[str, Codec]) -> None:
        self._codecs = codecs

    def names(self) -> list[str]:
        return sorted(self._codecs)

    def get(self, name: str) -> Codec:
        try:
            return self._codecs[name]
        except KeyError:
            raise UnknownCodecError(
                f"codec {name!r} is not installed (installed: {', '.join(self.names())}); "
                "install the plugin that provides it to read this data"
            ) from None

    def encode_many(self, items: Sequence[bytes], *, codec: Codec, threshold: int) -> list[tuple[str, bytes]]:
        """(codec name, bytes) per item, in order: an item is compressed with ``codec`` when it is at least
        ``threshold`` bytes and compression pays off. Every item that qualifies goes into one ``compress_many``
        call where the codec has one."""
        out = [("none", data) for data in items]
        if codec.name == "none":
            return out
        chosen = [index for index, data in enumerate(items) if len(data) >= threshold]
        if not chosen:
            return out
        inputs = [items[index] for index in chosen]
        packed = codec.compress_many(inputs) if isinstance(codec, BatchCodec) else [codec.compress(d) for d in inputs]
        for index, data, body in zip(chosen, inputs, packed, strict=True):
            if len(body) < len(data):
                out[index] = (codec.name, body)
        return out

    def decode(self, codec_name: str, data: bytes) -> bytes:
        if codec_name == "none":
            return data
        return self.get(codec_name).decompress(data)
