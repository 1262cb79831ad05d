"""The ADT and Quarantine pages in words: the file layout named as a person says it (not
"profile smki-desktop-adt/2 (assumed)"), the file-signing key as its officer's name and
register id (not a key id and a raw subject with OIDs, cut), headers that are not cut at
1024 wide, the history in a plain local date and time, "Settings → Portal"."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.gui.qt import Qt


def _cert(*attrs: x509.NameAttribute) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(list(attrs))
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))


def test_a_file_signing_key_is_named_by_its_officer() -> None:
    from smki_desktop.gui.widgets.file_signing import NO_CREDENTIAL, key_label

    cert = _cert(x509.NameAttribute(NameOID.SERIAL_NUMBER, "ARO-0001"),
                 x509.NameAttribute(NameOID.COMMON_NAME, "Alex Officer"),
                 x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"))
    assert key_label(cert, "13940f6152071006aa") == "Alex Officer (ARO-0001) — file-signing key"
    bare = _cert(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"))
    assert key_label(bare, "13940f6152071006aa") == "Key 13940f6152071006 — file-signing key"
    assert "Settings → Portal" in NO_CREDENTIAL


def test_history_times_are_plain_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    from smki_desktop.gui.texts import plain_time

    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    try:
        assert plain_time("2026-12-06T23:07:22+00:00") == "6 Dec 2026, 23:07"
        assert plain_time("2026-07-06T23:07:22") == "7 Jul 2026, 00:07"  # UTC, shown in BST
        assert plain_time("not a time") == "not a time"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_adt_page_says_its_layout_and_key_in_words(qtbot, window, adt_page,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    page, _aro = adt_page
    window.resize(1024, 700)
    hint = page.hint.text()
    assert "SMKI Desktop's assumed ADT layout, version 2" in hint, hint
    assert "smki-desktop-adt" not in hint and "(assumed)" not in hint
    label = page.key_combo.currentText()
    assert label == "Ada Aro — file-signing key", label
    quarantine = window.go_to("Quarantine")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert quarantine.key_combo.currentText() == label  # type: ignore[attr-defined]


def test_adt_headers_are_not_cut_once_a_file_is_open(qtbot, window, adt_page,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    page, _aro = adt_page
    window.resize(1024, 700)
    page.new_from_template()
    out = tmp_path / "adt.csv"
    assert page.save(out, overwrite=False) == out
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    for _ in range(5):
        qtbot.wait(10)
    header = page.table.horizontalHeader()
    metrics = header.fontMetrics()
    for c in range(page.table.columnCount()):
        text = page.model.headerData(c, Qt.Orientation.Horizontal)
        widest = max(metrics.horizontalAdvance(line) for line in text.splitlines())
        assert header.sectionSize(c) >= widest, (text, header.sectionSize(c), widest)
    # every column in sight at 1024 wide: none pushed past the table's right edge
    assert header.length() <= page.table.viewport().width(), (
        header.length(), page.table.viewport().width())
