"""The portal endpoint as the store records it, and whether the audit log vouches for it: the
record of an environment's endpoint (`configured_endpoint`), why a configured one is not the
one set through SMKI Desktop (`endpoint_problem`: it must match the last endpoint-setting
record the log proves), and the endpoint's trust anchor when a record vouches for it
(`vouched_anchor`, which the file-signing trust anchors use). No network library is loaded
here: `adt sign` and `adt verify` read the anchor without the HTTP stack."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.portal.endpoint_types import Endpoint
from smki_desktop.services.audit import AuditLog
from smki_desktop.services.context import AppContext
from smki_desktop.services.vouched import last_record
from smki_desktop.store.repos import portal as repo

# The audit record of setting the endpoint: the URLs in its details, the pinned trust anchor's
# SHA-256 in its artifacts (so since the first version). The endpoint in the store is used only
# while it matches the last such record (see `endpoint_problem`).
ENDPOINT_ACTION = "portal.endpoint.set"
# The audit record of starting the Test simulator: its trust anchor's SHA-256 in its artifacts.
SIMULATOR_START_ACTION = "simulator.start"


@dataclass(frozen=True)
class EndpointRecord:
    environment: Environment
    source: str  # 'simulator' | 'configured'
    endpoint: Endpoint
    state_dir: str | None


def load_cert(data: bytes, what: str) -> x509.Certificate:
    try:
        if data.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise InputError(f"{what}: not an X.509 certificate ({exc}).") from None


def configured_endpoint(ctx: AppContext) -> EndpointRecord | None:
    r = repo.get_endpoint(ctx.db, ctx.env.value)
    if r is None:
        return None
    if r.source == "simulator" and ctx.env is not Environment.TEST:
        raise Refusal("The Live environment has a simulator endpoint recorded; Live never uses "
                      "the simulator. Configure the DCC's endpoint.")
    return EndpointRecord(Environment(r.environment), r.source,
                          Endpoint(r.portal_url, r.repository_url, r.trust_anchor), r.state_dir)


def endpoint_problem(ctx: AppContext, rec: EndpointRecord) -> str | None:
    """Why the configured endpoint in the store is not the one set through SMKI Desktop (None
    when it is): it must match, URLs and trust anchor, the last endpoint-setting audit record,
    and that record must be authentic and signed by this workstation or an endorsed writer of
    the team's log. Whoever can write the store but not sign a record (the threat of the audit
    log) could otherwise send every workstation's DCC traffic to a server of their own. An
    endpoint set before records were signed is refused too: setting it again records it."""
    return problem_in_log(ctx.audit, rec)


def problem_in_log(audit: AuditLog, rec: EndpointRecord) -> str | None:
    """`endpoint_problem` against the log `audit` (a workstation's own log when it moves into
    a team store)."""
    last = last_record(audit, ENDPOINT_ACTION)
    if last is None:
        return ("The portal endpoint in the store was not set through SMKI Desktop: no audit "
                "record sets it; set it again to use it.")
    if last.problem is not None:
        return ("The portal endpoint in the store cannot be matched to a trusted record of "
                f"setting it: {last.problem}; set it again to use it.")
    pem = rec.endpoint.trust_anchor_pem
    differs = []
    for name, have, want in (
            ("portal URL", rec.endpoint.portal_url, last.details.get("portal_url")),
            ("repository URL", rec.endpoint.repository_url, last.details.get("repository_url"))):
        if have != want:
            differs.append(f"{name} {have} (recorded: {want})")
    sha = hashlib.sha256(pem).hexdigest()
    want_sha = last.artifacts.get("trust_anchor")
    if sha != want_sha:
        subject = anchor_subject(pem)
        differs.append(f"trust anchor {subject}, SHA-256 {sha[:16]} (recorded: "
                       f"{last.details.get('anchor', '?')}, SHA-256 {str(want_sha)[:16]})")
    if not differs:
        return None
    return ("The portal endpoint in the store differs from the one set through SMKI Desktop "
            f"(audit record {last.seq}): {'; '.join(differs)}; set it again to use it.")


def vouched_anchor(ctx: AppContext) -> bytes | None:
    """The trust anchor of the endpoint in the store when a trusted audit record vouches for
    it, else None: a configured endpoint's when `endpoint_problem` finds none; the Test
    simulator's when the last record of starting it carries that anchor's SHA-256 (records
    before this check did not: the next start of the simulator records it). Other services
    that trust the endpoint's anchor (file signatures) take it from here, not from the row."""
    try:
        rec = configured_endpoint(ctx)
    except Refusal:
        return None
    if rec is None:
        return None
    pem = rec.endpoint.trust_anchor_pem
    if rec.source == "configured":
        return pem if endpoint_problem(ctx, rec) is None else None
    last = last_record(ctx.audit, SIMULATOR_START_ACTION)
    if last is None or not last.vouched or last.artifacts.get(
            "trust_anchor") != hashlib.sha256(pem).hexdigest():
        return None
    return pem


def anchor_subject(pem: bytes) -> str:
    """A trust anchor's subject, as the endpoint's record names it."""
    try:
        return load_cert(pem, "Trust anchor").subject.rfc4514_string()
    except InputError:
        return "not a certificate"


