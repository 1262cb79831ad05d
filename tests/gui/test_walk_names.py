"""What the officer reads names things in words, not internal ids: a key by its label and
usage (the id a secondary, copyable detail), its location as "OS keyring"; the backup dialog's
title names the key; "Sign as" names the key by its label before its short id."""

from __future__ import annotations

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.pages.keys import COLUMNS
from tests.gui.test_keys_flow import _page


def test_keys_page_names_the_key_and_its_location(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "walk named key")
    page = _page(window, qtbot)
    row = next(i for i, k in enumerate(page.keys) if k.label == "walk named key")
    k = page.keys[row]
    assert page.table.item(row, COLUMNS.index("Location")).text() == "OS keyring"
    shown_id = page.table.item(row, COLUMNS.index("Key id"))
    assert shown_id.text() == k.short_id and k.key_id in shown_id.toolTip()
    page.table.selectRow(row)
    qtbot.waitUntil(lambda: "walk named key" in page.details.text(), timeout=10000)
    text = page.details.text()
    assert "OS keyring" in text and "os-keyring" not in text
    assert text.index("Usage") < text.index("Key id")  # the id after the label and usage
    page.open_backup()
    title = page.backup_dialog.windowTitle()
    page.backup_dialog.reject()
    assert "walk named key" in title and k.short_id not in title


def test_sign_as_names_the_key_by_label_before_its_id(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.dual_control import ActorPicker
    from smki_desktop.services.identity import SigningChoice

    picker = ActorPicker()
    qtbot.addWidget(picker)
    kid = "45d441a2fcc0" + "0" * 52
    picker.set_choices([SigningChoice("O2", "Sam Reed", "sro", "active", kid, "sro signing")])
    text = picker.combo.itemText(0)
    assert "Sam Reed (SRO, active)" in text
    assert "'sro signing' (file-signing, 45d441a2fcc0)" in text
    assert text.index("sro signing") < text.index("45d441a2fcc0")


def test_portal_settings_say_whose_each_credential_is(window, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.gui.settings import portal
    from tests.integration.adt_support import make_aro, make_sro

    ctx = window.services.ctx
    aro = make_aro(ctx, tmp_path / "aro")
    sro = make_sro(ctx, tmp_path / "sro", aro)
    register = [SimpleNamespace(name=n, role=r, officer_id=i,
                                credentials=[SimpleNamespace(key_id=k.key.key_id)])
                for n, r, i, k in (("Ada Aro", OfficerRole.ARO, "ARO-0001", aro),
                                   ("Sam Sro", OfficerRole.SRO, "SRO-0001", sro))]
    monkeypatch.setattr("smki_desktop.services.officers.list_officers", lambda _ctx: register)
    lines = portal.read_portal_settings(ctx).credentials
    assert any(line.startswith("file-signing — Ada Aro, ARO (ARO-0001): serial")
               for line in lines), lines
    assert any(line.startswith("file-signing — Sam Sro, SRO (SRO-0001): serial")
               for line in lines), lines


def test_certificates_role_column_names_the_role(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from smki_desktop.gui.pages.certificates import COLUMNS as CERT_COLUMNS

    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    rec = dict(serial="4F07", eui="", device_eui="", usage="digitalSignature", status="valid",
               not_after="2030-01-01", issuer="ZAZ1")
    page.show_records([SimpleNamespace(role="02", **rec), SimpleNamespace(role="zz", **rec),
                       SimpleNamespace(role=None, **rec)])
    col = CERT_COLUMNS.index("Role")
    assert [page.table.item(i, col).text() for i in range(3)] == ["supplier (02)", "zz", ""]


def test_audit_page_says_what_was_done_and_hides_empty_fields(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.audit import COLUMNS as AUDIT_COLUMNS

    ctx = window.services.ctx
    ctx.audit.record("simulator.start", {"port": 8443, "errors": "", "notes": [], "extra": {}})
    ctx.audit.record("walk.unknown", {"what": "kept"})
    page = window.go_to("Audit log")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    rows = {e.action: r for r, e in enumerate(page.entries)}
    start = rows["simulator.start"]
    cells = [page.table.item(start, c).text() for c in range(page.table.columnCount())]
    assert "Test simulator started" in cells and "simulator.start" in cells  # words, and code
    assert not any("Errors" in c or "Notes" in c for c in cells), cells
    col = {name: AUDIT_COLUMNS.index(name) for name in ("Action", "Action code", "Details")}
    assert cells[col["Action"]] == "Test simulator started"
    assert cells[col["Action code"]] == "simulator.start"
    assert cells[col["Details"]] == "Port: 8443"  # what differs: the app version is below
    assert page.table.item(start, col["Details"]).toolTip() == "Port: 8443"
    assert page.table.item(rows["walk.unknown"], col["Action"]).text() == "walk.unknown"
    page.table.selectRow(start)
    text = page.details.text()
    assert "Errors" not in text and "Notes" not in text and "Extra" not in text
    assert "App version" in text


def test_backup_browse_remembers_the_folder_per_environment(window, qtbot, tmp_path,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    from smki_desktop.gui.qt import QFileDialog

    ctx = window.services.ctx
    ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "walk folder key")
    page = _page(window, qtbot)
    asked: list[tuple[str, str]] = []
    media = tmp_path / "usb"
    media.mkdir()

    def save_as(_parent, title, start, *_a):  # type: ignore[no-untyped-def]
        asked.append((title, start))
        return str(media / "walk.backup"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    for _ in range(2):
        page.open_backup()
        dlg = page.backup_dialog
        assert dlg.windowTitle().endswith("— Test")
        dlg.browse.click()
        assert dlg.path.text() == str(media / "walk.backup")
        dlg.reject()
    assert all(title.endswith("— Test") for title, _ in asked)
    assert not asked[0][1].startswith(str(media))  # the first time: the home folder
    assert asked[1][1].startswith(str(media))  # then where the last backup went
    # Live keeps its own: the Test folder is not where a Live backup starts
    from smki_desktop.gui.folders import last_folder

    assert last_folder(ctx.paths.env_dir.parent / "live", "key-backup") != media
