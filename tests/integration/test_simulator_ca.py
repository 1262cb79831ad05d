"""The simulator's hierarchy and issuance: certificates exactly to the SMKI profile (checked by
the app's own lint and by openssl), state that survives a restart, batch statuses on the
accelerated clock, the processing window, and the 100-certificates-per-device rule."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.name import _ASN1Type

from smki_desktop.core import ws_xml as W
from smki_desktop.core.environment import Environment
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.csr import build_org_csr
from smki_desktop.crypto.device_csr import generate_one
from smki_desktop.crypto.lint import lint_der
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.profile_data import load_profile
from smki_desktop.simulator import ca as CA
from smki_desktop.simulator import dcc
from smki_desktop.simulator.state import SimState


def _org_cert(state: SimState) -> x509.Certificate:
    s = MemorySigner.generate(usage=KeyUsage.KEY_AGREEMENT)
    der = build_org_csr(s, RemotePartyRole.NETWORK_OPERATOR, Eui64.parse("90B3D51F30020000"))
    csr, *_ = dcc.check_org_csr(der)
    return CA.issue_organisation(state.hierarchy.org_ca, csr, datetime.now(UTC))


def _device_csr(eui: int, usage: str = "signing") -> bytes:
    return generate_one(eui.to_bytes(8, "big"), usage, keep_key=False)[2]


def _dev_cert(state: SimState) -> x509.Certificate:
    csr, *_ = dcc.check_device_csr(_device_csr(0x00DB123456789001))
    return CA.issue_device(state.hierarchy.device_ca, csr, datetime.now(UTC))


@pytest.fixture
def state(tmp_path: Path) -> SimState:
    return SimState(tmp_path / "sim")


def test_issued_certificates_pass_the_test_profile_lint(state: SimState) -> None:
    profile = load_profile(Environment.TEST)
    for cert in (_org_cert(state), _dev_cert(state)):
        report = lint_der(cert.public_bytes(serialization.Encoding.DER), profile)
        assert report.ok and not report.findings, [str(f) for f in report.findings]


def test_profile_details(state: SimState) -> None:
    org, dev = _org_cert(state), _dev_cert(state)
    for cert in (org, dev):
        n = cert.serial_number
        assert n > 0 and len(n.to_bytes((n.bit_length() + 8) // 8, "big")) == 16
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert not ski.critical and len(ski.value.digest) == 8
        assert ski.value.digest[0] >> 4 == 0x4  # RFC 5280 method 2
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        assert not aki.critical and aki.value.authority_cert_issuer is None
        assert aki.value.authority_cert_serial_number is None
        pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
        assert pol.critical and len(pol.value) == 1
        assert all(a._type is _ASN1Type.PrintableString for a in cert.issuer)
    assert org.issuer.rfc4514_string() == "CN=Z1,OU=07"
    assert dev.issuer.rfc4514_string() == "CN=E357"
    assert b"\x18\x0f99991231235959Z" in dev.public_bytes(serialization.Encoding.DER)
    assert len(dev.subject) == 0
    san = dev.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    root = state.hierarchy.root.certificate
    assert root.subject.rfc4514_string() == "CN=ZA,OU=00"
    assert CA.is_simulator_certificate(root)


def test_openssl_verifies_the_chains(state: SimState, tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_bytes(state.hierarchy.root.certificate.public_bytes(serialization.Encoding.PEM))
    for cert, ca in ((_org_cert(state), state.hierarchy.org_ca),
                     (_dev_cert(state), state.hierarchy.device_ca)):
        leaf, inter = tmp_path / "leaf.pem", tmp_path / "inter.pem"
        leaf.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        inter.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
        r = subprocess.run(["openssl", "verify", "-CAfile", str(root), "-untrusted",
                            str(inter), str(leaf)], capture_output=True, text=True)
        assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr


def test_state_survives_restart(tmp_path: Path) -> None:
    first = SimState(tmp_path / "sim")
    root = first.hierarchy.root.certificate
    token = first.meta("enrolment_token")
    again = SimState(tmp_path / "sim")
    assert again.hierarchy.root.certificate == root
    assert again.meta("enrolment_token") == token


def test_batch_statuses_follow_the_accelerated_clock(state: SimState) -> None:
    state.set_meta("batch_step", "10")
    msg = W.SubmitCSRBatch("ref-1", (("a", _device_csr(0x00DB000000000001)),
                                     ("b", _device_csr(0x00DB000000000002, "key-agreement"))))
    resp = W.SubmitCSRBatchStatus.parse(dcc.submit_batch(state, "owner", msg))
    assert resp.batch_id is not None and resp.id == "ref-1"
    seen = []
    for offset in (0, 11, 21, 31):
        state.set_meta("clock_offset", str(offset))
        res = W.CSRBatchResult.parse(dcc.batch_result(state, "owner", resp.batch_id))
        seen.append(res.status)
    assert seen == ["PENDING", "QUEUED", "PROCESSING", "COMPLETED"]
    assert [r.status for r in res.results] == ["SUCCESS", "SUCCESS"]
    # another client cannot see it: AppM's "Unknown BatchId"
    err = W.CSRBatchResult.parse(dcc.batch_result(state, "someone else", resp.batch_id))
    assert (err.status, err.error_code, err.batch_id) == ("FORMAT_ERROR", "FM:AA3", None)


def test_processing_waits_for_the_window(state: SimState) -> None:
    state.set_meta("batch_step", "1")
    state.set_meta("respect_window", "1")
    now = datetime.now(UTC)
    noon = datetime(now.year, now.month, now.day, 12, 0, tzinfo=UTC)
    state.set_meta("clock_offset", str((noon - now).total_seconds()))
    msg = W.SubmitCSRBatch("ref-w", (("a", _device_csr(0x00DB000000000101)),))
    bid = W.SubmitCSRBatchStatus.parse(dcc.submit_batch(state, "o", msg)).batch_id or ""
    state.set_meta("clock_offset", str((noon - now).total_seconds() + 3600))
    assert W.CSRBatchResult.parse(dcc.batch_result(state, "o", bid)).status == "QUEUED"
    night = datetime(now.year, now.month, now.day, 22, 30, tzinfo=UTC)
    state.set_meta("clock_offset", str((night - now).total_seconds()))
    assert W.CSRBatchResult.parse(dcc.batch_result(state, "o", bid)).status == "COMPLETED"


def test_at_most_100_certificates_per_device(state: SimState) -> None:
    eui = 0x00DB000000000200
    fresh = W.DeviceCertificateSigningResponse.parse(dcc.adhoc(
        state, "o", W.DeviceCertificateSigningRequest("r-first", _device_csr(eui))))
    assert (fresh.status, fresh.error_code) == ("UNKNOWN_DEVICE", "UD:NoCert")  # AppM 2.4.1.3
    with dcc.Tx(state):  # its installation's certificate
        assert dcc._issue_device(state, _device_csr(eui), "o", datetime.now(UTC),
                                 state.hierarchy)[0] == "SUCCESS"
    statuses = []
    for i in range(100):
        req = W.DeviceCertificateSigningRequest(f"r{i}", _device_csr(eui))
        statuses.append(W.DeviceCertificateSigningResponse.parse(
            dcc.adhoc(state, "o", req)).status)
    assert statuses[:99] == ["SUCCESS"] * 99
    assert statuses[99] == "ISSUANCE_ANOMALY"  # AppM's ad hoc statuses have no INELIGIBLE
    # a replay of an earlier reference gets its first answer, not a new certificate
    again = W.DeviceCertificateSigningResponse.parse(
        dcc.adhoc(state, "o", W.DeviceCertificateSigningRequest("r5", _device_csr(eui))))
    assert again.status == "SUCCESS"
    n = state.conn().execute("SELECT COUNT(*) FROM certificates WHERE device_eui=?",
                             (f"{eui:016X}",)).fetchone()[0]
    assert n == 100


def test_batch_over_50000_csrs_is_refused() -> None:
    body = b"<SubmitCSRBatch ID='r'><Version>1.0</Version>" + b"".join(
        b"<DeviceCSR ID='a%d'>AAAA</DeviceCSR>" % i for i in range(50_001)) + \
        b"</SubmitCSRBatch>"
    with pytest.raises(W.BatchTooLarge, match="at most 50,000"):
        W.SubmitCSRBatch.parse(body)
    answer = W.SubmitCSRBatchStatus.parse(dcc.batch_format_error(W.BatchTooLarge("x")))
    assert (answer.status, answer.error_code) == ("FORMAT_ERROR", "FM:AA2")
