"""Issue 13, the officer's desktop: nothing lost by a keystroke (nomination wizard, verification
dialog), a confirmation summary before every sign/send act (ADT, SRO confirmation, Action file,
bulk quarantine decisions, Device CSR submission), the signer named on verify, a fresh status
bar, page titles and help (F1), About, the Devices page after a failed load, the forecast with
its history, plain words for a non-UTF-8 file, and the simulator stopped on quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.adt.validate import render_csv
from smki_desktop.core.environment import Environment
from smki_desktop.core.nomination_wizard import Step
from smki_desktop.gui.main_window import MainWindow, PageFrame
from smki_desktop.gui.qt import (
    QApplication,
    QCheckBox,
    QLabel,
    QMessageBox,
    QPushButton,
    Qt,
    QTableWidget,
    QWidget,
)
from smki_desktop.gui.widgets.confirm import ConfirmDialog
from smki_desktop.services import adt as adt_service
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as officer_service
from smki_desktop.services import simulator_control
from smki_desktop.services.adt import SignResult, VerifyResult
from smki_desktop.services.quarantine import ActionResult
from tests.gui.test_nomination_wizard import drive, opened, set_field
from tests.integration.adt_support import assert_openssl_ok, make_aro, set_profiles

OWN = "90-B3-D5-1F-30-01-00-00"


def _wizard_on_review(qtbot, window: MainWindow):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    drive(qtbot, dlg, "sro", nom.load_forms()["sro"].example_values())
    return dlg


# -- work lost ----------------------------------------------------------------------------------
def test_enter_on_review_does_not_discard_and_cancel_asks(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    dlg = _wizard_on_review(qtbot, window)
    assert dlg.wiz.step is Step.REVIEW
    assert not dlg.close_button.isDefault() and not dlg.close_button.autoDefault()
    assert not dlg.produce_button.isDefault() and not dlg.produce_button.autoDefault()
    dlg.close_button.setFocus()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.keyClick(dlg.review_label, Qt.Key.Key_Enter)
    assert dlg.isVisible() and dlg.wiz.step is Step.REVIEW
    assert dlg.discard_box is None  # Enter did not even reach Cancel
    assert dlg.result_value is None and officer_service.list_officers(window.ctx) == []

    # Cancel part-way asks; "Keep editing" (the default, also Escape) keeps everything
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    box = dlg.discard_box
    assert box is not None and box.isVisible()
    assert box.defaultButton().objectName() == "keepEditing"
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dlg.isVisible() and dlg.wiz.step is Step.REVIEW
    # Escape on the wizard asks too; Save draft and close keeps the answers as a draft
    dlg.discard_box = None
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    box = dlg.discard_box
    assert box is not None and box.isVisible()
    box.findChild(QPushButton, "saveAndClose").click()
    qtbot.waitUntil(lambda: not dlg.isVisible())
    drafts = nom.list_drafts(window.ctx)
    assert len(drafts) == 1 and drafts[0]["form"] == "sro"


def test_discard_is_a_choice_and_untouched_wizard_closes_at_once(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)  # nothing typed yet
    assert not dlg.isVisible() and dlg.discard_box is None

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.show()
    opened(qtbot, dlg)
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    set_field(qtbot, dlg, "nominee.name", "Part Way")
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    assert dlg.isVisible()
    dlg.discard_box.findChild(QPushButton, "discard").click()
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert nom.list_drafts(window.ctx) == []


def test_declarations_wrap_and_can_be_ticked_by_their_words(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services)
    qtbot.addWidget(dlg)
    dlg.resize(720, 620)
    dlg.show()
    opened(qtbot, dlg)
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    schema = nom.load_forms()["sro"]
    bools = [f for f in schema.fields() if f.type == "bool" and not f.print_blank]
    assert bools, "the SRO form has declarations"
    long_ones = [f for f in bools if len(f.label) > 90]
    assert long_ones, "a declaration long enough to need wrapping"
    for f in bools:
        words = dlg.findChild(QLabel, f"declaration:{f.key}")
        box = dlg.findChild(QCheckBox, f"field:{f.key}")
        assert words is not None and box is not None, f.key
        assert words.wordWrap() and f.label in words.text()
        assert box.accessibleName() == f.label
    # the words fit in the dialog's width (wrapped, not running off the side)
    while not any(f.key in dlg.editors for f in long_ones) or \
            dlg.wiz.page is None or not any(f in dlg.wiz.page.fields for f in long_ones):
        for f in dlg.wiz.page.fields:
            if not f.print_blank:
                set_field(qtbot, dlg, f.key, schema.example_values()[f.key])
        qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dlg.busy(), timeout=20000)  # the page's check
        assert dlg.wiz.step is Step.PAGE
    f = max((f for f in long_ones if f in dlg.wiz.page.fields), key=lambda f: len(f.label))
    words = dlg.findChild(QLabel, f"declaration:{f.key}")
    qtbot.waitUntil(words.isVisible)
    # longer than the room it has, and still all on screen: it wraps onto more lines
    assert words.fontMetrics().horizontalAdvance(f.label) > words.width()
    assert words.mapTo(dlg, words.rect().topRight()).x() <= dlg.width()
    assert words.height() >= 2 * words.fontMetrics().height()
    box = dlg.findChild(QCheckBox, f"field:{f.key}")
    before = box.isChecked()
    qtbot.mouseClick(words, Qt.MouseButton.LeftButton)
    assert box.isChecked() is not before


def test_verification_dialog_keeps_input_and_has_no_default_outcome(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    sro_schema = nom.load_forms()["sro"]
    nom.nominate(ctx, sro_schema, sro_schema.example_values())
    page = window.go_to("Officers")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.select("SRO-0001")
    page.verify()
    dlg = page.verify_dialog
    assert dlg.outcome.currentData() == ""  # nobody's identity is "verified" by default
    dlg.date.setText("2026-11-21")
    dlg.verifier.setText("Vera Verifier")
    for _v, cb in dlg.evidence:
        cb.setChecked(True)
    dlg.accept()
    assert dlg.isVisible() and "Outcome" in dlg.error.text()
    dlg.outcome.setCurrentIndex(dlg.outcome.findData("passed"))
    dlg.date.setText("01/11/2026")  # refused by the rules (in the job): the dialog stays
    dlg.accept()
    qtbot.waitUntil(lambda: not dlg.busy, timeout=10000)
    assert dlg.isVisible() and dlg.error.text(), dlg.error.text()
    assert "Traceback" not in dlg.error.text()
    assert dlg.verifier.text() == "Vera Verifier" and dlg.date.text() == "01/11/2026"
    assert all(cb.isChecked() for _v, cb in dlg.evidence)
    assert officer_service.find_officer(ctx, "SRO-0001").verification is None
    dlg.date.setText("2026-11-21")
    dlg.accept()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
    assert "verification meeting recorded (passed)" in page.message.text()
    assert officer_service.find_officer(ctx, "SRO-0001").verified


# -- one click, no summary ----------------------------------------------------------------------
def test_adt_sign_needs_the_summary_and_verify_names_the_signer(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.new_from_template()
    out = tmp_path / "adt.csv"
    assert page.save(out, overwrite=False) == out
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.sign_btn.isEnabled()
    qtbot.mouseClick(page.sign_btn, Qt.MouseButton.LeftButton)
    dlg = page.confirmation
    assert isinstance(dlg, ConfirmDialog) and dlg.isVisible()
    text = dlg.text()
    assert str(out) in text and "TEST" in text and "Rows: 3" in text
    assert page.key_combo.currentText() in text
    # Enter cancels: nothing is signed by a keystroke
    assert dlg.cancel_button.isDefault() and not dlg.confirm_button.isDefault()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible())
    assert not page.busy and page.last_result is None
    assert not out.with_name(out.name + ".p7s").exists()
    assert not list(tmp_path.glob("adt.csv.*"))

    qtbot.mouseClick(page.sign_btn, Qt.MouseButton.LeftButton)
    page.confirmation.confirm()
    qtbot.waitUntil(lambda: isinstance(page.last_result, SignResult), timeout=60_000)
    res = page.last_result
    assert_openssl_ok(out, res.signature, aro.root_pem)

    page.verify(out)
    qtbot.waitUntil(lambda: isinstance(page.last_result, VerifyResult), timeout=60_000)
    summary = page.summary.text()
    assert "Signature valid, made by Ada Aro" in summary, summary
    assert f"serial {aro.certificate.serial_number:X}" in summary


def test_quarantine_bulk_and_action_file_are_summarised(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                        tmp_path: Path) -> None:
    page = window.go_to("Quarantine")
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    prof = adt_service.load_profile("quarantine-report")
    rows = [(f"Q-{i:04d}", OWN, "IS", "1.1.1", f"req-{i}", f"2026-11-01T10:{i:02d}:00Z",
             "USER" if i < 4 else "DCC", str(100 + i)) for i in range(10)]
    report = tmp_path / "report.csv"
    report.write_bytes(render_csv(prof, rows))
    page.import_report(report)
    qtbot.waitUntil(lambda: page.report is not None and not page.busy, timeout=30_000)

    page.threshold_combo.setCurrentIndex(page.threshold_combo.findData("DCC"))
    qtbot.mouseClick(page.delete_shown_btn, Qt.MouseButton.LeftButton)
    dlg = page.confirmation
    assert "Mark 6 quarantined communication(s) as DELETE" in dlg.text()
    assert not dlg.warning.isVisible() or not dlg.warning.text()  # nothing overwritten yet
    assert page.decisions == {}  # nothing decided until confirmed
    dlg.confirm()
    assert sum(1 for v in page.decisions.values() if v == "DELETE") == 6

    page.threshold_combo.setCurrentIndex(0)
    qtbot.mouseClick(page.process_shown_btn, Qt.MouseButton.LeftButton)
    dlg = page.confirmation
    assert "overwrites the earlier decision on 6 communication(s)" in dlg.text(), dlg.text()
    assert "Q-0004" in dlg.text()
    dlg.reject()
    assert sum(1 for v in page.decisions.values() if v == "DELETE") == 6  # kept
    page.threshold_combo.setCurrentIndex(page.threshold_combo.findData("USER"))
    qtbot.mouseClick(page.process_shown_btn, Qt.MouseButton.LeftButton)
    page.confirmation.confirm()
    assert page.action_btn.isEnabled()

    out = tmp_path / "action.csv"
    page.request_action(out)
    dlg = page.confirmation
    text = dlg.text()
    assert "Process: 4." in text and "Delete: 6." in text and str(out) in text
    assert page.key_combo.currentText() in text
    dlg.reject()
    assert not out.exists()
    page.request_action(out)
    page.confirmation.confirm()
    qtbot.waitUntil(lambda: isinstance(page.last_result, ActionResult), timeout=60_000)
    assert_openssl_ok(out, page.last_result.signed.signature, aro.root_pem)


def test_live_summary_is_red_and_needs_a_tick(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    confirmed: list[bool] = []
    parent = QWidget()
    qtbot.addWidget(parent)
    dlg = ConfirmDialog(parent, title="Sign", what="Sign a thing", env=Environment.LIVE,
                        facts=[("Key", "abcd")], action="Sign")
    qtbot.addWidget(dlg)
    dlg.accepted.connect(lambda: confirmed.append(True))
    dlg.show()
    frame = dlg.findChild(QWidget, "confirmSummary")
    assert "#C62828" in frame.styleSheet()
    assert "LIVE" in dlg.text()
    assert dlg.checked.isVisible() and not dlg.confirm_button.isEnabled()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Enter is Cancel
    assert confirmed == [] and not dlg.isVisible()
    dlg.show()
    dlg.checked.setChecked(True)
    assert dlg.confirm_button.isEnabled() and not dlg.confirm_button.isDefault()
    qtbot.mouseClick(dlg.confirm_button, Qt.MouseButton.LeftButton)
    assert confirmed == [True]


def test_devices_submit_summary_and_failed_load(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import devices

    page = window.go_to("Devices")
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    gen = devices.generate_test(page.ctx, 20, tmp_path / "gen", processes=1)
    page.validate(gen.out)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    assert page.submit_btn.isEnabled() and page.model.rowCount() == 20
    qtbot.mouseClick(page.submit_btn, Qt.MouseButton.LeftButton)
    dlg = page.confirmation
    assert "Device CSRs: 20." in dlg.text() and str(gen.out) in dlg.text()
    assert "TEST" in dlg.text()
    dlg.reject()
    assert page.job is None  # nothing sent

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"device_eui,usage,csr\n\x8c\xff,signing,abc\n")
    page.validate(bad)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    assert not page.submit_btn.isEnabled() and not page.package_btn.isEnabled()
    assert page.model.rowCount() == 0 and page.source is None
    assert "line 2: not UTF-8 text (byte 0x8C" in page.summary.text(), page.summary.text()
    assert "codec" not in page.summary.text()
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None and "codec" not in box.text()


def test_error_text_never_shows_python_words() -> None:
    from smki_desktop.gui.texts import error_text

    try:
        b"\x8c".decode("utf-8")
    except UnicodeDecodeError as exc:
        text = error_text(exc)
    assert "codec" not in text and "0x8C" in text and "UTF-8" in text
    assert "KeyError" not in error_text(FileNotFoundError(2, "No such file", "/x/y.csv"))
    assert "/x/y.csv" in error_text(FileNotFoundError(2, "No such file", "/x/y.csv"))


# -- stale or cut --------------------------------------------------------------------------------
def test_status_bar_follows_the_officer_profile(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: "no officer profile" in window.officer_label.text(),
                    timeout=10000)  # read on the job runner
    window.jobs.submit(set_profiles, window.ctx, name="save profile")
    qtbot.waitUntil(lambda: "Ada Aro (claimed ARO" in window.officer_label.text(),
                    timeout=10000)
    assert "not linked to the officer register" in window.officer_label.text()
    from smki_desktop.core.party import OfficerRole

    window.jobs.submit(set_profiles, window.ctx, OfficerRole.SRO, name="save profile")
    qtbot.waitUntil(lambda: "Sam Sro (claimed SRO" in window.officer_label.text(),
                    timeout=10000)


def test_status_bar_names_a_register_entry_only_as_the_register_gives_it() -> None:
    """A profile's register entry is not shown as held until the register's standing for it is
    read (it said "(ARO, register entry ARO-0001)" from the profile alone); an unlinked one says
    its role is only claimed (the status bar said "(ARO)" as if it were granted)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.core.officers import Officer, OfficerStatus
    from smki_desktop.core.officers import OfficerRole as RegisterRole
    from smki_desktop.core.party import OfficerProfile, OfficerRole
    from smki_desktop.gui.main_window import officer_text
    from smki_desktop.services.standing import status_words

    linked = OfficerProfile("Ada Aro", OfficerRole.ARO, register_id="ARO-0001")
    assert officer_text(linked) == "Ada Aro (reading the officer register…)"
    entry = Officer("ARO-0001", RegisterRole.ARO, Environment.TEST, OfficerStatus.ACTIVE,
                    "Ada Aro", "ada@example.com", "Acme", "ACME")
    assert status_words(linked, entry) == "Ada Aro (ARO, register entry ARO-0001)"
    assert "claimed ARO" in status_words(OfficerProfile("Ada Aro", OfficerRole.ARO), None)
    assert officer_text(None) == "no officer profile" == status_words(None, None)


