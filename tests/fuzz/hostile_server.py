"""A hostile HTTPS server on loopback, for the portal client's fuzzing: every request gets the
next reply from a script (a status with headers and body, or a raw byte stream, or a dropped
connection). Its certificate is self-signed; the client pins it as the trust anchor, as it
pins the DCC's. Bounded: daemon threads, socket timeouts, stopped by the fixture.

`script` (replies taken in turn, then `reply`) plays a conversation: a reply with
`keep_alive` leaves the connection open for the next request (as a pooled connection is
reused), `drip` sends its bytes one at a time, `drop` closes the connection after reading the
request without answering (the request was sent; its answer is lost). Every request's first
line and body are kept in `seen`."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Reply:
    """One answer: `raw` bytes sent as they are (then the connection closes), or an HTTP
    status line with headers and body."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_length: int | None = None  # a lie, when set
    keep_alive: bool = False  # answer, then read the next request on the same connection
    drip: float = 0.0  # seconds between bytes (0: all at once)
    drip_limit: int | None = None  # stop dripping (and close) after so many bytes
    drop: bool = False  # read the request, then close without an answer


def self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile.localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cp, kp = folder / "server.pem", folder / "server.key"
    cp.write_bytes(pem)
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cp, kp, pem


def chained(folder: Path, *, expired: bool = False, host: str | None = None
            ) -> tuple[Path, Path, bytes]:
    """A server certificate under a test root (the anchor a client pins): `expired` (valid
    until yesterday) or for `host` (a DNS name, not 127.0.0.1), as the review's mkcerts.py
    made them."""
    now = datetime.now(UTC)
    ck = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hostile Test Root")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(ck.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(days=10)).not_valid_after(now + timedelta(days=100))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), True)
            .sign(ck, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    san: list[x509.GeneralName] = ([x509.DNSName(host)] if host
                                   else [x509.IPAddress(IPv4Address("127.0.0.1"))])
    nb, na = ((now - timedelta(days=9), now - timedelta(days=1)) if expired
              else (now - timedelta(days=1), now + timedelta(days=9)))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "srv")]))
            .issuer_name(root_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.SubjectAlternativeName(san), False).sign(ck, hashes.SHA256()))
    cp, kp = folder / "chained.pem", folder / "chained.key"
    cp.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cp, kp, root.public_bytes(serialization.Encoding.PEM)


class HostileServer:
    def __init__(self, folder: Path, tls: tuple[Path, Path, bytes] | None = None) -> None:
        cert, key, self.anchor_pem = tls or self_signed(folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.reply = Reply()
        self.script: list[Reply] = []
        self.seen: list[tuple[str, bytes]] = []
        self.connections = 0
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.tls.wrap_socket(conn, server_side=True) as s:
                self.connections += 1
                while True:
                    got = self._read_request(s)
                    if got is None:
                        return
                    self.seen.append(got)
                    self.requests += 1
                    r = self.script.pop(0) if self.script else self.reply
                    if r.drop:
                        return
                    if not self._answer(s, r) or not r.keep_alive:
                        return
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _answer(self, s: ssl.SSLSocket, r: Reply) -> bool:
        """Send `r`; False when the connection is to close (a raw or cut-short reply)."""
        if r.raw is not None:
            data = r.raw
        else:
            length = len(r.body) if r.content_length is None else r.content_length
            head = [f"HTTP/1.1 {r.status} X", f"Content-Length: {length}",
                    *(() if r.keep_alive else ("Connection: close",)),
                    *(f"{k}: {v}" for k, v in r.headers.items())]
            data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + r.body
        if not r.drip:
            s.sendall(data)
            return r.raw is None
        for i, byte in enumerate(data):
            if self._stop.is_set() or (r.drip_limit is not None and i >= r.drip_limit):
                return False
            time.sleep(r.drip)
            s.sendall(bytes([byte]))
        return r.raw is None

    @staticmethod
    def _read_request(s: ssl.SSLSocket) -> tuple[str, bytes] | None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return None
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        want = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                want = int(line.split(b":", 1)[1])
        while len(rest) < want:
            chunk = s.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return head.split(b"\r\n")[0].decode("latin-1"), rest

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)


@contextmanager
def hostile_server(folder: Path, tls: tuple[Path, Path, bytes] | None = None
                   ) -> Iterator[HostileServer]:
    srv = HostileServer(folder, tls)
    try:
        yield srv
    finally:
        srv.stop()
