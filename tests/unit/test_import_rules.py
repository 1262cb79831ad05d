"""House rules of the import graph and of where SQL lives (issue 10), read from the source.

(a) No import cycle between modules of `smki_desktop`. The graph is built with `ast` from every
    module, imports inside functions INCLUDED (an import inside a function is a dependency too:
    it only hides the cycle from the reader). `from pkg import name` is an edge to the module
    `pkg.name` when that is a module, else to `pkg`; relative imports are resolved;
    `importlib.import_module("smki_desktop....")` with a literal name is an edge as well.
    Imports under `if TYPE_CHECKING:` are left out: they never run.
(b) No `try: import smki_desktop... except ImportError` guard around our own modules (they always
    ship) and no `importlib.import_module` of our own modules, except in the plugin registries
    listed in IMPORT_MODULE_ALLOWED with the reason.
(c) No SQL outside `smki_desktop/store/`: no `.execute(` / `.executemany(` / `.executescript(`
    call and no SQL statement in a string literal (`SELECT ... FROM`, `INSERT INTO`,
    `UPDATE ... SET`, `DELETE FROM`, in capitals as the code writes SQL). The simulator
    (`smki_desktop/simulator/`) is exempt: it is the DCC's side of the wire, a separate process
    with its own database, not the application's store.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import smki_desktop

ROOT = Path(smki_desktop.__file__).parent
PKG = "smki_desktop"

# Modules that may call importlib.import_module on our own modules, each with why.
IMPORT_MODULE_ALLOWED = {
    # the migration registry: every store/schemas/<component>.py is found by walking the package
    "smki_desktop.store.db": "schema_modules(): store/schemas plugin registry",
    # `smki X` imports only X's command module (cli/commands/__init__.py COMMANDS)
    "smki_desktop.cli.main": "cli/commands registry (COMMANDS), one module per command",
    # the command agent imports, before it forks, what its children needed (PRELOAD, learnt)
    "smki_desktop.cli.agent_server": "command agent: PRELOAD and the modules children report",
    # a page is imported when first shown (gui/pages/__init__.py REGISTRY)
    "smki_desktop.gui.main_window": "gui/pages registry (REGISTRY), page imported when shown",
    "smki_desktop.gui.page_frame": "gui/pages registry: PageEntry imports its page when shown",
    # the Settings page's sections are found by walking gui/settings
    "smki_desktop.gui.pages.settings": "gui/settings sections registry",
    # services.adt re-exports its actions' functions, each submodule loaded on first use (_WHERE)
    "smki_desktop.services.adt": "lazy re-exports of its own submodules (_WHERE)",
    # the one Qt import point: imports PySide6 modules by name (_WHERE), never one of ours
    "smki_desktop.gui.qt": "lazy PySide6 re-exports (_WHERE names PySide6 modules only)",
}

# Parts of the tree exempt from the SQL rule, each with why.
SQL_EXEMPT = (
    "smki_desktop/store/",  # the one place with SQL
    "smki_desktop/simulator/",  # the DCC's side: a separate process with its own database
)

SQL_CALLS = {"execute", "executemany", "executescript"}
SQL_TEXT = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bINSERT\s+OR\s+(?:IGNORE|REPLACE)\b")


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(module: str, level: int, target: str | None) -> str:
    """The absolute name of a (possibly relative) import in `module`."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str) -> str | None:
    """The nearest module of ours that `name` (a dotted module name) names."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else (
                test.attr if isinstance(test, ast.Attribute) else "")
            if name == "TYPE_CHECKING":
                for sub in node.body:
                    skip.update(id(n) for n in ast.walk(sub))
    return skip


def _literal_import_module(node: ast.Call) -> str | None:
    """The module name of `importlib.import_module("...")` / `import_module("...")`, or "" for
    a name that is not a literal, None when the call is something else."""
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else "")
    if name != "import_module":
        return None
    if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value,
                                                                           str):
        return node.args[0].value
    return ""


def _edges(module: str, tree: ast.AST) -> Iterator[tuple[str, int]]:
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PKG) and (t := _known(alias.name)):
                    yield t, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node.level, node.module)
            if not base.startswith(PKG):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                t = sub if sub in MODULES else _known(base)
                if t:
                    yield t, node.lineno
        elif isinstance(node, ast.Call):
            lit = _literal_import_module(node)
            if lit and lit.startswith(PKG) and (t := _known(lit)):
                yield t, node.lineno


def _trees() -> dict[str, ast.Module]:
    return {m: ast.parse(p.read_text(encoding="utf-8"), str(p)) for m, p in MODULES.items()}


TREES = _trees()


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}."""
    graph: dict[str, dict[str, int]] = {m: {} for m in MODULES}
    for m, tree in TREES.items():
        for t, line in _edges(m, tree):
            if t != m:
                graph[m].setdefault(t, line)
    return graph


