"""Alt+letters in a window, for the keyboard tests: which letter a text claims, and which
letters are claimed more than once (menus, buttons and labels in sight together)."""

from __future__ import annotations

import re
from typing import Any

from smki_desktop.gui.qt import QAbstractButton, QLabel, QTabBar, QWidget


def mnemonic(text: str) -> str | None:
    text = re.sub(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);", "", text)  # rich text's entities
    m = re.search(r"&([^&\s])", text.replace("&&", ""))
    return m.group(1).lower() if m else None


def owners(window: Any) -> dict[str, list[str]]:
    """Each Alt letter of the window's menus and visible buttons, labels and tabs, and who
    claims it."""
    out: dict[str, list[str]] = {}
    for action in window.menuBar().actions():
        if (k := mnemonic(action.text())) is not None:
            out.setdefault(k, []).append(action.text())
    widgets: list[QWidget] = [*window.findChildren(QAbstractButton),
                              *window.findChildren(QLabel)]
    for w in widgets:
        if w.isVisibleTo(window) and (k := mnemonic(w.text())) is not None:  # type: ignore[attr-defined]
            out.setdefault(k, []).append(w.text())  # type: ignore[attr-defined]
    for bar in window.findChildren(QTabBar):
        if bar.isVisibleTo(window):
            for i in range(bar.count()):
                if bar.isTabVisible(i) and (k := mnemonic(bar.tabText(i))) is not None:
                    out.setdefault(k, []).append(bar.tabText(i))
    return out


def clashes(window: Any) -> dict[str, list[str]]:
    return {k: v for k, v in owners(window).items() if len(v) > 1}
