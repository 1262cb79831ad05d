"""The simulated DCC's side of dual control: its own record of the Party's nominated officers
(fed through the control channel in Test, standing for the DCC's processing of the nomination
forms), the check that a file-signing credential is issued only to an officer it holds as
verified (the register id goes in the subject), and signed revocation requests: both
signatures verified against its IKI CA and its officer record, expiry and standing checked, then
the certificates revoked and a new Organisation CRL published."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from smki_desktop.core.approvals import (
    REQUEST_TYPE,
    ApprovalRule,
    check_approver,
    check_requester,
)
from smki_desktop.core.canonical import parse_canonical
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.identity import Signatory
from smki_desktop.core.officers import OfficerRole, OfficerStatus
from smki_desktop.core.register import LogOrder, Standing, apply_change, check_order
from smki_desktop.crypto.cms import SignatureInvalid, verify_detached
from smki_desktop.simulator import ca as CA
from smki_desktop.simulator.state import SimState

SCHEMA = """
CREATE TABLE IF NOT EXISTS officers (
    officer_id TEXT PRIMARY KEY, role TEXT NOT NULL, status TEXT NOT NULL,
    environment TEXT NOT NULL, party_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    verified INTEGER NOT NULL, updated TEXT NOT NULL);
"""
SIM_ENV = Environment.TEST
RULE = ApprovalRule("revocation")
SKEW = timedelta(minutes=5)


class Refused(Exception):
    def __init__(self, code: str, rule: str) -> None:
        super().__init__(rule)
        self.code = code
        self.rule = rule


def _ensure(state: SimState) -> None:
    # one statement, not executescript: that COMMITs first, ending the caller's transaction
    # (enrolment's), whose own COMMIT then failed and dropped the connection unanswered
    state.conn().execute(SCHEMA)


def feed_officers(state: SimState, records: list[dict[str, Any]], now: datetime) -> int:
    """Replace what the DCC holds of each officer named (control channel, Test)."""
    _ensure(state)
    c = state.conn()
    with state.write_lock:
        c.execute("BEGIN IMMEDIATE")
        try:
            for r in records:
                c.execute("INSERT OR REPLACE INTO officers(officer_id, role, status, environment,"
                          " party_id, name, email, verified, updated) VALUES (?,?,?,?,?,?,?,?,?)",
                          (str(r["officer_id"]).upper(), str(r["role"]), str(r["status"]),
                           str(r["environment"]), str(r.get("party_id", "")),
                           str(r.get("name", "")), str(r.get("email", "")),
                           int(bool(r.get("verified"))), now.isoformat()))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return len(records)


def feed_log(state: SimState, entries: list[dict[str, Any]], now: datetime) -> list[str]:
    """The DCC's own record, recomputed from the register's signed log: every change replayed
    through the register's rules, each signature verified against this DCC's IKI CA (and the
    credential not revoked). A change that breaks a rule or does not verify (a self-signed
    reinstatement, an edited row turned into a change) is ignored here, whatever the app's
    database says. Returns the problems."""
    standings: dict[str, Standing] = {}
    people: dict[str, tuple[str, str]] = {}
    problems: list[str] = []
    order = LogOrder()  # a signed change counts once and in order, as in the app's replay
    h = state.hierarchy
    for i, e in enumerate(entries):
        try:
            body = base64.b64decode(str(e["body"]), validate=True)
            change = parse_canonical(body, f"register change {i}")
            signer = str(change.get("signer") or "")
            if signer or e.get("signature"):
                v = verify_detached(body, base64.b64decode(str(e.get("signature") or ""),
                                                           validate=True),
                                    trust_anchors=[h.root.certificate],
                                    extra_certs=[h.iki_ca.certificate],
                                    at=datetime.fromisoformat(str(change["at"])))
                cert = v.signer_certificate
                if cert is None or cert.issuer != h.iki_ca.certificate.subject:
                    raise Refused("RV:NotIKI", "not signed with an IKI credential")
                if _register_id(cert.subject).upper() != signer.upper():
                    raise Refused("RV:BadSig", f"signed by another credential than {signer}'s")
            check_order(order, change, hashlib.sha256(body).hexdigest())
            new = apply_change(standings, change)
        except (SmkiError, Refused, ValueError, KeyError, TypeError) as exc:
            problems.append(f"change {i}: {getattr(exc, 'message', None) or exc}")
            continue
        standings[new.officer_id] = new
        order.note(change, hashlib.sha256(body).hexdigest(), i)
        if change.get("action") == "nominate":
            d = dict(change.get("details") or {})
            people[new.officer_id] = (str(d.get("name", "")), str(d.get("email", "")))
    feed_officers(state, [{"officer_id": s.officer_id, "role": s.role.value,
                           "status": s.status.value, "environment": s.environment.value,
                           "party_id": s.party_id, "name": people.get(s.officer_id, ("", ""))[0],
                           "email": people.get(s.officer_id, ("", ""))[1],
                           "verified": s.verified} for s in standings.values()], now)
    return problems


def officer(state: SimState, officer_id: str) -> Signatory | None:
    _ensure(state)
    r = state.conn().execute("SELECT * FROM officers WHERE officer_id=?",
                             (officer_id.upper(),)).fetchone()
    if r is None:
        return None
    return Signatory(r["officer_id"], OfficerRole(r["role"]), OfficerStatus(r["status"]),
                     Environment(r["environment"]), r["party_id"], r["name"], r["email"])


def _register_id(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(attrs[0].value).strip() if attrs else ""


def file_signing_problem(state: SimState, csr: x509.CertificateSigningRequest) -> str:
    """'' when a file-signing credential may be issued for this CSR, else why not."""
    rid = _register_id(csr.subject)
    if not rid:
        return ("a file-signing credential is issued to a named officer: put the register id "
                "in the subject (serialNumber)")
    o = officer(state, rid)
    _ensure(state)
    row = state.conn().execute("SELECT verified FROM officers WHERE officer_id=?",
                               (rid.upper(),)).fetchone()
    if o is None or row is None:
        return f"the DCC holds no nomination for {rid}"
    if not row["verified"]:
        return f"the DCC has not verified {rid} (no passed verification meeting)"
    if o.status in (OfficerStatus.SUSPENDED, OfficerStatus.REVOKED):
        return f"{rid} is {o.status.value}"
    return ""


def _signer(state: SimState, data: bytes, sig_b64: str, now: datetime
            ) -> tuple[Signatory, datetime | None]:
    h = state.hierarchy
    try:
        sig = base64.b64decode(sig_b64, validate=True)
        v = verify_detached(data, sig, trust_anchors=[h.root.certificate], at=now,
                            extra_certs=[h.iki_ca.certificate])
    except (SignatureInvalid, ValueError) as exc:
        msg = exc.message if isinstance(exc, SmkiError) else str(exc)
        raise Refused("RV:BadSig", f"Rule: every signature verifies over the exact request "
                                   f"bytes with an IKI credential; {msg}") from None
    cert = v.signer_certificate
    if cert is None:
        raise Refused("RV:BadSig", "Rule: every signature carries its signer's credential.")
    if cert.issuer != h.iki_ca.certificate.subject:
        raise Refused("RV:NotIKI", "Rule: officers sign with a credential of the DCC's IKI CA; "
                                   f"this one is issued by {cert.issuer.rfc4514_string()}.")
    row = state.conn().execute("SELECT status FROM certificates WHERE serial=?",
                               (f"{cert.serial_number:032X}",)).fetchone()
    if row is not None and row["status"] == "R":
        raise Refused("RV:CredRev", "Rule: officers sign with a credential the DCC has not "
                                    f"revoked; credential {cert.serial_number:X} is revoked.")
    rid = _register_id(cert.subject)
    o = officer(state, rid) if rid else None
    if o is None:
        raise Refused("RV:Unknown", f"Rule: the signer is a nominated officer the DCC holds; "
                                    f"{rid or 'an unnamed credential'} is not one.")
    return o, v.signing_time


def _refuse_from(code: str, exc: SmkiError) -> Refused:
    return Refused(code, exc.message)


def _signatories(state: SimState, data: bytes, sigs: list[Any], now: datetime
                 ) -> tuple[Signatory | None, list[tuple[Signatory, datetime | None]]]:
    """(requester, [(approver, signing time)]) from the request's signatures."""
    requester: Signatory | None = None
    approvers: list[tuple[Signatory, datetime | None]] = []
    for s in sigs:
        who, when = _signer(state, data, str(s.get("signature", "")), now)
        if s.get("kind") == "request":
            requester = who
        elif s.get("kind") == "approval":
            approvers.append((who, when))
    return requester, approvers


