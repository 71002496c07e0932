"""Docs cannot drift from the code: every hook is documented with its signature and has a test named after it."""

import inspect
import re
from pathlib import Path

import pytest
from orka_memory import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("orka_memory_")]


def test_there_are_hooks() -> None:
    assert set(HOOKS) == {
        "orka_memory_register_backends",
        "orka_memory_register_codecs",
        "orka_memory_register_embedders",
        "orka_memory_serialize",
    }


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook: str) -> None:
    parameters = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    readme = (ROOT / "README.md").read_text()
    assert f"### {hook}({parameters})" in readme


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_named_after_it(hook: str) -> None:
    short = hook.removeprefix("orka_memory_")
    sources = "\n".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
    assert re.search(rf"def test_{short}\w*\(", sources), f"no test named test_{short}..."


def test_every_package_has_the_same_inner_shape() -> None:
    for package in [ROOT / "core", *sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir())]:
        assert (package / "pyproject.toml").is_file() and (package / "README.md").is_file(), package
        [source] = [p for p in (package / "src").iterdir() if p.is_dir() and p.name.startswith(("orka_memory", "{{"))]
        assert (source / "version.py").is_file() and (source / "py.typed").is_file(), source
