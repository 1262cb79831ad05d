"""The approval requests aggregate: signed requests, their signatures, and the state columns
the services set (deferred, submitted, revoked). Typed rows in and out."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class RequestRow:
    request_id: str
    environment: str
    kind: str
    body: bytes
    sha256: str
    requester: str
    created: str
    expires: str
    deferred_reason: str = ""
    submitted_at: str = ""
    revoked_at: str = ""
    outcome: str = ""
    incident_id: str = ""


@dataclass(frozen=True)
class SignatureRow:
    request_id: str
    environment: str
    kind: str  # request | approval | rejection
    officer_id: str
    signed_at: str
    body: bytes  # the signed bytes (the request's own for request/approval)
    signature: bytes


def _req(r: sqlite3.Row) -> RequestRow:
    return RequestRow(r["request_id"], r["environment"], r["kind"], bytes(r["body"]),
                      r["sha256"], r["requester"], r["created"], r["expires"],
                      r["deferred_reason"], r["submitted_at"], r["revoked_at"], r["outcome"],
                      r["incident_id"])


def _sig(r: sqlite3.Row) -> SignatureRow:
    return SignatureRow(r["request_id"], r["environment"], r["kind"], r["officer_id"],
                        r["signed_at"], bytes(r["body"]), bytes(r["signature"]))


class ApprovalsRepo:
    def __init__(self, db: Database, environment: str) -> None:
        self.db = db
        self.env = environment

    def add(self, req: RequestRow, first: SignatureRow) -> None:
        with self.db.transaction() as c:
            c.execute("INSERT INTO approval_requests(request_id, environment, kind, body, sha256,"
                      " requester, created, expires, incident_id) VALUES (?,?,?,?,?,?,?,?,?)",
                      (req.request_id, req.environment, req.kind, req.body, req.sha256,
                       req.requester, req.created, req.expires, req.incident_id))
            self._add_sig(c, first)

    def exists(self, request_id: str) -> bool:
        return self.db.conn().execute("SELECT 1 FROM approval_requests WHERE request_id=?",
                                      (request_id,)).fetchone() is not None

    @staticmethod
    def _add_sig(c: sqlite3.Connection, s: SignatureRow) -> None:
        c.execute("INSERT INTO approval_signatures(request_id, environment, kind,"
                  " officer_id, signed_at, body, signature) VALUES (?,?,?,?,?,?,?) "
                  "ON CONFLICT(request_id, kind, officer_id) DO UPDATE SET "
                  "environment=excluded.environment, signed_at=excluded.signed_at, "
                  "body=excluded.body, signature=excluded.signature",
                  (s.request_id, s.environment, s.kind, s.officer_id, s.signed_at, s.body,
                   s.signature))

    def add_signature(self, s: SignatureRow) -> None:
        with self.db.transaction() as c:
            self._add_sig(c, s)

    def add_decision(self, s: SignatureRow, seen: list[SignatureRow]) -> SignatureRow | None:
        """An approval or rejection, added only if no other decision was added since the
        request was read (`seen`, its signatures then): the check and the insert are one write
        transaction (the store's write lock), so two officers deciding at once, on one
        workstation or two, count once. Returns None when added, else the decision that came
        in between."""
        known = {(x.kind, x.officer_id, x.signed_at) for x in seen}
        with self.db.transaction() as c:
            for r in c.execute(
                    "SELECT * FROM approval_signatures WHERE request_id=? AND environment=? "
                    "AND kind IN ('approval', 'rejection') ORDER BY signed_at",
                    (s.request_id, self.env)).fetchall():
                now = _sig(r)
                if (now.kind, now.officer_id, now.signed_at) not in known:
                    return now
            self._add_sig(c, s)
        return None

    def get(self, request_id: str) -> RequestRow | None:
        r = self.db.conn().execute(
            "SELECT * FROM approval_requests WHERE environment=? AND upper(request_id)=upper(?)",
            (self.env, request_id)).fetchone()
        return _req(r) if r else None

    def find_prefix(self, prefix: str) -> list[RequestRow]:
        rows = self.db.conn().execute(
            "SELECT * FROM approval_requests WHERE environment=? AND upper(request_id) LIKE "
            "upper(?) || '%' ORDER BY created", (self.env, prefix)).fetchall()
        return [_req(r) for r in rows]

    def all(self, kind: str | None = None) -> list[RequestRow]:
        sql, params = "SELECT * FROM approval_requests WHERE environment=?", [self.env]
        if kind:
            sql += " AND kind=?"
            params.append(kind)
        return [_req(r) for r in self.db.conn().execute(sql + " ORDER BY created", params)]

    def signatures(self, request_id: str) -> list[SignatureRow]:
        rows = self.db.conn().execute(
            "SELECT * FROM approval_signatures WHERE request_id=? AND environment=? "
            "ORDER BY signed_at", (request_id, self.env)).fetchall()
        return [_sig(r) for r in rows]

    def set_state(self, request_id: str, *, deferred_reason: str | None = None,
                  submitted_at: str | None = None, revoked_at: str | None = None,
                  outcome: str | None = None) -> None:
        sets: list[str] = []
        params: list[str] = []
        for col, val in (("deferred_reason", deferred_reason), ("submitted_at", submitted_at),
                         ("revoked_at", revoked_at), ("outcome", outcome)):
            if val is not None:
                sets.append(f"{col}=?")
                params.append(val)
        if not sets:
            return
        with self.db.transaction() as c:
            c.execute(f"UPDATE approval_requests SET {', '.join(sets)} WHERE request_id=? "
                      "AND environment=?", (*params, request_id, self.env))
