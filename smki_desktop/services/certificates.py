"""Certificate import and the acceptance check (SEC L11.5-L11.7), the certificate list and
export, and the trust anchors of each environment.

import_certificate: parse, lint, refuse another environment's hierarchy, find the CSR and key by
public key (an Organisation CSR, else a Device CSR of the Devices flow, else a key), compare
subject (role, EUI, CN), key usage and device SAN with the CSR, check the
validity at a given time, verify the chain to this environment's trust anchors, and record the
certificate as `accepted`, `to-be-rejected` (with the reasons: reject it with the DCC Service
Desk now), `unverified` (Live only: no trust anchor to check the chain) or `unmatched` (no CSR
or key of ours has this public key). Certificates are identified by issuer + serial: importing
the same one again changes nothing; a different certificate with a recorded one's issuer and
serial supersedes it when it verifies under a trust anchor and the recorded one does not
(services/cert_supersede.py), else is refused (it may be forged) and the refusal audited. A
Device CSR's row is filed as the Devices flow files a DCC result (`issued` with the serial when
accepted, `mismatch` when to be rejected), so the Devices page and `smki devices rows` show it.

Chain policy: in Test an unverifiable chain (issuer not among the anchors, as with the DCC's
published ZAZ1 samples) is a warning shown to the user; in Live it never lets a certificate be
`accepted` - it stays `unverified` until the user adds the trust anchor and imports again. An
issuer that IS an anchor by name but whose signature does not verify under it is no missing
anchor: the certificate is to be rejected, in either environment.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import csr as acsr
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import Ambiguous, InputError, NotFound
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.profiles import DCC_TEST_POLICY_OIDS, SmkiProfile
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.certs import (
    _rdn_key,
    load_certificate,
    name_text,
    names_equal,
    parse_name_text,
    verify_chain,
)
from smki_desktop.crypto.der import MAX_INPUT, detect_kind, to_der, to_ders
from smki_desktop.crypto.fields import ProfileFields, extract_fields
from smki_desktop.crypto.lint import LintReport, lint_der
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services import cert_supersede, crossing
from smki_desktop.services.context import AppContext, EnvPaths
from smki_desktop.services.csr import profile_for
from smki_desktop.services.device_matching import (
    DeviceCsrMatch,
    file_device_certificate,
    match_device_csr,
)

# The trust anchors live in services/trust.py; these names stay importable from here for the
# faces and tests that use them (certificates keeps no trust code of its own).
from smki_desktop.services.trust import (
    add_trust_anchor,
    list_trust_anchors,
    other_environment_anchors,
    trust_anchors,
)
from smki_desktop.store.repos import cert_records as repo

__all__ = ["add_trust_anchor", "list_trust_anchors", "trust_anchors"]

ACCEPTED = "accepted"
TO_BE_REJECTED = "to-be-rejected"
UNVERIFIED = "unverified"
UNMATCHED = "unmatched"
REVOKED = "revoked"  # set when a verified Organisation CRL lists it (services.revocation_state)
STATUSES = (ACCEPTED, TO_BE_REJECTED, UNVERIFIED, UNMATCHED, REVOKED)
# A CA's certificate (basicConstraints cA) with no CSR or key of ours: named as a CA, with the
# way to trust it (a trust anchor), and not recorded among the certificates (it is not ours).
CA_CERTIFICATE = "ca-certificate"

# The acceptance check's stages, in order, and the level of each finding.
PARSE, PROFILE, MATCH, CHAIN, VERDICT = "parse", "profile", "match", "chain", "verdict"
CHECKS = (PARSE, PROFILE, MATCH, CHAIN, VERDICT)
OK, WARNING, REFUSAL = "ok", "warning", "refusal"
VALIDITY = "validity: "  # how the validity finding begins
SIGNATURE = "chain: "  # how the bad-signature finding begins (then "signature does not …")


@dataclass(frozen=True)
class Finding:
    """One finding of one stage of the acceptance check: `check` is the stage (parse,
    profile, match, chain, verdict), `level` ok | warning | refusal (a refusal is a reason to
    reject the certificate; at parse, a refusal means it cannot be imported at all)."""

    check: str
    level: str
    message: str
    # a summary of the stage (e.g. "matches its CSR", the verdict), not one of the result's
    # reasons or warnings
    summary: bool = False

    @property
    def ok(self) -> bool:
        """The check did not refuse the certificate (a warning is still ok)."""
        return self.level != REFUSAL

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "level": self.level,
                "message": self.message, "summary": self.summary}


@dataclass
class ImportResult:
    cert_id: int | None  # None for a CA certificate (not recorded)
    status: str
    fields: ProfileFields
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate: bool = False
    csr_id: int | None = None
    audit: AuditEntry | None = None
    device_csr: str | None = None  # file name of the matching Device CSR
    device_status: str | None = None  # what its row was filed as (issued | mismatch)
    findings: list[Finding] = field(default_factory=list)  # stage by stage, for the GUI
    checked_at: datetime | None = None  # the time the validity was checked at
    superseded: cert_supersede.Supersession | None = None  # the recorded one this replaced

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
            head = (f"TO BE REJECTED: {what} {self._what_is_wrong()}. Reject it with "
                    "the DCC Service Desk now (SEC L11.5-L11.7); otherwise it is deemed "
                    "accepted.")
        elif self.status == CA_CERTIFICATE:
            head = (f"CA certificate, not imported: {what} (subject {f.subject or '-'}) is a "
                    "certification authority's certificate, not one issued for a key here. "
                    "To trust it, add it as a trust anchor of this environment (after checking "
                    "its fingerprint), then import the certificates it issued again.")
        elif self.status == UNVERIFIED:
            head = (f"Not accepted yet: {what} matches its CSR but its chain cannot be verified "
                    "(add the issuing CA or root as a trust anchor, then import again).")
        else:
            head = f"Recorded, not ours: {what} has a public key of no CSR or key here."
        lines = [head] + ([self.superseded.line()] if self.superseded else [])
        if self.device_csr and self.device_status and not self.duplicate:
            lines.append(f"  Device CSR {self.device_csr}: filed as {self.device_status}")
        lines += [f"  reason: {r}" for r in self.reasons]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _what_is_wrong(self) -> str:
        """The head of a to-be-rejected verdict: by what is wrong when its only reason is its
        validity (expired, not yet valid), a signature that does not verify under the anchor
        named as its issuer, else a mismatch with what was requested."""
        f, when = self.fields, self.checked_at
        if when is not None and self.reasons and all(r.startswith(VALIDITY)
                                                     for r in self.reasons):
            if f.not_after is not None and when > f.not_after:
                return "has expired"
            if f.not_before is not None and when < f.not_before:
                return "is not yet valid"
        if any(r.startswith(f"{SIGNATURE}signature does not verify") for r in self.reasons):
            return "is not signed by the trust anchor it names as issuer (it may be forged)"
        return "does not match what was requested"

    def to_json(self) -> dict[str, Any]:
        return {"cert_id": self.cert_id, "status": self.status, "duplicate": self.duplicate,
                "accepted": self.accepted, "message": self.message,
                "csr_id": self.csr_id, "device_csr": self.device_csr,
                "device_status": self.device_status,
                "reasons": self.reasons, "warnings": self.warnings,
                "fields": self.fields.to_json(),
                "findings": [f.to_json() for f in self.findings]}


def issuer_key(issuer_der: bytes) -> str:
    """The issuer name normalised by RFC 5280 rules (so PrintableString == UTF8String)."""
    return repr(_rdn_key(issuer_der))


def _check_environment(ctx: AppContext, f: ProfileFields) -> None:
    """Refuse a certificate of the other environment's hierarchy: by its policy OIDs (the other
    environment's profile, its user override included, since Live's bundled OIDs are empty)
    or by its issuer being one of the other environment's trust anchors and none of ours."""
    other = crossing.other(ctx.env)
    what = f"Certificate serial {f.serial or 0:X}"
    mine = profile_for(ctx).policy_oids(f.family)
    theirs = load_profile(other, override_path(EnvPaths.for_env(ctx.paths.root, other).env_dir,
                                               other)).policy_oids(f.family)
    foreign = [p for p in f.policy_oids if p in theirs and p not in mine]
    if ctx.env is Environment.LIVE:  # the DCC's Test policies are Test's, whatever is listed
        foreign = sorted(set(f.policy_oids) & DCC_TEST_POLICY_OIDS) + foreign
    if foreign:
        require_same(ctx.env, other, f"{what} (policy {foreign[0]})")
    if f.issuer_der is None:
        return
    if any(names_equal(a.subject, f.issuer_der) for a in trust_anchors(ctx)):
        return
    theirs_ca = next((a for a in other_environment_anchors(ctx)
                      if names_equal(a.subject, f.issuer_der)), None)
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


