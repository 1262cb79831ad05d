"""Colours that carry a meaning (an error, a success, a warning, a muted note, and the tinted
backgrounds of findings, Live summaries and the ceremony's focus) in both colour schemes.

A colour written once for the light palette is unreadable on the dark one (dark red text on a
dark grey window, light text on a pale pink cell). Each meaning here has a light and a dark
shade, both of at least WCAG AA contrast (4.5:1 for text) against the palette they are shown
on (gui/style.py); the scheme is read from the application's palette when a widget is dressed.
"""

from __future__ import annotations

from smki_desktop.gui.qt import QApplication, QColor, QPalette

# (light, dark): text tones against Window/Base; *_bg tones under the palette's Text colour
TONES: dict[str, tuple[str, str]] = {
    "error": ("#B00020", "#FF8A80"),
    "ok": ("#1B5E20", "#81C784"),
    "warn": ("#8A4B00", "#FFB74D"),
    "muted": ("#555555", "#A8A8A8"),
    "error_bg": ("#F4C7C3", "#5C2B29"),
    "warn_bg": ("#FFF2CC", "#4D3D14"),
    "shade_bg": ("#ECEFF1", "#33363B"),
    "live_bg": ("#FFEBEE", "#4A1F24"),
    "live_border": ("#C62828", "#EF5350"),
    "focus_bg": ("#FFF3C4", "#4D4420"),
}


def is_dark() -> bool:
    """Whether the application's palette is a dark one (light text on a dark window)."""
    app = QApplication.instance()
    if app is None:
        return False
    pal = app.palette()  # type: ignore[attr-defined]
    return bool(pal.color(QPalette.ColorRole.Window).lightness()
                < pal.color(QPalette.ColorRole.WindowText).lightness())


def tone(name: str) -> str:
    """The colour (#RRGGBB) of meaning `name` in the scheme in use."""
    light, dark = TONES[name]
    return dark if is_dark() else light


def qcolor(name: str) -> QColor:
    return QColor(tone(name))


def text_style(name: str, *, bold: bool = False) -> str:
    """A style sheet giving a label the text colour of `name` (and bold weight)."""
    return f"color:{tone(name)};" + (" font-weight:bold;" if bold else "")
