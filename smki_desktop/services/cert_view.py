"""A certificate as an officer reads it: sections of labelled values (subject decoded as role
and EUI, validity, fingerprints, chain, extensions, the acceptance findings one by one, and the
key and CSR it belongs to), instead of raw JSON; and its export as PEM, DER or the chain up to
this environment's trust anchor. Both faces call these functions (the GUI draws the sections
as a tree; the CLI prints them)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.services import certificates as cert_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.view_rows import Row, Section
from smki_desktop.store.atomic import write_recorded
from smki_desktop.store.repos import keys as key_repo
from smki_desktop.store.repos import renewals as renewal_repo

FORMATS = ("pem", "der", "chain")
STATUS_WORDS = {
    "accepted": "Accepted: it matches its CSR and the SMKI profile",
    "to-be-rejected": "Fails the acceptance check: reject it to the DCC",
    "unverified": "Not verified: no trust anchor to check the issuer against",
    "unmatched": "Not ours: no CSR or key of this environment matches it",
    "rejected": "Rejected: the officer recorded its rejection; it is not used",
}


def _fingerprint(der: bytes, algo: str) -> str:
    h = hashlib.new(algo, der).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def chain_for(ctx: AppContext, cert: x509.Certificate) -> list[x509.Certificate]:
    """The certificate and its issuers up to a trust anchor of this environment, as far as
    the anchors reach (by name; signatures are checked on import)."""
    anchors = cert_service.trust_anchors(ctx)
    chain = [cert]
    current = cert
    for _ in range(8):
        if current.issuer == current.subject:
            break
        issuer = next((a for a in anchors if a.subject == current.issuer and a != current), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


def certificate_view(ctx: AppContext, rec: cert_service.CertRecord) -> list[Section]:
    cert = x509.load_der_x509_certificate(rec.der)
    f = extract_fields(rec.der, "certificate")
    subject = [Row("Family", rec.family)]
    if f.role is not None:
        subject.append(Row("Remote Party Role", f"{f.role.name_text} (code {f.role.ou})"))
    if f.eui is not None:
        subject.append(Row("Entity (EUI-64)", str(f.eui)))
    if f.device_eui is not None:
        subject.append(Row("Device (EUI-64)", str(f.device_eui)))
    if f.hw_type:
        subject.append(Row("Hardware type", f.hw_type))
    if f.cn:
        subject.append(Row("Common name", f.cn))
    if f.usage is not None:
        subject.append(Row("Key usage", f.usage.value))
    subject.append(Row("Subject (as written)", cert.subject.rfc4514_string() or "(empty)"))
    now = ctx.clock.now()
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    left = (na - now).days
    validity = [Row("Not before", nb.strftime("%Y-%m-%d %H:%M UTC")),
                Row("Not after", na.strftime("%Y-%m-%d %H:%M UTC")),
                Row("State", "expired" if na <= now else
                    ("not yet valid" if nb > now else f"valid, {left} days left"),
                    problem=na <= now or nb > now)]
    prints = [Row("Serial", rec.serial), Row("SHA-256", _fingerprint(rec.der, "sha256")),
              Row("SHA-1", _fingerprint(rec.der, "sha1"))]
    chain = chain_for(ctx, cert)
    chain_rows = [Row("Issuer", cert.issuer.rfc4514_string())]
    for i, c in enumerate(chain[1:], start=1):
        chain_rows.append(Row(f"Level {i}", c.subject.rfc4514_string()))
    if len(chain) == 1 and cert.issuer != cert.subject:
        chain_rows.append(Row("Trust anchor", "none of this environment's anchors issued it",
                              problem=True))
    ext_rows = []
    for ext in cert.extensions:
        name = getattr(ext.oid, "_name", "") or ext.oid.dotted_string
        value = str(ext.value)
        value = value if len(value) <= 160 else value[:157] + "…"
        ext_rows.append(Row(name + (" (critical)" if ext.critical else ""), value))
    accept = [Row("Result", STATUS_WORDS.get(rec.status, rec.status),
                  problem=rec.status == "to-be-rejected")]
    accept += [Row(f"Finding {i}", r, problem=True) for i, r in enumerate(rec.reasons, 1)]
    accept += [Row(f"Warning {i}", w) for i, w in enumerate(rec.warnings, 1)]
    if not rec.reasons and not rec.warnings:
        accept.append(Row("Findings", "none"))
    key_row = [Row("Key id", rec.key_id)]
    held = key_repo.label_of(ctx.db, ctx.env.value, rec.key_id)
    key_row.append(Row("Private key", f"held here: {held}" if held is not None
                       else "not held in this environment"))
    for csr in key_repo.csrs_for_key(ctx.db, ctx.env.value, rec.key_id):
        key_row.append(Row(f"CSR {csr.csr_id}", f"{csr.family} {csr.usage}, made "
                           f"{csr.created[:10]}, {csr.status}"))
    for rn in renewal_repo.for_certificate(ctx.db, ctx.env.value, rec.serial):
        key_row.append(Row("Replaced by", f"new key {rn.new_key_id[:16]} and CSR {rn.csr_id} "
                           f"(renewal made {rn.created[:10]})"))
    return [Section("Subject", tuple(subject)), Section("Validity", tuple(validity)),
            Section("Fingerprints", tuple(prints)), Section("Chain", tuple(chain_rows)),
            Section("Acceptance check", tuple(accept)),
            Section("Key and request", tuple(key_row)),
            Section("Extensions", tuple(ext_rows))]


def view_as_text(sections: list[Section]) -> str:
    lines = []
    for s in sections:
        lines.append(s.title)
        lines += [f"  {r.label}: {r.value}" + ("  [!]" if r.problem else "") for r in s.rows]
    return "\n".join(lines)


def export_bytes(ctx: AppContext, rec: cert_service.CertRecord, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise InputError(f"Format {fmt!r}: use pem, der or chain.", hint="field.format")
    cert = x509.load_der_x509_certificate(rec.der)
    if fmt == "der":
        return rec.der
    if fmt == "pem":
        return cert.public_bytes(serialization.Encoding.PEM)
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain_for(ctx, cert))


@dataclass(frozen=True)
class CertExported:
    path: Path
    fmt: str
    audit: AuditEntry


def export_certificate(ctx: AppContext, rec: cert_service.CertRecord, out: Path, fmt: str = "pem",
                       *, overwrite: bool = False) -> CertExported:
    data = export_bytes(ctx, rec, fmt)
    # recorded before the file is put in place (store/atomic.write_recorded)
    path, entry = write_recorded(Path(out), data, lambda p: ctx.audit.record(
        "cert.export", {"serial": rec.serial, "issuer": rec.issuer, "path": str(p),
                        "format": fmt}, {"certificate": rec.der}), overwrite=overwrite)
    return CertExported(path, fmt, entry)
