"""The officer register's rows: `officers` (one entry per nominated officer), the keys each
holds (`officer_credentials`) and the signed change log (`officer_log`), typed in and out.
The service (`services/officers.py`) keeps the rules; a standing is never read from the
`status` column here but replayed from the log."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.officers import Officer
from smki_desktop.store.db import Database
from smki_desktop.store.repos import keys as keys_repo
from smki_desktop.store.repos import nomination as nomination_repo


@dataclass(frozen=True)
class OfficerRow:
    officer_id: str
    environment: str
    role: str
    status: str
    name: str
    email: str
    organisation: str
    party_id: str
    job_title: str
    nominated_by: str | None
    nominator_name: str
    nominator_capacity: str
    self_nominated: bool
    nominated_on: str
    verification: dict[str, Any] | None
    activated_at: str
    status_reason: str
    status_changed_at: str
    screening_date: str
    screening_ref: str
    form_id: str


@dataclass(frozen=True)
class CredentialRow:
    """A key an officer holds, with when the key last signed (None: never, or not here)."""

    key_id: str
    kind: str
    label: str
    created: str
    last_used: str | None
    flagged: str


@dataclass(frozen=True)
class LogRow:
    """One register change as written: its canonical body and detached signature (None for
    the changes that need no officer's signature)."""

    seq: int
    officer_id: str
    action: str
    status: str
    body: bytes
    signer: str
    signature: bytes | None
    at: str


def _officer(r: Any) -> OfficerRow:
    return OfficerRow(
        r["officer_id"], r["environment"], r["role"], r["status"], r["name"], r["email"],
        r["organisation"], r["party_id"], r["job_title"], r["nominated_by"],
        r["nominator_name"], r["nominator_capacity"], bool(r["self_nominated"]),
        r["nominated_on"], dict(json.loads(r["verification"])) if r["verification"] else None,
        r["activated_at"], r["status_reason"], r["status_changed_at"], r["screening_date"],
        r["screening_ref"], r["form_id"])


def _log(r: Any) -> LogRow:
    return LogRow(int(r["seq"]), r["officer_id"], r["action"], r["status"], bytes(r["body"]),
                  r["signer"] or "",
                  bytes(r["signature"]) if r["signature"] is not None else None, r["at"])


# -- reading --------------------------------------------------------------------------------
def for_environment(db: Database, env: str) -> list[OfficerRow]:
    """The register, SROs first, then by id."""
    return [_officer(r) for r in db.conn().execute(
        "SELECT * FROM officers WHERE environment=? ORDER BY role DESC, officer_id", (env,))]


def by_id(db: Database, officer_id: str) -> list[OfficerRow]:
    """Entries with this register id, case-insensitively (any environment)."""
    return [_officer(r) for r in db.conn().execute(
        "SELECT * FROM officers WHERE upper(officer_id)=upper(?)", (officer_id,))]


def by_email(db: Database, email: str) -> list[OfficerRow]:
    """Entries not revoked with this email, case-insensitively (any environment)."""
    return [_officer(r) for r in db.conn().execute(
        "SELECT * FROM officers WHERE lower(email)=lower(?) AND status!='revoked'", (email,))]


def key_holder(db: Database, key_id: str, env: str) -> OfficerRow | None:
    """The entry of this environment that holds the key, or None."""
    r = db.conn().execute(
        "SELECT o.* FROM officer_credentials oc JOIN officers o "
        "ON o.officer_id = oc.officer_id WHERE oc.key_id=? AND o.environment=?",
        (key_id, env)).fetchone()
    return _officer(r) if r is not None else None


def credentials(db: Database, officer_id: str) -> list[CredentialRow]:
    """The keys an officer holds, oldest link first."""
    return [CredentialRow(r["key_id"], r["kind"], r["label"], r["created"], r["last_used"],
                          r["flagged"])
            for r in db.conn().execute(
                "SELECT oc.key_id, oc.kind, oc.label, oc.created, oc.flagged, "
                "k.last_used AS last_used FROM officer_credentials oc "
                "LEFT JOIN keys k ON k.key_id = oc.key_id WHERE oc.officer_id=? "
                "ORDER BY oc.created", (officer_id,))]


def log(db: Database, env: str) -> list[LogRow]:
    """This environment's register log, in the order it was written."""
    return [_log(r) for r in db.conn().execute(
        "SELECT * FROM officer_log WHERE environment=? ORDER BY seq", (env,))]


def record_sha256(db: Database, officer_id: str) -> str:
    """The SHA-256 of the entry's nomination record ('' when there is no such entry)."""
    row = db.conn().execute("SELECT record_sha256 FROM officers WHERE officer_id=?",
                            (officer_id,)).fetchone()
    return str(row["record_sha256"]) if row is not None else ""


def form_values(db: Database, officer_id: str) -> dict[str, Any] | None:
    """The nomination form's values as recorded, or None when there is no such entry."""
    row = db.conn().execute("SELECT form_values FROM officers WHERE officer_id=?",
                            (officer_id,)).fetchone()
    return dict(json.loads(row["form_values"])) if row is not None else None


def nomination_record(db: Database, officer_id: str) -> bytes | None:
    """The nomination record's bytes kept in the store, or None (an entry made before the
    store kept them). Whether they are the recorded ones is the caller's check."""
    row = db.conn().execute("SELECT record FROM nomination_records WHERE officer_id=?",
                            (officer_id,)).fetchone()
    return bytes(row["record"]) if row is not None else None


def keep_nomination_record(db: Database, officer_id: str, env: str, record: bytes,
                           now: str) -> None:
    """Keep a record in the store for an entry that has none (one kept already stays)."""
    with db.transaction() as c:
        add_record(c, officer_id, env, record, now)


# -- writing, inside the caller's transaction ----------------------------------------------
def add_record(c: sqlite3.Connection, officer_id: str, env: str, record: bytes,
               now: str) -> None:
    """The entry's nomination record (kept once: a second one changes nothing)."""
    c.execute("INSERT INTO nomination_records(officer_id, environment, sha256, record, stored)"
              " VALUES(?,?,?,?,?) ON CONFLICT(officer_id) DO NOTHING",
              (officer_id, env, hashlib.sha256(record).hexdigest(), record, now))


def next_id(c: sqlite3.Connection, role: str, prefix: str) -> str:
    """The next free register id for a role (`<prefix>-0001`, ...)."""
    n = int(c.execute("SELECT count(*) AS n FROM officers WHERE role=?",
                      (role,)).fetchone()["n"])
    while True:
        n += 1
        oid = f"{prefix}-{n:04d}"
        if not c.execute("SELECT 1 AS one FROM officers WHERE officer_id=?",
                         (oid,)).fetchone():
            return oid


def insert(c: sqlite3.Connection, o: Officer, form_values: dict[str, Any],
           record_sha256: str, now: str) -> None:
    """A new register entry (its nomination goes to the log separately, `append_log`)."""
    c.execute(
        "INSERT INTO officers(officer_id, environment, role, status, name, email, organisation,"
        " party_id, job_title, nominated_by, nominator_name, nominator_capacity, self_nominated,"
        " nominated_on, verification, activated_at, status_reason, status_changed_at,"
        " screening_date, screening_ref, form_id, form_values, record_sha256, created, updated)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (o.officer_id, o.environment.value, o.role.value, o.status.value, o.name, o.email,
         o.organisation, o.party_id, o.job_title, o.nominated_by, o.nominator_name,
         o.nominator_capacity, int(o.self_nominated), o.nominated_on, None, o.activated_at,
         o.status_reason, o.status_changed_at, o.screening_date, o.screening_ref, o.form_id,
         json.dumps(form_values, sort_keys=True), record_sha256, now, now))


