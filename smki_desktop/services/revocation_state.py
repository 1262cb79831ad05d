"""Where each revocation request stands (waiting, approved, rejected, expired, deferred,
submitted, revoked) and the Organisation CRL's effect on the store: certificates the CRL lists
become `revoked`, and submitted requests whose certificates are all on it become `revoked`.
Kept apart from `services.revocation` (which talks to the portal) so that the portal's poll and
the repository's CRL fetch can apply a CRL without a cycle."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from smki_desktop.core.approvals import (
    REJECTION_TYPE,
    ApprovalRule,
    approval_valid,
    check_approver,
    request_state,
    rules_from_dict,
)
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import parse_canonical, sha256_hex
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Ambiguous, InputError, NotFound, Refusal, SmkiError
from smki_desktop.core.identity import Signatory
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.cms import verify_detached
from smki_desktop.portal.outbox import OutboxItem
from smki_desktop.resources_path import resource
from smki_desktop.services import identity
from smki_desktop.services.context import AppContext
from smki_desktop.services.trust import trust_anchors
from smki_desktop.store.repos.approvals import ApprovalsRepo, RequestRow, SignatureRow
from smki_desktop.store.repos.certificates import CertificateStatusRepo

KIND = "revocation"


def load_rules(ctx: AppContext) -> dict[str, ApprovalRule]:
    """The approval profiles (resources/approvals/rules.json); the per-environment setting
    `approvals.<rule>.enabled` (1/0) turns a rule on or off here (tests turn org-csr on)."""
    rules = rules_from_dict(json.loads(resource("approvals", "rules.json").read_text("utf-8")))
    out = {}
    for name, rule in rules.items():
        flag = ctx.setting(f"approvals.{name}.enabled")
        if flag in ("0", "1"):
            enabled = dict(rule.enabled)
            enabled[ctx.env.value] = flag == "1"
            rule = ApprovalRule(rule.name, rule.approvals_needed, rule.approver_role,
                                rule.request_ttl_hours, rule.approval_ttl_hours, enabled)
        out[name] = rule
    return out


def repo(ctx: AppContext) -> ApprovalsRepo:
    return ApprovalsRepo(ctx.db, ctx.env.value)


@dataclass(frozen=True)
class RequestView:
    """A request as read from the store. `signatures` are its rows as stored (what a decision
    made meanwhile is compared with); `decisions` the approvals and rejections among them whose
    signatures verify, each with the signing time its signature carries in `signed_at`; only
    these count toward `state`. `problems` names every row that does not verify."""

    row: RequestRow
    body: dict[str, Any]
    signatures: list[SignatureRow]
    state: str
    decisions: tuple[SignatureRow, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def request_id(self) -> str:
        return self.row.request_id

    def approvals(self) -> list[SignatureRow]:
        """The approvals whose signatures verify (lapsed ones included)."""
        return [s for s in self.decisions if s.kind == "approval"]

    def rejection(self) -> SignatureRow | None:
        """The rejection whose signature verifies, if any."""
        return next((s for s in self.decisions if s.kind == "rejection"), None)

    def rejection_reason(self) -> str | None:
        rej = self.rejection()
        if rej is None:
            return None
        reason = parse_canonical(rej.body, f"the rejection of {self.request_id}").get("reason")
        return str(reason) if reason is not None else None

    def verified_signatures(self) -> list[SignatureRow]:
        """The request's own signature and the verified decisions: what goes to another
        workstation or to the DCC (a row that does not verify would only be refused there)."""
        own = [s for s in self.signatures if s.kind == "request"]
        return own + list(self.decisions)

    def as_dict(self) -> dict[str, Any]:
        rej = self.rejection()
        return {
            "id": self.row.request_id, "state": self.state,
            "environment": self.body.get("environment"),
            "requested_by": self.body.get("requested_by"),
            "reason": self.body.get("reason"), "justification": self.body.get("justification"),
            "urgency": self.body.get("urgency"), "created": self.body.get("created"),
            "expires": self.body.get("expires"), "certificates": self.body.get("certificates"),
            "approved_by": [s.officer_id for s in self.approvals()],
            "rejected_by": rej.officer_id if rej else None,
            "rejection_reason": self.rejection_reason(),
            "submitted_at": self.row.submitted_at or None,
            "revoked_at": self.row.revoked_at or None, "outcome": self.row.outcome or None,
            "deferred_reason": self.row.deferred_reason or None,
            "incident": self.row.incident_id or None, "sha256": self.row.sha256,
            "problems": list(self.problems),
        }


CLOCK_SKEW = timedelta(minutes=5)


def signature_time(ctx: AppContext, data: bytes, sig: bytes, what: str) -> datetime:
    """The time a signature carries (its signed CMS signing-time attribute), not in the future.
    An approval's lapse is counted from it, never from a time stored beside it (which anyone
    who can write the store could move forward)."""
    when = verify_detached(data, sig).signing_time  # the signature itself; trust comes next
    if when is None:
        raise Refusal(f"Rule: a signature carries its signing time; {what} has none.")
    if when > ctx.clock.now() + CLOCK_SKEW:
        raise Refusal(f"Rule: a signature's signing time is not in the future; {what} was "
                      f"signed at {when.isoformat()}.")
    return when


def check_rejection_names(s: SignatureRow, rid: str, request: bytes) -> None:
    """A rejection is signed over an object naming this request (id and hash) and its signer:
    an SRO's rejection of another request is not attached to this one."""
    try:
        doc = parse_canonical(s.body, f"the rejection of {rid}")
    except InputError as exc:
        raise Refusal(f"Rule: a rejection names the request it rejects; {exc.message}") \
            from None
    if (doc.get("type") != REJECTION_TYPE or doc.get("request_id") != rid
            or doc.get("request_sha256") != sha256_hex(request)
            or doc.get("by") != s.officer_id):
        raise Refusal(f"Rule: a rejection names the request it rejects; the rejection by "
                      f"{s.officer_id} is not of {rid} as signed (it names "
                      f"{doc.get('request_id')}).")


