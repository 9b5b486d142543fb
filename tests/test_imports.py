"""The library's modules import one another without a circle, lazy imports included, so that each layer
can be read, tested and replaced on its own (the package's face, andiflow/__init__.py, aside)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "andiflow"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("andiflow"):
                found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = {m for m in found if m in modules and m not in (name, "andiflow")}
    return graph


def test_no_module_imports_itself_back():
    graph = imports()

    def reach(start, node, seen):
        for nxt in graph[node]:
            if nxt == start:
                return [node]
            if nxt not in seen:
                seen.add(nxt)
                path = reach(start, nxt, seen)
                if path is not None:
                    return [node, *path]
        return None

    circles = {name: reach(name, name, set()) for name in graph}
    assert not {k: v for k, v in circles.items() if v}, circles
