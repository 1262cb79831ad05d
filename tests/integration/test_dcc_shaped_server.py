"""`smki devices submit` / `collect` and `smki repo search --eui/--device/--serial` against a
small local server that answers in the DCC's own shapes, written here from SEC Appendix M's
examples and the DCC Boxed client's samples (hand-written XML, not the app's builders): it
checks every request it gets against the XSDs in resources/schemas/appm, answers a batch
first "still processing", then COMPLETED with mixed results, and answers the repository with
indented, wrapped Base64 as DCC Boxed does. The same commands against the simulator are in
test_devices_e2e.py / test_repository.py; here the CLI's repo search runs against both."""

from __future__ import annotations

import base64
import json
import ssl
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import xmlschema
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.ports import FixedClock
from smki_desktop.resources_path import resource
from smki_desktop.services import portal, simulator_control
from smki_desktop.services.context import open_context
from smki_desktop.simulator import ca as CA
from smki_desktop.simulator.state import SimState
from tests.integration.portal_helpers import enrolled

SCHEMAS = resource("schemas", "appm")
BATCHED = xmlschema.XMLSchema(str(SCHEMAS / "batched-device-csr-1.0.xsd"))
REPO = xmlschema.XMLSchema(str(SCHEMAS / "repository-1.0.xsd"))
ORG_EUI = "90-B3-D5-1F-30-00-00-01"
FIXTURE_ORG = Path(__file__).parents[1] / "fixtures" / "dcc-test-pki" / "organisation" / \
    "90b3d51f30000001-ds.pem"


def _wrapped(der: bytes) -> str:
    """Base64 as the DCC Boxed client's samples carry it: wrapped and indented."""
    return "\n" + textwrap.indent("\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64)),
                                  "  ") + "\n"


