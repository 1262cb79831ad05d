"""Two certificates with one issuer and serial: which one this installation holds.

An issuer never issues two certificates with one serial, so when a certificate arrives whose
issuer and serial are those of a recorded one but whose bytes are not, one of them is not
genuine. The one the trust anchors vouch for wins: a certificate whose signature verifies
(through its chain) under a trust anchor of this environment supersedes a recorded one that
does not - a forgery imported first (a file handed to the officer) must not make the genuine
certificate, arriving later from the DCC, impossible to import. The recorded one is checked
again now, from its own bytes (not its stored status), against the anchors of now: a forgery
accepted in Test before the anchor was added is superseded as well. The superseded record is
kept (`certificates_superseded`, naming what replaced it) and its supersession audited
(`cert.supersede`, the superseded certificate as the artifact), in the same transaction as the
new certificate's import. The reverse - a certificate that does not verify arriving after one
that does, or two that both verify, or two that neither does - is refused, audited
(`cert.import-refused`), and nothing changes.

Listed (`list_superseded`), each superseded certificate names what replaced it in an officer's
terms - the replacing certificate's serial, role and subject (`Replacement`), or none recorded -
besides the internal record numbers kept for the audit trail."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.certs import name_text, verify_chain
from smki_desktop.services.context import AppContext
from smki_desktop.services.trust import trust_anchors
from smki_desktop.store.repos import cert_records
from smki_desktop.store.repos import cert_superseded as repo
from smki_desktop.store.repos.cert_records import CertificateRow, NewCertificate

SUPERSEDED = "superseded"  # the status a supersession record gives the replaced certificate
ACTION = "cert.supersede"


@dataclass(frozen=True)
class Supersession:
    """A recorded certificate the imported one replaces: its record, its status then, why."""

    cert_id: int
    status: str
    imported: str
    reason: str

    def line(self) -> str:
        when = (self.imported or "?")[:19].replace("T", " ")
        return (f"  supersedes: record {self.cert_id} with this issuer and serial (imported "
                f"{when}, {self.status}): {self.reason}. It is kept as superseded, for the "
                "audit trail.")


def signed_under_anchor(cert: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    """Whether the signatures from `cert` up to one of `anchors` verify (whatever the dates:
    validity is the acceptance check's; this is only whose signature it carries)."""
    found = verify_chain(cert, anchors, at=cert.not_valid_before_utc)
    top = found.path[-1].fingerprint(hashes.SHA256())
    return any(a.fingerprint(hashes.SHA256()) == top for a in anchors)


def _recorded_verifies(row: CertificateRow, anchors: list[x509.Certificate]) -> bool:
    try:
        old = x509.load_der_x509_certificate(row.der)
    except ValueError:  # a stored DER that does not even parse vouches for nothing
        return False
    return signed_under_anchor(old, anchors)


def supersession(ctx: AppContext, cert: x509.Certificate, row: CertificateRow
                 ) -> Supersession | None:
    """The supersession of recorded `row` by `cert` (same issuer and serial, other bytes) when
    `cert` verifies under this environment's trust anchors and `row`'s certificate does not;
    None otherwise (the caller refuses `cert`)."""
    anchors = trust_anchors(ctx)
    if not anchors or not signed_under_anchor(cert, anchors) or _recorded_verifies(row, anchors):
        return None
    return Supersession(row.cert_id, row.status, row.imported or "",
                        "its signature does not verify under this environment's trust anchors "
                        "and this certificate's does (it was not issued by the DCC: it may be "
                        "forged)")


def replace(ctx: AppContext, tx: sqlite3.Connection, row: CertificateRow, issuer_key: str,
            new: NewCertificate, s: Supersession) -> int:
    """In the caller's transaction: keep `row` as superseded and record `new` in its place."""
    return repo.replace(tx, row, issuer_key, new, s.reason, ctx.clock.now().isoformat())


def record(ctx: AppContext, row: CertificateRow, s: Supersession, new_id: int) -> AuditEntry:
    """The supersession's audit record (inside the caller's `ctx.audit.change()`)."""
    return ctx.audit.record(
        ACTION, {"cert_id": row.cert_id, "serial": row.serial, "issuer": row.issuer,
                 "status": SUPERSEDED, "previous_status": row.status,
                 "superseded_by": new_id, "reason": s.reason},
        {"certificate": row.der})


def superseded_certificates(ctx: AppContext) -> list[repo.SupersededRow]:
    """The superseded certificates of this environment, oldest supersession first."""
    return repo.list_superseded(ctx.db, ctx.env.value)


@dataclass(frozen=True)
class Replacement:
    """The certificate that replaced a superseded one, as an officer knows it: its serial, its
    role (the subject's OU code, None when it names none) and subject, and its status now (it
    may itself have been superseded since)."""

    cert_id: int
    serial: str
    subject: str
    role: str | None
    status: str

    def role_text(self) -> str:
        """"supplier (02)"; the bare OU when it is no Remote Party Role; "" without one."""
        if not self.role:
            return ""
        try:
            return f"{RemotePartyRole.from_ou(self.role).name_text} ({self.role})"
        except InputError:
            return self.role

    def short(self) -> str:
        """For a table cell: "supplier (02), serial 4F…07" (its status when not accepted)."""
        return self._joined([self.role_text(), f"serial {self.serial}"])

    def words(self) -> str:
        """In full: "supplier (02), serial 4F…07, subject OU=02,CN=…"."""
        return self._joined([self.role_text(), f"serial {self.serial}",
                             f"subject {self.subject}" if self.subject else ""])

    def _joined(self, parts: list[str]) -> str:
        if self.status not in ("accepted", ""):
            parts.append(f"now {self.status}")
        return ", ".join(p for p in parts if p)

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "serial": self.serial, "subject": self.subject,
                "role": self.role, "status": self.status}


