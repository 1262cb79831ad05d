"""A repository answer is an artifact of its environment: in Live, a certificate of the Test
hierarchy (the DCC's test PKI policy) from the configured repository is refused with
EnvironmentMismatch naming both environments (exit 1), not shown as a Live certificate; the
same answer in Test is read. A real HTTPS loopback server with its own anchor (not a
simulator's), the real adapter and service."""

from __future__ import annotations

import base64
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import EnvironmentMismatch
from smki_desktop.services import portal, repository

FIXTURE = Path(__file__).parents[1] / "fixtures" / "dcc-test-pki" / "organisation" / \
    "90b3d51f30000001-ds.pem"
TEST_CERT = x509.load_pem_x509_certificate(FIXTURE.read_bytes())
SERIAL = f"{TEST_CERT.serial_number:X}"
EUI = "90-B3-D5-1F-30-00-00-01"
KEY = "live-api-key-0123456"
RECORD = (f"<CertificateSerial>{SERIAL}</CertificateSerial><CertificateSubjectName>{EUI}"
          "</CertificateSubjectName><CertificateStatus>I</CertificateStatus><CertificateRole>1"
          "</CertificateRole><CertificateUsage>DS</CertificateUsage>")
SEARCH = (f"<CertificateSearchResponse><ResponseCode>200</ResponseCode><Result>{RECORD}"
          "</Result></CertificateSearchResponse>").encode()
DATA = ("<CertificateDataResponse><ResponseCode>200</ResponseCode><CertificateResponse>"
        f"{RECORD}<CertificateBody>"
        f"{base64.b64encode(TEST_CERT.public_bytes(serialization.Encoding.DER)).decode()}"
        "</CertificateBody></CertificateResponse></CertificateDataResponse>").encode()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = SEARCH if self.path.startswith("/services/certificatesearch") else DATA
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "repository.example")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "srv.pem").write_bytes(pem)
    (tmp_path / "srv.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(tmp_path / "srv.pem", tmp_path / "srv.key")
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{srv.server_address[1]}", pem
    srv.shutdown()
    srv.server_close()


def test_live_refuses_a_test_certificate_from_the_repository(live_ctx, server, cli_run) -> None:  # type: ignore[no-untyped-def]
    url, anchor = server
    portal.set_endpoint(live_ctx, url, url, anchor)
    portal.set_api_key(live_ctx, KEY)
    with pytest.raises(EnvironmentMismatch) as got:
        repository.search(live_ctx, subject_eui=EUI)
    assert "Test" in got.value.message and "Live" in got.value.message
    assert SERIAL in got.value.message and KEY not in got.value.message
    res = cli_run("repo", "search", "--eui", EUI, env="live")
    assert res.code == 1, (res.out, res.err)
    assert "Test" in res.err and KEY not in res.out + res.err
    by_serial = cli_run("repo", "search", "--serial", SERIAL, env="live")
    assert by_serial.code == 1 and KEY not in by_serial.out + by_serial.err


def test_the_same_answer_is_read_in_test(ctx, server) -> None:  # type: ignore[no-untyped-def]
    url, anchor = server
    portal.set_endpoint(ctx, url, url, anchor)
    portal.set_api_key(ctx, KEY)
    (hit,) = repository.search(ctx, subject_eui=EUI).entries
    assert hit.serial == SERIAL and hit.role == "01"
