"""Connections: ACL users and passwords (masked wherever shown), TLS, unreachable servers, settings errors."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from orka_memory import ConfigurationError, create_memory_logger
from orka_memory_redis import RedisMemoryLogger
from redis import Redis

from .conftest import RedisServer, free_port


@pytest.fixture
def acl_user(redis_url: str) -> Iterator[str]:
    """An ACL user ``orka`` with password ``s3cret-pw``; yields its URL."""
    with Redis.from_url(redis_url) as admin:
        admin.acl_setuser("orka", enabled=True, passwords=["+s3cret-pw"], keys=["*"], channels=["*"],
                          commands=["+@all"])  # fmt: skip
        try:
            yield redis_url.replace("redis://", "redis://orka:s3cret-pw@")
        finally:
            admin.acl_deluser("orka")


def test_an_acl_user_connects_and_its_password_is_never_shown(acl_user: str) -> None:
    with RedisMemoryLogger(redis_url=acl_user) as memory:
        memory.log("agent", "start", {}, run_id="run-acl")
        memory.flush()
        assert len(memory.trace("run-acl")) == 1
        shown = [memory.backend.describe(), repr(memory), memory.get_memory_stats()["location"],
                 str(memory.writer.spool.path)]  # fmt: skip
        assert all("s3cret-pw" not in text for text in shown)
        assert "redis://orka:***@127.0.0.1" in memory.backend.describe()
    with pytest.raises(ConnectionError, match=r"orka:\*\*\*@") as refused:
        RedisMemoryLogger(redis_url=acl_user.replace("s3cret-pw", "wrong-pw"))
    assert "wrong-pw" not in str(refused.value)


def test_an_unreachable_server_fails_fast_naming_it() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=url):
        create_memory_logger("redis", redis_url=url, connection_retries=1)
    assert time.monotonic() - started < 3


def test_tls_with_a_ca_bundle(tmp_path: Path) -> None:
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_port = free_port()
    tls = ["--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
    server = RedisServer(tmp_path / "tls", *tls, "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no")
    server.start()  # the plain port answers the readiness check; the test speaks TLS only
    try:
        url = f"rediss://127.0.0.1:{tls_port}/0"
        with create_memory_logger("redis", redis_url=url, ssl_ca_certs=str(cert)) as memory:
            memory.log("agent", "start", {"secure": True}, run_id="run-tls")
            memory.flush()
            assert memory.trace("run-tls")[0]["payload"] == {"secure": True}
            assert memory.redis.connection_pool.connection_class.__name__ == "SSLConnection"
        with pytest.raises(ConnectionError, match="rediss://"):  # the server's certificate is not trusted
            create_memory_logger("redis", redis_url=url, connection_retries=0)
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"stream_key": "{app}"}, r"redis\.stream_key .* without '\{'"),
        ({"ssl_ca_certs": "ca.pem"}, r"ssl_ca_certs need a rediss:// url"),
        ({"socket_timeout": 0}, r"redis\.socket_timeout"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        create_memory_logger("redis", **settings)


@pytest.mark.parametrize("cluster", [False, True], ids=["server", "cluster"])
def test_a_server_that_forgot_the_scripts_gets_them_again(cluster: bool, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("cluster_url" if cluster else "redis_url")
    with create_memory_logger("redis", redis_url=url, cluster=cluster) as memory:
        memory.redis.script_flush()  # (every primary of a cluster) what a restart or a failover does
        memory.log("agent", "start", {"n": 1}, run_id="run-noscript")
        memory.flush()
        assert memory.get_performance_metrics()["retries"] == 0, "reloading is not a failure"
        memory.redis.script_flush()
        assert [event["payload"] for event in memory.tail(5)] == [{"n": 1}]
