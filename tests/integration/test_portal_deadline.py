"""Issue 12's portal holes, each against a real peer on loopback: a total deadline for every
call (a local HTTPS server that sends its headers then drips one byte at a time, and the
simulator's `delay` fault, both end in "timed out" within the configured deadline); a reply
declaring an unknown XML encoding and a 429 with an absurd Retry-After end in clear messages;
`smki portal send` exits 1 when every send failed."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from smki_desktop.core import ws_xml as W
from smki_desktop.core.portal_ports import MalformedAnswer, Throttled, Unreachable
from smki_desktop.portal.ws_client import Endpoint, WsRepository, retry_after_seconds
from smki_desktop.services import portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


class _Drip:
    """A real HTTPS server (the simulator's server certificate) that answers every request
    with its headers and then one byte every `interval` seconds, at most `max_bytes` bytes."""

    def __init__(self, state_dir: Path, interval: float, max_bytes: int = 60,
                 slow_headers: bool = False) -> None:
        self.slow_headers = slow_headers
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(state_dir / "tls-server.pem", state_dir / "tls-server.key")
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.interval, self.max_bytes = interval, max_bytes
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(raw,), daemon=True).start()

    def _one(self, raw: socket.socket) -> None:
        try:
            with self.ctx.wrap_socket(raw, server_side=True) as s:
                s.settimeout(5)
                s.recv(65536)
                head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                        b"X-Padding: " + b"a" * 200 + b"\r\nContent-Length: 100000\r\n\r\n")
                if not self.slow_headers:
                    s.sendall(head)
                drip = list(head) if self.slow_headers else [32] * self.max_bytes
                for byte in drip[:self.max_bytes]:  # bounded: the test never hangs
                    if self.stop.wait(self.interval):
                        break
                    s.sendall(bytes([byte]))
        except OSError:
            pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def drip(sim) -> Iterator[_Drip]:  # type: ignore[no-untyped-def]
    d = _Drip(sim.state_dir, interval=0.3)
    yield d
    d.close()


def test_slow_drip_ends_in_timed_out_within_the_deadline(sim, drip) -> None:  # type: ignore[no-untyped-def]
    repo = WsRepository(Endpoint("https://127.0.0.1:1", f"https://127.0.0.1:{drip.port}",
                                 sim.trust_anchor_pem), "drip-key-123456", deadline=1.5,
                        timeout=30.0)
    t0 = time.monotonic()
    try:
        with pytest.raises(Unreachable, match="timed out") as err:
            repo.search(subject_eui="90B3D51F30010000")
    finally:
        repo.close()
    took = time.monotonic() - t0
    assert took < 2.5, took  # before: the 30 s timeout applied to each read, never ending
    assert "deadline of 1.5 s" in err.value.message
    assert "drip-key-123456" not in err.value.message


def test_headers_dripped_one_byte_at_a_time_end_in_timed_out(sim) -> None:  # type: ignore[no-untyped-def]
    d = _Drip(sim.state_dir, interval=0.2, slow_headers=True)
    repo = WsRepository(Endpoint("https://127.0.0.1:1", f"https://127.0.0.1:{d.port}",
                                 sim.trust_anchor_pem), "drip-key-123456", deadline=1.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(Unreachable, match="timed out"):
            repo.fetch("0A1B")
    finally:
        repo.close()
        d.close()
    assert time.monotonic() - t0 < 2.5


def test_slow_drip_through_smki_repo_search(ctx, sim, drip, cli_run) -> None:  # type: ignore[no-untyped-def]
    portal.set_endpoint(ctx, sim.portal_url, f"https://127.0.0.1:{drip.port}",
                        sim.trust_anchor_pem)
    portal.set_portal_setting(ctx, portal.DEADLINE_SETTING, "2")
    t0 = time.monotonic()
    res = cli_run("repo", "search", "--eui", "90-B3-D5-1F-30-01-00-00")
    took = time.monotonic() - t0
    assert res.code != 0 and "timed out" in res.err and "Traceback" not in res.err
    assert took < 4.0, took


def test_simulator_delay_fault_ends_in_timed_out_and_send_exits_1(ctx, sim, cli_run) -> None:  # type: ignore[no-untyped-def]
    portal.set_portal_setting(ctx, portal.DEADLINE_SETTING, "1.5")
    simulator_control.control(sim, "/_control/faults", {
        "kind": "delay", "count": 5, "seconds": 8, "path": W.BATCH_SUBMIT_PATH})
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456720000))
    t0 = time.monotonic()
    res = cli_run("portal", "send")
    took = time.monotonic() - t0
    assert res.code == 1, (res.out, res.err)  # before: 0 although nothing was sent
    assert "timed out" in res.err and "Every send failed" in res.err
    assert took < 4.0, took  # before: the delay held `portal send` for its whole length
    after = portal.outbox(ctx).get(item.ref)
    assert after.state == "queued" and "timed out" in (after.last_error or "")
    simulator_control.control(sim, "/_control/faults", {"clear": True})


def test_deadline_setting_is_checked(ctx) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.errors import InputError

    for bad in ("0", "-5", "nan", "inf", "soon", "1e9"):
        with pytest.raises(InputError, match="portal.deadline"):
            portal.set_portal_setting(ctx, portal.DEADLINE_SETTING, bad)
    assert portal.deadline(ctx) == 60.0


# ------------------------------------------------------------------------------ answers
class _Fixed(BaseHTTPRequestHandler):
    """Plain-HTTP loopback peer answering every POST with the class's status/headers/body."""

    status = 200
    headers_out: tuple[tuple[str, str], ...] = ()
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        for k, v in self.headers_out:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()
           ) -> tuple[ThreadingHTTPServer, str]:
    handler = type("H", (_Fixed,), {"status": status, "body": body, "headers_out": headers})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def _repo(url: str) -> WsRepository:
    return WsRepository(Endpoint("https://127.0.0.1:1", url, b""), "answer-key-1234",
                        retries=0, deadline=5)


