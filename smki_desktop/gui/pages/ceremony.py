"""Key ceremony page: choose a ceremony file, check it (the plan), and enter the full-screen
ceremony mode (`gui/ceremony_mode.py`) for a rehearsal or the real run; afterwards verify a
transcript, and let a witness sign it with their own file-signing credential (the same
services as `smki ceremony verify` and `smki ceremony sign`)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.ceremony_mode import CeremonyWindow
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_verify

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


class Page(QWidget):
    title = "Key ceremony"
    order = 95
    shows = frozenset({"ceremony"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.mode: CeremonyWindow | None = None
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"<h2>Key ceremony — {services.ctx.env.label}</h2>"))
        intro = QLabel("A ceremony makes keys on an offline machine in front of witnesses, from "
                       "one reviewed ceremony file. Check the file, rehearse with throwaway "
                       "keys, then run it in full-screen ceremony mode.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText("ceremony file (.toml)")
        self.path.setAccessibleName("Ceremony file")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self.browse)
        # labels with Alt letters: the fields had placeholders only, unreachable but by Tab
        # and nameless once something was typed (F and H are the menus')
        row.addWidget(_label("Ceremony fi&le:", self.path))
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        bar = QHBoxLayout()
        self.check_button = QPushButton("&Check the file")
        self.check_button.clicked.connect(self.check)
        self.path.returnPressed.connect(self.check)  # Enter in the field checks the file
        self.rehearse_button = QPushButton("&Rehearse…")
        self.rehearse_button.clicked.connect(lambda: self.start(True))
        self.start_button = QPushButton("&Start ceremony mode…")
        self.start_button.clicked.connect(lambda: self.start(False))
        for b in (self.check_button, self.rehearse_button, self.start_button):
            bar.addWidget(b)
        bar.addStretch(1)
        lay.addLayout(bar)
        after = QHBoxLayout()  # after the ceremony: the transcript on the media
        self.transcript = QLineEdit()
        self.transcript.setPlaceholderText("transcript or output folder")
        self.transcript.setAccessibleName("Transcript")
        self.witness = QLineEdit()
        self.witness.setPlaceholderText("witness name")
        self.witness.setAccessibleName("Witness")
        self.witness_key = QLineEdit()
        self.witness_key.setPlaceholderText("witness key (optional)")
        self.witness_key.setAccessibleName("Witness's credential key")
        self.verify_button = QPushButton("&Verify transcript")
        self.verify_button.clicked.connect(self.verify)
        self.transcript.returnPressed.connect(self.verify)
        self.sign_button = QPushButton("&Witness signs…")
        self.sign_button.setToolTip("The witness signs the finished transcript with their own "
                                    "file-signing credential on this machine")
        self.sign_button.clicked.connect(self.witness_sign)
        # two rows: on one, at 1024 px wide, every field was cut to a few letters
        after.addWidget(_label("&Transcript:", self.transcript))
        after.addWidget(self.transcript, 1)
        after.addWidget(self.verify_button)
        lay.addLayout(after)
        witness_row = QHBoxLayout()
        witness_row.addWidget(_label("Witness &name:", self.witness))
        witness_row.addWidget(self.witness, 1)
        witness_row.addWidget(_label("Witness &key:", self.witness_key))
        witness_row.addWidget(self.witness_key, 1)
        witness_row.addWidget(self.sign_button)
        lay.addLayout(witness_row)
        # Tab goes as the rows read, not as the fields were made
        chain: list[QWidget] = [self.transcript, self.verify_button, self.witness,
                                self.witness_key, self.sign_button]
        for before, after_it in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after_it)
        self.plan = QPlainTextEdit()
        self.plan.setReadOnly(True)
        self.plan.setObjectName("ceremonyPlan")
        self.plan.setAccessibleName("Ceremony plan")
        self.plan.setPlaceholderText(
            "Choose a ceremony file and Check the file: its plan shows here (the keys it makes, "
            "who must be present, each step). After a ceremony, Verify transcript shows here "
            "what the transcript proves.")
        lay.addWidget(self.plan, 1)
        self.failure = ""

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Ceremony file", "", "Ceremony (*.toml)")
        if name:
            self.path.setText(name)

    def _file(self) -> Path | None:
        text = self.path.text().strip()
        if not text:
            self.path.setFocus()
            self.plan.setPlainText("Choose a ceremony file first.")
            return None
        return Path(text)

    def _op(self, fn: Any, *args: Any, name: str, refused: str, **kwargs: Any) -> PageOp:
        """A ceremony job: the buttons greyed while it runs; a failure is written in the plan
        box under `refused` ("Cannot verify", ...)."""
        def fail(text: str, _exc: BaseException) -> None:
            self.failure = text
            self.plan.setPlainText(f"{refused}:\n\n{self.failure}")

        return PageOp(self, self.services, fn, *args, name=name, **kwargs) \
            .busy(self.check_button, self.rehearse_button, self.start_button,
                  self.verify_button, self.sign_button).failure(fail)

    def _transcript(self) -> Path | None:
        text = self.transcript.text().strip()
        if not text:
            self.transcript.setFocus()
            self.plan.setPlainText("Give the transcript (or the ceremony's output folder) "
                                   "first.")
            return None
        return Path(text)

    def verify(self) -> None:
        path = self._transcript()
        if path is None:
            return
        self.failure = ""

        def done(rep: ceremony_verify.VerifyReport) -> None:
            lines = [f"Ceremony {rep.ceremony_id}: "
                     + ("VERIFIED" if rep.ok else "NOT VERIFIED")]
            lines += [f"  PROBLEM: {p}" for p in rep.problems]
            lines += [f"  ok: {c}" for c in rep.checked]
            self.plan.setPlainText("\n".join(lines))

        self._op(ceremony_verify.verify_transcript, self.services.ctx, path,
                 name="verify transcript", refused="Cannot verify").success(done).run()

    def witness_sign(self) -> None:
        path = self._transcript()
        if path is None:
            return
        name = self.witness.text().strip()
        if not name:
            self.witness.setFocus()
            self.plan.setPlainText("Give the witness's name, as the ceremony file has it.")
            return
        self.failure = ""

        def done(res: ceremony_verify.WitnessSigned) -> None:
            self.plan.setPlainText(f"Witness {res.witness} signed the transcript "
                                   f"({res.signer}):\n{res.signature}")

        self._op(ceremony_verify.witness_sign, self.services.ctx, path, name,
                 self.witness_key.text().strip() or None, name="witness signs",
                 refused="The witness cannot sign").changes("ceremony").success(done).run()

    def check(self) -> None:
        path = self._file()
        if path is None:
            return

        def done(checked: ceremony_service.CheckedCeremony) -> None:
            warn = "".join(f"\nWarning: {w}" for w in checked.warnings)
            self.plan.setPlainText(checked.plan.plan_text() + "\n\nThe ceremony file is valid."
                                   + warn)

        self._op(ceremony_service.check_ceremony, self.services.ctx, path,
                 name="check ceremony", refused="The file is refused").success(done).run()

    def holds_quit(self) -> str:
        """Why the window must not quit now ("" when it may): ceremony mode is open. Quitting
        under it cancelled the step's job and PIN prompt and left the full-screen window
        running a ceremony whose context was closed."""
        if self.mode is not None and self.mode.isVisible():
            return ("Ceremony mode is open. Leave ceremony mode first (its button, once no "
                    "step is being performed); the journal keeps every finished step.")
        return ""

    def start(self, rehearsal: bool) -> None:
        path = self._file()
        if path is None:
            return
        self.failure = ""

        def opened(run: ceremony_service.CeremonyRun) -> None:
            self.mode = CeremonyWindow(self.services, run)
            if not rehearsal:
                self.transcript.setText(str(run.journal_path))
            screen = self.screen()
            if screen is not None:  # full screen even where no window manager obliges
                self.mode.setGeometry(screen.geometry())
            self.mode.showFullScreen()

        self._op(ceremony_service.CeremonyRun, self.services.ctx, path,
                 self.services.ctx.passphrases, rehearsal=rehearsal, name="open ceremony",
                 refused="The ceremony cannot start").success(opened).run()
