"""Faces are faces (issue 10, item 3): the CLI (`smki_desktop/cli/`) and the GUI
(`smki_desktop/gui/`) reach storage, the portal and the audit log only through services.

Read with `ast` from the source (nothing is imported), so that an import inside a function, a
`TYPE_CHECKING` block or an `importlib.import_module("...")` counts as much as one at the top:
- no module of a face imports `smki_desktop.store*` or `smki_desktop.portal*` (relative
  imports resolved, `from smki_desktop import store` included);
- no face uses the `.db` or `.audit` attribute of an application context (`ctx.db`,
  `self.services.ctx.audit`, `app.context().db`, a name bound to a context, a parameter
  annotated `AppContext`);
- no face holds SQL: no `.execute(`/`.executemany(`/`.executescript(` call and no string
  literal with an SQL statement (`SELECT ... FROM`, `INSERT INTO`, `UPDATE ... SET`,
  `DELETE FROM`, `CREATE TABLE`; upper case, as every statement of ours is written);
- the two faces share no block of identical code (4 statement lines or more, blank lines,
  comments, imports and lone brackets left out): shared logic belongs in a service.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import smki_desktop

PACKAGE = Path(smki_desktop.__file__).parent
FACES = ("cli", "gui")
FORBIDDEN_PACKAGES = ("smki_desktop.store", "smki_desktop.portal")
CONTEXT_ATTRIBUTES = ("db", "audit")
CONTEXT_NAMES = {"ctx", "context", "app_ctx", "live_ctx", "test_ctx"}
SQL = re.compile(r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
                 r"|\bDELETE\s+FROM\b|\bCREATE\s+(TABLE|INDEX)\b|\bPRAGMA\s+\w+")
SQL_CALLS = {"execute", "executemany", "executescript"}
SHARED_LINES = 4


def face_modules() -> Iterator[tuple[str, Path]]:
    for face in FACES:
        for path in sorted((PACKAGE / face).rglob("*.py")):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"


def _forbidden(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in FORBIDDEN_PACKAGES)


def _resolve(module_name: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module_name.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def forbidden_imports(module_name: str, path: Path, tree: ast.AST) -> list[str]:
    found = []
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module_name, is_package, node)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            names = [node.args[0].value]
        bad = sorted({n for n in names if _forbidden(n)})
        if bad:
            found.append(f"{_where(path, node)} imports {bad[0]}")
    return found


def _is_context(expr: ast.AST, bound: set[str]) -> bool:
    """An expression that is (very likely) an AppContext."""
    if isinstance(expr, ast.Name):
        return expr.id in CONTEXT_NAMES or expr.id in bound
    if isinstance(expr, ast.Attribute):
        return expr.attr in ("ctx", "context", "_ctx")
    if isinstance(expr, ast.Call):
        f = expr.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        return name in ("context", "open_context")
    return False


def _context_names(tree: ast.AST) -> set[str]:
    """Names bound to a context: `c = self.services.ctx`, `def f(c: AppContext)`."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_context(node.value, set()):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and (
                "AppContext" in ast.unparse(node.annotation)
                or (node.value is not None and _is_context(node.value, set()))):
            bound.add(node.target.id)
        elif isinstance(node, ast.arg) and node.annotation is not None \
                and "AppContext" in ast.unparse(node.annotation):
            bound.add(node.arg)
        elif isinstance(node, ast.withitem) and _is_context(node.context_expr, set()) \
                and isinstance(node.optional_vars, ast.Name):
            bound.add(node.optional_vars.id)
    return bound


def context_internals(path: Path, tree: ast.AST) -> list[str]:
    bound = _context_names(tree)
    return [f"{_where(path, node)} uses {ast.unparse(node)}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in CONTEXT_ATTRIBUTES
            and _is_context(node.value, bound)]


