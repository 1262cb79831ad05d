"""A Device certificate imported on its own (`smki cert import`, the Certificates page) is matched
by key to the Device CSR the Devices flow made, checked against it and filed on its row exactly
as the Devices flow files a DCC result: real generated CSRs, the simulator's real Device CA, the
real keyring and database, the CLI in-process."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import EnvironmentMismatch
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import certificates as certs
from smki_desktop.services import devices
from smki_desktop.services.trust import add_trust_anchor
from smki_desktop.simulator import ca as CA


def _row(ctx, key_id: str) -> dict:  # type: ignore[no-untyped-def]
    r = ctx.db.conn().execute("SELECT * FROM device_csrs WHERE key_id=?", (key_id,)).fetchone()
    return dict(r)


@pytest.fixture
def device_batch(ctx, tmp_path: Path):  # type: ignore[no-untyped-def]
    """One test device (a signing and a key-agreement CSR) packaged by the Devices flow, and
    the simulator's CA hierarchy to answer it. Returns (hierarchy, [(key_id, CSR)])."""
    gen = devices.generate_test(ctx, 2, tmp_path / "gen", discard_keys=True, processes=1)
    devices.package(ctx, gen.out, tmp_path / "out", processes=1)
    rows = ctx.db.conn().execute("SELECT key_id, csr FROM device_csrs ORDER BY file_name"
                                 ).fetchall()
    assert len(rows) == 2
    h = CA.Hierarchy.generate(datetime.now(UTC))
    # trusted as the simulator's CAs are when it starts: the Devices flow checks signatures
    add_trust_anchor(ctx, h.device_ca.certificate.public_bytes(Encoding.PEM), source="simulator")
    return (h,
            [(r["key_id"], x509.load_der_x509_csr(bytes(r["csr"]))) for r in rows])


def _issue(h: CA.Hierarchy, csr: x509.CertificateSigningRequest) -> x509.Certificate:
    return CA.issue_device(h.device_ca, csr, datetime.now(UTC))


def _issue_with_san(h: CA.Hierarchy, csr: x509.CertificateSigningRequest, eui: bytes,
                    hw_type: str = dc.TEST_HW_TYPE,
                    ku: x509.KeyUsage | None = None) -> x509.Certificate:
    """The CSR's key, but another hardwareModuleName (and optionally another keyUsage)."""
    hmn = x509.OtherName(x509.ObjectIdentifier(dc.HMN_OID),
                         dc._tlv(0x30, dc.oid_der(hw_type) + dc._tlv(0x04, eui)))
    b = CA._leaf(h.device_ca, x509.Name([]), csr.public_key(), datetime.now(UTC),
                 CA.DEVICE_NOT_AFTER, CA.TEST_DEVICE_POLICY)
    b = b.add_extension(ku or CA._csr_key_usage(csr), critical=True).add_extension(
        x509.SubjectAlternativeName([hmn]), critical=True)
    return b.sign(h.device_ca.key, hashes.SHA256())


