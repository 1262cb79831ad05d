"""Certificate import and the acceptance check (SEC L11.5-L11.7), the certificate list and
export, and the trust anchors of each environment.

import_certificate: parse, lint, refuse another environment's hierarchy, find the CSR and key by
public key (an Organisation CSR, else a Device CSR of the Devices flow, else a key), compare
subject (role, EUI, CN), key usage and device SAN with the CSR, check the
validity at a given time, verify the chain to this environment's trust anchors, and record the
certificate as `accepted`, `to-be-rejected` (with the reasons: reject it with the DCC Service
Desk now), `unverified` (Live only: no trust anchor to check the chain) or `unmatched` (no CSR
or key of ours has this public key). Certificates are identified by issuer + serial: importing
the same one again changes nothing. A Device CSR's row is filed as the Devices flow files a
DCC result (`issued` with the serial when accepted, `mismatch` when to be rejected), so the
Devices page and `smki devices rows` show it.

Chain policy: in Test an unverifiable chain (issuer not among the anchors, as with the DCC's
published ZAZ1 samples) is a warning shown to the user; in Live it never lets a certificate be
`accepted` - it stays `unverified` until the user adds the trust anchor and imports again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import Ambiguous, InputError, NotFound
from smki_desktop.crypto.certs import load_certificate, name_text, names_equal, verify_chain
from smki_desktop.crypto.der import detect_kind, to_der
from smki_desktop.crypto.lint import ProfileFields, extract_fields, lint_der
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext, EnvPaths
from smki_desktop.services.csr import profile_for
from smki_desktop.store import team_link

if TYPE_CHECKING:
    from smki_desktop.services.devices import DeviceCsrMatch

ACCEPTED = "accepted"
TO_BE_REJECTED = "to-be-rejected"
UNVERIFIED = "unverified"
UNMATCHED = "unmatched"
REVOKED = "revoked"  # set when a verified Organisation CRL lists it (services.revocation_state)
STATUSES = (ACCEPTED, TO_BE_REJECTED, UNVERIFIED, UNMATCHED, REVOKED)


@dataclass
class ImportResult:
    cert_id: int
    status: str
    fields: ProfileFields
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate: bool = False
    csr_id: int | None = None
    audit: AuditEntry | None = None
    device_csr: str | None = None  # file name of the matching Device CSR
    device_status: str | None = None  # what its row was filed as (issued | mismatch)

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def message(self) -> str:
        """What to tell the user (multi-line: verdict, reasons, warnings)."""
        f = self.fields
        what = f"certificate serial {f.serial:X} from {f.issuer}" if f.serial is not None \
            else "certificate"
        if self.duplicate:
            head = f"Already imported: {what} ({self.status}); nothing changed."
        elif self.status == ACCEPTED:
            head = f"Accepted: {what} matches its CSR."
        elif self.status == TO_BE_REJECTED:
            head = (f"TO BE REJECTED: {what} does not match what was requested. Reject it with "
                    "the DCC Service Desk now (SEC L11.5-L11.7); otherwise it is deemed "
                    "accepted.")
        elif self.status == UNVERIFIED:
            head = (f"Not accepted yet: {what} matches its CSR but its chain cannot be verified "
                    "(add the issuing CA or root as a trust anchor, then import again).")
        else:
            head = f"Recorded, not ours: {what} has a public key of no CSR or key here."
        lines = [head]
        if self.device_csr and self.device_status and not self.duplicate:
            lines.append(f"  Device CSR {self.device_csr}: filed as {self.device_status}")
        lines += [f"  reason: {r}" for r in self.reasons]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "status": self.status, "duplicate": self.duplicate,
                "accepted": self.accepted, "message": self.message,
                "csr_id": self.csr_id, "device_csr": self.device_csr,
                "device_status": self.device_status,
                "reasons": self.reasons, "warnings": self.warnings,
                "fields": self.fields.to_json()}


def issuer_key(issuer_der: bytes) -> str:
    """The issuer name normalised by RFC 5280 rules (so PrintableString == UTF8String)."""
    from smki_desktop.crypto.certs import _rdn_key

    return repr(_rdn_key(issuer_der))


def _other(env: Environment) -> Environment:
    return Environment.LIVE if env is Environment.TEST else Environment.TEST


def _other_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The other environment's trust anchors, read from its own database (read-only; none if
    that environment was never opened here)."""
    other = _other(ctx.env)
    path = EnvPaths.for_env(ctx.paths.root, other).db_path
    try:
        with team_link.readonly_connection(path) as con:  # its team store or its SQLite file
            if con is None:
                return []
            rows = con.execute("SELECT der FROM trust_anchors WHERE environment=?",
                               (other.value,)).fetchall()
    except sqlite3.Error:
        return []
    out = []
    for (der,) in rows:
        try:
            out.append(x509.load_der_x509_certificate(bytes(der)))
        except ValueError:
            continue
    return out


