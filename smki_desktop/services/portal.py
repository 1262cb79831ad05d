"""The portal workflow: endpoints and trust anchors per environment, the outbox of requests to
the DCC, sending them (idempotently), polling for results under the rate rules, and importing
issued Organisation certificates through the acceptance check.

Test with no endpoint configured uses the embedded simulator, started on demand. Live never
trusts a simulator's hierarchy.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ws_xml as W
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal, SmkiError
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.core.plain_text import visible
from smki_desktop.core.portal_ports import (
    BatchState,
    IssuedItem,
    MalformedAnswer,
    PortalError,
    Rejected,
    Throttled,
)
from smki_desktop.core.schedule import RateRules, Scheduler, next_processing_start
from smki_desktop.crypto.der import to_der
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.portal.outbox import Outbox, new_ref, queue_in
from smki_desktop.portal.outbox import OutboxItem as OutboxItem  # the faces read queue rows as this
from smki_desktop.portal.upload import org_paste_text
from smki_desktop.portal.ws_client import WsPortal
from smki_desktop.services import (
    certificates,
    crossing,
    org_csr_approval,
    outbox_vouched,
    revocation_state,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.crossing import SIMULATOR_MARKER_POLICY
from smki_desktop.services.device_matching import untrusted_adhoc_answer

# The endpoint and its adapters live in services/portal_endpoint.py; these names stay
# importable from here for the faces and tests that use them.
from smki_desktop.services.portal_endpoint import (
    ADHOC_PATH_SETTING,
    API_KEY_SECRET,
    DEADLINE_SETTING,
    ENROLMENT_SECRET,
    SIMULATOR_ISSUE_RATE,
    EndpointRecord,
    adhoc_path,
    client_tls,
    configured_endpoint,
    deadline,
    endpoint,
    is_simulator_anchor,
    open_portal,
    open_repository,
    repository_warning,
    scheduler,
    set_api_key,
    set_endpoint,
    set_portal_setting,
    simulator_batch_eta,
    simulator_step,
)
from smki_desktop.services.published_keys import refuse_published_test_key
from smki_desktop.store.process_lock import process_lock
from smki_desktop.store.repos import cert_records

__all__ = [
    "ADHOC_PATH_SETTING", "API_KEY_SECRET", "DEADLINE_SETTING", "ENROLMENT_SECRET",
    "SIMULATOR_ISSUE_RATE", "SIMULATOR_MARKER_POLICY", "EndpointRecord", "adhoc_path",
    "client_tls", "configured_endpoint", "deadline", "endpoint", "is_simulator_anchor",
    "open_portal", "open_repository", "repository_warning", "scheduler", "set_api_key",
    "set_endpoint", "set_portal_setting", "simulator_batch_eta", "simulator_step",
]

RETRY_DELAYS = (30, 120, 600, 3600)  # seconds between re-sends after transient failures


def outbox(ctx: AppContext) -> Outbox:
    return Outbox(ctx.db, ctx.env, ctx.clock)


# ------------------------------------------------------------------------------ enqueue
def _csr_der(data: bytes, what: str) -> bytes:
    der = to_der(data, what)
    try:
        x509.load_der_x509_csr(der)
    except ValueError as exc:
        raise InputError(f"{what}: not a PKCS#10 certificate request ({exc}).") from None
    return der


@dataclass(frozen=True)
class Enqueued:
    item: OutboxItem
    audit: AuditEntry | None
    sent: list[OutboxItem] = field(default_factory=list)


def org_channel(ctx: AppContext) -> str:
    """How Organisation CSRs reach the DCC here: the DCC has no web service for them, so Live
    (and a configured Test endpoint) use the browser portal by hand; the simulator emulates
    the portal form, so Test with the simulator runs the whole loop automatically."""
    rec = configured_endpoint(ctx)
    if ctx.env is Environment.LIVE or (rec is not None and rec.source == "configured"):
        return "browser-portal"
    return "simulator-form"


def submit_org_csr(ctx: AppContext, data: bytes, *, source: str = "",
                   send_now: bool = True) -> Enqueued:
    """Store an Organisation CSR in the outbox. With the simulator it is sent at once; for the
    DCC the item carries the paste text for the SMKI Portal's form and completes when the
    certificate the user picks up is imported (`smki portal poll` notices it)."""
    der = _csr_der(data, source or "Organisation CSR")
    authorisation = check_org_csr(ctx, der, source=source)
    ob = outbox(ctx)
    channel = org_channel(ctx)
    meta: dict[str, Any] = {"source": source, "channel": channel}
    if authorisation:
        meta["authorisation"] = authorisation
    if channel == "browser-portal":
        meta["paste_text"] = org_paste_text(der)
    with ctx.audit.change():  # the outbox request and its record: one transaction
        item = ob.add("org-csr", der, meta)
        entry = ctx.audit.record("portal.submit", {"kind": "org-csr", "ref": item.ref,
                                                   "source": source, "channel": channel},
                                 {"csr": der})
        if channel == "browser-portal":
            ob.mark_submitted(item.ref, "", "PASTE_IN_PORTAL", ctx.clock.now())
    if channel == "browser-portal":
        return Enqueued(ob.get(item.ref), entry, [])
    sent = send_pending(ctx, refs=[item.ref]) if send_now else []
    return Enqueued(ob.get(item.ref), entry, sent)


def check_org_csr(ctx: AppContext, data: bytes, *, source: str = "") -> str | None:
    """Would `submit_org_csr` refuse this CSR? The checks it makes before anything is stored or
    sent, read-only (nothing stored, sent or recorded), so that a face can say what is missing
    before the officer confirms. Raises what the submission would raise; returns the id of the
    SRO's authorisation where the rule requires one (None otherwise)."""
    what = source or "Organisation CSR"
    der = _csr_der(data, what)
    crossing.refuse_foreign_csr(ctx, der, what)
    if ctx.env is Environment.LIVE:
        _require_party_csr(ctx, der, what)
    return org_csr_approval.require_authorised(ctx, der)  # the SRO's, where required


