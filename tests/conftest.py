"""Every test runs with isolated settings: no ORKA_MEMORY_* variables from the machine, a temporary working dir."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_settings(orka_memory_env: Path) -> Path:
    return orka_memory_env
