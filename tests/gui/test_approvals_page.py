"""The revocation flow in the GUI (pytest-qt, real simulator over mutual TLS, real keyring):
Revoke on the Certificates page files the ARO's signed request, the Approvals entry shows a
badge, the SRO sees the decoded request and approves it after a summary, submission revokes it
at the simulator, and after the CRL the certificate shows as revoked. An ARO approving is
refused with the rule shown; in Live, confirmations need the typed word."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.services import revocation_state, simulator_control
from tests.integration.identity_helpers import issue_org, make_team, serial_of

SHOTS = os.environ.get("SMKI_SCREENSHOTS")  # a folder: save pictures of the pages there


@pytest.fixture
def team(window, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(window.ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(window.ctx)


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / name))


def test_revoke_request_approve_submit_in_the_gui(window, qtbot, cli_run, team) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-91")
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    row = next(i for i, r in enumerate(page.records) if r.serial.lstrip("0") == serial_of(cert))
    page.table.selectRow(row)
    page.revoke_selected()
    qtbot.waitUntil(lambda: page.revoker.dialog is not None, timeout=20000)  # who may sign
    dlg = page.revoker.dialog
    summary = dlg.summary.toPlainText()
    assert "to be revoked" in summary and serial_of(cert) in summary.upper()
    dlg.reason.setCurrentIndex(dlg.reason.findData("keyCompromise"))
    assert dlg.reason.currentText() == "Key compromise (keyCompromise)"
    dlg.justification.setText("laptop stolen on the train")
    dlg.actor.select(team.aro)
    _shot(dlg, "revoke-request-dialog.png")
    dlg.accept()
    qtbot.waitUntil(lambda: page.revoker.last_id is not None, timeout=20000)
    rid = page.revoker.last_id
    assert "waits for an SRO's approval" in page.result_label.text()

    # the badge, and the inbox
    window.update_badges()
    approvals_row = next(i for i, e in enumerate(window.entries) if e.module == "approvals")
    qtbot.waitUntil(lambda: window.sidebar.item(approvals_row).text() == "Approvals (1)",
                    timeout=10000)
    inbox = window.go_to("Approvals")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.select(rid)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    text = inbox.details.toPlainText()
    assert rid in text and "keyCompromise" in text and "laptop stolen" in text
    assert "Key compromise (keyCompromise)" in text  # the reason in words, and its code
    assert inbox.table.item(0, 3).text() == "Key compromise"
    assert "supplier (02)" in text and "90-B3-D5-1F-30-01-00-91" in text
    _shot(window, "approvals-inbox.png")

    # an ARO approving is refused, the rule shown, nothing changes
    inbox.actor.select(team.aro)
    inbox.approve()
    inbox.confirm.accept()
    qtbot.waitUntil(lambda: "Rule: no self-approval" in inbox.message.text(), timeout=20000)
    assert revocation_state.get_view(ctx, rid).state == "waiting"

    # the SRO approves after the summary
    inbox.select(rid)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    inbox.actor.select(team.sro)
    inbox.approve()
    assert "This cannot be undone" in inbox.confirm.summary.toPlainText()
    assert not inbox.confirm.live  # Test: no typed confirmation
    inbox.confirm.accept()
    qtbot.waitUntil(lambda: "approved by" in inbox.message.text(), timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's read after it
    assert revocation_state.get_view(ctx, rid).state == "approved"
    qtbot.waitUntil(lambda: window.sidebar.item(approvals_row).text() == "Approvals",
                    timeout=10000)
    inbox.select(rid)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert inbox.submit_button.isEnabled()
    inbox.submit()
    inbox.confirm.accept()
    qtbot.waitUntil(lambda: "submitted" in inbox.message.text(), timeout=30000)
    assert cli_run("portal", "poll").code == 0
    inbox.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.select(rid)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert "— revoked" in inbox.details.toPlainText()
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.item(row, 4).text() == "revoked"


def test_live_confirmations_need_the_typed_word(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.dual_control import ConfirmDialog, RevokeDialog

    dlg = ConfirmDialog("Approve", "<p>x</p>", "Approve and sign", Environment.LIVE, "RV-1")
    qtbot.addWidget(dlg)
    assert dlg.live and not dlg.ok.isEnabled()
    dlg.typed.setText("RV-2")
    assert not dlg.ok.isEnabled()
    dlg.typed.setText("RV-1")
    assert dlg.ok.isEnabled()
    rv = RevokeDialog("<p>You are asking for <b>1 certificate</b> to be <b>revoked</b>.</p>", [],
                      Environment.LIVE)
    qtbot.addWidget(rv)
    assert not rv.ok.isEnabled()
    _shot(rv, "revoke-request-dialog-live.png")
    rv.typed.setText("REVOKE")
    assert rv.ok.isEnabled()
    test = RevokeDialog("<p>x</p>", [], Environment.TEST)
    qtbot.addWidget(test)
    assert test.ok.isEnabled()


def test_incident_page_records_confirms_and_rekeys(window, qtbot, team, tmp_path: Path  # type: ignore[no-untyped-def]
                                                   ) -> None:
    ctx = window.ctx
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-92")
    page = window.go_to("Incidents")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.open_incident()
    dlg = page.dialog
    dlg.when.setText("2026-12-03T22:10:00Z")
    dlg.reported_by.setText("DCC Service Desk")
    dlg.description.setText("HSM backup tape lost")
    dlg.certs.setText(serial_of(cert))
    dlg.accept()
    qtbot.waitUntil(lambda: "Incident recorded" in page.message.text(), timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    iid = page.selected().incident_id
    assert "SRO confirmation: awaited" in page.details.toPlainText()
    page.actor.select(team.sro)
    page.confirm()
    qtbot.waitUntil(lambda: "confirmation signed by" in page.message.text(), timeout=20000)
    page.select(iid)
    page.actor.select(team.aro)
    page.rekey(str(tmp_path / "csrs"))
    assert "revoke" in page.dialog.summary.toPlainText()
    page.dialog.accept()
    qtbot.waitUntil(lambda: "replacement CSRs made" in page.message.text(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.select(iid)
    text = page.details.toPlainText()
    assert "Replacement keys and CSRs: 1 made" in text and "waiting" in text
    assert len(list((tmp_path / "csrs").glob("*.csr.pem"))) == 1
    window.update_badges()
    row = next(i for i, e in enumerate(window.entries) if e.module == "approvals")
    qtbot.waitUntil(lambda: window.sidebar.item(row).text() == "Approvals (1)", timeout=10000)
    dash = window.go_to("Dashboard")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    qtbot.waitUntil(lambda: "1 request(s) waiting" in dash.revocation_label.text(),
                    timeout=10000)
    assert "not linked to the officer register" in dash.register_label.text()
    _shot(window, "incident-page.png")


def test_officers_page_signs_register_changes_as_the_chosen_officer(window, qtbot, team  # type: ignore[no-untyped-def]
                                                                    ) -> None:
    page = window.go_to("Officers")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    # the ARO cannot suspend anyone; the SRO can, and the change carries their signature
    page.select(team.aro)
    page.actor.select(team.aro)
    page.suspend()
    page.text_dialog.edit.setText("investigation")
    page.text_dialog.accept()
    qtbot.waitUntil(lambda: "no one changes their own standing" in page.message.text(),
                    timeout=20000)
    page.select(team.aro)
    page.actor.select(team.sro)
    page.suspend()
    page.text_dialog.edit.setText("investigation")
    page.text_dialog.accept()
    qtbot.waitUntil(lambda: "suspended" in page.message.text(), timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    row = next(r for r in range(page.table.rowCount())
               if page.table.item(r, 0).text() == team.aro)
    assert page.table.item(row, 2).text() == "suspended"
    signer = window.ctx.db.conn().execute(
        "SELECT signer FROM officer_log WHERE officer_id=? AND action='suspend'",
        (team.aro,)).fetchone()["signer"]
    assert signer == team.sro


def test_empty_inbox_says_where_requests_come_from(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    inbox = window.go_to("Approvals")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert inbox.table.rowCount() == 0
    assert "Certificates page" in inbox.details.toPlainText()
    assert "Officers > Link key" in inbox.actor.combo.currentText()
    assert inbox.row_actions() == []


def test_reject_shows_a_summary_before_signing(window, qtbot, cli_run, team) -> None:  # type: ignore[no-untyped-def]
    """Rejecting is signed and final: like approving, it comes after a summary, and
    cancelling the summary changes nothing; the row's menu offers the same actions."""
    ctx = window.ctx
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-92")
    r = cli_run("--json", "revoke", "request", serial_of(cert), "--reason", "superseded",
                "--justification", "replaced by a new key", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    rid = str(r.json()["id"])
    inbox = window.go_to("Approvals")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.select(rid)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert [t for t, _ in inbox.row_actions()] == ["Show details", "Approve (sign)…",
                                                   "Reject…"]
    inbox.actor.select(team.sro)
    window.activateWindow()
    qtbot.waitActive(window)
    inbox.reject_button.setFocus()
    inbox.reject()  # no reason yet: said, and the cursor put where it is typed
    assert inbox.message.text().startswith("Reason for rejecting: say why")
    assert inbox.confirm is None or not inbox.confirm.isVisible()
    qtbot.waitUntil(inbox.reject_reason.hasFocus, timeout=2000)
    inbox.reject_reason.setText("not our certificate to revoke")
    inbox.reject()
    assert inbox.confirm is not None and inbox.confirm.isVisible()
    assert "Reject" in inbox.confirm.windowTitle() and rid in inbox.confirm.windowTitle()
    inbox.confirm.reject()
    window.jobs.wait(10000)
    assert revocation_state.get_view(ctx, rid).state == "waiting"
    inbox.reject()
    inbox.confirm.accept()
    qtbot.waitUntil(lambda: "rejected by" in inbox.message.text(), timeout=20000)
    assert revocation_state.get_view(ctx, rid).state == "rejected"


def test_empty_incidents_page_explains_and_greys_out_its_actions(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Incidents")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0 and "Record incident" in page.details.toPlainText()
    assert page.open_button.isEnabled()
    assert not any(b.isEnabled() for b in (page.confirm_button, page.rekey_button,
                                           page.close_button))


def test_sro_authorises_an_organisation_csr_on_the_requests_page(window, qtbot, team  # type: ignore[no-untyped-def]
                                                                 ) -> None:
    """The refusal "an SRO must authorise it first" pointed to a GUI action that did not exist:
    the SRO now authorises the selected CSR on the Requests page, signing as themselves, and
    the CSR then passes the rule (turned on here, as it is in Live)."""
    from smki_desktop.core.errors import Refusal
    from smki_desktop.services import org_csr_approval
    from tests.integration.portal_helpers import org_csr

    ctx = window.ctx
    ctx.set_setting("approvals.org-csr.enabled", "1")
    der = org_csr(ctx, "90-B3-D5-1F-30-01-00-93")
    with pytest.raises(Refusal, match="SRO"):
        org_csr_approval.require_authorised(ctx, der)
    page = window.go_to("Requests")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    row = next(i for i, c in enumerate(page.csrs) if c.row.der == der)
    page.csr_table.selectRow(row)
    assert "SRO: authorise this CSR…" in [t for t, _ in page.csr_actions()]
    for col in (1, 3):  # role / EUI and the date read in full (they were cut at 1024 px)
        text = page.csr_table.item(row, col).text()
        need = page.csr_table.fontMetrics().horizontalAdvance(text)
        qtbot.waitUntil(lambda c=col, n=need: page.csr_table.columnWidth(c) >= n,
                        timeout=5000)
    page.ask_authorise_csr()  # who may sign is read on the job runner, then it opens
    qtbot.waitUntil(lambda: page.authorise_dialog is not None, timeout=20000)
    dlg = page.authorise_dialog
    assert dlg is not None and "Organisation CSR" in dlg.summary.toPlainText()
    dlg.picker.select(team.sro)
    dlg.accept()
    qtbot.waitUntil(lambda: page.job is None, timeout=20000)
    assert org_csr_approval.require_authorised(ctx, der)
