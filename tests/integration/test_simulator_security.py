"""Mutual TLS and hostile input at the simulator: no client certificate, or one from another
hierarchy, gets no answer; Live refuses the simulator's anchor; `openssl s_client` without a
client certificate gets no HTTP answer; hostile or huge XML is refused in under 2 seconds."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from smki_desktop.core import ws_xml as W
from smki_desktop.core.errors import Refusal
from smki_desktop.core.portal_ports import AuthenticationFailed, ProtocolFault
from smki_desktop.portal.ws_client import ClientTls, Endpoint, WsPortal
from smki_desktop.services import portal, repository, simulator_control
from tests.integration.portal_helpers import enrolled


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


def _endpoint(info: simulator_control.SimulatorInfo) -> Endpoint:
    return Endpoint(info.portal_url, info.repository_url, info.trust_anchor_pem)


def test_openssl_s_client_without_certificate_gets_no_http_answer(sim) -> None:
    host, port = sim.portal_url.split("//")[1].rsplit(":", 1)
    anchor = sim.state_dir / "trust-anchor.pem"
    request = "GET /portal/crl HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    r = subprocess.run(["openssl", "s_client", "-connect", f"{host}:{port}", "-CAfile",
                        str(anchor), "-quiet", "-verify_return_error"],
                       input=request, capture_output=True, text=True, timeout=20)
    out = r.stdout + r.stderr
    assert "HTTP/1." not in out
    assert "certificate required" in out or "alert" in out, out


def test_client_without_certificate_is_refused(sim) -> None:
    p = WsPortal(_endpoint(sim), None, retries=0)
    try:
        with pytest.raises(AuthenticationFailed, match="refused our client certificate"):
            p.poll_batch("1")
    finally:
        p.close()


def test_client_certificate_of_another_hierarchy_is_refused(sim, tmp_path: Path) -> None:
    from smki_desktop.simulator import ca as CA
    from smki_desktop.simulator.dcc import check_credential_csr  # noqa: F401 - same profile

    other = CA.Hierarchy.generate(datetime.now(UTC), label="X")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Energy Ltd"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
        x509.NameAttribute(NameOID.COMMON_NAME, "acme-smki-1")])).sign(key, hashes.SHA256()))
    cert = CA.issue_credential(other.iki_ca, csr, "web-service", datetime.now(UTC))
    cert_path = tmp_path / "other.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "other.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(b"pw")))
    p = WsPortal(_endpoint(sim), ClientTls(cert_path, key_path, "pw"), retries=0)
    try:
        with pytest.raises(AuthenticationFailed):
            p.poll_batch("1")
    finally:
        p.close()


def test_live_refuses_the_simulator_anchor_and_an_unpinned_server(sim, live_ctx) -> None:
    with pytest.raises(Refusal, match="Live environment refuses it"):
        portal.set_endpoint(live_ctx, sim.portal_url, sim.repository_url,
                            sim.trust_anchor_pem)
    # pinned to another root, the Live client does not trust the simulator's server
    from smki_desktop.simulator import ca as CA

    other = CA.Hierarchy.generate(datetime.now(UTC), label="L")
    # a Live anchor must not carry the simulator marker: make a plain self-signed root
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Live root")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.public_key()).serial_number(7)
            .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2040, 1, 1, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(k, hashes.SHA256()))
    assert other.root.certificate != root
    portal.set_endpoint(live_ctx, sim.portal_url, sim.repository_url,
                        root.public_bytes(serialization.Encoding.PEM))
    live_ctx.keystore.secrets.set(portal.API_KEY_SECRET, "some-live-key")
    with pytest.raises(AuthenticationFailed, match="not trusted"):
        repository.search(live_ctx, subject_eui="90B3D51F30010000")


def _mtls_context(ctx, sim) -> ssl.SSLContext:  # type: ignore[no-untyped-def]
    tls = portal.client_tls(ctx)
    c = ssl.create_default_context(cadata=sim.trust_anchor_pem.decode())
    c.load_cert_chain(str(tls.cert_path), str(tls.key_path), password=tls.password)
    return c


def test_100_mb_body_refused_in_under_2_seconds(ctx, sim) -> None:
    host, port = sim.portal_url.split("//")[1].rsplit(":", 1)
    c = _mtls_context(ctx, sim)
    t0 = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            c.wrap_socket(raw, server_hostname=host) as s:
        s.sendall(b"POST /1.0/PortalCSRBatch/SubmitCSRBatch HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/xml\r\nContent-Length: 104857600\r\n\r\n<SubmitCSRBatch>")
        s.sendall(b" " * (1024 * 1024))
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    elapsed = time.perf_counter() - t0
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert elapsed < 2.0


@pytest.mark.parametrize("name,body", [
    ("entity expansion", b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
     b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
     b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
     b']><SubmitCSRBatch><ID>&e;</ID><DeviceCSR ID="a">AAAA</DeviceCSR></SubmitCSRBatch>'),
    ("external entity", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
     b'"file:///etc/passwd">]><SubmitCSRBatch><ID>&x;</ID><DeviceCSR ID="a">AAAA</DeviceCSR>'
     b'</SubmitCSRBatch>'),
    ("unexpected element", b"<SubmitCSRBatch ID='r'><Version>1.0</Version><DeviceCSR "
     b"ID='a'>AAAA</DeviceCSR><Script/></SubmitCSRBatch>"),
])
def test_hostile_xml_refused_with_clear_error(ctx, sim, name: str, body: bytes) -> None:
    c = _mtls_context(ctx, sim)
    t0 = time.perf_counter()
    with httpx.Client(verify=c, timeout=10) as client:
        r = client.post(sim.portal_url + "/1.0/PortalCSRBatch/SubmitCSRBatch", content=body)
    assert time.perf_counter() - t0 < 2.0
    # AppM Appendix C: HTTP 200, SubmitCSRBatchStatus FORMAT_ERROR FM:AA1, nothing accepted
    assert r.status_code == 200, name
    answer = W.SubmitCSRBatchStatus.parse(r.content)
    assert (answer.status, answer.error_code, answer.batch_id) == ("FORMAT_ERROR", "FM:AA1",
                                                                  None)
    assert ("Hostile XML" in (answer.error_text or "")) or (
        "unexpected element" in (answer.error_text or "")), answer.error_text


def test_client_refuses_a_huge_answer_in_under_2_seconds(ctx, sim) -> None:
    simulator_control.control(sim, "/_control/faults", {"kind": "huge", "count": 1})
    p = portal.open_portal(ctx, retries=0)
    t0 = time.perf_counter()
    try:
        with pytest.raises(ProtocolFault, match="over the limit"):
            p.fetch_org_crl()
    finally:
        p.close()
    assert time.perf_counter() - t0 < 2.0


def test_body_without_length_is_refused(ctx, sim) -> None:
    host, port = sim.portal_url.split("//")[1].rsplit(":", 1)
    c = _mtls_context(ctx, sim)
    with socket.create_connection((host, int(port)), timeout=5) as raw, \
            c.wrap_socket(raw, server_hostname=host) as s:
        s.sendall(b"POST /1.0/PortalCSRBatch/SubmitCSRBatch HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n10\r\n<SubmitCSRBatch>\r\n")
        answer = b""
        while chunk := s.recv(4096):  # the server answers, then closes the connection
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 411") and b"RQ:Length" in answer