def test_every_page_has_a_title_help_and_f1(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    for row, entry in enumerate(window.entries):
        window.sidebar.setCurrentRow(row)
        frame = window.frame_at(row)
        assert isinstance(frame, PageFrame), entry.title
        assert entry.title in frame.title.text()
        assert "What is this?" in frame.help.text() and "no help text" not in frame.help.text()
        for table in frame.findChildren(QTableWidget):
            assert table.horizontalHeader().stretchLastSection(), (entry.title, table)
    frame = window.frame_at(window.stack.currentIndex())
    assert not frame.help.isVisible()
    window.activateWindow()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_F1)
    qtbot.waitUntil(frame.help.isVisible)
    qtbot.keyClick(window.sidebar, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: not frame.help.isVisible())


def test_about_names_version_and_licences(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop import __version__
    from smki_desktop.gui.help import show_about

    box = show_about(window)
    qtbot.addWidget(box)
    text = box.text()
    assert __version__ in text and "cryptography" in text and "Apache" in text
    assert "PySide6" in text and "LGPL" in text
    box.close()


def test_officers_buttons_read_in_full_at_1024(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    page = window.go_to("Officers")
    QApplication.processEvents()
    for name, b in page.buttons.items():
        assert b.width() >= b.sizeHint().width(), (name, b.width(), b.sizeHint().width())


def test_forecast_shows_history_and_no_table_names(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import devices

    ctx = window.ctx
    gen = devices.generate_test(ctx, 15, tmp_path / "gen", processes=1)
    devices.package(ctx, gen.out, tmp_path / "out")  # 15 CSRs made this month, batched
    page = window.go_to("Forecast")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    first = page.first_forecast_row
    assert first >= 2
    current = page.table.item(first - 1, 0).text()
    assert current.endswith("(so far)")
    batched_col = 2
    assert page.table.item(first - 1, batched_col).text() == "15"
    assert not page.table.item(first - 1, batched_col).flags() & Qt.ItemFlag.ItemIsEditable
    assert "(history)" in page.table.item(0, 0).text()
    text = page.summary.text()
    assert "device_csrs" not in text and "csr_requests" not in text
    assert "Device CSRs sent or packaged" in text
    # the chart draws the same figures (history, then the 8 forecast months), a tab away
    values = page.chart.values
    assert len(values) == first + 8
    assert values[first - 1][1:] == (15, "history")
    assert [v[2] for v in values[first:]] == ["forecast"] * 8
    assert page.views.indexOf(page.chart) == 0 and page.views.indexOf(page.table) == 1


@pytest.mark.slow
def test_simulator_stops_when_the_app_quits(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, Environment.TEST, first_run=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=30000)
    info = simulator_control.start(w.ctx)
    try:
        assert simulator_control.running(w.ctx) is not None
        w.close()
        from smki_desktop.services.context import open_context

        ctx = open_context(Environment.TEST, data_root)
        try:
            assert simulator_control.running(ctx) is None
        finally:
            ctx.close()
    finally:
        import contextlib
        import os
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)


def test_columns_fill_the_table_width(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    for title in ("Forecast", "Officers", "Keys"):
        page = window.go_to(title)
        table = page.table
        qtbot.waitUntil(lambda t=table: sum(
            t.horizontalHeader().sectionSize(i) for i in range(t.columnCount()))
            >= t.viewport().width() - 2, timeout=5000)


def test_adt_edits_are_not_lost_by_new_or_quit(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("ADT")
    page.new_from_template()
    page.table.item(1, 4).setText("4321")
    assert page.has_unsaved()
    qtbot.mouseClick(page.new_btn, Qt.MouseButton.LeftButton)
    box = page.discard_box
    assert box is not None and box.isVisible()
    assert box.defaultButton().objectName() == "keepEditing"
    box.defaultButton().click()
    assert page.table.item(1, 4).text() == "4321"  # kept

    window.close()  # quitting asks too; Keep working keeps the window
    assert window.quit_box.isVisible() and window.isVisible()
    window.quit_box.defaultButton().click()
    assert window.isVisible()

    qtbot.mouseClick(page.new_btn, Qt.MouseButton.LeftButton)
    page.discard_box.findChild(QPushButton, "discard").click()
    assert page.table.item(1, 4).text() != "4321"  # the template again
    out = tmp_path / "adt.csv"
    assert page.save(out, overwrite=False) == out
    assert not page.has_unsaved()
