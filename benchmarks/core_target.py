"""The core ceiling: logging into a backend that stores nothing.

Every backend receives its batches from the same front-end (serialization, decay, record build, queue, then the
writer's encoding), so logging through a backend whose ``append`` does nothing measures the core alone: no backend
can log faster than this, whatever its engine does.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Collection, Iterator, Sequence
from typing import Any, ClassVar

from orka_memory.backend import Blob, Capability, EncodedRecord
from orka_memory.logger import MemoryLogger
from orka_memory.settings import resolve_settings
from target import Target


class Discard:
    """A backend that stores nothing (and offers no reads)."""

    name: ClassVar[str] = "discard"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def append(self, records: Sequence[EncodedRecord], blobs: Sequence[Blob]) -> None:
        pass

    def held_blobs(self, hashes: Collection[str]) -> set[str]:
        """Every blob: the writer then sends each once, as to an engine that keeps them."""
        return set(hashes)

    def describe(self) -> str:
        return "nowhere"

    def close(self) -> None:
        pass


class CoreTarget(Target):
    name = "core"
    family = "core"
    describe = "the front-end and writer logging into a backend that stores nothing"
    raw_client = None
    reads = False

    @contextlib.contextmanager
    def store(self) -> Iterator[MemoryLogger]:
        with tempfile.TemporaryDirectory(prefix="orka-bench-") as folder:
            settings = resolve_settings({"spool_dir": folder}).settings
            backend: Any = Discard()  # a partial backend: the writer only calls append, describe and close
            with MemoryLogger(backend, settings) as memory:
                yield memory
