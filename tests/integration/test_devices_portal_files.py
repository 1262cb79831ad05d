"""The browser-portal route: package → (the DCC's answer: a .txt report and a -response zip,
made here with the simulator's CA and the shared batch formats) → import-response: every
certificate matched by public key and checked, each outcome filed with the DCC code in words,
mismatches and strays reported, pick-up warnings, and the CLI faces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from smki_desktop.core import batch_formats as bf
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import devices
from smki_desktop.services.context import AppContext
from smki_desktop.services.trust import add_trust_anchor
from smki_desktop.simulator import ca as CA

DER = Encoding.DER


def _answer(tmp: Path, zips: list[Path], ctx: AppContext) -> tuple[Path, Path, dict[str, str]]:
    """Play the DCC for the uploaded zips; returns (report, response zip, plan by stem). Its
    Device CA becomes a Test trust anchor, as the simulator's do when it starts."""
    now = datetime.now(UTC)
    h = CA.Hierarchy.generate(now)
    add_trust_anchor(ctx, h.device_ca.certificate.public_bytes(Encoding.PEM), source="simulator")
    members = [m for z in zips for m in bf.read_batch_zip(z.read_bytes()).members]
    lines: list[bf.ReportLine] = []
    certs: list[tuple[str, bytes]] = []
    plan: dict[str, str] = {}
    stray_key = ec.generate_private_key(ec.SECP256R1())
    for i, m in enumerate(members):
        csr = x509.load_der_x509_csr(m.der)
        if i == 0:
            lines.append(bf.ReportLine(str(i), m.name, bf.ReportStatus.ERROR, "CS:BadSig"))
            plan[m.stem] = "error"
        elif i == 1:
            lines.append(bf.ReportLine(str(i), m.name, bf.ReportStatus.INELIGIBLE, "DV:Max100"))
            plan[m.stem] = "ineligible"
        elif i == 2:
            lines.append(bf.ReportLine(str(i), m.name, bf.ReportStatus.ANOMALY, "AN:Volume"))
            plan[m.stem] = "anomaly"
        elif i == 3:
            plan[m.stem] = "pending"  # not in this report
        elif i == 4:
            # right key, wrong device EUI in the SAN: must be rejected at once
            other = x509.OtherName(x509.ObjectIdentifier(dc.HMN_OID),
                                   dc._tlv(0x30, dc.oid_der(dc.TEST_HW_TYPE)
                                           + dc._tlv(0x04, bytes(8))))
            b = CA._leaf(h.device_ca, x509.Name([]), csr.public_key(), now,
                         CA.DEVICE_NOT_AFTER, CA.TEST_DEVICE_POLICY)
            b = b.add_extension(CA._csr_key_usage(csr), critical=True).add_extension(
                x509.SubjectAlternativeName([other]), critical=True)
            certs.append((m.stem, b.sign(h.device_ca.key, hashes.SHA256()).public_bytes(
                DER)))
            lines.append(bf.ReportLine(str(i), m.name, bf.ReportStatus.SUCCESS))
            plan[m.stem] = "mismatch"
        else:
            cert = CA.issue_device(h.device_ca, csr, now)
            certs.append((m.stem, cert.public_bytes(DER)))
            lines.append(bf.ReportLine(str(i), m.name, bf.ReportStatus.SUCCESS))
            plan[m.stem] = "issued"
    # swap two certificates' names: matching is by key, not by name
    certs[1], certs[2] = (certs[1][0], certs[2][1]), (certs[2][0], certs[1][1])
    # a certificate for a key no CSR of ours has
    stray_csr = x509.load_der_x509_csr(dc.build_device_csr(stray_key, bytes(8), dc.SIGNING))
    certs.append(("stray", CA.issue_device(h.device_ca, stray_csr, now).public_bytes(
        DER)))
    report = tmp / "REQ42.txt"
    report.write_bytes(bf.build_report("REQ42", lines))
    resp = tmp / bf.response_zip_name("REQ42")
    resp.write_bytes(bf.build_response_zip(certs))
    return report, resp, plan


