"""Two processes logging to one server share its blob store: a repeated output is stored once, not once per
process, and each process's events resolve it."""

from __future__ import annotations

import subprocess
import sys

from orka_memory import create_memory_logger
from orka_memory_redis.keys import Keys

KEYS = Keys("orka:memory")
CHILD = """
import sys
from orka_memory_redis import RedisMemoryLogger

url, name = sys.argv[1], sys.argv[2]
shared = {"response": "an agent output long enough to be deduplicated, the same in both processes " * 6}
with RedisMemoryLogger(redis_url=url) as memory:
    for step in range(200):
        memory.log(name, "result", {"result": shared, "step": step}, step=step, run_id=f"run-{name}",
                   previous_outputs={"planner": shared})
"""


def test_two_processes_store_a_shared_output_once(redis_url: str) -> None:
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, redis_url, name], stderr=subprocess.PIPE)
        for name in ("first", "second")
    ]
    for child in children:
        _, errors = child.communicate(timeout=60)
        assert child.returncode == 0, errors.decode()
    with create_memory_logger("redis", redis_url=redis_url) as memory:
        assert memory.get_memory_stats()["blobs"] == 1
        assert memory.redis.zcard(KEYS.blobs) == 1
        for name in ("first", "second"):
            trace = memory.trace(f"run-{name}")
            assert [event["step"] for event in trace] == list(range(200))
            assert trace[0]["payload"]["result"] == trace[-1]["previous_outputs"]["planner"]
            assert trace[0]["payload"]["result"]["response"].startswith("an agent output")
