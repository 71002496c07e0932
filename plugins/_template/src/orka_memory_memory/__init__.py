"""orka-memory's ``memory`` backend: everything in Python dicts, nothing survives the process.

Use it in tests (``create_memory_logger("memory")``) and copy it to start a backend plugin of your own: see this
package's README. The core finds it through the ``orka_memory`` entry point naming ``orka_memory_memory.plugin``.
"""

from orka_memory_memory.backend import MemoryBackend
from orka_memory_memory.settings import MemorySettings
from orka_memory_memory.version import __version__

__all__ = ["MemoryBackend", "MemorySettings", "__version__"]
