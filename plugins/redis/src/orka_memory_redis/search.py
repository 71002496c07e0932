"""The words of stored memories' text, for the inverted index (``lua/search.lua``): folded the same way when a
memory is written and when a query is searched, so they meet."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_WORD = re.compile(r"\w+")
# Longer "words" are hashes, base64 or URLs rather than language; each would cost a key of its own.
MAX_WORD_CHARS = 64


def words(text: str) -> list[str]:
    """Runs of letters and digits, case-folded, accents removed (like the file backend's FTS5 ``unicode61
    remove_diacritics`` tokenizer): ``Café`` and ``cafe`` are one word."""
    plain = text.casefold()
    if not plain.isascii():  # ASCII has no accents: skipping NFKD there saves about 15 µs per memory written
        plain = "".join(char for char in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(char))
    return [word for word in _WORD.findall(plain) if len(word) <= MAX_WORD_CHARS]


def frequencies(text: str) -> dict[str, int]:
    """Each distinct word with the number of times it occurs: its posting score in the index."""
    return dict(Counter(words(text)))


def query_words(text: str) -> list[str]:
    """The distinct words of a query, in order."""
    return list(dict.fromkeys(words(text)))


def relevance(bm25: float) -> float:
    """Map a BM25 score (>= 0, higher is better) onto [0, 1): ``s / (1 + s)``, as the file backend does, so
    relevance reads the same on both and keeps BM25's order."""
    strength = max(bm25, 0.0)
    return strength / (1.0 + strength)
