"""What a benchmark target is: one backend with its server, a fresh store per measurement, and its raw client.

The measurements (``measure.py``) are written once against this class; each ``*_target.py`` module says only what
is particular to its engine: how to start the server, open an empty store and remove it, what the engine holds for
it, and how the engine's own client does the same work without orka-memory. That raw client is each backend's
limit: the ratio of the two is the headline number.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from cputime import CpuClock
from orka_memory.logger import MemoryLogger
from workload import Event


@dataclass(frozen=True, slots=True)
class RawWrite:
    """The raw client writing a workload: how long it took to durability, the CPU it and the engine spent on it,
    and how much its store grew."""

    seconds: float
    cpu_seconds: float | None  # this process and the engine's servers (``cputime``); None: unknown
    engine_bytes: int | None  # None: the engine cannot tell


class Target(abc.ABC):
    """A backend to measure. ``running()`` must be entered before any other call."""

    name: str  # how the table and results.json name it
    family: str  # what ``--only`` selects it by
    describe: str  # the engine and its durability, one line
    raw_client: str | None  # the raw client's work, one line; None: nothing to compare with
    reads: bool = True  # tail/trace/stats are measured
    searches: bool = False  # search_memories is measured at every ``--memories`` size (measure_searches)

    # The largest ``--scale`` store reads are measured on: 0, the smallest only; None, every size (reads the design
    # says stay flat as the store grows are shown at every size).
    largest_read: int | None = 0

    def read_sizes(self, scales: Sequence[int]) -> list[int]:
        """The ``--scale`` store sizes reads are measured at (``largest_read``), the smallest at least."""
        sizes = sorted(scales)
        return [size for size in sizes if self.largest_read is None or size <= self.largest_read] or sizes[:1]

    def engine_processes(self) -> Sequence[int] | None:
        """The engine's server processes this target started (their CPU counts with this process's); empty when
        the engine runs inside this process, as SQLite does; None when it runs where its CPU cannot be read (a
        server given on the command line)."""
        return ()

    def cpu_clock(self) -> CpuClock:
        """CPU seconds used so far by this process and the engine's servers (``cputime``)."""
        return CpuClock(self.engine_processes())

    def unavailable(self) -> str | None:
        """Why this target cannot run here (one line), or None."""
        return None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Start what the target needs (a server) for the duration of the block."""
        yield

    @abc.abstractmethod
    def store(self) -> contextlib.AbstractContextManager[MemoryLogger]:
        """A logger with its default settings on an empty store of its own, removed when the block ends."""

    def engine_bytes(self, memory: MemoryLogger) -> int | None:
        """What the engine holds for ``memory``'s store, once flushed; None when the engine cannot tell."""
        return None

    def write_raw(self, events: Sequence[Event], batch: int) -> RawWrite | None:
        """The raw client writing the same events' JSON, durable every ``batch`` events (the writer's batch)."""
        return None

    def write_raw_others(self, events: Sequence[Event], batch: int) -> dict[str, float]:
        """Other raw clients writing the same events, durable as often: what each does -> its seconds. Printed
        beside the raw client; the goals are judged against ``write_raw``."""
        return {}

    @contextlib.contextmanager
    def raw_reads(self, memory: MemoryLogger, run_id: str) -> Iterator[dict[str, Callable[[], object]]]:
        """The raw client's reads of ``memory``'s store beside the logger's (``tail``, ``trace`` of ``run_id``),
        where they mean something: the same data fetched without orka-memory's decoding."""
        yield {}
