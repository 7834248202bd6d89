"""The package's shape, as CONTRIBUTING.md states it: no import cycle, no upward import,
one %onnx subcommand per file, deferred imports that say why, typed public parameters.

Imports are read from the source (function-level ones included; those under
`if TYPE_CHECKING:` left out, since they never run).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent
ADAPTERS = ("workbench.cli", "workbench.magics", "workbench.widgets", "workbench.server")
NOTEBOOK_PACKAGES = ("IPython", "ipywidgets", "ipykernel", "tornado", "jupyter_server", "notebook")
MAX_TOP_LEVEL_MODULES = 10  # besides __init__, __main__ and _version
# The package's entry points hand over to adapters: %load_ext to the magics, -m to the CLI.
ENTRY_POINTS = ("workbench", "workbench.__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts}


def _runtime_imports(path: Path, name: str) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at function level) for every import that can run."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    yield from walk(other, in_function)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    stem = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*stem, base] if base else stem)
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    yield (full if full in _modules() else base), child.lineno, in_function
            nested = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            yield from walk(child, nested)

    yield from walk(ast.parse(path.read_text()), False)


@cache
def _graph() -> dict[str, set[str]]:
    """Module -> the workbench modules it imports at run time."""
    graph: dict[str, set[str]] = {}
    for name, path in _modules().items():
        targets = set()
        for imported, _, _ in _runtime_imports(path, name):
            target = imported
            while target and target not in _modules():
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, targets in graph.items():
        if root in index:
            continue
        work = [(root, iter(sorted(targets)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_is_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def _is_adapter(module: str) -> bool:
    return module.startswith(ADAPTERS)


def test_the_core_imports_no_adapter_and_no_notebook_package() -> None:
    offences = []
    for name, path in _modules().items():
        if _is_adapter(name) or name in ENTRY_POINTS:
            continue
        for imported, line, _ in _runtime_imports(path, name):
            if _is_adapter(imported) or imported.split(".")[0] in NOTEBOOK_PACKAGES:
                offences.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert offences == []


def test_adapters_stand_side_by_side() -> None:
    # Widgets, the server and the CLI know no other adapter; the magics may use the CLI's
    # shared flags and open the explorer.
    allowed = {
        "workbench.magics": ("workbench.cli.flags", "workbench.widgets.explorer"),
    }
    offences = []
    for name, path in _modules().items():
        if not _is_adapter(name):
            continue
        own = next(a for a in ADAPTERS if name.startswith(a))
        for imported, line, _ in _runtime_imports(path, name):
            foreign = _is_adapter(imported) and not imported.startswith(own)
            if foreign and imported not in allowed.get(own, ()):
                offences.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert offences == []


def test_deferred_imports_say_why() -> None:
    # A function-level import is kept only to save start-up time, with its reason beside it.
    silent = []
    for name, path in _modules().items():
        lines = path.read_text().splitlines()
        for _, line, in_function in _runtime_imports(path, name):
            if in_function and "noqa: PLC0415  (" not in lines[line - 1]:
                silent.append(f"{path.relative_to(PACKAGE)}:{line}: {lines[line - 1].strip()}")
    assert silent == []


def test_there_are_few_top_level_modules() -> None:
    top = [p.name for p in PACKAGE.glob("*.py")]
    others = sorted(set(top) - {"__init__.py", "__main__.py", "_version.py"})
    assert len(others) <= MAX_TOP_LEVEL_MODULES, others


def test_one_magic_subcommand_per_file() -> None:
    pytest.importorskip("IPython")
    from workbench.magics.subcommands import ALL

    folder = PACKAGE / "magics" / "subcommands"
    files = {p.stem for p in folder.glob("*.py")} - {"__init__"}
    modules = []
    for subcommand in ALL:
        module = inspect.getmodule(subcommand.command)
        assert module is not None
        assert inspect.getmodule(subcommand.parser) is module, subcommand.name
        assert module.__name__.startswith("workbench.magics.subcommands.")
        modules.append(module.__name__.rpartition(".")[2])
    assert sorted(modules) == sorted(files)  # every file is one subcommand, and only one


def _public_callables() -> Iterator[tuple[str, object]]:
    for name in workbench.__all__:
        value = getattr(workbench, name)
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                if not attribute.startswith("_") and callable(member):
                    yield f"{name}.{attribute}", member
            yield name, value
        elif callable(value):
            yield name, value


def test_public_parameters_taking_models_or_reports_are_typed() -> None:
    untyped = []
    for label, function in _public_callables():
        try:
            signature = inspect.signature(function)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        for parameter in signature.parameters.values():
            if parameter.name in ("model", "source", "report", "a", "b") and (
                parameter.annotation in ("Any", inspect.Parameter.empty)
            ):
                untyped.append(f"{label}({parameter.name})")
    assert untyped == []


# CONTRIBUTING.md's layers, bottom up; the most specific name decides a module's layer.
LAYERS = {
    1: ("workbench.errors", "workbench.text", "workbench.cache", "workbench._version",
        "workbench.bench.stats", "workbench.ort.capture", "workbench.ort.system",
        "workbench.tracking.changes"),
    2: ("workbench.model", "workbench.ort.runtime", "workbench.ort.providers",
        "workbench.ort.tensors", "workbench.ort.options", "workbench.ort.quantized",
        "workbench.render", "workbench.plots", "workbench.tracking.store"),
    3: ("workbench.feeds", "workbench.tracking.query"),
    4: ("workbench.run.result", "workbench.ort.profiling", "workbench.ort.doctor",
        "workbench.ort.session", "workbench.bench.config", "workbench.bench.measure",
        "workbench.bench.results", "workbench.bench.report", "workbench.graphview",
        "workbench.tracking.gate"),
    5: ("workbench.model.model", "workbench.model.diff"),
    6: ("workbench.run", "workbench.bench", "workbench.report", "workbench.graphview.show",
        "workbench.graphview.overlay", "workbench.variant", "workbench.loadtest", "workbench.demo",
        "workbench.tracking.transfer"),
    7: ADAPTERS,
}  # fmt: skip
# Package files that hold only a docstring (and an alias) belong to the bottom layer.
DOCSTRING_PACKAGES = {
    "workbench.model", "workbench.ort", "workbench.feeds", "workbench.run", "workbench.bench",
    "workbench.render", "workbench.report", "workbench.graphview", "workbench.cli",
    "workbench.variant", "workbench.loadtest", "workbench.tracking",
}  # fmt: skip


def _layer(module: str) -> int:
    if module in DOCSTRING_PACKAGES:
        return 1
    best, layer = "", 0
    for number, names in LAYERS.items():
        for name in names:
            covers = module == name or module.startswith(name + ".")
            if covers and len(name) > len(best):
                best, layer = name, number
    assert layer, f"{module} has no layer in CONTRIBUTING.md"
    return layer


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = []
    for name, targets in _graph().items():
        if name in ENTRY_POINTS:
            continue
        upward += [f"{name} ({_layer(name)}) -> {t} ({_layer(t)})" for t in targets
                   if _layer(t) > _layer(name)]  # fmt: skip
    assert upward == []


def test_contributing_maps_every_module_and_only_real_ones() -> None:
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text()
    mapped = set(re.findall(r"^\| `(workbench/[\w/]+\.py)` \|", text, re.MULTILINE))
    real = {str(p.relative_to(PACKAGE.parent)) for p in _modules().values()}
    assert mapped == real


def test_no_function_types_a_model_or_a_report_as_any() -> None:
    # The same rule, read from the source of every module (widgets and adapters included).
    untyped = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                annotation = ast.unparse(argument.annotation) if argument.annotation else ""
                if argument.arg in ("model", "source", "report", "a", "b") and annotation in (
                    "Any",
                    "object",
                ):
                    untyped.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}")
    assert untyped == []
