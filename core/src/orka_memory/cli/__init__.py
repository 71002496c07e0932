"""The ``orka-memory`` command line: inspect, search, age out, export and import what a workflow logged."""

from orka_memory.cli.app import main

__all__ = ["main"]
