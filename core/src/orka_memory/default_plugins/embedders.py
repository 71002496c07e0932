"""The built-in ``hashing`` embedder: lexical similarity with no model and no download.

Feature hashing of what a text is made of: its words, its word pairs and the character trigrams of its words, each
counted (log-scaled) into one of ``dimension`` buckets with a sign from the same hash, so unrelated features cancel
out on average instead of piling up. Texts sharing words, word order or word stems (``dedup`` in
``deduplication``) point in similar directions; texts about the same thing in different words do not. It is
deterministic (CRC-32, not Python's salted ``hash``), fast (pure Python, a few hundred features per sentence), and
the same everywhere, so it is the default and what the tests use. For search by meaning install a model-based
embedder plugin and set ``embedder`` to its name.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import ClassVar

from orka_memory.embedders import Embedder
from orka_memory.hookspecs import hookimpl

_WORD = re.compile(r"\w+")
# Words too common to say what a text is about; they still shape the word pairs around them.
_STOPWORD_TEXT = "a an and are as at be by for from has have in is it its of on or that the this to was were will with"
STOPWORDS = frozenset(_STOPWORD_TEXT.split(" "))
WORD_WEIGHT, PAIR_WEIGHT, TRIGRAM_WEIGHT = 1.0, 0.5, 0.35


class HashingEmbedder:
    """Hashed words, word pairs and character trigrams (see the module docstring)."""

    name: ClassVar[str] = "hashing"
    identity = "hashing"

    def __init__(self, dimension: int = 256) -> None:
        if dimension < 16:
            raise ValueError(f"dimension must be at least 16, got {dimension}")
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for feature, weight in _features(text):
            digest = zlib.crc32(feature.encode("utf-8"))
            vector[digest % self.dimension] += weight if digest & 0x80000000 else -weight
        if not any(vector):
            vector[0] = 1.0  # a text without words still gets a valid (unit) vector
        return vector


def _features(text: str) -> Iterator[tuple[str, float]]:
    words = [word.lower() for word in _WORD.findall(text)]
    counts: Counter[str] = Counter()
    weights: dict[str, float] = {}
    for word in words:
        if word not in STOPWORDS:
            _add(counts, weights, "w:" + word, WORD_WEIGHT)
            padded = f"<{word}>"
            for start in range(len(padded) - 2):
                _add(counts, weights, "c:" + padded[start : start + 3], TRIGRAM_WEIGHT)
    for first, second in itertools.pairwise(words):
        _add(counts, weights, f"p:{first} {second}", PAIR_WEIGHT)
    for feature, count in counts.items():
        yield feature, weights[feature] * (1.0 + math.log(count))


def _add(counts: Counter[str], weights: dict[str, float], feature: str, weight: float) -> None:
    counts[feature] += 1
    weights[feature] = weight


@hookimpl
def orka_memory_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    register(HashingEmbedder)
