"""The DCC endpoint of each environment and the adapters that talk to it: the configured
endpoint (URLs and the pinned trust anchor) or, in Test with none configured, the embedded
simulator started on demand (its CAs become Test trust anchors); the mutual-TLS client
credential; the rate-rule scheduler; the portal's settings (deadline, ad hoc path) and the
repository's API key. Live never trusts a simulator's hierarchy.

Below the portal workflow (services/portal.py) and the credential request
(services/credentials.py), which both need an endpoint."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.schedule import RateRules, Scheduler
from smki_desktop.portal.ws_client import (
    ADHOC_PATH,
    DEFAULT_DEADLINE,
    ClientTls,
    Endpoint,
    WsPortal,
    WsRepository,
)
from smki_desktop.services import simulator_control
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import require_credential
from smki_desktop.services.crossing import SIMULATOR_MARKER_POLICY
from smki_desktop.services.endpoint_record import ENDPOINT_ACTION as ENDPOINT_ACTION
from smki_desktop.services.endpoint_record import EndpointRecord as EndpointRecord
from smki_desktop.services.endpoint_record import anchor_subject as anchor_subject
from smki_desktop.services.endpoint_record import configured_endpoint as configured_endpoint
from smki_desktop.services.endpoint_record import endpoint_problem as endpoint_problem
from smki_desktop.services.endpoint_record import load_cert
from smki_desktop.services.endpoint_record import problem_in_log as problem_in_log
from smki_desktop.services.endpoint_record import vouched_anchor as vouched_anchor
from smki_desktop.services.trust import add_trust_anchor, trust_anchors
from smki_desktop.store.atomic import write_atomic
from smki_desktop.store.bounded_read import read_regular
from smki_desktop.store.repos import portal as repo

API_KEY_SECRET = "portal-api-key"
ENROLMENT_SECRET = "portal-enrolment-token"


# ------------------------------------------------------------------------------ endpoints
def is_simulator_anchor(pem_or_der: bytes) -> bool:
    cert = load_cert(pem_or_der, "Trust anchor")
    try:
        pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    return any(p.policy_identifier.dotted_string == SIMULATOR_MARKER_POLICY for p in pol)


def set_endpoint(ctx: AppContext, portal_url: str, repository_url: str,
                 trust_anchor: bytes) -> AuditEntry:
    """Configure the DCC endpoint and pin its trust anchor for this environment. Both URLs are
    bases (the interfaces' paths are appended). The repository may be plain `http://` in Test
    only (a DCC Boxed on a test network listens so, port 8083): `repository_warning` says so
    each time it is used."""
    portal_url, repository_url = portal_url.strip().rstrip("/"), repository_url.strip().rstrip("/")
    if not portal_url.startswith("https://"):
        raise InputError(f"Portal URL: {portal_url!r} must start with https://.")
    if repository_url.startswith("http://"):
        if ctx.env is not Environment.TEST:
            raise Refusal(f"Repository URL: {repository_url!r} is plain http://, which only the "
                          f"Test environment allows (a DCC Boxed); the {ctx.env.label} "
                          "environment needs https://.")
    elif not repository_url.startswith("https://"):
        raise InputError(f"Repository URL: {repository_url!r} must start with https:// (or, "
                         "in Test only, http://).")
    for name, url in (("Portal URL", portal_url), ("Repository URL", repository_url)):
        if "?" in url or "#" in url or any(c.isspace() for c in url):
            raise InputError(f"{name}: {url!r} must be a base address (no query, no spaces).")
    cert = load_cert(trust_anchor, "Trust anchor")
    if ctx.env is Environment.LIVE and is_simulator_anchor(trust_anchor):
        raise Refusal("This trust anchor belongs to an SMKI Desktop simulator (a Test "
                      "hierarchy); the Live environment refuses it.")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    with ctx.audit.change():  # the setting and its record: one transaction
        repo.set_configured_endpoint(ctx.db, ctx.env.value, portal_url, repository_url, pem,
                                     ctx.clock.now().isoformat())
        return ctx.audit.record(ENDPOINT_ACTION, {
            "portal_url": portal_url, "repository_url": repository_url,
            "anchor": cert.subject.rfc4514_string()}, {"trust_anchor": pem})


def repository_warning(ctx: AppContext, rec: EndpointRecord | None = None) -> str | None:
    """A warning when the repository is reached over plain HTTP (Test only)."""
    rec = rec or configured_endpoint(ctx)
    if rec is not None and rec.endpoint.repository_url.startswith("http://"):
        return (f"The repository {rec.endpoint.repository_url} is plain HTTP (allowed in Test "
                "for a DCC Boxed): the API key and the answers travel unencrypted.")
    return None


def endpoint(ctx: AppContext) -> EndpointRecord:
    """The endpoint to use now: the configured one, else (Test only) the simulator, started on
    demand."""
    rec = configured_endpoint(ctx)
    if rec is not None and rec.source == "configured":
        _check_anchor(ctx, rec.endpoint.trust_anchor_pem)
        _check_vouched(ctx, rec)
        if ctx.env is not Environment.TEST and not rec.endpoint.repository_url.startswith(
                "https://"):
            raise Refusal(f"The {ctx.env.label} environment reaches the repository over "
                          "https:// only; set the endpoint again.")
        return rec
    if ctx.env is Environment.LIVE:
        raise NotFound("No DCC portal endpoint is configured for the Live environment: set "
                       "it in Settings > Portal (URL and the DCC's trust anchor).")
    info = simulator_control.start(ctx)
    _trust_simulator(ctx, info.state_dir)
    return EndpointRecord(ctx.env, "simulator", Endpoint(info.portal_url, info.repository_url,
                                                         info.trust_anchor_pem),
                          str(info.state_dir))


def _trust_simulator(ctx: AppContext, state_dir: Path) -> None:
    """Test only: the simulator's CAs become Test trust anchors so that the certificates it
    issues pass the acceptance check's chain verification (idempotent)."""
    pems = (state_dir / "ca-chain.pem").read_bytes()
    have = {c.fingerprint(hashes.SHA256()) for c in trust_anchors(ctx)}
    for cert in x509.load_pem_x509_certificates(pems):
        if cert.fingerprint(hashes.SHA256()) not in have:
            add_trust_anchor(ctx, cert.public_bytes(serialization.Encoding.PEM),
                             source="simulator")


def _check_anchor(ctx: AppContext, pem: bytes) -> None:
    if ctx.env is Environment.LIVE and is_simulator_anchor(pem):
        raise Refusal("The Live environment refuses a simulator's trust anchor.")


def _check_vouched(ctx: AppContext, rec: EndpointRecord) -> None:
    problem = endpoint_problem(ctx, rec)
    if problem is not None:
        raise Refusal(problem)


# ------------------------------------------------------------------------------ adapters
def client_tls(ctx: AppContext) -> ClientTls:
    cred = require_credential(ctx, "web-service")
    d = ctx.paths.feature_dir("portal")
    cert_path = d / f"client-{cred.serial}.pem"
    # the file handed to TLS is the checked credential's certificate (require_credential:
    # the one its proven import record holds), written again whenever it is anything else:
    # one put in the data folder beside it would otherwise be presented unchecked
    pem = cred.certificate.public_bytes(serialization.Encoding.PEM)
    try:
        current = read_regular(cert_path, len(pem) + 1, "client certificate",
                               follow_links=False)
    except InputError:  # missing, a link, not a regular file, too large: written anew
        current = b""
    if current != pem:
        write_atomic(cert_path, pem, overwrite=True)
    key_path, password = ctx.keystore.tls_material(cred.key_id)
    return ClientTls(cert_path, Path(key_path), password)


def scheduler(ctx: AppContext, rules: RateRules | None = None) -> Scheduler:
    """The rate-rule scheduler with its state kept in the database (survives restarts)."""

    def load(name: str) -> datetime | None:
        last = repo.rate_last_at(ctx.db, ctx.env.value, name)
        return datetime.fromisoformat(last) if last else None

    def save(name: str, at: datetime) -> None:
        repo.set_rate_last_at(ctx.db, ctx.env.value, name, at.isoformat())

    return Scheduler(ctx.clock, rules, load=load, save=save)


def open_portal(ctx: AppContext, *, timeout: float = 30.0, retries: int = 2) -> WsPortal:
    rec = endpoint(ctx)
    rules = None
    if rec.source == "simulator":
        # the simulator runs a batch in seconds (`batch_step` a stage), not overnight: polls
        # are spaced by its stage time instead of the DCC's hour (the DCC keeps the hour)
        step = simulator_step(ctx)
        rules = RateRules(batch_poll_interval=timedelta(seconds=max(step, 0.05)))
    return WsPortal(rec.endpoint, client_tls(ctx), scheduler=scheduler(ctx, rules),
                    timeout=timeout, retries=retries, deadline=deadline(ctx),
                    adhoc_path=adhoc_path(ctx))


DEADLINE_SETTING = "portal.deadline"
ADHOC_PATH_SETTING = "portal.adhoc_path"


def deadline(ctx: AppContext) -> float:
    """The total time one call to the DCC may take, retries included (seconds; default 60)."""
    raw = ctx.setting(DEADLINE_SETTING)
    if raw is None:
        return DEFAULT_DEADLINE
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0.1 <= value <= 3600:
        raise InputError(f"Setting {DEADLINE_SETTING} = {raw!r}: give seconds between 0.1 and "
                         "3600.")
    return value


def adhoc_path(ctx: AppContext) -> str:
    """The ad hoc Device CSR web service's path under the portal base (the SMKI User Guide
    gives it; AppM does not): setting `portal.adhoc_path`, default `ADHOC_PATH`."""
    raw = (ctx.setting(ADHOC_PATH_SETTING) or ADHOC_PATH).strip()
    if not raw.startswith("/") or any(c.isspace() or c in "?#" for c in raw) or len(raw) > 200:
        raise InputError(f"Setting {ADHOC_PATH_SETTING} = {raw!r}: give a path such as "
                         f"{ADHOC_PATH} (starting with /, no query).")
    return raw


def set_portal_setting(ctx: AppContext, name: str, value: str) -> AuditEntry:
    """Change `portal.deadline` or `portal.adhoc_path` (checked, audited)."""
    if name not in (DEADLINE_SETTING, ADHOC_PATH_SETTING):
        raise InputError(f"Unknown portal setting {name!r}: use {DEADLINE_SETTING} or "
                         f"{ADHOC_PATH_SETTING}.")
    # the setting and its record: one transaction; a value that does not parse rolls back
    with ctx.audit.change():
        ctx.set_setting(name, value.strip())
        deadline(ctx) if name == DEADLINE_SETTING else adhoc_path(ctx)
        return ctx.audit.record("portal.setting.set", {"name": name, "value": value.strip()},
                                {})


def simulator_step(ctx: AppContext) -> float:
    info = simulator_control.running(ctx)
    return simulator_control.batch_step(info) if info is not None else 2.0


SIMULATOR_ISSUE_RATE = 1000.0  # certificates a second the simulator issues (about; measured)
_STAGES_LEFT = {"PENDING": 3, "QUEUED": 2, "PROCESSING": 1}


def simulator_batch_eta(step: float, status: str, count: int) -> timedelta:
    """How long until a simulator batch in `status` is likely COMPLETED: one `batch_step` for
    each stage still ahead, plus the time to issue `count` certificates."""
    stages = _STAGES_LEFT.get(status, 1)
    return timedelta(seconds=stages * step + count / SIMULATOR_ISSUE_RATE + 0.05)


def set_api_key(ctx: AppContext, key: str) -> AuditEntry:
    """Keep the repository web service's API key (from the DCC) in this environment's keyring."""
    key = key.strip()
    if len(key) < 8 or any(ch.isspace() for ch in key):
        raise InputError("API key: paste the key the DCC gave you (no spaces, 8+ characters).")
    ctx.keystore.secrets.set(API_KEY_SECRET, key)
    return ctx.audit.record("portal.api-key.set", {"fingerprint": hashlib.sha256(
        key.encode()).hexdigest()[:16]}, {})


def open_repository(ctx: AppContext, *, timeout: float = 30.0) -> WsRepository:
    rec = endpoint(ctx)
    key = ctx.keystore.secrets.get_optional(API_KEY_SECRET)
    if not key:
        raise NotFound(f"No repository API key in the {ctx.env.label} keyring: request the "
                       "web-service credential first, or enter the API key the DCC gave you.",
                       hint="credential.request.web-service")
    return WsRepository(rec.endpoint, key, timeout=timeout, clock=ctx.clock,
                        deadline=deadline(ctx))
