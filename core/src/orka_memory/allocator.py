"""Keeping freed heap memory for reuse instead of handing it back to the kernel after every batch.

The writer builds a batch (records, JSON documents, compressed bodies: a few MB for 500 events), hands it to the
backend and drops it. glibc's ``free`` then returns the top of the heap to the kernel as soon as more than
``M_TRIM_THRESHOLD`` (128 KiB by default) is free there, so the next batch page-faults the same memory back in,
zeroed, page by page. On the project's machine that made ``orjson.dumps`` of a 1.7 KB document cost 5 µs instead of
0.5 µs (two page faults per event), and the whole core about 20% slower (``benchmarks/README.md``).

``keep_freed_memory(limit)`` raises glibc's trim threshold to ``limit`` bytes: up to that much free memory stays in
the process, ready for the next batch. The setting is process-wide (it is the C library's), so the logger applies it
only when asked (``malloc_trim_threshold``, 64 MiB by default, 0 to leave the allocator alone), never lowers it, and
leaves it alone where the operator set ``MALLOC_TRIM_THRESHOLD_`` or where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import threading
from collections.abc import Callable

log = logging.getLogger("orka_memory")

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter number (malloc.h)
ENVIRONMENT_OVERRIDE = "MALLOC_TRIM_THRESHOLD_"

_lock = threading.Lock()
_applied = 0


def keep_freed_memory(limit: int) -> bool:
    """Let the process keep up to ``limit`` bytes of freed heap memory; True when the threshold is now at least
    ``limit``. Idempotent and thread-safe; a no-op (False) off glibc, for ``limit <= 0``, or when the operator chose
    a threshold in the environment."""
    global _applied
    if limit <= 0 or ENVIRONMENT_OVERRIDE in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    with _lock:
        if _applied >= limit:
            return True
        mallopt = _mallopt()
        if mallopt is None or mallopt(M_TRIM_THRESHOLD, min(limit, 2**31 - 1)) != 1:
            log.debug("orka-memory could not set glibc's M_TRIM_THRESHOLD; the allocator keeps its default")
            return False
        _applied = limit
        return True


def _mallopt() -> Callable[[int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
