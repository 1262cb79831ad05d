"""`gui/qt.py` is the one place that imports Qt: its `__all__` lists every name it re-exports,
and the three lists in it (the names mypy sees, the names resolved at run time, `__all__`)
agree, so that a name added to one and not the others fails here rather than at first use.
Read with `ast`: importing the module must not pull in Qt for this check."""

from __future__ import annotations

import ast
from pathlib import Path

QT = Path(__file__).resolve().parents[2] / "smki_desktop" / "gui" / "qt.py"


def _lists() -> tuple[set[str], set[str], set[str]]:
    tree = ast.parse(QT.read_text(encoding="utf-8"))
    typed: set[str] = set()
    where: set[str] = set()
    exported: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # if TYPE_CHECKING:
            for sub in node.body:
                if isinstance(sub, ast.ImportFrom):
                    typed |= {a.asname or a.name for a in sub.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            name = target.id if isinstance(target, ast.Name) else ""
            if name == "_WHERE" and isinstance(node.value, ast.Dict):
                where = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
            elif name == "__all__" and isinstance(node.value, ast.List):
                exported = {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return typed, where, exported


def test_qt_module_lists_its_reexports() -> None:
    typed, where, exported = _lists()
    assert len(exported) > 50
    assert exported == where, f"__all__ vs _WHERE: {sorted(exported ^ where)}"
    assert exported == typed, f"__all__ vs the TYPE_CHECKING imports: {sorted(exported ^ typed)}"