def _check_environment(ctx: AppContext, f: ProfileFields) -> None:
    """Refuse a certificate of the other environment's hierarchy: by its policy OIDs (the other
    environment's profile, its user override included, since Live's bundled OIDs are empty)
    or by its issuer being one of the other environment's trust anchors and none of ours."""
    other = _other(ctx.env)
    what = f"Certificate serial {f.serial or 0:X}"
    mine = profile_for(ctx).policy_oids(f.family)
    theirs = load_profile(other, override_path(EnvPaths.for_env(ctx.paths.root, other).env_dir,
                                               other)).policy_oids(f.family)
    foreign = [p for p in f.policy_oids if p in theirs and p not in mine]
    if foreign:
        require_same(ctx.env, other, f"{what} (policy {foreign[0]})")
    if f.issuer_der is None:
        return
    if any(names_equal(a.subject, f.issuer_der) for a in trust_anchors(ctx)):
        return
    theirs_ca = next((a for a in _other_anchors(ctx) if names_equal(a.subject, f.issuer_der)),
                     None)
    if theirs_ca is not None:
        require_same(ctx.env, other, f"{what} (issuer {name_text(theirs_ca.subject)}, a "
                                     f"{other.label} trust anchor)")


def check_environment(ctx: AppContext, der: bytes, what: str = "certificate") -> None:
    """Refuse (EnvironmentMismatch) a certificate of the other environment's hierarchy that
    came from elsewhere than an import (e.g. a repository answer)."""
    _check_environment(ctx, extract_fields(der, what))


def _compare_with_csr(f: ProfileFields, csr_der: bytes) -> list[str]:
    c = extract_fields(csr_der, "CSR")
    out = []
    if f.family != c.family:
        out.append(f"type: certificate is {f.family}, CSR was {c.family}")
    if f.ou != c.ou:
        out.append(f"role (OU): certificate has {f.ou!r}, the CSR asked for {c.ou!r}")
    if f.eui != c.eui:
        out.append(f"EUI (uniqueIdentifier): certificate has {f.eui}, the CSR asked for {c.eui}")
    if (f.cn or None) != (c.cn or None):
        out.append(f"CN: certificate has {f.cn!r}, the CSR asked for {c.cn!r}")
    if f.usage != c.usage:
        out.append(f"key usage: certificate has "
                   f"{f.usage.value if f.usage else 'no single usage'}, the CSR asked for "
                   f"{c.usage.value if c.usage else '?'}")
    if f.public_key_der != c.public_key_der:
        out.append("public key: the certificate's key is not the CSR's key")
    if f.family == "device" and (f.device_eui != c.device_eui or f.hw_type != c.hw_type):
        out.append(f"device SAN: certificate has {f.device_eui} / {f.hw_type}, the CSR asked "
                   f"for {c.device_eui} / {c.hw_type}")
    return out


