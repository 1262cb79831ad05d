"""Revocation under dual control: an ARO files a canonical signed request for exact
certificates, an SRO approves (a second signature over the same bytes) or rejects it, and only
a fully approved request is submitted to the DCC, which checks both signatures itself. Requests
travel between workstations as files (export/import). See docs/identity.md."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509

from smki_desktop.core.approvals import (
    REJECTION_TYPE,
    REQUEST_TYPE,
    check_approver,
    check_not_expired,
    check_reason,
    check_requester,
    check_urgency,
)
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import canonical_bytes, parse_canonical, sha256_hex
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, NotFound, Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.identity import Signatory
from smki_desktop.core.officers import OfficerRole
from smki_desktop.core.portal_ports import Rejected
from smki_desktop.core.ws_xml import XmlMessageError
from smki_desktop.crypto.certs import name_text
from smki_desktop.services import identity, repository, simulator_control
from smki_desktop.services import portal as portal_service
from smki_desktop.services.certificates import CertRecord, find_certificate
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import feed_simulator
from smki_desktop.services.revocation_state import (
    KIND,
    RequestView,
    check_rejection_names,
    get_view,
    load_rules,
    mark_completed,
    repo,
    signature_time,
    view,
)
from smki_desktop.store.atomic import write_recorded
from smki_desktop.store.repos.approvals import RequestRow, SignatureRow
from smki_desktop.store.repos.certificates import CertificateStatusRepo

BUNDLE_FORMAT = "smki-desktop/revocation-bundle"
SIGNED_PATH = "/portal/revocation/signed"


@dataclass(frozen=True)
class Changed:
    request: RequestView
    audit: AuditEntry


def _cert_entry(rec: CertRecord) -> dict[str, Any]:
    return {"serial": rec.serial.upper(), "issuer": rec.issuer, "family": rec.family,
            "role": rec.role, "eui": rec.eui or rec.device_eui, "usage": rec.usage,
            "sha256": hashlib.sha256(rec.der).hexdigest()}


def new_request_id(ctx: AppContext) -> str:
    return f"RV-{ctx.clock.now():%Y%m%d}-{secrets.token_hex(3).upper()}"


def _repository_entries(ctx: AppContext, euis: list[str], role: str | None
                        ) -> list[dict[str, Any]]:
    """Organisation certificates found by subject EUI (and role) in the SMKI Repository, not
    already revoked there."""
    out = []
    for eui in euis:
        found = [e for e in repository.search(ctx, subject_eui=eui, role=role).entries
                 if e.status != "R"]
        if not found:
            raise NotFound(f"EUI {eui}: the Repository has no Organisation certificate in use "
                           f"for this EUI{' and role ' + role if role else ''}.",
                           hint="field.eui")
        for e in found:
            cert = x509.load_der_x509_certificate(e.certificate_der)
            out.append({"serial": f"{cert.serial_number:X}", "issuer": name_text(cert.issuer),
                        "family": "organisation", "role": e.role, "usage": {
                            "DS": "signing", "KA": "key-agreement"}.get(e.usage or "", e.usage),
                        "eui": str(Eui64.parse(e.subject_eui or "", "EUI")) if e.subject_eui
                        else None, "sha256": hashlib.sha256(e.certificate_der).hexdigest()})
    return out


MIN_JUSTIFICATION = 10  # letters or digits: what the SRO approving it and the DCC read


def check_justification(justification: str) -> str:
    """The justification a revocation request is signed with (the Revoke dialog checks it
    before it closes, with this function): at least MIN_JUSTIFICATION letters or digits, so
    that the approving SRO and the DCC read why ("x" or "..." says nothing)."""
    text = justification.strip()
    said = sum(1 for ch in text if ch.isalnum())
    if said < MIN_JUSTIFICATION:
        what = f"{text[:40]!r} says too little; " if text else ""
        raise InputError(f"Justification: {what}say in words why these certificates must be "
                         f"revoked (at least {MIN_JUSTIFICATION} letters or digits, e.g. "
                         "'laptop holding the key stolen').", hint="field.justification")
    return text


def request(ctx: AppContext, serials: list[str], *, reason: str, justification: str,
            as_ref: str | None, key_ref: str | None, issuer: str | None = None,
            urgency: str = "normal", incident_id: str = "", euis: list[str] | None = None,
            role: str | None = None) -> Changed:
    """The ARO's signed revocation request for exact certificates: of the store (by serial),
    or found in the SMKI Repository by subject EUI (and role)."""
    if not serials and not euis:
        raise InputError("Name at least one certificate to revoke (by serial or EUI).",
                         hint="field.revoke-certificates")
    reason = check_reason(reason)
    urgency = check_urgency(urgency)
    check_justification(justification)
    certs = []
    for s in serials:
        rec = find_certificate(ctx, s, issuer)
        if rec.status == "revoked":
            raise Refusal(f"Certificate {rec.serial} is already revoked.")
        certs.append(_cert_entry(rec))
    if euis:
        have = {c["serial"].lstrip("0") for c in certs}
        certs += [c for c in _repository_entries(ctx, euis, role)
                  if c["serial"].lstrip("0") not in have]
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=(OfficerRole.ARO,),
                                   what="a revocation request")
    check_requester(actor.signatory, ctx.env)
    rule = load_rules(ctx)["revocation"]
    now = ctx.clock.now().replace(microsecond=0)
    party = ctx.party()
    request_id = new_request_id(ctx)
    created, expires = now.isoformat(), (now + timedelta(hours=rule.request_ttl_hours))
    body: dict[str, Any] = {
        "type": REQUEST_TYPE, "version": 1, "environment": ctx.env.value,
        "id": request_id, "party_id": actor.officer.party_id or
        (party.party_id if party else ""),
        "requested_by": actor.officer.officer_id, "created": created,
        "expires": expires.isoformat(),
        "reason": reason, "justification": justification.strip(), "urgency": urgency,
        "certificates": certs,
    }
    data = canonical_bytes(body)
    sig = identity.sign(ctx, actor, data, now)
    row = RequestRow(request_id, ctx.env.value, KIND, data, sha256_hex(data),
                     actor.officer.officer_id, created, expires.isoformat(),
                     incident_id=incident_id)
    with ctx.audit.change():  # the request and its record: one transaction
        repo(ctx).add(row, SignatureRow(row.request_id, ctx.env.value, "request",
                                        actor.officer.officer_id, now.isoformat(), data, sig))
        entry = ctx.audit.record("revoke.request", {
            "id": row.request_id, "by": actor.officer.officer_id, "key_id": actor.key.key_id,
            "reason": reason, "urgency": urgency, "serials": [c["serial"] for c in certs],
            "incident": incident_id or None}, {"request": data, "signature": sig})
    return Changed(view(ctx, row), entry)


def _requester(ctx: AppContext, v: RequestView) -> Signatory:
    """Verify the request's own signature (it refuses a request changed after signing) and
    return who made it."""
    sig = next((s for s in v.signatures if s.kind == "request"), None)
    if sig is None:
        raise Refusal(f"Rule: a request carries its ARO's signature; {v.request_id} has none.")
    if sig.body != v.row.body:
        raise Refusal(f"Rule: a request is not changed after signing; {v.request_id}'s bytes "
                      "differ from those its ARO signed.")
    by = identity.verify(ctx, v.row.body, sig.signature, what="a revocation request",
                         at=ctx.clock.now())
    if by.officer.officer_id != v.body.get("requested_by"):
        raise Refusal(f"Rule: a request is signed by the ARO it names; {v.request_id} names "
                      f"{v.body.get('requested_by')} but is signed by {by.officer.officer_id}.")
    return Signatory.of(by.officer)


def _not_counted(v: RequestView) -> str:
    """The stored decisions that do not count toward the state, for a refusal's message."""
    return f" ({'; '.join(v.problems)})" if v.problems else ""


