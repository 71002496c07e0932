"""The plugin manager: loads plugins and offers the hooks as typed methods.

No other module touches pluggy's untyped ``pm.hook``. Loading order: the core's built-ins (``default_plugins``),
then every entry point of the ``orka_memory`` group, then ``check_pending()``, so an implementation of a hook that
does not exist (a typo, or a plugin written for a newer core) is an error rather than a silent no-op.

Environment switches, read when plugins load:

- ``ORKA_MEMORY_DISABLE_PLUGINS=name,name``: skip these entry points.
- ``ORKA_MEMORY_LOAD_PLUGINS=name,name``: load only these entry points (the built-ins always load).

A plugin that fails to import is recorded with its name and error, reported as a warning, and the others load.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from orka_memory import hookspecs
from orka_memory.default_plugins import BUILTIN_PLUGINS

if TYPE_CHECKING:
    from orka_memory.backend import Backend
    from orka_memory.codecs import Codec
    from orka_memory.embedders import Embedder

ENTRY_POINT_GROUP = "orka_memory"
DISABLE_ENV = "ORKA_MEMORY_DISABLE_PLUGINS"
ALLOW_ENV = "ORKA_MEMORY_LOAD_PLUGINS"

T = TypeVar("T")


class PluginRegistrationError(Exception):
    """Two plugins registered the same name, or a plugin registered something malformed."""


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the others were."""


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One loaded (or failed) plugin, for ``orka-memory plugins``; ``name`` is its name in the manager."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    error: str | None = None


def _names_from_env(variable: str) -> set[str] | None:
    raw = os.environ.get(variable)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


class PluginManager:
    """A typed wrapper around pluggy's manager for the ``orka_memory`` hooks."""

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self._pm.add_hookspecs(hookspecs)
        self._loaded = False
        self._lock = threading.Lock()
        self.plugins: list[PluginInfo] = []
        self._backends: dict[str, type[Backend]] | None = None
        self._codecs: dict[str, Codec] | None = None
        self._embedders: dict[str, type[Embedder]] | None = None

    # -- loading -----------------------------------------------------------------------------------------------

    def load(self) -> PluginManager:
        """Load built-ins and entry points once; later calls return at once."""
        with self._lock:
            if not self._loaded:
                for module in BUILTIN_PLUGINS:
                    name = f"orka_memory.{module.__name__.rsplit('.', 1)[-1]}"
                    self._pm.register(module, name=name)
                    self.plugins.append(PluginInfo(name, module.__name__, "orka-memory-core", _core_version()))
                self._load_entry_points()
                self._pm.check_pending()
                self._loaded = True
        return self

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object directly (tests, applications embedding their own plugin)."""
        self._pm.register(plugin, name=name)
        self._pm.check_pending()
        self._backends = self._codecs = self._embedders = None

    def _load_entry_points(self) -> None:
        disabled = _names_from_env(DISABLE_ENV) or set()
        allowed = _names_from_env(ALLOW_ENV)
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if entry_point.name in disabled or (allowed is not None and entry_point.name not in allowed):
                continue
            self._load_one(entry_point)

    def _load_one(self, entry_point: EntryPoint) -> None:
        distribution = entry_point.dist.name if entry_point.dist else None
        version = entry_point.dist.version if entry_point.dist else None
        try:
            module = entry_point.load()
            self._pm.register(module, name=entry_point.name)
        except Exception as error:  # a broken plugin must not take the others down
            message = f"{type(error).__name__}: {error}"
            warnings.warn(
                f"orka-memory plugin {entry_point.name!r} ({entry_point.value}) failed to load: {message}",
                PluginLoadWarning,
                stacklevel=2,
            )
            self.plugins.append(PluginInfo(entry_point.name, entry_point.value, distribution, version, message))
            return
        self.plugins.append(PluginInfo(entry_point.name, _module_name(module), distribution, version))

    # -- registries --------------------------------------------------------------------------------------------

    def _collect(self, hook: Callable[..., Any], key: Callable[[T], str], kind: str) -> dict[str, T]:
        self.load()
        registry: dict[str, T] = {}
        owners: dict[str, str] = {}
        current = ["?"]

        def register(obj: T) -> None:
            name = key(obj)
            if name in registry:
                raise PluginRegistrationError(
                    f"{kind} {name!r} is registered twice: by plugin {owners[name]!r} and by {current[0]!r}; "
                    f"uninstall or disable one (ORKA_MEMORY_DISABLE_PLUGINS)"
                )
            registry[name] = obj
            owners[name] = current[0]

        for impl in reversed(hook.get_hookimpls()):  # type: ignore[attr-defined]
            current[0] = impl.plugin_name
            impl.function(register=register)
        return registry

    def backends(self) -> dict[str, type[Backend]]:
        """Every registered backend class by name."""
        if self._backends is None:
            self._backends = self._collect(self._pm.hook.orka_memory_register_backends, _name_of, "backend")
        return self._backends

    def codecs(self) -> dict[str, Codec]:
        if self._codecs is None:
            self._codecs = self._collect(self._pm.hook.orka_memory_register_codecs, _name_of, "codec")
        return self._codecs

    def embedders(self) -> dict[str, type[Embedder]]:
        if self._embedders is None:
            self._embedders = self._collect(self._pm.hook.orka_memory_register_embedders, _name_of, "embedder")
        return self._embedders

    def serialize_hook(self) -> Callable[[Any], Any | None] | None:
        """The serialize hook caller, or None when no plugin implements it (the fast path)."""
        self.load()
        hook = self._pm.hook.orka_memory_serialize
        if not hook.get_hookimpls():
            return None
        return lambda value: hook(value=value)

    def registered_by(self, plugin_name: str) -> list[str]:
        """What one plugin registered, as ``kind:name`` strings (for ``orka-memory plugins``)."""
        plugin = self._pm.get_plugin(plugin_name)
        found: list[str] = []
        for kind, hook in (
            ("backend", self._pm.hook.orka_memory_register_backends),
            ("codec", self._pm.hook.orka_memory_register_codecs),
            ("embedder", self._pm.hook.orka_memory_register_embedders),
        ):
            for impl in hook.get_hookimpls():
                if impl.plugin is plugin:
                    impl.function(register=lambda obj, kind=kind: found.append(f"{kind}:{_name_of(obj)}"))
        return found


def _name_of(obj: Any) -> str:
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not name:
        raise PluginRegistrationError(f"{obj!r} was registered without a non-empty string `name` attribute")
    return name


def _module_name(module: Any) -> str:
    return module.__name__ if isinstance(module, ModuleType) else type(module).__name__


def _core_version() -> str:
    from orka_memory.version import __version__

    return __version__


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    with _manager_lock:
        if _manager is None:
            _manager = PluginManager()
    return _manager.load()


def reset_plugin_manager() -> None:
    """Forget the loaded plugins, so the next use reloads them (after changing the environment switches)."""
    global _manager
    with _manager_lock:
        _manager = None
