"""The shared conformance suite against a real redis-server and a real 3-primary Redis Cluster."""

from __future__ import annotations

import pytest
from orka_memory import create_memory_logger
from orka_memory.testing import LoggerConformance
from orka_memory.testing.conformance import MakeLogger


class TestRedisConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, redis_url: str) -> MakeLogger:
        def make(**settings: object):  # type: ignore[no-untyped-def]
            return create_memory_logger("redis", redis_url=redis_url, **settings)

        return make


class TestRedisClusterConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, cluster_url: str) -> MakeLogger:
        def make(**settings: object):  # type: ignore[no-untyped-def]
            return create_memory_logger("redis", redis_url=cluster_url, cluster=True, **settings)

        return make