class DccStandIn:
    """The DCC's web services and repository, answering in their published shapes."""

    def __init__(self, state_dir: Path, api_key: str) -> None:
        self.hierarchy = SimState(state_dir).hierarchy
        self.api_key = api_key
        self.hostile: str | None = None  # "foreign": a result for an ID never sent
        self.requests: list[dict[str, Any]] = []
        self.batches: dict[str, dict[str, Any]] = {}
        self.certs: dict[str, tuple[str, x509.Certificate]] = {}  # serial -> (kind, cert)
        org = x509.load_pem_x509_certificate(FIXTURE_ORG.read_bytes())
        self.certs[f"{org.serial_number:X}"] = ("org", org)
        handler = type("H", (_Handler,), {"standin": self})
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(state_dir / "tls-server.pem", state_dir / "tls-server.key")
        self.srv.socket = tls.wrap_socket(self.srv.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.srv.shutdown()
        self.srv.server_close()


class _Handler(BaseHTTPRequestHandler):
    standin: DccStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, code: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.standin.requests.append({"method": "GET", "path": url.path, "query": q})
        if url.path != "/1.0/PortalCSRBatch/CSRBatchResult":
            return self._answer(404)
        batch = self.standin.batches.get(q.get("BatchId", ""))
        if batch is None:  # AppM Appendix D, "Unknown BatchId"
            return self._answer(200, '<?xml version="1.0" encoding="UTF-8"?>\n<CSRBatchResult>'
                                '<Version>1.0</Version><Build>2.0.8</Build><BatchStatus>'
                                'FORMAT_ERROR</BatchStatus><Error><ErrorCode>FM:AA3</ErrorCode>'
                                '<ErrorText>Unknown BatchId</ErrorText></Error></CSRBatchResult>')
        batch["polls"] += 1
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<CSRBatchResult ID="{batch["ref"]}">\n'
                '<Version>1.0</Version>\n<Build>2.0.8</Build>\n')
        if batch["polls"] == 1:  # AppM Appendix D, "Incomplete batch processing"
            return self._answer(200, head + f'<BatchStatus>PROCESSING</BatchStatus>\n<BatchId>'
                                f'{q["BatchId"]}</BatchId>\n</CSRBatchResult>')
        parts = [head, "<BatchStatus>COMPLETED</BatchStatus>\n",
                 f"<BatchId>{q['BatchId']}</BatchId>\n"]
        now = datetime.now(UTC)
        for i, (cid, der) in enumerate(batch["csrs"]):
            if i == 0:  # AppM's mixed example: one CSR_ERROR
                parts.append(f'<DeviceCertificate ID="{cid}">\n<Status>CSR_ERROR</Status>\n'
                             '<Error>\n<ErrorCode>CR:CC1</ErrorCode>\n<ErrorText>Wrong CSR OID'
                             '</ErrorText>\n</Error>\n</DeviceCertificate>\n')
                continue
            cert = CA.issue_device(self.standin.hierarchy.device_ca,
                                   x509.load_der_x509_csr(der), now)
            self.standin.certs[f"{cert.serial_number:X}"] = ("device", cert)
            b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
            parts.append(f'<DeviceCertificate ID="{cid}">\n<Status>SUCCESS</Status>\n'
                         f'<Certificate>{b64}</Certificate>\n</DeviceCertificate>\n')
        if self.standin.hostile == "foreign":
            parts.append('<DeviceCertificate ID="dNEVERSENT">\n<Status>CSR_ERROR</Status>\n'
                         '<Error>\n<ErrorCode>CR:CC1</ErrorCode>\n<ErrorText>Wrong CSR OID'
                         '</ErrorText>\n</Error>\n</DeviceCertificate>\n')
        parts.append("</CSRBatchResult>")
        self._answer(200, "".join(parts))

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        text = body.decode("utf-8")
        rec: dict[str, Any] = {"method": "POST", "path": url.path, "query": q}
        self.standin.requests.append(rec)
        if url.path == "/1.0/PortalCSRBatch/SubmitCSRBatch":
            rec["valid"] = BATCHED.is_valid(text)
            root = ET.fromstring(body)
            bid = str(4240 + len(self.standin.batches) + 2)
            self.standin.batches[bid] = {
                "ref": root.attrib["ID"], "polls": 0,
                "csrs": [(e.attrib["ID"], base64.b64decode(e.text or ""))
                         for e in root.findall("DeviceCSR")]}
            return self._answer(200, '<?xml version="1.0" encoding="utf-8"?>\n'
                                f'<SubmitCSRBatchStatus ID="{root.attrib["ID"]}">\n'
                                '<Version>1.0</Version>\n<Build>2.0.8</Build>\n<BatchStatus>'
                                f'PENDING</BatchStatus>\n<BatchId>{bid}</BatchId>\n'
                                '</SubmitCSRBatchStatus>')
        if url.path not in ("/services/certificatesearch", "/services/retrievecertificate"):
            return self._answer(404)
        rec["valid"] = REPO.is_valid(text)
        if q.get("apikey") != self.standin.api_key:
            return self._answer(403)
        if not rec["valid"]:
            return self._answer(401)
        root = ET.fromstring(body)
        head = ("\n          <?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                "          <{0}>\n            <ResponseCode>200</ResponseCode>\n"
                "            <ResponseMessage>Success</ResponseMessage>\n"
                "            <AuditReference>1234567890-abc123456</AuditReference>\n")
        if url.path == "/services/certificatesearch":
            name = root.findtext("CertificateSubjectName")
            alt = root.findtext("CertificateSubjectAltName")
            hits = [(s, k, c) for s, (k, c) in self.standin.certs.items()
                    if (k == "org" and name == ORG_EUI) or (k == "device" and alt is not None
                                                            and _device_eui(c) == alt)]
            if not hits:
                return self._answer(402)
            out = [head.format("CertificateSearchResponse")]
            for s, k, _ in hits:
                who = (f"<CertificateSubjectName>{name}</CertificateSubjectName>"
                       "<CertificateRole>1</CertificateRole>" if k == "org" else
                       f"<CertificateSubjectAltName>{alt}</CertificateSubjectAltName>")
                out.append(f"            <Result><CertificateSerial>{s}</CertificateSerial>"
                           f"{who}<CertificateStatus>E</CertificateStatus><CertificateUsage>"
                           "DS</CertificateUsage><ManufacturingFlag>false</ManufacturingFlag>"
                           "</Result>\n")
            out.append("          </CertificateSearchResponse>")
            return self._answer(200, "".join(out))
        serial = (root.findtext("CertificateSerial") or "").upper().lstrip("0")
        hit = self.standin.certs.get(serial)
        if hit is None:
            return self._answer(402)
        kind, cert = hit
        who = (f"<CertificateSubjectName>{ORG_EUI}</CertificateSubjectName>"
               "<CertificateRole>1</CertificateRole>" if kind == "org" else
               f"<CertificateSubjectAltName>{_device_eui(cert)}</CertificateSubjectAltName>")
        self._answer(200, head.format("CertificateDataResponse")
                     + f"              <CertificateResponse>{who}<CertificateSerial>{serial}"
                     "</CertificateSerial><CertificateStatus>E</CertificateStatus>"
                     f"<CertificateBody>{_wrapped(cert.public_bytes(serialization.Encoding.DER))}"
                     "</CertificateBody><CertificateUsage>DS</CertificateUsage>"
                     "<ManufacturingFlag>false</ManufacturingFlag></CertificateResponse>\n"
                     "          </CertificateDataResponse>")


