"""ADT and Quarantine pages (offscreen): create from template, findings shown in place while
editing, save, sign in the job runner (OpenSSL verifies), verify; quarantine report with
filters and bulk decisions to a signed Action file."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.adt.validate import render_csv
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.adt import Page as AdtPage
from smki_desktop.gui.pages.quarantine import Page as QuarantinePage
from smki_desktop.services import adt as adt_service
from smki_desktop.services.adt import SignResult, VerifyResult
from smki_desktop.services.quarantine import ActionResult
from tests.integration.adt_support import assert_openssl_ok, make_aro

OWN = "90-B3-D5-1F-30-01-00-00"


def test_adt_editor_errors_in_place_then_sign(qtbot, window: MainWindow, adt_page,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    page, aro = adt_page
    assert page.key_combo.currentData() == aro.key.key_id

    page.new_from_template()
    assert page.report is not None and page.report.ok
    assert page.table.rowCount() == 3
    assert not page.sign_btn.isEnabled()  # not saved yet

    # an edit makes the row invalid: the cell is marked with the rule's message
    page.table.item(1, 4).setText("9000")  # warning above quarantine (8000)
    page.table.item(2, 2).setText("99.1")  # unknown service request
    qtbot.waitUntil(lambda: page.report is not None and not page.report.ok, timeout=5000)
    assert "must not be above" in page.cell_issue_text(1, 4)
    assert "warning-above-quarantine" not in page.cell_issue_text(1, 4)  # no rule codes
    assert "Service Request type" in page.cell_issue_text(2, 2)
    assert page.issues.count() == 2
    assert page.issues.item(0).text().startswith(
        "✖ Row 2 (file line 3), column User Warning Threshold: "), page.issues.item(0).text()
    page._jump(page.issues.item(1))
    assert (page.table.currentRow(), page.table.currentColumn()) == (2, 2)

    # fix, add a row, save, sign
    page.table.item(1, 4).setText("5000")
    page.table.item(2, 2).setText("6.15.1")
    page.add_row()
    for c, v in enumerate([OWN, "GS", "ALL", "HOUR", "10", "20"]):
        page.table.item(3, c).setText(v)
    page.validate_now()
    assert page.report.ok, [str(i) for i in page.report.issues]
    out = tmp_path / "edited.csv"
    assert page.save(out, overwrite=False) == out
    assert adt_service.validate_file(page.ctx, out).ok
    page.smsr_edit.setText("SMSR-GUI-1")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.sign_btn.isEnabled()
    page.sign()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    res = page.last_result
    assert isinstance(res, SignResult), res
    assert res.sha256 in page.summary.text()
    assert_openssl_ok(out, res.signature, aro.root_pem)
    assert res.manifest_data.smsr_reference == "SMSR-GUI-1"

    page.verify(out)
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert isinstance(page.last_result, VerifyResult)
    assert "Signature valid" in page.summary.text()
    assert "signed" in page.history.text()

    # the SRO's confirmation (resubmit, naming who) with the SRO's own key, and the delivery
    # package
    from tests.integration.adt_support import make_sro

    sro = make_sro(page.ctx, tmp_path / "pki", aro)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.key_combo.setCurrentIndex(page.key_combo.findData(sro.key.key_id))
    assert page.key_combo.currentData() == sro.key.key_id
    page.decision_combo.setCurrentIndex(page.decision_combo.findData("resubmit"))
    page.resubmitter_edit.setText("Ada Aro")
    page.confirm_btn.click()
    page.confirmation.confirm()  # the summary of what is signed comes first
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert "SRO confirmation (resubmit) signed" in page.summary.text(), page.summary.text()
    assert "not in the Test officer register" in page.summary.text()
    assert_openssl_ok(page.last_result.document, page.last_result.signature, sro.root_pem)
    assert page.last_result.verified.signer_certificate == sro.certificate
    page.deliver_btn.click()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert "Delivery package" in page.summary.text(), page.summary.text()
    assert [e["event"] for e in page.show_history()] == ["signed", "sro-resubmit",
                                                          "delivered"]
    assert "sro-resubmit" in page.history.text()


def test_adt_open_file_with_findings(qtbot, window: MainWindow, tmp_path: Path  # type: ignore[no-untyped-def]
                                     ) -> None:
    page = window.go_to("ADT")
    assert isinstance(page, AdtPage)
    make_aro(page.ctx, tmp_path / "pki")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"User ID,User Role,Service Request Type,Period,User Warning Threshold,"
                    b"User Quarantine Threshold\r\n" + f"{OWN},IS,ALL,DAY,1,2\r\n"
                    f"90-B3-D5-1F-30-09-00-00,IS,ALL,DAY,1,2\r\n{OWN},IS,ALL,DAY,3\r\n".encode())
    page.open_file(bad)
    assert page.busy  # read and checked in the job runner
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert page.path == bad and page.table.rowCount() == 3
    assert "not an EUI-64 of this Party" in page.cell_issue_text(1, 0)
    assert "5 field(s)" in page.cell_issue_text(2, 0)  # a short row: its cells marked
    assert not page.sign_btn.isEnabled()
    assert page.history.text() == "History: not signed yet."
    page.open_file(tmp_path / "missing.csv")
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    assert "cannot be read" in page.summary.text()


def test_quarantine_filters_bulk_decisions_and_signed_action(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    page = window.go_to("Quarantine")
    assert isinstance(page, QuarantinePage)
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
    assert page.table.rowCount() == 10
    assert not page.action_btn.isEnabled()

    page.threshold_combo.setCurrentIndex(page.threshold_combo.findData("DCC"))
    assert len(page.shown_ids()) == 6
    page.decide_shown("DELETE")
    page.threshold_combo.setCurrentIndex(0)
    page.filter_edit.setText("Q-000")  # Q-0000 .. Q-0009
    assert len(page.shown_ids()) == 10
    page.filter_edit.setText("")
    page.table.selectRow(0)
    page.decide_selected("PROCESS")
    assert not page.action_btn.isEnabled()  # three still undecided
    page.threshold_combo.setCurrentIndex(page.threshold_combo.findData("USER"))
    page.decide_shown("PROCESS")
    assert page.action_btn.isEnabled()
    assert "decided 10 of 10 (4 process, 6 delete)" in page.summary.text()

    out = tmp_path / "action.csv"
    page.create_action(out)
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    res = page.last_result
    assert isinstance(res, ActionResult), res
    assert res.processed == 4 and res.deleted == 6 and res.signed is not None
    assert_openssl_ok(out, res.signed.signature, aro.root_pem)
    # the decisions survive as drafts in the store
    from smki_desktop.services import quarantine as q_service

    again = q_service.import_report(page.ctx, report)
    assert again.audit is None and len(again.decisions) == 10


def test_settings_section_shows_profiles_and_anchors(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    from smki_desktop.gui.settings.adt import Section

    page = window.go_to("Settings")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    sections = [page.tabs.widget(i) for i in range(page.tabs.count())]
    (section,) = [s for s in sections if isinstance(s, Section)]
    assert section.combos["adt-file"].currentData() == "2"  # the newest (issue 15)
    assert "None" in section.anchors.text()
    aro = make_aro(section.ctx, tmp_path / "pki")
    section.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert aro.root.subject.rfc4514_string() in section.anchors.text()
    section.use("adt-file", "1")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # saved in the background
    assert section.ctx.setting("adt.profile.adt-file") == "1"


def test_keys_page_shows_officer_flags(window: MainWindow, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       qtbot) -> None:
    """A revoked officer's key carries `officer-revoked`: the Keys table shows it."""
    from smki_desktop.gui.pages.keys import COLUMNS
    from tests.integration.adt_support import active_aro
    from tests.integration.test_officer_cli import make_active_sro

    assert window.ctx is not None
    aro = make_aro(window.ctx, tmp_path / "pki")
    from tests.integration.adt_support import officer_signing_key

    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    sro_key = officer_signing_key(window.ctx, cli_run, sro_id)
    aro_id = active_aro(cli_run, tmp_path, sro_id, sro_key=sro_key)
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    col = COLUMNS.index("Flags")
    row = next(r for r, k in enumerate(page.keys) if k.key_id == aro.key.key_id)  # type: ignore[attr-defined]
    assert page.table.item(row, col).text() == ""  # type: ignore[attr-defined]
    assert cli_run("officer", "revoke", aro_id, "--reason", "leaver", "--as", sro_id, "--key",
                   sro_key).code == 0
    page.refresh()  # type: ignore[attr-defined]
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.item(row, col).text() == "officer-revoked"  # type: ignore[attr-defined]
    assert page.table.horizontalHeaderItem(col).text() == "Flags"  # type: ignore[attr-defined]


def test_adt_without_a_credential_says_where_to_get_one(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The signing-key chooser with no credential names the GUI place to request one (not
    "request one first", which left a new user nowhere to go); Sign stays greyed out."""
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.key_combo.currentData() == ""
    assert "Settings → Portal" in page.key_combo.currentText()
    assert "officer register" in page.key_combo.toolTip()
    assert "smki" not in page.key_combo.toolTip()
