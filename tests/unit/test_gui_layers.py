"""The GUI depends downward: pages, controllers, widgets, wizards and settings panels never
import the window (`gui.main_window`) or the start-up (`gui.app`), not even for type hints; and
`gui.app` and `gui.main_window` do not import each other in a cycle. Read from the source with
`ast`, so imports inside functions and under TYPE_CHECKING count too."""

from __future__ import annotations

import ast
from pathlib import Path

import smki_desktop.gui as gui_pkg

GUI = Path(gui_pkg.__file__).parent
UPWARD = {"smki_desktop.gui.main_window", "smki_desktop.gui.app"}


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in this file names (all levels)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_no_module_below_the_window_imports_it_or_the_start_up() -> None:
    below = [p for sub in ("pages", "controllers", "widgets", "wizards", "settings")
             for p in sorted((GUI / sub).rglob("*.py"))]
    assert len([p for p in below if p.parent.name == "pages"]) >= 15
    offenders = {str(p.relative_to(GUI)): sorted(imported_modules(p) & UPWARD)
                 for p in below if imported_modules(p) & UPWARD}
    assert offenders == {}


def test_only_the_start_up_imports_the_window_and_nothing_in_gui_imports_the_start_up() -> None:
    importers = {p.name for p in GUI.rglob("*.py")
                 if "smki_desktop.gui.main_window" in imported_modules(p)}
    assert importers <= {"app.py"}
    assert not [p for p in GUI.rglob("*.py")
                if "smki_desktop.gui.app" in imported_modules(p)]


def test_the_scan_sees_an_upward_import_when_there_is_one(tmp_path: Path) -> None:
    f = tmp_path / "page.py"
    f.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from smki_desktop.gui.main_window import GuiServices\n"
                 "def later():\n    import smki_desktop.gui.app\n")
    assert imported_modules(f) & UPWARD == UPWARD