def test_portal_round_trip_by_cli(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = cli_run("devices", "generate-test", "--count", "24", "--out", str(tmp_path / "g"),
                  "--json")
    assert gen.code == 0, gen.err
    assert (tmp_path / "g" / devices.KEYS_FILE).read_text().startswith("# TEST ONLY")
    pkg = cli_run("devices", "package", str(tmp_path / "g" / "test-devices.zip"), "--out",
                  str(tmp_path / "out"), "--max-per-zip", "12", "--json")
    assert pkg.code == 0, pkg.err
    zips = [Path(z) for z in pkg.json()["zips"]]
    assert len(zips) == 2 and pkg.json()["manifest"]
    report, resp, plan = _answer(tmp_path, zips, ctx)

    imp = cli_run("devices", "import-response", str(report), str(resp))
    assert imp.code == 1, imp.err  # a mismatch and a stray certificate are findings
    assert "UNMATCHED stray.crt" in imp.out
    assert "mismatch: 1" in imp.out and "issued: 19" in imp.out
    assert "1 CSRs of these batches are still pending" in imp.out

    rows = {r.file_name[:-4]: r for r in devices.csr_rows(ctx)}
    assert {stem: rows[stem].status for stem in plan} == plan
    by_status = {r.status: r for r in rows.values()}
    assert "signature does not verify" in by_status["error"].detail
    assert "100 certificates" in by_status["ineligible"].detail
    assert "EUI" in by_status["mismatch"].detail
    assert by_status["issued"].cert_serial

    st = cli_run("devices", "status", "--json")
    assert st.code == 0
    (batch,) = st.json()["batches"]
    assert batch["counts"]["pending"] == 1 and batch["state"] == "submitted"
    later = devices.status(ctx, at=datetime.now(UTC) + timedelta(days=25))
    assert "collect the results before" in later[0].warning
    ended = devices.status(ctx, at=datetime.now(UTC) + timedelta(days=31))
    assert "pick-up window ended" in ended[0].warning
    assert any(e.action == "devices.import-response" for e in ctx.audit.entries(limit=5))


def test_generate_test_is_refused_in_live(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = cli_run("devices", "generate-test", "--count", "3", "--out", str(tmp_path / "g"),
                env="live")
    assert r.code == 1 and "only be generated in the Test environment" in r.err
    assert not (tmp_path / "g").exists()


def test_the_same_answer_imported_again_changes_nothing(cli_run, ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An officer who imports the portal's answer twice (a second download, a colleague who
    did it already) is told so, and the rows keep what the first import filed and when; an
    answer that adds to it files only what is new."""
    gen = cli_run("devices", "generate-test", "--count", "8", "--out", str(tmp_path / "g"))
    assert gen.code == 0, gen.err
    pkg = cli_run("devices", "package", str(tmp_path / "g" / "test-devices.zip"), "--out",
                  str(tmp_path / "out"), "--json")
    assert pkg.code == 0, pkg.err
    report, resp, plan = _answer(tmp_path, [Path(z) for z in pkg.json()["zips"]], ctx)
    first = cli_run("devices", "import-response", str(report), str(resp), "--json")
    assert first.json()["unchanged"] == 0
    filed = 7  # eight CSRs, one of them not in this report

    def stamps() -> dict[str, str]:
        return {r["key_id"]: r["updated"] for r in ctx.db.conn().execute(
            "SELECT key_id, updated FROM device_csrs")}

    before = stamps()
    again = cli_run("devices", "import-response", str(report), str(resp))
    assert (f"Already imported: all {filed} outcomes of this answer were filed before, as "
            "they are now; nothing changed.") in again.out
    assert stamps() == before
    entry = ctx.audit.entries(limit=1)[0]
    assert entry.action == "devices.import-response" and entry.details["unchanged"] == filed

    # the pending CSR answered now, beside what was filed: one new outcome, seven as before
    pending = next(stem for stem, state in plan.items() if state == "pending")
    old = bf.parse_report(report.read_bytes())
    lines = [*old.lines, bf.ReportLine("99", f"{pending}.csr", bf.ReportStatus.ERROR,
                                       "CS:BadSig")]
    report.write_bytes(bf.build_report("REQ42", lines))
    more = cli_run("devices", "import-response", str(report), str(resp))
    assert (f"{filed} of the {filed + 1} outcomes were already filed as they are now "
            "(imported before): left as they were.") in more.out
    assert ctx.audit.entries(limit=1)[0].details["unchanged"] == filed
    rows = {r.file_name[:-4]: r for r in devices.csr_rows(ctx)}
    assert rows[pending].status == "error"
    after = stamps()
    assert [k for k in after if after[k] != before[k]] == [rows[pending].key_id]
