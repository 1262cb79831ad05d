"""The simulator's HTTPS front: two loopback listeners on stdlib `ThreadingHTTPServer` + `ssl`.

- The **portal** port requires mutual TLS (CERT_REQUIRED) with a client certificate issued by the
  simulator's IKI CA (partial-chain trust anchored at that CA only): without one, no HTTP answer
  is ever given. It serves the DCC's web services at SEC Appendix M's paths
  (`/1.0/PortalCSRBatch/...`, the ad hoc one at `ws_xml.ADHOC_PATH`) and the browser portal's
  forms (`/portal/...`).
- The **public** port is server-authenticated TLS only, like the DCC's repository service: the
  repository as DCC Boxed serves it (`/services/certificatesearch`,
  `/services/retrievecertificate`, `?apikey=`), our CRL call (`/repository/crl`), the RAPP 5.4
  enrolment endpoint (`/enrol/...`, the out-of-band enrolment token) and the test control
  endpoint (`/_control/...`, control token: faults, clock, counts).

Requests over the size cap are refused from their Content-Length before any body is read.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ws_forms as WF
from smki_desktop.core import ws_xml as W
from smki_desktop.core.errors import SmkiError
from smki_desktop.simulator import ca as CA
from smki_desktop.simulator import dcc, dual_control, uploads
from smki_desktop.simulator.state import SimState, atomic_write

MAX_BODY = W.MAX_MESSAGE_BYTES
#: The API key DCC Boxed accepts on a test network, which the DCC's own repository client
#: (@smartdcc/dccboxed-keystore) sends: accepted here because the simulator is a Test DCC.
DCC_BOXED_TEST_KEY = "u3bg9gt38htd0j2"
_APIKEY_IN_QUERY = re.compile(r"([?&]apikey=)[^&]*", re.IGNORECASE)
FAULT_KINDS = ("delay", "delay-after", "5xx", "drop", "drop-after", "malformed", "huge")


@dataclass
class Fault:
    kind: str
    count: int
    seconds: float = 0.0
    path: str = "/"


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Fault] = []

    def add(self, f: Fault) -> None:
        if f.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {f.kind!r}: use one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            self._items.append(f)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for f in self._items:
                if path.startswith(f.path) and f.count > 0:
                    f.count -= 1
                    if f.count == 0:
                        self._items.remove(f)
                    return f
        return None


class TlsServer(ThreadingHTTPServer):
    """Accepts plain sockets and does the TLS handshake in the request's own thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], tls: ssl.SSLContext, sim: Simulator,
                 mtls: bool) -> None:
        super().__init__(addr, Handler)
        self.tls = tls
        self.sim = sim
        self.mtls = mtls

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            request.settimeout(30)
            tls_sock = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            try:
                request.close()
            finally:
                return  # noqa: B012 - a refused handshake ends here, silently
        super().process_request_thread(tls_sock, client_address)


Answer = tuple[int, bytes, str] | None

MAX_FORM_PARTS = 8
UPLOAD_FORM = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>SMKI Portal (simulator): Device CSR batch upload</title>
</head><body><h1>Device CSR batch upload</h1>
<form method="post" action="/portal/batch-upload" enctype="multipart/form-data">
<p><label>Batch zip (*.csr at its root, at most 50,000) <input type="file" name="file"
 accept=".zip" required></label></p>
<p><label>Manifest, for a batch split into parts (optional) <input type="file"
 name="manifest" accept=".json"></label></p>