# -- the acceptance check: parse -> profile -> match -> chain -> verdict ---------------------


@dataclass
class _Check:
    """What the stages learn, passed from one to the next."""

    der: bytes
    what: str
    when: datetime
    profile: SmkiProfile | None = None
    report: LintReport | None = None
    cert: x509.Certificate | None = None
    findings: list[Finding] = field(default_factory=list)
    csr_id: int | None = None
    device: DeviceCsrMatch | None = None
    matched: bool = True
    chain_unverified: bool = False
    replaces: bytes | None = None  # the DER of the recorded certificate this one supersedes
    status: str = ""

    @property
    def fields(self) -> ProfileFields:
        assert self.report is not None
        return self.report.fields

    def reasons(self) -> list[str]:
        return [f.message for f in self.findings if f.level == REFUSAL and not f.summary]

    def warnings(self) -> list[str]:
        return [f.message for f in self.findings if f.level == WARNING and not f.summary]


def _stage_parse(ctx: AppContext, run: _Check) -> list[Finding]:
    run.der = to_der(run.der, run.what)
    if detect_kind(run.der) != "certificate":
        raise InputError(f"{run.what}: not an X.509 certificate (a CSR or something else).")
    run.profile = profile_for(ctx)
    run.report = lint_der(run.der, run.profile, run.what)
    f = run.fields
    crossing.refuse_foreign_certificate(ctx, load_certificate(run.der, run.what),
                                        f"Certificate serial {f.serial or 0:X}")
    _check_environment(ctx, f)
    assert f.issuer_der is not None and f.serial is not None
    run.cert = load_certificate(run.der, run.what)
    return [Finding(PARSE, OK, f"X.509 certificate serial {f.serial:X} from {f.issuer}",
                    summary=True)]


