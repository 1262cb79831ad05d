"""The Certificates page shows the superseded certificates (a forgery imported first, replaced
by the genuine certificate with its issuer and serial) apart from the live ones, only when
asked ("Show superseded"), read on the job runner, labelled as not in use and offering no
action but copying its serial or digest; its tables select a row when the keyboard enters
them. What replaced each is named as an officer knows it (role and serial; the audit record
number only in the row's tooltip and details), and the section is usable on a 1024x700 screen.
Real window, job runner and store (SQLite, or the PostgreSQL team store with
SMKI_TEST_BACKEND=postgres)."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives import serialization

from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QTableWidget
from smki_desktop.services import certificates as certs
from tests.integration.test_cert_import import _issue, _resigned

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TEST_POLICY = "1.2.826.0.1.8641679.1.2.1.4"


def _supersede(ctx) -> tuple[certs.ImportResult, certs.ImportResult]:  # type: ignore[no-untyped-def]
    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    forged = certs.import_certificate(ctx, _resigned(pem), at=AT)
    return forged, certs.import_certificate(ctx, pem, at=AT)


def _cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_superseded_certificates_shown_apart_when_asked(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    forged, genuine = _supersede(window.ctx)
    sup = window.ctx.audit.entries(action_prefix="cert.supersede")[0]
    page.refresh()
    qtbot.waitUntil(lambda: len(page.records) == 1, timeout=20000)
    section = page.superseded
    assert not section.isVisible() and section.table.rowCount() == 0  # not read unasked

    page.show_superseded.setChecked(True)
    qtbot.waitUntil(lambda: section.table.rowCount() == 1, timeout=20000)
    assert section.isVisible() and "NOT in use" in section.title()
    cells = dict(zip([section.table.horizontalHeaderItem(c).text()
                      for c in range(section.table.columnCount())],
                     _cells(section.table, 0), strict=True))
    live = page.records[0]
    assert live.cert_id == genuine.cert_id and live.status == certs.ACCEPTED
    assert cells["Serial"] == live.serial
    assert cells["Replaced by"] == f"supplier (02), serial {live.serial}"
    assert "Select a superseded certificate" in section.details.text()  # none picked yet
    # the audit record's number is secondary: the row's tooltip and its details say it
    assert f"audit record {sup.seq}" in section.table.item(0, 2).toolTip()
    section.table.selectRow(0)
    details = section.details.text()
    assert f"audit record {sup.seq}" in details and live.issuer in details
    assert "does not verify" in details and "Role: supplier (02)" in details
    assert f"Status then: {certs.TO_BE_REJECTED}" in details
    assert "may be forged" in section.note.text()
    # the live table lists the genuine one only; a superseded row selected acts on nothing:
    # the live row (same issuer and serial) is unselected and its actions greyed out
    assert page.table.rowCount() == 1
    page.table.selectRow(0)
    assert page.selected() is live and page.revoke_button.isEnabled()
    section.table.selectRow(0)
    assert page.selected() is None
    assert not any(b.isEnabled() for b in (page.revoke_button, page.export_button,
                                           page.copy_button))
    page.table.selectRow(0)  # and back: the superseded row is unselected
    assert page.selected() is live and not section.table.selectedItems()
    # its row menu only copies (no export, use or revocation), and it has no other actions
    assert [t for t, _fn in section.row_actions()] == [
        "Copy serial", "Copy SHA-256 of the superseded certificate"]
    assert section.table.actions() == []

    # the keyboard's way into either table selects a row (and leaves the other's)
    for table in (section.table, page.table):
        table.clearSelection()
        table.setFocus()
        qtbot.waitUntil(lambda t=table: bool(t.selectedItems()), timeout=5000)
    assert page.selected() is live and not section.table.selectedItems()

    # a refresh (another import, say) reads them again while shown; hidden when unticked
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert section.table.rowCount() == 1
    page.show_superseded.setChecked(False)
    assert not section.isVisible()
    assert forged.cert_id not in [r.cert_id for r in page.records]


def test_no_superseded_certificates_said_so(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Certificates")
    page.show_superseded.setChecked(True)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert page.superseded.isVisible() and page.superseded.table.rowCount() == 0
    assert page.superseded.note.text() == "No superseded certificates in this environment."


def test_the_superseded_rows_menu_only_copies(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.certificates import SupersededSection
    from smki_desktop.gui.qt import QGuiApplication
    from smki_desktop.services.cert_supersede import SupersededCertificate

    section = SupersededSection()
    qtbot.addWidget(section)
    assert section.row_actions() == []  # nothing selected: nothing offered
    section.show_records([SupersededCertificate(
        cert_id=1, serial="0A1B", issuer="CN=X", subject="CN=Y", key_id="", previous_status=
        "to-be-rejected", reasons=[], superseded_by=3, superseded_at="2026-12-07T05:00:00",
        audit_record=8, reason="did not verify", sha256="ab" * 32)])
    # no certificate with its replacing record held: said so, not a bare record number
    assert section.table.item(0, 2).text() == "no replacement recorded"
    assert "audit record 8" in section.table.item(0, 2).toolTip()
    section.table.selectRow(0)
    actions = dict(section.row_actions())
    assert list(actions) == ["Copy serial", "Copy SHA-256 of the superseded certificate"]
    actions["Copy serial"]()
    assert QGuiApplication.clipboard().text() == "0A1B"


def test_superseded_section_names_the_replacement_and_fits_1024x700(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow) -> None:
    """At 1024x700 the section shows its rows and the selected row's details without a
    horizontal scroll, and "Replaced by" names the genuine certificate by role and serial, not
    by an internal record number ("record 2" meant nothing to an officer)."""
    window.resize(1024, 700)
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    _forged, genuine = _supersede(window.ctx)
    page.refresh()
    page.show_superseded.setChecked(True)
    section = page.superseded
    qtbot.waitUntil(lambda: section.table.rowCount() == 1, timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    qtbot.wait(200)  # the columns fitted, the page scrolled to the section
    headers = [section.table.horizontalHeaderItem(c).text()
               for c in range(section.table.columnCount())]
    replaced = section.table.item(0, headers.index("Replaced by")).text()
    assert replaced != f"record {genuine.cert_id}" and "record" not in replaced
    assert page.records[0].serial in replaced and "supplier (02)" in replaced
    # usable: every column in view, a header and three rows' room, and its details
    table = section.table
    assert table.horizontalScrollBar().maximum() == 0, "columns run past the table"
    row_h = table.verticalHeader().defaultSectionSize()
    assert table.viewport().height() >= 3 * row_h, table.viewport().height()
    assert section.details.isVisible() and section.details.height() >= 80
    table.setFocus()
    qtbot.waitUntil(lambda: bool(section.details.text()), timeout=5000)
    assert "Replaced by" in section.details.text()
