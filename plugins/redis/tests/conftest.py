"""Real redis-server processes for the redis backend's tests, started by the test session on free loopback ports.

- ``redis_url``: one plain server for the session (no persistence), emptied before each test.
- ``cluster_url``: a 3-primary Redis Cluster (created with ``redis-cli --cluster create``), emptied before each test.
- ``raw``: a plain redis-py client of that server, to look at what the backend wrote; ``memory``: a redis logger on
  it (decay off).
- ``RedisServer`` (``orka_memory_redis.testing``) starts further servers for tests that restart one or need their
  own configuration.

Every test also gets the core's isolated settings (``orka_memory_env``: no ORKA_MEMORY_* or REDIS_URL from the
machine, the working directory, where the spool lives, a fresh temporary folder), as the root tests do.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory_redis.testing import START_TIMEOUT_S, RedisServer, free_port
from redis import Redis
from redis.cluster import RedisCluster

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")

if REDIS_SERVER is None or REDIS_CLI is None:
    pytest.skip(
        "redis-server/redis-cli are not installed: run `scripts/system-packages.sh test` (Debian: apt-get install "
        "redis-server redis-tools)",
        allow_module_level=True,
    )


@pytest.fixture(autouse=True)
def _isolated_settings(orka_memory_env: Path) -> Path:
    return orka_memory_env


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """The session's server, empty."""
    with Redis(port=redis_server.port) as client:
        client.flushall()
    yield redis_server.url


@pytest.fixture
def raw(redis_url: str) -> Iterator[Redis]:
    with Redis.from_url(redis_url) as client:
        yield client


@pytest.fixture
def memory(redis_url: str) -> Iterator[MemoryLogger]:
    with create_memory_logger("redis", redis_url=redis_url) as logger:
        yield logger


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    """Three primaries, no replicas, every slot assigned, on loopback."""
    root = tmp_path_factory.mktemp("cluster")
    options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
    nodes = [RedisServer(root / f"node-{index}", *options, port=free_port(with_bus=True)) for index in range(3)]
    try:
        for node in nodes:
            node.start()
        addresses = [f"127.0.0.1:{node.port}" for node in nodes]
        subprocess.run(
            [str(REDIS_CLI), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        _wait_for_cluster(nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def _wait_for_cluster(nodes: list[RedisServer]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    for node in nodes:
        with Redis(port=node.port, decode_responses=True) as client:
            while client.cluster("info")["cluster_state"] != "ok":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not become ready: {client.cluster('info')}")
                time.sleep(0.05)


@pytest.fixture
def cluster_url(redis_cluster: list[RedisServer]) -> Iterator[str]:
    """The session's cluster (any node's URL finds the others), empty."""
    with RedisCluster(host="127.0.0.1", port=redis_cluster[0].port) as client:
        client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield redis_cluster[0].url
