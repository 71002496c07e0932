"""create_memory_logger: selection, fallback, errors, OrKa's arguments, and the compatible import paths."""

import importlib
import sys
import warnings
from pathlib import Path

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory.factory import BackendFallbackWarning
from orka_memory.plugins import reset_plugin_manager


def test_nothing_configured_falls_back_to_the_file_backend_with_a_warning(
    orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where no Redis answers (a Redis server installed on this machine's default port must not decide the test).
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.warns(BackendFallbackWarning, match=r"embedded file backend at sqlite:.*memory\.db"):
        memory = create_memory_logger()
    with memory:
        assert memory.backend_name == "file"
        assert (orka_memory_env / ".orka-memory" / "memory.db").exists()


def test_environment_chooses_the_backend_without_a_warning(
    orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORKA_MEMORY_BACKEND", "file")
    monkeypatch.setenv("ORKA_MEMORY_FILE__PATH", str(orka_memory_env / "env.db"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with create_memory_logger() as memory:
            assert memory.backend.describe().endswith("env.db")


@pytest.mark.parametrize("name", ["redisstack", "kafka"])
def test_a_backend_whose_plugin_is_missing_names_the_extra(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_DISABLE_PLUGINS", name)  # missing, whether or not its package is installed
    reset_plugin_manager()
    with pytest.raises(ImportError, match=rf"pip install 'orka-memory\[{name}\]'"):
        create_memory_logger(name)


def test_an_unknown_backend_lists_the_installed_ones() -> None:
    with pytest.raises(ValueError, match="unknown backend 'cassandra'; installed backends: file"):
        create_memory_logger("cassandra")


def test_an_unreachable_explicit_backend_raises_connection_error_with_location(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(ConnectionError, match="not-a-dir"):
        create_memory_logger("file", path=str(blocker / "memory.db"))


def test_unknown_keyword_is_refused_but_orka_keywords_are_accepted(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="pathh"):
        create_memory_logger("file", pathh="x")
    with create_memory_logger(
        "file",
        path=str(tmp_path / "m.db"),
        operation="write",
        index_name="orka_enhanced_memory",
        vector_dim=384,
        enable_hnsw=False,
        memory_preset="episodic",
        debug_keep_previous_outputs=True,
    ) as memory:
        assert memory.settings.debug_keep_previous_outputs is True
        assert memory.decay_config.enabled and memory.decay_config.default_short_term_hours == 24


def test_decay_config_argument_is_applied(tmp_path: Path) -> None:
    with create_memory_logger(
        "file", path=str(tmp_path / "m.db"), decay_config={"enabled": True, "default_short_term_hours": 2}
    ) as memory:
        memory.log("a", "start", {}, run_id="r")
        memory.flush()
        [event] = memory.trace("r")
        assert event["expires_at"] - event["created_at"] == 2 * 3_600_000


def test_compatible_import_paths() -> None:
    from orka.memory import BaseMemoryLogger as FromPackage
    from orka.memory.base_logger import BaseMemoryLogger
    from orka.memory_logger import create_memory_logger as compat_factory

    assert BaseMemoryLogger is FromPackage is MemoryLogger
    assert compat_factory is create_memory_logger


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("orka.memory.redisstack_logger", "redisstack"),
    ],
)
def test_a_missing_backend_class_import_names_the_extra(
    module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, f"orka_memory_{extra}", None)  # the plugin missing, whether installed or not
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'orka-memory\[{extra}\]'"):
        importlib.import_module(module)


def test_backend_classes_from_the_package_paths_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orka_memory_redisstack", None)
    with pytest.raises(ImportError, match=r"orka-memory\[redisstack\]"):
        from orka.memory import RedisStackMemoryLogger  # noqa: F401
