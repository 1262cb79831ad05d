"""The acceptance check's findings listed one by one (issue 10): one entry per finding of each
named check (parse, profile, match, chain, verdict), marked passed, warning or refused, so an
officer sees which check a certificate failed and why, not only the verdict."""

from __future__ import annotations

from collections.abc import Sequence

from smki_desktop.gui.qt import QListWidget, QListWidgetItem, Qt, QWidget
from smki_desktop.services.certificates import REFUSAL, WARNING, Finding

MARKS = {REFUSAL: "✖", WARNING: "⚠"}
LEVEL_WORDS = {REFUSAL: "refused", WARNING: "warning"}
MAX_HEIGHT = 150  # pixels: about eight entries, then it scrolls


def finding_text(f: Finding) -> str:
    """One line: mark, check, message ("⚠ match: no CSR or key here has this public key");
    the check is named once (most messages start with it already)."""
    said = f.message if f.message.startswith(f"{f.check}: ") else f"{f.check}: {f.message}"
    return f"{MARKS.get(f.level, '✔')} {said}"


class FindingsList(QListWidget):
    """Hidden until findings are shown; each entry's accessible text says its level in words
    (a screen reader does not read the marks)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName("Findings of the acceptance check, one per check")
        self.setVisible(False)

    def show_findings(self, findings: Sequence[Finding]) -> None:
        self.show_groups([("", findings)])

    def show_groups(self, groups: Sequence[tuple[str, Sequence[Finding]]]) -> None:
        """Findings under headings (one per certificate of a file: "[2 of 3] …"); a group
        with an empty heading is listed without one."""
        self.clear()
        shown = False
        for heading, findings in groups:
            if heading and findings:
                head = QListWidgetItem(heading)
                font = head.font()
                font.setBold(True)
                head.setFont(font)
                head.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading, not a finding to pick
                self.addItem(head)
            for f in findings:
                entry = QListWidgetItem(("    " if heading else "") + finding_text(f))
                entry.setToolTip(f"{f.check}: {LEVEL_WORDS.get(f.level, 'passed')}")
                entry.setData(Qt.ItemDataRole.AccessibleTextRole,
                              (f"{heading}: " if heading else "")
                              + f"{f.check}, {LEVEL_WORDS.get(f.level, 'passed')}: {f.message}")
                self.addItem(entry)
                shown = True
        # as tall as its entries (a handful), so the table below keeps the room
        rows = max(self.count(), 1)
        self.setFixedHeight(min(self.sizeHintForRow(0) * rows + 2 * self.frameWidth() + 2,
                                MAX_HEIGHT))
        self.setVisible(shown)

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
