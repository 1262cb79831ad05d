"""One look for the whole app: Qt's Fusion style on every platform (the same spacing and
controls on Linux, Windows and macOS), light or dark colours following the desktop (or
`SMKI_COLOR_SCHEME=light|dark`), one style sheet for spacing and emphasis that the main window
carries (every page and dialog in it gets it without code of its own), standard icons on the
main actions, and the app's icon. The Test/Live banner colours (gui/texts.py) set both
background and text, so they read the same in either scheme.

Start-up cost matters here (issue 15): the style is chosen on QApplication's command line and
the palettes are built from colour tables, so that neither Python's `QStyle` type nor PySide's
`Qt` namespace (about 90 enums, ~15 ms to build) is made before the first window is shown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from smki_desktop.gui.qt import (
    QAction,
    QApplication,
    QColor,
    QGuiApplication,
    QIcon,
    QPalette,
    QPushButton,
    QSize,
    QToolButton,
    QWidget,
)
from smki_desktop.resources_path import resource

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
STYLE = "Fusion"

# Light: Fusion's own light colours, written out so that every desktop shows the same.
_LIGHT = {
    "Window": "#efefef", "WindowText": "#1a1a1a", "Base": "#ffffff",
    "AlternateBase": "#f5f5f5", "ToolTipBase": "#ffffdc", "ToolTipText": "#1a1a1a",
    "Text": "#1a1a1a", "Button": "#efefef", "ButtonText": "#1a1a1a", "BrightText": "#ffffff",
    "Highlight": "#2f74c0", "HighlightedText": "#ffffff", "Link": "#0b5cad",
    "PlaceholderText": "#6e6e6e", "Mid": "#b8b8b8", "Midlight": "#e3e3e3", "Dark": "#9f9f9f",
    "Light": "#ffffff", "Shadow": "#767676",
}
# Dark colours chosen to keep the contrast of the light palette (WCAG AA for text).
_DARK = {
    "Window": "#2b2d31", "WindowText": "#e6e6e6", "Base": "#1f2023",
    "AlternateBase": "#26282c", "ToolTipBase": "#1f2023", "ToolTipText": "#e6e6e6",
    "Text": "#e6e6e6", "Button": "#35373c", "ButtonText": "#e6e6e6", "BrightText": "#ff6b6b",
    "Highlight": "#2f6bc4", "HighlightedText": "#ffffff", "Link": "#7fb2ff",
    "PlaceholderText": "#9a9a9a", "Mid": "#4a4d53", "Midlight": "#3c3f45", "Dark": "#1b1c1f",
    "Light": "#4f5258", "Shadow": "#111214",
}
_DISABLED_TEXT = {"light": "#8a8a8a", "dark": "#808080"}

# One style sheet for every page: comfortable spacing, titled group boxes, clear focus, tables
# with readable headers. Colours come from the palette (`palette(...)`), so it suits both schemes.
# A spin box keeps Fusion's own focus frame: a style-sheet border on it has Qt draw its up and
# down buttons without their arrows.
STYLE_SHEET = """
QPushButton, QToolButton { padding: 4px 12px; min-height: 20px; }
QPushButton:default { border: 1px solid palette(highlight); }
QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QSpinBox { padding: 3px 5px; }
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus {
    border: 1px solid palette(highlight); }
QGroupBox { font-weight: bold; border: 1px solid palette(mid); border-radius: 4px;
    margin-top: 10px; padding: 8px 6px 6px 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QGroupBox QLabel, QGroupBox QPushButton, QGroupBox QCheckBox, QGroupBox QRadioButton,
QGroupBox QLineEdit, QGroupBox QComboBox { font-weight: normal; }
QHeaderView::section { padding: 4px 6px; font-weight: bold; }
QTableView, QTableWidget, QTreeView, QTreeWidget, QListView { gridline-color: palette(mid); }
QTableView:focus, QTreeView:focus { border: 2px solid palette(highlight); }
QStatusBar QLabel { padding: 0 6px; }
QListWidget#sidebar { font-size: 11pt; border: none; border-right: 1px solid palette(mid);
    background: palette(base); padding-top: 4px; }
QListWidget#sidebar::item { padding: 7px 12px; }
QListWidget#sidebar::item:selected { background: palette(highlight);
    color: palette(highlighted-text); }
