"""The nomination wizard never reads or writes the store on the GUI thread: its defaults and a
resumed draft are read when it opens ("Loading…", nothing to choose or type meanwhile), the
choose screen's saved drafts are counted ("Looking for saved drafts…"), and Save draft writes
("Saving…", the buttons that must wait disabled, typing on kept). Each read or write is held
open off the GUI thread to see the waiting state; failures are said in plain words with a way
to try again, a failed save keeps every answer, an answer that comes to a closed wizard is not
shown, and the audit record of a saved draft is the one the service always wrote."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.core.nomination_wizard import NominationWizard, Step
from smki_desktop.gui.qt import QApplication, QEvent, QLabel, QPushButton, Qt, QWidget
from smki_desktop.services import nomination as nom
from tests.gui.test_nomination_wizard import opened, saved, set_field

UNREACHABLE = "The team store did not answer within 10 s."

Gate = Callable[..., tuple[list[bool], threading.Event]]


@pytest.fixture
def gated(window, monkeypatch) -> Iterator[Gate]:  # type: ignore[no-untyped-def]
    """`gated(name, fail=None)`: the service function `nom.<name>` observed — on which thread
    it runs (True: the GUI thread), held off the GUI thread until the gate opens, then the real
    answer or `fail`. Every gate opens when the test ends, and its jobs are waited for."""
    gates: list[threading.Event] = []
    originals: dict[str, Callable[..., Any]] = {}

    def gate(name: str, fail: BaseException | None = None
             ) -> tuple[list[bool], threading.Event]:
        threads: list[bool] = []
        opened_ = threading.Event()
        gates.append(opened_)
        real = originals.setdefault(name, getattr(nom, name))  # gated again: the real one

        def observed(*args: Any, **kwargs: Any) -> Any:
            on_gui = threading.current_thread() is threading.main_thread()
            threads.append(on_gui)
            if not on_gui:
                opened_.wait(10)
            if fail is not None:
                raise fail
            return real(*args, **kwargs)

        monkeypatch.setattr(nom, name, observed)
        return threads, opened_

    yield gate
    for g in gates:
        g.set()
    window.jobs.wait(30000)


def new_wizard(window, qtbot, draft_id: str | None = None):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    dlg = NominationWizardDialog(window.services, draft_id=draft_id)
    qtbot.addWidget(dlg)
    dlg.resize(1024, 700)
    dlg.show()
    return dlg


def on_sro_page(window, qtbot):  # type: ignore[no-untyped-def]
    dlg = new_wizard(window, qtbot)
    opened(qtbot, dlg)
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.page.id == "nominee"
    return dlg


def a_draft(ctx, name: str = "Saved Earlier") -> str:  # type: ignore[no-untyped-def]
    wiz = NominationWizard(nom.load_forms())
    wiz.choose("sro")
    wiz.set_value("nominee.name", name)
    return nom.save_draft(ctx, wiz)


def draft_records(ctx) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [{k: e.details[k] for k in ("draft_id", "form")} | {"action": e.action}
            for e in ctx.audit.entries(action_prefix="officer.draft.")]


# -- opening: the defaults, a resumed draft ----------------------------------------------------
def test_the_defaults_are_read_off_the_gui_thread_loading_first(window, qtbot, gated):  # type: ignore[no-untyped-def]
    threads, gate = gated("wizard_defaults")
    dlg = new_wizard(window, qtbot)
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False], "the wizard's defaults were read on the GUI thread"
    assert dlg.stack.currentWidget() is dlg.loading_page
    assert dlg.findChild(QLabel, "wizardLoading").text() == "Loading…"
    assert not dlg.findChild(QPushButton, "wizardRetry").isVisibleTo(dlg)
    for b in (dlg.next_button, dlg.back_button, dlg.save_button):
        assert not b.isEnabled(), b.objectName()
    assert dlg.close_button.isEnabled()  # Cancel always
    gate.set()
    opened(qtbot, dlg)
    assert dlg.stack.currentWidget() is dlg.choose_page
    assert dlg.focusWidget() is dlg.findChild(QWidget, "choose_sro")
    dlg.findChild(QWidget, "choose_sro").click()
    qtbot.mouseClick(dlg.next_button, Qt.MouseButton.LeftButton)
    assert dlg.wiz.values["environment.environment"] == "test"  # the defaults, as read
    assert threads == [False]


def test_a_draft_is_resumed_off_the_gui_thread(window, qtbot, gated):  # type: ignore[no-untyped-def]
    did = a_draft(window.ctx)
    threads, gate = gated("resume_draft")
    dlg = new_wizard(window, qtbot, did)
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False], "the draft was read on the GUI thread"
    assert dlg.stack.currentWidget() is dlg.loading_page
    assert dlg.findChild(QLabel, "wizardLoading").text() == "Loading the saved draft…"
    assert not dlg.next_button.isEnabled() and not dlg.save_button.isEnabled()
    gate.set()
    opened(qtbot, dlg)
    assert dlg.wiz.step is Step.PAGE and dlg.wiz.draft_id == did
    assert dlg.findChild(QWidget, "field:nominee.name").text() == "Saved Earlier"
    assert dlg.findChild(QWidget, "choose_sro").isChecked()
    assert dlg.focusWidget() is dlg.findChild(QWidget, "field:nominee.name")


def test_a_failed_open_is_said_in_plain_words_and_tried_again(window, qtbot, gated):  # type: ignore[no-untyped-def]
    did = a_draft(window.ctx)
    threads, gate = gated("resume_draft", fail=StoreUnreachable(UNREACHABLE))
    gate.set()
    dlg = new_wizard(window, qtbot, did)
    label = dlg.findChild(QLabel, "wizardLoading")
    retry = dlg.findChild(QPushButton, "wizardRetry")
    qtbot.waitUntil(lambda: retry.isVisibleTo(dlg), timeout=20000)
    assert threads == [False]
    assert label.text() == f"The saved draft could not be read: {UNREACHABLE}"
    assert dlg.loading_page.accessibleDescription() == label.text()
    assert dlg.focusWidget() is retry
    assert not dlg.next_button.isEnabled() and not dlg.save_button.isEnabled()
    gated("resume_draft")[1].set()  # the store answers again
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    opened(qtbot, dlg)
    assert dlg.wiz.draft_id == did and not retry.isVisibleTo(dlg)
    assert dlg.findChild(QWidget, "field:nominee.name").text() == "Saved Earlier"


@pytest.mark.parametrize("deleted", [False, True], ids=["closed", "closed-and-deleted"])
def test_closing_the_wizard_while_it_opens(window, qtbot, gated, deleted):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.nomination import NominationWizardDialog

    did = a_draft(window.ctx)
    threads, gate = gated("resume_draft")
    dlg = NominationWizardDialog(window.services, draft_id=did)
    if not deleted:
        qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    dlg.reject()  # nothing typed: closes at once
    assert not dlg.isVisible()
    if deleted:
        dlg.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gate.set()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    qtbot.wait(50)  # the answer's signal is delivered
    if not deleted:  # the draft came to a closed wizard: not drawn in it
        assert dlg.wiz.schema is None and dlg.page_widgets == []
        assert dlg.stack.currentWidget() is dlg.loading_page
    assert threads == [False]
    assert window.isVisible()  # and nothing raised (pytest-qt fails on an error in a slot)


# -- the choose screen's saved drafts ----------------------------------------------------------
def test_the_saved_drafts_are_counted_off_the_gui_thread(window, qtbot, gated):  # type: ignore[no-untyped-def]
    a_draft(window.ctx)
    threads, gate = gated("list_drafts")
    dlg = new_wizard(window, qtbot)
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False], "the saved drafts were listed on the GUI thread"
    opened(qtbot, dlg)  # the form can be chosen meanwhile
    note = dlg.findChild(QLabel, "draftsNote")
    assert note.isVisibleTo(dlg) and note.text() == "Looking for saved drafts…"
    gate.set()
    qtbot.waitUntil(lambda: "saved draft(s)" in note.text(), timeout=20000)
    assert note.text() == "1 saved draft(s): resume them from the Officers page."
    assert not dlg.findChild(QPushButton, "draftsRetry").isVisibleTo(dlg)


def test_a_failed_drafts_list_is_said_and_tried_again(window, qtbot, gated):  # type: ignore[no-untyped-def]
    threads, gate = gated("list_drafts", fail=StoreUnreachable(UNREACHABLE))
    gate.set()
    dlg = new_wizard(window, qtbot)
    note = dlg.findChild(QLabel, "draftsNote")
    retry = dlg.findChild(QPushButton, "draftsRetry")
    qtbot.waitUntil(lambda: retry.isVisibleTo(dlg), timeout=20000)
    assert threads == [False]
    assert note.text() == f"The saved drafts could not be listed: {UNREACHABLE}"
    assert dlg.next_button.isEnabled()  # a new nomination needs no draft
    a_draft(window.ctx)
    gated("list_drafts")[1].set()  # the store answers again
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 saved draft(s)" in note.text(), timeout=20000)
    assert not retry.isVisibleTo(dlg)


def test_no_saved_draft_says_nothing(window, qtbot):  # type: ignore[no-untyped-def]
    dlg = new_wizard(window, qtbot)
    opened(qtbot, dlg)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert not dlg.findChild(QLabel, "draftsNote").isVisibleTo(dlg)


# -- Save draft --------------------------------------------------------------------------------
def test_save_draft_writes_off_the_gui_thread_saving_first(window, qtbot, gated):  # type: ignore[no-untyped-def]
    dlg = on_sro_page(window, qtbot)
    set_field(qtbot, dlg, "nominee.name", "Half Done")
    threads, gate = gated("save_draft")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False], "the draft was written on the GUI thread"
    assert dlg.message.text() == "Saving the draft…"
    for b in (dlg.save_button, dlg.next_button, dlg.back_button):
        assert not b.isEnabled(), b.objectName()
    # typing goes on meanwhile: kept in the wizard, not in the draft being written
    set_field(qtbot, dlg, "nominee.email", "half.done@example.com")
    gate.set()
    saved(qtbot, dlg)
    did = dlg.wiz.draft_id
    assert did and dlg.message.text() == f"Draft {did} saved."
    assert dlg.wiz.values["nominee.email"] == "half.done@example.com"
    assert dlg.findChild(QWidget, "field:nominee.email").text() == "half.done@example.com"
    draft = nom.resume_draft(window.ctx, did)
    assert draft.values["nominee.name"] == "Half Done"
    assert draft.values["nominee.email"] == ""  # typed after the save began
    assert dlg._dirty  # so closing asks about it
    # the audit record is the service's, as before
    assert draft_records(window.ctx) == [{"action": "officer.draft.save", "draft_id": did,
                                          "form": "sro"}]
    # saved again: the same draft
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    saved(qtbot, dlg)
    assert dlg.wiz.draft_id == did and not dlg._dirty
    assert nom.resume_draft(window.ctx, did).values["nominee.email"] == "half.done@example.com"
    assert [d["draft_id"] for d in nom.list_drafts(window.ctx)] == [did]
    assert threads == [False, False]


def test_a_failed_save_keeps_every_answer_and_tries_again(window, qtbot, gated):  # type: ignore[no-untyped-def]
    dlg = on_sro_page(window, qtbot)
    set_field(qtbot, dlg, "nominee.name", "Not Lost")
    set_field(qtbot, dlg, "nominee.email", "not.lost@example.com")
    threads, gate = gated("save_draft", fail=StoreUnreachable(UNREACHABLE))
    gate.set()
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    saved(qtbot, dlg)
    assert threads == [False]
    assert dlg.message.text() == (f"The draft was not saved: {UNREACHABLE} Your answers are "
                                  "kept here; Save draft tries again.")
    assert "StoreUnreachable" not in dlg.message.text()
    assert dlg.isVisible() and dlg.wiz.step is Step.PAGE and dlg.wiz.draft_id is None
    assert dlg.findChild(QWidget, "field:nominee.name").text() == "Not Lost"
    assert dlg.findChild(QWidget, "field:nominee.email").text() == "not.lost@example.com"
    assert dlg._dirty and dlg.save_button.isEnabled() and dlg.next_button.isEnabled()
    assert nom.list_drafts(window.ctx) == [] and draft_records(window.ctx) == []
    gated("save_draft")[1].set()  # the store answers again
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    saved(qtbot, dlg)
    did = dlg.wiz.draft_id
    assert did and dlg.message.text() == f"Draft {did} saved."
    assert nom.resume_draft(window.ctx, did).values["nominee.name"] == "Not Lost"


@pytest.mark.parametrize("fails", [False, True], ids=["saved", "save-failed"])
def test_save_draft_and_close_closes_once_saved(window, qtbot, gated, fails):  # type: ignore[no-untyped-def]
    dlg = on_sro_page(window, qtbot)
    set_field(qtbot, dlg, "nominee.name", "Close Me")
    threads, gate = gated("save_draft", fail=StoreUnreachable(UNREACHABLE) if fails else None)
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    box = dlg.discard_box
    assert box is not None
    box.findChild(QPushButton, "saveAndClose").click()
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    assert threads == [False]
    assert dlg.isVisible() and dlg.message.text() == "Saving the draft…"
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)  # closing again meanwhile: it closes once saved
    assert dlg.isVisible() and dlg.discard_box is box
    assert dlg.message.text() == "Saving the draft… the wizard closes when it is saved."
    gate.set()
    if not fails:
        qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=20000)
        assert [d["nominee"] for d in nom.list_drafts(window.ctx)] == ["Close Me"]
        return
    saved(qtbot, dlg)
    assert dlg.isVisible() and dlg.message.text().startswith("The draft was not saved: ")
    assert dlg.findChild(QWidget, "field:nominee.name").text() == "Close Me"
    assert nom.list_drafts(window.ctx) == []


def test_closing_while_saving_with_answers_typed_meanwhile_asks(window, qtbot, gated):  # type: ignore[no-untyped-def]
    dlg = on_sro_page(window, qtbot)
    set_field(qtbot, dlg, "nominee.name", "First")
    threads, gate = gated("save_draft")
    qtbot.mouseClick(dlg.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(threads), timeout=20000)
    set_field(qtbot, dlg, "nominee.name", "Second")  # not in the draft being written
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    assert dlg.discard_box is None  # not yet: the save decides
    gate.set()
    qtbot.waitUntil(lambda: dlg.discard_box is not None, timeout=20000)
    assert dlg.isVisible() and dlg.discard_box.isVisible()  # "Second" is not saved: asked
    dlg.discard_box.findChild(QPushButton, "keepEditing").click()
    assert dlg.isVisible() and dlg.findChild(QWidget, "field:nominee.name").text() == "Second"