def _check_approval(req: dict[str, Any], created: datetime, requester: Signatory,
                    who: Signatory, when: datetime | None, now: datetime) -> None:
    try:
        check_approver(RULE, Environment(str(req["environment"])),
                       str(req.get("party_id", "")), requester, who, SIM_ENV)
    except SmkiError as exc:
        code = "RV:SelfAppr" if "self-approval" in exc.message else "RV:Approver"
        raise _refuse_from(code, exc) from None
    # its lifetime runs from its signing time, which must be there and plausible:
    # not before the request was made, not in the future (it would never lapse)
    if when is None or when > now + SKEW or when < created - SKEW:
        raise Refused("RV:Expired", "Rule: an approval carries the signing time its "
                                    "lifetime runs from, after the request and not in "
                                    f"the future; {who.officer_id}'s says "
                                    f"{when.isoformat() if when else 'nothing'}.")
    if now > when + timedelta(hours=RULE.approval_ttl_hours):
        raise Refused("RV:Expired", "Rule: an approval is good for "
                                    f"{RULE.approval_ttl_hours} hours; this one has "
                                    "lapsed.")


def _check_signatures(state: SimState, req: dict[str, Any], data: bytes, sigs: list[Any],
                      now: datetime) -> None:
    """The ARO it names requested it, and enough different SROs approved it in time."""
    requester, approvers = _signatories(state, data, sigs, now)
    if requester is None or requester.officer_id != str(req.get("requested_by", "")).upper():
        raise Refused("RV:Requester", "Rule: the request is signed by the ARO it names "
                                      f"({req.get('requested_by')}).")
    try:
        check_requester(requester, SIM_ENV)
    except SmkiError as exc:
        raise _refuse_from("RV:Requester", exc) from None
    good: set[str] = set()
    created = datetime.fromisoformat(str(req["created"]))
    for who, when in approvers:
        _check_approval(req, created, requester, who, when, now)
        good.add(who.officer_id)  # one officer counts once, whatever keys they used
    if len(good) < RULE.approvals_needed:
        raise Refused("RV:Approvals", f"Rule: a revocation needs {RULE.approvals_needed} "
                                      f"SRO approval(s) by different SROs; it has "
                                      f"{len(good)}.")