def _device_eui(cert: x509.Certificate) -> str:
    from smki_desktop.crypto.fields import extract_fields

    eui = extract_fields(cert.public_bytes(serialization.Encoding.DER)).device_eui
    h = eui.hex if eui is not None else ""
    return "-".join(h[i:i + 2] for i in range(0, 16, 2))


def _next_night() -> datetime:
    """22:30 UTC, inside the DCC's processing window (20:00-08:00 London) in winter and summer,
    and not before now: the web-service credential was issued now, so a clock set earlier the
    same day (a run after 22:30 UTC) would find no credential valid yet."""
    now = datetime.now(UTC)
    night = now.replace(hour=22, minute=30, second=0, microsecond=0)
    return night if night > now else night + timedelta(days=1)


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


@pytest.fixture
def standin(ctx, sim) -> Iterator[DccStandIn]:  # type: ignore[no-untyped-def]
    s = DccStandIn(sim.state_dir, ctx.keystore.secrets.get_optional(portal.API_KEY_SECRET))
    yield s
    s.close()


def test_repo_search_against_the_simulator_by_cli(ctx, sim, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.portal_helpers import device_csrs, org_csr

    ref = portal.submit_org_csr(ctx, org_csr(ctx, "90-B3-D5-1F-30-01-00-71")).item.ref
    item = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB123456730000))
    portal.send_pending(ctx)
    time.sleep(0.8)
    portal.poll(ctx, force=True)
    org = x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")
    assert portal.outbox(ctx).get(item.ref).state == "done"
    by_eui = cli_run("repo", "search", "--eui", "90-B3-D5-1F-30-01-00-71", "--role", "supplier",
                     "--json")
    assert by_eui.code == 0, by_eui.err
    assert [r["serial"] for r in by_eui.json()["results"]] == [f"{org.serial_number:032X}"]
    assert by_eui.json()["results"][0]["role"] == "02"
    by_dev = cli_run("repo", "search", "--device", "00-DB-12-34-56-73-00-01", "--json")
    assert [(r["device_eui"], r["usage"], r["status"]) for r in by_dev.json()["results"]] == [
        ("00DB123456730001", "KA", "I")]
    by_serial = cli_run("repo", "search", "--serial", f"{org.serial_number:x}", "--json")
    assert by_serial.code == 0 and len(by_serial.json()["results"]) == 1
    none = cli_run("repo", "search", "--device", "00-DB-12-34-56-73-99-99", "--json")
    assert none.code == 0 and none.json()["results"] == []  # HTTP 402


