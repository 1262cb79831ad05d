"""The parts of the main window around each page: a sidebar entry (`PageEntry`), the
environment banner (cannot be hidden), the frame every page sits in (its title, a Help button
and its help panel, a scroll area for a page taller than the screen), and the stand-ins shown
in place of a page that waits for the team store or could not be built."""

from __future__ import annotations

import importlib
import traceback
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.gui import qt, texts
from smki_desktop.gui.opening import OpeningPage
from smki_desktop.gui.qt import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
    set_enum_property,
)
from smki_desktop.gui.tables import fit_columns


class PageEntry:
    """A sidebar entry: its title and order, and how to get its Page class. (A plain class, not
    a dataclass: the window's start makes none, ~0.5 ms each to create.)"""

    __slots__ = ("_cls", "error", "module", "order", "title")

    def __init__(self, module: str, title: str, order: int) -> None:
        self.module = module
        self.title = title
        self.order = order
        self._cls: Any = None
        self.error = ""

    def __repr__(self) -> str:
        return f"PageEntry({self.module!r}, {self.title!r}, {self.order!r})"

    def page_class(self) -> Any:
        if self._cls is None and not self.error:
            try:
                mod = importlib.import_module(f"smki_desktop.gui.pages.{self.module}")
                self._cls = mod.Page
            except Exception:  # a broken page must not take the whole application down
                self.error = traceback.format_exc()
        return self._cls


class Banner(QLabel):
    """The environment banner. It is a plain part of the central layout: no close button, no
    context menu, not a toolbar or dock that could be hidden."""

    def __init__(self, env: Environment) -> None:
        super().__init__(texts.BANNER[env])
        self.setObjectName("environmentBanner")
        # centred, bold and without a context menu through the style sheet (gui/style.py has
        # the rest): Qt sets these properties itself, so the start does not build `Qt`'s enums
        self.setStyleSheet(texts.BANNER_STYLE[env] + "qproperty-alignment: AlignCenter; "
                           "qproperty-contextMenuPolicy: NoContextMenu; font-weight: bold; "
                           "padding: 6px;")
        self.setAccessibleName(f"{env.label} environment")

    def setVisible(self, visible: bool) -> None:
        super().setVisible(True)


class WaitingPage(QLabel):
    """In place of a page first opened while the team store cannot be reached (building it
    reads the store): the window builds the page itself when the store answers again."""

    def __init__(self, title: str) -> None:
        super().__init__(f"The {title} page shows what the team store holds, and the team "
                         "store cannot be reached: it opens here when the store returns.")
        self.setObjectName("waitingForStore")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setContentsMargins(12, 12, 12, 12)


class ErrorPage(QLabel):
    def __init__(self, name: str, error: str) -> None:
        super().__init__(f"The page '{name}' could not be loaded:\n\n{error}")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)


class PageFrame(QWidget):
    """Every page under the same heading: its title, a Help button, and the page's help panel
    (what is this, what do I do, the SEC terms), shown with the button or F1. The panel is
    built when first asked for (the button, F1, or `help`): the first page's frame is built at
    start, and its help text is rich text nobody has asked to see yet."""

    def __init__(self, entry: PageEntry, page: QWidget) -> None:
        super().__init__()
        self.page = page
        self.entry = entry
        self._help: QLabel | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 0)
        head = QHBoxLayout()
        self.title = QLabel(f"<h2>{entry.title}</h2>")
        self.title.setObjectName("pageTitle")
        self.title.setAccessibleName(f"Page: {entry.title}")
        head.addWidget(self.title, 1)
        self.help_button = QPushButton("? Help")
        self.help_button.setObjectName("pageHelpButton")
        self.help_button.setAccessibleName(f"Help for the {entry.title} page")
        self.help_button.setToolTip("What this page is for and what to do (F1)")
        self.help_button.setCheckable(True)
        head.addWidget(self.help_button)
        lay.addLayout(head)
        self.help_button.toggled.connect(lambda shown: self.help.setVisible(shown))
        # a page taller than a 700-px screen scrolls rather than squeezing or cutting its
        # content; a page that fits fills the space as before
        self.scroller = QScrollArea()
        self.scroller.setObjectName("pageScroll")
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        # not a Tab stop of its own (it took a Tab press with nothing to show for it): the
        # page's controls are, and the area scrolls to the one Tab reaches
        # (QScrollArea.focusNextPrevChild), so the keyboard still reaches all of a tall page
        set_enum_property(self.scroller, "focusPolicy", "NoFocus")
        self.scroller.setWidget(page)
        lay.addWidget(self.scroller, 1)
        if not isinstance(page, OpeningPage):  # no table; its two buttons are named by it
            for table in page.findChildren(qt.QTableWidget):
                fit_columns(table)
            from smki_desktop.gui.accessibility import name_controls

            name_controls(self)

    @property
    def help(self) -> QLabel:
        """The help panel (hidden until the button or F1 shows it), made on first use."""
        if self._help is None:
            from smki_desktop.gui import help_texts  # texts nobody has asked to see yet

            label = QLabel(help_texts.as_html(self.entry.module, self.entry.title))
            label.setObjectName("pageHelp")  # its look: the app's style sheet (gui/style.py)
            label.setWordWrap(True)
            set_enum_property(label, "textInteractionFlags", "TextSelectableByMouse")
            label.setVisible(False)
            layout = self.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, label)  # under the title, above the page
            self._help = label
        return self._help

    def toggle_help(self) -> None:
        self.help_button.toggle()