def import_certificate(ctx: AppContext, pem_or_der: bytes, *, at: datetime | None = None,
                       what: str = "certificate") -> ImportResult:
    """Import one certificate and run the acceptance check at `at` (now by default)."""
    der = to_der(pem_or_der, what)
    if detect_kind(der) != "certificate":
        raise InputError(f"{what}: not an X.509 certificate (a CSR or something else).")
    profile = profile_for(ctx)
    report = lint_der(der, profile, what)
    f = report.fields
    crossing.refuse_foreign_certificate(ctx, load_certificate(der, what),
                                        f"Certificate serial {f.serial or 0:X}")
    _check_environment(ctx, f)
    assert f.issuer_der is not None and f.serial is not None
    ikey, serial = issuer_key(f.issuer_der), f"{f.serial:X}"
    c = ctx.db.conn()
    row = c.execute("SELECT * FROM certificates WHERE issuer_key=? AND serial=?",
                    (ikey, serial)).fetchone()
    recheck = row is not None and row["status"] == UNVERIFIED
    if row is not None and not recheck:
        require_same(ctx.env, Environment(row["environment"]), f"Certificate {serial}")
        return ImportResult(row["cert_id"], row["status"], f, json.loads(row["reasons"]),
                            json.loads(row["warnings"]), duplicate=True, csr_id=row["csr_id"])
    cert = load_certificate(der, what)
    when = at or ctx.clock.now()
    reasons: list[str] = []
    warnings: list[str] = []
    for fd in report.findings:
        if fd.is_error and fd.rule_id not in profile.accept_with_warning:
            reasons.append(f"profile: {fd.rule_id}: {fd.message}")
        else:
            warnings.append(f"profile: {fd.rule_id}: {fd.message}")
    csr_row = c.execute("SELECT * FROM csr_requests WHERE key_id=?", (f.key_id,)).fetchone()
    key_row = c.execute("SELECT * FROM keys WHERE key_id=?", (f.key_id,)).fetchone()
    device = None
    if csr_row is None:
        from smki_desktop.services.devices import match_device_csr

        device = match_device_csr(ctx, der)
    matched = True
    csr_id = None
    if csr_row is not None:
        require_same(ctx.env, Environment(csr_row["environment"]), "The matching CSR")
        csr_id = int(csr_row["csr_id"])
        mismatches = _compare_with_csr(f, bytes(csr_row["der"]))
        reasons += [f"mismatch: {m}" for m in mismatches]
        if not mismatches and not names_equal(cert.subject.public_bytes(), extract_subject(
                bytes(csr_row["der"]))):
            reasons.append("mismatch: subject: the names differ by RFC 5280 comparison")
    elif device is not None:
        require_same(ctx.env, Environment(device.environment), "The matching Device CSR")
        mismatches = _compare_with_csr(f, device.csr)
        if not mismatches and not names_equal(cert.subject.public_bytes(),
                                              extract_subject(device.csr)):
            mismatches.append("subject: the names differ by RFC 5280 comparison")
        if not mismatches:  # what the Devices flow's own check finds (one comparison each)
            mismatches = device.severe
        reasons += [f"mismatch: {m}" for m in mismatches]
        if device.certificate is not None and device.certificate != der:
            warnings.append(f"Device CSR {device.file_name} already has certificate serial "
                            f"{device.cert_serial} filed; its row is left as it is")
    elif key_row is not None:
        warnings.append("no CSR recorded for this key: compared with the key only")
        if f.usage is None or f.usage.value != key_row["usage"]:
            reasons.append(f"mismatch: key usage: certificate has "
                           f"{f.usage.value if f.usage else 'no single usage'}, the key is "
                           f"for {key_row['usage']}")
    else:
        matched = False
        if f.key_id:
            crossing.refuse_key_of_other_environment(ctx, f.key_id, what.capitalize())
    if not (cert.not_valid_before_utc <= when <= cert.not_valid_after_utc):
        reasons.append(f"validity: not valid at {when:%Y-%m-%d %H:%M:%SZ} (valid "
                       f"{cert.not_valid_before_utc:%Y-%m-%d} to "
                       f"{cert.not_valid_after_utc:%Y-%m-%d})")
    chain = verify_chain(cert, trust_anchors(ctx), at=when)
    chain_unverified = False
    if not chain.ok:
        if len(chain.path) == 1:  # no anchor found at all
            chain_unverified = True
            note = f"chain: {chain.problems[0]}"
            if ctx.env is Environment.TEST:
                warnings.append(note + " - accepted in Test only")
            else:
                warnings.append(note)
        else:
            reasons += [f"chain: {p}" for p in chain.problems]
    if reasons:
        status = TO_BE_REJECTED if matched else UNMATCHED
    elif not matched:
        status = UNMATCHED
    elif chain_unverified and ctx.env is Environment.LIVE:
        status = UNVERIFIED
    else:
        status = ACCEPTED
    if recheck:  # an unverified one imported again: check again (e.g. anchor added)
        assert row is not None
        if status == UNVERIFIED:
            return ImportResult(row["cert_id"], status, f, reasons, warnings, duplicate=True,
                                csr_id=csr_id)
        with ctx.db.transaction() as tx:
            tx.execute("UPDATE certificates SET status=?, reasons=?, warnings=?, checked_at=? "
                       "WHERE cert_id=?", (status, json.dumps(reasons), json.dumps(warnings),
                                           when.isoformat(), row["cert_id"]))
            if csr_id is not None:
                tx.execute("UPDATE csr_requests SET status=? WHERE csr_id=?",
                           ("certified" if status == ACCEPTED else status, csr_id))
            device_status = _file_device(tx, device, der, status, reasons, ctx)
        entry = ctx.audit.record(
            "cert.recheck", {"cert_id": row["cert_id"], "serial": serial, "status": status,
                             "reasons": reasons, "warnings": warnings,
                             "checked_at": when.isoformat(),
                             **_device_audit(device, device_status)}, {"certificate": der})
        return ImportResult(row["cert_id"], status, f, reasons, warnings, csr_id=csr_id,
                            audit=entry, device_csr=device.file_name if device else None,
                            device_status=device_status)
    with ctx.db.transaction() as tx:
        cur = tx.execute(
            "INSERT INTO certificates(environment,issuer,issuer_key,serial,family,role,eui,cn,"
            "device_eui,usage,key_id,csr_id,status,reasons,warnings,not_before,not_after,"
            "checked_at,der,imported) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (ctx.env.value, f.issuer or "", ikey, serial, f.family, f.ou,
             str(f.eui) if f.eui else None, f.cn, str(f.device_eui) if f.device_eui else None,
             f.usage.value if f.usage else None, f.key_id, csr_id, status, json.dumps(reasons),
             json.dumps(warnings), f.not_before.isoformat() if f.not_before else None,
             f.not_after.isoformat() if f.not_after else None, when.isoformat(), der,
             ctx.clock.now().isoformat()))
        cert_id = int(cur.lastrowid or 0)
        if csr_id is not None:
            tx.execute("UPDATE csr_requests SET status=? WHERE csr_id=?",
                       ("certified" if status == ACCEPTED else status, csr_id))
        device_status = _file_device(tx, device, der, status, reasons, ctx)
    entry = ctx.audit.record(
        "cert.import",
        {"cert_id": cert_id, "serial": serial, "issuer": f.issuer, "status": status,
         "reasons": reasons, "warnings": warnings, "csr_id": csr_id, "key_id": f.key_id,
         "checked_at": when.isoformat(), **_device_audit(device, device_status)},
        {"certificate": der})
    return ImportResult(cert_id, status, f, reasons, warnings, csr_id=csr_id, audit=entry,
                        device_csr=device.file_name if device else None,
                        device_status=device_status)