def test_devices_and_repo_against_a_server_in_the_dccs_shapes(ctx, sim, standin, cli_run,  # type: ignore[no-untyped-def]
                                                              data_root, tmp_path) -> None:
    portal.set_endpoint(ctx, standin.url, standin.url, sim.trust_anchor_pem)
    gen = cli_run("devices", "generate-test", "--count", "4", "--out", str(tmp_path / "g"),
                  "--discard-keys", "--format", "csv", "--first-eui", "00-DB-12-34-56-74-00-00")
    assert gen.code == 0, gen.err
    sub = cli_run("devices", "submit", str(tmp_path / "g" / "test-devices.csv"), "--json")
    assert sub.code == 0, sub.err
    assert sub.json()["send_error"] is None
    posted = [r for r in standin.requests if r["path"].endswith("/SubmitCSRBatch")]
    assert len(posted) == 1 and posted[0]["valid"]  # our request passes AppM's schema

    # polls inside the DCC's processing window (20:00-08:00 London) an hour apart
    night = _next_night()
    clock = FixedClock(night)
    c2 = open_context(Environment.TEST, data_root, clock=clock)
    try:
        first = portal.poll(c2, force=True, send=False)
        assert [i.server_status for i in first.polled] == ["PROCESSING"]
        clock.advance(minutes=61)
        second = portal.poll(c2, force=True, send=False)
        assert [i.state for i in second.completed] == ["done"]
    finally:
        c2.close()
    assert [r["query"] for r in standin.requests if r["method"] == "GET"] == [
        {"BatchId": "4242"}, {"BatchId": "4242"}]

    col = cli_run("devices", "collect", "--json")
    assert col.code == 0, col.err
    rows = cli_run("devices", "rows", "--json").json()["rows"]
    assert sorted(r["status"] for r in rows) == ["error", "issued", "issued", "issued"]
    assert any("CR:CC1" in json.dumps(r) for r in rows)

    # the repository, answered as DCC Boxed does (status E, wrapped Base64, role 1)
    by_eui = cli_run("repo", "search", "--eui", ORG_EUI, "--json")
    assert by_eui.code == 0, by_eui.err
    (hit,) = by_eui.json()["results"]
    assert (hit["role"], hit["status"], hit["status_text"], hit["subject_eui"]) == (
        "01", "E", "expired", "90B3D51F30000001")
    issued = [r for r in rows if r["status"] == "issued"]
    dev_eui = issued[0]["device_eui"]
    by_dev = cli_run("repo", "search", "--device", dev_eui, "--json")
    assert by_dev.code == 0, by_dev.err
    assert [r["device_eui"] for r in by_dev.json()["results"]] == [
        dev_eui.replace("-", "").upper()]
    serial = by_dev.json()["results"][0]["serial"]
    by_serial = cli_run("repo", "search", "--serial", serial, "--json")
    assert [r["serial"] for r in by_serial.json()["results"]] == [serial]
    assert cli_run("repo", "search", "--device", "00-DB-12-34-56-74-99-99", "--json"
                   ).json()["results"] == []
    repo_calls = [r for r in standin.requests if r["path"].startswith("/services/")]
    assert repo_calls and all(r["valid"] for r in repo_calls)  # requests pass the schema
    assert all(r["query"]["apikey"] == standin.api_key for r in repo_calls)
    assert standin.api_key not in by_eui.out + by_eui.err


def test_a_result_naming_a_csr_we_never_sent_files_nothing(ctx, sim, standin, cli_run,  # type: ignore[no-untyped-def]
                                                           data_root, tmp_path) -> None:
    """A COMPLETED CSRBatchResult with a DeviceCertificate ID that was not in our batch: the
    poll reports it as a malformed answer naming the ID, the request stays submitted (asked
    again later, nothing stored) and no device row is filed."""
    portal.set_endpoint(ctx, standin.url, standin.url, sim.trust_anchor_pem)
    gen = cli_run("devices", "generate-test", "--count", "2", "--out", str(tmp_path / "g"),
                  "--discard-keys", "--format", "csv", "--first-eui", "00-DB-12-34-56-75-00-00")
    assert gen.code == 0, gen.err
    sub = cli_run("devices", "submit", str(tmp_path / "g" / "test-devices.csv"), "--json")
    assert sub.code == 0, sub.err
    night = _next_night()
    clock = FixedClock(night)
    c2 = open_context(Environment.TEST, data_root, clock=clock)
    try:
        first = portal.poll(c2, force=True, send=False)
        assert [i.server_status for i in first.polled] == ["PROCESSING"]
        standin.hostile = "foreign"
        clock.advance(minutes=61)
        second = portal.poll(c2, force=True, send=False)
        assert second.completed == [] and len(second.malformed) == 1
        assert "dNEVERSENT" in second.malformed[0]["why"]
        assert "never sent" in second.malformed[0]["why"]
        assert second.as_dict()["malformed"] == second.malformed
    finally:
        c2.close()
    (item,) = [i for i in portal.status(ctx) if i.kind == "device-batch"]
    assert item.state == "submitted" and item.result is None
    assert "dNEVERSENT" in (item.last_error or "")
    col = cli_run("devices", "collect", "--json")
    assert col.code == 0 and col.json()["collected"] == []
    rows = cli_run("devices", "rows", "--json").json()["rows"]
    assert {r["status"] for r in rows} == {"pending"}