def _require_party_csr(ctx: AppContext, der: bytes, what: str) -> None:
    """Live submits an Organisation CSR (made here or by another tool) only with a Party
    profile, for a role the Party type may hold and an EUI in the Party's own ranges."""
    party = crossing.require_party(ctx, "Organisation CSR submission")
    fields = extract_fields(der, what)
    if fields.role is None or fields.eui is None:
        raise InputError(f"{what}: not an Organisation CSR of the SMKI profile (no role OU or "
                         "EUI-64 in its subject); a lint of the CSR says what is wrong.")
    if party is None:
        return
    offered = crossing.roles_offered(ctx)
    if fields.role not in offered:
        raise Refusal(f"{what}: Role {fields.role.name_text} is not one a "
                      f"{party.party_type.label} may hold (it may hold: "
                      f"{', '.join(r.ou for r in offered) or 'none'}).")
    party.require_own_eui(fields.eui, f"{what}: EUI")


def _browser_portal_check(ctx: AppContext, ob: Outbox, item: OutboxItem) -> bool:
    """Complete a hand-submitted Organisation CSR once its certificate has been imported."""
    spki = x509.load_der_x509_csr(item.payload).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = key_id_for_spki(spki)
    row = cert_records.latest_for_key(ctx.db, ctx.env.value, key_id)
    if row is None:
        ob.mark_polled(item.ref, "PASTE_IN_PORTAL", ctx.clock.now() + timedelta(hours=1))
        return False
    meta = dict(item.meta, certificate={"imported": True, "status": row.status})
    _answered(ctx, ob, item.ref,
              functools.partial(ob.mark_done, item.ref, "COMPLETED", row.der, meta))
    return True


@dataclass(frozen=True)
class BatchRequest:
    """A Device CSR batch request made ready to queue: `insert(c)` stores it inside the
    caller's transaction, with the rows it belongs to; `queued(ctx)` records it, in the same
    transaction when the caller opened it as an audited change (`ctx.audit.change()`)."""

    ref: str
    payload: bytes
    meta: dict[str, Any]
    environment: Environment
    now: datetime

    def insert(self, c: Any) -> None:
        queue_in(c, self.ref, self.environment, "device-batch", self.payload, self.meta,
                 self.now)

    def queued(self, ctx: AppContext) -> OutboxItem:
        ctx.audit.record("portal.submit", {"kind": "device-batch", "ref": self.ref,
                                           "count": self.meta["count"]},
                         {"batch": self.payload})
        return outbox(ctx).get(self.ref)


