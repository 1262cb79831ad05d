"""The ADT records of one environment, typed: signed files (ADT and quarantine Action files),
SRO confirmations, delivery packages; and the look-ups the signing rules need (whether a key
belongs to an Organisation CSR or certificate, the portal endpoints' trust anchors, and the
other environment's anchors read only to name a foreign signature)."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from smki_desktop.store.db import Database
from smki_desktop.store.repos.crossing import _readonly


@dataclass(frozen=True)
class SignedFileRow:
    """One signing of a file (`adt_files`); `file_id` is 0 before it is stored."""

    environment: str
    kind: str
    name: str
    path: str
    sha256: str
    size: int
    profile: str
    smsr_reference: str
    key_id: str
    signer_subject: str
    signer_issuer: str
    signer_serial: str
    signed_at: str
    signature_path: str
    signature_sha256: str
    manifest_path: str
    manifest_sha256: str
    audit_seq: int | None
    file_id: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The row as the table's columns (`id` for `file_id`)."""
        d = asdict(self)
        d["id"] = d.pop("file_id")
        return d


@dataclass(frozen=True)
class ConfirmationRow:
    """One SRO confirmation (`adt_confirmations`)."""

    environment: str
    adt_sha256: str
    decision: str
    resubmitter: str
    sro: str
    confirmed_at: str
    document_path: str
    document_sha256: str
    signature_path: str
    signature_sha256: str
    key_id: str
    audit_seq: int | None


@dataclass(frozen=True)
class DeliveryRow:
    """One delivery package (`adt_deliveries`); `delivery_id` is 0 before it is stored."""

    environment: str
    file_sha256: str
    package_path: str
    package_sha256: str
    created: str
    audit_seq: int | None
    sent_to: str = ""
    remote_ref: str = ""
    delivery_id: int = 0


_FILE_COLS = ("environment", "kind", "name", "path", "sha256", "size", "profile",
              "smsr_reference", "key_id", "signer_subject", "signer_issuer", "signer_serial",
              "signed_at", "signature_path", "signature_sha256", "manifest_path",
              "manifest_sha256", "audit_seq")
_CONF_COLS = ("environment", "adt_sha256", "decision", "resubmitter", "sro", "confirmed_at",
              "document_path", "document_sha256", "signature_path", "signature_sha256",
              "key_id", "audit_seq")
_DELIVERY_COLS = ("environment", "file_sha256", "package_path", "package_sha256", "created",
                  "audit_seq", "sent_to", "remote_ref")


def _insert(table: str, cols: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table}({', '.join(cols)}) VALUES "
            f"({', '.join('?' for _ in cols)}) RETURNING id")


def _file(r: sqlite3.Row) -> SignedFileRow:
    return SignedFileRow(**{c: r[c] for c in _FILE_COLS}, file_id=int(r["id"]))


def _confirmation(r: sqlite3.Row) -> ConfirmationRow:
    return ConfirmationRow(**{c: r[c] for c in _CONF_COLS})


def _delivery(r: sqlite3.Row) -> DeliveryRow:
    return DeliveryRow(**{c: r[c] for c in _DELIVERY_COLS}, delivery_id=int(r["id"]))


# -- signed files ---------------------------------------------------------------------------


def add_signed_file(db: Database, row: SignedFileRow) -> int:
    """Store a signing; returns its id."""
    with db.transaction() as c:
        got = c.execute(_insert("adt_files", _FILE_COLS),
                        tuple(getattr(row, col) for col in _FILE_COLS)).fetchone()
    return int(got[0])


def signed_files(db: Database, env: str, kind: str | None = None) -> list[SignedFileRow]:
    """This environment's signings, newest first (of one kind when `kind` is given)."""
    sql = f"SELECT id, {', '.join(_FILE_COLS)} FROM adt_files WHERE environment=?"
    params: list[Any] = [env]
    if kind:
        sql += " AND kind=?"
        params.append(kind)
    return [_file(r) for r in db.conn().execute(sql + " ORDER BY id DESC", params)]


