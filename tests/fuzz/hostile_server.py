"""A hostile HTTPS server on loopback, for the portal client's fuzzing: every request gets the
next reply from a script (a status with headers and body, or a raw byte stream, or a dropped
connection). Its certificate is self-signed; the client pins it as the trust anchor, as it
pins the DCC's. Bounded: daemon threads, socket timeouts, stopped by the fixture."""

from __future__ import annotations

import socket
import ssl
import threading
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


class HostileServer:
    def __init__(self, folder: Path) -> None:
        cert, key, self.anchor_pem = self_signed(folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.reply = Reply()
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
                self._read_request(s)
                self.requests += 1
                r = self.reply
                if r.raw is not None:
                    s.sendall(r.raw)
                    return
                length = len(r.body) if r.content_length is None else r.content_length
                head = [f"HTTP/1.1 {r.status} X", f"Content-Length: {length}",
                        "Connection: close", *(f"{k}: {v}" for k, v in r.headers.items())]
                s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + r.body)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    @staticmethod
    def _read_request(s: ssl.SSLSocket) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        want = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                want = int(line.split(b":", 1)[1])
        while len(rest) < want:
            chunk = s.recv(65536)
            if not chunk:
                return
            rest += chunk

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)


@contextmanager
def hostile_server(folder: Path) -> Iterator[HostileServer]:
    srv = HostileServer(folder)
    try:
        yield srv
    finally:
        srv.stop()