def append_log(c: sqlite3.Connection, env: str, officer_id: str, action: str, status: str,
               body: bytes, signer: str, signature: bytes | None, at: str) -> None:
    c.execute("INSERT INTO officer_log(environment, officer_id, action, status, body, signer,"
              " signature, at) VALUES (?,?,?,?,?,?,?,?)",
              (env, officer_id, action, status, body, signer, signature, at))


def update_standing(c: sqlite3.Connection, o: Officer, updated: str) -> None:
    """Write the entry's status, verification and dates, and its credentials' flags."""
    ver = None
    if o.verification:
        v = o.verification
        ver = json.dumps({"date": v.date, "verifier": v.verifier, "evidence": list(v.evidence),
                          "outcome": v.outcome})
    c.execute(
        "UPDATE officers SET status=?, verification=?, activated_at=?, status_reason=?,"
        " status_changed_at=?, updated=? WHERE officer_id=? AND environment=?",
        (o.status.value, ver, o.activated_at, o.status_reason, o.status_changed_at,
         updated, o.officer_id, o.environment.value))
    for cred in o.credentials:
        c.execute("UPDATE officer_credentials SET flagged=? WHERE officer_id=? AND key_id=?",
                  (cred.flagged, o.officer_id, cred.key_id))


def set_form_values(c: sqlite3.Connection, officer_id: str, values: dict[str, Any]) -> None:
    c.execute("UPDATE officers SET form_values=? WHERE officer_id=?",
              (json.dumps(values, sort_keys=True), officer_id))


