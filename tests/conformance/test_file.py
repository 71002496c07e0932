"""The shared conformance suite against the embedded file backend."""

from pathlib import Path

import pytest
from orka_memory import create_memory_logger
from orka_memory.testing import LoggerConformance
from orka_memory.testing.conformance import MakeLogger


class TestFileBackendConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, tmp_path: Path) -> MakeLogger:
        def make(**settings: object):  # type: ignore[no-untyped-def]
            return create_memory_logger("file", path=str(tmp_path / "store.db"), **settings)

        return make