def sql_in(path: Path, tree: ast.AST) -> list[str]:
    found = []
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)
                   for v in n.values}
    for node in ast.walk(tree):
        if id(node) in in_fstrings:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in SQL_CALLS:
            found.append(f"{_where(path, node)} calls .{node.func.attr}(")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SQL.search(node.value):
            found.append(f"{_where(path, node)} holds SQL {node.value[:60]!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values
                           if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if SQL.search(text):
                found.append(f"{_where(path, node)} holds SQL {text[:60]!r}")
    return found


def _parsed() -> list[tuple[str, Path, ast.AST]]:
    return [(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for name, path in face_modules()]


def test_faces_do_not_import_store_or_portal() -> None:
    found = [f for name, path, tree in _parsed() for f in forbidden_imports(name, path, tree)]
    assert not found, "faces import storage or the portal (call a service):\n" + "\n".join(found)


def test_faces_do_not_use_the_database_or_the_audit_log_of_a_context() -> None:
    found = [f for _, path, tree in _parsed() for f in context_internals(path, tree)]
    assert not found, ("faces reach ctx.db / ctx.audit (every change and audit record goes "
                       "through a service):\n" + "\n".join(found))


def test_faces_hold_no_sql() -> None:
    found = [f for _, path, tree in _parsed() for f in sql_in(path, tree)]
    assert not found, "faces hold SQL (it belongs in store/repos):\n" + "\n".join(found)


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """The statement lines of a file, white space folded; blank lines, comments, imports,
    decorators and lone brackets left out (what a duplicate scan compares)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = " ".join(line.split())
        if not text or text.startswith(("#", "import ", "from ", "@")) \
                or not any(ch.isalnum() for ch in text):
            continue
        out.append((number, text))
    return out


def shared_blocks(lines: int = SHARED_LINES) -> list[str]:
    runs: dict[tuple[str, ...], set[tuple[str, str, int]]] = defaultdict(set)
    for face in FACES:
        for path in sorted((PACKAGE / face).rglob("*.py")):
            code = _code_lines(path)
            for i in range(len(code) - lines + 1):
                key = tuple(t for _, t in code[i:i + lines])
                runs[key].add((face, str(path.relative_to(PACKAGE.parent)), code[i][0]))
    return [" ~ ".join(f"{p}:{n}" for _, p, n in sorted(places)) + "\n    " + "\n    ".join(key)
            for key, places in runs.items() if len({f for f, _, _ in places}) == len(FACES)]


def test_cli_and_gui_share_no_identical_block() -> None:
    found = shared_blocks()
    assert not found, ("the CLI and the GUI repeat the same code (move it into a service):\n"
                       + "\n".join(found))


# -- the checks themselves catch what they are meant to catch ---------------------------------
_BAD = '''
from smki_desktop.store.atomic import write_atomic
from ...portal import outbox
import smki_desktop.store.db as dbm

def f(app, services):
    from smki_desktop.portal.outbox import Outbox
    ctx = app.context()
    ctx.audit.record("x", {})
    services.ctx.db.conn().execute("SELECT key_id FROM keys WHERE environment=?", ("test",))
    c = services.ctx
    c.db.transaction()
    app.context().audit.entries()
    importlib.import_module("smki_desktop.portal.ws_client")
    sql = f"DELETE FROM keys WHERE key_id={1}"

def g(res, c2: AppContext):
    c2.audit.verify()
    return res.audit.seq  # a result's audit entry is not the log
'''


def test_the_rules_find_what_they_are_for(tmp_path: Path) -> None:
    tree = ast.parse(_BAD)
    path = PACKAGE / "cli" / "commands" / "example.py"
    imports = forbidden_imports("smki_desktop.cli.commands.example", path, tree)
    assert len(imports) == 5, imports
    assert any(i.endswith(":3 imports smki_desktop.portal") for i in imports), imports
    uses = context_internals(path, tree)
    assert sorted(u.split(" uses ")[1] for u in uses) == [
        "app.context().audit", "c.db", "c2.audit", "ctx.audit", "services.ctx.db"], uses
    sql = sql_in(path, tree)
    assert len(sql) == 3, sql  # the execute call, its SELECT and the f-string DELETE
    assert not SQL.search("Select a key from the list, then update the label.")


def test_relative_imports_are_resolved() -> None:
    node = ast.parse("from ...store import atomic").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve("smki_desktop.cli.commands.example", False, node) == "smki_desktop.store"
    node = ast.parse("from ...portal import outbox").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve("smki_desktop.gui.pages", True, node) == "smki_desktop.portal"


def test_the_duplicate_check_finds_a_shared_block(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    block = ("    data = render(ctx, officer_id)\n    out = write(path, data)\n"
             "    record('officer.pdf', out)\n    return out\n")
    for face in FACES:
        (tmp_path / "smki_desktop" / face).mkdir(parents=True)
        (tmp_path / "smki_desktop" / face / "m.py").write_text(f"def f{face}():\n{block}")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "smki_desktop")
    found = shared_blocks()
    assert len(found) == 1, found
    assert found[0].startswith("smki_desktop/cli/m.py:2 ~ smki_desktop/gui/m.py:2"), found
