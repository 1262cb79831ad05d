"""One look for the whole app: Qt's Fusion style on every platform (the same spacing and
controls on Linux, Windows and macOS), light or dark colours following the desktop's colour
scheme (or `SMKI_COLOR_SCHEME=light|dark`), and the app's icon. The Test/Live banner colours
(gui/texts.py) set both background and text, so they read the same in either scheme."""

from __future__ import annotations

import os

from smki_desktop.gui.qt import QApplication, QColor, QIcon, QPalette, QSize, Qt
from smki_desktop.resources_path import resource

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# Dark colours chosen to keep the contrast of Fusion's light palette (WCAG AA for text).
_DARK = {
    "Window": "#2b2d31", "WindowText": "#e6e6e6", "Base": "#1f2023",
    "AlternateBase": "#2b2d31", "ToolTipBase": "#1f2023", "ToolTipText": "#e6e6e6",
    "Text": "#e6e6e6", "Button": "#35373c", "ButtonText": "#e6e6e6", "BrightText": "#ff6b6b",
    "Highlight": "#3d7bd9", "HighlightedText": "#ffffff", "Link": "#7fb2ff",
    "PlaceholderText": "#9a9a9a",
}


def app_icon() -> QIcon:
    """The app's icon at every size shipped (resources/icons); each PNG is read when a size is
    first drawn, not at start."""
    icon = QIcon()
    for size in ICON_SIZES:
        path = resource("icons", f"smki-desktop-{size}.png")
        if path.is_file():
            icon.addFile(str(path), QSize(size, size))
    return icon


def color_scheme(app: QApplication) -> str:
    """"dark" or "light": SMKI_COLOR_SCHEME when set, else what the desktop reports."""
    forced = os.environ.get("SMKI_COLOR_SCHEME", "").lower()
    if forced in ("light", "dark"):
        return forced
    return "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"


def dark_palette() -> QPalette:
    pal = QPalette()
    for role, colour in _DARK.items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    for role in ("WindowText", "Text", "ButtonText"):
        pal.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role),
                     QColor("#808080"))
    return pal


def apply(app: QApplication) -> str:
    """Apply the style to the application; returns the colour scheme used."""
    app.setStyle("Fusion")
    scheme = color_scheme(app)
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    return scheme
