"""The package's shape: imports go one way between modules and between parts, private names stay private.

The same rules hold for the benchmark suite (bench/, beside src/), read as
the package ``bench``. These read the source with ``ast``; nothing is
imported. An import counts wherever it stands (module level or inside a
function), except under ``if TYPE_CHECKING:``, which never runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "backprop"
#: The packages the rules cover: the library, and the benchmark suite beside it.
PACKAGES = (PACKAGE, ROOT / "bench")


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path, package): path
    for package in PACKAGES
    for path in sorted(package.rglob("*.py"))
}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree except those inside ``if TYPE_CHECKING:``."""
    nodes: list[ast.AST] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for child in node.orelse:
                visit(child)
            return
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return nodes


def _imports_of(name: str, path: Path) -> set[str]:
    """The package's modules that module ``name`` imports at run time."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import training` imports the submodule backprop.training.fit
            submodules = {f"{module}.{alias.name}" for alias in node.names}
            found.update(submodules & MODULES.keys() or {module})
    return {module for module in found if module in MODULES and module != name}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle() -> None:
    graph = {name: _imports_of(name, path) for name, path in MODULES.items()}
    # the package's __init__ imports its modules; none may import the package back
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_imports_are_read_at_every_depth_but_not_for_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from .nn.layers import Dense\n"
        "from .training import fit\n"
        "if TYPE_CHECKING:\n    from .network import Network\n"
        "def f():\n    from .files.model_file import save\n"
    )
    path = PACKAGE / "_probe_.py"
    tree_nodes = _runtime_nodes(ast.parse(source))
    assert not any(
        isinstance(node, ast.ImportFrom) and node.module == "network" for node in tree_nodes
    )
    try:
        path.write_text(source, encoding="utf-8")
        imports = _imports_of("backprop._probe_", path)
    finally:
        path.unlink()
    assert imports == {"backprop.nn.layers", "backprop.training.fit", "backprop.files.model_file"}


#: The foundation: modules at the package's top that every other part may import.
FOUNDATION = {"_typing", "version", "errors", "limits", "validation", "interrupt", "blas_threads",
              "blas_kernels", "processor", "moved", "jit", "prebuilt", "cache_folder"}
ENGINE = {"nn", "optim", "training", "files", "datasets", "streaming", "network", "export", "spec"}
FRONT_ENDS = {"cli", "lab", "sklearn", "sweep"}

#: What each part of the library may import besides the foundation and itself (the
#: picture in docs/architecture.md). The teaching modules sit above the engine, the front
#: ends above both; nothing imports a front end but the command's launchers of two of them.
MAY_IMPORT: dict[str, set[str]] = {
    "foundation": set(),
    "nn": set(),
    "optim": set(),
    "files": {"nn", "optim", "training", "network"},
    "datasets": {"files"},
    "streaming": {"files", "datasets"},
    "training": {"nn", "optim", "files", "streaming"},
    "network": {"nn", "training", "files", "export"},
    "export": {"nn", "network", "files"},
    "spec": {"nn", "optim", "network", "training"},
    "aot": {"nn", "optim"},
    "teaching": ENGINE,
    "package": ENGINE | {"teaching"},
    "__main__": {"cli"},
    **{front_end: ENGINE | {"teaching", "package"} for front_end in FRONT_ENDS},
}
#: The only imports of one front end by another: the subcommands that start the lab and the sweep.
LAUNCHERS = {("backprop.cli.lab", "lab"), ("backprop.cli.sweep", "sweep")}


def _part(module: str) -> str:
    """The part of the library a module belongs to: its package under backprop, or foundation."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    return "foundation" if parts[1] in FOUNDATION else parts[1]


def test_every_part_imports_only_what_it_may() -> None:
    """Imports go one way between the parts; front ends (cli, lab, sklearn, sweep) never
    import each other, but for the command's two launchers."""
    offences = []
    library = {name: path for name, path in MODULES.items() if name.startswith("backprop")}
    for name, path in library.items():
        part = _part(name)
        assert part in MAY_IMPORT, f"{name}: its part {part!r} has no place in MAY_IMPORT"
        allowed = MAY_IMPORT[part] | {part, "foundation"}
        for target in sorted(_imports_of(name, path)):
            other = _part(target)
            if other not in allowed and (name, other) not in LAUNCHERS:
                offences.append(f"{name} imports {target} ({part} may not import {other})")
    assert not offences, "\n".join(offences)


def _private_names_defined(tree: ast.AST) -> set[str]:
    """Underscore names a module defines: functions, classes, assignments, self._x attributes."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


def _private_names_used(tree: ast.AST) -> set[tuple[str, int]]:
    """(name, line) of every ``x._name`` attribute and every ``from m import _name``.

    ``self._name`` and ``cls._name`` are left out: a subclass may use what its
    base class keeps for subclasses, wherever that base class is defined.
    """
    used: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            used.add((node.attr, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            used.update((a.name, node.lineno) for a in node.names if a.name.startswith("_"))
    return {(name, line) for name, line in used if not name.startswith("__")}


def test_no_module_uses_another_modules_private_names() -> None:
    trees = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}
    defined = {name: _private_names_defined(tree) for name, tree in trees.items()}
    offences = []
    for name, tree in trees.items():
        for private, line in sorted(_private_names_used(tree)):
            owners = [other for other, names in defined.items() if private in names]
            if private not in defined[name] and owners:
                offences.append(f"{name}:{line} uses {private} of {', '.join(owners)}")
    assert not offences, "\n".join(offences)


def test_the_private_name_check_sees_a_reach_into_another_module() -> None:
    owner = ast.parse("class Network:\n    def _forward(self):\n        pass\n")
    caller = ast.parse("def fit(net):\n    net._forward()\n")
    assert "_forward" in _private_names_defined(owner)
    assert ("_forward", 2) in _private_names_used(caller)
    assert "_forward" not in _private_names_defined(caller)
    subclass = ast.parse("class Mine(Base):\n    def fit(self):\n        self._forward()\n")
    assert not _private_names_used(subclass)