def _stage_profile(ctx: AppContext, run: _Check) -> list[Finding]:
    """Stage 2: the SMKI certificate profile (lint); an error the profile accepts with a
    warning (a known DCC quirk) is a warning."""
    assert run.report is not None and run.profile is not None
    out = []
    for fd in run.report.findings:
        level = REFUSAL if fd.is_error and fd.rule_id not in run.profile.accept_with_warning \
            else WARNING
        out.append(Finding(PROFILE, level, f"profile: {fd.rule_id}: {fd.message}"))
    return out or [Finding(PROFILE, OK, "profile: no findings", summary=True)]


def _match_csr(run: _Check, csr: repo.CsrForKey) -> list[Finding]:
    assert run.cert is not None
    run.csr_id = csr.csr_id
    mismatches = _compare_with_csr(run.fields, csr.der)
    if not mismatches and not names_equal(run.cert.subject.public_bytes(),
                                          extract_subject(csr.der)):
        mismatches.append("subject: the names differ by RFC 5280 comparison")
    return [Finding(MATCH, REFUSAL, f"mismatch: {m}") for m in mismatches]


def _match_device(run: _Check, device: DeviceCsrMatch) -> list[Finding]:
    assert run.cert is not None
    mismatches = _compare_with_csr(run.fields, device.csr)
    if not mismatches and not names_equal(run.cert.subject.public_bytes(),
                                          extract_subject(device.csr)):
        mismatches.append("subject: the names differ by RFC 5280 comparison")
    if not mismatches:  # what the Devices flow's own check finds (one comparison each)
        mismatches = device.severe
    out = [Finding(MATCH, REFUSAL, f"mismatch: {m}") for m in mismatches]
    if device.certificate not in (None, run.der, run.replaces):
        out.append(Finding(MATCH, WARNING, f"Device CSR {device.file_name} already has "
                                           f"certificate serial {device.cert_serial} filed; "
                                           "its row is left as it is"))
    return out


