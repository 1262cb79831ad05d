"""Devices page: drop a zip, validate in the background, filter/sort/export a 50,000-row view,
cancel a long job with nothing written, and the results of a package shown from the store."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl

from smki_desktop.crypto import device_csr as dc
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.devices import DeviceRowsModel, Page, rows_to_csv
from smki_desktop.gui.qt import QApplication, QDropEvent, QMessageBox, Qt
from smki_desktop.services import devices


def _page(window: MainWindow) -> Page:
    page = window.go_to("Devices")
    assert isinstance(page, Page), page
    return page


def _wait_idle(qtbot, page: Page, timeout: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: page.job is None, timeout=timeout)


def _drop(page: Page, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    page.dropEvent(ev)


def test_drop_validate_filter_sort_export(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _page(window)
    _wait_idle(qtbot, page)
    gen = devices.generate_test(page.ctx, 300, tmp_path / "gen", processes=1)
    _drop(page, gen.out)
    assert page.job is not None and page.cancel_btn.isEnabled()
    _wait_idle(qtbot, page)
    assert page.model.rowCount() == 300
    assert page.proxy.rowCount() == 300
    assert "300 valid, 0 rejected" in page.summary.text()
    assert page.package_btn.isEnabled()

    page.filter_edit.setText(gen.first_eui)
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 2)
    assert {page.proxy.index(r, 1).data() for r in range(2)} == {"signing", "key-agreement"}
    page.filter_edit.setText("")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 300)

    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert page.proxy.index(0, 0).data() == gen.last_eui
    page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert page.proxy.index(0, 0).data() == gen.first_eui

    out = tmp_path / "view.csv"
    page.status_combo.setCurrentIndex(page.status_combo.findData("valid"))
    page.filter_edit.setText("key-agreement")
    qtbot.waitUntil(lambda: page.proxy.rowCount() == 150)
    page.export_view(out)
    _wait_idle(qtbot, page)
    rows = list(csv.reader(out.open()))
    assert rows[0][:3] == ["Device EUI", "Usage", "Status"]
    assert len(rows) == 151 and {r[1] for r in rows[1:]} == {"key-agreement"}


def test_package_then_store_view(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _page(window)
    _wait_idle(qtbot, page)
    gen = devices.generate_test(page.ctx, 40, tmp_path / "gen", processes=1)
    page.validate(gen.out)
    _wait_idle(qtbot, page)
    page.package(tmp_path / "out", max_per_zip=30)
    qtbot.waitUntil(lambda: "Batch " in page.summary.text(), timeout=60_000)
    _wait_idle(qtbot, page)
    assert page.model.rowCount() == 40
    assert page.model.statuses() == ["packaged"]
    assert len(list((tmp_path / "out").glob("*.zip"))) == 2


def test_cancel_generation_writes_nothing(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _page(window)
    _wait_idle(qtbot, page)
    out = tmp_path / "gen"
    seen: list[int] = []
    orig = page._progress

    def progress(done: int, total: int, text: str) -> None:
        orig(done, total, text)
        seen.append(done)
        if done > 0:
            page.cancel()

    page._progress = progress  # type: ignore[method-assign]
    page.generate(20_000, out)
    _wait_idle(qtbot, page)
    assert "cancelled" in page.summary.text()
    assert max(seen) < 20_000
    assert not out.exists() or [p for p in out.iterdir() if not p.name.startswith(".")] == []
    assert not any(e.action == "devices.generate-test" for e in page.ctx.audit.entries())


def test_model_handles_50000_rows() -> None:
    model = DeviceRowsModel()
    statuses = ["issued", "error", "pending", "rejected"]
    rows = [(f"00-DB-12-34-56-{i >> 16:02X}-{(i >> 8) & 255:02X}-{i & 255:02X}",
             "signing" if i % 2 else "key-agreement", statuses[i % 4], f"reason {i % 7}",
             "b.zip", f"f{i:05d}.csr") for i in range(50_000)]
    model.set_rows(rows)
    assert model.rowCount() == 50_000
    model.set_filter("reason 3", "error")
    expected = [r for r in rows if "reason 3" in r[3] and r[2] == "error"]
    assert model.visible_rows() == expected
    model.sort_by(5, True)
    assert model.visible_rows() == sorted(expected, key=lambda r: r[5], reverse=True)
    text = rows_to_csv(model.visible_rows()).decode()
    assert text.count("\n") == len(expected) + 1


def test_import_response_shows_results(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_devices_portal_files import _answer

    page = _page(window)
    _wait_idle(qtbot, page)
    gen = devices.generate_test(page.ctx, 12, tmp_path / "gen", processes=1)
    res = devices.package(page.ctx, gen.out, tmp_path / "out", processes=1)
    report, resp, plan = _answer(tmp_path, res.files.zips, page.ctx)
    page.import_response(report, resp)
    qtbot.waitUntil(lambda: "Imported:" in page.summary.text(), timeout=60_000)
    _wait_idle(qtbot, page)
    assert "1 certificate matches no CSR." in page.summary.text(), page.summary.text()
    assert sorted(page.model.statuses()) == sorted(set(plan.values()))
    page.status_combo.setCurrentIndex(page.status_combo.findData("error"))
    assert page.proxy.rowCount() == 1
    assert "signature does not verify" in page.proxy.index(0, 3).data()
    # the same answer again: said so, not "Imported" a second time
    page.import_response(report, resp)
    qtbot.waitUntil(lambda: "Already imported" in page.summary.text(), timeout=60_000)
    _wait_idle(qtbot, page)
    assert page.summary.text().startswith("Already imported: all 11 outcomes of this answer")
    assert "1 certificate matches no CSR." in page.summary.text(), page.summary.text()


def test_import_summary_is_whole_sentences_and_says_what_is_pending(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow) -> None:
    """The import summary said "… 1 certificates match no CSR" (no full stop, a wrong plural)
    and, unlike the command line, not how many CSRs of the batches are still pending."""
    from smki_desktop.services.devices.results import ImportResult

    page = _page(window)
    _wait_idle(qtbot, page)
    page.importer._imported(ImportResult(["B1"], {"anomaly": 1, "issued": 9}, ["a.crt"], [],
                                         None, not_in_report=2))
    assert page.summary.text() == ("Imported: anomaly 1, issued 9. 1 certificate matches no "
                                   "CSR. 2 CSRs of these batches are still pending.")
    page.importer._imported(ImportResult(["B1"], {"issued": 3}, ["a.crt", "b.crt"],
                                         ["line 4: no such CSR"], None, not_in_report=1))
    assert page.summary.text() == ("Imported: issued 3. 2 certificates match no CSR. "
                                   "1 problem: line 4: no such CSR. 1 CSR of these batches "
                                   "is still pending.")
    page.importer._imported(ImportResult(["B1"], {"issued": 3}, [], [], None))
    assert page.summary.text() == "Imported: issued 3."


def test_export_replaces_the_confirmed_file(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = _page(window)
    _wait_idle(qtbot, page)
    gen = devices.generate_test(page.ctx, 3, tmp_path / "gen", processes=1)
    page.validate(gen.out)
    _wait_idle(qtbot, page)
    out = tmp_path / "view.csv"
    out.write_text("an older export\n")  # the user chose it and confirmed "Replace?"
    page.export_view(out)
    _wait_idle(qtbot, page)
    assert "Exported 3 rows" in page.summary.text(), page.summary.text()
    rows = list(csv.reader(out.open()))
    assert rows[0][:3] == ["Device EUI", "Usage", "Status"] and len(rows) == 4
    entry = [e for e in page.ctx.audit.entries() if e.action == "devices.export"][-1]
    assert entry.details["replaced"] is True and entry.details["rows"] == 3


def test_cancel_is_disabled_while_loading_all_device_csrs(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = _page(window)
    _wait_idle(qtbot, page)
    page.show_all()  # collects finished batches: not cancellable half-way
    assert page.job is not None
    assert not page.cancel_btn.isEnabled()
    _wait_idle(qtbot, page)
    assert not page.cancel_btn.isEnabled()


def test_the_submit_summary_names_where_the_batch_goes_in_test_and_in_live(  # type: ignore[no-untyped-def]
        qtbot, request, tmp_path: Path) -> None:
    """In Test the summary said "Submit to the DCC": a Test batch goes to the Test portal (the
    simulator, or the DCC's Test service), never to the DCC's live service."""
    for fixture, sent_to in (("window", "the Test portal"), ("live_window", "the DCC")):
        win = request.getfixturevalue(fixture)
        page = _page(win)
        _wait_idle(qtbot, page)
        page.source, page.valid_count = tmp_path / "batch.zip", 3
        page.request_submit()
        dlg = page.confirmation  # type: ignore[attr-defined]
        assert dlg.confirm_button.accessibleName() == f"Submit to {sent_to}"
        assert f"to {sent_to} over the web service" in dlg.plain, dlg.plain
        if fixture == "window":
            assert "DCC" not in dlg.confirm_button.text() and "DCC issues" not in dlg.plain
        dlg.reject()


def test_a_response_for_nothing_here_is_refused_naming_the_report(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, live_window: MainWindow, tmp_path: Path) -> None:
    """A Test batch's answer imported in Live (or another Party's answer) said "Imported: ."
    and wrote an import audit record, with every line listed as a problem: it answers no
    Device CSR of this environment, so it is refused, naming the report, and nothing is
    filed or audited."""
    from tests.integration.test_devices_portal_files import _answer

    test_page = _page(window)
    _wait_idle(qtbot, test_page)
    gen = devices.generate_test(test_page.ctx, 12, tmp_path / "gen", processes=1)
    res = devices.package(test_page.ctx, gen.out, tmp_path / "out", processes=1)
    report, resp, _plan = _answer(tmp_path, res.files.zips, test_page.ctx)

    page = _page(live_window)
    _wait_idle(qtbot, page)
    page.import_response(report, resp)
    _wait_idle(qtbot, page)
    text = page.summary.text()
    assert text.startswith("Importing results failed: "), text
    assert f"{report.name}: none of its 11 report lines and 9 certificates answers a Device " \
           "CSR of the Live environment" in text, text
    assert "Nothing was filed." in text
    assert not any(e.action == "devices.import-response" for e in page.ctx.audit.entries())
    # the Test batch's own answer is still filed in Test
    test_page.import_response(report, resp)
    qtbot.waitUntil(lambda: "Imported:" in test_page.summary.text(), timeout=60_000)


def test_send_one_csr_refuses_a_test_device_csr_in_live(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, live_window: MainWindow, tmp_path: Path) -> None:
    """Send one CSR… in Live checked a Device CSR packaged in Test against the profile only:
    it met it, and the summary offered to send it to the DCC. The batch route refuses such a
    CSR (its key is the Test environment's); so does the ad hoc route, before any summary. In
    Test the batch rules refuse it (its key is already in a batch); a fresh one is offered."""
    import zipfile

    test_page = _page(window)
    _wait_idle(qtbot, test_page)
    gen = devices.generate_test(test_page.ctx, 2, tmp_path / "gen", processes=1)
    res = devices.package(test_page.ctx, gen.out, tmp_path / "out", processes=1)
    with zipfile.ZipFile(res.files.zips[0]) as zf:
        name = zf.namelist()[0]
        one = tmp_path / name
        one.write_bytes(zf.read(name))

    page = _page(live_window)
    _wait_idle(qtbot, page)
    page.adhoc(one)
    qtbot.waitUntil(lambda: bool(page.summary.text())
                    or getattr(page, "confirmation", None) is not None, timeout=60_000)
    text = page.summary.text()
    assert text.startswith(f"{one.name} was not sent. This CSR's key was packaged "), text
    assert "it belongs to the Test environment; this is the Live environment" in text, text
    assert getattr(page, "confirmation", None) is None
    _said_once(live_window, "it belongs to the Test environment")

    # in Test its key is the packaged batch's: the batch rules refuse it, as a batch would
    test_page.adhoc(one)
    qtbot.waitUntil(lambda: bool(test_page.summary.text()) and test_page.job is None,
                    timeout=60_000)
    text = test_page.summary.text()
    # in plain words: what it fails and why, without the rule's code ("duplicate-key")
    assert text.startswith(f"{one.name} was not sent: the Device CSR for ") and " fails the " \
        f"batch rules. It has the same key as batch {res.batch_id}" in text, text
    assert "duplicate" not in text, text
    assert getattr(test_page, "confirmation", None) is None
    fresh = tmp_path / "fresh.csr"  # a CSR no batch holds is offered for sending
    fresh.write_bytes(dc.generate_one((0x00DB123456920000).to_bytes(8, "big"), dc.SIGNING,
                                      keep_key=False)[2])
    test_page.adhoc(fresh)
    qtbot.waitUntil(lambda: getattr(test_page, "confirmation", None) is not None,
                    timeout=60_000)
    test_page.confirmation.reject()  # type: ignore[attr-defined]


def _said_once(window: MainWindow, words: str) -> None:
    """What stopped an ad hoc send is said on the page only: no error box, and nothing of it
    on the status bar (where it was clipped)."""
    boxes = [b.text() for b in window.findChildren(QMessageBox, "errorBox") if b.isVisible()]
    assert not boxes, boxes
    assert words not in window.statusBar().currentMessage(), window.statusBar().currentMessage()


def test_send_one_csr_in_live_without_a_party_profile_says_so_once(  # type: ignore[no-untyped-def]
        qtbot, live_window: MainWindow, tmp_path: Path) -> None:
    """Live without a Party profile refuses an ad hoc CSR: said once, in the page's summary,
    whole at 1024x700 (it was in an error box, the summary and a clipped status-bar line)."""
    live_window.resize(1024, 700)
    page = _page(live_window)
    _wait_idle(qtbot, page)
    one = tmp_path / "one.csr"
    one.write_bytes(dc.generate_one((0x00DB123456930000).to_bytes(8, "big"), dc.SIGNING,
                                    keep_key=False)[2])
    page.adhoc(one)
    qtbot.waitUntil(lambda: bool(page.summary.text()) and page.job is None, timeout=60_000)
    QApplication.processEvents()
    _said_once(live_window, "Party profile")
    text = page.summary.text()
    assert text.startswith("one.csr was not sent. Ad hoc Device CSR: the Live environment "
                           "makes nothing without a Party profile"), text
    assert getattr(page, "confirmation", None) is None
    assert page.progress.format() == "Not sent"
    # whole: the label is as tall as its wrapped text needs, inside the window's visible area
    label = page.summary
    assert live_window.width() <= 1024 and live_window.height() <= 700
    assert label.isVisible() and label.height() >= label.heightForWidth(label.width())
    bottom_right = label.mapTo(live_window, QPoint(label.width(), label.height()))
    assert live_window.rect().contains(bottom_right), (bottom_right, live_window.size())


def test_send_one_csr_queued_meanwhile_elsewhere_is_not_sent_twice(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, data_root: Path, tmp_path: Path) -> None:
    """Checked and offered; before it is sent, another workstation (here another context on
    the data folder) queues the same CSR: Send then says on the page, in plain words, that it
    was not sent and which request holds its key; it is queued once."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services import portal as portal_service
    from smki_desktop.services.context import open_context

    page = _page(window)
    _wait_idle(qtbot, page)
    der = dc.generate_one((0x00DB123456940000).to_bytes(8, "big"), dc.SIGNING,
                          keep_key=False)[2]
    one = tmp_path / "one.csr"
    one.write_bytes(der)
    page.adhoc(one)
    qtbot.waitUntil(lambda: getattr(page, "confirmation", None) is not None, timeout=60_000)
    other = open_context(Environment.TEST, data_root)
    try:
        theirs = portal_service.enqueue_adhoc(other, der)
    finally:
        other.close()
    page.confirmation.confirm()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: page.job is None and "not sent" in page.summary.text(),
                    timeout=60_000)
    _said_once(window, "ad hoc request")
    text = page.summary.text()
    assert text == ("one.csr was not sent: the Device CSR for 00-DB-12-34-56-94-00-00 (signing) "
                    f"fails the batch rules. It has the same key as ad hoc request {theirs.ref} "
                    "(queued)."), text
    assert [i.ref for i in portal_service.outbox(page.ctx).items(kind="device-adhoc")] \
        == [theirs.ref]
