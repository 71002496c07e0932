"""pytest fixtures for suites that test orka-memory plugins (loaded through the ``pytest11`` entry point)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from orka_memory.plugins import reset_plugin_manager

# Variables that would make a test depend on the machine it runs on.
_SETTINGS_VARIABLES = ("REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture
def orka_memory_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated settings environment: no ORKA_MEMORY_* or compatible variables, the working directory (where
    config files and the default store are looked up) a fresh temporary folder, plugins reloaded before and after.
    Yields that folder."""
    for name in list(os.environ):
        if name.startswith("ORKA_MEMORY_") or name in _SETTINGS_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    reset_plugin_manager()
    yield tmp_path
    reset_plugin_manager()
