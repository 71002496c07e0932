"""glibc keeps the writer's freed batch memory for the next batch instead of page-faulting it back in."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest
from orka_memory import allocator

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

# A batch's worth of 2 KB objects made, dropped, and made again, as the writer does; prints the page faults of the
# second round.
REFILL = """
import resource, sys
from orka_memory.allocator import keep_freed_memory
keep_freed_memory(int(sys.argv[1]))
batch = [bytes(2048) for _ in range(4000)]
del batch
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
batch = [bytes(2048) for _ in range(4000)]
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults_refilling_a_batch(limit: int) -> int:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", REFILL, str(limit)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_freed_batch_memory_is_reused_without_page_faults() -> None:
    untouched = page_faults_refilling_a_batch(0)
    kept = page_faults_refilling_a_batch(64 * 2**20)
    assert untouched > 1000  # 8 MB handed back to the kernel and faulted in again, page by page
    assert kept < untouched / 10


def test_only_raises_and_leaves_an_operator_choice_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert allocator.keep_freed_memory(0) is False
    assert allocator.keep_freed_memory(1 << 20) is True
    assert allocator.keep_freed_memory(1 << 10) is True  # a lower limit never lowers what was set
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert allocator.keep_freed_memory(1 << 30) is False