def _check_env(ctx: AppContext, v: RequestView) -> None:
    env = Environment(str(v.body.get("environment")))
    if env is not ctx.env:
        raise EnvironmentMismatch(f"Rule: a {env.label} request is handled only in the "
                                  f"{env.label} environment; this is {ctx.env.label}.")


def _decide(ctx: AppContext, ref: str, as_ref: str | None, key_ref: str | None,
            what: str) -> tuple[RequestView, identity.Actor, Signatory]:
    v = get_view(ctx, ref)
    _check_env(ctx, v)
    if v.state != "waiting":
        raise Refusal(f"Rule: only a waiting request is approved or rejected; {v.request_id} "
                      f"is {v.state}{_not_counted(v)}.")
    check_not_expired(_dt(v.body["expires"]), ctx.clock.now())
    requester = _requester(ctx, v)
    if what.startswith("approving"):
        check_described(ctx, v)
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=tuple(OfficerRole), what=what)
    check_approver(load_rules(ctx)["revocation"], Environment(str(v.body["environment"])),
                   str(v.body.get("party_id", "")), requester, actor.signatory, ctx.env)
    return v, actor, requester


def check_described(ctx: AppContext, v: RequestView) -> None:
    """Each certificate the request names by serial is described by its exact hash: where this
    store holds a certificate with that serial, the request's SHA-256 must be that
    certificate's. Otherwise an approver could be shown one certificate while the serial of
    another goes to the DCC (which checks the hash against its own copy as well)."""
    stored: dict[str, list[bytes]] = {}
    for row in CertificateStatusRepo(ctx.db, ctx.env.value).not_revoked():
        stored.setdefault(row.serial.upper().lstrip("0"), []).append(row.der)
    for c in v.body.get("certificates", []):
        serial = str(c.get("serial", "")).upper().lstrip("0")
        ders = stored.get(serial, [])
        if ders and not any(hashlib.sha256(d).hexdigest() == c.get("sha256") for d in ders):
            raise Refusal(f"Rule: a request describes exactly the certificates it revokes; "
                          f"{v.request_id} names serial {serial} with the SHA-256 of another "
                          "certificate (its role, EUI and usage may describe that other one).")


