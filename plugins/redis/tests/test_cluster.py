"""Redis Cluster: a run's keys share one slot, runs spread over the primaries, the log's keys share one slot, and
every multi-key operation stays within a slot (the server would refuse it otherwise, so the suites passing on
the cluster prove that). The whole conformance suite also runs on this cluster (test_conformance.py)."""

from __future__ import annotations

from orka_memory import create_memory_logger
from orka_memory_redis.keys import Keys
from redis.cluster import RedisCluster

KEYS = Keys("orka:memory")


def test_a_runs_keys_share_a_slot_and_runs_spread_over_the_primaries(cluster_url: str) -> None:
    with create_memory_logger("redis", redis_url=cluster_url, cluster=True) as memory:
        for run in range(24):
            memory.log("agent", "step", {"run": run}, run_id=f"run-{run}")
            memory.log_memory(f"note of run {run}", node_id="n", trace_id=f"run-{run}")
        memory.flush()
        assert all(len(memory.trace(f"run-{run}")) == 1 for run in range(24))
        client = memory.redis
        assert isinstance(client, RedisCluster)
        nodes = set()
        for run in range(24):
            events, memories = KEYS.run_events(f"run-{run}"), KEYS.run_memories(f"run-{run}")
            assert client.exists(events, memories) == 2
            assert client.keyslot(events) == client.keyslot(memories) == client.keyslot(f"run-{run}")
            nodes.add(client.get_node_from_key(events).name)
        assert len(nodes) == 3, "24 runs land on every primary"

        log_slot = client.keyslot(KEYS.ids)
        own_keys = [key.decode() for key in client.scan_iter(match="*orka:memory*")]
        log_keys = [key for key in own_keys if key.startswith("{orka:memory}:")]
        assert len(log_keys) > 24 and {client.keyslot(key) for key in log_keys} == {log_slot}
        assert all(key.startswith("orka:memory:run:{") for key in set(own_keys) - set(log_keys))
