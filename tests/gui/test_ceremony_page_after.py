"""After a ceremony, from the Key ceremony page (issue 14 gap): verify the transcript and let a
witness sign it with their own credential — the same services as `smki ceremony verify|sign`;
the administrator's credential is refused as a witness's."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.services import ceremony as ceremony_service
from tests.gui.ceremony_gui import ceremony_on_media
from tests.integration.ceremony_support import make_witness, prepare
from tests.integration.test_ceremony_service import CEREMONY, Answers, _fake_net

W = ["Wendy Witness", "Walt Witness"]


def test_verify_and_witness_sign_from_the_page(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    aro = prepare(ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY)
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    run.sys_net = _fake_net(tmp_path / "net", up=False)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")  # his own, in the register

    page = window.go_to("Key ceremony")

    def settle() -> str:
        qtbot.waitUntil(lambda: page.verify_button.isEnabled(), timeout=30000)
        return page.plan.toPlainText()

    page.verify_button.click()
    assert "Give the transcript" in page.plan.toPlainText()
    page.transcript.setText(str(out))
    page.verify_button.click()
    text = settle()
    assert "VERIFIED" in text and "NOT VERIFIED" not in text
    assert "Walt Witness: no electronic signature" in text

    page.witness.setText("Walt Witness")
    page.witness_key.setText(aro.key.key_id[:12])
    page.sign_button.click()
    assert "administrator's credential" in settle()
    page.witness_key.setText(walt.key.key_id[:12])
    page.sign_button.click()
    assert "Witness Walt Witness signed the transcript" in settle()
    assert (out / "witness-walt-witness.p7s").is_file()
    page.verify_button.click()
    text = settle()
    assert "NOT VERIFIED" not in text and "witness Walt Witness: signature by" in text


def test_enter_in_the_file_and_transcript_fields_checks_and_verifies(window, qtbot,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    """Typing a path and pressing Enter did nothing (the keyboard walk of the page): Enter in
    the ceremony file field checks it, in the transcript field verifies it."""
    from smki_desktop.gui.qt import Qt

    path = ceremony_on_media(window, tmp_path)
    page = window.go_to("Key ceremony")
    page.path.setText(str(path))
    qtbot.keyClick(page.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "The ceremony file is valid" in page.plan.toPlainText(),
                    timeout=30000)
    page.transcript.setText(str(tmp_path / "media" / "out"))
    qtbot.keyClick(page.transcript, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Cannot verify" in page.plan.toPlainText(), timeout=30000)
    assert "out: cannot be read" in page.plan.toPlainText()  # there is none yet: named


def test_every_field_of_the_page_has_a_label_with_its_own_alt_letter(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The ceremony file, transcript, witness and witness key fields had placeholders only:
    no Alt letter reached them and, once typed in, nothing said what they were."""
    import re

    from smki_desktop.gui.qt import QAbstractButton, QLabel, QLineEdit

    page = window.go_to("Key ceremony")
    fields = page.findChildren(QLineEdit)
    labelled = {lbl.buddy() for lbl in page.findChildren(QLabel) if lbl.buddy() is not None}
    assert [f.accessibleName() for f in fields if f not in labelled] == []
    letters = [m.group(1).lower() for w in [*page.findChildren(QLabel),
                                            *page.findChildren(QAbstractButton)]
               for m in [re.search(r"&([^&])", w.text().replace("&&", ""))] if m]
    letters += ["f", "h"]  # the menus'
    assert len(letters) == len(set(letters)), sorted(letters)


def test_tab_goes_through_the_after_ceremony_rows_as_they_read(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.qt import QApplication, Qt

    page = window.go_to("Key ceremony")
    window.activateWindow()
    qtbot.waitActive(window)
    page.transcript.setFocus()
    qtbot.waitUntil(page.transcript.hasFocus)
    order = []
    for _ in range(4):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [page.verify_button, page.witness, page.witness_key, page.sign_button]
