"""The Approvals page and the dual-control summary by keyboard (a walk at 1024x700): one Return
signed an approval (the action button was the default while the focus opened on the summary);
Escape left the focus nowhere and an old refusal on the page; the summary wrapped serials and
EUIs mid-value and cut "Approvals:" off; "Sign as" offered the requesting ARO; Tab into the
table selected nothing, so Approve stayed disabled; "Requested by" showed only a register id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QApplication, QPushButton, Qt, QVBoxLayout, QWidget
from smki_desktop.gui.widgets.dual_control import ConfirmDialog
from smki_desktop.services import revocation_state, simulator_control
from tests.gui.mnemonics import mnemonic
from tests.integration.identity_helpers import issue_org, make_team, serial_of

SHOTS = os.environ.get("SMKI_SCREENSHOTS")
KEEP: list[QWidget] = []


@pytest.fixture(autouse=True)
def _parents():  # type: ignore[no-untyped-def]
    yield
    while KEEP:
        KEEP.pop().deleteLater()


def _shown(qtbot, env: Environment) -> ConfirmDialog:  # type: ignore[no-untyped-def]
    parent = QWidget()
    KEEP.append(parent)
    dlg = ConfirmDialog("Approve RV-1", "<p>Revoke 1 certificate.</p>", "Approve and sign",
                        env, "RV-1", parent)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    return dlg


def _focus(qtbot, w: QWidget) -> None:  # type: ignore[no-untyped-def]
    w.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w, timeout=5000)


@pytest.mark.parametrize("env", [Environment.TEST, Environment.LIVE])
def test_one_return_does_not_sign(qtbot, env: Environment) -> None:  # type: ignore[no-untyped-def]
    dlg = _shown(qtbot, env)
    if env is Environment.LIVE:
        dlg.typed.setText("RV-1")
        assert dlg.ok.isEnabled()
    assert not dlg.ok.isDefault()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)
    start = QApplication.focusWidget()
    assert start is not None and start is not dlg.ok
    with qtbot.waitSignal(dlg.rejected, timeout=5000):
        qtbot.keyClick(start, Qt.Key.Key_Return)
    assert dlg.result() == dlg.DialogCode.Rejected.value


def test_return_on_the_focused_action_button_confirms(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _shown(qtbot, Environment.TEST)
    _focus(qtbot, dlg.ok)
    assert dlg.ok.isDefault()  # the frame shows what Return does
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    # the buttons have Alt letters, the summary is reachable
    assert mnemonic(dlg.ok.text()) == "a" and mnemonic(dlg.cancel.text()) == "c"


def test_focus_goes_back_when_the_summary_closes(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.confirm import open_confirmation

    owner = QWidget()
    KEEP.append(owner)
    opener = QPushButton("&Approve…")
    QVBoxLayout(owner).addWidget(opener)
    owner.show()
    qtbot.waitExposed(owner)
    owner.activateWindow()
    qtbot.waitActive(owner)
    _focus(qtbot, opener)
    said: list[str] = []
    dlg = ConfirmDialog("Approve", "<p>x</p>", "Approve and sign", Environment.TEST, "RV-1",
                        owner)
    open_confirmation(owner, dlg, lambda: said.append("signed"),
                      cancelled=lambda: said.append("cancelled"))
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    owner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is opener, timeout=5000)
    assert said == ["cancelled"]


@pytest.fixture
def team(window, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(window.ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(window.ctx)


def test_the_approvals_page_by_keyboard(window, qtbot, cli_run, team) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    window.resize(1024, 700)
    cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-94")
    r = cli_run("--json", "revoke", "request", serial_of(cert), "--reason", "keyCompromise",
                "--justification", "Laptop holding the key stolen on the train",
                "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    rid = str(r.json()["id"])
    inbox = window.go_to("Approvals")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    inbox.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    # "Requested by" names the officer, with the register id
    assert inbox.table.item(0, 2).text() == f"Bob Aro ({team.aro})"
    # Sign as has an Alt letter
    assert mnemonic(inbox.actor.label.text()) is not None
    assert inbox.actor.label.buddy() is inbox.actor.combo

    # Tab into the table selects the row: the buttons follow
    window.activateWindow()
    qtbot.waitActive(window)
    assert not inbox.table.selectedItems() and not inbox.approve_button.isEnabled()
    _focus(qtbot, inbox.table)
    assert inbox.selected() is not None and inbox.selected().request_id == rid
    assert inbox.approve_button.isEnabled()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    assert f"Bob Aro ({team.aro})" in inbox.details.toPlainText()
    # Sign as offers who may approve it: the SRO, not the requesting ARO
    chosen = inbox.actor.selected()
    assert chosen is not None and chosen.officer_id == team.sro

    # the summary: sized to its content within 1024x700, nothing wrapped mid-value
    _focus(qtbot, inbox.approve_button)
    qtbot.keyClick(inbox.approve_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: inbox.confirm is not None and inbox.confirm.isVisible(),
                    timeout=10000)
    dlg = inbox.confirm
    qtbot.waitExposed(dlg)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dlg.grab().save(str(Path(SHOTS) / "approve-summary.png"))
    assert dlg.width() <= 1024 and dlg.height() <= 700
    assert dlg.summary.verticalScrollBar().maximum() == 0  # "Approvals:" in sight
    assert dlg.summary.horizontalScrollBar().maximum() == 0
    doc = dlg.summary.document()
    block = doc.begin()
    lines: list[str] = []
    while block.isValid():
        layout = block.layout()
        lines += [block.text()[layout.lineAt(i).textStart():][:layout.lineAt(i).textLength()]
                  for i in range(layout.lineCount())]
        block = block.next()
    for value in (serial_of(cert), "90-B3-D5-1F-30-01-00-94"):
        assert any(value.lower() in line.lower() for line in lines), (value, lines)
    assert mnemonic(dlg.ok.text()) == "a" and mnemonic(dlg.cancel.text()) == "c"

    # one Return does not sign; the focus goes back and the page says nothing was signed
    opener = inbox.approve_button
    inbox.message.setText("Rule: no self-approval (an earlier refusal)")
    qtbot.waitActive(dlg)
    qtbot.waitUntil(lambda: dlg.isAncestorOf(QApplication.focusWidget()), timeout=5000)
    assert QApplication.focusWidget() is not dlg.ok
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    window.jobs.wait(10000)
    assert revocation_state.get_view(ctx, rid).state == "waiting"
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is opener, timeout=5000)
    assert "Rule:" not in inbox.message.text() and "cancelled" in inbox.message.text()
