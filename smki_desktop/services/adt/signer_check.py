"""Whose signature on an ADT or Action file counts (`adt verify`, `adt deliver`): the identity
rules every officer action follows, applied to the signer of a file.

Where the officer register decides (Live; Test once it has entries) the signer's credential
must be a file-signing credential recorded in this environment, not revoked (its CRL as last
fetched), naming (serialNumber) an ARO of this register whose entry holds the credential's key,
and that ARO must be active. Its chain is checked at the current time: the signing time a
signature carries is the signer's own word, so it is believed only when this installation's
audit log (a record proven written by SMKI Desktop) holds the signing of that very signature.
The same record, when it names the officer, shows a file signed by an ARO since suspended or
revoked was signed while they were active (signing refuses anyone else): such a file still
verifies, with a warning naming their standing now. Without that record it is refused. A
revoked credential is refused whatever the records say: revocation says the key may have been
out of its holder's hands."""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.core.identity import Signatory, check_may_act
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.core.officers import Officer, OfficerRole
from smki_desktop.core.register import Standing
from smki_desktop.crypto.cms import Content, SignerUntrusted, VerifiedSignature, verify_detached
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import (
    check_not_revoked,
    list_credentials,
    register_id_of,
)
from smki_desktop.services.credential_vouch import require_vouched
from smki_desktop.services.officers import find_officer, replay
from smki_desktop.services.trust import unvouched_anchors, unvouched_note
from smki_desktop.store.repos import officers as officers_repo

SIGNING_RECORDS = ("adt.sign", "quarantine.sign")
ARO_SIGNS = "signing ADT and Action files"


def register_decides(ctx: AppContext) -> bool:
    """Whether the officer register decides who signs and whose signature counts: always in
    Live; in Test once the register has an entry (the first-run walk makes the profile's)."""
    return ctx.env is Environment.LIVE or bool(
        officers_repo.for_environment(ctx.db, ctx.env.value))


def register_standings(ctx: AppContext) -> dict[str, Standing] | None:
    """The register's standings, replayed now for `check_signer` later in the same action (the
    replay needs not the file: `adt verify` makes it while the file is still being hashed);
    None without a register, or when the replay refuses (`check_signer` then replays, and
    refuses, in its place, after the file's own checks as before)."""
    if not register_decides(ctx):
        return None
    try:
        return replay(ctx)[0]
    except SmkiError:
        return None


def signed_here(ctx: AppContext, sig: bytes) -> AuditEntry | None:
    """This installation's proven record of making signature `sig` (file or manifest), if any."""
    sha = hashlib.sha256(sig).hexdigest()
    for e in ctx.audit.vouched(SIGNING_RECORDS):
        if sha in (e.artifacts.get("signature"), e.artifacts.get("manifest_signature")):
            return e
    return None


def verify_now(ctx: AppContext, content: Content, sig: bytes, anchors: list[x509.Certificate],
               claimed: datetime | None, what: str) -> VerifiedSignature:
    """Verify `sig` with the signer's chain checked at the current time; at the signing time
    it claims only when this installation's audit log records making it (`signed_here`)."""
    try:
        return verify_detached(content, sig, trust_anchors=anchors, at=ctx.clock.now())
    except SignerUntrusted as now_exc:
        if not anchors:
            raise
        refuse_unvouched(ctx, content, sig, what)
        try:
            then = verify_detached(content, sig, trust_anchors=anchors, at=claimed)
        except SmkiError:
            raise now_exc from None
        if signed_here(ctx, sig) is not None:
            return then
        cert = then.signer_certificate
        if cert is None:
            raise
        told = claimed or then.signing_time
        raise Refusal(
            f"Rule: a signature counts only with a credential valid now, unless this "
            f"installation's audit log records making it; {what} is signed with a credential "
            f"valid from {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d} ({cert.subject.rfc4514_string()}), and the "
            f"signing time it claims ({told.isoformat() if told else 'none'}) is the signer's "
            "own word. " + now_exc.message) from None


def refuse_unvouched(ctx: AppContext, content: Content, sig: bytes, what: str) -> None:
    """Name a signer that chains only to a trust anchor put in the database without SMKI
    Desktop (no audited addition): it vouches for no signer."""
    for foreign in unvouched_anchors(ctx):
        try:
            verify_detached(content, sig, trust_anchors=[foreign])
        except (SmkiError, ValueError):
            continue
        raise Refusal(f"Rule: a file's signer's credential chains to a trust anchor added "
                      f"through SMKI Desktop; {what}: {unvouched_note(foreign)}")


def _key_id(cert: x509.Certificate) -> str:
    return key_id_for_spki(cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _signer_entry(ctx: AppContext, cert: x509.Certificate, what: str,
                  standings: dict[str, Standing] | None = None) -> Officer:
    """The register entry the credential names and whose entry holds its key."""
    rid = register_id_of(cert)
    if not rid:
        raise Refusal(f"Rule: a file counts only when signed with a credential that names its "
                      f"officer's register id (serialNumber); {what} is signed with "
                      f"{cert.subject.rfc4514_string()}, which names none.")
    officer = find_officer(ctx, rid, standings)  # the one replay of the register log
    if officer is None:
        raise Refusal(f"Rule: a file counts only when signed by an officer of the "
                      f"{ctx.env.label} register; {what} is signed by {rid}, who is not in it.")
    kid = _key_id(cert)
    if not any(c.key_id == kid for c in officer.credentials):
        raise Refusal(f"Rule: a file counts only when signed through a key linked to the "
                      f"signer's register entry; {what}: key {kid[:16]} is not linked to "
                      f"{officer.officer_id}.")
    recorded = next((c for c in list_credentials(ctx, "file-signing") if c.certificate == cert),
                    None)
    if recorded is None:
        raise Refusal(f"Rule: a file is signed with an IKI file-signing credential; {what} is "
                      f"signed with {cert.subject.rfc4514_string()} (serial "
                      f"{cert.serial_number:X}), which is not a file-signing credential of "
                      f"the {ctx.env.label} environment.")
    require_vouched(ctx, recorded)  # its row is the certificate its import recorded
    return officer


def check_signer(ctx: AppContext, verified: VerifiedSignature, sig: bytes, what: str,
                 warnings: list[str], standings: dict[str, Standing] | None = None
                 ) -> Officer | None:
    """Refuse a signer the officer register does not vouch for (module doc); None (with a
    training warning) in a Test without a register. `standings`: the register's replay made
    earlier in this action (`register_standings`), else it is replayed here."""
    cert = verified.signer_certificate
    if not register_decides(ctx):
        warnings.append("Training (Test): the officer register has no entries, so the signer "
                        "was not checked against it; in Live this signature would be refused.")
        return None
    if cert is None:
        raise Refusal(f"Rule: a file's signature carries its signer's credential; {what} has "
                      "none.")
    check_not_revoked(ctx, cert)
    officer = _signer_entry(ctx, cert, what, standings)
    try:
        check_may_act(Signatory.of(officer), ctx.env, (OfficerRole.ARO,), ARO_SIGNS)
    except Refusal:
        record = signed_here(ctx, sig)
        if officer.role is not OfficerRole.ARO or record is None or \
                str(record.details.get("officer", "")).upper() != officer.officer_id.upper():
            raise
        warnings.append(f"{officer.officer_id} ({officer.name}) is {officer.status.value} in "
                        f"the register now; this installation's audit log (record "
                        f"{record.seq}) shows the file was signed while they were an active "
                        "ARO.")
    return officer
