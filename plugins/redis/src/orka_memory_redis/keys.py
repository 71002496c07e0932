"""Every Redis key name the backend uses, built in one place (the Lua scripts receive them from here).

Two kinds of keys, each kind sharing a Redis Cluster hash tag (``{...}``: the part Redis hashes to pick a slot):

- The log's global keys carry the tag ``{<prefix>}``: the event streams, the id index, stored memories and their
  indexes, blobs, counters. Everything a write or a read must see atomically is in this one slot, so each Lua
  script touches one slot and runs on one node, on a single server and on a cluster alike.
- The keys of one run carry the tag ``{<run id>}``: its event index and its memory index. A run's keys stay
  together, and different runs spread over the cluster's nodes.

The key-value API (fork/join keys such as ``fork_group:<gid>``) uses the caller's names unchanged: OrKa's fork
managers read and write those same keys through ``RedisMemoryLogger.redis``.
"""

from __future__ import annotations

from orka_memory.backend import EncodedRecord

NEVER = "keep"  # the lifetime of records without an expiry


def lifetime(record: EncodedRecord) -> str:
    """How long a record lives after it is written, in milliseconds (``keep``: forever).

    Events of one memory type and one lifetime share a stream, so in each stream write order is expiry order and
    ``XTRIM MINID`` (now - lifetime) removes exactly the expired prefix.
    """
    if record.expires_at is None:
        return NEVER
    return str(max(record.expires_at - record.created_at, 0))


class Keys:
    """The key names under one prefix (the ``stream_key`` setting, ``orka:memory`` by default)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        tag = f"{{{prefix}}}:"
        self._global = tag
        # Fixed keys of the global slot, in the order the scripts read them from KEYS (lua/common.lua).
        self.ids = tag + "ids"  # hash: event record id -> "<stream> <entry id>"
        self.streams = tag + "streams"  # set: suffixes "<memory type>:<lifetime>" of the event streams
        self.counters = tag + "counters"  # hash: bytes and words, maintained by every write and removal
        self.memories = tag + "memories"  # sorted set: stored memory ids by created_at
        self.memory_index = tag + "memory-index"  # hash: memory id -> JSON (words, sizes, type, run)
        self.runs = tag + "runs"  # sorted set: run ids by the latest expiry of their records
        self.blobs = tag + "blobs"  # sorted set: blob hashes by expiry
        # Prefixes of the derived keys of the global slot, in the order the scripts read them from ARGV.
        self.stream = tag + "events:"  # + "<memory type>:<lifetime>": a stream of events
        self.memory = tag + "memory:"  # + record id: a hash per stored memory, with a native TTL
        self.term = tag + "term:"  # + word: sorted set of the memory ids containing it, by frequency
        self.expiry = tag + "expiry:"  # + memory type: sorted set of memory ids by expires_at
        self.blob = tag + "blob:"  # + SHA-256: a hash per deduplicated sub-object

    @property
    def global_keys(self) -> list[str]:
        return [self.ids, self.streams, self.counters, self.memories, self.memory_index, self.runs, self.blobs]

    @property
    def global_prefixes(self) -> list[str]:
        return [self.stream, self.memory, self.term, self.expiry, self.blob]

    def global_key(self, name: str) -> str:
        """A further key of the log's slot, for a backend built on this one (``scan`` leaves it out too)."""
        return self._global + name

    def event_stream(self, memory_type: str, lifetime: str) -> str:
        return f"{self.stream}{memory_type}:{lifetime}"

    def run_events(self, run_id: str) -> str:
        """Sorted set of the run's event ids by created_at (ties by id): ``trace`` in log order."""
        return f"{self.prefix}:run:{{{run_id}}}:events"

    def run_memories(self, run_id: str) -> str:
        """Sorted set of the run's stored memory ids by created_at."""
        return f"{self.prefix}:run:{{{run_id}}}:memories"

    def run_key(self, run_id: str, log_type: str) -> str:
        return self.run_memories(run_id) if log_type == "memory" else self.run_events(run_id)

    def is_internal(self, key: str) -> bool:
        """True for this backend's own keys, which ``scan`` leaves out of the key-value view."""
        return key.startswith((self._global, self.prefix + ":"))