def _requester(ctx: AppContext, row: RequestRow, body: dict[str, Any],
               sigs: list[SignatureRow]) -> Signatory:
    """Who made the request, from its own signature (verified at the time it carries)."""
    own = next((s for s in sigs if s.kind == "request"), None)
    if own is None:
        raise Refusal(f"Rule: a request carries its ARO's signature; {row.request_id} has none.")
    if own.body != row.body:
        raise Refusal(f"Rule: a request is not changed after signing; {row.request_id}'s bytes "
                      "differ from those its ARO signed.")
    what = f"the request {row.request_id}"
    by = identity.verify(ctx, row.body, own.signature, what=what,
                         at=signature_time(ctx, row.body, own.signature, what))
    if by.officer.officer_id != body.get("requested_by"):
        raise Refusal(f"Rule: a request is signed by the ARO it names; {row.request_id} names "
                      f"{body.get('requested_by')} but is signed by {by.officer.officer_id}.")
    return Signatory.of(by.officer)


def _decision(ctx: AppContext, row: RequestRow, body: dict[str, Any], s: SignatureRow,
              requester: Signatory, rule: ApprovalRule) -> SignatureRow:
    """The approval or rejection `s` with its signature verified and its signer checked
    against the rules, `signed_at` set to the signing time the signature carries."""
    what = f"the {s.kind} by {s.officer_id} of {row.request_id}"
    if s.kind == "approval" and s.body != row.body:
        raise Refusal(f"Rule: an approval is a signature over the request's exact bytes; "
                      f"{what} is over other bytes.")
    if s.kind == "rejection":
        check_rejection_names(s, row.request_id, row.body)
    when = signature_time(ctx, s.body, s.signature, what)
    by = identity.verify(ctx, s.body, s.signature, what=what, at=when)
    if by.officer.officer_id != s.officer_id:
        raise Refusal(f"Rule: a decision is signed by the officer it names; {what} is signed "
                      f"by {by.officer.officer_id}.")
    check_approver(rule, Environment(row.environment), str(body.get("party_id", "")),
                   requester, Signatory.of(by.officer), ctx.env)
    return replace(s, signed_at=when.isoformat())