def _match_key(run: _Check, key: repo.KeyForCert) -> list[Finding]:
    f = run.fields
    out = [Finding(MATCH, WARNING, "no CSR recorded for this key: compared with the key only")]
    if f.usage is None or f.usage.value != key.usage:
        out.append(Finding(MATCH, REFUSAL, f"mismatch: key usage: certificate has "
                                           f"{f.usage.value if f.usage else 'no single usage'}"
                                           f", the key is for {key.usage}"))
    return out


def _stage_match(ctx: AppContext, run: _Check) -> list[Finding]:
    """Stage 3: the CSR (Organisation, else a Device CSR of the Devices flow) or the key with
    this certificate's public key, compared field by field."""
    f = run.fields
    csr = repo.csr_for_key(ctx.db, f.key_id)
    key = repo.key_for_cert(ctx.db, f.key_id)
    run.device = match_device_csr(ctx, run.der) if csr is None else None
    if csr is not None:
        require_same(ctx.env, Environment(csr.environment), "The matching CSR")
        out = _match_csr(run, csr)
        what = "its CSR"
    elif run.device is not None:
        require_same(ctx.env, Environment(run.device.environment), "The matching Device CSR")
        out = _match_device(run, run.device)
        what = f"Device CSR {run.device.file_name}"
    elif key is not None:
        out = _match_key(run, key)
        what = "its key"
    else:
        run.matched = False
        if f.key_id:
            crossing.refuse_key_of_other_environment(ctx, f.key_id, run.what.capitalize())
        return [Finding(MATCH, WARNING, "match: no CSR or key here has this public key",
                        summary=True)]
    if not any(x.level == REFUSAL for x in out):
        out.insert(0, Finding(MATCH, OK, f"match: the certificate matches {what}",
                              summary=True))
    return out


def _stage_chain(ctx: AppContext, run: _Check) -> list[Finding]:
    """Stage 4: valid at the check time, and a chain to this environment's trust anchors. In
    Test an unverifiable chain (no anchor found) is a warning; in Live it leaves the
    certificate unverified. A signature that does not verify under the anchor its issuer
    names is a reason to reject it, in either environment."""
    cert, when = run.cert, run.when
    assert cert is not None
    out = []
    if not (cert.not_valid_before_utc <= when <= cert.not_valid_after_utc):
        out.append(Finding(CHAIN, REFUSAL, f"{VALIDITY}not valid at {when:%Y-%m-%d %H:%M:%SZ} "
                                           f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                                           f"{cert.not_valid_after_utc:%Y-%m-%d})"))
    chain = verify_chain(cert, trust_anchors(ctx), at=when)
    if chain.ok:
        out.append(Finding(CHAIN, OK, "chain: verified to a trust anchor", summary=True))
    elif chain.bad_signature:  # an anchor's name, another key's signature: never a warning
        out += [Finding(CHAIN, REFUSAL, f"{SIGNATURE}{p}") for p in chain.problems]
    elif len(chain.path) == 1:  # no anchor found at all
        run.chain_unverified = True
        note = f"chain: {chain.problems[0]}"
        out.append(Finding(CHAIN, WARNING, note + " - accepted in Test only"
                           if ctx.env is Environment.TEST else note))
    else:
        out += [Finding(CHAIN, REFUSAL, f"chain: {p}") for p in chain.problems]
    return out


_VERDICT_LEVEL = {ACCEPTED: OK, TO_BE_REJECTED: REFUSAL, UNVERIFIED: WARNING,
                  UNMATCHED: WARNING}


def _stage_verdict(ctx: AppContext, run: _Check) -> list[Finding]:
    """Stage 5: accepted, to be rejected (with the reasons), unverified (Live, no anchor) or
    unmatched (not ours)."""
    if run.reasons():
        run.status = TO_BE_REJECTED if run.matched else UNMATCHED
    elif not run.matched:
        run.status = UNMATCHED
    elif run.chain_unverified and ctx.env is Environment.LIVE:
        run.status = UNVERIFIED
    else:
        run.status = ACCEPTED
    return [Finding(VERDICT, _VERDICT_LEVEL[run.status], run.status, summary=True)]


