"""The nomination wizard's declaration checkboxes and its nominating-SRO picker: a checkbox's
error sits just under its words and is its accessible description, as under every other
field; reached with Tab, the box shows the focus ring of the app's other editors in the light
and the dark palette; and the active SROs are read on the job runner ("Loading…" first, a
failure in plain words with Try again, nothing shown in a wizard closed meanwhile)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.core.nomination_wizard import Step
from smki_desktop.gui import style
from smki_desktop.gui.qt import (
    QApplication,
    QCheckBox,
    QColor,
    QEvent,
    QLabel,
    QPalette,
    QPushButton,
    Qt,
    QWidget,
)
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as officer_service
from tests.gui.test_nomination_wizard import opened, set_field
from tests.gui.test_nomination_wizard_pages import (
    active_sro,
    aro_values,
    fill_to,
    next_page,
    wizard,
)

SELF = "nominator.self_nomination"


@pytest.fixture(autouse=True)
def _wait_jobs(window):  # type: ignore[no-untyped-def]
    yield
    window.jobs.wait(30000)


def top_left(w: QWidget, dlg: QWidget) -> tuple[int, int]:
    p = w.mapTo(dlg, w.rect().topLeft())
    return p.x(), p.y()


# -- 1. the self-nomination's error, under its words and announced ---------------------------
def test_the_self_nomination_error_is_under_its_box_and_described(window, qtbot, tmp_path):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    values = aro_values()
    sro = nom.load_forms()["sro"].example_values()
    # the SRO nominates themselves without ticking the box: found when the form is produced
    values["nominee.name"], values["nominee.email"] = sro["nominee.name"], sro["nominee.email"]
    fill_to(qtbot, dlg, values, "declarations")
    next_page(qtbot, dlg)
    assert dlg.wiz.step is Step.REVIEW, dlg.message.text()
    dlg.pdf_path.setText(str(tmp_path / "aro.pdf"))
    qtbot.mouseClick(dlg.produce_button, Qt.MouseButton.LeftButton)
    dlg.confirmation.confirm()
    qtbot.waitUntil(lambda: bool(dlg.failure), timeout=30000)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "nominator"
    qtbot.wait(50)  # laid out

    box = dlg.findChild(QCheckBox, f"field:{SELF}")
    words = dlg.findChild(QLabel, f"declaration:{SELF}")
    err = dlg.findChild(QLabel, f"error:{SELF}")
    assert "must record it as a self-nomination" in err.text() and err.isVisible()
    (box_x, box_y), (words_x, words_y) = top_left(box, dlg), top_left(words, dlg)
    err_x, err_y = top_left(err, dlg)
    # just under the declaration's words (as an error under a line edit), not a row further
    # down; in the words' column, beside the box
    assert 0 <= err_y - (words_y + words.height()) <= 6, (words_y, words.height(), err_y)
    assert err_x == words_x >= box_x + box.width()
    assert err_y - (box_y + box.height()) <= 12
    # announced with the box (a screen reader reads the description with the field)
    assert box.accessibleDescription() == err.text()
    assert dlg.focusWidget() is box
    # corrected: the error and the description go together
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and err.text() == "" and box.accessibleDescription() == ""


def test_every_fields_error_is_its_accessible_description(window, qtbot):  # type: ignore[no-untyped-def]
    dlg = wizard(window, qtbot, "aro")
    set_field(qtbot, dlg, "nominee.email", "bob(at)example")
    email = dlg.findChild(QWidget, "field:nominee.email")
    err = dlg.findChild(QLabel, "error:nominee.email")
    assert err.text() and email.accessibleDescription() == err.text()
    set_field(qtbot, dlg, "nominee.email", "bob@example.com")
    assert err.text() == "" and email.accessibleDescription() == ""


# -- 2. the box's focus ring -------------------------------------------------------------------
@pytest.fixture(params=["light", "dark"])
def scheme(request, qapp, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    old_style, old_palette = qapp.style().name(), qapp.palette()
    monkeypatch.setenv("SMKI_COLOR_SCHEME", request.param)
    assert style.apply(qapp) == request.param
    yield request.param
    qapp.setStyle(old_style)
    qapp.setPalette(old_palette)


def ring(box: QCheckBox, colour: QColor) -> dict[str, int]:
    """How many pixels of `colour` the box shows on each of its four edges."""
    img = box.grab().toImage()
    w, h = img.width(), img.height()
    rgb = colour.rgb()

    def count(points: list[tuple[int, int]]) -> int:
        return sum(1 for x, y in points if img.pixel(x, y) == rgb)

    return {"top": count([(x, 0) for x in range(w)]),
            "bottom": count([(x, h - 1) for x in range(w)]),
            "left": count([(0, y) for y in range(h)]),
            "right": count([(w - 1, y) for y in range(h)])}


def test_the_declaration_box_shows_its_focus_when_tabbed_to(window, qtbot, scheme):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    dlg = wizard(window, qtbot, "aro")
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    fill_to(qtbot, dlg, aro_values(), "nominator")
    box = dlg.findChild(QCheckBox, f"field:{SELF}")
    highlight = box.palette().color(QPalette.ColorRole.Highlight)
    assert highlight == style.palette(scheme).color(QPalette.ColorRole.Highlight)
    date = dlg.findChild(QWidget, "field:nominator.date")
    date.setFocus(Qt.FocusReason.TabFocusReason)
    assert ring(box, highlight) == {"top": 0, "bottom": 0, "left": 0, "right": 0}
    qtbot.keyClick(date, Qt.Key.Key_Tab)
    assert dlg.focusWidget() is box
    edges = ring(box, highlight)
    # a ring all round the box in the palette's highlight, as round a focused line edit
    assert min(edges.values()) >= box.height() // 2, edges
    qtbot.keyClick(box, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert dlg.focusWidget() is date
    assert ring(box, highlight) == {"top": 0, "bottom": 0, "left": 0, "right": 0}


# -- 3. the active SROs, read on the job runner ------------------------------------------------
def gated(monkeypatch: pytest.MonkeyPatch, fail: BaseException | None = None
          ) -> tuple[list[bool], threading.Event]:
    """`list_officers` observed: on which thread it runs (True: the GUI thread), held off the
    GUI thread until the gate opens, then the real answer or `fail`."""
    threads: list[bool] = []
    gate = threading.Event()
    real: Callable[..., Any] = officer_service.list_officers

    def observed(ctx):  # type: ignore[no-untyped-def]
        on_gui = threading.current_thread() is threading.main_thread()
        threads.append(on_gui)
        if not on_gui:
            gate.wait(10)
        if fail is not None:
            raise fail
        return real(ctx)

    monkeypatch.setattr(officer_service, "list_officers", observed)
    return threads, gate


def test_the_sros_are_read_off_the_gui_thread_loading_first(window, qtbot, monkeypatch):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    threads, gate = gated(monkeypatch)
    dlg = wizard(window, qtbot, "aro")
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False], "the officer register was read on the GUI thread"
    picker = dlg.findChild(QWidget, "field:nominator.officer_id")
    assert not picker.isEnabled() and picker.count() == 1
    assert picker.currentText() == "Loading…"
    assert dlg.wiz.values.get("nominator.officer_id", "") == ""  # nothing chosen by loading
    gate.set()
    qtbot.waitUntil(picker.isEnabled, timeout=20000)
    assert picker.itemText(0) == "— choose the nominating SRO —"
    assert picker.findData("SRO-0001") > 0
    assert not dlg.findChild(QWidget, "sroPickerStatus").isVisibleTo(dlg)
    fill_to(qtbot, dlg, aro_values(), "nominator")  # the picker chooses, and names the SRO
    assert dlg.wiz.values["nominator.officer_id"] == "SRO-0001"
    assert dlg.findChild(QWidget, "field:nominator.name").text() == "Alice Example"
    assert threads == [False]  # read once


def test_a_failed_read_is_said_in_plain_words_and_tried_again(window, qtbot, monkeypatch):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    threads, gate = gated(monkeypatch, fail=StoreUnreachable(
        "The team store did not answer within 10 s."))
    gate.set()
    dlg = wizard(window, qtbot, "aro")
    status = dlg.findChild(QLabel, "sroPickerStatus")
    retry = dlg.findChild(QPushButton, "sroPickerRetry")
    qtbot.waitUntil(lambda: status.text() != "", timeout=20000)
    assert threads == [False]
    picker = dlg.findChild(QWidget, "field:nominator.officer_id")
    text = status.text()
    assert text == ("The active SROs could not be read from the officer register: The team "
                    "store did not answer within 10 s.")
    assert "StoreUnreachable" not in text and "Traceback" not in text
    assert picker.accessibleDescription() == text
    assert not picker.isEnabled()
    assert picker.currentText() == "— the SROs could not be read —"
    fill_to(qtbot, dlg, aro_values(), "environment")
    next_page(qtbot, dlg)
    assert dlg.wiz.page.id == "nominator"
    assert status.isVisibleTo(dlg) and retry.isVisibleTo(dlg)
    monkeypatch.undo()  # the store answers again
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(picker.isEnabled, timeout=20000)
    assert picker.findData("SRO-0001") > 0
    assert status.text() == "" and not status.isVisibleTo(dlg)
    assert not retry.isVisibleTo(dlg) and picker.accessibleDescription() == ""


@pytest.mark.parametrize("deleted", [False, True], ids=["closed", "closed-and-deleted"])
def test_closing_the_wizard_while_the_sros_load(window, qtbot, monkeypatch, deleted):  # type: ignore[no-untyped-def]
    active_sro(window.ctx)
    threads, gate = gated(monkeypatch)
    if deleted:  # not given to qtbot, which would close it after the test
        from smki_desktop.gui.wizards.nomination import NominationWizardDialog

        dlg = NominationWizardDialog(window.services)
        dlg.show()
        opened(qtbot, dlg)
        dlg.findChild(QWidget, "choose_aro").click()
        qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    else:
        dlg = wizard(window, qtbot, "aro")
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    picker = dlg.findChild(QWidget, "field:nominator.officer_id")
    dlg.reject()  # nothing typed yet: closes without asking
    assert not dlg.isVisible()
    if deleted:
        dlg.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gate.set()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    qtbot.wait(50)  # the answer's signal is delivered
    if not deleted:  # the answer came to a closed wizard: not shown in it
        assert picker.count() == 1 and picker.currentText() == "Loading…"
        assert dlg.wiz.values.get("nominator.officer_id", "") == ""
    assert threads == [False]
    assert window.isVisible()  # and nothing raised (pytest-qt fails on an error in a slot)
