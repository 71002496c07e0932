"""The core's own plugins, registered through the same hooks third-party plugins use."""

from orka_memory.default_plugins import codecs, embedders

BUILTIN_PLUGINS = (codecs, embedders)
