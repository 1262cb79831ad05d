"""The offline adapter's service side, for a machine with no connection (an air-gapped ARO
workstation): write every waiting request as a bundle signed with the ARO's file-signing
credential (only what the outbox would send from here), relay a bundle from a connected machine
(same client references: a second relay is harmless), and read the answers bundle back into
the outbox, checking each relayed Device CSR answer against what was sent."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from smki_desktop.core.errors import NotFound, Refusal
from smki_desktop.core.portal_ports import (
    MalformedAnswer,
    PortalError,
    Rejected,
)
from smki_desktop.portal.offline import (
    Answer,
    BundleEntry,
    open_request_bundle,
    read_answer_bundle,
    write_answer_bundle,
    write_request_bundle,
)
from smki_desktop.portal.outbox import Outbox, OutboxItem
from smki_desktop.portal.ws_client import WsPortal, check_batch_answer
from smki_desktop.services import portal_offline_checks as checks
from smki_desktop.services.context import AppContext
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
from smki_desktop.services.token import signer_for


def export_offline(ctx: AppContext, folder: Path, *, as_ref: str | None = None,
                   key_ref: str | None = None) -> Path:
    """Write every waiting request (queued to send, submitted to poll) as a bundle signed with
    the file-signing credential of an ARO in active standing (`as_ref` through `key_ref`; by
    default the entry the local profile links to), for a machine with no connection. The
    export's record names the manifest's SHA-256 and the references: the answers are taken
    back only for them."""
    actor = checks.acting_aro(ctx, as_ref, key_ref, "Signing requests for the DCC")
    ob = outbox(ctx)
    queued = ob.items(["queued"])
    # signed with the ARO's credential and sent by the relay: only what may be sent from here
    queued = _sendable(ctx, ob, queued)[0] if queued else []
    entries = [BundleEntry(i.ref, i.kind, i.kind, None, i.payload) for i in queued]
    entries += [BundleEntry(i.ref, "poll", i.kind, i.server_id, b"")
                for i in ob.items(["submitted"])]
    with signer_for(ctx, actor.key) as signer:
        path = write_request_bundle(folder, ctx.env, entries, signer,
                                    actor.credential.certificate, ctx.clock.now(),
                                    extra_certs=actor.chain[1:])
    manifest = (path / "manifest.json").read_bytes()
    ctx.audit.record(checks.EXPORT_ACTION, {
        "path": str(path), "requests": len(entries),
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "refs": [e.ref for e in entries], "signed_by": actor.officer.officer_id},
        {"manifest": manifest})
    return path


def relay_offline(ctx: AppContext, bundle: Path, out_folder: Path, *,
                  as_ref: str | None = None, key_ref: str | None = None) -> Path:
    """On a connected machine: verify a request bundle (signed by an ARO in active standing of
    this register, `portal_offline_checks`), send each request that passes the checks made
    when it was queued (same client references: a second relay is harmless), and write the
    answers bundle, signed by the relaying ARO (`as_ref` through `key_ref`) and bound to the
    request bundle."""
    req = open_request_bundle(bundle, ctx.env, lambda raw, sig: checks.bundle_signer(
        ctx, raw, sig, f"The request bundle {bundle.name}"))
    actor = checks.acting_aro(ctx, as_ref, key_ref, "Signing the DCC's answers")
    answers: list[Answer] = []
    refused: dict[str, str] = {}
    p = open_portal(ctx)
    try:
        for e in req.entries:
            why = checks.relay_problem(ctx, e)
            if why is not None:
                refused[e.ref] = f"Request {e.ref} was not sent by the relay: {why}."
                answers.append(Answer(e.ref, "failed", e.server_id, None, refused[e.ref],
                                      None))
                continue
            try:
                answers.append(_relay_one(p, e))
            except Rejected as exc:
                answers.append(Answer(e.ref, "failed", e.server_id, None, exc.message, None))
            except PortalError as exc:
                answers.append(Answer(e.ref, "queued" if e.kind != "poll" else "submitted",
                                      e.server_id, None, exc.message, None))
    finally:
        p.close()
    with signer_for(ctx, actor.key) as signer:
        path = write_answer_bundle(out_folder, ctx.env, answers, ctx.clock.now(),
                                   request_sha256=req.manifest_sha256,
                                   refs=[e.ref for e in req.entries], signer=signer,
                                   certificate=actor.credential.certificate,
                                   extra_certs=actor.chain[1:])
    ctx.audit.record(checks.RELAY_ACTION, {
        "bundle": str(bundle), "signed_by": req.signer.subject,
        "signer": req.signer.record(), "request_sha256": req.manifest_sha256,
        "answers": len(answers), "refused": refused, "path": str(path),
        "answered_by": actor.officer.officer_id},
        {"manifest": (path / "manifest.json").read_bytes()})
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
    """Read an answers bundle back into the outbox (and import issued certificates): only one
    signed by an ARO in active standing of this register, for a request bundle this
    installation exported, and only once (`portal_offline_checks`)."""
    ob = outbox(ctx)
    changed: list[OutboxItem] = []
    bundle = read_answer_bundle(folder, ctx.env, lambda raw, sig: checks.bundle_signer(
        ctx, raw, sig, f"The answers bundle {folder.name}"))
    answers = bundle.answers
    exported = checks.exported_refs(ctx, folder, bundle.request_sha256)
    checks.refuse_second_import(ctx, folder, bundle.manifest_sha256)
    checks.refuse_unbound(folder, (a.ref for a in answers), bundle.refs, exported)
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
        ctx.audit.record(checks.IMPORT_ACTION, {
            "path": str(folder), "changed": [i.ref for i in changed], "unknown": unknown,
            "answers_sha256": bundle.manifest_sha256, "request_sha256": bundle.request_sha256,
            "signer": bundle.signer.record()}, {})
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
    if a.state != "done" or item.kind not in ("device-batch", "device-adhoc"):
        return
    if not a.result:  # a Device CSR request is done only with its results
        raise MalformedAnswer(f"The relayed answer for request {a.ref} says it is done but "
                              "carries no result; nothing was changed.")
    items = tuple(_read_items(a.result, a.ref))
    sent = (dict(batch_csrs(item.payload)) if item.kind == "device-batch"
            else {item.ref: item.payload})
    check_batch_answer(item.server_id or a.server_id or a.ref, a.server_status or "COMPLETED",
                       items, sent)