def _file_device(tx: Any, device: DeviceCsrMatch | None, der: bytes, status: str,
                 reasons: list[str], ctx: AppContext) -> str | None:
    """File the certificate on its Device CSR row: `issued` when accepted, `mismatch` when to
    be rejected; an unverified one (Live, no anchor yet) leaves the row until it is checked
    again. Returns the row's new status, or None when the row was not changed."""
    if device is None or status not in (ACCEPTED, TO_BE_REJECTED):
        return None
    from smki_desktop.services.devices import file_device_certificate

    row_status = "issued" if status == ACCEPTED else "mismatch"
    changed = file_device_certificate(tx, device, der, row_status, reasons,
                                      ctx.clock.now().isoformat())
    return row_status if changed else None


def _device_audit(device: DeviceCsrMatch | None, filed: str | None) -> dict[str, Any]:
    if device is None:
        return {}
    return {"device_csr": {"key_id": device.key_id, "file_name": device.file_name,
                           "batch_id": device.batch_id, "device_eui": device.device_eui,
                           "filed_as": filed}}


def extract_subject(csr_der: bytes) -> bytes:
    from asn1crypto import csr as acsr

    return bytes(acsr.CertificationRequest.load(csr_der)["certification_request_info"][
        "subject"].dump())


# -- list / export ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CertRecord:
    cert_id: int
    serial: str
    issuer: str
    family: str
    role: str | None
    eui: str | None
    cn: str | None
    device_eui: str | None
    usage: str | None
    key_id: str
    status: str
    reasons: list[str]
    warnings: list[str]
    not_before: str | None
    not_after: str | None
    der: bytes

    def to_json(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in (
            "cert_id", "serial", "issuer", "family", "role", "eui", "cn", "device_eui",
            "usage", "key_id", "status", "reasons", "warnings", "not_before", "not_after")}
        return d

    def pem(self) -> bytes:
        return x509.load_der_x509_certificate(self.der).public_bytes(serialization.Encoding.PEM)


def _record(r: Any) -> CertRecord:
    return CertRecord(r["cert_id"], r["serial"], r["issuer"], r["family"], r["role"], r["eui"],
                      r["cn"], r["device_eui"], r["usage"], r["key_id"], r["status"],
                      json.loads(r["reasons"]), json.loads(r["warnings"]), r["not_before"],
                      r["not_after"], bytes(r["der"]))