def files_with_sha(db: Database, env: str, sha256: str) -> list[SignedFileRow]:
    """The signings of the file with this SHA-256, oldest first."""
    return [_file(r) for r in db.conn().execute(
        f"SELECT id, {', '.join(_FILE_COLS)} FROM adt_files WHERE environment=? AND sha256=? "
        "ORDER BY id", (env, sha256))]


# -- SRO confirmations ----------------------------------------------------------------------


def add_confirmation(db: Database, row: ConfirmationRow) -> int:
    with db.transaction() as c:
        got = c.execute(_insert("adt_confirmations", _CONF_COLS),
                        tuple(getattr(row, col) for col in _CONF_COLS)).fetchone()
    return int(got[0])


def confirmations_of(db: Database, env: str, adt_sha256: str) -> list[ConfirmationRow]:
    """The SRO confirmations about the ADT file with this SHA-256, oldest first."""
    return [_confirmation(r) for r in db.conn().execute(
        f"SELECT id, {', '.join(_CONF_COLS)} FROM adt_confirmations WHERE environment=? "
        "AND adt_sha256=? ORDER BY id", (env, adt_sha256))]


# -- delivery packages ----------------------------------------------------------------------


def add_delivery(db: Database, row: DeliveryRow) -> int:
    """Store a delivery package; returns its id."""
    with db.transaction() as c:
        got = c.execute(_insert("adt_deliveries", _DELIVERY_COLS),
                        tuple(getattr(row, col) for col in _DELIVERY_COLS)).fetchone()
    return int(got[0])


def set_delivery_sent(db: Database, delivery_id: int, sent_to: str, remote_ref: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE adt_deliveries SET sent_to=?, remote_ref=? WHERE id=?",
                  (sent_to, remote_ref, delivery_id))


def deliveries_of(db: Database, env: str, file_sha256: str) -> list[DeliveryRow]:
    """The delivery packages of the file with this SHA-256, oldest first."""
    return [_delivery(r) for r in db.conn().execute(
        f"SELECT id, {', '.join(_DELIVERY_COLS)} FROM adt_deliveries WHERE environment=? "
        "AND file_sha256=? ORDER BY id", (env, file_sha256))]


# -- look-ups for the signing rules ---------------------------------------------------------


def organisation_use(db: Database, key_id: str) -> str:
    """What ties this key to an Organisation Certificate ("an Organisation CSR" or "an
    Organisation Certificate"), or '' when nothing does."""
    c = db.conn()
    for table, what in (("csr_requests", "an Organisation CSR"),
                        ("certificates", "an Organisation Certificate")):
        if c.execute(f"SELECT 1 FROM {table} WHERE key_id=? AND family='organisation'",
                     (key_id,)).fetchone():
            return what
    return ""


def endpoint_anchor_blobs(db: Database, env: str) -> list[bytes]:
    """The trust anchor (PEM or DER, as stored) of each portal endpoint of `env`."""
    return [bytes(r["trust_anchor"]) for r in db.conn().execute(
        "SELECT trust_anchor FROM portal_endpoints WHERE environment=?", (env,))
        if r["trust_anchor"] is not None]


def anchor_blobs_elsewhere(path: Path, env: str) -> list[tuple[bytes, bool]]:
    """Read-only, in ANOTHER environment's database at `path`: its trust anchors (from the
    certificate store, False) and its portal endpoints' anchors (True: keep only CA
    certificates of those). Empty when that database is absent or unreadable."""
    found: list[tuple[bytes, bool]] = []
    with _readonly(path) as con:
        if con is None:
            return found
        for sql, ca_only in (("SELECT der FROM trust_anchors WHERE environment=?", False),
                             ("SELECT trust_anchor FROM portal_endpoints WHERE environment=?",
                              True)):
            try:
                found += [(bytes(blob), ca_only) for (blob,) in con.execute(sql, (env,))
                          if blob is not None]
            except sqlite3.Error:
                continue
    return found
