"""The scripts in benchmarks/ still match the library: each imports (its module-level code and imports
run, its main does not), names only what andiflow's modules hold, and each with a command line answers
--help. Nothing is measured here."""

import ast
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))
WITH_PARSER = [path for path in BENCHMARKS if "ArgumentParser(" in path.read_text()]


def load(path: Path, monkeypatch) -> types.ModuleType:
    """The benchmark as a module; its __name__ is not "__main__", so its main() does not run."""
    name = f"benchmark_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def test_benchmarks_found():
    assert BENCHMARKS, f"no benchmarks/*.py under {ROOT}"


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.name)
def test_imports(path, monkeypatch):
    assert callable(getattr(load(path, monkeypatch), "main", None)), f"{path.name} has no main()"


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda path: path.name)
def test_library_names(path, monkeypatch):
    """Every `module.name` the script reads of an andiflow module it imported (e.g. settings.resolve),
    also inside functions that only a real run reaches, exists."""
    module = load(path, monkeypatch)
    imported = {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "andiflow"
    }
    missing = sorted(
        f"{node.value.id}.{node.attr} (line {node.lineno})"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in imported
        and not hasattr(imported[node.value.id], node.attr)
    )
    assert not missing, f"{path.name} names what andiflow no longer has: {', '.join(missing)}"


@pytest.mark.parametrize("path", WITH_PARSER, ids=lambda path: path.name)
def test_help(path):
    done = subprocess.run([sys.executable, str(path), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout
