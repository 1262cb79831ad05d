"""PageOp, the one way a page runs a user action (pytest-qt, offscreen, real window and job
runner, real keyring for the key generated): busy state on and off, a failure shown through
error_text, a cancel that ends as Cancelled without an error box, and a success that refreshes
the page on screen when it shows what changed."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from smki_desktop.core.errors import Cancelled, Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import QMessageBox, QPushButton, Qt, QVBoxLayout, QWidget
from smki_desktop.gui.services import GuiServices
from smki_desktop.gui.texts import error_text
from smki_desktop.services import keys as key_service


class _Page(QWidget):
    """A page with two action buttons, as a real page has."""

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        self.go = QPushButton("Go")
        self.other = QPushButton("Other")
        self.off = QPushButton("Off")
        self.off.setEnabled(False)  # disabled before: stays disabled after
        for b in (self.go, self.other, self.off):
            lay.addWidget(b)


def _services(window: MainWindow) -> GuiServices:
    return window.services


def _error_boxes(window: MainWindow) -> list[QMessageBox]:
    return [b for b in window.findChildren(QMessageBox, "errorBox") if b.isVisible()]


def test_busy_state_is_on_while_the_op_runs_and_off_after(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _Page()
    qtbot.addWidget(page)
    release = threading.Event()

    def work(n: int) -> int:
        release.wait(10)
        return n * 2

    results: list[int] = []
    seen_by_hook: list[tuple[bool, bool]] = []  # (busy, op.running) as the page's hook saw it
    op = PageOp(page, _services(window), work, 21, name="Doubling") \
        .busy(page.go, page.other, page.off,
              hook=lambda busy: seen_by_hook.append((busy, op.running))) \
        .success(results.append)
    op.run()
    assert seen_by_hook == [(True, True)]
    assert op.running
    assert not page.go.isEnabled() and not page.other.isEnabled() and not page.off.isEnabled()
    assert page.cursor().shape() == Qt.CursorShape.BusyCursor
    assert window.job_label.text() == "Working: Doubling…"
    release.set()
    qtbot.waitUntil(lambda: op.outcome == "done", timeout=10000)
    assert results == [42]
    assert page.go.isEnabled() and page.other.isEnabled()
    assert not page.off.isEnabled()  # its own state back, not blindly enabled
    assert page.cursor().shape() == Qt.CursorShape.ArrowCursor
    assert not op.running
    assert seen_by_hook == [(True, True), (False, False)]
    qtbot.waitUntil(lambda: window.job_label.text() == "", timeout=5000)
    assert not _error_boxes(window)


def test_a_failure_is_shown_through_error_text(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _Page()
    qtbot.addWidget(page)
    refusal = Refusal("An SRO must approve it first (rule R-7).", hint="")

    def refuse() -> None:
        raise refusal

    op = PageOp(page, _services(window), refuse, name="Approve request").busy(page.go)
    op.run()
    qtbot.waitUntil(lambda: op.outcome == "failed", timeout=10000)
    boxes = _error_boxes(window)
    assert len(boxes) == 1
    assert boxes[0].windowTitle() == "Approve request"
    assert boxes[0].text() == error_text(refusal) == "An SRO must approve it first (rule R-7)."
    assert page.go.isEnabled()
    boxes[0].close()

    # a page that shows failures on its own message line gets the same text, and no box
    def crash() -> None:
        raise UnicodeDecodeError("utf-8", b"ab\xff", 2, 3, "invalid start byte")

    shown: list[tuple[str, BaseException]] = []
    op2 = PageOp(page, _services(window), crash, name="Read the file") \
        .failure(lambda text, exc: shown.append((text, exc)))
    op2.run()
    qtbot.waitUntil(lambda: op2.outcome == "failed", timeout=10000)
    assert [t for t, _e in shown] == [
        "The file is not UTF-8 text (byte 0xFF at position 2 cannot be read). Save it as UTF-8 "
        "and open it again."]
    assert "codec" not in shown[0][0]
    assert not _error_boxes(window)


@pytest.mark.parametrize("raised", ["Cancelled", "other"])
def test_a_cancel_ends_as_cancelled_without_an_error_box(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                                         raised: str) -> None:
    page = _Page()
    qtbot.addWidget(page)
    started = threading.Event()

    def long_batch(progress: Any) -> int:
        started.set()
        for i in range(1000):
            if progress.cancelled:
                if raised == "Cancelled":
                    raise Cancelled(f"Stopped after {i} rows; nothing was changed.")
                raise RuntimeError("the batch stopped")  # a service's own way of stopping
            progress.progress(i, 1000, "rows")
            threading.Event().wait(0.01)
        return 1000

    seen: list[tuple[int, int, str]] = []
    ended: list[BaseException] = []
    op = PageOp(page, _services(window), long_batch, name="Device batch").busy(page.go) \
        .progress(lambda d, t, text: seen.append((d, t, text))) \
        .success(lambda _r: pytest.fail("a cancelled op must not succeed"))
    op.run()
    assert started.wait(10)
    qtbot.waitUntil(lambda: len(seen) > 2, timeout=10000)
    op.cancel()
    qtbot.waitUntil(lambda: op.outcome != "", timeout=10000)
    assert op.outcome == "cancelled"
    assert seen[0][1:] == (1000, "rows")
    assert not _error_boxes(window)
    assert window.statusBar().currentMessage() == "Device batch cancelled; nothing was changed."
    assert page.go.isEnabled()

    # with a cancel callback the page says it its own way
    started.clear()
    op2 = PageOp(page, _services(window), long_batch, name="Device batch") \
        .cancelled(ended.append)
    op2.run()
    qtbot.waitUntil(lambda: started.is_set(), timeout=10000)
    op2.cancel()
    qtbot.waitUntil(lambda: op2.outcome != "", timeout=10000)
    assert op2.outcome == "cancelled" and len(ended) == 1
    assert not _error_boxes(window)


def test_a_success_refreshes_the_pages_that_show_what_changed(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A key generated by an operation run from a dialog in front of the Keys page appears on
    that page without it being refreshed by hand; a page that does not show keys is not
    refreshed, nor is one not on screen (it is refreshed when shown: the Audit log then lists
    the new record)."""
    assert window.ctx is not None
    audit_page = window.go_to("Audit log")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    audit_before = audit_page.table.rowCount()  # type: ignore[attr-defined]
    repo_page = window.go_to("Repository")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    keys_page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    qtbot.waitUntil(keys_page.isVisible, timeout=5000)
    keys_before = keys_page.table.rowCount()  # type: ignore[attr-defined]
    refreshed: list[str] = []
    for name, page in (("repository", repo_page), ("audit", audit_page)):
        real = getattr(page, "refresh", lambda: None)

        def spy(name: str = name, real: Any = real) -> None:
            refreshed.append(name)
            real()

        page.refresh = spy  # type: ignore[attr-defined]

    dialog = _Page()  # what a dialog in front of the page would run
    qtbot.addWidget(dialog)
    done: list[Any] = []
    op = PageOp(dialog, _services(window), key_service.generate_key, window.ctx,
                KeyUsage.SIGNING, "made elsewhere", name="Generate key") \
        .changes("keys").success(done.append)
    op.run()
    qtbot.waitUntil(lambda: op.outcome == "done", timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the Keys page's read after it
    assert len(done) == 1
    assert keys_page.table.rowCount() == keys_before + 1  # type: ignore[attr-defined]
    labels = [keys_page.table.item(r, 0).text()  # type: ignore[attr-defined]
              for r in range(keys_page.table.rowCount())]  # type: ignore[attr-defined]
    assert "made elsewhere" in labels
    assert refreshed == []  # neither the Repository (no keys) nor the hidden Audit log
    window.go_to("Audit log")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert refreshed == ["audit"]
    assert audit_page.table.rowCount() > audit_before  # type: ignore[attr-defined]

    # the page that ran the operation is not refreshed twice: it does so itself
    calls: list[int] = []
    real_keys_refresh = keys_page.refresh  # type: ignore[attr-defined]
    window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    keys_page.refresh = lambda: (calls.append(1), real_keys_refresh())  # type: ignore[attr-defined]
    op2 = PageOp(keys_page, _services(window), key_service.generate_key, window.ctx,
                 KeyUsage.SIGNING, "made here", name="Generate key").changes("keys")
    op2.run()
    qtbot.waitUntil(lambda: op2.outcome == "done", timeout=20000)
    assert calls == []


def test_an_unknown_change_kind_is_refused(window: MainWindow) -> None:
    with pytest.raises(ValueError, match="unknown change kind.*keyz"):
        window.services.changed({"keyz"})


def test_a_background_read_has_no_busy_cursor_and_fails_on_the_status_line(  # type: ignore[no-untyped-def]
        window: MainWindow, qtbot) -> None:
    page = _Page()
    qtbot.addWidget(page)
    release = threading.Event()

    def read() -> int:
        release.wait(10)
        raise Refusal("The register cannot be read (locked by another program).", hint="")

    op = PageOp(page, _services(window), read, name="Register summary").background()
    op.run()
    assert op.running
    assert page.cursor().shape() == Qt.CursorShape.ArrowCursor  # not a user action
    release.set()
    qtbot.waitUntil(lambda: op.outcome == "failed", timeout=10000)
    assert not _error_boxes(window)
    assert window.statusBar().currentMessage() == (
        "Failed: Register summary: The register cannot be read (locked by another program).")


def test_the_keyboard_is_back_on_the_button_when_its_work_ends(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A focused button greyed for its work lost the keyboard (Qt moved it on, then to
    nothing, as on Devices › Submit); it has it again when the work ends, unless the officer
    moved it meanwhile."""
    page = _Page()
    qtbot.addWidget(page)
    page.show()
    qtbot.waitActive(page)

    def work_from_the_go_button(officer_moves: bool) -> None:
        page.go.setFocus()
        qtbot.waitUntil(page.go.hasFocus, timeout=2000)
        release = threading.Event()
        op = PageOp(page, _services(window), release.wait, 10, name="Submitting") \
            .busy(page.go)
        op.run()
        assert not page.go.isEnabled() and not page.go.hasFocus()
        if officer_moves:
            page.other.setFocus()
        release.set()
        qtbot.waitUntil(lambda: not op.running, timeout=10000)
        assert page.go.isEnabled()

    work_from_the_go_button(officer_moves=False)
    assert page.go.hasFocus()
    work_from_the_go_button(officer_moves=True)
    assert page.other.hasFocus() and not page.go.hasFocus()
