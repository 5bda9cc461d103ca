"""The architecture holds: imports point down the layers of docs/architecture.md, no module imports another
in a circle (lazy imports included), and ``linsgd --help`` loads none of the heavy packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import linsgd

SRC = Path(linsgd.__file__).parent
# docs/architecture.md, "The rooms and what each may import": a room may import rooms of lower layers
LAYERS = {
    0: {"errors", "_version", "_parallel", "_prefetch", "_small", "_faults", "_held"},
    1: {"config", "storage", "extras", "standardize", "_jit_cache"},
    2: {"data", "lstsq", "scratch"},
    3: {"engines"},
    4: {"sgd", "model_checks"},
    5: {"model", "metrics", "plots", "export_formula"},
    6: {"runs", "export", "lesson", "estimator_inputs"},
    7: {"estimator", "cli"},
    8: {"__init__", "__main__"},
}
LAYER = {room: k for k, rooms in LAYERS.items() for room in rooms}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module → the linsgd modules it imports anywhere in the file (functions included)."""
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    out = {}
    for mod, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            hits = [n for n in names if n in modules and n != mod]
            # `from pkg import submodule` ties to the submodule, not the package
            found |= {n for n in hits if not any(h.startswith(n + ".") for h in hits)}
        out[mod] = found
    return out


def _room(mod: str) -> str:
    parts = mod.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_every_import_points_down_the_layers():
    wrong = [(a, b) for a, targets in _imports().items() for b in targets
             if _room(a) != _room(b) and b != "linsgd" and LAYER[_room(b)] >= LAYER[_room(a)]]
    assert not wrong, wrong


def test_no_module_imports_another_in_a_circle():
    graph, seen, on_path, circles = _imports(), set(), [], []

    def visit(m: str) -> None:
        on_path.append(m)
        for n in sorted(graph[m]):
            if n in on_path:
                circles.append(on_path[on_path.index(n):] + [n])
            elif n not in seen:
                visit(n)
        on_path.pop()
        seen.add(m)

    for m in sorted(graph):
        if m not in seen:
            visit(m)
    assert not circles, circles


def test_linsgd_help_loads_no_heavy_package():
    heavy = ("torch", "numba", "matplotlib", "sklearn", "scipy", "pyarrow", "numpy")
    code = ("import sys\nfrom linsgd.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr


def test_no_subpackage_shadows_a_public_name():
    """Importing every module (which sets each subpackage as an attribute of ``linsgd``) leaves every name of
    ``linsgd.__all__`` what the API promises, e.g. ``linsgd.exact`` the function, not a package."""
    import importlib
    import pkgutil
    import types

    for m in pkgutil.walk_packages(linsgd.__path__, "linsgd."):
        if not m.name.endswith("__main__"):
            importlib.import_module(m.name)
    shadowed = [n for n in linsgd.__all__ if isinstance(getattr(linsgd, n), types.ModuleType)]
    assert not shadowed, shadowed