def _revoke(state: SimState, owner: str, req: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Revoke the certificates the request names, atomically, and keep the answer."""
    serials = [str(c["serial"]).upper().rjust(32, "0") for c in req["certificates"]]
    hashes = [str(c.get("sha256", "")).lower() for c in req["certificates"]]
    with state.write_lock:
        c = state.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            for serial, digest in zip(serials, hashes, strict=True):
                row = c.execute("SELECT owner, kind, der FROM certificates WHERE serial=?",
                                (serial,)).fetchone()
                if row is None or row["kind"] != "organisation" or row["owner"] != owner:
                    raise Refused("RV:NotAuth", f"Rule: a Party revokes only its own "
                                                f"Organisation certificates; serial "
                                                f"{serial.lstrip('0')} is not one.")
                if hashlib.sha256(bytes(row["der"])).hexdigest() != digest:
                    raise Refused("RV:Mismatch", "Rule: a request describes exactly the "
                                                 "certificates it revokes; serial "
                                                 f"{serial.lstrip('0')} is named with the "
                                                 "SHA-256 of another certificate.")
            for serial in serials:
                c.execute("UPDATE certificates SET status='R', revoked_at=? WHERE serial=?",
                          (now.isoformat(), serial))
            c.execute("INSERT INTO crl_numbers(at) VALUES (?)", (now.isoformat(),))
            answer = {"status": "COMPLETED", "id": req["id"],
                      "revoked": [s.lstrip("0") for s in serials]}
            c.execute("INSERT OR REPLACE INTO replies(owner, kind, client_ref, body, created)"
                      " VALUES (?,?,?,?,?)", (owner, "signed-revoke", req["id"],
                                              json.dumps(answer).encode(), now.isoformat()))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return answer


def signed_revocation(state: SimState, owner: str, body: bytes, now: datetime
                      ) -> dict[str, Any]:
    """Check a dual-signed revocation request and revoke; answers a JSON-able dict."""
    try:
        doc = json.loads(body)
        data = base64.b64decode(doc["request"], validate=True)
        sigs = list(doc["signatures"])
    except (ValueError, KeyError, TypeError) as exc:
        return {"status": "REJECTED", "code": "RV:Format", "rule": f"malformed body ({exc})"}
    try:
        req = parse_canonical(data, "revocation request")
        if req.get("type") != REQUEST_TYPE:
            raise Refused("RV:Format", "not a revocation request")
        prior = state.conn().execute(
            "SELECT body FROM replies WHERE owner=? AND kind='signed-revoke' AND client_ref=?",
            (owner, req.get("id", ""))).fetchone()
        if prior is not None:
            return dict(json.loads(bytes(prior["body"])))
        if req.get("environment") != SIM_ENV.value:
            raise Refused("RV:Env", f"Rule: a {req.get('environment')} request goes to the "
                                    f"{req.get('environment')} DCC; this is the Test DCC.")
        expires = datetime.fromisoformat(str(req["expires"]))
        if now > expires:
            raise Refused("RV:Expired", f"Rule: an expired request goes nowhere; it expired at "
                                        f"{expires.isoformat()}.")
        _check_signatures(state, req, data, sigs, now)
        return _revoke(state, owner, req, now)
    except Refused as r:
        return {"status": "REJECTED", "code": r.code, "rule": r.rule}
    except SmkiError as exc:
        return {"status": "REJECTED", "code": "RV:Format", "rule": exc.message}
    except (KeyError, ValueError, TypeError) as exc:
        return {"status": "REJECTED", "code": "RV:Format", "rule": f"malformed request ({exc})"}


# ------------------------------------------------------------------------------ IKI credentials
def revoke_credential(state: SimState, serial: str, now: datetime) -> bool:
    """The DCC revokes an officer's IKI credential (Test: through the control channel, standing
    for the DCC acting on an SRO's request or a leaver); its IKI CRL lists it from now on."""
    s = serial.upper().rjust(32, "0")
    with state.write_lock:
        c = state.conn()
        c.execute("BEGIN IMMEDIATE")
        try:
            cur = c.execute("UPDATE certificates SET status='R', revoked_at=? WHERE serial=? AND "
                            "kind LIKE 'credential:%' AND status!='R'", (now.isoformat(), s))
            if cur.rowcount:
                c.execute("INSERT INTO crl_numbers(at) VALUES (?)", (now.isoformat(),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    return bool(cur.rowcount)


def iki_crl(state: SimState, now: datetime) -> bytes:
    """The IKI CA's CRL: every revoked officer credential."""
    rows = state.conn().execute("SELECT serial, revoked_at FROM certificates WHERE status='R' "
                                "AND kind LIKE 'credential:%'").fetchall()
    n = state.conn().execute("SELECT COALESCE(MAX(n), 0) FROM crl_numbers").fetchone()[0]
    revoked = [(int(r["serial"], 16), datetime.fromisoformat(r["revoked_at"])) for r in rows]
    return CA.build_crl(state.hierarchy.iki_ca, revoked, now, int(n) + 1).public_bytes(
        serialization.Encoding.DER)