def _dt(text: Any) -> datetime:
    return datetime.fromisoformat(str(text))


def approve(ctx: AppContext, ref: str, *, as_ref: str | None, key_ref: str | None) -> Changed:
    """The SRO's approval: a second signature over the request's exact bytes."""
    v, actor, requester = _decide(ctx, ref, as_ref, key_ref, "approving a revocation")
    now = ctx.clock.now().replace(microsecond=0)
    sig = identity.sign(ctx, actor, v.row.body, now)
    with ctx.audit.change():
        _decided_once(ctx, v, SignatureRow(v.request_id, ctx.env.value, "approval",
                                           actor.officer.officer_id, now.isoformat(),
                                           v.row.body, sig))
        entry = ctx.audit.record("revoke.approve", {"id": v.request_id,
                                                    "by": actor.officer.officer_id,
                                                    "requested_by": requester.officer_id},
                                 {"request": v.row.body, "signature": sig})
    return Changed(get_view(ctx, v.request_id), entry)


def _decided_once(ctx: AppContext, v: RequestView, s: SignatureRow) -> None:
    """Another officer (on this workstation or another one sharing the team store) may have
    decided since the request was read: then this decision is refused, not counted twice."""
    other = repo(ctx).add_decision(s, v.signatures)
    if other is not None:
        raise Refusal(f"{v.request_id} was decided meanwhile ({other.kind} by "
                      f"{other.officer_id} at {other.signed_at}): this {s.kind} was not "
                      "recorded. Look at the request again before deciding.")


def reject(ctx: AppContext, ref: str, *, as_ref: str | None, key_ref: str | None,
           reason: str) -> Changed:
    if not reason.strip():
        raise InputError("Reason: say why the request is rejected.", hint="field.reason")
    v, actor, _ = _decide(ctx, ref, as_ref, key_ref, "rejecting a revocation")
    now = ctx.clock.now().replace(microsecond=0)
    body = canonical_bytes({"type": REJECTION_TYPE, "request_id": v.request_id,
                            "request_sha256": v.row.sha256, "reason": reason.strip(),
                            "by": actor.officer.officer_id, "at": now.isoformat()})
    sig = identity.sign(ctx, actor, body, now)
    with ctx.audit.change():
        _decided_once(ctx, v, SignatureRow(v.request_id, ctx.env.value, "rejection",
                                           actor.officer.officer_id, now.isoformat(), body,
                                           sig))
        entry = ctx.audit.record("revoke.reject", {"id": v.request_id,
                                                   "by": actor.officer.officer_id,
                                                   "reason": reason.strip()},
                                 {"rejection": body, "signature": sig})
    return Changed(get_view(ctx, v.request_id), entry)


def defer(ctx: AppContext, ref: str, reason: str) -> Changed:
    """Record that the SMKI PMA deferred the revocation (e.g. a supplier failure, MP134A)."""
    if not reason.strip():
        raise InputError("Reason: quote the SMKI PMA's deferral.", hint="field.reason")
    v = get_view(ctx, ref)
    with ctx.audit.change():
        repo(ctx).set_state(v.request_id, deferred_reason=reason.strip())
        entry = ctx.audit.record("revoke.defer", {"id": v.request_id,
                                                  "reason": reason.strip()})
    return Changed(get_view(ctx, v.request_id), entry)


def bundle(v: RequestView) -> dict[str, Any]:
    return {"format": BUNDLE_FORMAT, "version": 1, "id": v.request_id,
            "environment": v.body.get("environment"),
            "request": base64.b64encode(v.row.body).decode(),
            "signatures": [{"kind": s.kind, "officer_id": s.officer_id,
                            "signed_at": s.signed_at,
                            "body": base64.b64encode(s.body).decode(),
                            "signature": base64.b64encode(s.signature).decode()}
                           for s in v.verified_signatures()]}


