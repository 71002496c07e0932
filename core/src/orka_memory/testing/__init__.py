"""Testing aids for plugin authors: the conformance suite and (through the ``pytest11`` entry point) fixtures."""

from orka_memory.testing.conformance import LoggerConformance

__all__ = ["LoggerConformance"]
