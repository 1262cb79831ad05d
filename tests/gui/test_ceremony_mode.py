"""Ceremony mode from the GUI (issue 14): the Key ceremony page, a rehearsal, then the real
ceremony of the example file — two keys on a real SoftHSM2 token (PIN asked in the dialog) and
one in the key store — step by step with the administrator's and witnesses' ticks; the CSRs
pass `openssl req -verify` and the transcript verifies. The Keys page shows which keys have no
backup."""

from __future__ import annotations

import subprocess
from pathlib import Path

from smki_desktop.gui.qt import QDialogButtonBox, QLineEdit
from smki_desktop.services import ceremony_verify
from tests.integration.ceremony_support import example_file, prepare
from tests.support.softhsm import PIN, softhsm_token


def _drive(mode, window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Tick every box and perform each step until none is left, typing the PIN once."""
    for _ in range(20):
        if mode.current is None:
            return
        step = mode.current.step_id
        assert not mode.perform_button.isEnabled()  # nothing without every tick
        for cb in [mode.admin_check, *mode.witness_checks.values()]:
            cb.setChecked(True)
        if mode.warnings:
            assert not mode.perform_button.isEnabled()
            mode.warning_ack.setChecked(True)
        assert mode.perform_button.isEnabled()
        mode.perform_button.click()

        def settled() -> bool:
            d = window.passphrases.dialog
            if d is not None and d.isVisible():
                field = d.findChild(QLineEdit)
                field.setText(PIN)
                d.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
            return not mode.busy

        qtbot.waitUntil(settled, timeout=60000)
        assert not mode.failure, mode.failure
        assert step in mode.run.journal.done() or step == "finish"
    raise AssertionError("the ceremony did not end")


def test_gui_ceremony_end_to_end(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    prepare(ctx, tmp_path)
    path = example_file(tmp_path / "media")
    with softhsm_token(tmp_path, "ceremony"):
        page = window.go_to("Key ceremony")
        page.path.setText(str(path))
        page.check_button.click()
        qtbot.waitUntil(lambda: "valid" in page.plan.toPlainText() or bool(page.failure),
                        timeout=30000)
        assert "supplier-ds" in page.plan.toPlainText()

        page.rehearse_button.click()
        qtbot.waitUntil(lambda: page.mode is not None or bool(page.failure), timeout=30000)
        assert page.mode is not None and page.mode.isFullScreen()
        _drive(page.mode, window, qtbot)
        assert "Rehearsal passed" in page.mode.step_title.text()
        page.mode.close()
        page.mode = None
        assert not (path.parent / "ceremony-output").exists()

        page.start_button.click()
        qtbot.waitUntil(lambda: page.mode is not None or bool(page.failure), timeout=30000)
        mode = page.mode
        assert mode is not None and "TEST ENVIRONMENT" in mode.findChild(
            type(mode.step_title), "ceremonyBanner").text()
        _drive(mode, window, qtbot)
        assert "complete" in mode.step_title.text()
        assert mode.qr_button.isEnabled()
        mode.show_qr()
        assert mode.qr is not None and not mode.qr.image.pixmap().isNull()
        mode.qr.accept()
        assert mode.shares_button.isEnabled()
        mode.show_shares()
        dlg = mode.shares_dialog
        assert dlg is not None and len(dlg.shares) == 5
        assert [c for c, _ in dlg.shares] == ["Cara One", "Cal Two", "Cy Three", "Col Four",
                                              "Cass Five"]
        for custodian, share_path in dlg.shares:
            assert custodian in dlg.who.text()
            assert dlg.words.text() == "" and not dlg.next_button.isEnabled()
            dlg.reveal_button.click()
            assert len(dlg.words.text().split()) == 33  # SLIP-39 share of a 256-bit secret
            assert f"mnemonic: {dlg.words.text()}\n" in share_path.read_text()
            dlg.next_button.click()
        assert "Separate them now" in dlg.who.text() and dlg.words.text() == ""
        assert len(set(dlg.shown)) == 5
        dlg.next_button.click()
        mode.close()

    media = path.parent / "ceremony-output"
    csrs = sorted((media / "csr").glob("*.csr"))
    assert len(csrs) == 3
    for csr in csrs:
        v = subprocess.run(["openssl", "req", "-in", str(csr), "-noout", "-verify"],
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stderr
    rep = ceremony_verify.verify_transcript(ctx, media / "transcript.jsonl")
    assert rep.ok, rep.problems
    locations = sorted(r["location"] for r in ctx.db.conn().execute(
        "SELECT location FROM keys WHERE label LIKE 'ceremony %'"))
    assert locations == ["os-keyring", "pkcs11", "pkcs11"]

    keys = window.go_to("Keys")
    keys.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    from smki_desktop.gui.pages.keys import COLUMNS

    col = COLUMNS.index("Backup")
    by_label = {keys.table.item(r, 0).text(): keys.table.item(r, col).text()
                for r in range(keys.table.rowCount())}
    assert by_label["ceremony test example-supplier-2026 xml-sign"] == "3-of-5 shares"
    assert by_label["ceremony test example-supplier-2026 supplier-ds"] == "none possible (token)"
    assert by_label["ARO file signing"] == "NO BACKUP"