<p><button type="submit">Upload</button></p>
</form></body></html>
"""


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data (RFC 7578) -> {field name: (file name or None, bytes)}. Raises
    ValueError naming what is wrong; at most `MAX_FORM_PARTS` parts, a field named once."""
    from email.message import Message

    head = Message()
    head["Content-Type"] = content_type
    boundary = head.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise ValueError("no multipart boundary in Content-Type")
    delim = b"--" + boundary.encode("latin-1")
    chunks = body.split(b"\r\n" + delim)
    if not chunks[0].startswith(delim):
        raise ValueError("the body does not start with the boundary")
    chunks[0] = chunks[0][len(delim):]
    if not chunks[-1].startswith(b"--"):
        raise ValueError("the closing boundary is missing")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for chunk in chunks[:-1]:
        if not chunk.startswith(b"\r\n"):
            raise ValueError("a part does not follow its boundary with a line end")
        raw_head, sep, content = chunk[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part has no blank line after its headers")
        part = Message()
        for line in raw_head.decode("utf-8", "replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                part[key.strip()] = value.strip()
        if part.get_content_disposition() != "form-data":
            raise ValueError("a part is not form-data")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise ValueError("a part has no field name")
        if name in fields:
            raise ValueError(f"the field {name!r} appears twice")
        filename = part.get_filename()
        fields[name] = (filename, content)
        if len(fields) > MAX_FORM_PARTS:
            raise ValueError(f"more than {MAX_FORM_PARTS} fields")
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: TlsServer
    server_version = "SMKI-Simulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sim.verbose:
            super().log_message(format, *args)

    # -------------------------------------------------------------------- plumbing
    _extra_headers: tuple[tuple[str, str], ...] = ()

    def _send(self, code: int, body: bytes, ctype: str = "application/xml") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        for name, value in self._extra_headers:
            self.send_header(name, value)
        self._extra_headers = ()
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, http: int, code: str, message: str) -> None:
        self._send(http, W.ErrorResponse(code, message).build())

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._error(411, "RQ:Length", "A Content-Length header is required.")
            return None
        n = int(length)
        if n > MAX_BODY:
            self.close_connection = True
            self._error(413, "RQ:TooBig", f"A body of {n:,} bytes exceeds the limit of "
                                          f"{MAX_BODY:,} bytes.")
            self._linger()
            return None
        return self.rfile.read(n)

    def _linger(self, seconds: float = 1.0, cap: int = 16 << 20) -> None:
        """After refusing a body without reading it, drop what the client is still sending for
        a moment before closing: closing with unread data resets the connection, and the
        client may lose the refusal it has not read yet (seen as an SSL EOF under load)."""
        with contextlib.suppress(OSError, ValueError):
            self.wfile.flush()
            self.connection.settimeout(0.25)
            deadline, got = time.monotonic() + seconds, 0
            while got < cap and time.monotonic() < deadline:
                chunk = self.connection.recv(1 << 16)
                if not chunk:
                    break
                got += len(chunk)

    def _owner(self) -> str:
        der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # -------------------------------------------------------------------- routing
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        sim = self.server.sim
        sim.last_request = time.monotonic()
        body = b""
        if method == "POST":
            got = self._body()
            if got is None:
                return
            body = got
        fault = None if url.path.startswith("/_control") else sim.faults.take(url.path)
        if not url.path.startswith("/_control"):
            sim.log_request(method, self.path, fault.kind if fault is not None else None)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "5xx":
                self._error(503, "SV:Busy", "Injected fault: service unavailable.")
                return
            elif fault.kind == "drop":
                self._drop()
                return
            elif fault.kind == "malformed":
                self._send(200, b"<CSRBatchResult><BatchId>1</BatchId><Oops")
                return
            elif fault.kind == "huge":
                self._huge()
                return
        routes = self.PORTAL if self.server.mtls else self.PUBLIC
        fn = routes.get((method, url.path))
        if fn is None:
            self._error(404, "RQ:NoRoute", f"No endpoint {method} {url.path}.")
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            answer = fn(self, body, query)
        except W.XmlMessageError as exc:
            self._error(400, "RQ:BadXML", exc.message[:500])
            return
        if answer is None:
            return
        code, payload, ctype = answer
        if fault is not None and fault.kind == "delay-after":
            time.sleep(fault.seconds)  # processed and committed; the answer is late
        if fault is not None and fault.kind == "drop-after":
            self._drop()  # processed and committed, but the client never hears
            return
        self._send(code, payload, ctype)

    def _huge(self) -> None:
        size = 100 * 1024 * 1024
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b" " * (1024 * 1024)
        try:
            self.wfile.write(b"<CSRBatchResult>")
            for _ in range(100):
                self.wfile.write(chunk)
        except OSError:
            pass
        self.close_connection = True

    def r_submit_batch(self, body: bytes, q: dict[str, str]) -> Answer:
        """AppM Appendix C; a request it cannot accept is answered 200 FORMAT_ERROR."""
        try:
            msg = W.SubmitCSRBatch.parse(body)
        except W.XmlMessageError as exc:
            return 200, dcc.batch_format_error(exc), "application/xml"
        return 200, dcc.submit_batch(self.server.sim.state, self._owner(), msg), \
            "application/xml"

    def r_batch_result(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, dcc.batch_result(self.server.sim.state, self._owner(),
                                     q.get("BatchId", ""), process=False), "application/xml"

    def r_adhoc(self, body: bytes, q: dict[str, str]) -> Answer:
        der = self.connection.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        ous = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(
            x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
        if not ous or ous[0].value != "02":  # only (Import/Gas) Suppliers use ad hoc
            self._error(400, "AH:Role", "Ad hoc Device CSRs are for Suppliers (role 02) only.")
            return None
        try:
            msg = W.DeviceCertificateSigningRequest.parse(body)
        except W.XmlMessageError as exc:  # AppM Appendix A: 200 FORMAT_ERROR, no ID
            return 200, dcc.adhoc_format_error(exc), "application/xml"
        return 200, dcc.adhoc(self.server.sim.state, self._owner(), msg), "application/xml"

    def r_org_submit(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, dcc.submit_org(self.server.sim.state, self._owner(),
                                   WF.OrganisationCSRSubmission.parse(body)), "application/xml"

    def r_org_status(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, dcc.org_status(self.server.sim.state, self._owner(),
                                   q.get("RequestId", "")), "application/xml"

    def r_revoke(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, dcc.revoke(self.server.sim.state, self._owner(),
                               WF.RevocationRequest.parse(body)), "application/xml"

    def r_crl(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, dcc.crl(self.server.sim.state), "application/pkix-crl"

    def r_signed_revoke(self, body: bytes, q: dict[str, str]) -> Answer:
        st = self.server.sim.state
        answer = dual_control.signed_revocation(st, self._owner(), body, dcc._now(st))
        return 200, json.dumps(answer).encode(), "application/json"

    def r_iki_crl(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._require("X-API-Key", self._api_key_ok):
            return None
        st = self.server.sim.state
        return 200, dual_control.iki_crl(st, dcc._now(st)), "application/pkix-crl"

    def r_revoke_credential(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        st = self.server.sim.state
        done = dual_control.revoke_credential(st, str(json.loads(body or b"{}")["serial"]),
                                              dcc._now(st))
        return 200, json.dumps({"revoked": done}).encode(), "application/json"

    def r_officers(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        st = self.server.sim.state
        doc = json.loads(body or b"{}")
        if "log" in doc:  # the register's signed log: the simulator replays it itself
            problems = dual_control.feed_log(st, list(doc["log"]), dcc._now(st))
            return 200, json.dumps({"problems": problems}).encode(), "application/json"
        n = dual_control.feed_officers(st, list(doc.get("officers", [])), dcc._now(st))
        return 200, json.dumps({"officers": n}).encode(), "application/json"

    def r_upload(self, body: bytes, q: dict[str, str]) -> Answer:
        """The portal's Device CSR batch upload, as a browser sends it (multipart/form-data:
        `file` the zip, optional `manifest` the batch manifest, optional `reference`) or raw
        (`application/zip`, headers `X-Client-Reference`, `X-File-Name`). Without a
        reference the zip's SHA-256 is the reference: the same zip twice is one request."""
        import hashlib

        ctype = self.headers.get("Content-Type", "")
        manifest: bytes | None = None
        ref = self.headers.get("X-Client-Reference", "")
        if ctype.lower().startswith("multipart/form-data"):
            try:
                parts = parse_multipart(body, ctype)
            except ValueError as exc:
                self._error(400, "BU:Form", f"The upload form cannot be read: {exc}")
                return None
            if "file" not in parts:
                self._error(400, "BU:NoFile", "The upload form has no 'file' (the batch zip).")
                return None
            name, data = parts["file"]
            if "manifest" in parts:
                manifest = parts["manifest"][1]
            ref = ref or parts.get("reference", ("", b""))[1].decode("utf-8", "replace")
        else:
            name, data = self.headers.get("X-File-Name") or None, body
        if name is not None:
            name = name.replace("\\", "/").rsplit("/", 1)[-1] or None
        ref = ref or "sha256:" + hashlib.sha256(data).hexdigest()
        if len(ref) > 256:
            self._error(400, "RQ:NoRef", "The client reference is longer than 256 characters.")
            return None
        try:
            out = uploads.portal_batch_upload(self.server.sim.state, self._owner(), ref, data,
                                          zip_name=name, manifest=manifest)
        except uploads.UploadRefused as exc:
            self._error(exc.http, exc.code, exc.message[:1000])
            return None
        return 200, json.dumps(out.answer).encode(), "application/json"

    def r_upload_form(self, body: bytes, q: dict[str, str]) -> Answer:
        return 200, UPLOAD_FORM, "text/html; charset=utf-8"

    def r_adt(self, body: bytes, q: dict[str, str]) -> Answer:
        name = self.headers.get("X-File-Name", "")
        if not 1 <= len(name) <= 200 or "/" in name or "\\" in name:
            self._error(400, "AD:Name", "An X-File-Name header (a plain file name) is needed.")
            return None
        try:
            ref = uploads.adt_upload(self.server.sim.state, self._owner(), name, body)
        except SmkiError as exc:
            self._error(400, "AD:Verify", exc.message[:300])
            return None
        return 200, json.dumps({"reference": ref}).encode(), "application/json"

    def r_upload_response(self, body: bytes, q: dict[str, str]) -> Answer:
        from smki_desktop.core import batch_formats as bf

        part, rid = q.get("part", "report"), q.get("RequestId", "")
        if part not in ("report", "zip"):
            self._error(400, "BU:Part", "part is 'report' (the .txt) or 'zip' (the "
                                        "-response zip).")
            return None
        data = uploads.portal_batch_response(self.server.sim.state, self._owner(), rid, part)
        if data is None:
            self._error(404, "BU:Unknown", "No such batch upload for this client.")
            return None
        name = bf.report_name(rid) if part == "report" else bf.response_zip_name(rid)
        self._extra_headers = (("Content-Disposition", f'attachment; filename="{name}"'),)
        return 200, data, "text/plain; charset=utf-8" if part == "report" else \
            "application/zip"

    def _require(self, header: str, ok: Callable[[str], bool]) -> bool:
        value = self.headers.get(header, "")
        if not value or not ok(value):
            self._error(401, "AU:Denied", f"Missing or wrong {header}.")
            return False
        return True

    def _api_key_ok(self, key: str) -> bool:
        st = self.server.sim.state
        return st.conn().execute("SELECT 1 FROM api_keys WHERE key=?", (key,)).fetchone() \
            is not None

    def _repo_key_ok(self, q: dict[str, str]) -> bool:
        """The repository's `apikey` query parameter (as DCC Boxed takes it): a key this
        simulator issued, or DCC Boxed's well-known test key (the simulator is a Test DCC).
        A missing or unknown key: 403 (the DCC's answer is not published [inferred])."""
        key = q.get("apikey", "")
        if key and (key == DCC_BOXED_TEST_KEY or self._api_key_ok(key)):
            return True
        self._error(403, "AU:Denied", "Missing or unknown apikey.")
        return False

    def _repo_answer(self, body: bytes, parse: Callable[[bytes], Any],
                     run: Callable[[Any], bytes | None]) -> Answer:
        """402 when nothing is found, 401 when the request is invalid (DCC Boxed's codes)."""
        try:
            req = parse(body)
        except W.XmlMessageError as exc:
            return 401, W.ErrorResponse("RQ:Invalid", exc.message[:300]).build(), \
                "application/xml"
        out = run(req)
        if out is None:
            return 402, b"", "application/xml"
        return 200, out, "application/xml"

    def r_search(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._repo_key_ok(q):
            return None
        st = self.server.sim.state
        return self._repo_answer(body, W.CertificateSearchRequest.parse,
                                 lambda req: dcc.search(st, req))

    def r_retrieve(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._repo_key_ok(q):
            return None
        st = self.server.sim.state
        return self._repo_answer(body, W.CertificateDataRequest.parse,
                                 lambda req: dcc.retrieve(st, req))

    def r_repo_crl(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._require("X-API-Key", self._api_key_ok):
            return None
        return self.r_crl(body, q)

    def r_enrol(self, body: bytes, q: dict[str, str]) -> Answer:
        token = self.server.sim.state.meta("enrolment_token") or ""
        if not self._require("X-Enrolment-Token", lambda v: v == token):
            return None
        return 200, dcc.enrol(self.server.sim.state, WF.CredentialRequest.parse(body)), \
            "application/xml"

    def _control_ok(self) -> bool:
        token = self.server.sim.state.meta("control_token") or ""
        return self._require("X-Control-Token", lambda v: v == token)

    def r_faults(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        spec = json.loads(body or b"{}")
        if spec.get("clear"):
            self.server.sim.faults.clear()
        else:
            self.server.sim.faults.add(Fault(spec["kind"], int(spec.get("count", 1)),
                                             float(spec.get("seconds", 0)),
                                             spec.get("path", "/")))
        return 200, b"{}", "application/json"

    def r_config_get(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        st = self.server.sim.state
        cfg = {"batch_step": float(st.meta("batch_step", "2") or 2),
               "clock_offset": float(st.meta("clock_offset", "0") or 0),
               "respect_window": st.meta("respect_window", "0") in ("1", "True", "true")}
        return 200, json.dumps(cfg).encode(), "application/json"

    def r_config(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        spec = json.loads(body or b"{}")
        for name in ("batch_step", "clock_offset", "respect_window", "upload_max_bytes"):
            if name in spec:
                value = spec[name]
                if isinstance(value, bool):  # JSON true/false: stored as 1/0 like the CLI's
                    value = int(value)
                self.server.sim.state.set_meta(name, str(value))
        return 200, b"{}", "application/json"

    def r_submissions(self, body: bytes, q: dict[str, str]) -> Answer:
        if not self._control_ok():
            return None
        st = self.server.sim.state
        rows = [dict(r) for r in st.conn().execute(
            "SELECT owner, kind, client_ref, outcome, at FROM submissions ORDER BY seq")]
        batches = [dict(r) for r in st.conn().execute(
            "SELECT batch_id, owner, client_ref, status, csr_count FROM batches")]
        requests = self.server.sim.requests_logged()
        return 200, json.dumps({"submissions": rows, "batches": batches,
                                "requests": requests}).encode(), "application/json"

    PORTAL: ClassVar[dict[tuple[str, str], Callable[..., Answer]]] = {
        ("POST", W.BATCH_SUBMIT_PATH): r_submit_batch,  # AppM Appendix C
        ("GET", W.BATCH_RESULT_PATH): r_batch_result,  # AppM Appendix D
        ("POST", W.ADHOC_PATH): r_adhoc,  # AppM Appendix A; the path is the app's default
        ("POST", "/portal/organisation-csr"): r_org_submit,
        ("GET", "/portal/organisation-csr"): r_org_status,
        ("POST", "/portal/revocation"): r_revoke,
        ("GET", "/portal/crl"): r_crl,
        ("POST", "/portal/revocation/signed"): r_signed_revoke,
        ("POST", "/portal/batch-upload"): r_upload,
        ("GET", "/portal/batch-upload"): r_upload_form,
        ("POST", "/portal/adt-upload"): r_adt,
        ("GET", "/portal/batch-response"): r_upload_response,
    }
    PUBLIC: ClassVar[dict[tuple[str, str], Callable[..., Answer]]] = {
        ("POST", W.REPO_SEARCH_PATH): r_search,  # as DCC Boxed serves it
        ("POST", W.REPO_RETRIEVE_PATH): r_retrieve,
        ("GET", "/repository/crl"): r_repo_crl,
        ("POST", "/enrol/credential"): r_enrol,
        ("POST", "/_control/faults"): r_faults,
        ("POST", "/_control/config"): r_config,
        ("GET", "/_control/config"): r_config_get,
        ("GET", "/_control/submissions"): r_submissions,
        ("POST", "/_control/officers"): r_officers,
        ("POST", "/_control/revoke-credential"): r_revoke_credential,
        ("GET", "/repository/iki-crl"): r_iki_crl,
    }


class Simulator:
    """Both listeners over one state folder."""

    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", port: int = 0,
                 public_port: int = 0, batch_step: float | None = None,
                 verbose: bool = False) -> None:
        self.state = SimState(state_dir)
        self.faults = Faults()
        self.verbose = verbose
        if batch_step is not None:
            self.state.set_meta("batch_step", str(batch_step))
        cert_path, key_path = self._server_credential()
        portal_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        portal_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        portal_ctx.load_cert_chain(cert_path, key_path)
        portal_ctx.verify_mode = ssl.CERT_REQUIRED
        portal_ctx.load_verify_locations(cadata=self.state.hierarchy.iki_ca.certificate
                                         .public_bytes(serialization.Encoding.PEM).decode())
        portal_ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        public_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        public_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        public_ctx.load_cert_chain(cert_path, key_path)
        self.portal = TlsServer((host, port), portal_ctx, self, mtls=True)
        self.public = TlsServer((host, public_port), public_ctx, self, mtls=False)
        self.host = host
        self._stopping = threading.Event()
        self.last_request = time.monotonic()
        self._requests: list[dict[str, Any]] = []
        self._requests_lock = threading.Lock()

    def log_request(self, method: str, target: str, fault: str | None) -> None:
        """The request log (every call but the control calls, as it arrives, with the fault
        it met): tests check the client's spacing and retries against it."""
        from datetime import UTC, datetime

        with self._requests_lock:
            if len(self._requests) >= 20000:
                del self._requests[:10000]
            target = _APIKEY_IN_QUERY.sub(r"\1***", target)  # a log never holds a key
            self._requests.append({"method": method, "target": target, "fault": fault,
                                   "at": datetime.now(UTC).isoformat()})

    def requests_logged(self) -> list[dict[str, Any]]:
        with self._requests_lock:
            return list(self._requests)

    def _server_credential(self) -> tuple[Path, Path]:
        from datetime import UTC, datetime

        cert_path = self.state.dir / "tls-server.pem"
        key_path = self.state.dir / "tls-server.key"
        if not (cert_path.exists() and key_path.exists()):
            cert, key = CA.issue_tls_server(self.state.hierarchy.iki_ca, datetime.now(UTC))
            atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
            chain = cert.public_bytes(serialization.Encoding.PEM) + \
                self.state.hierarchy.iki_ca.certificate.public_bytes(serialization.Encoding.PEM)
            atomic_write(cert_path, chain, 0o644)
        return cert_path, key_path

    @property
    def info(self) -> dict[str, object]:
        pp, qp = self.portal.server_address[1], self.public.server_address[1]
        return {"host": self.host, "portal_port": pp, "public_port": qp,
                "portal_url": f"https://{self.host}:{pp}",
                "repository_url": f"https://{self.host}:{qp}"}

    def start(self) -> None:
        for srv in (self.portal, self.public):
            threading.Thread(target=srv.serve_forever, daemon=True).start()
        threading.Thread(target=self._worker, daemon=True).start()
        self.state.write_public_files(self.info)

    def _worker(self) -> None:
        """Moves batches along their statuses and issues their certificates, off the
        request threads."""
        import sys
        import traceback

        while not self._stopping.wait(0.1):
            try:
                dcc.advance_open_batches(self.state)
            except Exception:  # keep serving; the state is transactional
                traceback.print_exc(file=sys.stderr)

    def idle_for(self) -> float:
        """Seconds since the last request (0 while a batch is still being worked on)."""
        busy = self.state.conn().execute("SELECT 1 FROM batches WHERE status NOT IN "
                                         "('COMPLETED', 'REJECTED') LIMIT 1").fetchone()
        return 0.0 if busy else time.monotonic() - self.last_request

    def stop(self) -> None:
        self._stopping.set()
        for srv in (self.portal, self.public):
            srv.shutdown()
            srv.server_close()
