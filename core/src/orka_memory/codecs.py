"""Byte codecs: how encoded records and blobs are compressed at rest.

A codec is chosen by name in settings and its name is stored beside every record, so data written with one codec
stays readable after the setting changes. Records below the size threshold are stored uncompressed (codec
``none``): compressing a 300-byte event costs more CPU than the bytes it saves.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Codec(Protocol):
    """Compresses and decompresses bytes. Instances must be safe to call from several threads at once."""

    name: str

    def compress(self, data: bytes) -> bytes: ...

    def decompress(self, data: bytes) -> bytes: ...


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

    def encode(self, data: bytes, *, codec: Codec, threshold: int) -> tuple[str, bytes]:
        """Compress ``data`` with ``codec`` when it is at least ``threshold`` bytes and compression pays off."""
        if codec.name == "none" or len(data) < threshold:
            return "none", data
        packed = codec.compress(data)
        if len(packed) >= len(data):
            return "none", data
        return codec.name, packed

    def decode(self, codec_name: str, data: bytes) -> bytes:
        if codec_name == "none":
            return data
        return self.get(codec_name).decompress(data)
