"""Redis server processes for tests and benchmarks, on free loopback ports: the redis backend's test session, and
the backends built on it (the redisstack tests start Redis Stack's launcher the same way).

``RedisServer`` starts one process, waits until it answers, and can stop and start it again on the same port and
data directory (a restart).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

START_TIMEOUT_S = 10.0


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
    """One Redis server process on a loopback port, with its data directory; can be stopped and started again on
    the same port and directory (a restart). ``binary``: the server to run, Debian's ``redis-server`` by default,
    or any launcher taking redis-server's options (Redis Stack's ``redis-stack-server``)."""

    def __init__(self, directory: Path, *options: str, port: int | None = None, binary: str | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.options = options
        self.binary = binary or shutil.which("redis-server") or "redis-server"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
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
                        log_file = self.directory / "redis.log"
                        log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
                        raise RuntimeError(f"{self.binary} on port {self.port} did not start:\n{log}") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM, as a service manager stops Redis: it writes its append-only file before it exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT_S)
        self.process = None
