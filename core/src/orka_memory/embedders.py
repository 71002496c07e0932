"""Embedders: text to vectors for stored-memory search, registered through ``orka_memory_register_embedders``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from orka_memory.settings import ConfigurationError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of a fixed dimension. Backends store ``identity`` and ``dimension`` with the
    vectors, so vectors from different embedders are never compared.

    An embedder class is constructed with the keyword options of the ``embedder_options`` setting (none by
    default), so it must work with no arguments. ``embed`` may be called from several threads at once.
    """

    name: ClassVar[str]
    # What the vectors depend on beyond the dimension, e.g. ``sentence-transformers:all-MiniLM-L6-v2``: stores
    # record it, so two models of one embedder class are never mixed.
    identity: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def create_embedder(classes: Mapping[str, type[Embedder]], name: str, options: Mapping[str, Any]) -> Embedder:
    """The embedder the settings name, built with its options; ``ConfigurationError`` saying what is installed."""
    if name not in classes:
        installed = ", ".join(sorted(classes)) or "none"
        raise ConfigurationError(
            f"embedder {name!r} is not installed (installed embedders: {installed}); set `embedder` to one of them "
            "or install the plugin that provides it"
        )
    try:
        return classes[name](**options)
    except TypeError as error:
        raise ConfigurationError(f"embedder {name!r} does not accept the embedder_options given: {error}") from None
