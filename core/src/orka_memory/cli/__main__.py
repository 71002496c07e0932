"""``python -m orka_memory.cli``: the same as the ``orka-memory`` command."""

import sys

from orka_memory.cli.app import main

sys.exit(main())