def device_batch_request(ctx: AppContext, csrs: list[tuple[str, bytes]],
                         meta: dict[str, Any] | None = None) -> BatchRequest:
    """A Device CSR batch (DeviceCSR ID, DER) for the web service, built and checked, not yet
    stored."""
    ref = new_ref("device-batch")
    payload = W.SubmitCSRBatch(ref, tuple(csrs)).build()  # validates ids and sizes
    return BatchRequest(ref, payload, dict(meta or {}, count=len(csrs)), ctx.env,
                        ctx.clock.now())


def enqueue_device_batch(ctx: AppContext, csrs: list[tuple[str, bytes]],
                         meta: dict[str, Any] | None = None) -> OutboxItem:
    """Store a Device CSR batch (DeviceCSR ID, DER) for the web service; issue 5 calls this."""
    req = device_batch_request(ctx, csrs, meta)
    with ctx.audit.change(), ctx.db.transaction() as c:
        req.insert(c)
        return req.queued(ctx)


def enqueue_adhoc(ctx: AppContext, csr: bytes, meta: dict[str, Any] | None = None
                  ) -> OutboxItem:
    der = _csr_der(csr, "Device CSR")
    with ctx.audit.change():
        item = outbox(ctx).add("device-adhoc", der, meta)
        ctx.audit.record("portal.submit", {"kind": "device-adhoc", "ref": item.ref},
                         {"csr": der})
    return item


def request_revocation(ctx: AppContext, serial_hex: str, reason: str = "") -> Enqueued:
    serial = serial_hex.strip().upper().replace(":", "")
    if not serial or any(ch not in "0123456789ABCDEF" for ch in serial):
        raise InputError(f"Serial {serial_hex!r}: give the certificate serial in hexadecimal.")
    with ctx.audit.change():
        item = outbox(ctx).add("revocation", serial.encode(), {"reason": reason})
        entry = ctx.audit.record("portal.revoke", {"ref": item.ref, "serial": serial,
                                                   "reason": reason}, {})
    sent = send_pending(ctx, refs=[item.ref])
    return Enqueued(outbox(ctx).get(item.ref), entry, sent)


# ------------------------------------------------------------------------------ send
def _first_poll_at(ctx: AppContext, rec_source: str, kind: str, count: int = 0) -> datetime:
    now = ctx.clock.now()
    if rec_source == "simulator":
        if kind == "device-batch":  # when the simulator should have finished it
            return now + simulator_batch_eta(simulator_step(ctx), "PENDING", count)
        return now  # the simulator answers Organisation CSRs at once
    if kind == "device-batch":
        return next_processing_start(RateRules(), now) + timedelta(hours=1)
    return now + timedelta(hours=1)


def _transient(ctx: AppContext, ob: Outbox, item: OutboxItem, exc: PortalError) -> None:
    if isinstance(exc, Throttled):
        ob.defer(item.ref, exc.message, exc.retry_at)
        return
    delay = RETRY_DELAYS[min(item.attempts, len(RETRY_DELAYS) - 1)]
    ob.defer(item.ref, exc.message, ctx.clock.now() + timedelta(seconds=delay))


def send_pending(ctx: AppContext, portal: WsPortal | None = None,
                 refs: list[str] | None = None, *, force: bool = False) -> list[OutboxItem]:
    """Send every queued item that is due (or those named); each re-send carries the same
    client reference. Returns the items after the attempt."""
    # A sender that dies mid-send must not hold its items: a restart sends them again at once
    # (the DCC answers a re-sent reference with its first answer). One workstation (SQLite):
    # its senders take turns under a lock on the data folder, which dies with a killed sender.
    # A team store is shared by workstations that no local lock can order: there each item is
    # held by its sender's connection while it is sent (Outbox.sending), which the server
    # releases when that sender dies; no time lease, so nothing waits for one to run out.
    shared = ctx.db.backend != "sqlite"
    with (contextlib.nullcontext() if shared
          else process_lock(ctx.paths.env_dir / "outbox-send.lock")):
        return _send_pending(ctx, portal, refs, force)


