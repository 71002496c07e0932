"""Which targets exist and how ``--only`` names them: the one place a new target module is registered."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from core_target import CoreTarget
from file_target import FileTarget
from kafka_target import kafka_targets
from redis_target import RedisTarget
from target import Target

# What --only chooses from. "core" (the ceiling) is always measured; "redisstack" is measured by
# benchmarks/redisstack_bench.py through run.py's hook, not by a target here.
FAMILIES = ("file", "redis", "kafka", "redisstack")

# Family -> the targets it stands for, built from the runner's arguments (server URLs) in measuring order.
TARGETS: dict[str, Callable[[argparse.Namespace], list[Target]]] = {
    "core": lambda args: [CoreTarget()],
    "file": lambda args: [FileTarget()],
    "redis": lambda args: [RedisTarget(args)],
    "kafka": kafka_targets,
}


def families(value: str) -> tuple[str, ...]:
    """``--only``'s type: comma-separated family names, checked."""
    chosen = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(chosen) - set(FAMILIES) - {"core"})
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(FAMILIES)}")
    return chosen