def test_unknown_xml_encoding_in_a_reply_is_a_clear_error() -> None:
    srv, url = _serve(200, b'<?xml version="1.0" encoding="x-no-such-codec"?>'
                           b"<CertificateSearchResponse/>",
                      (("Content-Type", "application/xml"),))
    repo = _repo(url)
    try:
        with pytest.raises(MalformedAnswer, match="encoding") as err:
            repo.search(subject_eui="90B3D51F30010000")  # before: LookupError traceback
        assert err.value.exit_code == 2
    finally:
        repo.close()
        srv.shutdown()


@pytest.mark.parametrize("value", ["9" * 5000, "99999999999999999999", "-5", "soon",
                                   "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 "
                                   "00:00:00 GMT", "1e99", ""])
def test_absurd_retry_after_is_clamped(value: str) -> None:
    srv, url = _serve(429, b"", (("Retry-After", value),) if value else ())
    repo = _repo(url)
    before = datetime.now(UTC)
    try:
        with pytest.raises(Throttled) as err:  # before: OverflowError for the big ones
            repo.search(subject_eui="90B3D51F30010000")
    finally:
        repo.close()
        srv.shutdown()
    wait = err.value.retry_at - before
    assert timedelta(0) < wait <= timedelta(days=1, seconds=5)


def test_retry_after_forms() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Fri, 04 Dec 2026 12:05:00 GMT", now) == 300
    assert retry_after_seconds("0", now) == 1
    assert retry_after_seconds("1" * 40, now) == 24 * 3600
    assert retry_after_seconds("garbage", now) == 60
    assert retry_after_seconds("\u0661\u0662", now) == 60  # Arabic-Indic digits: not seconds


# ------------------------------------------------------------------------------ settings, HTTP
def test_endpoint_option_and_plain_http_repository(ctx, sim, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert cli_run("portal", "endpoint", "option", "portal.deadline", "12").code == 0
    shown = cli_run("portal", "endpoint", "option", "--json").json()
    assert shown == {"portal.deadline": 12.0,
                     "portal.adhoc_path": "/1.0/PortalCSR/DeviceCertificateSigningRequest"}
    bad = cli_run("portal", "endpoint", "option", "portal.adhoc_path", "no-slash")
    assert bad.code == 2 and "portal.adhoc_path" in bad.err
    anchor = tmp_path / "anchor.pem"
    anchor.write_bytes(sim.trust_anchor_pem)
    ok = cli_run("portal", "endpoint", "set", "--portal", sim.portal_url, "--repository",
                 "http://127.0.0.1:8083", "--anchor", str(anchor))
    assert ok.code == 0 and "plain HTTP" in ok.err  # Test: allowed, with a warning
    live = cli_run("portal", "endpoint", "set", "--portal", "https://dcc.example",
                   "--repository", "http://127.0.0.1:8083", "--anchor", str(anchor),
                   env="live")
    assert live.code == 1 and "only the Test environment" in live.err


def test_api_key_never_in_httpx_log_lines(caplog) -> None:  # type: ignore[no-untyped-def]
    import logging

    srv, url = _serve(402, b"")
    repo = _repo(url)
    try:
        with caplog.at_level(logging.DEBUG):
            assert repo.search(device_eui="00DB123456780001") == []  # 402: no certificate
    finally:
        repo.close()
        srv.shutdown()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "certificatesearch" in text  # httpx did log the call ...
    assert "answer-key-1234" not in text and "apikey=***" in text  # ... without the key


def test_repository_401_is_a_clear_input_error_and_402_is_no_certificate() -> None:
    from smki_desktop.portal.ws_client import RepositoryInputError

    srv, url = _serve(401, b"")
    repo = _repo(url)
    try:
        with pytest.raises(RepositoryInputError, match="invalid") as err:
            repo.fetch("0A1B")
        assert err.value.exit_code == 2 and "answer-key-1234" not in err.value.message
    finally:
        repo.close()
        srv.shutdown()
    srv, url = _serve(402, b"")
    repo = _repo(url)
    try:
        assert repo.fetch("0A1B") is None
        assert repo.search(subject_eui="90B3D51F30010000", role="02") == []
    finally:
        repo.close()
        srv.shutdown()


@pytest.mark.parametrize("name,code", [("max-batch-size", "FM:AA2"),
                                       ("incorrect-xml", "FM:AA1"),
                                       ("workflow-error", "WF:BB2")])
def test_appm_batch_refusals_are_rejections_naming_the_dccs_code(name: str, code: str) -> None:
    from smki_desktop.core.portal_ports import Rejected
    from smki_desktop.portal.ws_client import WsPortal
    from tests.unit.test_appm_schemas import APPM_BATCH_STATUS

    srv, url = _serve(200, APPM_BATCH_STATUS[name], (("Content-Type", "application/xml"),))
    p = WsPortal(Endpoint(url, url, b""), None, retries=0, deadline=5)
    try:
        with pytest.raises(Rejected) as err:
            p.submit_device_batch("b1999", [("ID0", b"\x30\x00")])
        assert err.value.dcc_code == code and code in err.value.message
    finally:
        p.close()
        srv.shutdown()
