"""The officer register service: load and store `Officer` records, verify, activate, suspend,
revoke (flagging the officer's keys), link keys and the local profile, and the register view with
its warnings. Every change writes an audit record."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import canonical_bytes, parse_canonical
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import Ambiguous, InputError, NotFound, Refusal, SmkiError
from smki_desktop.core.identity import check_credential_names
from smki_desktop.core.keys import KeyInfo
from smki_desktop.core.officers import (
    Credential,
    Officer,
    OfficerRole,
    OfficerStatus,
    Policy,
    Verification,
    Warning,
    activate,
    record_verification,
    revoke,
    suspend,
)
from smki_desktop.core.party import OfficerProfile
from smki_desktop.core.party import OfficerRole as ProfileRole
from smki_desktop.core.plain_text import check_plain, visible
from smki_desktop.core.register import LogOrder, Standing, apply_change, change_body, check_order
from smki_desktop.resources_path import resource
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import (
    check_not_revoked,
    find_credential,
    register_id_of,
    verify_credential_signature,
)
from smki_desktop.services.keys import get_key
from smki_desktop.services.vouched import LogCut
from smki_desktop.store.repos import officers as officers_repo
from smki_desktop.store.repos.officers import LogRow, OfficerRow, RegisterWrite

if TYPE_CHECKING:  # loaded where used: signing an ADT file checks the register, needs none
    from smki_desktop.services.simulator_control import SimulatorInfo


@dataclass(frozen=True)
class OfficerChanged:
    officer: Officer
    audit: AuditEntry


@dataclass(frozen=True)
class Register:
    environment: Environment
    officers: list[Officer]
    warnings: list[Warning]

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment.value,
                "officers": [officer_as_dict(o) for o in self.officers],
                "warnings": [{"code": w.code, "message": w.message, "officer_id": w.officer_id}
                             for w in self.warnings]}


def load_policy() -> Policy:
    return Policy.from_dict(json.loads(resource("forms", "policy.json").read_text("utf-8")))


# -- rows ---------------------------------------------------------------------------------
def _credentials(ctx: AppContext, officer_id: str) -> tuple[Credential, ...]:
    return tuple(Credential(r.key_id, r.kind, r.label, r.created, r.last_used, r.flagged)
                 for r in officers_repo.credentials(ctx.db, officer_id))


@dataclass(frozen=True)
class SignedChange:
    """A register change as signed: its canonical bytes, who signed ('' for the changes that
    need no officer's signature) and the detached CMS signature."""

    body: bytes
    signer: str
    signature: bytes | None


def _log_rows(ctx: AppContext) -> list[LogRow]:
    return officers_repo.log(ctx.db, ctx.env.value)


_anchor_seen: dict[str, tuple[int, str]] = {}
"""Per process: the log (length, chain head) last found to extend its keyring anchor."""


def _chain(rows: list[LogRow]) -> list[str]:
    """A running SHA-256 over each entry's body and signature, in log order."""
    out: list[str] = []
    h = b""
    for row in rows:
        sig = row.signature if row.signature is not None else b""
        h = hashlib.sha256(h + hashlib.sha256(row.body).digest()
                           + hashlib.sha256(sig).digest()).digest()
        out.append(h.hex())
    return out


def check_log_anchor(ctx: AppContext, rows: list[LogRow]) -> None:
    """The log must extend what the OS keyring last recorded of it (its length and chain head,
    keyed by the data folder): a colleague who can write the database but not the keyring can
    append (appended changes still face every rule) but cannot delete or alter a change, e.g.
    the SRO-signed suspension of themselves, whose loss would restore their earlier standing.
    A log that lost or changed entries is refused as a whole."""
    name = f"register-log:{ctx.paths.env_dir.resolve()}"
    chain = _chain(rows)
    here = (len(rows), chain[-1] if chain else "")
    if _anchor_seen.get(name) == here:
        return
    secrets_ = ctx.keystore.secrets
    text = secrets_.get_optional(name)
    known = 0
    if text:
        try:
            doc = json.loads(text)
            known, head = int(doc["count"]), str(doc["head"])
        except (ValueError, KeyError, TypeError):
            known, head = -1, ""
        if known < 0 or known > len(rows) or (known and chain[known - 1] != head):
            _anchor_seen.pop(name, None)
            raise Refusal(
                f"Rule: the officer register log is only ever appended to; the OS keyring "
                f"recorded {max(known, 0)} changes ending in {head[:16]}, and this database's "
                f"register log ({len(rows)} changes) has lost or altered some of them. No "
                "officer's standing is taken from it: restore the database from a backup.")
    if len(rows) > known:
        secrets_.set(name, json.dumps({"count": len(rows), "head": here[1]}))
    _anchor_seen[name] = here


def anchor_log(ctx: AppContext) -> None:
    """Record the log's new length and head in the keyring right after a change is written."""
    check_log_anchor(ctx, _log_rows(ctx))


# the audit records of the changes that carry a signature (their artifact `change` is the
# digest of the signed bytes)
SIGNED_CHANGE_ACTIONS = ("officer.activate", "officer.suspend", "officer.revoke")


def _written_by_app(ctx: AppContext, digest: str) -> bool:
    """The audit log (signed with the key the OS keyring holds) records writing this change.
    When it does not because the log was cut, `LogCut` says so (the record may be one of
    those cut off): the officer learns of the tampering, not of a change "never recorded"."""
    found, cut = ctx.audit.vouched_or_cut(SIGNED_CHANGE_ACTIONS)
    if any(e.artifacts.get("change") == digest for e in found):
        return True
    if cut is not None:
        raise LogCut(f"The officer register cannot be checked: {cut}.")
    return False


def _check_signer_not_revoked(ctx: AppContext, cert: x509.Certificate, digest: str) -> None:
    """A change signed with a credential the DCC has revoked (its CRL, as last fetched, lists
    it) counts only when SMKI Desktop itself wrote the change: its audit record of that very
    change proves it went through the signing path, which refused a revoked credential then,
    so the change was made before the revocation was known here. Nothing else can show that:
    the signer chooses the change's `at` and the signature's signing time, and the keyring's
    anchor of the log moves forward whenever the log is read. So a change appended to the
    database with a stolen key after its credential was revoked changes no one's standing,
    whatever date it carries."""
    try:
        check_not_revoked(ctx, cert)
    except Refusal as exc:
        if _written_by_app(ctx, digest):
            return
        raise Refusal(f"{exc.message} A change signed with a revoked credential counts only if "
                      "SMKI Desktop recorded writing it (before the revocation was known); it "
                      "recorded no such change.") from None


@dataclass(frozen=True)
class AppliedChange:
    """A register log entry that replay applied: its row number and its parsed change."""

    seq: int
    change: dict[str, Any]


def _replay(ctx: AppContext) -> tuple[dict[str, Standing], list[str], LogOrder]:
    standings, problems, order, _applied = _replay_all(ctx)
    return standings, problems, order


def _replay_all(ctx: AppContext
                ) -> tuple[dict[str, Standing], list[str], LogOrder, list[AppliedChange]]:
    standings: dict[str, Standing] = {}
    problems: list[str] = []
    order = LogOrder()
    applied: list[AppliedChange] = []
    rows = _log_rows(ctx)
    check_log_anchor(ctx, rows)
    for row in rows:
        body = row.body
        digest = hashlib.sha256(body).hexdigest()
        try:
            change = parse_canonical(body, f"register log entry {row.seq}")
            signer = str(change.get("signer") or "")
            if signer or row.signature is not None:
                if row.signature is None:
                    raise Refusal(f"it names signer {signer} but carries no signature")
                rid, cert = verify_credential_signature(
                    ctx, body, row.signature,
                    datetime.fromisoformat(str(change["at"])))
                if rid.upper() != signer.upper():
                    raise Refusal(f"it is signed by {rid or 'an unnamed credential'}, not by "
                                  f"{signer}")
                _check_signer_not_revoked(ctx, cert, digest)
            if change.get("environment") != ctx.env.value:
                raise Refusal(f"it is a {change.get('environment')} change")
            check_order(order, change, digest)
            new = apply_change(standings, change)
        except (SmkiError, ValueError, KeyError) as exc:
            if isinstance(exc, LogCut):
                raise  # the whole register is in doubt, not this one entry
            msg = exc.message if isinstance(exc, SmkiError) else str(exc)
            problems.append(f"Register log entry {row.seq} ({row.officer_id}, "
                            f"{row.action}) is ignored: {msg}")
            continue
        standings[new.officer_id] = new
        order.note(change, digest, row.seq)
        applied.append(AppliedChange(row.seq, dict(change)))
    return standings, problems, order, applied


def all_applied_changes(ctx: AppContext) -> list[AppliedChange]:
    """The register log's changes that replay applied, in log order: the log extends its
    keyring anchor, so none of them was altered or removed since it was written."""
    return _replay_all(ctx)[3]


def replay(ctx: AppContext) -> tuple[dict[str, Standing], list[str]]:
    """The register's standing recomputed from its log, every signature checked; entries that
    break a rule or do not verify are ignored and reported: a forged signature, one whose
    credential chains only to a trust anchor not added through SMKI Desktop, one made with a
    credential since revoked (`_check_signer_not_revoked`), a copy of a change already applied
    or a change older than the officer's last (`check_order`). The log itself must extend its
    keyring anchor (`check_log_anchor`)."""
    standings, problems, _order = _replay(ctx)
    return standings, problems


def _from_row(ctx: AppContext, r: OfficerRow,
              standings: dict[str, Standing] | None = None) -> Officer:
    ver = r.verification
    if standings is None:
        standings = replay(ctx)[0]
    st = standings.get(r.officer_id)
    # the standing comes from the signed log, never from the row's status column
    status = st.status if st is not None else OfficerStatus.NOMINATED
    role = st.role if st is not None else OfficerRole(r.role)
    # text of entries stored before the forms refused control and format characters is
    # shown with each such character named ("[U+202E]"), never raw to a terminal or a table
    v_ = visible
    o = Officer(
        officer_id=r.officer_id, role=role,
        environment=Environment(r.environment), status=status,
        name=v_(r.name), email=v_(r.email), organisation=v_(r.organisation),
        party_id=v_(r.party_id), job_title=v_(r.job_title), nominated_by=r.nominated_by,
        nominator_name=v_(r.nominator_name), nominator_capacity=r.nominator_capacity,
        self_nominated=r.self_nominated, nominated_on=v_(r.nominated_on),
        verification=Verification(v_(ver["date"]), v_(ver["verifier"]),
                                  tuple(v_(e) for e in ver["evidence"]),
                                  v_(ver["outcome"])) if ver else None,
        activated_at=r.activated_at, status_reason=v_(r.status_reason),
        status_changed_at=r.status_changed_at, screening_date=v_(r.screening_date),
        screening_ref=v_(r.screening_ref), form_id=r.form_id,
        credentials=_credentials(ctx, r.officer_id),
    )
    require_same(ctx.env, o.environment, f"Officer register entry {o.officer_id}")
    return o


def list_officers(ctx: AppContext) -> list[Officer]:
    rows = officers_repo.for_environment(ctx.db, ctx.env.value)
    standings = replay(ctx)[0]
    return [_from_row(ctx, r, standings) for r in rows]


def get_officer(ctx: AppContext, ref: str,
                standings: dict[str, Standing] | None = None) -> Officer:
    """By register id (case-insensitive), or by unique email; its standing from `standings`
    when the caller replayed the log already in this action, else replayed now."""
    ref = ref.strip()
    rows = officers_repo.by_id(ctx.db, ref)
    if not rows:
        rows = officers_repo.by_email(ctx.db, ref)
    if not rows:
        raise NotFound(f"No officer {ref!r} in the {ctx.env.label} officer register.")
    if len(rows) > 1:
        raise Ambiguous(f"{ref!r} matches several officers: "
                        + ", ".join(r.officer_id for r in rows) + ".")
    return _from_row(ctx, rows[0], standings)


def find_officer(ctx: AppContext, ref: str,
                 standings: dict[str, Standing] | None = None) -> Officer | None:
    try:
        return get_officer(ctx, ref, standings)
    except NotFound:
        return None


def next_officer_id(w: RegisterWrite, role: OfficerRole) -> str:
    """Inside the caller's register change: the next free register id for the role."""
    return w.next_id(role.value, role.label)


def insert_officer(w: RegisterWrite, o: Officer, form_values: dict[str, Any],
                   record_sha256: str, now: str) -> None:
    """Inside the caller's register change: a new entry and its nomination change."""
    w.insert(o, form_values, record_sha256, now)
    body = canonical_bytes(change_body(
        env=o.environment, officer_id=o.officer_id, action="nominate", at=now,
        nonce=secrets.token_hex(8),
        details={"role": o.role.value, "party_id": o.party_id, "name": o.name,
                 "email": o.email, "nominated_by": o.nominated_by or "",
                 "nominator_capacity": o.nominator_capacity,
                 "nomination_form": record_sha256}))
    log_change(w, o.environment, o.officer_id, "nominate", OfficerStatus.NOMINATED,
               SignedChange(body, "", None), now)


def log_change(w: RegisterWrite, env: Environment, officer_id: str, action: str,
               status: OfficerStatus, change: SignedChange, at: str) -> None:
    w.append_log(env.value, officer_id, action, status.value, change.body, change.signer,
                 change.signature, at)


def record_sha256(ctx: AppContext, officer_id: str) -> str:
    return officers_repo.record_sha256(ctx.db, officer_id)


def check_change(ctx: AppContext, change: bytes) -> Standing:
    """Refuse a change the register's rules forbid, before it is signed and written (one that
    replay would then ignore: a copy, or dated before the officer's last change, included)."""
    standings, _problems, order = _replay(ctx)
    parsed = parse_canonical(change, "register change")
    try:
        check_order(order, parsed, hashlib.sha256(change).hexdigest())
    except Refusal as exc:
        raise Refusal(f"This register change is refused: {exc.message}.") from None
    return apply_change(standings, parsed)


def _update(ctx: AppContext, w: RegisterWrite, o: Officer) -> None:
    w.update_standing(o, ctx.clock.now().isoformat())


def form_values(ctx: AppContext, officer_id: str) -> dict[str, Any]:
    values = officers_repo.form_values(ctx.db, officer_id)
    if values is None:
        raise NotFound(f"No officer {officer_id!r} in the {ctx.env.label} officer register.")
    return values


# -- transitions --------------------------------------------------------------------------
def verify_officer(ctx: AppContext, ref: str, v: Verification,
                   policy: Policy | None = None) -> OfficerChanged:
    o = get_officer(ctx, ref)
    new = record_verification(o, v, policy or load_policy(), today=ctx.clock.now().date())
    now = ctx.clock.now().isoformat()
    body = canonical_bytes(change_body(
        env=ctx.env, officer_id=o.officer_id, action="verify", at=now,
        nonce=secrets.token_hex(8),
        details={"date": v.date, "verifier": v.verifier, "evidence": list(v.evidence),
                 "outcome": v.outcome}))
    check_change(ctx, body)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            _update(ctx, w, new)
            log_change(w, ctx.env, o.officer_id, "verify", new.status, SignedChange(body, "", None),
                       now)
            vals = form_values(ctx, o.officer_id)
            vals.update({"verification.date": v.date, "verification.verifier": v.verifier,
                         "verification.evidence": list(v.evidence),
                         "verification.outcome": v.outcome})
            w.set_form_values(o.officer_id, vals)
        entry = ctx.audit.record("officer.verify", {
            "officer_id": o.officer_id, "date": v.date, "verifier": v.verifier,
            "evidence": list(v.evidence), "outcome": v.outcome, "status": new.status.value})
    anchor_log(ctx)
    return OfficerChanged(new, entry)


def activate_officer(ctx: AppContext, ref: str, change: SignedChange) -> OfficerChanged:
    """Apply a signed activation (`services.register.change_standing` makes it)."""
    o = get_officer(ctx, ref)
    new = activate(o, ctx.clock.now().isoformat())
    check_change(ctx, change.body)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            _update(ctx, w, new)
            log_change(w, ctx.env, o.officer_id, "activate", new.status, change, new.activated_at)
            if o.status is OfficerStatus.SUSPENDED:
                _unflag_keys(w, new, "officer-suspended")
        entry = ctx.audit.record("officer.activate", {"officer_id": o.officer_id,
                                                      "previous": o.status.value,
                                                      "signed_by": change.signer or None},
                                 {"change": change.body})
    anchor_log(ctx)
    return OfficerChanged(new, entry)


def _flag_keys(w: RegisterWrite, o: Officer, flag: str) -> list[str]:
    """Add `flag` to the flags of the officer's keys in the key table."""
    return [cred.key_id for cred in o.credentials if w.flag_key(cred.key_id, flag)]


def _unflag_keys(w: RegisterWrite, o: Officer, flag: str) -> None:
    for cred in o.credentials:
        w.unflag_key(cred.key_id, flag)


def suspend_officer(ctx: AppContext, ref: str, reason: str,
                    change: SignedChange) -> OfficerChanged:
    o = get_officer(ctx, ref)
    new = suspend(o, reason, ctx.clock.now().isoformat())
    check_change(ctx, change.body)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            _update(ctx, w, new)
            log_change(w, ctx.env, o.officer_id, "suspend", new.status, change,
                       new.status_changed_at)
            keys = _flag_keys(w, new, "officer-suspended")
        entry = ctx.audit.record("officer.suspend", {"officer_id": o.officer_id, "reason": reason,
                                                     "previous": o.status.value,
                                                     "keys_flagged": keys,
                                                     "signed_by": change.signer},
                                 {"change": change.body})
    anchor_log(ctx)
    return OfficerChanged(new, entry)


def revoke_officer(ctx: AppContext, ref: str, reason: str,
                   change: SignedChange) -> OfficerChanged:
    o = get_officer(ctx, ref)
    new = revoke(o, reason, ctx.clock.now().isoformat())
    check_change(ctx, change.body)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            _update(ctx, w, new)
            log_change(w, ctx.env, o.officer_id, "revoke", new.status, change,
                       new.status_changed_at)
            keys = _flag_keys(w, new, "officer-revoked")
        entry = ctx.audit.record("officer.revoke", {"officer_id": o.officer_id, "reason": reason,
                                                    "previous": o.status.value,
                                                    "keys_flagged": keys,
                                                    "signed_by": change.signer},
                                 {"change": change.body})
    anchor_log(ctx)
    return OfficerChanged(new, entry)


def prove_possession(ctx: AppContext, key: KeyInfo) -> None:
    """The key signs a fresh challenge and the signature verifies with its public key: the
    person linking it holds it (a keyring entry or a token with its PIN)."""
    from smki_desktop.services.token import signer_for

    challenge = b"smki-desktop link-key " + secrets.token_bytes(32)
    with signer_for(ctx, key) as s:
        sig = s.sign(challenge)
    pub = serialization.load_der_public_key(key.public_key_der)
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(sig, challenge, ec.ECDSA(hashes.SHA256()))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(sig, challenge, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise Refusal(f"Key {key.short_id}: unsupported key type for proof of possession.")
    except InvalidSignature:
        raise Refusal(f"Key {key.short_id} did not prove possession: its signature over the "
                      "challenge does not verify.") from None


def link_key(ctx: AppContext, ref: str, key_ref: str, kind: str = "key") -> OfficerChanged:
    """Record that an officer holds a key (or a token key) of this environment: the key proves
    possession, and a file-signing credential it has must name this officer's register id."""
    o = get_officer(ctx, ref)
    if o.status is OfficerStatus.REVOKED:
        raise Refusal(f"{o.officer_id} is revoked; a revoked officer holds no credentials.")
    key = get_key(ctx, key_ref)
    cred = find_credential(ctx, "file-signing", key.key_id)
    named = register_id_of(cred.certificate) if cred is not None else ""
    if named:  # a credential naming no one links (acting then needs one that names them)
        check_credential_names(o.officer_id, named)
    prove_possession(ctx, key)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            holder = w.other_holder(key.key_id, o.officer_id)
            if holder:
                raise Refusal(f"Key {key.short_id} is already held by {holder}: one "
                              "officer per credential.")
            w.add_credential(
                o.officer_id, key.key_id, ctx.env.value,
                "token" if key.location.value == "pkcs11" else kind, key.label,
                key.created.isoformat())
        entry = ctx.audit.record("officer.link-key", {
            "officer_id": o.officer_id, "key_id": key.key_id, "label": key.label,
            "possession": "proved", "credential_serial": cred.serial if cred else None})
    return OfficerChanged(get_officer(ctx, o.officer_id), entry)


def feed_simulator(ctx: AppContext, info: SimulatorInfo) -> None:
    """Test: send the register's nominations and their standing to the simulator, standing for
    the DCC's own processing of the nomination forms (it issues file-signing credentials only
    to officers it holds as verified, and checks approvals against its own record)."""
    if ctx.env is not Environment.TEST:
        raise Refusal("Only the Test simulator is fed the officer register.")
    # the signed log itself: the simulator replays and verifies it on its own
    log = [{"body": base64.b64encode(r.body).decode(),
            "signature": base64.b64encode(r.signature).decode()
            if r.signature is not None else None} for r in _log_rows(ctx)]
    from smki_desktop.services import simulator_control

    simulator_control.control(info, "/_control/officers", {"log": log})


def link_profile(ctx: AppContext, ref: str) -> OfficerChanged:
    """Link the local officer profile to its register entry (creating the profile from the
    entry when there is none)."""
    o = get_officer(ctx, ref)
    prof = ctx.officer()
    if prof is None:
        prof = OfficerProfile(o.name, ProfileRole(o.role.value), o.email, o.officer_id)
    else:
        differences = []
        if " ".join(prof.name.lower().split()) != " ".join(o.name.lower().split()):
            differences.append(f"the profile's name is {prof.name!r}, the entry's {o.name!r}")
        if prof.role.value != o.role.value:
            differences.append(f"the profile's role is {prof.role.value.upper()}, the entry's "
                               f"{o.role.label}")
        if differences:
            raise Refusal(f"The local officer profile is not register entry {o.officer_id}: "
                          + "; ".join(differences) + ". Link the profile to its own entry, or "
                          "correct your officer profile first.", hint="profile.set")
        prof = replace(prof, register_id=o.officer_id)
    from smki_desktop.services.party import set_officer

    saved = set_officer(ctx, prof)
    return OfficerChanged(o, saved.audit)


def profile_officer(ctx: AppContext) -> Officer | None:
    """The register entry the local officer profile links to (by id, else by email)."""
    prof = ctx.officer()
    if prof is None:
        return None
    if prof.register_id:
        found = find_officer(ctx, prof.register_id)
        if found:
            return found
    if prof.email:
        try:
            return find_officer(ctx, prof.email)
        except Ambiguous:
            return None
    return None


OFFICER_KEY_FLAGS = ("officer-suspended", "officer-revoked")


def key_holder(ctx: AppContext, key_id: str) -> Officer | None:
    """The register entry that holds a key (`officer link-key`), or None."""
    row = officers_repo.key_holder(ctx.db, key_id, ctx.env.value)
    return _from_row(ctx, row) if row is not None else None


def signing_block(ctx: AppContext, key: KeyInfo) -> str:
    """Why `key` must not sign anything: it carries `officer-suspended` or `officer-revoked`
    (set when its officer was suspended or revoked), naming the officer; '' when it may."""
    flags = [f for f in key.flags if f in OFFICER_KEY_FLAGS]
    if not flags:
        return ""
    holder = key_holder(ctx, key.key_id)
    if holder is not None:
        who = (f"{holder.officer_id} ({holder.name}, {holder.role.label}), now "
               f"{holder.status.value}"
               + (f": {holder.status_reason}" if holder.status_reason else ""))
    else:
        who = "an officer no longer in the register"
    return (f"Key {key.short_id} ({key.label}) carries the flag {', '.join(flags)}: it is held "
            f"by {who}. A suspended or revoked officer's key signs nothing; use a key of an "
            f"active officer (a suspension is lifted by activating the officer again).")


def ignored_changes(ctx: AppContext, officer_id: str | None = None) -> list[str]:
    """The register log's entries that replay ignored (forged, signed under a trust anchor not
    added through SMKI Desktop, signed with a revoked credential, copied, out of order), each
    with its reason; only those of `officer_id` when given."""
    problems = replay(ctx)[1]
    if officer_id is None:
        return problems
    tag = f"({officer_id.upper()}, "
    return [p for p in problems if tag in p.upper()]


def officer_as_dict(o: Officer) -> dict[str, Any]:
    v = o.verification
    return {
        "officer_id": o.officer_id, "role": o.role.value, "environment": o.environment.value,
        "status": o.status.value, "name": o.name, "email": o.email,
        "organisation": o.organisation, "party_id": o.party_id, "job_title": o.job_title,
        "nominated_by": o.nominated_by, "nominator_name": o.nominator_name,
        "nominator_capacity": o.nominator_capacity, "self_nominated": o.self_nominated,
        "nominated_on": o.nominated_on,
        "verification": {"date": v.date, "verifier": v.verifier, "evidence": list(v.evidence),
                         "outcome": v.outcome} if v else None,
        "activated_at": o.activated_at, "status_reason": o.status_reason,
        "status_changed_at": o.status_changed_at,
        "screening": {"date": o.screening_date, "reference": o.screening_ref},
        "form_id": o.form_id,
        "credentials": [{"key_id": c.key_id, "kind": c.kind, "label": c.label,
                         "created": c.created, "last_used": c.last_used, "flagged": c.flagged}
                        for c in o.credentials],
    }


def parse_verification(date: str, verifier: str, evidence: list[str], outcome: str) -> Verification:
    items: list[str] = []
    for e in evidence:
        items += [x.strip() for x in e.split(",") if x.strip()]
    if not items and outcome == "passed":
        raise InputError("Evidence: list the GPG45 evidence seen and checked (e.g. "
                         "photo-id,photo-id-validated,second-evidence,face-match).",
                         hint="field.evidence")
    return Verification(check_plain(date, "Date"), check_plain(verifier, "Verifier"),
                        tuple(check_plain(e, "Evidence") for e in items),
                        check_plain(outcome, "Outcome").lower())
