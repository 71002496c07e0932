"""The shared conformance suite against the Kafka backend, with each client library."""

import pytest
from orka_memory.testing import LoggerConformance
from orka_memory.testing.conformance import MakeLogger


class TestKafkaBackendConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, make_logger: MakeLogger) -> MakeLogger:
        return make_logger
