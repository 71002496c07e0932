"""How embeddings are stored and compared, the same for every backend.

A vector is stored as unit-length float32 values, little-endian (``pack``): the layout RediSearch's FLOAT32 vector
fields and numpy's ``frombuffer`` read directly. Because stored and query vectors have unit length, their dot
product is their cosine; ``similarity`` maps it onto [0, 1] as ``max(cos, 0)``: 1 for the same direction (the same
text), 0 for unrelated or opposed texts. A backend whose engine reports cosine *distance* (``1 - cos``) converts
with ``similarity_from_distance``.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Sequence


class VectorError(ValueError):
    """A vector that cannot be stored or searched with: wrong dimension, zero length, or not numbers."""


def normalize(vector: Sequence[float], dimension: int) -> list[float]:
    """``vector`` scaled to unit length; raises ``VectorError`` unless it has ``dimension`` finite values, not all 0."""
    if len(vector) != dimension:
        raise VectorError(f"vector has {len(vector)} values; the embedder in use produces {dimension}")
    try:
        values = [float(value) for value in vector]
    except (TypeError, ValueError) as error:
        raise VectorError(f"vector values must be numbers: {error}") from None
    norm = math.hypot(*values)  # in C, as accurate as fsum: a generator over the values cost 20 µs of 256
    if not math.isfinite(norm) or norm == 0.0:
        raise VectorError("vector must have finite values, not all zero")
    return [value / norm for value in values]


def pack(vector: Sequence[float]) -> bytes:
    """float32 little-endian bytes (call ``normalize`` first)."""
    packed = array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes) -> list[float]:
    values = array("f")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def similarity(cosine: float) -> float:
    """A cosine in [-1, 1] as a similarity in [0, 1]."""
    return min(max(cosine, 0.0), 1.0)


def similarity_from_distance(cosine_distance: float) -> float:
    return similarity(1.0 - cosine_distance)
