"""Where each revocation request stands (waiting, approved, rejected, expired, deferred,
submitted, revoked) and the Organisation CRL's effect on the store: certificates the CRL lists
become `revoked`, and submitted requests whose certificates are all on it become `revoked`.
Kept apart from `services.revocation` (which talks to the portal) so that the portal's poll and
the repository's CRL fetch can apply a CRL without a cycle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from smki_desktop.core.approvals import ApprovalRule, approval_valid, request_state, rules_from_dict
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import parse_canonical
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Ambiguous, NotFound, Refusal, SmkiError
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.resources_path import resource
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
    row: RequestRow
    body: dict[str, Any]
    signatures: list[SignatureRow]
    state: str

    @property
    def request_id(self) -> str:
        return self.row.request_id

    def approvals(self) -> list[SignatureRow]:
        return [s for s in self.signatures if s.kind == "approval"]

    def rejection(self) -> SignatureRow | None:
        return next((s for s in self.signatures if s.kind == "rejection"), None)

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
            "rejection_reason": json.loads(rej.body).get("reason") if rej else None,
            "submitted_at": self.row.submitted_at or None,
            "revoked_at": self.row.revoked_at or None, "outcome": self.row.outcome or None,
            "deferred_reason": self.row.deferred_reason or None,
            "incident": self.row.incident_id or None, "sha256": self.row.sha256,
        }


def view(ctx: AppContext, row: RequestRow, now: datetime | None = None) -> RequestView:
    if Environment(row.environment) is not ctx.env:
        raise Refusal(f"Request {row.request_id} is a {row.environment} record in the "
                      f"{ctx.env.label} store.")
    body = parse_canonical(row.body, f"request {row.request_id}")
    sigs = repo(ctx).signatures(row.request_id)
    rule = load_rules(ctx)["revocation"]
    now = now or ctx.clock.now()
    valid = sum(1 for s in sigs if s.kind == "approval"
                and approval_valid(datetime.fromisoformat(s.signed_at), rule, now))
    state = request_state(
        expires=datetime.fromisoformat(row.expires), now=now, valid_approvals=valid,
        needed=rule.approvals_needed, rejected=any(s.kind == "rejection" for s in sigs),
        deferred=bool(row.deferred_reason), submitted=bool(row.submitted_at),
        revoked=bool(row.revoked_at))
    return RequestView(row, body, sigs, state)


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