def _verified_decisions(ctx: AppContext, row: RequestRow, body: dict[str, Any],
                        sigs: list[SignatureRow], rule: ApprovalRule
                        ) -> tuple[list[SignatureRow], list[str]]:
    """The decisions that verify, and a problem for each stored row that does not (such a row
    counts for nothing: whoever can write the store cannot approve or reject by writing)."""
    decisions = [s for s in sigs if s.kind in ("approval", "rejection")]
    unknown = [f"a {s.kind!r} row by {s.officer_id} (not a kind of signature) is ignored"
               for s in sigs if s.kind not in ("request", "approval", "rejection")]
    if not decisions:
        return [], unknown
    try:
        requester = _requester(ctx, row, body, sigs)
    except SmkiError as exc:
        return [], [*unknown, f"the request's own signature does not verify ({exc.message}); "
                    "none of its approvals or rejections counts"]
    good: list[SignatureRow] = []
    problems = list(unknown)
    for s in decisions:
        try:
            good.append(_decision(ctx, row, body, s, requester, rule))
        except SmkiError as exc:
            problems.append(f"the {s.kind} by {s.officer_id} does not count: {exc.message}")
            continue
        if s.signed_at != good[-1].signed_at:
            try:
                same = datetime.fromisoformat(s.signed_at) == \
                    datetime.fromisoformat(good[-1].signed_at)
            except ValueError:
                same = False
            if not same:
                problems.append(f"the {s.kind} by {s.officer_id} is stored as signed at "
                                f"{s.signed_at} but its signature says {good[-1].signed_at} "
                                "(the signature's time counts)")
    return good, problems


def view(ctx: AppContext, row: RequestRow, now: datetime | None = None) -> RequestView:
    if Environment(row.environment) is not ctx.env:
        raise Refusal(f"Request {row.request_id} is a {row.environment} record in the "
                      f"{ctx.env.label} store.")
    body = parse_canonical(row.body, f"request {row.request_id}")
    sigs = repo(ctx).signatures(row.request_id)
    rule = load_rules(ctx)["revocation"]
    now = now or ctx.clock.now()
    decisions, problems = _verified_decisions(ctx, row, body, sigs, rule)
    valid = sum(1 for s in decisions if s.kind == "approval"
                and approval_valid(datetime.fromisoformat(s.signed_at), rule, now))
    state = request_state(
        expires=datetime.fromisoformat(row.expires), now=now, valid_approvals=valid,
        needed=rule.approvals_needed, rejected=any(s.kind == "rejection" for s in decisions),
        deferred=bool(row.deferred_reason), submitted=bool(row.submitted_at),
        revoked=bool(row.revoked_at))
    return RequestView(row, body, sigs, state, tuple(decisions), tuple(problems))


def get_view(ctx: AppContext, ref: str) -> RequestView:
    r = repo(ctx)
    row = r.get(ref)
    if row is None:
        found = r.find_prefix(ref.strip())
        if not found:
            raise NotFound(f"No revocation request {ref!r} in the {ctx.env.label} environment.")
        if len(found) > 1:
            raise Ambiguous(f"{ref!r} matches several requests: "
                            + ", ".join(f.request_id for f in found) + ".")
        row = found[0]
    return view(ctx, row)


def list_views(ctx: AppContext, state: str | None = None) -> list[RequestView]:
    out = [view(ctx, r) for r in repo(ctx).all(KIND)]
    return [v for v in out if state is None or v.state == state]


def sent_to_dcc(ctx: AppContext) -> list[OutboxItem]:
    """The revocation requests sent to the DCC (submitted, refused by it, or revoked), as the
    Requests page lists the requests to the DCC: they go straight to the DCC with their
    signatures, not through the outbox, so they are listed from here."""
    out = []
    for v in list_views(ctx):
        row = v.row
        if not (row.submitted_at or row.outcome):
            continue
        refused = not row.submitted_at  # an answer other than COMPLETED leaves no submitted_at
        revoked = v.state == "revoked"
        try:
            created = datetime.fromisoformat(row.submitted_at or str(v.body.get("created")))
        except ValueError:
            created = ctx.clock.now()
        certs = [str(c.get("serial", "")) for c in v.body.get("certificates", [])]
        out.append(OutboxItem(
            ref=v.request_id, environment=ctx.env, kind=KIND, payload=row.body,
            meta={"certificates": certs, "reason": v.body.get("reason")},
            state="failed" if refused else ("done" if revoked else "submitted"),
            attempts=1, server_id=None,
            server_status=("REJECTED" if refused else "REVOKED" if revoked else "COMPLETED"),
            result=None, last_error=row.outcome if refused else None,
            next_action_at=None, last_poll_at=None, created=created, updated=created))
    return out


def waiting_count(ctx: AppContext) -> int:
    """How many requests wait for an approval (the Approvals badge)."""
    try:
        return len(list_views(ctx, "waiting"))
    except SmkiError:  # a badge never breaks the window
        return 0


