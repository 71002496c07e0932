"""The RediSearch index over stored memories: which hash fields it reads, how it is created, and how an existing
index is compared with the one a logger needs.

It indexes the redis backend's own memory hashes (``{P}:memory:<id>``, one per stored memory, with a native TTL)
rather than a second copy under OrKa's ``orka_memory:`` prefix: one write per memory, one expiry, one delete. The
hashes gain four fields the index reads (``RedisStackBackend._memory_args``): ``content`` (the text, folded as the
redis backend folds it), ``content_vector`` (float32 little-endian, unit length), ``log_type``, and ``expiry``
(``expires_at`` as a number: the redis layout stores an empty string for "never", which a NUMERIC field refuses,
so ``expiry`` holds ``inf`` instead).

Tag fields are CASESENSITIVE (a filter matches exactly, as on the other backends) and INDEXEMPTY (an empty value
can be matched too), with a separator no filter value contains in practice (US, 0x1f) instead of the default comma,
which would split ``"a,b"`` into two tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orka_memory.backend import BackendError
from orka_memory_redis.backend import FILTER_FIELDS

from orka_memory_redisstack.settings import VectorParams

TEXT_FIELD = "content"
VECTOR_FIELD = "content_vector"
EXPIRY_FIELD = "expiry"  # hash field, indexed as the attribute ``expires_at``
EXPIRY_ATTRIBUTE = "expires_at"
IMPORTANCE_FIELD = "importance"
TAG_FIELDS = (*FILTER_FIELDS, "log_type")  # each named as the MemoryFilter field it serves
TAG_SEPARATOR = "\x1f"
TAG_FLAGS = ("CASESENSITIVE", "INDEXEMPTY")
NEVER = "inf"  # ``expiry`` of a memory that never expires

# One attribute of an index, as compared and shown: type, hash field, then the type's options.
Attribute = tuple[str, ...]


class IndexSchemaMismatch(BackendError, ValueError):
    """An index of the configured name exists with another schema (an older version's, another dimension, other
    HNSW parameters, another key prefix). The message lists the differences and the two ways out."""


@dataclass(frozen=True, slots=True)
class IndexSchema:
    """The index one logger needs: its name, the memory-hash prefix it covers, the vector dimension and algorithm."""

    name: str
    prefix: str
    dimension: int
    hnsw: bool
    params: VectorParams

    def create_command(self) -> list[Any]:
        """``FT.CREATE`` with this schema. STOPWORDS 0: every word counts, as in the other backends' text search."""
        schema: list[Any] = [TEXT_FIELD, "TEXT"]
        for field in TAG_FIELDS:
            schema += [field, "TAG", "SEPARATOR", TAG_SEPARATOR, *TAG_FLAGS]
        schema += [IMPORTANCE_FIELD, "NUMERIC", EXPIRY_FIELD, "AS", EXPIRY_ATTRIBUTE, "NUMERIC"]
        vector = ["TYPE", "FLOAT32", "DIM", self.dimension, "DISTANCE_METRIC", "COSINE"]
        if self.hnsw:
            vector += ["M", self.params.m, "EF_CONSTRUCTION", self.params.ef_construction]
            vector += ["EF_RUNTIME", self.params.ef_runtime]
        schema += [VECTOR_FIELD, "VECTOR", "HNSW" if self.hnsw else "FLAT", len(vector), *vector]
        return ["FT.CREATE", self.name, "ON", "HASH", "PREFIX", 1, self.prefix, "STOPWORDS", 0, "SCHEMA", *schema]

    def expected(self) -> dict[str, Attribute]:
        """What ``FT.INFO`` of this index reports, in the form ``described`` reads it into."""
        attributes: dict[str, Attribute] = {TEXT_FIELD: ("TEXT", TEXT_FIELD)}
        for field in TAG_FIELDS:
            attributes[field] = ("TAG", field, *TAG_FLAGS, _separator(TAG_SEPARATOR))
        attributes[IMPORTANCE_FIELD] = ("NUMERIC", IMPORTANCE_FIELD)
        attributes[EXPIRY_ATTRIBUTE] = ("NUMERIC", EXPIRY_FIELD)
        vector = ["VECTOR", VECTOR_FIELD, "HNSW" if self.hnsw else "FLAT", "FLOAT32", f"DIM {self.dimension}", "COSINE"]
        if self.hnsw:
            vector += [f"M {self.params.m}", f"EF_CONSTRUCTION {self.params.ef_construction}"]
        attributes[VECTOR_FIELD] = tuple(vector)
        return {"key type and prefix": ("HASH", self.prefix), **attributes}

    def differences(self, info: Mapping[bytes, Any]) -> list[str]:
        """How the index ``info`` (an ``FT.INFO`` reply) differs from this schema, one line per attribute."""
        found, wanted = described(info), self.expected()
        return [
            f"{name}: {_show(found.get(name))} (needed: {_show(wanted.get(name))})"
            for name in sorted(set(found) | set(wanted))
            if found.get(name) != wanted.get(name)
        ]


def described(info: Mapping[bytes, Any]) -> dict[str, Attribute]:
    """An ``FT.INFO`` reply (RESP3: a map, as the backend's client speaks) as comparable attributes."""
    definition = info[b"index_definition"]
    out: dict[str, Attribute] = {
        "key type and prefix": (_text(definition[b"key_type"]), *map(_text, definition[b"prefixes"]))
    }
    for attribute in info[b"attributes"]:
        kind = _text(attribute[b"type"])
        item = [kind, _text(attribute[b"identifier"]), *sorted(map(_text, attribute[b"flags"]))]
        if kind == "TAG":
            item.append(_separator(_text(attribute[b"SEPARATOR"])))
        elif kind == "VECTOR":
            item += [_text(attribute[b"algorithm"]), _text(attribute[b"data_type"]), f"DIM {attribute[b'dim']}"]
            item.append(_text(attribute[b"distance_metric"]))
            if b"M" in attribute:
                item += [f"M {attribute[b'M']}", f"EF_CONSTRUCTION {attribute[b'ef_construction']}"]
        out[_text(attribute[b"attribute"])] = tuple(item)
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _separator(separator: str) -> str:
    return f"SEPARATOR {separator!r}"


def _show(attribute: Attribute | None) -> str:
    return "missing" if attribute is None else " ".join(attribute)