def _parse_answer(data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise XmlMessageError(f"the answer is not JSON ({exc})") from None
    if not isinstance(doc, dict) or "status" not in doc:
        raise XmlMessageError("the answer has no status")
    return doc


def submit(ctx: AppContext, ref: str) -> Changed:
    """Send a fully approved request, with its signatures, to the DCC."""
    v = get_view(ctx, ref)
    _check_env(ctx, v)
    if v.state != "approved":
        raise Refusal(f"Rule: only a fully approved request goes to the DCC; {v.request_id} is "
                      f"{v.state}{_not_counted(v)}.")
    check_not_expired(_dt(v.body["expires"]), ctx.clock.now())
    requester = _requester(ctx, v)
    check_requester(requester, ctx.env)  # the ARO's standing now, not when they asked
    check_described(ctx, v)
    rule = load_rules(ctx)["revocation"]
    for s in v.approvals():
        by = identity.verify(ctx, s.body, s.signature, what="an approval", at=ctx.clock.now())
        if s.body != v.row.body:
            raise Refusal(f"Rule: an approval is a signature over the request's exact bytes; "
                          f"{by.officer.officer_id}'s is over other bytes.")
        check_approver(rule, ctx.env, str(v.body.get("party_id", "")), requester,
                       Signatory.of(by.officer), ctx.env)
    payload = json.dumps({"request": base64.b64encode(v.row.body).decode(),
                          "signatures": [{"kind": s.kind,
                                          "signature": base64.b64encode(s.signature).decode()}
                                         for s in v.verified_signatures()
                                         if s.kind in ("request", "approval")]}).encode()
    if ctx.env is Environment.TEST and portal_service.endpoint(ctx).source == "simulator":
        feed_simulator(ctx, simulator_control.start(ctx))
    p = portal_service.open_portal(ctx)
    try:
        answer = p.http.request("POST", SIGNED_PATH, payload,
                                {"Content-Type": "application/json"}, _parse_answer,
                                "signed revocation request")
    finally:
        p.close()
    now = ctx.clock.now().isoformat()
    if answer.get("status") != "COMPLETED":
        code, rule_text = str(answer.get("code", "")), str(answer.get("rule", ""))
        with ctx.audit.change():
            repo(ctx).set_state(v.request_id, outcome=f"{code} {rule_text}".strip())
            ctx.audit.record("revoke.submit", {"id": v.request_id, "outcome": "rejected",
                                               "code": code, "rule": rule_text})
        raise Rejected(f"The DCC refused revocation request {v.request_id}: {code}: "
                       f"{rule_text}", code or "RV:Unknown")
    answered = [str(s) for s in answer.get("revoked") or []]
    with ctx.audit.change():  # the request, its certificates and the record: one transaction
        repo(ctx).set_state(v.request_id, submitted_at=now, outcome="COMPLETED")
        marked = mark_completed(ctx, v, answered)
        entry = ctx.audit.record("revoke.submit", {"id": v.request_id, "outcome": "completed",
                                                   "revoked": answered,
                                                   "certificates_marked_revoked": marked})
    return Changed(get_view(ctx, v.request_id), entry)


def export(ctx: AppContext, ref: str, out: Path, overwrite: bool = False) -> Path:
    v = get_view(ctx, ref)
    data = json.dumps(bundle(v), indent=2).encode()
    # recorded before the file is put in place (store/atomic.write_recorded)
    path, _e = write_recorded(out, data, lambda p: ctx.audit.record(
        "revoke.export", {"id": v.request_id, "path": str(p)}, {"bundle": data}),
        overwrite=overwrite)
    return path


def _signing_time(ctx: AppContext, data: bytes, sig: bytes, claimed: str, what: str
                  ) -> datetime:
    """The time a signature carries (revocation_state.signature_time), which must be the time
    the bundle claims: an approval's lapse is counted from it, so a bundle's `signed_at` edited
    forward does not revive a lapsed approval."""
    try:
        stated: datetime | None = _dt(claimed)
    except (ValueError, TypeError):
        stated = None
    when = signature_time(ctx, data, sig, what)
    if stated is None or stated.tzinfo is None or stated != when:
        raise Refusal(f"Rule: a signature's time is the signing time it carries; {what} says "
                      f"{claimed} but was signed at {when.isoformat()}.")
    return when


def _bundle_request_fields(body: dict[str, Any], what: str) -> tuple[Environment, str]:
    """The environment and id of an imported request's body, refused naming the field when
    missing or malformed (the body is checked before any signature over it)."""
    env_text = body.get("environment")
    try:
        env = Environment(env_text) if isinstance(env_text, str) else None
    except ValueError:
        env = None
    if env is None:
        raise InputError(f"{what}: the request's environment is {env_text!r}, not 'test' or "
                         "'live'." if "environment" in body else
                         f"{what}: the request has no environment field.")
    rid = body.get("id")
    if not isinstance(rid, str) or not rid:
        raise InputError(f"{what}: the request's id is {rid!r}, not a request id." if "id" in body
                         else f"{what}: the request has no id field.")
    return env, rid


def import_bundle(ctx: AppContext, data: bytes, what: str = "bundle") -> Changed:
    """Take in a request (and its signatures) from another workstation; every signature is
    verified before anything is stored."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise InputError(f"{what}: not a revocation bundle (format {found!r}).")
        body_bytes = base64.b64decode(doc["request"], validate=True)
        sigs = [(s["kind"], s["officer_id"], s["signed_at"],
                 base64.b64decode(s["body"], validate=True),
                 base64.b64decode(s["signature"], validate=True)) for s in doc["signatures"]]
        body = parse_canonical(body_bytes, what)
        env, rid = _bundle_request_fields(body, what)
    except RecursionError:
        raise InputError(f"{what}: malformed revocation bundle (nested too deeply).") from None
    except KeyError as exc:
        raise InputError(f"{what}: malformed revocation bundle (field {exc} is missing).") \
            from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise InputError(f"{what}: malformed revocation bundle ({exc}).") from None
    if env is not ctx.env:
        raise EnvironmentMismatch(f"Rule: a {env.label} request is handled only in the "
                                  f"{env.label} environment; this is {ctx.env.label}.")
    r = repo(ctx)
    rows: list[SignatureRow] = []
    signers: dict[tuple[str, str], Signatory] = {}
    for kind, officer_id, signed_at, sbody, sig in sigs:
        if kind not in ("request", "approval", "rejection"):
            raise InputError(f"{what}: unknown signature kind {kind!r}.")
        if kind != "rejection" and sbody != body_bytes:
            raise Refusal(f"Rule: a request is not changed after signing; the {kind} "
                          f"signature of {officer_id} is over other bytes.")
        signed = _signing_time(ctx, sbody, sig, signed_at, f"the {kind} of {rid}")
        by = identity.verify(ctx, sbody, sig, what=f"the {kind} of {rid}", at=signed)
        if by.officer.officer_id != officer_id:
            raise Refusal(f"{what}: the {kind} signature is by {by.officer.officer_id}, not "
                          f"{officer_id}.")
        rows.append(SignatureRow(rid, ctx.env.value, kind, officer_id, signed.isoformat(),
                                 sbody, sig))
        signers[(kind, officer_id)] = Signatory.of(by.officer)
    first = next((s for s in rows if s.kind == "request"), None)
    if first is None:
        raise Refusal(f"Rule: a request carries its ARO's signature; {rid} has none.")
    if first.officer_id != body.get("requested_by"):
        raise Refusal(f"Rule: a request is signed by the ARO it names; {rid} names "
                      f"{body.get('requested_by')} but is signed by {first.officer_id}.")
    requester = signers[("request", first.officer_id)]
    rule = load_rules(ctx)["revocation"]
    for s in rows:
        if s.kind == "rejection":
            check_rejection_names(s, rid, body_bytes)
        if s.kind != "request":  # an approval or rejection is an approver's, by the rules
            check_approver(rule, env, str(body.get("party_id", "")), requester,
                           signers[(s.kind, s.officer_id)], ctx.env)
    with ctx.audit.change():  # the request, its signatures and the record: all or nothing
        if not r.exists(rid):
            r.add(RequestRow(rid, ctx.env.value, KIND, body_bytes, sha256_hex(body_bytes),
                             str(body["requested_by"]), str(body["created"]),
                             str(body["expires"])), first)
        else:
            have = r.get(rid)
            if have is None or have.body != body_bytes:
                raise Refusal(f"Rule: a request is not changed after signing; {rid} here "
                              "differs from the imported one.")
        for s in rows:
            if s.kind != "request":
                r.add_signature(s)
        entry = ctx.audit.record("revoke.import", {"id": rid, "signatures": [
            f"{s.kind}:{s.officer_id}" for s in rows]}, {"bundle": data})
    return Changed(get_view(ctx, rid), entry)
