"""The house rules of docs/internals.rst, checked on the code: layers, no circles, short modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portadb"
#: Where a function-local import of portadb code is allowed (see docs/internals.rst):
#: modules that must load before Django's settings are configured.
LAZY_DOORS = ("portadb", "portadb.management.commands.portadb", "portadb.demo.__main__", "portadb.demo.data",
              "portadb.child")
MAX_LINES = 400
VENDOR_NAMES = {"sqlite", "sqlite3", "postgresql", "postgres", "mysql", "mariadb", "oracle"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = modules()


def layers() -> list[tuple[str, list[str]]]:
    """(layer, names) from docs/internals.rst, the lowest layer first."""
    text = (ROOT / "docs" / "internals.rst").read_text()
    block = text.split(".. layers-start", 1)[1].split(".. layers-end", 1)[0]
    found = []
    for line in block.splitlines():
        match = re.match(r"\s+([a-z]+):\s+(.+)$", line)
        if match:
            found.append((match[1], match[2].split()))
        elif line.strip() and found:  # a layer's list goes on
            found[-1][1].extend(line.split())
    return found[::-1]


def layer_of(module: str, table: list[tuple[str, list[str]]]) -> int:
    """The layer of the most specific name that covers ``module``."""
    best, length = None, -1
    for level, (_, names) in enumerate(table):
        for name in names:
            full = "portadb" if name == "portadb" else f"portadb.{name}"
            covers = module == full or (module.startswith(full + ".") and name != "portadb")
            if covers and len(full) > length:
                best, length = level, len(full)
    assert best is not None, f"{module} is in no layer of docs/internals.rst"
    return best


def imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """(portadb modules imported at the top, [(line, module) imported inside a function])."""
    path = MODULES[module]
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def targets(node) -> list[str]:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names = [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]
        found = []
        for name in names:
            while name not in MODULES and "." in name:
                name = name.rpartition(".")[0]
            if name in MODULES and name != module:
                found.append(name)
        return found

    top = {t for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) for t in targets(node)}
    local = [(node.lineno, t)
             for function in ast.walk(tree) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
             for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))
             for t in targets(node)]
    return top, local


GRAPH = {m: imports(m)[0] for m in MODULES}


def test_every_module_is_in_a_layer_and_imports_only_downwards():
    table = layers()
    assert len(table) >= 5
    upward = []
    for module, targets in GRAPH.items():
        for target in targets:
            if layer_of(target, table) > layer_of(module, table):
                upward.append(f"{module} ({table[layer_of(module, table)][0]}) imports {target} "
                              f"({table[layer_of(target, table)][0]})")
    assert upward == []


def test_no_import_circles():
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert circles == []


def test_portadb_code_is_imported_at_the_top_of_a_module():
    hidden = [f"{module}:{line} imports {target}" for module in MODULES if module not in LAZY_DOORS
              for line, target in imports(module)[1]]
    assert hidden == []


def test_no_module_is_longer_than_the_house_allows():
    lengths = {module: len(path.read_text().splitlines()) for module, path in MODULES.items()}
    assert {module: n for module, n in lengths.items() if n > MAX_LINES} == {}


def test_vendor_names_appear_only_in_the_backends():
    named = []
    for module, path in MODULES.items():
        if module.startswith(("portadb.backends", "portadb.demo")):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VENDOR_NAMES:
                named.append(f"{module}:{node.lineno} {node.value!r}")
    assert named == []
