"""Real redis-server processes for the redis backend's tests, started by the test session on free loopback ports.

- ``redis_url``: one plain server for the session (no persistence), emptied before each test.
- ``cluster_url``: a 3-primary Redis Cluster (created with ``redis-cli --cluster create``), emptied before each test.
- ``raw``: a plain redis-py client of that server, to look at what the backend wrote; ``memory``: a redis logger on
  it (decay off).
- ``RedisServer`` starts further servers for tests that restart one or need their own configuration.

Every test also gets the core's isolated settings (``orka_memory_env``: no ORKA_MEMORY_* or REDIS_URL from the
machine, the working directory, where the spool lives, a fresh temporary folder), as the root tests do.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from redis import Redis
from redis.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")
START_TIMEOUT_S = 10.0

if REDIS_SERVER is None or REDIS_CLI is None:
    pytest.skip(
        "redis-server/redis-cli are not installed: run `scripts/system-packages.sh test` (Debian: apt-get install "
        "redis-server redis-tools)",
        allow_module_level=True,
    )


def free_port(*, with_bus: bool = False) -> int:
    """A loopback port nobody listens on; ``with_bus``: port + 10000 is free too (Redis Cluster's bus port)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if not with_bus:
            return port
        if port + 10000 < 65536:
            with socket.socket() as bus:
                try:
                    bus.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


class RedisServer:
    """One redis-server process on a loopback port, with its data directory; can be stopped and started again on
    the same port and directory (a restart)."""

    def __init__(self, directory: Path, *options: str, port: int | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [
            str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.directory), "--logfile", str(self.directory / "redis.log"), *self.options,
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        client = Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                try:
                    client.ping()  # a server still loading its data raises BusyLoadingError, a ConnectionError
                    return self
                except RedisConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, as a service manager stops Redis: it writes its append-only file before it exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT_S)
        self.process = None


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
