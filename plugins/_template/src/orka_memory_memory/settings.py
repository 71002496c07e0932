"""The settings section of the ``memory`` backend.

The backend's ``settings_model`` becomes the ``[memory]`` section of ``orka-memory.toml``, the variables
``ORKA_MEMORY_MEMORY__<FIELD>``, and keyword arguments of ``create_memory_logger("memory", <field>=...)``.
``extra="forbid"`` turns a misspelled key into an error naming it instead of a silently ignored value.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MemorySettings(BaseModel):
    """The in-process memory backend: data lives in Python dicts and is gone when the process exits."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        "default",
        min_length=1,
        description="Separates stores within one process: loggers opened with the same name share data.",
    )