_STAGES: tuple[Callable[[AppContext, _Check], list[Finding]], ...] = (
    _stage_profile, _stage_match, _stage_chain, _stage_verdict)


def _run_checks(ctx: AppContext, run: _Check) -> _Check:
    for stage in _STAGES:
        run.findings += stage(ctx, run)
    return run


def findings_by_check(findings: list[Finding]) -> dict[str, list[Finding]]:
    """The findings grouped by stage, in the stages' order (empty stages left out)."""
    out: dict[str, list[Finding]] = {}
    for check in CHECKS:
        got = [f for f in findings if f.check == check]
        if got:
            out[check] = got
    return out


def check_certificate(ctx: AppContext, pem_or_der: bytes, *, at: datetime | None = None,
                      what: str = "certificate") -> list[Finding]:
    """Run the acceptance check without recording anything: every stage's findings, in order.
    A certificate that cannot be read is one `parse` refusal (import raises it as InputError)."""
    run = _Check(pem_or_der, what, at or ctx.clock.now())
    try:
        run.findings += _stage_parse(ctx, run)
    except InputError as exc:
        return [Finding(PARSE, REFUSAL, str(exc))]
    return _run_checks(ctx, run).findings


def import_certificate(ctx: AppContext, pem_or_der: bytes, *, at: datetime | None = None,
                       what: str = "certificate") -> ImportResult:
    """Import one certificate and run the acceptance check at `at` (now by default). A file of
    several is refused naming how many (`import_certificates` imports each). A CA's certificate
    that no CSR or key here matches is named as one (status CA_CERTIFICATE) and not recorded."""
    run = _Check(pem_or_der, what, at or ctx.clock.now())
    run.findings += _stage_parse(ctx, run)
    f = run.fields
    assert f.issuer_der is not None and f.serial is not None
    ikey, serial = issuer_key(f.issuer_der), f"{f.serial:X}"
    row = repo.find_by_issuer_serial(ctx.db, ikey, serial)
    if row is not None and row.der != run.der:
        require_same(ctx.env, Environment(row.environment), f"Certificate {serial}")
        assert run.cert is not None
        sup = cert_supersede.supersession(ctx, run.cert, row)
        if sup is None:
            cert_supersede.refuse_same_issuer_serial(ctx, run.der, run.cert, f.issuer or "",
                                                     row, serial)
        run.replaces = row.der
        _run_checks(ctx, run)
        if row.status == REVOKED:  # a verified CRL listed this issuer + serial: so it is
            run.status = REVOKED
            run.findings.append(Finding(VERDICT, WARNING, "revoked: the issuer and serial "
                                        "are on a verified CRL (as the superseded record)"))
        return _record_new(ctx, run, ikey, serial, (row, sup))
    if row is not None and row.status != UNVERIFIED:
        require_same(ctx.env, Environment(row.environment), f"Certificate {serial}")
        run.findings.append(Finding(VERDICT, _VERDICT_LEVEL.get(row.status, OK),
                                    f"already imported: {row.status}", summary=True))
        return ImportResult(row.cert_id, row.status, f, row.reasons, row.warnings,
                            duplicate=True, csr_id=row.csr_id, findings=run.findings)
    _run_checks(ctx, run)
    if not run.matched and _is_ca(run.cert):
        run.findings[-1] = Finding(VERDICT, WARNING, CA_CERTIFICATE, summary=True)
        return ImportResult(None, CA_CERTIFICATE, f, findings=run.findings, checked_at=run.when)
    if row is not None:  # an unverified one imported again: check again (e.g. anchor added)
        return _recheck(ctx, run, row, serial)
    return _record_new(ctx, run, ikey, serial)


def _is_ca(cert: x509.Certificate | None) -> bool:
    if cert is None:
        return False
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


# The worst first: what a file of several certificates is summed up by.
_WORST_FIRST = (TO_BE_REJECTED, REVOKED, UNMATCHED, UNVERIFIED, CA_CERTIFICATE, ACCEPTED)