def awaiting_crl(ctx: AppContext) -> bool:
    return any(v.state == "submitted" for v in list_views(ctx))


@dataclass(frozen=True)
class CrlApplied:
    certificates: list[str]
    requests: list[str]
    audit: AuditEntry | None


def apply_crl(ctx: AppContext, der: bytes) -> CrlApplied:
    """Verify the Organisation CRL against this environment's anchors, mark the certificates
    it lists as revoked and move fully revoked submitted requests to `revoked`."""
    crl = x509.load_der_x509_crl(der)
    ok = False
    for ca in trust_anchors(ctx):
        if ca.subject == crl.issuer:
            try:
                ok = crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
            except TypeError:
                ok = False
            if ok:
                break
    if not ok:
        raise Refusal(f"The CRL from {crl.issuer.rfc4514_string()} does not verify against a "
                      f"{ctx.env.label} trust anchor; nothing was marked revoked.")
    listed = {r.serial_number for r in crl}
    certs = CertificateStatusRepo(ctx.db, ctx.env.value)
    hit: list[int] = []
    serials: list[str] = []
    for row in certs.not_revoked():
        cert = x509.load_der_x509_certificate(row.der)
        if cert.issuer == crl.issuer and cert.serial_number in listed:
            hit.append(row.cert_id)
            serials.append(row.serial)
    moved: list[str] = []
    now = ctx.clock.now().isoformat()
    entry = None
    with ctx.audit.change():  # the certificates, the requests and the record: one transaction
        certs.mark_revoked(hit)
        for v in list_views(ctx, "submitted"):
            wanted = {int(str(c["serial"]), 16) for c in v.body.get("certificates", [])}
            if wanted and wanted <= listed:
                repo(ctx).set_state(v.request_id, revoked_at=now)
                moved.append(v.request_id)
        if hit or moved:
            entry = ctx.audit.record("revoke.crl-applied", {
                "certificates": serials, "requests": moved,
                "issuer": crl.issuer.rfc4514_string()}, {"crl": der})
    return CrlApplied(serials, moved, entry)


def mark_completed(ctx: AppContext, v: RequestView, answered: list[str]) -> list[str]:
    """Inside the caller's change: the DCC answered that it revoked the request's certificates
    (`answered`: the serials its answer lists, hex; empty when it lists none, then every
    certificate of the request): mark those of the store revoked, matched by the SHA-256 of
    their DER as the signed request gives it, so that nothing here goes on using them. The
    request stays `submitted` until the Organisation CRL, verified against the trust anchors,
    lists them (`apply_crl`, which the next poll runs). Returns the serials marked."""
    wanted = {str(c.get("sha256", "")).lower(): str(c.get("serial", "")).upper().lstrip("0")
              for c in v.body.get("certificates", [])}
    said = {s.upper().lstrip("0") for s in answered}
    certs = CertificateStatusRepo(ctx.db, ctx.env.value)
    hit: list[int] = []
    serials: list[str] = []
    for row in certs.not_revoked():
        serial = wanted.get(hashlib.sha256(row.der).hexdigest())
        if serial is not None and (not said or serial in said):
            hit.append(row.cert_id)
            serials.append(row.serial)
    certs.mark_revoked(hit)
    return serials


def decoded_certificates(ctx: AppContext, v: RequestView) -> list[dict[str, Any]]:
    """What the request would revoke, decoded for the approver: role, EUI, usage, serial,
    issuer, and what depends on it (its key, and the store's other certificates on that key)."""
    certs = CertificateStatusRepo(ctx.db, ctx.env.value)
    rows = {r.serial.upper().lstrip("0"): r for r in certs.not_revoked()}
    out = []
    for c in v.body.get("certificates", []):
        serial = str(c.get("serial", "")).upper().lstrip("0")
        role = str(c.get("role") or "")
        try:
            role_text = f"{RemotePartyRole.from_ou(role).name_text} ({role})" if role else "-"
        except SmkiError:
            role_text = role
        row = rows.get(serial)
        depends = "not in this store" if row is None else (
            f"matches stored certificate #{row.cert_id} ({row.status})")
        out.append({"serial": c.get("serial"), "role": role_text, "eui": c.get("eui") or "-",
                    "usage": c.get("usage") or "-", "issuer": c.get("issuer"),
                    "sha256": c.get("sha256"), "depends": depends})
    return out
