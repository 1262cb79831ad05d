"""The "New Organisation key and CSR" wizard, walked with the keyboard from the first page to
a saved CSR that OpenSSL verifies and our lint passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.gui.qt import Qt
from smki_desktop.services import csr as csr_service
from smki_desktop.services.party import set_party


def test_wizard_first_page_to_saved_csr(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

    ctx = window.services.ctx
    own = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    set_party(ctx, PartyProfile(name="Acme Energy", party_id="ACME",
                                party_type=PartyType("gas-supplier"), eui_ranges=(own,)))
    dlg = OrgCsrWizard(window.services, window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    # only the roles a gas supplier may request; usages follow the role
    roles = [dlg.role.itemData(i) for i in range(dlg.role.count())]
    assert roles == [RemotePartyRole.SUPPLIER.ou, RemotePartyRole.XML_SIGN.ou]
    assert dlg.focusWidget() is dlg.role
    qtbot.keyClick(dlg.role, Qt.Key.Key_Down)  # xmlSign: signing only
    assert dlg.usage.count() == 1
    qtbot.keyClick(dlg.role, Qt.Key.Key_Up)  # back to supplier
    assert dlg.usage.count() == 2
    qtbot.keyClick(dlg.usage, Qt.Key.Key_Down)  # key agreement
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Enter = Next
    assert dlg.state.name == "identity"
    # EUI pre-filled from the party range, validated as typed
    assert dlg.eui.text() == "90-B3-D5-1F-30-01-00-00" and dlg.focusWidget() is dlg.eui
    dlg.eui.selectAll()
    qtbot.keyClicks(dlg.eui, "90-B3-D5-1F-30-02-00-00")
    assert "outside your range" in dlg.eui_status.text()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "identity" and "outside" in dlg.message.text()
    dlg.eui.selectAll()
    qtbot.keyClicks(dlg.eui, "90b3d51f30010042")
    assert dlg.eui_status.text() == "OK: 90-B3-D5-1F-30-01-00-42"
    qtbot.keyClick(dlg.eui, Qt.Key.Key_Tab)
    qtbot.keyClicks(dlg.cn, "ACME GAS")
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "key" and dlg.loc_keyring.isChecked()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # make key + CSR in the background
    qtbot.waitUntil(lambda: dlg.created is not None or bool(dlg.failure), timeout=30000)
    assert not dlg.failure
    assert dlg.state.name == "review"
    review = dlg.review.toPlainText()
    assert "EUI-64 (uniqueIdentifier, BIT STRING): 90-B3-D5-1F-30-01-00-42" in review
    assert "Role (OU): 02 supplier" in review and "key-agreement" in review
    out = tmp_path / "wizard.csr"
    dlg.path.setText(str(out))
    qtbot.keyClick(dlg.save_button, Qt.Key.Key_Space)
    assert dlg.saved_path == out and out.exists()
    verify = subprocess.run(["openssl", "req", "-in", str(out), "-noout", "-verify"],
                            capture_output=True, text=True)
    assert verify.returncode == 0
    report = lint_bytes(out.read_bytes(), csr_service.profile_for(ctx))
    assert report.findings == [] and report.fields.cn == "ACME GAS"
    qtbot.keyClick(dlg.copy_button, Qt.Key.Key_Space)
    from smki_desktop.gui.qt import QGuiApplication

    assert "BEGIN CERTIFICATE REQUEST" in QGuiApplication.clipboard().text()
    assert [r["eui"] for r in csr_service.list_csrs(ctx)] == ["90-B3-D5-1F-30-01-00-42"]
    actions = [r[0] for r in ctx.db.conn().execute("SELECT action FROM audit_log")]
    assert "key.generate" in actions and "csr.org.create" in actions
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Finish
    assert dlg.result() == 1


def test_certificates_page_import_filter_details(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.certificates import Page
    from smki_desktop.gui.settings.profiles import Section

    pki = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
    page = Page(window.services)
    qtbot.addWidget(page)
    page._import((pki / "device" / "00db123456789004-ka.pem").read_bytes(), "device cert")
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.last_result is not None and page.last_result.status == "unmatched"
    assert "not ours" in page.result_label.text()
    assert page.table.rowCount() == 1
    page.table.selectRow(0)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert "Device (EUI-64): 00-DB-12-34-56-78-90-04" in page.details.text()
    page.f_status.setCurrentIndex(page.f_status.findData("accepted"))
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0
    section = Section(window.services)
    qtbot.addWidget(section)
    assert "1.2.826.0.1.8641679.1.2.1.4" in section.document.text()


def test_certificate_actions_need_a_selection(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Export, Copy PEM and Revoke are greyed out while nothing is selected (they did nothing
    when pressed), and a filter that hides the certificate clears its details."""
    from smki_desktop.gui.pages.certificates import Page

    pki = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
    page = Page(window.services)
    qtbot.addWidget(page)
    buttons = (page.export_button, page.copy_button, page.revoke_button)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0 and not any(b.isEnabled() for b in buttons)
    page._import((pki / "device" / "00db123456789004-ka.pem").read_bytes(), "device cert")
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert all(b.isEnabled() for b in buttons)
    assert page.details.topLevelItemCount() > 0
    page.f_status.setCurrentIndex(page.f_status.findData("accepted"))
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0
    assert not any(b.isEnabled() for b in buttons)
    assert page.details.topLevelItemCount() == 0
