"""The ADT room after issue 10: `services/adt/` is split by user action into small modules
with plain top-level imports (no import inside a function, no ImportError guard, no
`_optional_module` / getattr probe for our own modules), and the ADT and quarantine services
hold no SQL (it lives in `store/repos/adt.py` and `store/repos/quarantine.py`). The one
exception (issue 15): the package's `__getattr__` loads a re-exported name's module on first
use, from a fixed table (`_WHERE`), so that `smki adt verify` does not import signing's modules."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def _lazy_reexport_hook(p: Path) -> set[int]:
    """ids of the nodes of the package's PEP 562 `__getattr__` (the table-driven lazy
    re-export), the only place allowed to import by name."""
    if p != ROOT / "services" / "adt" / "__init__.py":
        return set()
    return {id(n) for top in _tree_cache(p).body
            if isinstance(top, ast.FunctionDef) and top.name == "__getattr__"
            for n in ast.walk(top)}


_TREES: dict[Path, ast.Module] = {}


def _tree_cache(p: Path) -> ast.Module:
    if p not in _TREES:
        _TREES[p] = _tree(p)
    return _TREES[p]


def test_plain_top_level_imports_only() -> None:
    for p in MODULES:
        allowed = _lazy_reexport_hook(p)
        for node in ast.walk(_tree_cache(p)):
            if id(node) in allowed:
                continue
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


def test_reexports_are_loaded_on_first_use_only() -> None:
    """`__all__` and the lazy table agree, every name resolves to its module's object, and the
    verification's names do not load the signing identity, the delivery or the editor."""
    import smki_desktop.services.adt as adt
    from smki_desktop.services.adt import verify

    assert sorted(adt._WHERE) == sorted(adt.__all__)
    assert adt.verify_file is verify.verify_file
    probe = ("import sys\nfrom smki_desktop.services import adt\nadt.verify_file\n"
             "print(' '.join(sorted(m for m in sys.modules if m.startswith('smki_desktop'))))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                       timeout=60)
    loaded = set(r.stdout.split())
    assert "smki_desktop.services.adt.verify" in loaded
    assert not loaded & {"smki_desktop.services.adt.identity", "smki_desktop.services.adt.sign",
                         "smki_desktop.services.adt.delivery", "smki_desktop.services.adt.edit"
                         }, sorted(loaded)  # (the officer register it loads: the signer is
    # checked against it, `services/adt/signer_check.py`)
    for name in adt.__all__:
        assert getattr(adt, name) is not None
