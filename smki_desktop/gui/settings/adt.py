"""Settings > ADT files: the installed file profiles (ADT, quarantine Report, Action) with the
version in use, and the trust anchors that file signatures are checked against here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.adt import KINDS
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import adt as adt_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

KIND_LABELS = {"adt-file": "ADT file", "quarantine-report": "Quarantine Report",
               "quarantine-action": "Action file"}
#: the choosers' labels with an Alt letter each, clear of the menus', the Settings tabs' and
#: "&Add trust anchor…"
KIND_ALT = {"adt-file": "A&DT file", "quarantine-report": "&Quarantine Report",
            "quarantine-action": "A&ction file"}


Profiles = dict[str, tuple[str, list[tuple[str, str]]]]  # kind: (in use, [(label, version)])


def read_adt_settings(ctx: AppContext) -> tuple[Profiles, list[str]]:
    """Each kind's profile versions and the one in use, and the trust anchors' subjects (a
    job: no Qt here)."""
    profiles: Profiles = {}
    for kind in KINDS:
        versions = []
        for v in adt_service.profile_versions(kind):
            p = adt_service.load_profile(kind, v)
            versions.append((f"{p.title} — {p.ref} ({p.status})", v))
        profiles[kind] = (adt_service.active_profile(ctx, kind).version, versions)
    return profiles, [a.subject.rfc4514_string() for a in adt_service.trust_anchors(ctx)]


class Section(QWidget):
    title = "ADT files"
    order = 60

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        box = QVBoxLayout(self)
        prof = QGroupBox("File profiles (layouts as data: a new DCC layout is a new version)")
        form = QFormLayout(prof)
        self.combos: dict[str, QComboBox] = {}
        for kind in KINDS:
            combo = QComboBox()
            self.combos[kind] = combo
            label = QLabel(KIND_ALT[kind])
            label.setBuddy(combo)  # its Alt letter reaches the chooser
            form.addRow(label, combo)
            combo.activated.connect(lambda _i, k=kind: self.use(k, self.combos[k].currentData()))
        box.addWidget(prof)
        anchors = QGroupBox("Trust anchors for file signatures in this environment")
        lay = QVBoxLayout(anchors)
        self.anchors = QLabel()
        self.anchors.setWordWrap(True)
        lay.addWidget(self.anchors)
        self.add_anchor_btn = QPushButton("&Add trust anchor…")
        self.add_anchor_btn.setToolTip("Trust a CA certificate (the DCC's) for file "
                                       "signatures in this environment")
        self.add_anchor_btn.clicked.connect(self._choose_anchor)
        lay.addWidget(self.add_anchor_btn)
        self.anchor_message = QLabel("")
        self.anchor_message.setWordWrap(True)
        lay.addWidget(self.anchor_message)
        box.addWidget(anchors)
        box.addStretch(1)
        self.reader = BackgroundRead(self, services, read_adt_settings, self.ctx,
                                     name="ADT settings", show=self.show_read,
                                     failed=lambda text, _e: self.anchor_message.setText(text),
                                     loading=self.anchor_message)
        self.refresh()

    def refresh(self) -> None:
        """Read on the job runner; the choosers and anchors follow when it returns."""
        self.reader.run()

    def show_read(self, read: tuple[Profiles, list[str]]) -> None:
        profiles, found = read
        for kind, combo in self.combos.items():
            combo.clear()
            active, versions = profiles[kind]
            for label, v in versions:
                combo.addItem(label, v)
            combo.setCurrentIndex(max(combo.findData(active), 0))
        self.anchors.setText("\n".join(found) or
                             f"None: the {self.ctx.env.label} environment cannot check who "
                             "signed a file until an anchor is added (Add trust anchor "
                             "below).")

    def _choose_anchor(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "A CA certificate to trust", "",
                                              "Certificates (*.pem *.cer *.crt *.der);;All (*)")
        if name:
            self.add_anchor(Path(name))

    def add_anchor(self, path: Path) -> None:
        def work(ctx: Any, p: Path) -> Any:
            return adt_service.add_trust_anchor(ctx, p.read_bytes())

        def done(_res: Any) -> None:
            self.anchor_message.setText(f"Added {path.name} as a trust anchor of the "
                                        f"{self.ctx.env.label} environment.")
            self.refresh()

        PageOp(self, self.services, work, self.ctx, path, name="Add trust anchor") \
            .busy(self.add_anchor_btn).changes("settings").success(done) \
            .failure(lambda text, _e: self.anchor_message.setText(text)).run()

    def use(self, kind: str, version: str) -> None:
        def done(_res: Any) -> None:
            self.services.status(f"{KIND_LABELS[kind]}: profile version {version} in use.")
            self.refresh()

        def refused(_text: str, exc: BaseException) -> None:
            self.services.error("ADT profile", exc)
            self.refresh()  # the chooser shows the version still in use

        PageOp(self, self.services, adt_service.use_profile, self.ctx, kind, version,
               name="ADT profile").changes("settings").success(done).failure(refused).run()
