"""The Authorised Subscriber readiness checklist (one box per certificate type) that the
Dashboard embeds: each item ticked or not, with what to do next for each missing one."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.qt import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget
from smki_desktop.services import readiness as readiness_service

if TYPE_CHECKING:
    from smki_desktop.gui.main_window import GuiServices


class ReadinessWidget(QGroupBox):
    """`ReadinessWidget(services)`; call `refresh()` when the Dashboard is shown."""

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__("Authorised Subscriber readiness", parent)
        self.services = services
        self.setObjectName("readiness")
        row = QHBoxLayout(self)
        self.labels: dict[str, QLabel] = {}
        for code in ("organisation", "device"):
            box = QGroupBox(f"{code.capitalize()} certificates")
            lab = QLabel()
            lab.setObjectName(f"readiness:{code}")
            lab.setWordWrap(True)
            QVBoxLayout(box).addWidget(lab)
            self.labels[code] = lab
            row.addWidget(box, 1)
        self.refresh()

    def refresh(self) -> None:
        try:
            cls = readiness_service.checklists(self.services.ctx)
        except SmkiError as exc:
            for lab in self.labels.values():
                lab.setText(html.escape(exc.message))
            return
        for cl in cls:
            parts = [f"<b>{'Ready' if cl.ready else 'Not ready yet'}</b><ul>"]
            for i in cl.items:
                mark = "✔" if i.ok else "✘"
                color = "#1B5E20" if i.ok else "#B00020"
                parts.append(f"<li><span style='color:{color}'>{mark}</span> "
                             f"{html.escape(i.label)} — {html.escape(i.detail)}")
                if not i.ok:
                    parts.append(f"<br/><i>Next: {html.escape(i.next_step)}</i>")
                parts.append("</li>")
            parts.append("</ul>")
            self.labels[cl.cert_type.value].setText("".join(parts))
