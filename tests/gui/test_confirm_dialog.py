"""The confirmation summary shows its texts as written: an apostrophe or an angle bracket in
the warning or in a fact is escaped once (the summary is rich text) or not at all (the warning
is plain text), never shown as an HTML entity."""

from __future__ import annotations

import pytest
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QLabel, Qt, QWidget
from smki_desktop.gui.widgets.confirm import ConfirmDialog


def shown(label: QLabel) -> str:
    """What the label puts on the screen: its text, or for rich text the document's words."""
    if label.textFormat() is Qt.TextFormat.PlainText or not GuiQt.mightBeRichText(label.text()):
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


@pytest.mark.parametrize("warning", [
    "The officer's existing signature is replaced.",  # no "<": Qt would read it as plain text
    "The file's existing signature <sig> & manifest are replaced.",
])
def test_apostrophes_and_brackets_are_shown_as_typed(qtbot, warning: str) -> None:  # type: ignore[no-untyped-def]
    parent = QWidget()
    qtbot.addWidget(parent)
    dlg = ConfirmDialog(parent, title="Sign", what="Sign the officer's file", env=Environment.TEST,
                        facts=[("File", "O'Brien <draft>.csv")], action="Sign", warning=warning)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.warning.isVisible()
    assert shown(dlg.warning) == warning
    summary = shown(dlg.summary)
    assert "officer's file" in summary and "O'Brien <draft>.csv" in summary
    assert "&#x27;" not in summary + shown(dlg.warning)
    assert "&amp;" not in shown(dlg.warning)
