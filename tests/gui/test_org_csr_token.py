"""The Organisation CSR wizard with a key on a real SoftHSM2 token: the token's PIN is asked in a
modal dialog on the GUI thread while the job waits (the job itself never touches Qt)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import QApplication, QDialogButtonBox, QLineEdit, Qt
from smki_desktop.services import csr as csr_service
from smki_desktop.services.party import set_party
from tests.support.softhsm import MODULE, PIN, softhsm_token


@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    with softhsm_token(tmp_path, "gui-tok") as label:
        yield label


def _wizard_at_key_page(window, qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

    ctx = window.services.ctx
    own = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    set_party(ctx, PartyProfile(name="Acme Energy", party_id="ACME",
                                party_type=PartyType("gas-supplier"), eui_ranges=(own,)))
    dlg = OrgCsrWizard(window.services, window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # supplier, signing
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # EUI from the party's range
    assert dlg.state.name == "key"
    assert dlg.loc_token.isEnabled()
    dlg.loc_token.setChecked(True)
    return dlg


def _pin_dialog(window, qtbot):  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    dlg = window.passphrases.dialog
    assert QApplication.activeModalWidget() is dlg
    return dlg


def _configure(window, token: str) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    ctx.set_setting(csr_service.SETTING_PKCS11_MODULE, MODULE)
    ctx.set_setting(csr_service.SETTING_PKCS11_TOKEN, token)


def test_token_pin_asked_in_a_dialog_and_csr_saved(window, qtbot, token: str,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path) -> None:
    _configure(window, token)
    wiz = _wizard_at_key_page(window, qtbot)
    qtbot.keyClick(wiz, Qt.Key.Key_Return)  # make the key on the token: the PIN is asked
    pin = _pin_dialog(window, qtbot)
    text = pin.question.text()
    assert "gui-tok" in text and "Organisation CSR" in text
    field = pin.findChild(QLineEdit)
    assert field.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(field, PIN)
    pin.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: wiz.created is not None or bool(wiz.failure), timeout=30000)
    assert not wiz.failure
    assert window.passphrases.dialog is None  # the dialog (and the PIN typed) is gone
    assert wiz.created is not None and wiz.created.key.location.value == "pkcs11"
    out = tmp_path / "token.csr"
    wiz.path.setText(str(out))
    qtbot.keyClick(wiz.save_button, Qt.Key.Key_Space)
    assert wiz.saved_path == out
    verify = subprocess.run(["openssl", "req", "-in", str(out), "-noout", "-verify"],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "verify OK" in verify.stdout + verify.stderr
    ctx = window.services.ctx
    actions = [r[0] for r in ctx.db.conn().execute("SELECT action FROM audit_log")]
    assert "key.generate" in actions and "csr.org.create" in actions
    details = " ".join(r[0] for r in ctx.db.conn().execute("SELECT details FROM audit_log"))
    assert PIN not in details.replace(token, "")


def test_cancelling_the_pin_fails_the_job_and_makes_nothing(window, qtbot,  # type: ignore[no-untyped-def]
                                                            token: str) -> None:
    _configure(window, token)
    wiz = _wizard_at_key_page(window, qtbot)
    ctx = window.services.ctx
    before = [r[0] for r in ctx.db.conn().execute("SELECT action FROM audit_log")]
    qtbot.keyClick(wiz, Qt.Key.Key_Return)
    pin = _pin_dialog(window, qtbot)
    pin.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    qtbot.waitUntil(lambda: bool(wiz.failure), timeout=30000)
    assert "cancelled" in wiz.failure and "gui-tok" in wiz.failure
    assert wiz.created is None and wiz.state.name == "key" and wiz.next_button.isEnabled()
    assert ctx.db.conn().execute("SELECT COUNT(*) FROM keys").fetchone()[0] == 0
    assert csr_service.list_csrs(ctx) == []
    assert [r[0] for r in ctx.db.conn().execute("SELECT action FROM audit_log")] == before


def test_token_settings_saved_and_audited_by_a_job(window, qtbot, token: str) -> None:  # type: ignore[no-untyped-def]
    """Settings > Profiles saves the token choice in the background (the audit record is a
    keyring write, never made on the GUI thread) and reports a failure."""
    from smki_desktop.gui.qt import QMessageBox
    from smki_desktop.gui.settings.profiles import Section

    ctx = window.services.ctx
    section = Section(window.services)
    qtbot.addWidget(section)

    def audited() -> list[str]:
        return [r[0] for r in ctx.db.conn().execute(
            "SELECT details FROM audit_log WHERE action='settings.pkcs11'")]

    section.module.setText("/nowhere/libnothing.so")
    section.token.setText(token)
    with qtbot.waitSignal(window.jobs.busy_changed, timeout=5000,
                          check_params_cb=lambda busy, name: busy and "token" in name):
        section.save.click()
    qtbot.waitUntil(lambda: section.status.text().startswith("Not saved"), timeout=30000)
    assert "no file /nowhere/libnothing.so" in section.status.text()
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None and "libnothing" in box.text()
    assert ctx.setting(csr_service.SETTING_PKCS11_MODULE) is None and audited() == []

    section.module.setText(MODULE)
    with qtbot.waitSignal(window.jobs.busy_changed, timeout=5000,
                          check_params_cb=lambda busy, name: busy and "token" in name):
        section.save.click()
    assert section.status.text() == "Saving…" and not section.save.isEnabled()
    qtbot.waitUntil(lambda: section.status.text() == "Saved.", timeout=30000)
    assert section.save.isEnabled()
    assert ctx.setting(csr_service.SETTING_PKCS11_MODULE) == MODULE
    assert ctx.setting(csr_service.SETTING_PKCS11_TOKEN) == token
    assert len(audited()) == 1 and token in audited()[0]