def list_certificates(ctx: AppContext, *, role: str | None = None, usage: str | None = None,
                      eui: str | None = None, status: str | None = None) -> list[CertRecord]:
    rows = ctx.db.conn().execute(
        "SELECT * FROM certificates WHERE environment=? ORDER BY cert_id",
        (ctx.env.value,)).fetchall()
    out = [_record(r) for r in rows]
    if role:
        from smki_desktop.core.roles import RemotePartyRole

        ou = RemotePartyRole.parse(role).ou
        out = [c for c in out if c.role == ou]
    if usage:
        from smki_desktop.core.keys import KeyUsage

        u = KeyUsage.parse(usage).value
        out = [c for c in out if c.usage == u]
    if eui:
        from smki_desktop.core.eui import Eui64

        e = str(Eui64.parse(eui))
        out = [c for c in out if e in (c.eui, c.device_eui)]
    if status:
        out = [c for c in out if c.status == status]
    return out


def find_certificate(ctx: AppContext, serial: str, issuer: str | None = None) -> CertRecord:
    """By serial (hex, any case, colons allowed) and optionally the issuer name."""
    norm = serial.replace(":", "").strip().upper().lstrip("0") or "0"
    try:
        int(norm, 16)
    except ValueError:
        raise InputError(f"Serial {serial!r}: not hexadecimal.") from None
    found = [c for c in list_certificates(ctx) if c.serial.lstrip("0") == norm]
    if issuer:
        from smki_desktop.crypto.certs import parse_name_text

        want = parse_name_text(issuer)
        found = [c for c in found if names_equal(
            x509.load_der_x509_certificate(c.der).issuer.public_bytes(), want)]
    if not found:
        raise NotFound(f"No certificate with serial {serial} in the {ctx.env.label} environment.")
    if len(found) > 1:
        listed = "; ".join(f"{c.serial} from {c.issuer}" for c in found)
        raise Ambiguous(f"Serial {serial} is ambiguous: {listed}. Name the issuer too.",
                        hint="field.issuer")
    return found[0]


def certificate_details(rec: CertRecord) -> dict[str, Any]:
    """Every profile field decoded, for the details view."""
    f = extract_fields(rec.der)
    d = f.to_json()
    d.update({"status": rec.status, "reasons": rec.reasons, "warnings": rec.warnings})
    return d


# -- trust anchors ---------------------------------------------------------------------------


def trust_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """This environment's trust anchors: in Test the simulator's root (added by the portal
    layer) plus user imports; in Live only user imports."""
    rows = ctx.db.conn().execute("SELECT der FROM trust_anchors WHERE environment=?",
                                 (ctx.env.value,)).fetchall()
    return [x509.load_der_x509_certificate(bytes(r["der"])) for r in rows]


def list_trust_anchors(ctx: AppContext) -> list[dict[str, str]]:
    rows = ctx.db.conn().execute(
        "SELECT fingerprint, subject, source, added FROM trust_anchors WHERE environment=? "
        "ORDER BY added", (ctx.env.value,)).fetchall()
    return [dict(r) for r in rows]


def add_trust_anchor(ctx: AppContext, pem_or_der: bytes, *, source: str = "user"
                     ) -> tuple[str, AuditEntry | None]:
    """Add a CA certificate as a trust anchor of this environment (idempotent).
    Returns (SHA-256 fingerprint hex, audit entry or None when already present)."""
    cert = load_certificate(pem_or_der, "trust anchor")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = names_equal(cert.subject, cert.issuer)  # a v1/self-issued root
    if not is_ca:
        raise InputError("Trust anchor: this certificate is not a CA certificate.")
    fp = cert.fingerprint(hashes.SHA256()).hex()
    der = cert.public_bytes(serialization.Encoding.DER)
    if ctx.env is Environment.LIVE and source == "simulator":
        raise InputError("Trust anchor: the simulator's root is never trusted in Live.")
    # whichever face adds it (cert anchor add, adt anchor add, Settings), checked here
    crossing.refuse_foreign_certificate(ctx, cert, f"Trust anchor {name_text(cert.subject)}")
    row = ctx.db.conn().execute("SELECT 1 FROM trust_anchors WHERE fingerprint=?",
                                (fp,)).fetchone()
    if row:
        return fp, None
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO trust_anchors(fingerprint,environment,subject,source,der,added) "
                  "VALUES(?,?,?,?,?,?)", (fp, ctx.env.value, name_text(cert.subject), source,
                                          der, ctx.clock.now().isoformat()))
    entry = ctx.audit.record("cert.anchor.add", {"fingerprint": fp, "source": source,
                                                 "subject": name_text(cert.subject)},
                             {"certificate": der})
    return fp, entry
