"""The ADT page by keyboard (a keyboard walk at 1024x700): every Alt+letter on the page opens
one thing, Verify leaves focus where the officer was and its outcome in sight, actions are
offered only when the flow allows them, and a file's history does not claim another file's
signing."""

from __future__ import annotations

import re

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.adt import Page as AdtPage
from smki_desktop.gui.qt import QAbstractButton, QLabel, QWidget


def _mnemonic(text: str) -> str | None:
    m = re.search(r"&([^&])", text.replace("&&", ""))
    return m.group(1).lower() if m else None


def test_every_alt_letter_on_the_adt_page_is_unique(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Alt+V was both Verify… and Deliver package…: it only moved focus between them."""
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert isinstance(page, AdtPage)
    owners: dict[str, list[str]] = {}
    for action in window.menuBar().actions():
        if (k := _mnemonic(action.text())) is not None:
            owners.setdefault(k, []).append(action.text())
    widgets: list[QWidget] = [*window.findChildren(QAbstractButton),
                              *window.findChildren(QLabel)]
    for w in widgets:
        if w.isVisibleTo(window) and (k := _mnemonic(w.text())) is not None:  # type: ignore[attr-defined]
            owners.setdefault(k, []).append(w.text())  # type: ignore[attr-defined]
    assert "v" in owners and any("Verify" in t for t in owners["v"])
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