def _send_pending(ctx: AppContext, portal: WsPortal | None, refs: list[str] | None,
                  force: bool) -> list[OutboxItem]:
    ob = outbox(ctx)
    items = [ob.get(r) for r in refs] if refs else (ob.items(["queued"]) if force
                                                      else ob.due("queued"))
    items = [i for i in items if i.state == "queued"]
    if not items:
        return []
    # only what this installation (or an endorsed writer of the team) queued, as it queued it,
    # and still allowed now: before any connection (no request of anyone else's goes out)
    items, out = _sendable(ctx, ob, items)
    if not items:
        return out
    own = portal is None
    rec = endpoint(ctx)
    p = portal or open_portal(ctx)
    try:
        for item in items:
            with ob.sending(item.ref) as mine:
                if not mine or not ob.claim(item, None):
                    continue  # another sender (process or workstation) has it or had it
                failure: PortalError | None = None
                try:
                    answered = _send_one(ctx, ob, p, item, rec.source)  # the network call
                except Rejected as exc:
                    answered = functools.partial(ob.mark_failed, item.ref, exc.message, None)
                except PortalError as exc:
                    failure = exc
                    answered = functools.partial(_transient, ctx, ob, ob.get(item.ref), exc)
                # what the answer says about the request and its record: one transaction (a
                # kill before it leaves the request to be sent again under the same reference)
                with ctx.audit.change():
                    answered()
                    after = ob.get(item.ref)
                    ctx.audit.record(outbox_vouched.SEND_ACTION, {
                        "ref": after.ref, "results": {after.ref: after.state},
                        "errors": {after.ref: after.last_error} if after.last_error else {}},
                        {})
                out.append(after)
                if failure is not None and not failure.retryable:
                    raise failure
    finally:
        if own:
            p.close()
    return out


REFUSE_ACTION = "portal.refuse_send"


def _sendable(ctx: AppContext, ob: Outbox, items: list[OutboxItem]
              ) -> tuple[list[OutboxItem], list[OutboxItem]]:
    """Of queued `items`: those that may go to the DCC, and those refused (marked failed, each
    with its reason and an audit record). A request goes only when a record the log proves
    queued it, as it is now (outbox_vouched: one query for them all), and the checks made when
    it was queued still pass: someone who can write the store but not sign a record cannot
    have this workstation send a request of theirs under its credential."""
    records = outbox_vouched.queue_records(ctx.audit, items)
    ok: list[OutboxItem] = []
    refused: list[OutboxItem] = []
    for item in items:
        record = records[item.ref]
        why = record if isinstance(record, str) else _still_allowed(ctx, item, record)
        if why is None:
            ok.append(item)
            continue
        after = _refuse(ctx, ob, item, why)
        if after is not None:
            refused.append(after)
    return ok, refused


def _refuse(ctx: AppContext, ob: Outbox, item: OutboxItem, why: str) -> OutboxItem | None:
    """Mark `item` failed, naming why it is not sent, with the record of the refusal (one
    transaction); None when another sender holds or took it."""
    with ob.sending(item.ref) as mine:
        if not mine or not ob.claim(item, None):
            return None
        message = f"Request {item.ref} was not sent: {why}."
        with ctx.audit.change():
            ob.mark_failed(item.ref, message, None)
            ctx.audit.record(REFUSE_ACTION, {"ref": item.ref, "kind": item.kind,
                                             "why": message},
                             {"request": item.payload})
        return ob.get(item.ref)


def _still_allowed(ctx: AppContext, item: OutboxItem, record: AuditEntry) -> str | None:
    """The checks made when `item` was queued that cost little, made again as it is sent (its
    Party profile, rules or authorisation may have changed since); why it may not go, or
    None."""
    return payload_problem(ctx, item.ref, item.kind, item.payload,
                           {record.details.get("channel"), item.meta.get("channel")})


