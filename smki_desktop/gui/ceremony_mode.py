"""Full-screen ceremony mode: one step at a time, performed only when the administrator has
confirmed it, every witness has acknowledged it and the team has accepted any warning. It
drives the same `services.ceremony.CeremonyRun` as `smki ceremony run`; each step runs as a
background job (a token PIN or a backup passphrase is asked in a dialog meanwhile)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from smki_desktop.core.ceremony import Step
from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.accessibility import name_controls
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPixmap,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style, tone
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_qr, key_backup

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices


def _plain(label: QLabel) -> QLabel:
    """Text from a ceremony file is shown as it is: a QLabel would otherwise render anything
    that looks like HTML (a purpose such as `<h1 style=...>TEST ENVIRONMENT</h1>` would paint
    a second environment banner in a Live ceremony)."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class QrDialog(QDialog):
    """A CSR as a QR code, for where no removable media may be used."""

    def __init__(self, title: str, png: bytes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        lay = QVBoxLayout(self)
        lay.addWidget(_plain(QLabel(title)))
        self.image = QLabel()
        pix = QPixmap()
        pix.loadFromData(png, "PNG")
        self.image.setPixmap(pix)
        lay.addWidget(self.image)
        close = QPushButton("&Close")
        close.clicked.connect(self.accept)
        lay.addWidget(close)
        name_controls(self)  # not a page: the pages' naming does not reach it


class SharesDialog(QDialog):
    """Each custodian's share, shown once: the custodian alone at the screen presses Reveal,
    writes the words down (or takes the printed file), then Hide moves on; there is no way
    back to an earlier share."""

    def __init__(self, shares: list[tuple[str, Path]], parent: QWidget | None = None,
                 services: GuiServices | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Key shares for the custodians")
        self.shares = shares
        self.index = 0
        self.shown: list[str] = []
        self.revealed: set[Path] = set()  # paths whose words were on the screen
        lay = QVBoxLayout(self)
        self.who = _plain(QLabel())
        self.who.setWordWrap(True)
        lay.addWidget(self.who)
        self.words = _plain(QLabel())
        self.words.setWordWrap(True)
        self.words.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.words.setStyleSheet("font-family: monospace; font-size: 18px")
        self.words.setMinimumWidth(480)
        lay.addWidget(self.words)
        bar = QHBoxLayout()
        self.reveal_button = QPushButton("&Reveal the share")
        self.reveal_button.clicked.connect(self.reveal)
        self.next_button = QPushButton("&Hide it; next custodian")
        self.next_button.clicked.connect(self.next_share)
        self.print_button = QPushButton("&Print sheet (PDF)…")
        self.print_button.setToolTip("A printable sheet of this share for its custodian")
        self.print_button.clicked.connect(lambda: self.print_sheet())
        self.print_button.setEnabled(False)
        bar.addWidget(self.reveal_button)
        bar.addWidget(self.print_button)
        bar.addWidget(self.next_button)
        lay.addLayout(bar)
        self.note = _plain(QLabel())
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        name_controls(self)  # not a page: the pages' naming does not reach it
        self._show()

    def _show(self) -> None:
        self.words.setText("")
        self.words.setMinimumHeight(0)
        self.note.setText("")
        self.print_button.setEnabled(False)
        if self.index >= len(self.shares):
            self.who.setText("Every share has been shown. Separate them now: each custodian "
                             "keeps their own share, apart from the others.")
            self.reveal_button.setEnabled(False)
            self.next_button.setText("&Close")
            self.next_button.setEnabled(True)
            self.next_button.setFocus()
            return
        custodian, _path = self.shares[self.index]
        self.who.setText(f"Share {self.index + 1} of {len(self.shares)}: for {custodian} only. "
                         "Everyone else looks away.")
        self.reveal_button.setEnabled(True)
        self.next_button.setEnabled(False)
        # the keyboard follows the walk: a disabled button's focus would otherwise land on
        # whichever control Qt picks next
        self.reveal_button.setFocus()

    def reveal(self) -> None:
        _custodian, path = self.shares[self.index]
        words = key_backup.read_share_file(path)["mnemonic"]
        self.shown.append(words)
        self.revealed.add(path)
        self.words.setText(words)
        # every word in sight, at any width the dialog may take (the first size held about one
        # line of them): the height the words need at the narrowest width allowed
        self.words.setMinimumHeight(self.words.heightForWidth(self.words.minimumWidth()))
        self.adjustSize()
        self.reveal_button.setEnabled(False)
        self.next_button.setEnabled(True)
        self.print_button.setEnabled(self.services is not None)
        (self.print_button if self.print_button.isEnabled() else self.next_button).setFocus()

    def print_sheet(self, out: Path | None = None) -> None:
        """Write the shown share's printable sheet (the same service as `smki key
        share-sheet`), while the share is on the screen."""
        if self.services is None or self.index >= len(self.shares):
            return
        custodian, path = self.shares[self.index]
        if out is None:
            name, _ = QFileDialog.getSaveFileName(self, f"Share sheet for {custodian}",
                                                  "", "PDF (*.pdf)")
            if not name:
                return
            out = Path(name)
        self.print_button.setEnabled(False)

        def done(written: Path) -> None:
            self.note.setText(f"Sheet written to {written}: print it for {custodian}, then "
                              "delete the file.")
            self.next_button.setFocus()

        def failed(exc: BaseException) -> None:
            self.note.setText(exc.message if isinstance(exc, SmkiError) else repr(exc))
            self.print_button.setEnabled(True)
            self.print_button.setFocus()

        PageOp(self, self.services, key_backup.write_share_sheet, self.services.ctx, path, out,
               name="Share sheet").success(done).failure(lambda _text, exc: failed(exc)) \
            .cancelled(failed).run()

    def next_share(self) -> None:
        if self.index >= len(self.shares):
            self.accept()
            return
        self.index += 1
        self._show()


class CeremonyWindow(QWidget):
    def __init__(self, services: GuiServices, run: ceremony_service.CeremonyRun) -> None:
        super().__init__(None)
        self.services = services
        self.run = run
        self.busy = False
        self.failure = ""
        self.qr: QrDialog | None = None
        plan = run.plan
        kind = "REHEARSAL (throwaway keys)" if run.rehearsal else "CEREMONY"
        self.setWindowTitle(f"Key ceremony {plan.ceremony_id} — {plan.environment.label}")
        self.setObjectName("ceremonyMode")
        self.setStyleSheet("QWidget { font-size: 15px; }"  # read by a team standing by
                           "QCheckBox:focus, QPushButton:focus { background: "
                           f"{tone('focus_bg')}; }}")
        lay = QVBoxLayout(self)
        banner = _plain(QLabel(f"{plan.environment.label.upper()} ENVIRONMENT — {kind} "
                        f"{plan.ceremony_id}"))
        banner.setObjectName("ceremonyBanner")
        colour = "#b00020" if plan.environment.value == "live" else "#1b5e20"
        banner.setStyleSheet(f"background:{colour};color:white;font-size:20px;padding:8px")
        lay.addWidget(banner)
        self.about = _plain(QLabel(f"Purpose: {plan.purpose}\nAdministrator: "
                                   f"{plan.administrator}   Witnesses: "
                                   f"{', '.join(plan.witnesses)}"))
        lay.addWidget(self.about)
        body = QHBoxLayout()
        self.steps = QListWidget()
        self.steps.setAccessibleName("Ceremony steps")
        self.steps.setWordWrap(True)
        self.steps.setMinimumWidth(280)  # readable step titles even at 1024 pixels wide
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab walks the ticks and buttons
        body.addWidget(self.steps, 2)
        right = QVBoxLayout()
        self.step_title = _plain(QLabel())
        self.step_title.setWordWrap(True)
        self.step_title.setStyleSheet("font-size:18px;font-weight:bold")
        right.addWidget(self.step_title)
        self.warning = _plain(QLabel())
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(text_style("error"))
        right.addWidget(self.warning)
        self.warning_ack = QCheckBox("The team acknowledges the warning above")
        right.addWidget(self.warning_ack)
        self.admin_check = QCheckBox(f"I, {plan.administrator}, confirm this step")
        right.addWidget(self.admin_check)
        self.witness_checks: dict[str, QCheckBox] = {}
        for w in plan.witnesses:
            cb = QCheckBox(f"Witness {w}: I have seen this step")
            self.witness_checks[w] = cb
            right.addWidget(cb)
        for cb in self.checks():
            cb.toggled.connect(self._enable)
        bar = QHBoxLayout()
        self.perform_button = QPushButton("&Perform this step")
        self.perform_button.clicked.connect(self.perform)
        self.qr_button = QPushButton("Show the last CSR as &QR…")
        self.qr_button.clicked.connect(self.show_qr)
        self.qr_button.setEnabled(False)
        self.shares_button = QPushButton("Show the &shares to the custodians…")
        self.shares_button.clicked.connect(self.show_shares)
        self.shares_button.setEnabled(False)
        self.shares_dialog: SharesDialog | None = None
        self.shares_revealed: set[Path] = set()
        self.close_button = QPushButton("&Leave ceremony mode")
        self.close_button.clicked.connect(self.close)
        bar.addWidget(self.perform_button)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        right.addLayout(bar)
        extras = QHBoxLayout()  # a second row: the first must fit 1024 pixels with the list
        extras.addWidget(self.qr_button)
        extras.addWidget(self.shares_button)
        extras.addStretch(1)
        right.addLayout(extras)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setObjectName("ceremonyLog")
        self.log.setAccessibleName("Ceremony log")
        right.addWidget(self.log, 1)
        body.addLayout(right, 3)
        lay.addLayout(body, 1)
        self.last_csr: str | None = None
        if run.resumed:
            self.log.appendPlainText("Resumed: completed steps "
                                     + (", ".join(sorted(run.journal.done())) or "none") + ".")
        self.current: Step | None = None
        self.warnings: list[str] = []
        name_controls(self)  # not a page: the pages' naming does not reach it
        self._next()

    def checks(self) -> list[QCheckBox]:
        return [self.warning_ack, self.admin_check, *self.witness_checks.values()]

    def _enable(self) -> None:
        needed = [self.admin_check, *self.witness_checks.values()]
        if self.warnings:
            needed.append(self.warning_ack)
        ok = self.current is not None and not self.busy and all(cb.isChecked() for cb in needed)
        self.perform_button.setEnabled(ok)

    def _fill_steps(self) -> None:
        done = self.run.journal.done()
        self.steps.clear()
        for i, s in enumerate(self.run.steps(), 1):
            mark = "✔" if s.step_id in done else ("▶" if self.current and
                                                  s.step_id == self.current.step_id else " ")
            self.steps.addItem(f"{mark} {i}. {s.title}")

    def _next(self) -> None:
        left = self.run.remaining()
        self.current = left[0] if left else None
        self._fill_steps()
        for cb in self.checks():
            cb.setChecked(False)
        if self.current is None:
            self.step_title.setText("The ceremony is complete." if not self.run.rehearsal
                                    else "Rehearsal passed: every CSR lints clean.")
            self.warning.setText("")
            self.warnings = []
            for cb in self.checks():  # nothing is left to confirm
                cb.hide()
            self._enable()
            self.close_button.setFocus()
            return
        steps = self.run.steps()
        n = next((i for i, s in enumerate(steps, 1) if s.step_id == self.current.step_id),
                 len(steps))
        self.step_title.setText(f"Step {n} of {len(steps)}: {self.current.title}")
        self.warnings = self.run.warnings_for(self.current)
        self.warning.setText("\n".join(f"WARNING: {w}" for w in self.warnings))
        self.warning_ack.setVisible(bool(self.warnings))
        self._enable()
        # the keyboard starts at the first tick of the new step (Space ticks, Tab moves on)
        (self.warning_ack if self.warnings else self.admin_check).setFocus()

    def perform(self) -> None:
        step = self.current
        if step is None:
            return
        self.busy = True
        self._enable()
        self.log.appendPlainText(f"… {step.title}")

        def done(result: ceremony_service.StepResult) -> None:
            self.busy = False
            for line in result.lines:
                self.log.appendPlainText(f"   {line}")
            self.log.appendPlainText(f"✔ done: {step.step_id}")
            if step.kind == "csr":
                self.last_csr = str(result.data["file"])
                self.qr_button.setEnabled(True)
            if result.data.get("custodian_shares"):
                self.shares_button.setEnabled(True)
            self._next()

        def failed(exc: BaseException) -> None:
            self.busy = False
            self.failure = exc.message if isinstance(exc, SmkiError) else repr(exc)
            self.log.appendPlainText(f"✘ {step.step_id}: {self.failure}")
            self._next()

        # a step stopped by the officer (a PIN not given) is logged as a failed step is
        PageOp(self, self.services, ceremony_service.confirm_and_perform, self.run, step,
               list(self.witness_checks), list(self.warnings),
               name=f"Ceremony {step.step_id}").changes("ceremony", "keys", "requests") \
            .success(done).failure(lambda _text, exc: failed(exc)).cancelled(failed).run()

    def show_shares(self) -> None:
        """Each share is shown once: closing the dialog half-way and opening it again goes
        on with the next custodian, never back to a share already on the screen."""
        if self.shares_dialog is not None:
            self.shares_revealed |= self.shares_dialog.revealed
        shares = [(v["custodian"], self.run.out / rel)
                  for rel, v in sorted(self.run.custodian_shares().items())
                  if self.run.out / rel not in self.shares_revealed]
        self.shares_dialog = SharesDialog(shares, self, self.services)
        self.shares_dialog.finished.connect(self._shares_closed)
        self.shares_dialog.open()

    def _shares_closed(self) -> None:
        if self.shares_dialog is not None:
            self.shares_revealed |= self.shares_dialog.revealed
        left = [rel for rel in self.run.custodian_shares()
                if self.run.out / rel not in self.shares_revealed]
        self.shares_button.setEnabled(bool(left))

    def show_qr(self) -> None:
        if self.last_csr is None:
            return
        ctx = self.services.ctx
        png = ceremony_qr.csr_qr_png(self.run.out / self.last_csr, ctx.env, ctx.paths.root)
        self.qr = QrDialog(f"CSR {self.last_csr}", png, self)
        self.qr.open()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.busy:
            event.ignore()
            self.log.appendPlainText("A step is being performed: ceremony mode can be left "
                                     "once it has finished.")
            return
        self.run.close()
        super().closeEvent(event)
