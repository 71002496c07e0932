"""The shared conformance suite, vector tests included, against a real Redis Stack server."""

from __future__ import annotations

import pytest
from orka_memory.testing import LoggerConformance
from orka_memory.testing.conformance import MakeLogger


class TestRedisStackConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, make_logger: MakeLogger) -> MakeLogger:
        return make_logger
