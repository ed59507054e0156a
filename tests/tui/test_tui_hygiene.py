"""The TUI package's hygiene: no private Textual attributes, no attribute shadowing Textual's, no import
cycles, every module importable on its own."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import workbench.tui

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "workbench" / "tui"
MODULES = sorted(m.name for m in pkgutil.walk_packages(workbench.tui.__path__, "workbench.tui."))
# Names our Textual subclasses set or override on purpose (Textual's documented extension points).
MEANT_OVERRIDES = {"compose", "render_line", "title", "sub_title", "virtual_size"}


def _sources() -> dict[str, ast.Module]:
    return {str(p.relative_to(ROOT)): ast.parse(p.read_text(encoding="utf-8")) for p in TUI.rglob("*.py")}


def _own_private_names(cls: ast.ClassDef) -> set[str]:
    """Private names a class of ours defines: its methods, class-level fields and the ``self._x`` it assigns."""
    names = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    names |= {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(node.attr)
    return {n for n in names if n.startswith("_")}


def test_no_private_attribute_of_anything_but_our_own_classes():
    found = []
    for path, tree in _sources().items():
        classes = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef)]
        own = {c: _own_private_names(c) for c in classes}
        for cls in classes:
            for node in ast.walk(cls):
                if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
                    continue
                on_self = isinstance(node.value, ast.Name) and node.value.id == "self"
                if not (on_self and node.attr in own[cls]):
                    found.append(f"{path}:{node.lineno} {ast.unparse(node)}")
        for node in tree.body:  # module-level functions
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Attribute) and sub.attr.startswith("_") and not sub.attr.startswith("__"):
                        found.append(f"{path}:{sub.lineno} {ast.unparse(sub)}")
    assert not found, "private attributes of objects that are not ours:\n" + "\n".join(found)
    text = "\n".join(p.read_text(encoding="utf-8") for p in TUI.rglob("*.py"))
    for name in ("_screen_stacks", "_background_screens", "app._", "screen._", "_current_mode"):
        assert name not in text, name


def _textual_subclasses():
    from textual.message_pump import MessagePump

    for name in MODULES:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, MessagePump) and cls.__module__ == name:
                yield cls


def test_our_textual_subclasses_shadow_no_textual_attribute():
    """A name we set on a screen or widget must not be one Textual uses (``loading``, ``_ready``...)."""
    clashes = []
    for cls in _textual_subclasses():
        base = next(b for b in cls.__mro__ if b.__module__.startswith("textual."))
        instance = base()  # Textual's instance attributes too, not only its class attributes
        tree = ast.parse(inspect.getsource(cls)).body[0]
        names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id == "self":
                    names.add(node.attr)
        clashes += [
            f"{cls.__module__}.{cls.__name__}.{n}"
            for n in sorted(names - MEANT_OVERRIDES)
            if not n.startswith("__") and hasattr(instance, n)
        ]
    assert not clashes, clashes


def test_no_import_cycle_inside_the_tui():
    """Imports between workbench.tui modules (lazy ones too) form no cycle: screens never import the app."""
    sources = _sources()
    names = {p.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for p in sources}
    graph: dict[str, set[str]] = {}
    for path, tree in sources.items():
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        deps = graph.setdefault(module, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workbench.tui"):
                for alias in node.names:  # `from package import module` points at the module
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in names else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("workbench.tui"))
    for module in graph:
        graph[module] = {d for d in graph[module] if d in graph and d != module}

    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycle = trail[trail.index(dep) :] + [dep] if dep in trail else [module, dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[module] = 2

    assert "workbench.tui.app" in graph and "workbench.tui.screens.run" in graph
    assert "workbench.tui.app" not in graph["workbench.tui.screens.run"]
    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_every_tui_module_imports_on_its_own():
    """Each module in a fresh interpreter (an import that only works after another module hides a cycle)."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in MODULES
    }
    failed = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        if proc.returncode:
            failed[name] = err.decode(errors="replace")[-400:]
    assert "workbench.tui.queries" not in MODULES  # the browsing queries live in workbench.store.browse
    assert len(MODULES) >= 15 and not failed, failed
