"""The Authorised Subscriber readiness checklist (one box per certificate type) that the
Dashboard embeds: each item ticked or not, with what to do next for each missing one."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from smki_desktop.core.readiness import CertType, Checklist
from smki_desktop.gui.hints import gui_hint
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style, tone
from smki_desktop.services import readiness as readiness_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices


class RecordDialog(QDialog):
    """Record the organisation's identity verification and/or a passed SREPT."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record readiness milestones")
        form = QFormLayout(self)
        self.org_date = QLineEdit()
        self.org_date.setPlaceholderText("YYYY-MM-DD (leave empty if not yet)")
        self.org_ref = QLineEdit()
        self.srept_date = QLineEdit()
        self.srept_date.setPlaceholderText("YYYY-MM-DD (leave empty if not yet)")
        self.srept_ref = QLineEdit()
        self.types = {t: QCheckBox(f"{t.label} certificates") for t in CertType}
        form.addRow("Organisation identity verified on", self.org_date)
        form.addRow("Verification reference", self.org_ref)
        form.addRow("SREPT passed on", self.srept_date)
        form.addRow("SREPT reference", self.srept_ref)
        for cb in self.types.values():
            form.addRow("", cb)
        self.error = QLabel("")
        self.error.setStyleSheet(text_style("error"))
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def arguments(self) -> dict[str, Any]:
        types = [t for t, cb in self.types.items() if cb.isChecked()]
        return {"org_verified": self.org_date.text().strip() or None,
                "org_ref": self.org_ref.text(),
                "srept_passed": self.srept_date.text().strip() or None,
                "srept_ref": self.srept_ref.text(), "cert_types": types or None}


class ReadinessWidget(QGroupBox):
    """`ReadinessWidget(services)`; call `refresh()` when the Dashboard is shown."""

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__("Authorised Subscriber readiness", parent)
        self.services = services
        self.setObjectName("readiness")
        outer = QVBoxLayout(self)
        row = QHBoxLayout()
        outer.addLayout(row)
        self.labels: dict[str, QLabel] = {}
        for code in ("organisation", "device"):
            box = QGroupBox(f"{code.capitalize()} certificates")
            lab = QLabel()
            lab.setObjectName(f"readiness:{code}")
            lab.setWordWrap(True)
            QVBoxLayout(box).addWidget(lab)
            self.labels[code] = lab
            row.addWidget(box, 1)
        bar = QHBoxLayout()
        self.record_button = QPushButton("Record identity verification / SREPT…")
        self.record_button.setObjectName("readiness:record")
        self.record_button.setAccessibleName("Record identity verification or SREPT")
        self.record_button.clicked.connect(self.record)
        bar.addWidget(self.record_button)
        self.message = QLabel("")
        self.message.setObjectName("readiness:message")
        self.message.setWordWrap(True)
        bar.addWidget(self.message, 1)
        outer.addLayout(bar)
        self.dialog: RecordDialog | None = None
        self.read = BackgroundRead(self, services, readiness_service.checklists, services.ctx,
                                   name="Readiness checklist", show=self.show_checklists,
                                   failed=self._not_read)
        self.refresh()

    def record(self) -> None:
        dlg = RecordDialog(self)
        self.dialog = dlg
        dlg.accepted.connect(lambda: self.save(**dlg.arguments()))
        dlg.open()

    def save(self, **kwargs: Any) -> None:
        """Record milestones in a background job (as `smki readiness set` does)."""

        def done(_res: object) -> None:
            self.message.setText("Recorded.")
            self.refresh()

        PageOp(self, self.services, readiness_service.set_facts, self.services.ctx,
               name="Record readiness milestones", **kwargs).success(done) \
            .failure(lambda text, _exc: self.message.setText(text)).run()

    def refresh(self) -> None:
        """Read the checklists again (on the job runner); `show_checklists` fills them in."""
        self.read.run()

    def _not_read(self, text: str, _exc: BaseException) -> None:
        for lab in self.labels.values():
            lab.setText(html.escape(text))

    def show_checklists(self, cls: list[Checklist]) -> None:
        for cl in cls:
            parts = [f"<b>{'Ready' if cl.ready else 'Not ready yet'}</b><ul>"]
            for i in cl.items:
                mark = "✔" if i.ok else "✘"
                color = tone("ok") if i.ok else tone("error")
                parts.append(f"<li><span style='color:{color}'>{mark}</span> "
                             f"{html.escape(i.label)} — {html.escape(i.detail)}")
                if not i.ok:
                    where = gui_hint(i.hint)
                    parts.append(f"<br/><i>Next: {html.escape(i.next_step)}"
                                 + (f" ({html.escape(where)})" if where else "") + "</i>")
                parts.append("</li>")
            parts.append("</ul>")
            self.labels[cl.cert_type.value].setText("".join(parts))