def payload_problem(ctx: AppContext, ref: str, kind: str, payload: bytes,
                    channels: set[Any]) -> str | None:
    """Why request `ref` (an outbox `kind` and its payload; an Organisation CSR queued for
    `channels`) may not go to the DCC from here (Party, other environment's keys, published
    test keys, serial format, channel), or None: `_still_allowed` as it is sent, and the
    offline relay for each request of a bundle."""
    what = f"Request {ref}"
    try:
        if kind == "org-csr":
            _org_csr_allowed(ctx, payload, channels, what)
        elif kind == "device-adhoc":
            crossing.refuse_foreign_device_csr(ctx, payload, what)
            crossing.require_party(ctx, "Ad hoc Device CSR")
            _refuse_published(ctx, [payload], what)
        elif kind == "device-batch":
            crossing.require_party(ctx, "Device batch")
            # a CSR that does not parse is the DCC's to reject (per CSR, as queued)
            ders = [der for _, der in batch_csrs(payload) if _parses(der)]
            foreign = crossing.foreign_device_keys(ctx, {_key_id(der, what) for der in ders})
            if foreign:
                raise Refusal(f"{what}: {len(foreign)} of its CSRs are for keys the other "
                              f"environment packaged or submitted (e.g. key "
                              f"{sorted(foreign)[0][:16]}); this is the {ctx.env.label} "
                              "environment.")
            _refuse_published(ctx, ders, what)
        elif kind == "revocation":
            serial = payload.decode("ascii", "replace")
            if not serial or any(ch not in "0123456789ABCDEF" for ch in serial):
                raise InputError(f"{what}: {serial[:40]!r} is not a certificate serial in "
                                 "hexadecimal.")
        else:
            raise InputError(f"{what}: unknown outbox kind {kind}.")
    except (SmkiError, W.XmlMessageError) as exc:
        return str(getattr(exc, "message", exc)).rstrip(".")
    return None


def _org_csr_allowed(ctx: AppContext, payload: bytes, channels: set[Any], what: str) -> None:
    crossing.refuse_foreign_csr(ctx, payload, what)
    if ctx.env is Environment.LIVE:
        _require_party_csr(ctx, payload, what)
    org_csr_approval.require_authorised(ctx, payload)
    _refuse_published(ctx, [payload], what)
    if ctx.env is Environment.LIVE or "browser-portal" in channels:
        raise Refusal(f"{what}: an Organisation CSR for the DCC goes through the SMKI Portal's "
                      "browser form (its channel here), never the web service")