NO_REPLACEMENT = "no replacement recorded"


@dataclass(frozen=True)
class SupersededCertificate:
    """A superseded certificate as the faces list it: never a live one (status `superseded`,
    what it was before in `previous_status`), naming the record that replaced it, that
    certificate itself (`replaced_by`: None when no certificate with that record is held) and
    the audit record of its supersession (None when the log does not prove one)."""

    cert_id: int
    serial: str
    issuer: str
    subject: str
    key_id: str
    previous_status: str
    reasons: list[str]
    superseded_by: int
    superseded_at: str
    audit_record: int | None
    reason: str
    sha256: str
    status: str = SUPERSEDED
    replaced_by: Replacement | None = None

    def replaced_by_words(self) -> str:
        """What replaced it, in an officer's terms (never the internal record number)."""
        return self.replaced_by.words() if self.replaced_by is not None else NO_REPLACEMENT

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in (
            "cert_id", "serial", "issuer", "subject", "key_id", "status", "previous_status",
            "reasons", "superseded_by", "superseded_at", "audit_record", "reason", "sha256")}
        d["replaced_by"] = None if self.replaced_by is None else self.replaced_by.to_json()
        return d


def _subject(der: bytes) -> str:
    try:
        return name_text(x509.load_der_x509_certificate(der).subject)
    except (ValueError, TypeError):  # kept whole whatever it is: unparsable, it names nothing
        return "(does not parse)"


def _replacements(ctx: AppContext, rows: list[repo.SupersededRow]
                  ) -> dict[int, Replacement]:
    """The certificates that replaced `rows`, by record: a live one, or one superseded since."""
    found = {c.cert_id: Replacement(c.cert_id, c.serial, _subject(c.der), c.role, c.status)
             for c in cert_records.list_certificates(ctx.db, ctx.env.value)}
    for r in rows:  # replaced in its turn: still named, as superseded now
        found.setdefault(r.cert_id, Replacement(r.cert_id, r.serial, _subject(r.der),
                                                _role(r.der), SUPERSEDED))
    return found


def _role(der: bytes) -> str | None:
    """The subject's OU (a Remote Party Role code) of a certificate kept only as its DER."""
    try:
        ous = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(
            x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    except (ValueError, TypeError):
        return None
    return str(ous[0].value) if ous else None


def list_superseded(ctx: AppContext) -> list[SupersededCertificate]:
    """The superseded certificates of this environment, oldest supersession first, each with
    the certificate that replaced it (when one with that record is held) and the number of its
    `cert.supersede` audit record when the log proves that record (signed by a writer it
    vouches for; a row edited into the table has none)."""
    rows = superseded_certificates(ctx)
    if not rows:
        return []
    seqs = {(e.details.get("cert_id"), e.details.get("superseded_by")): e.seq
            for e in ctx.audit.vouched((ACTION,)) if e.environment == ctx.env.value}
    by = _replacements(ctx, rows)
    return [SupersededCertificate(
        r.cert_id, r.serial, r.issuer, _subject(r.der), r.key_id, r.status, r.reasons,
        r.superseded_by, r.superseded_at, seqs.get((r.cert_id, r.superseded_by)), r.reason,
        hashlib.sha256(r.der).hexdigest(), replaced_by=by.get(r.superseded_by))
        for r in rows]


def refuse_same_issuer_serial(ctx: AppContext, der: bytes, cert: x509.Certificate, issuer: str,
                              row: CertificateRow, serial: str) -> NoReturn:
    """Refuse (Refusal) a certificate whose issuer and serial are those of a recorded one but
    whose bytes are not, when it may not supersede it (`supersession` is None). The recorded one
    is left as it is (its verdict is not this one's), and the refusal is written to the audit
    log. The message says which of the two the trust anchors vouch for."""
    new_sha, old_sha = hashlib.sha256(der).hexdigest(), hashlib.sha256(row.der).hexdigest()
    when = (row.imported or "?")[:19].replace("T", " ")
    anchors = trust_anchors(ctx)
    if _recorded_verifies(row, anchors):
        why = ("The recorded one verifies under a trust anchor of this environment; this one "
               "cannot replace it.")
    else:  # (this one verifying while the recorded one does not would have superseded it)
        why = ("Neither verifies under a trust anchor of this environment: a certificate that "
               "verifies under a trust anchor replaces a recorded one that does not, so if this "
               "one came from the DCC, add its issuing CA as a trust anchor (after checking "
               "its fingerprint) and import it again.")
    message = (f"Certificate serial {serial} from {issuer} refused, not imported: a different "
               f"certificate with issuer {row.issuer} and serial {serial} is already recorded "
               f"(imported {when}); this one is not the same certificate (SHA-256 "
               f"{new_sha[:16]}…, the recorded one {old_sha[:16]}…) - it may be forged. "
               f"Nothing was changed; check where this file came from. {why}")
    ctx.audit.record("cert.import-refused",
                     {"serial": serial, "issuer": issuer, "recorded_cert_id": row.cert_id,
                      "recorded_sha256": old_sha, "sha256": new_sha,
                      "reason": "same issuer and serial as a recorded certificate, "
                                "different certificate"},
                     {"certificate": der})
    raise Refusal(message)
