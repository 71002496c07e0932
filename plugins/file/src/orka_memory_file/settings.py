"""The settings section of the ``file`` backend.

``FileBackend.settings_model`` becomes the ``[file]`` section of ``orka-memory.toml``, the variables
``ORKA_MEMORY_FILE__<FIELD>`` and keyword arguments of ``create_memory_logger("file", <field>=...)``.
``extra="forbid"`` turns a misspelled key into an error naming it instead of a silently ignored value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FileSettings(BaseModel):
    """The embedded store: one SQLite database file in WAL mode, shared safely by threads and processes."""

    # Defaults are passed as ``default=`` so type checkers without the pydantic plugin see them too.
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(
        default=Path(".orka-memory/memory.db"),
        description="The database file. A relative path is relative to the working directory; missing parent "
        "directories are created when the store opens. SQLite keeps `<path>-wal` and `<path>-shm` beside it.",
    )
    synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="FULL: a committed batch survives an OS crash or power loss (one fsync per batch). NORMAL: it "
        "survives a killed process but the last batches may be lost on power loss; faster on slow disks.",
    )
    busy_timeout_ms: int = Field(
        default=30_000,
        gt=0,
        description="How long a write waits for another process holding the write lock before it fails (the "
        "logger's writer then retries and spools).",
    )
    vector_cache_mb: float = Field(
        default=512,
        ge=0,
        description="Memory (MiB) vector search may use in this process to hold the stored memories' vectors and "
        "the columns its filters compare (about 1 KiB a memory of 256 dimensions: 512 MiB holds about 500,000). "
        "Beyond it, or with 0, every search reads the vectors from the file instead: the same results, 10 to 30 "
        "times slower.",
    )