def _audit_count(ctx) -> int:  # type: ignore[no-untyped-def]
    return int(ctx.db.conn().execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def test_cli_import_files_the_device_row_issued_and_twice_is_a_duplicate(  # type: ignore[no-untyped-def]
        ctx, cli_run, device_batch, tmp_path: Path) -> None:
    h, ((ds_key, ds_csr), (ka_key, _ka_csr)) = device_batch
    cert = _issue(h, ds_csr)
    pem = tmp_path / "device-ds.pem"
    pem.write_bytes(cert.public_bytes(Encoding.PEM))

    r = cli_run("cert", "import", str(pem), "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert doc["status"] == certs.ACCEPTED and doc["reasons"] == []
    assert doc["device_status"] == "issued" and doc["device_csr"].endswith(".csr")

    # the row as the Devices flow files a DCC result: status, serial, issuer, certificate
    row = _row(ctx, ds_key)
    assert row["status"] == "issued" and row["error_code"] is None
    assert row["cert_serial"] == format(cert.serial_number, "x")
    assert row["cert_issuer"] == "CN=E357"
    assert bytes(row["certificate"]) == cert.public_bytes(Encoding.DER)
    assert row["detail"] == devices.STATUS_WORDS["issued"]
    # the DCC answered for the batch, so its other CSR is now awaited (as `collect` does)
    assert _row(ctx, ka_key)["status"] == "pending"
    shown = {x["key_id"]: x for x in cli_run("devices", "rows", "--json").json()["rows"]}
    assert shown[ds_key]["status"] == "issued"
    assert shown[ds_key]["cert_serial"] == format(cert.serial_number, "x")
    (entry,) = ctx.audit.entries(action_prefix="cert.import")
    assert entry.details["device_csr"]["key_id"] == ds_key
    assert entry.details["device_csr"]["filed_as"] == "issued"
    # the imported certificate does not count twice towards the 100 per device
    _keys, counts, _pairs = devices.known_keys(ctx)
    assert counts[bytes.fromhex(row["device_eui"])] == 2

    # the same certificate again: a duplicate, nothing written
    audits = _audit_count(ctx)
    again = cli_run("cert", "import", str(pem), "--json")
    assert again.code == 0, again.err
    assert again.json()["duplicate"] is True and again.json()["status"] == certs.ACCEPTED
    assert _row(ctx, ds_key) == row
    assert _audit_count(ctx) == audits
    assert len(certs.list_certificates(ctx)) == 1


@pytest.mark.parametrize("what", ["eui", "hw-type", "key-usage"])
def test_same_key_other_san_or_usage_is_to_be_rejected(  # type: ignore[no-untyped-def]
        ctx, device_batch, what: str) -> None:
    h, ((ds_key, ds_csr), _ka) = device_batch
    eui = bytes.fromhex(_row(ctx, ds_key)["device_eui"])
    if what == "eui":
        cert = _issue_with_san(h, ds_csr, bytes.fromhex("00DB1234560FFFFF"))
        named = "mismatch: device SAN: certificate has 00-DB-12-34-56-0F-FF-FF"
    elif what == "hw-type":
        cert = _issue_with_san(h, ds_csr, eui, hw_type="1.2.826.0.1.8641679.1.2.2.99")
        named = "mismatch: device SAN: certificate has"
    else:
        ka = x509.KeyUsage(False, False, False, False, True, False, False, False, False)
        cert = _issue_with_san(h, ds_csr, eui, ku=ka)
        named = "mismatch: key usage: certificate has key-agreement"
    der = cert.public_bytes(Encoding.DER)

    result = certs.import_certificate(ctx, der)
    assert result.status == certs.TO_BE_REJECTED, result.message
    assert any(r.startswith(named) for r in result.reasons), result.reasons
    assert "Reject it with the DCC Service Desk now" in result.message
    assert result.device_status == "mismatch"

    # filed as the Devices flow files a mismatch: status, certificate, serial, the reasons
    row = _row(ctx, ds_key)
    assert row["status"] == "mismatch"
    assert row["cert_serial"] == format(cert.serial_number, "x")
    assert bytes(row["certificate"]) == der
    assert named.removeprefix("mismatch: ") in row["detail"]
    shown = {r.key_id: r for r in devices.csr_rows(ctx)}
    assert shown[ds_key].status == "mismatch"
    assert result.audit is not None
    assert result.audit.details["device_csr"]["filed_as"] == "mismatch"

    # importing it again changes nothing
    audits = _audit_count(ctx)
    again = certs.import_certificate(ctx, der)
    assert again.duplicate and again.status == certs.TO_BE_REJECTED
    assert _row(ctx, ds_key) == row and _audit_count(ctx) == audits


def test_cli_mismatch_exit_code_and_devices_rows(  # type: ignore[no-untyped-def]
        ctx, cli_run, device_batch, tmp_path: Path) -> None:
    h, (_ds, (ka_key, ka_csr)) = device_batch
    pem = tmp_path / "wrong.pem"
    pem.write_bytes(_issue_with_san(h, ka_csr, bytes(8)).public_bytes(Encoding.PEM))
    r = cli_run("cert", "import", str(pem))
    assert r.code == 1
    assert "TO BE REJECTED" in r.out and "device SAN" in r.out
    assert "filed as mismatch" in r.out
    rows = cli_run("devices", "rows").out
    line = next(x for x in rows.splitlines() if x.startswith(_row(ctx, ka_key)["file_name"]))
    assert "\tmismatch\t" in line and "device SAN" in line


def test_same_as_the_devices_flow_and_never_filed_twice(  # type: ignore[no-untyped-def]
        ctx, device_batch, tmp_path: Path) -> None:
    """The Devices flow files a portal answer; the same certificate imported afterwards is
    accepted but the row (filed identically) is not written again."""
    h, ((ds_key, ds_csr), _ka) = device_batch
    der = _issue(h, ds_csr).public_bytes(Encoding.DER)
    name = _row(ctx, ds_key)["file_name"]
    report = tmp_path / "REQ7.txt"
    report.write_bytes(bf.build_report("REQ7", [bf.ReportLine("1", name,
                                                              bf.ReportStatus.SUCCESS)]))
    resp = tmp_path / bf.response_zip_name("REQ7")
    resp.write_bytes(bf.build_response_zip([(name[: -len(".csr")], der)]))
    devices.import_response(ctx, report, resp)
    by_flow = _row(ctx, ds_key)
    assert by_flow["status"] == "issued"

    result = certs.import_certificate(ctx, der)
    assert result.status == certs.ACCEPTED and result.device_status is None
    assert result.device_csr == name
    assert _row(ctx, ds_key) == by_flow  # same columns, not rewritten


def test_other_environment_is_refused(ctx, live_ctx, device_batch) -> None:  # type: ignore[no-untyped-def]
    h, ((ds_key, ds_csr), _ka) = device_batch
    der = _issue(h, ds_csr).public_bytes(Encoding.DER)
    before = _row(ctx, ds_key)
    # a Test device certificate imported in Live: refused by its policy, nothing recorded
    with pytest.raises(EnvironmentMismatch):
        certs.import_certificate(live_ctx, der)
    assert certs.list_certificates(live_ctx) == []
    # defence in depth: a Device CSR row of the other environment is never filed against
    ctx.db.conn().execute("UPDATE device_csrs SET environment='live' WHERE key_id=?",
                          (ds_key,))
    with pytest.raises(EnvironmentMismatch, match=r"Device CSR"):
        certs.import_certificate(ctx, der)
    assert certs.list_certificates(ctx) == []
    after = _row(ctx, ds_key)
    assert after["status"] == before["status"] and after["certificate"] is None
