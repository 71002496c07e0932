"""orka-memory's embedded default backend ``file``: one SQLite database in WAL mode, no server.

Selected with ``create_memory_logger("file")`` (and used when no backend is configured and no Redis answers). The
core finds it through the ``orka_memory`` entry point naming ``orka_memory_file.plugin``; see this package's README.
"""

from orka_memory_file.backend import FileBackend
from orka_memory_file.settings import FileSettings
from orka_memory_file.version import __version__

__all__ = ["FileBackend", "FileSettings", "__version__"]
