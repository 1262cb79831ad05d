"""The simulator's persistent state: one SQLite file (WAL) in its state folder, plus the CA keys.

Everything the simulated DCC knows survives a restart: its hierarchy, issued certificates (the
repository), batches and their items, Organisation CSR requests, ad hoc replies, revocations,
enrolled credentials and API keys, and a log of every submission received (new or replay), which
is how tests prove that no client reference was ever submitted twice.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.simulator.ca import CaEntry, Hierarchy

SCHEMA = """
CREATE TABLE IF NOT EXISTS ca (name TEXT PRIMARY KEY, cert BLOB NOT NULL, key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY, kind TEXT NOT NULL, der BLOB NOT NULL, subject_eui TEXT,
    role TEXT, usage TEXT, device_eui TEXT, status TEXT NOT NULL, issued_at TEXT NOT NULL,
    revoked_at TEXT, owner TEXT);
CREATE INDEX IF NOT EXISTS cert_subject ON certificates(subject_eui);
CREATE INDEX IF NOT EXISTS cert_device ON certificates(device_eui);
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, client_ref TEXT NOT NULL,
    submitted_at TEXT NOT NULL, status TEXT NOT NULL, error_code TEXT, csr_count INTEGER NOT NULL,
    UNIQUE (owner, client_ref));
CREATE TABLE IF NOT EXISTS batch_items (
    batch_id INTEGER NOT NULL, csr_id TEXT NOT NULL, csr BLOB NOT NULL, status TEXT,
    error_code TEXT, serial TEXT, PRIMARY KEY (batch_id, csr_id));
CREATE TABLE IF NOT EXISTS replies (
    owner TEXT NOT NULL, kind TEXT NOT NULL, client_ref TEXT NOT NULL, body BLOB NOT NULL,
    created TEXT NOT NULL, PRIMARY KEY (owner, kind, client_ref));
CREATE TABLE IF NOT EXISTS org_requests (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, client_ref TEXT NOT NULL,
    csr BLOB, status TEXT NOT NULL, error_code TEXT, serial TEXT, submitted_at TEXT NOT NULL,
    UNIQUE (owner, client_ref));
CREATE TABLE IF NOT EXISTS submissions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, kind TEXT NOT NULL,
    client_ref TEXT NOT NULL, outcome TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (key TEXT PRIMARY KEY, owner TEXT NOT NULL,
    created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS portal_uploads (
    request_id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, client_ref TEXT NOT NULL,
    report BLOB NOT NULL, response_zip BLOB NOT NULL, uploaded_at TEXT NOT NULL,
    UNIQUE (owner, client_ref));
CREATE TABLE IF NOT EXISTS adt_uploads (
    reference INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, name TEXT NOT NULL,
    sha256 TEXT NOT NULL, body BLOB NOT NULL, received TEXT NOT NULL, UNIQUE (owner, sha256));
CREATE TABLE IF NOT EXISTS crl_numbers (n INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL);
"""


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class SimState:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.db_path = state_dir / "simulator.sqlite"
        self._local = threading.local()
        self.write_lock = threading.Lock()
        self.conn().executescript(SCHEMA)
        self.hierarchy = self._load_or_create_hierarchy()

    def conn(self) -> sqlite3.Connection:
        c: sqlite3.Connection | None = getattr(self._local, "c", None)
        if c is None:
            c = sqlite3.connect(self.db_path, timeout=30, isolation_level=None,
                                check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=FULL")
            c.row_factory = sqlite3.Row
            self._local.c = c
        return c

    def meta(self, name: str, default: str | None = None) -> str | None:
        r = self.conn().execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return r["value"] if r else default

    def set_meta(self, name: str, value: str) -> None:
        self.conn().execute("INSERT INTO meta(name, value) VALUES(?, ?) ON CONFLICT(name) "
                            "DO UPDATE SET value=excluded.value", (name, value))

    def _load_or_create_hierarchy(self) -> Hierarchy:
        rows = {r["name"]: r for r in self.conn().execute("SELECT * FROM ca")}
        if len(rows) == 4:
            def e(n: str) -> CaEntry:
                key = serialization.load_der_private_key(bytes(rows[n]["key"]), None)
                return CaEntry(n, x509.load_der_x509_certificate(bytes(rows[n]["cert"])),
                               key)  # type: ignore[arg-type]
            return Hierarchy(e("root"), e("org"), e("device"), e("iki"))
        h = Hierarchy.generate(datetime.now(UTC))
        c = self.conn()
        c.execute("BEGIN IMMEDIATE")
        for entry in h.entries():
            c.execute("INSERT INTO ca(name, cert, key) VALUES (?,?,?)", (
                entry.name, entry.certificate.public_bytes(serialization.Encoding.DER),
                entry.key.private_bytes(serialization.Encoding.DER,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())))
        for name in ("enrolment_token", "control_token"):
            c.execute("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)",
                      (name, secrets.token_urlsafe(24)))
        c.execute("COMMIT")
        return h

    def write_public_files(self, info: dict[str, object]) -> None:
        """Files the app reads out of band: the trust anchor and the endpoint description
        (ports, and the enrolment/control tokens, readable only by this user)."""
        pem = self.hierarchy.root.certificate.public_bytes(serialization.Encoding.PEM)
        atomic_write(self.dir / "trust-anchor.pem", pem, 0o644)
        chain = b"".join(e.certificate.public_bytes(serialization.Encoding.PEM)
                         for e in self.hierarchy.entries())
        atomic_write(self.dir / "ca-chain.pem", chain, 0o644)
        info = dict(info, enrolment_token=self.meta("enrolment_token"),
                    control_token=self.meta("control_token"), pid=os.getpid())
        atomic_write(self.dir / "endpoint.json", json.dumps(info, indent=2).encode())