def _parses(der: bytes) -> bool:
    try:
        x509.load_der_x509_csr(der).public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def _key_id(der: bytes, what: str) -> str:
    try:
        csr = x509.load_der_x509_csr(der)
        csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{what}: not a PKCS#10 certificate request ({exc}).") from None
    return key_id_for_spki(csr.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def _refuse_published(ctx: AppContext, ders: list[bytes], what: str) -> None:
    """In Live, no CSR for a key whose private key the DCC published for testing."""
    if ctx.env is not Environment.LIVE:
        return
    for der in ders:
        refuse_published_test_key(ctx.env, _key_id(der, what), what)


def _send_one(ctx: AppContext, ob: Outbox, p: WsPortal, item: OutboxItem,
              source: str) -> Callable[[], None]:
    """Send `item` (no transaction is open: a network call); returns what writes its answer."""
    ref = item.ref
    if item.kind == "org-csr":
        st = p.submit_org_csr(ref, item.payload)
        if st.status == "REJECTED":
            return functools.partial(ob.mark_failed, ref,
                                     f"The DCC rejected the CSR ({st.error_code}).", "REJECTED")
        return functools.partial(ob.mark_submitted, ref, st.request_id, st.status,
                                 _first_poll_at(ctx, source, item.kind))
    if item.kind == "device-batch":
        csrs = batch_csrs(item.payload)
        sub = p.submit_device_batch(ref, csrs)
        return functools.partial(ob.mark_submitted, ref, sub.server_id, sub.status,
                                 _first_poll_at(ctx, source, item.kind, len(csrs)))
    if item.kind == "device-adhoc":
        issued = p.submit_device_csr(ref, item.payload)
        forged = untrusted_adhoc_answer(ctx, ref, [issued])
        if forged is not None:  # the key matched the CSR's; the signer must be the DCC too
            return functools.partial(ob.mark_failed, ref, forged, issued.status)
        if issued.status == "SUCCESS":
            return functools.partial(ob.mark_done, ref, issued.status,
                                     _items_xml(ref, "COMPLETED", [issued]))
        return functools.partial(ob.mark_failed, ref, " ".join(
            x for x in (issued.status, issued.error_code, issued.error_text) if x),
            issued.status)
    if item.kind == "revocation":
        p.request_revocation(ref, item.payload.decode(), item.meta.get("reason", ""))
        return functools.partial(ob.mark_done, ref, "COMPLETED", None)
    raise InputError(f"Unknown outbox kind {item.kind}.")  # pragma: no cover - Outbox.add


RESULTS_FORMAT = "smki-desktop/issued-items/1"


def _items_xml(ref: str, status: str, items: list[IssuedItem]) -> bytes:
    """The outcome of a batch or ad hoc request as the outbox keeps it: our own JSON (the
    DCC's CSRBatchResult is an answer on the wire, not a storage format: an ad hoc answer has
    statuses it does not allow)."""
    return json.dumps({"format": RESULTS_FORMAT, "ref": ref, "status": status, "items": [
        {"id": i.item_id, "status": i.status, "error_code": i.error_code,
         "error_text": i.error_text,
         "certificate": W.b64(i.certificate_der) if i.certificate_der else None}
        for i in items]}).encode()


def batch_csrs(payload: bytes) -> list[tuple[str, bytes]]:
    """The (DeviceCSR ID, DER) pairs of a queued batch: AppM's SubmitCSRBatch, or the shape
    this app queued before issue 17 (`<ID>` element, no Version), so nothing queued is lost."""
    try:
        return list(W.SubmitCSRBatch.parse(payload).csrs)
    except W.XmlMessageError:
        root = W.parse_legacy(payload, "SubmitCSRBatch")
        return [(W.check_csr_id(e.attrib.get("ID", "")), W.unb64(e.text or "", "DeviceCSR"))
                for e in root.findall("DeviceCSR")]


def _read_items(data: bytes, ref: str) -> list[IssuedItem]:
    if data.lstrip().startswith(b"<"):  # kept before issue 17: our CSRBatchResult shape
        root = W.parse_legacy(data, "CSRBatchResult")
        return [IssuedItem(e.attrib.get("ID", ""), e.findtext("Status") or "",
                           e.findtext("ErrorCode"),
                           W.unb64(e.findtext("Certificate") or "", "Certificate")
                           if e.findtext("Certificate") else None)
                for e in root.findall("CSRResult")]
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != RESULTS_FORMAT:
            raise ValueError("not the outbox's result format")
        return [IssuedItem(str(i["id"]), str(i["status"]), i.get("error_code"),
                           W.unb64(i["certificate"], f"certificate of {i['id']}")
                           if i.get("certificate") else None, i.get("error_text"))
                for i in doc["items"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"The stored result of request {ref} cannot be read ({exc}).") \
            from None


# ------------------------------------------------------------------------------ poll
@dataclass
class PollReport:
    polled: list[OutboxItem] = field(default_factory=list)
    completed: list[OutboxItem] = field(default_factory=list)
    deferred: list[tuple[OutboxItem, str]] = field(default_factory=list)
    imported: list[dict[str, Any]] = field(default_factory=list)
    sent: list[OutboxItem] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)  # revocation requests the CRL completed
    #: polls whose answer was not a valid or not a consistent message (bad input from the
    #: other side: the request stays submitted; the CLI exits 2): {"ref", "why"}
    malformed: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": [i.as_dict() for i in self.sent], "revoked": self.revoked,
                "malformed": self.malformed,
                "polled": [i.as_dict() for i in self.polled],
                "completed": [i.as_dict() for i in self.completed],
                "deferred": [{"ref": i.ref, "why": why} for i, why in self.deferred],
                "imported": self.imported}


