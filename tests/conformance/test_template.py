"""The shared conformance suite against the plugin template's in-process ``memory`` backend, plus its packaging."""

import sys
import tomllib
import uuid
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "plugins" / "_template"
# The template is copied, not installed (no distribution, so no entry point): import it from its source folder and
# register its plugin module on a manager of our own, exactly as the entry point would.
sys.path.insert(0, str(TEMPLATE / "src"))

import orka_memory_memory.plugin  # noqa: E402
from orka_memory import create_memory_logger  # noqa: E402
from orka_memory.backend import Capability, HeldBlobs  # noqa: E402
from orka_memory.plugins import PluginManager  # noqa: E402
from orka_memory.testing import LoggerConformance  # noqa: E402
from orka_memory.testing.conformance import LARGE_OUTPUT, MakeLogger  # noqa: E402
from orka_memory_memory import MemoryBackend, MemorySettings  # noqa: E402
from orka_memory_memory.backend import _stores  # noqa: E402

manager = PluginManager().load()
manager.register(orka_memory_memory.plugin, name="memory")


class TestTemplateBackendConformance(LoggerConformance):
    @pytest.fixture
    def make_logger(self, tmp_path: Path) -> MakeLogger:
        store = f"test-{uuid.uuid4().hex}"  # a fresh shared store per test

        def make(**settings: object):  # type: ignore[no-untyped-def]
            return create_memory_logger(
                "memory", name=store, spool_dir=str(tmp_path / "spool"), plugins=manager, **settings
            )

        return make


def test_register_backends_registers_the_template_backend() -> None:
    assert manager.backends()["memory"] is MemoryBackend
    assert manager.registered_by("memory") == ["backend:memory"]
    assert Capability.VECTOR_SEARCH not in MemoryBackend.capabilities


def test_stores_are_shared_by_name_and_survive_close(tmp_path: Path) -> None:
    store = f"test-{uuid.uuid4().hex}"
    with create_memory_logger("memory", name=store, spool_dir=str(tmp_path), plugins=manager) as memory:
        assert memory.backend.describe() == f"memory:{store}"
        memory.set("k", "v")
    with create_memory_logger("memory", name=store, spool_dir=str(tmp_path), plugins=manager) as again:
        assert again.get("k") == "v"
    with create_memory_logger("memory", name=f"{store}-other", spool_dir=str(tmp_path), plugins=manager) as other:
        assert other.get("k") is None


def test_a_backend_without_held_blobs_is_asked_through_get_blobs(tmp_path: Path) -> None:
    """The template does not offer ``held_blobs`` (``HeldBlobs`` is optional): the writer asks ``get_blobs``, and a
    blob the store lost is still sent again with the next record that refers to it."""
    shared = LARGE_OUTPUT
    store = f"test-{uuid.uuid4().hex}"
    assert not isinstance(MemoryBackend, HeldBlobs) and not hasattr(MemoryBackend, "held_blobs")
    with create_memory_logger("memory", name=store, spool_dir=str(tmp_path), plugins=manager) as memory:
        memory.log("agent", "result", {"out": shared}, step=1, run_id="r")
        memory.flush()
        _stores[store].blobs.clear()  # the store lost its blobs
        memory.log("agent", "result", {"out": shared}, step=2, run_id="r")
        memory.flush()
        assert memory.get_performance_metrics()["blobs_resent"] == 1
        assert [event["payload"]["out"] for event in memory.trace("r")] == [shared, shared]


def test_settings_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="nme"):
        MemorySettings(nme="x")  # type: ignore[call-arg]


def test_template_package_depends_on_the_core_alone_and_names_its_plugin_module() -> None:
    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["project"]
    assert project["name"] == "orka-memory-memory"
    assert project["dependencies"] == ["orka-memory-core>=0.1,<0.2"]
    assert project["entry-points"]["orka_memory"] == {"memory": "orka_memory_memory.plugin"}
