"""The offline adapter's service side, for a machine with no connection (an air-gapped ARO
workstation): write every waiting request as a bundle signed with the ARO's file-signing
credential (only what the outbox would send from here), relay a bundle from a connected machine
(same client references: a second relay is harmless), and read the answers bundle back into
the outbox, checking each relayed Device CSR answer against what was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.core.errors import NotFound, Refusal
from smki_desktop.core.portal_ports import (
    PortalError,
    Rejected,
)
from smki_desktop.portal.offline import (
    Answer,
    BundleEntry,
    read_answer_bundle,
    read_request_bundle,
    write_answer_bundle,
    write_request_bundle,
)
from smki_desktop.portal.outbox import Outbox, OutboxItem
from smki_desktop.portal.ws_client import WsPortal, check_batch_answer
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import require_credential
from smki_desktop.services.device_matching import untrusted_adhoc_answer
from smki_desktop.services.portal import (
    _items_xml,
    _read_items,
    _sendable,
    batch_csrs,
    import_issued,
    outbox,
)
from smki_desktop.services.portal_endpoint import open_portal
from smki_desktop.services.trust import trust_anchors


def export_offline(ctx: AppContext, folder: Path) -> Path:
    """Write every waiting request (queued to send, submitted to poll) as a bundle signed with
    the ARO's file-signing credential, for a machine with no connection."""
    cred = require_credential(ctx, "file-signing")
    ob = outbox(ctx)
    queued = ob.items(["queued"])
    # signed with the ARO's credential and sent by the relay: only what may be sent from here
    queued = _sendable(ctx, ob, queued)[0] if queued else []
    entries = [BundleEntry(i.ref, i.kind, i.kind, None, i.payload) for i in queued]
    entries += [BundleEntry(i.ref, "poll", i.kind, i.server_id, b"")
                for i in ob.items(["submitted"])]
    with ctx.keystore.signer(cred.key_id) as signer:
        path = write_request_bundle(folder, ctx.env, entries, signer, cred.certificate,
                                    ctx.clock.now())
    ctx.audit.record("portal.offline.export", {"path": str(path), "requests": len(entries)},
                     {"manifest": (path / "manifest.json").read_bytes()})
    return path


def relay_offline(ctx: AppContext, bundle: Path, out_folder: Path) -> Path:
    """On a connected machine: verify a request bundle, send its requests (same client
    references: a second relay is harmless) and write the answers bundle."""
    entries, signer = read_request_bundle(bundle, ctx.env, trust_anchors=trust_anchors(ctx))
    p = open_portal(ctx)
    answers: list[Answer] = []
    try:
        for e in entries:
            try:
                answers.append(_relay_one(p, e))
            except Rejected as exc:
                answers.append(Answer(e.ref, "failed", e.server_id, None, exc.message, None))
            except PortalError as exc:
                answers.append(Answer(e.ref, "queued" if e.kind != "poll" else "submitted",
                                      e.server_id, None, exc.message, None))
    finally:
        p.close()
    path = write_answer_bundle(out_folder, ctx.env, answers, ctx.clock.now())
    ctx.audit.record("portal.offline.relay", {"bundle": str(bundle), "signed_by": signer,
                                              "answers": len(answers), "path": str(path)}, {})
    return path


def _relay_one(p: WsPortal, e: Any) -> Any:
    if e.kind == "org-csr":
        st = p.submit_org_csr(e.ref, e.payload)
        state = "failed" if st.status == "REJECTED" else "submitted"
        return Answer(e.ref, state, st.request_id, st.status, st.error_code, None)
    if e.kind == "device-batch":
        sub = p.submit_device_batch(e.ref, batch_csrs(e.payload))
        return Answer(e.ref, "submitted", sub.server_id, sub.status, None, None)
    if e.kind == "device-adhoc":
        issued = p.submit_device_csr(e.ref, e.payload)
        ok = issued.status == "SUCCESS"
        return Answer(e.ref, "done" if ok else "failed", None, issued.status,
                      issued.error_code, _items_xml(e.ref, "COMPLETED", [issued]))
    if e.kind == "revocation":
        p.request_revocation(e.ref, e.payload.decode(), "")
        return Answer(e.ref, "done", None, "COMPLETED", None, None)
    if e.request_kind == "org-csr":
        st = p.fetch_org_result(e.ref, e.server_id or "")
        if st.status == "COMPLETED" and st.certificate_der:
            return Answer(e.ref, "done", st.request_id, st.status, None, st.certificate_der)
        state = "failed" if st.status == "REJECTED" else "submitted"
        return Answer(e.ref, state, st.request_id, st.status, st.error_code, None)
    bs = p.poll_batch(e.server_id or "")
    if bs.final:
        return Answer(e.ref, "done" if bs.status == "COMPLETED" else "failed", bs.batch_id,
                      bs.status, bs.error_code, _items_xml(e.ref, bs.status, list(bs.items)))
    return Answer(e.ref, "submitted", bs.batch_id, bs.status, None, None)