@dataclass
class FileImport:
    """The certificates of one file (one, or several: a chain or the officer's ds + ka), each
    imported and checked in the file's order with its own verdict."""

    results: list[ImportResult]

    @property
    def accepted(self) -> bool:
        """Every certificate issued for a key here is accepted (a CA certificate among them is
        only named), and there is at least one."""
        ours = [r for r in self.results if r.status != CA_CERTIFICATE]
        return bool(ours) and all(r.accepted for r in ours)

    @property
    def worst(self) -> ImportResult:
        rank = {s: i for i, s in enumerate(_WORST_FIRST)}
        return min(self.results, key=lambda r: rank.get(r.status, 0))

    @property
    def message(self) -> str:
        if len(self.results) == 1:
            return self.results[0].message
        n = len(self.results)
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        parts = [f"{n} certificates in the file ({summary}):"]
        parts += [f"[{i} of {n}] {r.message}" for i, r in enumerate(self.results, 1)]
        return "\n".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The worst certificate's keys at the top (so a script reading `status` or
        `accepted` sees the worst), `accepted` for the whole file, and every certificate's
        own result under `certificates`, in the file's order."""
        out = self.worst.to_json()
        out.update({"accepted": self.accepted, "message": self.message,
                    "count": len(self.results),
                    "certificates": [r.to_json() for r in self.results]})
        return out


