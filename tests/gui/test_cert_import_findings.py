"""The Certificates page lists an import's findings one by one (issue 10): one entry per
finding of each named check, in the checks' order, marked by level and read out in words;
a failed import shows no older findings. Real window, job runner and SQLite store; the DCC
test PKI's published Device certificate (no key or CSR of it here)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import Qt
from smki_desktop.gui.widgets.findings import FindingsList
from smki_desktop.services import certificates as certs

PKI = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
MARKS = {certs.OK: "✔", certs.WARNING: "⚠", certs.REFUSAL: "✖"}


def test_import_findings_are_listed_one_by_one(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Certificates")
    shown = page.findChild(FindingsList, "importFindings")
    assert shown is page.import_findings and not shown.isVisible()  # nothing imported yet

    page._import((PKI / "device" / "00db123456789004-ka.pem").read_bytes(), "device cert")
    qtbot.waitUntil(lambda: page.last_result is not None, timeout=30000)
    result = page.last_result
    assert result.status == certs.UNMATCHED
    assert shown.isVisible() and shown.count() == len(result.findings) >= len(certs.CHECKS)
    entries = [shown.item(i) for i in range(shown.count())]
    checks = [e.text().split(" ", 1)[1].split(":", 1)[0] for e in entries]
    assert checks == sorted(checks, key=certs.CHECKS.index)  # parse, profile, … verdict
    assert set(checks) == set(certs.CHECKS)
    for entry, f in zip(entries, result.findings, strict=True):
        mark, said = entry.text().split(" ", 1)
        assert mark == MARKS[f.level] and said.startswith(f"{f.check}: ")
        assert f.message in said and said.count(f"{f.check}: ") == 1  # named once
        spoken = entry.data(Qt.ItemDataRole.AccessibleTextRole)
        assert spoken.startswith(f"{f.check}, ") and f.message in spoken
    (verdict,) = [e for e in entries if e.text().split(" ", 1)[1].startswith("verdict:")]
    assert verdict.text().startswith("⚠") and "warning" in \
        verdict.data(Qt.ItemDataRole.AccessibleTextRole)
    assert "match: no CSR or key here has this public key" in shown.texts()[checks.index(
        certs.MATCH)]

    before = page.result_label.text()
    page._import(b"-----BEGIN CERTIFICATE-----\nnot base64!\n", "pasted certificate")
    assert not shown.isVisible() and shown.count() == 0  # the older findings go at once
    qtbot.waitUntil(lambda: page.result_label.text() != before, timeout=30000)
    assert not shown.isVisible() and shown.count() == 0
    assert page.result_label.text() == "Failed: " + certs.check_certificate(
        window.ctx, b"-----BEGIN CERTIFICATE-----\nnot base64!\n",
        what="pasted certificate")[0].message
    assert page.result_label.kind == "failed"  # it looks like a failure (fresh-eyes walk)


def test_several_certificates_list_findings_under_each(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """A CA + two leaves: the findings were the worst certificate's only, unlabelled — the
    CA's, judged against the leaf profile, under an 'Accepted' line. Now each leaf's findings
    sit under its "[k of n]" heading and the CA (only named) lists none."""
    from tests.integration.test_cert_import_bundle import _ca_pem

    page = window.go_to("Certificates")
    shown = page.import_findings
    data = (_ca_pem() + (PKI / "device" / "00db123456789004-ka.pem").read_bytes()
            + (PKI / "device" / "00db123456789004-ka.pem").read_bytes())
    page._import(data, "bundle")
    qtbot.waitUntil(lambda: page.last_import is not None, timeout=30000)
    results = page.last_import.results
    assert results[0].status == certs.CA_CERTIFICATE
    texts = shown.texts()
    headings = [t for t in texts if t.startswith("[")]
    assert [h.split("]")[0] + "]" for h in headings] == ["[2 of 3]", "[3 of 3]"], texts
    assert shown.isVisible() and len(texts) == 2 + sum(len(r.findings) for r in results[1:])
    first = shown.item(1)  # a finding under the first heading, read out with it
    assert first.data(Qt.ItemDataRole.AccessibleTextRole).startswith(headings[0])
    assert not any("2.5.29.19" in t for t in texts)  # the CA's basicConstraints finding