def poll(ctx: AppContext, portal: WsPortal | None = None, *, force: bool = False,
         send: bool = True) -> PollReport:
    """Send what is queued, then ask for the results of every submitted request that is due;
    import issued Organisation certificates through the acceptance check. Hand-submitted
    Organisation CSRs (browser portal) complete when their certificate has been imported."""
    report = PollReport()
    ob = outbox(ctx)
    items = ob.items(["submitted"]) if force else ob.due("submitted")
    by_hand = [i for i in items if i.meta.get("channel") == "browser-portal"]
    for item in by_hand:
        done = _browser_portal_check(ctx, ob, item)
        report.polled.append(ob.get(item.ref))
        if done:
            report.completed.append(ob.get(item.ref))
    items = [i for i in items if i.meta.get("channel") != "browser-portal"]
    queued = ob.items(["queued"]) if send else []
    crl_due = revocation_state.awaiting_crl(ctx)  # a submitted revocation waits for the CRL
    if not items and not queued and not crl_due and portal is None:
        ctx.audit.record("portal.poll", {"polled": len(report.polled),
                                         "completed": [i.ref for i in report.completed]}, {})
        return report
    own = portal is None
    p = portal or open_portal(ctx)
    try:
        if send:
            report.sent = send_pending(ctx, p)
        source = endpoint(ctx).source
        for item in items:
            try:
                if source != "simulator":
                    _require_processing_window(ctx, item)
                done = _poll_one(ctx, ob, p, item, report, source)
            except Throttled as exc:
                ob.defer(item.ref, None, exc.retry_at)
                report.deferred.append((ob.get(item.ref), exc.message))
                continue
            except PortalError as exc:
                _transient(ctx, ob, item, exc)
                report.deferred.append((ob.get(item.ref), exc.message))
                if isinstance(exc, MalformedAnswer):
                    report.malformed.append({"ref": item.ref, "why": exc.message})
                if not exc.retryable:
                    raise
                continue
            after = ob.get(item.ref)
            report.polled.append(after)
            if done:
                report.completed.append(after)
        if crl_due:
            applied = revocation_state.apply_crl(ctx, p.fetch_org_crl())
            report.revoked = applied.requests
    finally:
        if own:
            p.close()
    ctx.audit.record("portal.poll", {"polled": len(report.polled),
                                     "completed": [i.ref for i in report.completed]}, {})
    return report


def _require_processing_window(ctx: AppContext, item: OutboxItem) -> None:
    """A DCC batch still waiting (PENDING/QUEUED) is processed only 20:00-08:00 London time:
    asking before the window opens spends a poll for nothing, so defer to the window."""
    if item.kind != "device-batch" or item.server_status not in ("PENDING", "QUEUED"):
        return
    rules = RateRules()
    Scheduler(ctx.clock, rules).require_window(rules.processing_start, rules.processing_end,
                                               "Batch processing at the DCC")


def _poll_one(ctx: AppContext, ob: Outbox, p: WsPortal, item: OutboxItem,
              report: PollReport, source: str = "configured") -> bool:
    if item.kind == "org-csr":
        st = p.fetch_org_result(item.ref, item.server_id or "")
        if st.status == "COMPLETED" and st.certificate_der:
            der = st.certificate_der

            def issued() -> None:  # the certificate's import and the request's end together
                imported = import_issued(ctx, der, item)
                report.imported.append(imported)
                ob.mark_done(item.ref, "COMPLETED", der, dict(item.meta, certificate=imported))

            _answered(ctx, ob, item.ref, issued)
            return True
        if st.status == "REJECTED":
            _answered(ctx, ob, item.ref, functools.partial(
                ob.mark_failed, item.ref, f"The DCC rejected the CSR ({st.error_code}).",
                "REJECTED"))
            return True
        ob.mark_polled(item.ref, st.status, ctx.clock.now() + timedelta(minutes=1))
        return False
    if item.kind == "device-batch":
        state: BatchState = p.poll_batch(item.server_id or "",
                                         sent=dict(batch_csrs(item.payload)),
                                         client_ref=item.ref)
        if state.final:
            xml = _items_xml(item.ref, state.status, list(state.items))
            if state.status == "COMPLETED":
                _answered(ctx, ob, item.ref,
                          functools.partial(ob.mark_done, item.ref, state.status, xml))
            else:
                why = " ".join(x for x in (state.error_code, state.error_text) if x) or "-"
                _answered(ctx, ob, item.ref, functools.partial(
                    ob.mark_failed, item.ref, f"Batch {state.status} ({why})", state.status))
            return True
        if source == "simulator":  # still running: ask again when it should be done
            wait = simulator_batch_eta(simulator_step(ctx), state.status,
                                       int(item.meta.get("count", 0)))
        else:
            wait = RateRules().batch_poll_interval
        ob.mark_polled(item.ref, state.status, ctx.clock.now() + wait)
        return False
    return False