def import_offline(ctx: AppContext, folder: Path) -> list[OutboxItem]:
    """Read an answers bundle back into the outbox (and import issued certificates)."""
    ob = outbox(ctx)
    changed: list[OutboxItem] = []
    answers = read_answer_bundle(folder, ctx.env)
    unknown = []
    for a in answers:
        try:
            ob.get(a.ref)
        except NotFound:
            unknown.append(a.ref)
    if answers and len(unknown) == len(answers):
        raise Refusal(
            f"{folder}: none of its {len(answers)} answer(s) is for a request in the "
            f"{ctx.env.label} outbox of this installation (e.g. {unknown[0]}): the bundle "
            "answers another installation's requests, or another environment's. Nothing "
            "was changed.")
    for a in answers:  # every answer checked against what we sent before any is applied
        _check_relayed(ob, a)
    with ctx.audit.change():  # every answer of the bundle and the record: one transaction
        for a in answers:
            if a.ref not in unknown:
                _apply_answer(ctx, ob, a, changed)
        ctx.audit.record("portal.offline.import", {"path": str(folder),
                                                   "changed": [i.ref for i in changed],
                                                   "unknown": unknown}, {})
    return changed


def _apply_answer(ctx: AppContext, ob: Outbox, a: Any, changed: list[OutboxItem]) -> None:
    item = ob.get(a.ref)
    if item.state in ("done", "failed"):
        return
    if a.state == "submitted":
        ob.mark_submitted(a.ref, a.server_id or item.server_id or "", a.server_status or "",
                          ctx.clock.now())
    elif a.state == "done" and (forged := _untrusted(ctx, item, a)) is not None:
        ob.mark_failed(a.ref, forged, a.server_status)  # as the web service's answer is
    elif a.state == "done":
        meta = dict(item.meta)
        if item.kind == "org-csr" and a.result:
            meta["certificate"] = import_issued(ctx, a.result, item)
        ob.mark_done(a.ref, a.server_status or "COMPLETED", a.result, meta)
    elif a.state == "failed":
        ob.mark_failed(a.ref, a.error or "refused", a.server_status)
    else:
        ob.defer(a.ref, a.error, ctx.clock.now())
    changed.append(ob.get(a.ref))


def _untrusted(ctx: AppContext, item: OutboxItem, a: Any) -> str | None:
    """Why a relayed ad hoc Device CSR answer must not be taken as done (a certificate no
    Device CA this environment trusts signed), with the web service path's check and words;
    None otherwise. A batch's certificates are checked as they are filed (`devices.collect`),
    whichever way the answer came."""
    if item.kind != "device-adhoc" or not a.result:
        return None
    return untrusted_adhoc_answer(ctx, a.ref, _read_items(a.result, a.ref))


def _check_relayed(ob: Outbox, a: Any) -> None:
    """A relayed Device CSR answer names only CSRs we sent, with certificates of their keys."""
    try:
        item = ob.get(a.ref)
    except NotFound:
        return
    if a.state != "done" or not a.result or item.kind not in ("device-batch", "device-adhoc"):
        return
    items = tuple(_read_items(a.result, a.ref))
    sent = (dict(batch_csrs(item.payload)) if item.kind == "device-batch"
            else {item.ref: item.payload})
    check_batch_answer(item.server_id or a.server_id or a.ref, a.server_status or "COMPLETED",
                       items, sent)


