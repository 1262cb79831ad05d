"""The Quarantine page and the ADT editor's Sign (offscreen) sign only the bytes the officer
built or reviewed, and the Quarantine page uses only the saved decisions the audit log vouches
for (security review of 2026-12-07, A2 and A6; the service's side is in
tests/integration/test_quarantine_adt_binding.py). The swap is made for real: a hook on the
call from the page to `sign_file` (run by the job runner) replaces the file on disk first."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.core.adt.quarantine import action_rows, items_from_report
from smki_desktop.core.adt.validate import render_csv
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.quarantine import Page as QuarantinePage
from smki_desktop.services import adt as adt_service
from smki_desktop.services import quarantine as q_service
from smki_desktop.services.quarantine import ActionResult
from tests.integration.adt_support import make_aro
from tests.support.raw_store import raw_sql

OWN = "90-B3-D5-1F-30-01-00-00"


def _swap_before_signing(monkeypatch: pytest.MonkeyPatch, evil: bytes) -> list[Path]:
    real = adt_service.sign_file
    swapped: list[Path] = []

    def swap_then_sign(ctx, path, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        path = Path(path)
        tmp = path.with_name(path.name + ".evil-tmp")
        tmp.write_bytes(evil)
        os.replace(tmp, path)
        swapped.append(path)
        return real(ctx, path, *args, **kwargs)

    monkeypatch.setattr(adt_service, "sign_file", swap_then_sign)
    return swapped


def _report(tmp_path: Path, n: int) -> tuple[Path, list[str]]:
    prof = adt_service.load_profile("quarantine-report")
    rows = [(f"Q-{i:04d}", OWN, "IS", "1.1.1", f"{OWN}:00-DB-12-34-56-78-90-01:{1000 + i}",
             f"2026-11-01T10:{i:02d}:00Z", "USER", str(100 + i)) for i in range(n)]
    report = tmp_path / "report.csv"
    report.write_bytes(render_csv(prof, rows))
    return report, [r[0] for r in rows]


def _quarantine_page(qtbot, window: MainWindow, tmp_path: Path):  # type: ignore[no-untyped-def]
    page = window.go_to("Quarantine")
    assert isinstance(page, QuarantinePage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    return page, aro


def _open(qtbot, window: MainWindow, page: QuarantinePage, report: Path) -> None:  # type: ignore[no-untyped-def]
    page.import_report(report)
    qtbot.waitUntil(lambda: page.report is not None and not page.busy, timeout=30_000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)


def test_quarantine_page_refuses_an_action_file_swapped_before_signing(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page, _aro = _quarantine_page(qtbot, window, tmp_path)
    report, _ids = _report(tmp_path, 4)
    _open(qtbot, window, page, report)
    page.decide_shown("DELETE")
    # a valid Action file for the same Report that processes every communication
    items = items_from_report(adt_service.validate_file(page.ctx, report, "quarantine-report",
                                                        keep_rows=True))
    evil = render_csv(adt_service.active_profile(page.ctx, "quarantine-action"),
                      action_rows(items, {}, "process"))
    swapped = _swap_before_signing(monkeypatch, evil)
    out = tmp_path / "out" / "action.csv"
    out.parent.mkdir()
    page.create_action(out)
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert swapped == [out]
    assert not isinstance(page.last_result, ActionResult), page.last_result
    text = page.summary.text()
    assert "Create Action file failed" in text and "nothing was signed" in text, text
    assert hashlib.sha256(evil).hexdigest() in text and str(out) in text
    assert list(out.parent.iterdir()) == []  # no signature set, the swapped file withdrawn
    assert adt_service.signed_files(page.ctx) == []


def test_quarantine_page_leaves_out_planted_drafts_and_names_them(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, data_root: Path, tmp_path: Path) -> None:
    page, _aro = _quarantine_page(qtbot, window, tmp_path)
    report, ids = _report(tmp_path, 3)
    rid = q_service.import_report(page.ctx, report).report_id
    q_service.save_decisions(page.ctx, rid, {ids[0]: "DELETE"})  # the officer's own
    for q in ids[1:]:  # a colleague with the database
        raw_sql(data_root, "UPDATE adt_quarantine_items SET decision='PROCESS' WHERE "
                "report_id=? AND quarantine_id=?", (rid, q))
    _open(qtbot, window, page, report)
    assert page.decisions == {ids[0]: "DELETE"}
    text = page.summary.text()
    assert "decided 1 of 3" in text, text
    for q in ids[1:]:
        assert f"saved decision for {q} has no audit record: not used" in text, text
    assert not page.action_btn.isEnabled()  # two communications undecided
    # every decision the officer makes on the page is audited, and then vouched for
    seq = page.ctx.audit.entries(limit=1)[0].seq
    page.table.selectRow(1)
    page.decide_selected("DELETE")
    assert page.decisions[ids[1]] == "DELETE"  # chosen at once; saved off the GUI thread
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    entry = page.ctx.audit.entries(limit=1)[0]
    assert entry.seq == seq + 1 and entry.action == "quarantine.decide"
    assert entry.details["delete"] == [ids[1]]
    assert q_service.decisions(page.ctx, rid) == {ids[0]: "DELETE", ids[1]: "DELETE"}
    # the communication decided here is no longer named; the other still is
    text = page.summary.text()
    assert ids[1] not in text and f"saved decision for {ids[2]} has no audit record" in text


def test_adt_editor_refuses_a_file_swapped_before_signing(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, adt_page, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    page, _aro = adt_page
    page.new_from_template()
    out = tmp_path / "adt.csv"
    assert page.save(out, overwrite=False) == out
    reviewed = out.read_bytes()
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    # another valid file: the thresholds raised
    evil = reviewed.replace(b"HOUR", b"DAY", 1)
    assert evil != reviewed
    swapped = _swap_before_signing(monkeypatch, evil)
    page.sign()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert swapped == [out]
    assert isinstance(page.last_result, Exception), page.last_result
    text = page.summary.text()
    assert "Sign ADT file failed" in text and "nothing was signed" in text, text
    assert hashlib.sha256(reviewed).hexdigest() in text
    assert hashlib.sha256(evil).hexdigest() in text
    assert not list(tmp_path.glob("adt.csv.*")) and not list(tmp_path.glob(".adt.csv*"))
    assert adt_service.signed_files(page.ctx) == []


def test_a_decision_is_saved_with_its_audit_record_off_the_gui_thread(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    """Saving a decision writes its audit record (the keyring and the store): not on the GUI
    thread, where a locked keyring or a slow team store would hold the window."""
    import threading

    page, _aro = _quarantine_page(qtbot, window, tmp_path)
    report, ids = _report(tmp_path, 2)
    _open(qtbot, window, page, report)
    threads: list[bool] = []
    real = q_service.save_decisions

    def watched(*a, **k):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*a, **k)

    monkeypatch.setattr(q_service, "save_decisions", watched)
    page.table.selectRow(0)
    page.decide_selected("PROCESS")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert threads == [False]
    assert q_service.decisions(page.ctx, page.report.report_id) == {ids[0]: "PROCESS"}