QLabel#environmentBanner { font-weight: bold; padding: 6px; }
QLabel#pageHelp { background: #EEF3F8; color: #1A1A1A; border: 1px solid #B8C7D9; padding: 6px; }
"""

# Standard icons on the main actions, chosen by the first word of a button's or action's text
# (no page needs code for it; a button that already has an icon keeps it).
_ACTION_ICONS: dict[str, str] = {
    **dict.fromkeys(("generate", "new", "create", "add", "nominate", "make"),
                    "SP_FileDialogNewFolder"),
    **dict.fromkeys(("import", "open", "load", "choose", "browse"), "SP_DialogOpenButton"),
    **dict.fromkeys(("save", "export", "back", "backup", "write"), "SP_DialogSaveButton"),
    **dict.fromkeys(("delete", "remove", "discard", "archive"), "SP_TrashIcon"),
    **dict.fromkeys(("refresh", "reload", "retry", "switch"), "SP_BrowserReload"),
    **dict.fromkeys(("sign", "verify", "validate", "check", "lint", "test"),
                    "SP_DialogApplyButton"),
    **dict.fromkeys(("send", "submit", "upload", "publish"), "SP_ArrowForward"),
    "copy": "SP_FileIcon",
    **dict.fromkeys(("cancel", "stop", "quit", "close"), "SP_DialogCancelButton"),
    "about": "SP_MessageBoxInformation",
    **dict.fromkeys(("help", "welcome"), "SP_DialogHelpButton"),
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


def qt_argv(argv: Sequence[str]) -> list[str]:
    """QApplication's command line with the app's style chosen on it (Qt then makes the style
    in C++, without a Python `QStyle` object)."""
    return [*argv[:1], "-style", STYLE]


def desktop_is_dark(app: QGuiApplication) -> bool:
    """Whether the desktop's palette (as the platform theme gives it, before ours is set) is a
    dark one: on GNOME, KDE, Windows and macOS the theme's palette follows the dark setting."""
    window = app.palette().color(QPalette.ColorRole.Window)
    text = app.palette().color(QPalette.ColorRole.WindowText)
    return window.lightness() < text.lightness()


def color_scheme(app: QGuiApplication) -> str:
    """"dark" or "light": SMKI_COLOR_SCHEME when set, else what the desktop uses."""
    forced = os.environ.get("SMKI_COLOR_SCHEME", "").lower()
    if forced in ("light", "dark"):
        return forced
    return "dark" if desktop_is_dark(app) else "light"


def palette(scheme: str) -> QPalette:
    pal = QPalette()
    for role, colour in (_DARK if scheme == "dark" else _LIGHT).items():
        pal.setColor(getattr(QPalette.ColorRole, role), QColor(colour))
    for role in ("WindowText", "Text", "ButtonText"):
        pal.setColor(QPalette.ColorGroup.Disabled, getattr(QPalette.ColorRole, role),
                     QColor(_DISABLED_TEXT[scheme]))
    return pal


def dark_palette() -> QPalette:
    return palette("dark")


def apply(app: QApplication, *, style_set: bool = False) -> str:
    """Apply the style to the application (`style_set`: Fusion was already chosen with
    `qt_argv`); returns the colour scheme used."""
    scheme = color_scheme(app)  # read before our palette replaces the desktop's
    if not style_set:
        app.setStyle(STYLE)
    app.setPalette(palette(scheme))
    return scheme


def icon_name_for(text: str) -> str | None:
    """The standard icon (a QStyle.StandardPixmap name) for an action's text, if any."""
    words = text.replace("&", "").split(maxsplit=1)
    return _ACTION_ICONS.get(words[0].lower().strip(".…:")) if words else None


def add_action_icons(widgets: Iterable[QPushButton | QToolButton | QAction]) -> int:
    """Give the standard icon to each button or action whose text names a main action and that
    has no icon yet; returns how many got one. Called for a page when it is first built."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return 0
    done = 0
    for w in widgets:
        name = icon_name_for(w.text())
        if name is None or not w.icon().isNull():
            continue
        style = app.style()  # asked only when needed: the Dashboard shown at start has none
        w.setIcon(style.standardIcon(getattr(style.StandardPixmap, name)))
        done += 1
    return done


def decorate(widget: QWidget) -> int:
    """Icons on the main actions of a page (its push buttons: one walk over the page's
    children, each wrapped for Python on the way, so not a second one for tool buttons)."""
    return add_action_icons(widget.findChildren(QPushButton))
