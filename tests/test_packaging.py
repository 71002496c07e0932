"""What a user installs: the wheels of the workspace, installed with pip into a fresh virtual environment as
``pip install 'orka-memory[all]'`` installs them, work without the source tree.

The rest of the suite runs against the editable workspace, where a file left out of a wheel (a Lua script, a
``py.typed``, an entry point) is still found. Here pip installs the built wheels, taking their dependencies from the
package index as a user's pip would, and the installed console script and OrKa's import paths are used from
another directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Wheel name -> the workspace folder it is built from, and the import package it ships (None: the distribution that
# only ties the others together, by its dependencies and extras).
PACKAGES: dict[str, tuple[Path, str | None]] = {
    "orka_memory_core": (ROOT / "core", "orka_memory"),
    "orka_memory_file": (ROOT / "plugins" / "file", "orka_memory_file"),
    "orka_memory_redis": (ROOT / "plugins" / "redis", "orka_memory_redis"),
    "orka_memory_redisstack": (ROOT / "plugins" / "redisstack", "orka_memory_redisstack"),
    "orka_memory_kafka": (ROOT / "plugins" / "kafka", "orka_memory_kafka"),
    "orka_memory": (ROOT, None),
}
TEMPLATE = ROOT / "plugins" / "_template"
INSTALL_TIMEOUT_S = 600


def run(*command: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=INSTALL_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wheels")
    for source, _ in PACKAGES.values():
        run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", folder, source)
    return {name: next(folder.glob(f"{name}-*.whl")) for name in PACKAGES}


def fresh_environment(venv: Path, wheels: dict[str, Path], *requirements: str | Path) -> Path:
    """A new virtual environment in ``venv`` with ``requirements`` installed by pip, the workspace's packages taken
    from ``wheels`` and everything else from the package index; its bin folder."""
    run(sys.executable, "-m", "venv", venv)
    found = wheels["orka_memory"].parent
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--find-links", found, *requirements)
    return venv / "bin"


@pytest.fixture(scope="module")
def installed(wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install 'orka-memory[all]'`` in a fresh virtual environment; its bin folder."""
    return fresh_environment(tmp_path_factory.mktemp("venv"), wheels, "orka-memory[all]")


@pytest.mark.slow
def test_each_wheel_carries_its_type_marker_and_its_data(wheels: dict[str, Path]) -> None:
    for name, (_, package) in PACKAGES.items():
        if package is not None:
            assert f"{package}/py.typed" in zipfile.ZipFile(wheels[name]).namelist(), name
    redis_files = zipfile.ZipFile(wheels["orka_memory_redis"]).namelist()
    scripts = {Path(name).name for name in redis_files if name.startswith("orka_memory_redis/lua/")}
    source, package = PACKAGES["orka_memory_redis"]
    shipped = {path.name for path in (source / "src" / str(package) / "lua").glob("*.lua")}
    assert scripts == shipped and "append.lua" in scripts


@pytest.mark.slow
def test_the_installed_distribution_lists_every_backend_and_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    listing = json.loads(run(installed / "orka-memory", "--json", "plugins", cwd=tmp_path))
    distributions = {plugin["distribution"] for plugin in listing["plugins"] if plugin["error"] is None}
    assert distributions == {name.replace("_", "-") for name in PACKAGES} - {"orka-memory"}
    backends = {backend["name"] for backend in listing["backends"]}
    assert backends == {"file", "redis", "redisstack", "kafka"}

    demo = run(installed / "orka-memory", "demo", cwd=tmp_path)
    assert "Trace of demo-" in demo
    assert (tmp_path / ".orka-memory" / "memory.db").is_file()  # the embedded default, where the docs say


@pytest.mark.slow
def test_orka_import_paths_work_from_the_installed_distribution(installed: Path, tmp_path: Path) -> None:
    script = (
        "from orka.memory_logger import create_memory_logger\n"
        "from orka.memory.redis_logger import RedisMemoryLogger\n"
        "from orka.memory.kafka_logger import KafkaMemoryLogger\n"
        "memory = create_memory_logger('file', path='orka.db')\n"
        "memory.log('agent', 'event', {'answer': 42}, run_id='r1', step=1)\n"
        "memory.flush()\n"
        "print(memory.trace('r1')[0]['payload']['answer'], RedisMemoryLogger.__name__, KafkaMemoryLogger.__name__)\n"
        "memory.close()\n"
    )
    assert run(installed / "python", "-c", script, cwd=tmp_path).split() == [
        "42",
        "RedisMemoryLogger",
        "KafkaMemoryLogger",
    ]


@pytest.mark.slow
def test_a_backend_copied_from_the_template_installs_and_is_found_by_its_entry_point(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    """The plugin guide's steps (plugins/_template/README.md): copy the template, rename ``memory`` to the new name
    (distribution, package folder, entry point, backend name), install it next to the core alone. Nothing else is
    registered anywhere: the core finds the backend through the entry point."""
    copy = tmp_path / "orka-memory-notes"
    shutil.copytree(TEMPLATE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "src" / "orka_memory_memory").rename(copy / "src" / "orka_memory_notes")
    for path in [copy / "pyproject.toml", *(copy / "src").rglob("*.py")]:
        text = path.read_text()
        text = text.replace("orka-memory-memory", "orka-memory-notes").replace(
            "orka_memory_memory", "orka_memory_notes"
        )
        text = text.replace('memory = "orka_memory_notes.plugin"', 'notes = "orka_memory_notes.plugin"')
        text = text.replace('name: ClassVar[str] = "memory"', 'name: ClassVar[str] = "notes"')
        path.write_text(text)

    bin_folder = fresh_environment(tmp_path / "venv", wheels, copy)  # its one dependency: orka-memory-core

    listing = json.loads(run(bin_folder / "orka-memory", "--json", "plugins", cwd=tmp_path))
    assert {(plugin["name"], plugin["distribution"]) for plugin in listing["plugins"]} >= {
        ("notes", "orka-memory-notes")
    }
    assert {backend["name"]: backend["health"] for backend in listing["backends"]}["notes"] == "ok"
    script = (
        "from orka_memory import create_memory_logger\n"
        "with create_memory_logger('notes', name='shared') as memory:\n"
        "    memory.log('agent', 'event', {'answer': 42}, run_id='r1', step=1)\n"
        "    memory.flush()\n"
        "    print(memory.backend.name, memory.trace('r1')[0]['payload']['answer'])\n"
    )
    assert run(bin_folder / "python", "-c", script, cwd=tmp_path).split() == ["notes", "42"]
