"""The Organisation key + CSR wizard in Live: refuses without a Party profile, offers only the
Party type's roles with none pre-selected, checks the EUI against the Party's range, asks for
a red-framed confirmation (never the default button) and discards the Live key on Cancel."""

from __future__ import annotations

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import Qt
from smki_desktop.services import csr as csr_service
from smki_desktop.services.party import set_party


def _wizard(window, qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

    dlg = OrgCsrWizard(window.services, window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def test_live_wizard_refuses_without_a_party_profile(live_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _wizard(live_window, qtbot)
    assert "Party profile" in dlg.message.text() and "Live" in dlg.message.text()
    assert not dlg.next_button.isEnabled()
    assert [dlg.role.itemData(i) for i in range(dlg.role.count())] == [None]
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "request" and dlg.created is None


def test_live_wizard_roles_range_confirmation_and_cancel(live_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = live_window.services.ctx
    set_party(ctx, PartyProfile("Acme Energy", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    dlg = _wizard(live_window, qtbot)
    roles = [dlg.role.itemData(i) for i in range(dlg.role.count())]
    assert roles == [None, "02", "87"]  # the Party type's roles, no root (00)
    assert dlg.role.currentData() is None and dlg.state.role is None
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "request" and "Choose a role" in dlg.message.text()
    dlg.role.setCurrentIndex(dlg.role.findData("02"))
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "identity"
    dlg.eui.setText("90-B3-D5-1F-30-02-00-07")  # another Party's EUI
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "identity" and "outside your range" in dlg.message.text()
    dlg.eui.setText("90-B3-D5-1F-30-01-00-07")
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    assert dlg.state.name == "key"
    keys_before = len(ctx.keystore.list_keys())
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Next on the key page: the confirmation only
    assert dlg.confirm_frame.isVisible() and dlg.created is None
    assert "C62828" in dlg.confirm_frame.styleSheet()
    summary = dlg.confirm_text.text()
    assert "LIVE" in summary and "ACME" in summary and "supplier (02)" in summary
    assert "90-B3-D5-1F-30-01-00-07" in summary
    assert not dlg.confirm_button.isDefault() and not dlg.confirm_button.autoDefault()
    assert not dlg.next_button.isEnabled()
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # Enter does not confirm
    live_window.jobs.wait(5000)
    assert dlg.created is None and len(ctx.keystore.list_keys()) == keys_before
    dlg.confirm_button.click()
    qtbot.waitUntil(lambda: dlg.created is not None or bool(dlg.failure), timeout=30000)
    assert not dlg.failure and dlg.state.name == "review"
    key_id = dlg.created.key.key_id
    assert [k.key_id for k in ctx.keystore.list_keys()] == [key_id]
    dlg.cancel_button.click()  # cancelled before saving: the Live key goes
    live_window.jobs.wait(30000)
    assert ctx.keystore.list_keys() == [] and csr_service.list_csrs(ctx) == []
    assert not list(ctx.paths.keys_dir.iterdir())
    actions = [e.action for e in ctx.audit.entries()]
    assert actions[0] == "csr.org.discard"


def test_test_wizard_cancel_after_save_keeps_the_key(window, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    dlg = _wizard(window, qtbot)
    assert dlg.state.role is not None  # Test keeps the quick path (no profile needed)
    dlg.state.eui_text = "90-B3-D5-1F-30-01-00-09"
    dlg.eui.setText("90-B3-D5-1F-30-01-00-09")
    dlg.role.setCurrentIndex(dlg.role.findData("02"))
    for _ in range(3):
        qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dlg.created is not None or bool(dlg.failure), timeout=30000)
    assert not dlg.failure
    dlg.path.setText(str(tmp_path / "x.csr"))
    dlg.save()
    dlg.cancel_button.click()
    window.jobs.wait(30000)
    assert len(csr_service.list_csrs(ctx)) == 1


def test_live_escape_on_the_review_page_keeps_the_key_and_csr(live_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """One keystroke never loses a Live key: Escape after the key is made closes the wizard
    and keeps key and CSR; only the button that says "Discard key and CSR" deletes them."""
    ctx = live_window.services.ctx
    set_party(ctx, PartyProfile("Acme Energy", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    dlg = _wizard(live_window, qtbot)
    assert dlg.cancel_button.text() == "Cancel"
    dlg.role.setCurrentIndex(dlg.role.findData("02"))
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    dlg.eui.setText("90-B3-D5-1F-30-01-00-08")
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    qtbot.keyClick(dlg, Qt.Key.Key_Return)
    dlg.confirm_button.click()
    qtbot.waitUntil(lambda: dlg.created is not None or bool(dlg.failure), timeout=30000)
    assert dlg.state.name == "review" and not dlg.failure
    assert dlg.cancel_button.text() == "&Discard key and CSR"
    assert "Requests page" in dlg.message.text()
    key_id = dlg.created.key.key_id
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    live_window.jobs.wait(30000)
    assert not dlg.isVisible()
    assert [k.key_id for k in ctx.keystore.list_keys()] == [key_id]
    assert [r["key_id"] for r in csr_service.list_csrs(ctx)] == [key_id]
    assert "csr.org.discard" not in [e.action for e in ctx.audit.entries()]
