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


def _type_count(module: object) -> int:
    return sum(1 for v in vars(module).values() if isinstance(v, type))


def test_qt_types_are_created_up_front_in_the_tests() -> None:
    """PySide's lazy type creation crashed a run when a background job touched QtGui names
    while the GUI thread ran; `smki_desktop` turns it off before PySide6 loads. In lazy mode
    QtWidgets holds about 15 names after import, eager about 200."""
    import PySide6.QtWidgets

    assert _type_count(PySide6.QtWidgets) > 150


def test_qt_types_are_created_up_front_in_the_app() -> None:
    import subprocess

    # the GUI's own import path, in a clean interpreter (nothing else imported first)
    probe = ("import smki_desktop.gui.app, PySide6.QtWidgets as w; "
             "print(sum(isinstance(v, type) for v in vars(w).values()))")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYSIDE6_OPTION_LAZY"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert int(out) > 150