def _answered(ctx: AppContext, ob: Outbox, ref: str, write: Callable[[], None]) -> None:
    """A request's final answer and its record: one transaction (issue 16). The poll that
    fetched it (a network call) came before; a kill before the commit leaves the request
    submitted, to be asked again (the DCC answers the same reference the same way)."""
    with ctx.audit.change():
        write()
        after = ob.get(ref)
        ctx.audit.record("portal.answer", {"ref": ref, "kind": after.kind, "state": after.state,
                                           "server_status": after.server_status,
                                           "error": after.last_error}, {})


def batch_results(ctx: AppContext, ref: str) -> list[IssuedItem]:
    """The per-CSR results of a completed batch (or ad hoc request), matched by DeviceCSR ID."""
    item = outbox(ctx).get(ref)
    if item.result is None:
        raise NotFound(f"Request {ref} has no results yet (state {item.state}).")
    return _read_items(item.result, ref)


def import_issued(ctx: AppContext, der: bytes, item: OutboxItem) -> dict[str, Any]:
    """Hand an issued certificate to the certificate acceptance check; not when the key of
    the Organisation CSR it answers was deleted meanwhile (the certificate is kept with the
    answered request, and said unusable: it is never called accepted)."""
    if item.kind == "org-csr":
        from smki_desktop.services.key_pending import deleted_key_note

        gone = deleted_key_note(ctx, item.payload)
        if gone is not None:
            return {"imported": False, "accepted": False, "status": "key-deleted",
                    "why": f"the DCC issued a certificate for request {item.ref}, but {gone}: "
                           "the certificate cannot be used (nothing here can sign with its "
                           "key); ask the DCC to revoke it."}
    result = certificates.import_certificate(ctx, der)
    return {"imported": True, "accepted": result.accepted, "status": result.status,
            "message": result.message}


def status(ctx: AppContext, ref: str | None = None) -> list[OutboxItem]:
    ob = outbox(ctx)
    return [ob.get(ref)] if ref else ob.items()


def describe(item: OutboxItem) -> str:
    what = {"org-csr": "Organisation CSR", "device-batch": "Device CSR batch",
            "device-adhoc": "ad hoc Device CSR", "revocation": "revocation"}[item.kind]
    # what the other side said is shown plainly (a control character never reaches a terminal)
    server = f" DCC id {visible(item.server_id)}" if item.server_id else ""
    st = f" ({visible(item.server_status)})" if item.server_status else ""
    return f"{item.ref}  {what:<18} {item.state}{st}{server}; next: {item.next_action}"


def dump_json(items: list[OutboxItem]) -> str:
    return json.dumps([i.as_dict() for i in items])


# ------------------------------------------------------------------------------ ADT delivery
def upload_adt_package(ctx: AppContext, name: str, data: bytes) -> tuple[str, str]:
    """Deliver a signed ADT package (issue 6 calls this). Test with the simulator: over mutual
    TLS to its emulated secure channel -> (where, reference). The DCC's channel is SharePoint
    (MP109), which this app does not drive: elsewhere the caller keeps the written package."""
    rec = configured_endpoint(ctx)
    if ctx.env is Environment.LIVE or (rec is not None and rec.source == "configured"):
        raise Refusal("The DCC takes ADT packages through its secure channel (SharePoint), "
                      "which this app does not drive: upload the written package there.")
    p = open_portal(ctx)
    try:
        ref = p.upload_adt_package(name, data)
    finally:
        p.close()
    where = f"{p.endpoint.portal_url}/portal/adt-upload"
    ctx.audit.record("portal.adt.upload", {"name": name, "to": where, "reference": ref},
                     {"package": data})
    return where, ref
