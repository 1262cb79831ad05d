"""The ADT room after issue 10: `services/adt/` is split by user action into small modules
with plain top-level imports (no import inside a function, no ImportError guard, no
`_optional_module` / getattr probe for our own modules), and the ADT and quarantine services
hold no SQL (it lives in `store/repos/adt.py` and `store/repos/quarantine.py`)."""

from __future__ import annotations

import ast
from pathlib import Path

import smki_desktop

ROOT = Path(smki_desktop.__file__).parent
MODULES = [*sorted((ROOT / "services" / "adt").glob("*.py")), ROOT / "services" / "quarantine.py"]


def _tree(p: Path) -> ast.Module:
    return ast.parse(p.read_text(encoding="utf-8"), str(p))


def test_the_package_is_split_into_small_modules() -> None:
    names = {p.stem for p in MODULES}
    assert {"profiles", "edit", "sign", "verify", "sro_confirm", "delivery"} <= names
    assert not (ROOT / "services" / "adt.py").exists()
    for p in MODULES:
        lines = len(p.read_text(encoding="utf-8").splitlines())
        assert lines < 400, f"{p.name}: {lines} lines"


def test_plain_top_level_imports_only() -> None:
    for p in MODULES:
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert not inner, f"{p.name}:{inner[0].lineno}: import inside {node.name}()"
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                assert "ImportError" not in ast.unparse(node.type), f"{p.name}:{node.lineno}"
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                assert called not in ("getattr", "hasattr", "importlib.import_module",
                                      "_optional_module"), f"{p.name}:{node.lineno}: {called}"


def test_no_sql_in_the_adt_and_quarantine_services() -> None:
    for p in MODULES:
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Attribute):
                assert node.attr not in ("execute", "executemany", "conn", "transaction"), \
                    f"{p.name}:{node.lineno}: .{node.attr}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.upper()
                assert not any(w in text for w in ("SELECT ", "INSERT INTO", "UPDATE ")), \
                    f"{p.name}:{node.lineno}: SQL"
