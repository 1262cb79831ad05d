"""Guard against a Qt binding that corrupts the interpreter: PySide6-Essentials 6.12.0 dropped
one reference to None on every call of a void Qt method, which aborts Python 3.11 after a few
thousand calls (a long GUI session). The dependency pin keeps it out; this test catches it."""

import sys


def test_void_qt_calls_keep_none_refcount(qtbot) -> None:
    from smki_desktop.gui.qt import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
    assert before - sys.getrefcount(None) < 50