def read_certificate_file(path: str | Path) -> bytes:
    """A certificate file's bytes, read up to the limit of a CSR or certificate file (1 MiB;
    one is a few hundred bytes): a larger file, or one that is not a regular file (a device such
    as /dev/zero, a FIFO, a folder), is refused, naming the file, without reading it all."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise InputError(f"{path}: not a regular file ({kind}); a certificate file is "
                         "expected.")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(MAX_INPUT + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT:
        raise InputError(f"{path}: larger than {MAX_INPUT // (1 << 20)} MiB, the limit for a "
                         "certificate file; not read.")
    return data


def import_certificates(ctx: AppContext, data: bytes, *, at: datetime | None = None,
                        what: str = "certificate file") -> FileImport:
    """Import every certificate of a file (PEM blocks, or DER certificates one after another),
    in order, each with its own acceptance check. Every one is read first: a file with anything
    that is not a certificate of this environment is refused before any is recorded."""
    ders = to_ders(data, what)
    n = len(ders)
    names = [what] if n == 1 else [f"{what} [{i} of {n}]" for i in range(1, n + 1)]
    when = at or ctx.clock.now()
    if n > 1:
        for der, name in zip(ders, names, strict=True):
            _stage_parse(ctx, _Check(der, name, when))
    return FileImport([import_certificate(ctx, der, at=when, what=name)
                       for der, name in zip(ders, names, strict=True)])


def _recheck(ctx: AppContext, run: _Check, row: repo.CertificateRow, serial: str
             ) -> ImportResult:
    reasons, warnings, when = run.reasons(), run.warnings(), run.when
    if run.status == UNVERIFIED:
        return ImportResult(row.cert_id, run.status, run.fields, reasons, warnings,
                            duplicate=True, csr_id=run.csr_id, findings=run.findings)
    device = run.device
    with ctx.audit.change():
        with ctx.db.transaction() as tx:
            repo.update_check(tx, row.cert_id, run.status, reasons, warnings, when.isoformat())
            if run.csr_id is not None:
                repo.set_csr_status(tx, run.csr_id, _csr_status(run.status))
            device_status = _file_device(tx, device, run.der, run.status, reasons, ctx)
        entry = ctx.audit.record(
            "cert.recheck", {"cert_id": row.cert_id, "serial": serial, "status": run.status,
                             "reasons": reasons, "warnings": warnings,
                             "checked_at": when.isoformat(),
                             **_device_audit(device, device_status)}, {"certificate": run.der})
    return ImportResult(row.cert_id, run.status, run.fields, reasons, warnings,
                        csr_id=run.csr_id, audit=entry,
                        device_csr=device.file_name if device else None,
                        device_status=device_status, findings=run.findings,
                        checked_at=when)


def _csr_status(status: str) -> str:
    return "certified" if status == ACCEPTED else status


def _record_new(ctx: AppContext, run: _Check, ikey: str, serial: str,
                replaces: tuple[repo.CertificateRow, cert_supersede.Supersession] | None = None
                ) -> ImportResult:
    f, reasons, warnings, when, device = (run.fields, run.reasons(), run.warnings(), run.when,
                                          run.device)
    new = repo.NewCertificate(
        ctx.env.value, f.issuer or "", ikey, serial, f.family, f.ou,
        str(f.eui) if f.eui else None, f.cn, str(f.device_eui) if f.device_eui else None,
        f.usage.value if f.usage else None, f.key_id, run.csr_id, run.status, reasons,
        warnings, f.not_before.isoformat() if f.not_before else None,
        f.not_after.isoformat() if f.not_after else None, when.isoformat(), run.der,
        ctx.clock.now().isoformat())
    with ctx.audit.change():
        with ctx.db.transaction() as tx:
            cert_id = (cert_supersede.replace(ctx, tx, replaces[0], ikey, new, replaces[1])
                       if replaces else repo.insert(tx, new))
            if run.csr_id is not None:
                repo.set_csr_status(tx, run.csr_id, _csr_status(run.status))
            device_status = _file_device(tx, device, run.der, run.status, reasons, ctx,
                                         run.replaces)
        if replaces:
            cert_supersede.record(ctx, replaces[0], replaces[1], cert_id)
        entry = ctx.audit.record(
            "cert.import",
            {"cert_id": cert_id, "serial": serial, "issuer": f.issuer, "status": run.status,
             "reasons": reasons, "warnings": warnings, "csr_id": run.csr_id, "key_id": f.key_id,
             "checked_at": when.isoformat(), **_device_audit(device, device_status),
             **({"supersedes": replaces[0].cert_id} if replaces else {})},
            {"certificate": run.der})
    return ImportResult(cert_id, run.status, f, reasons, warnings, csr_id=run.csr_id,
                        audit=entry, device_csr=device.file_name if device else None,
                        device_status=device_status, findings=run.findings,
                        checked_at=when, superseded=replaces[1] if replaces else None)


def _file_device(tx: sqlite3.Connection, device: DeviceCsrMatch | None, der: bytes, status: str,
                 reasons: list[str], ctx: AppContext, replaces: bytes | None = None
                 ) -> str | None:
    """File the certificate on its Device CSR row: `issued` when accepted, `mismatch` when to
    be rejected; an unverified one (Live, no anchor yet) leaves the row until it is checked
    again. Returns the row's new status, or None when the row was not changed."""
    if device is None or status not in (ACCEPTED, TO_BE_REJECTED):
        return None
    row_status = "issued" if status == ACCEPTED else "mismatch"
    changed = file_device_certificate(tx, device, der, row_status, reasons,
                                      ctx.clock.now().isoformat(), replaces)
    return row_status if changed else None


def _device_audit(device: DeviceCsrMatch | None, filed: str | None) -> dict[str, Any]:
    if device is None:
        return {}
    return {"device_csr": {"key_id": device.key_id, "file_name": device.file_name,
                           "batch_id": device.batch_id, "device_eui": device.device_eui,
                           "filed_as": filed}}


def extract_subject(csr_der: bytes) -> bytes:
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


def _record(r: repo.CertificateRow) -> CertRecord:
    return CertRecord(r.cert_id, r.serial, r.issuer, r.family, r.role, r.eui, r.cn,
                      r.device_eui, r.usage, r.key_id, r.status, r.reasons, r.warnings,
                      r.not_before, r.not_after, r.der)


def list_certificates(ctx: AppContext, *, role: str | None = None, usage: str | None = None,
                      eui: str | None = None, status: str | None = None) -> list[CertRecord]:
    out = [_record(r) for r in repo.list_certificates(ctx.db, ctx.env.value)]
    if role:
        ou = RemotePartyRole.parse(role).ou
        out = [c for c in out if c.role == ou]
    if usage:
        u = KeyUsage.parse(usage).value
        out = [c for c in out if c.usage == u]
    if eui:
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