def other_holder(c: sqlite3.Connection, key_id: str, officer_id: str) -> str | None:
    """Another officer who holds the key, or None."""
    row = c.execute("SELECT officer_id FROM officer_credentials WHERE key_id=? AND "
                    "officer_id!=?", (key_id, officer_id)).fetchone()
    return str(row["officer_id"]) if row is not None else None


def add_credential(c: sqlite3.Connection, officer_id: str, key_id: str, env: str, kind: str,
                   label: str, created: str) -> None:
    """Link a key to an officer (linking it again changes nothing)."""
    c.execute(
        "INSERT INTO officer_credentials(officer_id, key_id, environment, kind, label, created)"
        " VALUES(?,?,?,?,?,?) ON CONFLICT(officer_id, key_id) DO NOTHING",
        (officer_id, key_id, env, kind, label, created))


class RegisterWrite:
    """One change to the officer register inside one write transaction (`writing(db)`): the
    entry, its log, its held keys and their flags, and the draft it came from are written
    together or not at all. The service never holds the connection."""

    def __init__(self, c: sqlite3.Connection) -> None:
        self._c = c

    def next_id(self, role: str, prefix: str) -> str:
        return next_id(self._c, role, prefix)

    def insert(self, o: Officer, form_values: dict[str, Any], record_sha256: str,
               now: str) -> None:
        insert(self._c, o, form_values, record_sha256, now)

    def add_record(self, officer_id: str, env: str, record: bytes, now: str) -> None:
        add_record(self._c, officer_id, env, record, now)

    def append_log(self, env: str, officer_id: str, action: str, status: str, body: bytes,
                   signer: str, signature: bytes | None, at: str) -> None:
        append_log(self._c, env, officer_id, action, status, body, signer, signature, at)

    def update_standing(self, o: Officer, updated: str) -> None:
        update_standing(self._c, o, updated)

    def set_form_values(self, officer_id: str, values: dict[str, Any]) -> None:
        set_form_values(self._c, officer_id, values)

    def other_holder(self, key_id: str, officer_id: str) -> str | None:
        return other_holder(self._c, key_id, officer_id)

    def add_credential(self, officer_id: str, key_id: str, env: str, kind: str, label: str,
                       created: str) -> None:
        add_credential(self._c, officer_id, key_id, env, kind, label, created)

    def flag_key(self, key_id: str, flag: str) -> bool:
        """Add a flag to a held key's record (True if it was not there yet)."""
        return keys_repo.add_flag(self._c, key_id, flag)

    def unflag_key(self, key_id: str, flag: str) -> None:
        keys_repo.remove_flag(self._c, key_id, flag)

    def delete_draft(self, draft_id: str) -> None:
        """The nomination draft the new entry was made from."""
        nomination_repo.delete_draft(self._c, draft_id)


@contextmanager
def writing(db: Database) -> Iterator[RegisterWrite]:
    """One write transaction on the register: all of it is written, or none of it."""
    with db.transaction() as c:
        yield RegisterWrite(c)
