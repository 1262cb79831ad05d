"""Objects as officers think of them: a key shown with its CSRs and certificates, archived or
deleted with a reason (refused while a live credential depends on it) from the Keys page and
from `smki key archive|delete`; a certificate shown as a readable tree, exported as PEM, DER or
chain (checked by openssl) and copied, with a right-click menu and double-click."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, QGuiApplication, QLabel, Qt
from smki_desktop.services import key_lifecycle
from smki_desktop.services import keys as key_service
from tests.integration.adt_support import make_aro

PKI = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"


def _select_key(page, key_id: str, qtbot) -> None:  # type: ignore[no-untyped-def]
    page.refresh()
    qtbot.waitUntil(page.services.jobs.idle, timeout=20000)  # its read
    row = next(r for r, k in enumerate(page.keys) if k.key_id == key_id)
    page.table.selectRow(row)


def _summary(page, qtbot, before=None):  # type: ignore[no-untyped-def]
    """The confirmation summary opened after the reason (what it shows is read in a job)."""
    qtbot.waitUntil(lambda: getattr(page, "confirmation", None) not in (None, before)
                    and page.confirmation.isVisible(), timeout=10000)
    return page.confirmation


def test_key_delete_with_reason_and_summary(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    key = key_service.generate_key(ctx, KeyUsage.SIGNING, "old test key").key
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    _select_key(page, key.key_id, qtbot)
    text = page.details.text()
    assert "Requests (CSRs) made with it" in text and "Certificates and credentials" in text
    assert "old test key" in text

    page.ask_retire("delete")
    dlg = page.reason_dialog
    dlg.show()
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)  # no reason: refused in the dialog
    assert dlg.isVisible() and dlg.error.isVisible()
    assert dlg.error.text() == "Reason: say why the key is deleted (it goes into the audit log)."
    assert dlg.focusWidget() is dlg.reason
    dlg.reason.setText("test key no longer needed")
    dlg.accept()
    summary = _summary(page, qtbot)
    assert "old test key" in summary.text() and "test key no longer needed" in summary.text()
    assert "TEST" in summary.text() and "cannot be undone" in summary.text()
    assert "Recorded backups: none." in summary.text()
    summary.reject()
    assert key_service.get_key(ctx, key.key_id)  # still there
    qtbot.waitUntil(lambda: page.message.text() == "Cancelled — nothing deleted.", timeout=5000)

    page.ask_retire("delete")
    page.reason_dialog.reason.setText("test key no longer needed")
    page.reason_dialog.accept()
    _summary(page, qtbot, summary).confirm()
    qtbot.waitUntil(lambda: " deleted (audit" in page.message.text(), timeout=10000)
    assert all(k.key_id != key.key_id for k in key_service.list_keys(ctx))
    entry = [e for e in ctx.audit.entries() if e.action == "key.delete"][-1]
    assert entry.details["reason"] == "test key no longer needed"
    assert entry.details["key_id"] == key.key_id


def test_key_with_a_live_credential_is_kept(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    aro = make_aro(ctx, tmp_path / "pki")
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    _select_key(page, aro.key.key_id, qtbot)
    assert "(in use)" in page.details.text()
    page.ask_retire("archive")
    page.reason_dialog.reason.setText("tidy up")
    page.reason_dialog.accept()
    summary = _summary(page, qtbot)
    assert "will refuse" in summary.text()
    summary.confirm()
    qtbot.waitUntil(lambda: "cannot be archived" in page.message.text(), timeout=10000)
    assert f"{aro.certificate.serial_number:X}".lstrip("0") in page.message.text().upper()
    assert "Rule:" in page.message.text()
    assert "archived" not in key_service.get_key(ctx, aro.key.key_id).flags
    assert not [e for e in ctx.audit.entries() if e.action == "key.archive"]


def test_key_archive_and_delete_from_the_cli(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = key_service.generate_key(ctx, KeyUsage.SIGNING, "spare").key
    res = cli_run("--json", "key", "archive", key.key_id[:12], "--reason", "spare")
    assert res.code == 0, res.err
    data = json.loads(res.out)
    assert data["action"] == "archive" and data["reason"] == "spare"
    assert "archived" in key_service.get_key(ctx, key.key_id).flags
    assert cli_run("key", "archive", key.key_id[:12], "--reason", "again").code == 1
    assert cli_run("key", "delete", key.key_id[:12]).code == 2  # the reason is required
    res = cli_run("key", "delete", key.key_id[:12], "--reason", " ")
    assert res.code == 2 and "--reason" in res.err  # the CLI names its option
    aro = make_aro(ctx, tmp_path / "pki")
    res = cli_run("key", "delete", aro.key.key_id[:12], "--reason", "gone")
    assert res.code == 1 and "live certificate depends on it" in res.err
    assert key_lifecycle.key_object(ctx, aro.key.key_id).live
    assert cli_run("key", "delete", key.key_id[:12], "--reason", "spare").code == 0
    assert all(k.key_id != key.key_id for k in key_service.list_keys(ctx))


def test_certificate_tree_export_copy_menu(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Certificates")
    page._import((PKI / "device" / "00db123456789004-ka.pem").read_bytes(), "device cert")
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the details' read
    text = page.details.text()
    for part in ("Subject", "Device (EUI-64): 00-DB-12-34-56-78-90-04", "Validity",
                 "Fingerprints", "SHA-256:", "Chain", "Acceptance check",
                 "Not ours: no CSR or key", "Key and request", "Extensions"):
        assert part in text, part
    assert "{" not in text.split("Extensions")[0]  # no JSON

    page.copy_pem()
    assert QGuiApplication.clipboard().text().startswith("-----BEGIN CERTIFICATE-----")

    rec = page.selected()
    der = tmp_path / "c.cer"
    page.export(rec, der, "der")
    qtbot.waitUntil(der.exists, timeout=10000)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(der), "-noout",
                          "-serial"], capture_output=True, text=True, check=True).stdout
    assert rec.serial.lstrip("0") in out.upper()
    chain = tmp_path / "c.chain.pem"
    page.export(rec, chain, "chain")
    qtbot.waitUntil(chain.exists, timeout=10000)
    assert chain.read_text().count("BEGIN CERTIFICATE") >= 1
    window.jobs.wait(10000)
    exports = [e for e in window.ctx.audit.entries() if e.action == "cert.export"]
    assert sorted(e.details["format"] for e in exports) == ["chain", "der"]

    # right-click gives the row's actions; double-click opens the details
    assert [t for t, _f in page.row_actions()][:2] == ["Show details", "Copy PEM"]
    rect = page.table.visualRect(page.table.model().index(0, 0))
    page.table.customContextMenuRequested.emit(rect.center())
    menu = page.table.row_menu
    assert "Export as DER…" in [a.text() for a in menu.actions()]
    menu.close()
    page.details.clear()
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page.details.clear()
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    QApplication.processEvents()
    qtbot.waitUntil(lambda: page.details.topLevelItemCount() >= 7,  # opened again
                    timeout=20000)


def test_csr_list_submit_this_csr_and_paste_text(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.portal.upload import org_paste_text
    from smki_desktop.services import simulator_control
    from tests.integration.portal_helpers import enrolled, org_csr

    ctx = window.ctx
    enrolled(ctx)
    try:
        der = org_csr(ctx, "90-B3-D5-1F-30-01-00-31")
        page = window.go_to("Requests")
        qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
        page.refresh()
        qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
        assert page.csr_table.rowCount() == 1
        assert page.csr_table.item(0, 4).text() == "not submitted"
        page.csr_table.selectRow(0)
        page.show_paste_text()
        assert org_paste_text(der) in page.details.toPlainText()
        assert QGuiApplication.clipboard().text() == org_paste_text(der)
        assert [t for t, _f in page.csr_actions()] == ["Submit this CSR…",
                                                       "SRO: authorise this CSR…",
                                                       "Show the paste text"]
        page.ask_submit_csr()  # what would refuse it is read first, on the job runner
        qtbot.waitUntil(lambda: getattr(page, "confirmation", None) is not None, timeout=20000)
        dlg = page.confirmation
        assert "CSR: " in dlg.text() and "How many: 1." in dlg.text()
        assert "submitted before" not in dlg.text()
        dlg.confirm()
        qtbot.waitUntil(lambda: page.job is None, timeout=30_000)
        qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's read after it
        assert page.table.rowCount() == 1  # in the outbox, sent to the simulator
        assert "with the DCC" in page.csr_table.item(0, 4).text()
        page.csr_table.selectRow(0)
        page.confirmation = None
        page.ask_submit_csr()
        qtbot.waitUntil(lambda: page.confirmation is not None, timeout=20000)
        assert "submitted before" in page.confirmation.text()  # says it would send it twice
        page.confirmation.reject()
    finally:
        simulator_control.stop(ctx)


def test_audit_record_reads_as_words(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.audit import COLUMNS

    ctx = window.ctx
    key = key_service.generate_key(ctx, KeyUsage.SIGNING, "audited key").key
    page = window.go_to("Audit log")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    row = next(r for r, e in enumerate(page.entries) if e.action == "key.generate")
    details = page.table.item(row, COLUMNS.index("Details")).text()
    assert "{" not in details and f"Key id: {key.key_id}" in details
    page.table.selectRow(row)
    text = page.details.text()
    assert "Action: Key generated" in text and "Label: audited key" in text
    assert "Action code: key.generate" in text
    assert "Files and data (hashes)" in text and "{" not in text


def test_every_table_has_a_context_menu(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.qt import QAbstractItemView, QTableView

    for row, entry in enumerate(window.entries):
        window.sidebar.setCurrentRow(row)
        frame = window.frame_at(row)
        for view in frame.findChildren(QTableView):
            assert isinstance(view, QAbstractItemView)
            assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu, \
                (entry.title, view.accessibleName() or view.objectName())
    qtbot.waitUntil(lambda: window.jobs.running == 0, timeout=60_000)


def test_renewal_makes_a_linked_key_and_csr(qtbot, window: MainWindow, cli_run) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from smki_desktop.crypto.fields import extract_fields
    from smki_desktop.services import certificates as certs
    from smki_desktop.services import csr as csr_service

    ctx = window.ctx
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    f = extract_fields(pem.read_bytes())
    info = ctx.keystore.import_private_key(pem.with_suffix(".key").read_bytes(), f.usage,
                                           pem.stem)
    csr_service.create_org_csr(ctx, info.key_id, f.role.ou, str(f.eui), f.cn)
    res = certs.import_certificate(ctx, pem.read_bytes(),
                                   at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    assert res.status == certs.ACCEPTED, res.message
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    assert "Renew (new key and CSR)…" in [t for t, _f in page.row_actions()]
    page.ask_renew()
    dlg = page.confirmation
    assert f"EUI: {f.eui}." in dlg.text() and "Usage: signing." in dlg.text()
    dlg.confirm()
    qtbot.waitUntil(lambda: "Renewal of" in page.result_label.text(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's reads
    keys_now = key_service.list_keys(ctx)
    new = [k for k in keys_now if k.label.startswith("renewal of")]
    assert len(new) == 1 and new[0].usage is KeyUsage.SIGNING
    rows = ctx.db.conn().execute("SELECT role, eui, usage FROM csr_requests WHERE key_id=?",
                                 (new[0].key_id,)).fetchall()
    assert [(r["role"], r["eui"], r["usage"]) for r in rows] == [(f.role.ou, str(f.eui),
                                                                  "signing")]
    page.table.selectRow(0)
    page.show_details()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's reads
    assert "Replaced by: new key" in page.details.text()
    # the CLI face: a second renewal, named as such in the GUI's summary next time
    out = cli_run("--json", "cert", "renew", page.selected().serial)
    assert out.code == 0, out.err
    page.ask_renew()
    assert "renewed before (2 time(s))" in page.confirmation.text()
    page.confirmation.reject()


def test_renewal_of_a_revoked_certificate_is_explained(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The row menu's Renew on a revoked certificate asks nothing and makes nothing: it says
    why, pointing to where compromise recovery re-keys (the Incidents page)."""
    import datetime as dt

    from smki_desktop.crypto.fields import extract_fields
    from smki_desktop.services import certificates as certs
    from smki_desktop.services import csr as csr_service

    ctx = window.ctx
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    f = extract_fields(pem.read_bytes())
    info = ctx.keystore.import_private_key(pem.with_suffix(".key").read_bytes(), f.usage,
                                           pem.stem)
    csr_service.create_org_csr(ctx, info.key_id, f.role.ou, str(f.eui), f.cn)
    res = certs.import_certificate(ctx, pem.read_bytes(),
                                   at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    assert res.status == certs.ACCEPTED, res.message
    ctx.db.conn().execute("UPDATE certificates SET status='revoked' WHERE cert_id=?",
                          (res.cert_id,))  # as a verified CRL listing it leaves it
    ctx.db.conn().commit()
    keys_before = len(key_service.list_keys(ctx))
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    page.confirmation = None
    page.ask_renew()
    assert page.confirmation is None
    text = page.result_label.text()
    assert "is revoked: it is not renewed" in text and "compromise recovery" in text
    assert "Incidents → select the incident → Re-key and request revocation…" in text
    assert len(key_service.list_keys(ctx)) == keys_before


def test_rejection_of_a_certificate_failing_acceptance(qtbot, window: MainWindow, cli_run) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from smki_desktop.crypto.fields import extract_fields
    from smki_desktop.services import certificates as certs
    from smki_desktop.services import csr as csr_service

    ctx = window.ctx
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"
    f = extract_fields(pem.read_bytes())
    info = ctx.keystore.import_private_key(pem.with_suffix(".key").read_bytes(), f.usage,
                                           pem.stem)
    csr_service.create_org_csr(ctx, info.key_id, f.role.ou, "90-B3-D5-1F-30-0F-FF-FF", f.cn)
    res = certs.import_certificate(ctx, pem.read_bytes(),
                                   at=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    assert res.status == certs.TO_BE_REJECTED
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(0)
    assert "Fails the acceptance check" in page.details.text()
    assert "Finding 1: mismatch: EUI" in page.details.text()
    page.ask_reject()
    page.reason_dialog.reason.setText("EUI differs from our CSR")
    page.reason_dialog.accept()
    assert "Findings: 1." in page.confirmation.text()
    page.confirmation.confirm()
    qtbot.waitUntil(lambda: "Rejection of" in page.result_label.text(), timeout=10000)
    notice = QGuiApplication.clipboard().text()
    assert f"Certificate serial: {page.records[0].serial}" in notice
    assert "1. mismatch: EUI" in notice and "Reason: EUI differs from our CSR" in notice
    assert certs.find_certificate(ctx, page.records[0].serial).status == "rejected"
    entry = [e for e in ctx.audit.entries() if e.action == "cert.reject"][-1]
    assert entry.details["reason"] == "EUI differs from our CSR"
    # an accepted (or already rejected) certificate is not rejected: the CLI says the rule
    out = cli_run("cert", "reject", page.records[0].serial, "--reason", "again")
    assert out.code == 1 and "only a certificate that fails the acceptance check" in out.err


def test_adhoc_device_csr_in_both_faces(qtbot, window: MainWindow, cli_run,  # type: ignore[no-untyped-def]
                                        tmp_path: Path) -> None:
    from smki_desktop.services import simulator_control
    from tests.integration.portal_helpers import device_csrs, enrolled, org_csr, seed_devices

    ctx = window.ctx
    info = enrolled(ctx)
    try:
        # AppM: ad hoc only replaces a certificate the device already has
        seed_devices(info, [0x00DB123456760000])
        (_cid, der), (_cid2, der2) = device_csrs(2, 0x00DB123456760000)
        one = tmp_path / "one.csr"
        one.write_bytes(der)
        page = window.go_to("Devices")
        qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
        page.adhoc(one)
        qtbot.waitUntil(lambda: page.job is None, timeout=30_000)
        dlg = page.confirmation
        assert "Device: 00-DB-12-34-56-76-00-00." in dlg.text() and "How many: 1." in dlg.text()
        dlg.confirm()
        qtbot.waitUntil(lambda: "Device CSR sent as" in page.summary.text(), timeout=30_000)
        assert "done" in page.summary.text(), page.summary.text()

        two = tmp_path / "two.csr"
        two.write_bytes(der2)
        res = cli_run("devices", "adhoc", str(two), "--check-only")
        assert res.code == 0 and "meets the device profile" in res.out
        org = tmp_path / "org.csr"
        org.write_bytes(org_csr(ctx, "90-B3-D5-1F-30-01-00-41"))
        res = cli_run("devices", "adhoc", str(org))
        assert res.code == 2 and "not a Device CSR" in res.err
    finally:
        simulator_control.stop(ctx)


def test_relabel_and_csr_with_a_key_made_on_the_keys_page(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                          cli_run) -> None:
    ctx = window.ctx
    key = key_service.generate_key(ctx, KeyUsage.SIGNING, "made on the Keys page").key
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    _select_key(page, key.key_id, qtbot)
    labels = [t for t, _f in page.row_actions()]
    assert "Relabel…" in labels and "Make an Organisation CSR with this key…" in labels
    page.ask_relabel()
    relabel = page.reason_dialog
    label_row = next(lb.text() for lb in relabel.findChildren(QLabel)
                     if lb.buddy() is relabel.reason)
    assert label_row == "New &label" and relabel.reason.accessibleName() == "New label"
    relabel.reason.setText("  ")  # an empty label is named as a label, under its field
    relabel.accept()
    assert relabel.fields.errors() == ["Label: give the key a label."]
    page.reason_dialog.reason.setText("supplier DS 2027")
    page.reason_dialog.accept()
    qtbot.waitUntil(lambda: "now labelled" in page.message.text(), timeout=10000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's reads
    assert key_service.get_key(ctx, key.key_id).label == "supplier DS 2027"

    _select_key(page, key.key_id, qtbot)
    page.ask_csr()
    dlg = page.csr_dialog
    dlg.role.setText("02")
    dlg.eui.setText("90-B3-D5-1F-30-01-00-51")
    dlg.accept()
    qtbot.waitUntil(lambda: "Organisation CSR" in page.message.text()
                    or "annot" in page.message.text(), timeout=10000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's reads
    assert "made with key" in page.message.text(), page.message.text()
    _select_key(page, key.key_id, qtbot)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's reads
    assert "CSR 1" in page.details.text()  # the key and its CSR, one object
    res = cli_run("key", "relabel", key.key_id[:12], "--label", " ")
    assert res.code == 2 and "--label" in res.err


def test_batches_chart_beside_the_figures(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import devices

    ctx = window.ctx
    gen = devices.generate_test(ctx, 12, tmp_path / "gen", processes=1)
    devices.package(ctx, gen.out, tmp_path / "out")
    page = window.go_to("Devices")
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    page.chart_btn.click()
    qtbot.waitUntil(lambda: page.chart is not None and bool(page.chart.values), timeout=30000)
    (_created, grouped), = page.chart.values
    assert grouped == {"issued": 0, "waiting": 12, "refused": 0}
    assert page.model.rowCount() == 12  # the same batch, row by row, in the table
    page.chart_btn.click()
    assert not page.chart.isVisible()
