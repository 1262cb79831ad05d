"""Settings page: a tab per section; General here, and the sections other capabilities add in
`gui/settings/` (profiles, portal endpoint, credentials, trust anchors)."""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from typing import TYPE_CHECKING

from smki_desktop import __version__
from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.gui.about import folder_rows
from smki_desktop.gui.qt import QFormLayout, QLabel, Qt, QTabWidget, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices


class GeneralSection(QWidget):
    title = "General"
    order = 0
    shows = frozenset({"settings", "profile"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        ctx = services.ctx
        form = QFormLayout(self)
        for label, value in [
            ("Environment", ctx.env.label),
            *folder_rows(ctx.env, ctx.paths.root),  # as Help > About names them
            ("Database", str(ctx.paths.db_path)),
            ("OS keyring service", ctx.env.keyring_service),
            ("Installation id", ctx.installation_id),
            ("Version", __version__),
        ]:
            v = QLabel(value)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, v)


# each tab's Alt letter: the tabs are in sight with every section, so no section's control
# (nor the File and Help menus) claims these letters
TAB_LETTERS = {"General": "&General", "Profiles": "P&rofiles", "Tokens": "To&kens",
               "Portal": "P&ortal", "ADT files": "ADT fil&es", "Team store": "Team &store"}


class Page(QWidget):
    title = "Settings"
    order = 100

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Each environment has its own settings."))
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        sections: list[tuple[int, str, QWidget]] = [(0, "General", GeneralSection(services))]
        import smki_desktop.gui.settings as pkg

        self.incomplete = False  # a section waits for the team store: the window rebuilds
        for info in pkgutil.iter_modules(pkg.__path__):
            try:
                mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
                cls = mod.Section
                sections.append((int(getattr(cls, "order", 50)), cls.title, cls(services)))
            except StoreUnreachable as exc:  # the section reads the store as it is built
                services.unreachable(exc)
                self.incomplete = True
                wait = QLabel("This section shows what the team store holds, and the team "
                              "store cannot be reached: it opens when the store returns.")
                wait.setWordWrap(True)
                sections.append((int(getattr(cls, "order", 50)), cls.title, wait))
            except Exception:
                err = QLabel(traceback.format_exc())
                err.setWordWrap(True)
                sections.append((999, f"{info.name} (failed)", err))
        for _, title, widget in sorted(sections, key=lambda t: (t[0], t[1])):
            self.tabs.addTab(widget, TAB_LETTERS.get(title, title))
        # a section is read afresh when it is shown (in the background): one whose first
        # read failed while the team store was lost fills in when opened again
        self.tabs.currentChanged.connect(lambda _index: self.refresh())

    def refresh(self) -> None:
        w = self.tabs.currentWidget()
        refresh = getattr(w, "refresh", None)
        if callable(refresh):
            refresh()
