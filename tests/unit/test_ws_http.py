"""The web-service adapter's HTTP layer against a real loopback server (no mocks)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from smki_desktop.core.portal_ports import Throttled, Unreachable
from smki_desktop.core.ports import FixedClock
from smki_desktop.portal.ws_client import _Http


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Handler.hits.append(self.path)
        if self.path.startswith("/busy"):
            self.send_response(429)
            self.send_header("Retry-After", "30")
        else:
            self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.hits = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _http(url: str, clock: FixedClock | None = None) -> _Http:
    return _Http(url, ssl.create_default_context(), timeout=5, retries=2, backoff=0.0,
                 max_response=1000, clock=clock)


def test_429_retry_time_is_on_the_injected_clock(server: str) -> None:
    at = datetime(2031, 1, 15, 21, 0, tzinfo=UTC)  # far from the wall clock
    http = _http(server, FixedClock(at))
    try:
        with pytest.raises(Throttled) as got:
            http.request("GET", "/busy", None, None, lambda d: d, "test")
    finally:
        http.close()
    assert got.value.retry_at == at + timedelta(seconds=30)


def test_no_retry_makes_one_attempt(server: str) -> None:
    http = _http(server)
    try:
        with pytest.raises(Unreachable):
            http.request("GET", "/down", None, None, lambda d: d, "test", retry=False)
        assert _Handler.hits == ["/down"]
        with pytest.raises(Unreachable):
            http.request("GET", "/down2", None, None, lambda d: d, "test")
        assert _Handler.hits[1:] == ["/down2"] * 3  # idempotent calls keep their retries
    finally:
        http.close()