def _components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def _one_cycle(graph: dict[str, dict[str, int]], comp: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    members = set(comp)
    start = comp[0]
    prev: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                path.reverse()
                return [*path, start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def find_cycles() -> list[str]:
    graph = import_graph()
    out = []
    for comp in _components(graph):
        cycle = _one_cycle(graph, comp)
        steps = " -> ".join(f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(cycle))
        out.append(f"{len(comp)} modules in a knot: {', '.join(comp)}\n    e.g. {steps} -> "
                   f"{cycle[-1]}")
    return out


def find_import_guards() -> list[str]:
    """`try: import <ours> except ImportError` and import_module of our own modules."""
    out = []
    for m, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
                for sub in node.body:
                    for n in ast.walk(sub):
                        if isinstance(n, ast.Import | ast.ImportFrom):
                            names = [a.name for a in n.names] if isinstance(n, ast.Import) \
                                else [_resolve(m, n.level, n.module)]
                            if any(x.startswith(PKG) for x in names):
                                out.append(f"{m} line {n.lineno}: ImportError guard around "
                                           f"{names[0]}")
            if isinstance(node, ast.Call) and m not in IMPORT_MODULE_ALLOWED:
                lit = _literal_import_module(node)
                if lit is not None and (lit == "" or lit.startswith(PKG)):
                    out.append(f"{m} line {node.lineno}: importlib.import_module("
                               f"{lit or '<computed name>'}) outside the registries")
    return out


def _catches_import_error(h: ast.ExceptHandler) -> bool:
    types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
    return any(isinstance(t, ast.Name) and t.id in ("ImportError", "ModuleNotFoundError")
               for t in types)


def _docstring_ids(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant):
                out.add(id(body[0].value))
    return out


def _string_parts(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str)
                       else "{}" for v in node.values)
    return None


def sql_in_tree(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every SQL call and SQL statement text in a module (not docstrings)."""
    out: list[tuple[int, str]] = []
    docs = _docstring_ids(tree)
    inner: set[int] = set()  # the parts of an f-string, checked as the whole
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(v) for v in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in SQL_CALLS:
            out.append((node.lineno, f".{node.func.attr}("))
            continue
        if id(node) in docs or id(node) in inner:
            continue
        text = _string_parts(node)
        if text is not None and SQL_TEXT.search(text):
            first = " ".join(text.split())[:60]
            out.append((getattr(node, "lineno", 0), f"SQL text {first!r}"))
    return out


def find_sql() -> list[str]:
    out = []
    for m, tree in TREES.items():
        rel = MODULES[m].relative_to(ROOT.parent).as_posix()
        if rel.startswith(SQL_EXEMPT):
            continue
        out += [f"{rel}:{line}: {what}" for line, what in sql_in_tree(tree)]
    return sorted(set(out), key=lambda s: (s.split(":")[0], int(s.split(":")[1])))


def _report(title: str, found: list[str]) -> str:
    return f"{title} ({len(found)}):\n  " + "\n  ".join(found)


def test_the_graph_sees_imports_inside_functions_and_relative_ones() -> None:
    """The scanner itself: a function-level import, a relative import and `from pkg import
    module` are edges; a TYPE_CHECKING import is not."""
    src = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
           "from . import crossing\nif TYPE_CHECKING:\n    from smki_desktop.gui import qt\n"
           "def f():\n    from smki_desktop.core import errors\n"
           "    import importlib\n    importlib.import_module('smki_desktop.core.eui')\n")
    edges = {t for t, _ in _edges("smki_desktop.services.certificates", ast.parse(src))}
    assert edges == {"smki_desktop.services.crossing", "smki_desktop.core.errors",
                     "smki_desktop.core.eui"}
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert _components(graph) == [["a", "b", "c"]]
    assert _one_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_the_sql_scan_sees_calls_and_statements() -> None:
    tree = ast.parse('"""SELECT x FROM doc is fine"""\ndef f(c):\n'
                     '    c.execute("x")\n    q = f"UPDATE t SET a={1}"\n'
                     '    s = "Select the key from the list"\n')
    assert [what for _, what in sql_in_tree(tree)] == [
        ".execute(", "SQL text 'UPDATE t SET a={}'"]


def test_no_import_cycles() -> None:
    cycles = find_cycles()
    assert not cycles, _report("import cycles between smki_desktop modules", cycles)


def test_no_import_guards_or_dynamic_imports_of_our_modules() -> None:
    found = find_import_guards()
    assert not found, _report("ImportError guards / import_module of our own modules", found)


def test_no_sql_outside_the_store() -> None:
    found = find_sql()
    assert not found, _report("SQL outside smki_desktop/store (simulator exempt)", found)
