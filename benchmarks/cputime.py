"""CPU time beside wall time: what a measurement cost this process and the engine's servers, per event.

A throughput ratio says how fast a backend is next to its raw client; CPU per event says what each side spends, and,
with the machine's core count, how fast either could be at best: ``cores / CPU seconds per event`` events per
second, if every core did nothing else and nothing ever waited. The goals' verdicts print that bound (``report.py``):
a goal above it cannot be met on this machine by overlapping work better, only by spending less.

The engine's CPU counts with the client's because they share the machine's cores: a Redis server or a Kafka broker
the runner started on loopback works on the same two cores as the Python process feeding it. Its time is read from
``/proc/<pid>/stat`` (Linux). Where it cannot be read (another system, or an engine given by ``--redis-url`` or
``--kafka-bootstrap``, whose process is elsewhere) the clock reads None and no bound is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

# utime and stime, the process's user and system CPU time in clock ticks: fields 14 and 15 of /proc/<pid>/stat,
# 11 and 12 of what follows the command name (which is in parentheses and may itself hold spaces).
_USER_FIELD, _SYSTEM_FIELD = 11, 12


def server_seconds(pid: int) -> float | None:
    """CPU seconds process ``pid`` (every thread of it) has used; None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[_USER_FIELD]) + int(fields[_SYSTEM_FIELD])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU seconds used so far by this process and ``servers`` together; None when a server's cannot be read, or
    when ``servers`` is None (the engine runs where this process cannot see it)."""

    def __init__(self, servers: Sequence[int] | None) -> None:
        self.servers = servers

    def __call__(self) -> float | None:
        if self.servers is None:
            return None
        total = time.process_time()
        for pid in self.servers:
            seconds = server_seconds(pid)
            if seconds is None:
                return None
            total += seconds
        return total


def spent(clock: CpuClock, function: Callable[[], Any]) -> tuple[float, float | None]:
    """Wall seconds and CPU seconds (None: unknown) of one call of ``function``."""
    cpu_before, wall_before = clock(), time.perf_counter()
    function()
    wall, cpu_after = time.perf_counter() - wall_before, clock()
    return wall, None if cpu_before is None or cpu_after is None else cpu_after - cpu_before


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
