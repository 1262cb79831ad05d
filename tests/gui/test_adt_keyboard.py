"""The ADT page by keyboard (a keyboard walk at 1024x700): every Alt+letter on the page opens
one thing, Verify leaves focus where the officer was and its outcome in sight, actions are
offered only when the flow allows them, and a file's history does not claim another file's
signing."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.adt import Page as AdtPage
from smki_desktop.gui.qt import QApplication, QLabel, QScrollArea, QWidget
from smki_desktop.services import adt as adt_service
from tests.gui.mnemonics import clashes, mnemonic, owners
from tests.integration.adt_support import make_aro


def test_every_alt_letter_on_the_adt_page_is_unique(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Alt+V was both Verify… and Deliver package…: it only moved focus between them."""
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert isinstance(page, AdtPage)
    claimed = owners(window)
    assert "v" in claimed and any("Verify" in t for t in claimed["v"])
    assert clashes(window) == {}


def test_the_sro_decision_is_reached_by_its_label(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """"SRO confirmation:" had no Alt letter: the decision combo was reached only by Tab."""
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert isinstance(page, AdtPage)
    [label] = [w for w in page.findChildren(QLabel) if "confir" in w.text().lower()
               and w.buddy() is not None]
    assert label.buddy() is page.decision_combo and mnemonic(label.text()) == "m"
    unbuddied = [w.text() for w in page.findChildren(QLabel)
                 if mnemonic(w.text()) is not None and w.buddy() is None]
    assert unbuddied == []


def _in_view(window: MainWindow, widget: QWidget) -> bool:
    """The whole of `widget` is inside the page's scroll area's viewport."""
    scroller = widget.parentWidget()
    while scroller is not None and not isinstance(scroller, QScrollArea):
        scroller = scroller.parentWidget()
    assert scroller is not None
    port = scroller.viewport()
    shown = widget.rect()
    shown.moveTopLeft(widget.mapTo(port, shown.topLeft()))
    return bool(port.rect().contains(shown))


def test_verify_keeps_focus_and_shows_its_outcome_at_1024x700(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    """After Verify… the focus went to the SRO decision combo (an arrow key then changed the
    decision) and the result line was below the fold."""
    window.resize(1024, 700)
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert isinstance(page, AdtPage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    f = tmp_path / "adt.csv"
    adt_service.write_template(page.ctx, f)
    adt_service.sign_file(page.ctx, f, aro.key.key_id)
    window.activateWindow()
    page.verify_btn.setFocus()
    qtbot.waitUntil(page.verify_btn.hasFocus, timeout=5000)
    page.verify(f)  # what Verify… does with the file chosen
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert "Signature valid" in page.summary.text(), page.summary.text()
    assert QApplication.focusWidget() is page.verify_btn, QApplication.focusWidget()
    assert page.decision_combo.currentData() == "apply"
    for _ in range(5):
        QApplication.processEvents()
    assert _in_view(window, page.summary), (page.summary.geometry(), page.height())


def test_history_of_a_copy_names_the_file_that_was_signed(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    """The history is looked up by content: a copy of a signed file showed "… signed" as if
    it had been signed itself (before it existed)."""
    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert isinstance(page, AdtPage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    signed = tmp_path / "sample" / "sample-adt.csv"
    signed.parent.mkdir()
    adt_service.write_template(page.ctx, signed)
    adt_service.sign_file(page.ctx, signed, aro.key.key_id)
    copy = tmp_path / "mine" / "adt.csv"
    copy.parent.mkdir()
    copy.write_bytes(signed.read_bytes())

    page.open_file(copy)
    qtbot.waitUntil(lambda: not page.busy and page.path == copy, timeout=30_000)
    text = page.history.text()
    assert f"signed as {signed.resolve()} (same content)" in text, text

    page.open_file(signed)
    qtbot.waitUntil(lambda: not page.busy and page.path == signed, timeout=30_000)
    text = page.history.text()
    assert text.startswith("History: ") and text.endswith(" signed"), text


def test_actions_are_offered_only_when_the_flow_allows_them(qtbot, window: MainWindow, adt_page,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path) -> None:
    """With nothing loaded, Alt+S wrote a header-only adt.csv, and then SRO confirm and
    Deliver package… were offered for a file that is not valid and not signed. They follow
    the file, not this workstation's history: a file signed elsewhere is confirmed and
    delivered here."""
    page, aro = adt_page
    buttons = (page.save_btn, page.save_as_btn, page.confirm_btn, page.deliver_btn)
    assert [b.isEnabled() for b in buttons] == [False] * 4  # nothing loaded
    assert page.save() is None and not list(tmp_path.glob("*.csv"))

    # a header-only file: not valid, so neither confirmed nor delivered
    empty = tmp_path / "empty.csv"
    empty.write_bytes(adt_service.template_bytes(page.ctx).splitlines(keepends=True)[0])
    page.open_file(empty)
    qtbot.waitUntil(lambda: not page.busy and page.path == empty, timeout=30_000)
    assert page.report is not None and not page.report.ok
    assert not page.save_btn.isEnabled()  # nothing edited
    assert page.save_as_btn.isEnabled()
    assert not page.confirm_btn.isEnabled() and not page.deliver_btn.isEnabled()

    # a valid file, no signature beside it: Sign; the SRO's confirmation too (an SRO confirms
    # a file an ARO signed on another workstation); a package only once it is signed
    f = tmp_path / "adt.csv"
    adt_service.write_template(page.ctx, f)
    page.open_file(f)
    qtbot.waitUntil(lambda: not page.busy and page.path == f, timeout=30_000)
    assert page.sign_btn.isEnabled() and page.confirm_btn.isEnabled()
    assert not page.deliver_btn.isEnabled()
    adt_service.sign_file(page.ctx, f, aro.key.key_id)
    page.open_file(f)
    qtbot.waitUntil(lambda: not page.busy and "signed" in page.history.text(), timeout=30_000)
    assert page.confirm_btn.isEnabled() and page.deliver_btn.isEnabled()

    # signed on another workstation: the file and its signature copied here, no history here
    elsewhere = tmp_path / "from-the-aro"
    elsewhere.mkdir()
    for made in tmp_path.glob("adt.csv*"):
        (elsewhere / made.name).write_bytes(made.read_bytes())
    copy = elsewhere / "adt.csv"
    page.open_file(copy)
    qtbot.waitUntil(lambda: not page.busy and page.path == copy, timeout=30_000)
    assert page.confirm_btn.isEnabled() and page.deliver_btn.isEnabled()

    # an edit: the table is no longer the signed file; Save is offered
    page.add_row()
    qtbot.waitUntil(page.save_btn.isEnabled, timeout=5000)
    assert not page.confirm_btn.isEnabled() and not page.deliver_btn.isEnabled()
