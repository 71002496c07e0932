"""Every hook orka-memory calls: the whole contract between the core and its plugins.

A plugin is a module (or object) with functions named after these specs and marked with
``orka_memory.hookimpl``; it is found through the ``orka_memory`` entry-point group::

    # pyproject.toml of your package
    [project.entry-points.orka_memory]
    lz4 = "orka_memory_lz4.plugin"

    # orka_memory_lz4/plugin.py
    from orka_memory import hookimpl

    @hookimpl
    def orka_memory_register_codecs(register):
        register(Lz4Codec())

Rules that hold for every hook:

- Hooks are called with keyword arguments only, so a spec can gain a parameter without breaking existing plugins;
  an implementation may accept fewer parameters than the spec offers.
- Registration hooks are tiny and synchronous: they call ``register(obj)`` and return. The registered objects carry
  the behaviour, and the core owns the registries, so a name registered twice is an error naming both plugins.
- The core's own defaults (the ``zstd`` and ``none`` codecs) and the built-in file backend register through the
  same hooks as third-party plugins do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from orka_memory.backend import Backend
    from orka_memory.codecs import Codec
    from orka_memory.embedders import Embedder

PROJECT_NAME = "orka_memory"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# -- registration: store and query --------------------------------------------------------------------------------


@hookspec
def orka_memory_register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register storage backends: classes implementing the ``Store`` and ``Query`` protocols.

    Runs once, when the plugin manager loads plugins (the first time a logger is created or the CLI starts).

    :param register: call ``register(BackendClass)`` for each backend. The class's ``name`` attribute is the name
        users select it by (``create_memory_logger("file")``, ``ORKA_MEMORY_BACKEND=file``); its ``capabilities``
        say which parts of the API it serves; its ``settings_model`` (a pydantic model) becomes the settings section
        of the same name (``[file]`` in ``orka-memory.toml``, ``ORKA_MEMORY_FILE__PATH`` in the environment).

    Since 0.1.
    """


# -- registration: compress ---------------------------------------------------------------------------------------


@hookspec
def orka_memory_register_codecs(register: Callable[[Codec], None]) -> None:
    """Register byte codecs that compress encoded records and blobs.

    Runs once, when the plugin manager loads plugins.

    :param register: call ``register(codec)`` for each codec instance; ``codec.name`` is what the ``codec`` setting
        selects and what is stored beside every compressed record, so a reader never guesses. Names are permanent:
        data written with a codec can only be read while a codec of that name is installed.

    A codec may also offer ``compress_many(items) -> list[bytes]`` (``orka_memory.codecs.BatchCodec``): the writer
    then compresses each batch in one call, so a C compressor releases the GIL once per batch, not once per record.

    The core registers ``zstd`` (the default) and ``none``. Since 0.1.
    """


# -- registration: embed (vector search) ---------------------------------------------------------------------------


@hookspec
def orka_memory_register_embedders(register: Callable[[type[Embedder]], None]) -> None:
    """Register embedders: classes that turn text into vectors for stored-memory search.

    Runs once, when the plugin manager loads plugins.

    :param register: call ``register(EmbedderClass)``; the class's ``name`` is what the ``embedder`` setting
        selects. Backends record the embedder's name and dimension beside the vectors they store and refuse a
        mismatch, so stored and query vectors always come from the same embedder.

    Since 0.1.
    """


# -- serialize ---------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def orka_memory_serialize(value: Any) -> Any | None:
    """Turn a value the core does not know into a JSON-able one, before the built-in rules apply.

    Runs on the caller's thread inside ``log()`` for every value in a payload whose type is not exactly ``str``,
    ``int``, ``float``, ``bool``, ``None``, ``dict`` or ``list``; keep it fast and never raise (an exception is
    treated as "not handled").

    :param value: the value to convert.
    :return: ``None`` when the plugin does not handle this type (the next plugin, then the built-in rules, are
        tried), otherwise a replacement value, which is converted further by the same rules. The first non-``None``
        result wins.

    Since 0.1.
    """
