"""The import graph: no cycles, and a pure core that never reaches for I/O, Rich or Typer.

Every import counts, including those inside functions (lazy imports keep startup fast, but they
are still dependencies); only `if TYPE_CHECKING:` blocks are left out. The package root
`ketcheck/__init__.py` is the lazy public facade and is not part of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ketcheck"

# The pure core: value types, the engine, name matching and the knowledge base's types, specs and
# compiled form. Loaders (kb/load), inputs (sources/), renderers (render/) and the CLI sit above.
CORE = (
    "ketcheck.model",
    "ketcheck.options",
    "ketcheck.errors",
    "ketcheck.engine.",
    "ketcheck.matching.",
    "ketcheck.kb.knowledge",
    "ketcheck.kb.spec",
    "ketcheck.kb.tables",
    "ketcheck.kb.compiled",
    "ketcheck.kb.lexicon",
    "ketcheck.kb.protocol",
)
# What the core may not import: files, processes, terminals, the clock, and the outer layers.
FORBIDDEN = (
    "os",
    "sys",
    "io",
    "pathlib",
    "shutil",
    "tempfile",
    "subprocess",
    "multiprocessing",
    "signal",
    "sqlite3",
    "socket",
    "urllib",
    "http",
    "time",
    "rich",
    "typer",
    "click",
    "ketcheck.cli",
    "ketcheck.api",
    "ketcheck.describe",
    "ketcheck.kb.load",
    "ketcheck.sources",
    "ketcheck.render",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """Every module this module imports at run time (absolute names, submodules resolved)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: set[str] = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:  # `from ketcheck.kb import tables` imports a submodule
                if f"{base}.{alias.name}" in MODULES:
                    found.add(f"{base}.{alias.name}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def graph() -> dict[str, set[str]]:
    """Edges between ketcheck modules, without the package root facade."""
    return {
        name: {i for i in imports_of(name) if i in MODULES and i not in ("ketcheck", name)}
        for name in MODULES
        if name != "ketcheck"
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_the_walker_sees_lazy_and_relative_imports() -> None:
    assert "ketcheck.kb.tables" in imports_of("ketcheck.kb.knowledge")  # inside build()
    assert "rapidfuzz" in {i.split(".")[0] for i in imports_of("ketcheck.matching.resolve")}
    assert "ketcheck.model" not in imports_of("ketcheck.errors")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize("name", sorted(m for m in MODULES if m.startswith(CORE)))
def test_core_modules_do_no_io_and_know_no_terminal(name: str) -> None:
    bad = sorted(i for i in imports_of(name) for f in FORBIDDEN if i == f or i.startswith(f"{f}."))
    assert bad == [], f"{name} imports {bad}"


def test_renderers_never_read_input() -> None:
    for name in MODULES:
        if name.startswith("ketcheck.render"):
            assert not {i for i in imports_of(name) if i.startswith("ketcheck.sources")}, name


def test_every_module_is_described_in_architecture_md() -> None:
    import re

    text = (PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [
        name
        for name, path in MODULES.items()
        if path.stem not in ("__init__", "__main__")
        and not re.search(rf"[`/]{re.escape(path.stem)}(\.py|`|\.)", text)
    ]
    assert missing == [], f"ARCHITECTURE.md does not describe {missing}"
