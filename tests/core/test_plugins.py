"""The plugin manager: entry-point discovery, environment switches, broken plugins, registries, the serialize hook."""

import warnings
import zlib
from pathlib import Path

import pytest
from orka_memory import create_memory_logger, hookimpl
from orka_memory.plugins import PluginLoadWarning, PluginManager, PluginRegistrationError
from pluggy import PluginValidationError


def test_register_backends_loads_the_file_backend_through_its_entry_point() -> None:
    manager = PluginManager().load()
    [info] = [plugin for plugin in manager.plugins if plugin.name == "file"]
    assert info.distribution == "orka-memory-file" and info.error is None
    assert info.module == "orka_memory_file.plugin"
    assert "file" in manager.backends()
    assert manager.registered_by("file") == ["backend:file"]
    assert {"zstd", "none"} <= set(manager.codecs())


def test_disable_and_allow_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_DISABLE_PLUGINS", "file, other")
    assert "file" not in PluginManager().load().backends()
    monkeypatch.delenv("ORKA_MEMORY_DISABLE_PLUGINS")
    monkeypatch.setenv("ORKA_MEMORY_LOAD_PLUGINS", "something-else")
    manager = PluginManager().load()
    assert "file" not in manager.backends()
    assert "zstd" in manager.codecs(), "the core's built-ins always load"
    monkeypatch.setenv("ORKA_MEMORY_LOAD_PLUGINS", "file")
    assert "file" in PluginManager().load().backends()


def _install_fake_distribution(root: Path, name: str, entry_point: str) -> None:
    """A real installed distribution (a dist-info folder on sys.path) whose entry point points at ``entry_point``."""
    dist = root / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[orka_memory]\n{name} = {entry_point}\n")


def test_a_plugin_that_fails_to_import_is_reported_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_fake_distribution(tmp_path, "broken", "no_such_module_anywhere.plugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = PluginManager().load()
    [warning] = [w for w in caught if issubclass(w.category, PluginLoadWarning)]
    assert "'broken'" in str(warning.message) and "No module named 'no_such_module_anywhere'" in str(warning.message)
    [info] = [plugin for plugin in manager.plugins if plugin.name == "broken"]
    assert info.error is not None and "ModuleNotFoundError" in info.error
    assert "file" in manager.backends()


class _Lz4LikeCodec:
    name = "zstd"

    def compress(self, data: bytes) -> bytes:
        return data

    def decompress(self, data: bytes) -> bytes:
        return data


def test_a_name_registered_twice_names_both_plugins() -> None:
    class Duplicate:
        @hookimpl
        def orka_memory_register_codecs(self, register):  # type: ignore[no-untyped-def]
            register(_Lz4LikeCodec())

    manager = PluginManager().load()
    manager.register(Duplicate(), name="duplicate-codecs")
    with pytest.raises(PluginRegistrationError, match=r"'zstd' is registered twice.*duplicate-codecs"):
        manager.codecs()


def test_an_implementation_of_an_unknown_hook_is_an_error() -> None:
    class Typo:
        @hookimpl
        def orka_memory_register_backend(self, register):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(PluginValidationError, match="orka_memory_register_backend"):
        PluginManager().load().register(Typo(), name="typo")


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def test_serialize_hook_handles_a_plugins_types_first(tmp_path: Path) -> None:
    class MoneyPlugin:
        @hookimpl
        def orka_memory_serialize(self, value):  # type: ignore[no-untyped-def]
            return {"amount": value.cents / 100, "currency": "EUR"} if isinstance(value, Money) else None

    manager = PluginManager().load()
    manager.register(MoneyPlugin(), name="money")
    with create_memory_logger("file", path=str(tmp_path / "m.db"), plugins=manager) as memory:
        memory.log("billing", "charge", {"price": Money(1250), "other": object()}, run_id="r")
        memory.flush()
        [event] = memory.trace("r")
    assert event["payload"]["price"] == {"amount": 12.5, "currency": "EUR"}
    assert event["payload"]["other"]["__type"] == "object"


def test_register_codecs_adds_a_third_party_codec_used_for_new_records(tmp_path: Path) -> None:
    class Deflate:
        name = "deflate"

        def compress(self, data: bytes) -> bytes:
            return zlib.compress(data)

        def decompress(self, data: bytes) -> bytes:
            return zlib.decompress(data)

    class DeflatePlugin:
        @hookimpl
        def orka_memory_register_codecs(self, register):  # type: ignore[no-untyped-def]
            register(Deflate())

    manager = PluginManager().load()
    manager.register(DeflatePlugin(), name="deflate-codec")
    path = str(tmp_path / "m.db")
    payload = {"text": "the same words again " * 40}
    with create_memory_logger("file", path=path, codec="deflate", compress_threshold=0, plugins=manager) as memory:
        memory.log("a", "e", payload, run_id="r")
        memory.flush()
        [encoded] = memory.backend.by_run("r", now_ms=0)
        assert encoded.codec == "deflate" and len(encoded.body) < encoded.raw_size
    # The codec is recorded with the data: a logger with another default codec still reads it.
    with create_memory_logger("file", path=path, plugins=manager) as memory:
        assert memory.trace("r")[0]["payload"] == payload


def test_register_embedders_adds_named_embedder_classes() -> None:
    class CharCount:
        name = "char-count"
        dimension = 26

        def embed(self, texts):  # type: ignore[no-untyped-def]
            return [[text.count(chr(97 + i)) for i in range(26)] for text in texts]

    class Plugin:
        @hookimpl
        def orka_memory_register_embedders(self, register):  # type: ignore[no-untyped-def]
            register(CharCount)

    manager = PluginManager().load()
    manager.register(Plugin(), name="char-count-embedder")
    embedder = manager.embedders()["char-count"]()
    assert embedder.embed(["abba"])[0][:2] == [2, 2]
    assert manager.registered_by("char-count-embedder") == ["embedder:char-count"]
