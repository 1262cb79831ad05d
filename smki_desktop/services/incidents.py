"""Compromise incidents and Method 1 recovery: record a suspected compromise (when, which keys
and certificates, who reported), the SRO's signed confirmation, re-keying in one step (a new key
and a lint-clean replacement CSR for every affected role, EUI and usage, and one revocation
request for the old certificates, which then goes through the SRO's approval), a checklist, and
closing once the checklist is complete. Every step is audited."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import canonical_bytes, parse_canonical, sha256_hex
from smki_desktop.core.errors import InputError, NotFound, Refusal, SmkiError
from smki_desktop.core.identity import Signatory
from smki_desktop.core.incidents import OUTCOMES, ChecklistItem, check_can_close, checklist
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.officers import OfficerRole
from smki_desktop.crypto.lint import lint_der
from smki_desktop.services import identity, revocation
from smki_desktop.services.certificates import CertRecord, find_certificate, list_certificates
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import (
    create_org_csr,
    get_csr_der,
    list_csrs,
    profile_for,
    write_csr,
)
from smki_desktop.services.keys import generate_key, get_key, list_keys
from smki_desktop.services.revocation_state import KIND as REVOCATION_KIND
from smki_desktop.services.revocation_state import get_view, signature_time
from smki_desktop.services.revocation_state import repo as revocation_repo
from smki_desktop.store import fault_point
from smki_desktop.store.atomic import check_output
from smki_desktop.store.repos.incidents import EventRow, IncidentRow, IncidentsRepo

CONFIRMATION_TYPE = "smki-desktop/incident-confirmation"


@dataclass(frozen=True)
class IncidentView:
    """An incident as stored, with `confirmation` the SRO's confirmation as its verified
    signature says (None when none verifies) and `problems` what does not verify."""

    row: IncidentRow
    events: list[EventRow]
    checklist: list[ChecklistItem]
    audit: AuditEntry | None = None
    confirmation: dict[str, Any] | None = None
    problems: tuple[str, ...] = ()

    @property
    def incident_id(self) -> str:
        return self.row.incident_id

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.row.incident_id, "state": self.row.state, **self.row.data,
                "confirmation": self.confirmation, "problems": list(self.problems),
                "checklist": [{"code": i.code, "done": i.done, "text": i.text}
                              for i in self.checklist],
                "events": [{"at": e.at, "action": e.action, "actor": e.actor,
                            "details": e.details} for e in self.events]}


def repo(ctx: AppContext) -> IncidentsRepo:
    return IncidentsRepo(ctx.db, ctx.env.value)


def _cert_entry(rec: CertRecord) -> dict[str, Any]:
    return {"serial": rec.serial, "issuer": rec.issuer, "role": rec.role,
            "eui": rec.eui, "usage": rec.usage, "key_id": rec.key_id, "family": rec.family}


def _incident_sha256(data: dict[str, Any]) -> str:
    """The hash of what the SRO confirms: when, who reported it and which certificates."""
    return sha256_hex(canonical_bytes({k: data.get(k) for k in ("suspected_at", "reported_by",
                                                                "certificates")}))


def _check_confirmation(ctx: AppContext, row: IncidentRow) -> dict[str, Any]:
    """The stored confirmation's signed body, verified (its signature, its SRO, and that it
    confirms this incident as recorded); what it says, taken from the signed body only."""
    iid = row.incident_id
    conf = row.data.get("confirmation")
    signed = conf.get("signed") if isinstance(conf, dict) else None
    if not isinstance(signed, dict):
        raise Refusal(f"Rule: the SRO's confirmation of a compromise is signed; the one stored "
                      f"with {iid} carries no signature.")
    try:
        body = base64.b64decode(str(signed["body"]), validate=True)
        sig = base64.b64decode(str(signed["signature"]), validate=True)
    except (KeyError, ValueError) as exc:
        raise Refusal(f"Rule: the SRO's confirmation of a compromise is signed; the signature "
                      f"stored with {iid} is malformed ({exc}).") from None
    doc = parse_canonical(body, f"the confirmation of {iid}")
    if doc.get("type") != CONFIRMATION_TYPE or doc.get("incident_id") != iid:
        raise Refusal(f"Rule: a confirmation names the incident it confirms; the one stored "
                      f"with {iid} names {doc.get('incident_id')!r}.")
    if doc.get("incident_sha256") != _incident_sha256(row.data):
        raise Refusal(f"Rule: an incident is not changed after the SRO confirmed it; {iid}'s "
                      "time, reporter or certificates differ from those the SRO confirmed.")
    if doc.get("outcome") not in OUTCOMES:
        raise Refusal(f"Rule: a confirmation's outcome is confirmed or not-compromised; the "
                      f"one of {iid} says {doc.get('outcome')!r}.")
    what = f"the confirmation of {iid}"
    when = signature_time(ctx, body, sig, what)
    by = identity.verify(ctx, body, sig, what=what, at=when)
    if by.officer.officer_id != doc.get("by"):
        raise Refusal(f"Rule: a confirmation is signed by the SRO it names; {what} names "
                      f"{doc.get('by')} but is signed by {by.officer.officer_id}.")
    signer = Signatory.of(by.officer)
    if signer.role is not OfficerRole.SRO:
        raise Refusal(f"Rule: a compromise is confirmed by an SRO; {what} is signed by "
                      f"{signer.officer_id}, an {signer.role.label} in the register.")
    return {"outcome": doc["outcome"], "by": by.officer.officer_id, "at": when.isoformat(),
            "note": str(doc.get("note", ""))}


def verified_confirmation(ctx: AppContext, row: IncidentRow
                          ) -> tuple[dict[str, Any] | None, str | None]:
    """(the confirmation as signed, None), or (None, why the stored one does not count), or
    (None, None) when there is none. Someone who can write the store cannot confirm a
    compromise by writing a field: only a signature by a register SRO counts."""
    if not row.data.get("confirmation"):
        return None, None
    try:
        return _check_confirmation(ctx, row), None
    except SmkiError as exc:
        return None, exc.message


def view(ctx: AppContext, ref: str, audit: AuditEntry | None = None) -> IncidentView:
    row = repo(ctx).get(ref.strip())
    if row is None:
        raise NotFound(f"No incident {ref!r} in the {ctx.env.label} environment.")
    conf, conf_problem = verified_confirmation(ctx, row)
    problems = [f"SRO confirmation: {conf_problem}"] if conf_problem else []
    rekey = row.data.get("rekey") or {}
    issued = []
    if rekey:
        certs = list_certificates(ctx)
        for c in rekey.get("csrs", []):
            issued.append(any(x.key_id == c["key_id"] and x.status == "accepted" for x in certs))
    rv_state = None
    if rekey.get("revocation"):
        try:
            rv_state = get_view(ctx, str(rekey["revocation"])).state
        except SmkiError as exc:
            problems.append(f"revocation request: {exc.message}")
    items = checklist(row.data, replacements_issued=issued, revocation_state=rv_state,
                      confirmation=conf, confirmation_problem=conf_problem)
    return IncidentView(row, repo(ctx).events(row.incident_id), items, audit, conf,
                        tuple(problems))


def list_incidents(ctx: AppContext) -> list[IncidentView]:
    return [view(ctx, r.incident_id) for r in repo(ctx).all()]


def check_report(*, suspected_at: str, reported_by: str, keys: list[str],
                 certificates: list[str]) -> datetime:
    """The fields of a report that need no store: who reported it, when (UTC unless it says
    otherwise) and at least one key or certificate. The Record incident dialog checks them
    before it closes, with this function."""
    if not reported_by.strip():
        raise InputError("Reported by: name who reported the suspected compromise.",
                         hint="field.reported-by")
    try:
        when = datetime.fromisoformat(suspected_at.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"Suspected at {suspected_at!r}: not an ISO 8601 time "
                         "(e.g. 2026-12-03T22:10:00Z).", hint="field.when") from None
    if not keys and not certificates:
        raise InputError("Name at least one key or certificate.", hint="field.incident-subject")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def open_incident(ctx: AppContext, *, suspected_at: str, reported_by: str, description: str,
                  keys: list[str], certificates: list[str]) -> IncidentView:
    """Record a suspected compromise: the certificates named, and every certificate of the store
    on the keys named."""
    when = check_report(suspected_at=suspected_at, reported_by=reported_by, keys=keys,
                        certificates=certificates)
    key_ids = [get_key(ctx, k).key_id for k in keys]
    found: dict[tuple[str, str], CertRecord] = {}
    for s in certificates:
        rec = find_certificate(ctx, s)
        found[(rec.issuer, rec.serial)] = rec
    for rec in list_certificates(ctx):
        if rec.key_id in key_ids and rec.family == "organisation":
            found[(rec.issuer, rec.serial)] = rec
    affected = [r for r in found.values() if r.status != "revoked"]
    if not affected:
        raise Refusal("The keys and certificates named have no Organisation certificate that is "
                      "not already revoked: nothing to recover.")
    now = ctx.clock.now().replace(microsecond=0)
    iid = f"INC-{now:%Y%m%d}-{secrets.token_hex(2).upper()}"
    data = {"environment": ctx.env.value, "suspected_at": when.isoformat(),
            "reported_by": reported_by.strip(), "description": description.strip(),
            "keys": sorted(set(key_ids) | {r.key_id for r in affected}),
            "certificates": [_cert_entry(r) for r in affected], "recorded_at": now.isoformat()}
    with ctx.audit.change():
        repo(ctx).add(IncidentRow(iid, ctx.env.value, "open", data, now.isoformat(),
                                  now.isoformat()))
        entry = ctx.audit.record("incident.open", {"id": iid, "reported_by": reported_by.strip(),
                                                   "suspected_at": when.isoformat(),
                                                   "certificates": [r.serial for r in affected],
                                                   "keys": data["keys"]})
        repo(ctx).add_event(iid, EventRow(now.isoformat(), "open", reported_by.strip(),
                                          {"audit_seq": entry.seq}))
    return view(ctx, iid, entry)


def confirm(ctx: AppContext, ref: str, *, outcome: str, as_ref: str | None,
            key_ref: str | None, note: str = "") -> IncidentView:
    """The SRO's signed confirmation of whether compromise occurred (and so Method 1)."""
    outcome = outcome.strip().lower()
    if outcome not in OUTCOMES:
        raise InputError(f"Outcome {outcome!r}: use confirmed or not-compromised.",
                         hint="field.outcome")
    v = view(ctx, ref)
    if v.row.state != "open":
        raise Refusal(f"{v.incident_id} is {v.row.state}.")
    if v.confirmation:  # a stored one that does not verify is replaced, not kept
        raise Refusal(f"{v.incident_id} is already confirmed "
                      f"({v.confirmation['outcome']} by {v.confirmation['by']}).")
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=(OfficerRole.SRO,),
                                   what="confirming a compromise")
    now = ctx.clock.now().replace(microsecond=0)
    body = canonical_bytes({"type": CONFIRMATION_TYPE, "incident_id": v.incident_id,
                            "outcome": outcome, "note": note, "at": now.isoformat(),
                            "by": actor.officer.officer_id,
                            "incident_sha256": _incident_sha256(v.row.data)})
    sig = identity.sign(ctx, actor, body, now)
    # the signed body and its signature are kept with the incident: what counts is checked
    # from them each time (verified_confirmation), never from the plain fields beside them
    data = dict(v.row.data, confirmation={
        "outcome": outcome, "by": actor.officer.officer_id, "at": now.isoformat(),
        "note": note, "signed": {"body": base64.b64encode(body).decode(),
                                 "signature": base64.b64encode(sig).decode()}})
    replaced = [p for p in v.problems if p.startswith("SRO confirmation:")]
    with ctx.audit.change():
        entry = ctx.audit.record("incident.confirm", {
            "id": v.incident_id, "outcome": outcome, "by": actor.officer.officer_id,
            **({"replaces_unverified": replaced[0]} if replaced else {})},
            {"confirmation": body, "signature": sig})
        repo(ctx).save(v.incident_id, "open", data, now.isoformat(),
                       EventRow(now.isoformat(), "confirm", actor.officer.officer_id,
                                {"outcome": outcome, "audit_seq": entry.seq}))
    return view(ctx, v.incident_id, entry)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", text)


def _save_step(ctx: AppContext, iid: str, data: dict[str, Any], action: str, actor: str,
               details: dict[str, Any]) -> AuditEntry:
    """Store the incident's data and the record of the step: one transaction."""
    now = ctx.clock.now().replace(microsecond=0).isoformat()
    with ctx.audit.change():
        entry = ctx.audit.record(f"incident.{action}", {"id": iid, "by": actor, **details})
        repo(ctx).save(iid, "open", data, now,
                       EventRow(now, action, actor, {**details, "audit_seq": entry.seq}))
    return entry


def _replacement_label(iid: str, item: dict[str, Any]) -> str:
    return f"{iid} replacement {item['role']} {item['eui']}"


def _key_for(ctx: AppContext, iid: str, item: dict[str, Any], claimed: set[str]) -> str:
    """The item's new key: one made for it by a run stopped before recording it (found by its
    label, which names the incident), else a new one."""
    usage = KeyUsage.parse(str(item["usage"]))
    label = _replacement_label(iid, item)
    made = [k for k in list_keys(ctx) if k.label == label and k.usage is usage
            and k.key_id not in claimed]
    if made:
        return made[0].key_id
    return generate_key(ctx, usage, label).key.key_id


def _csr_for(ctx: AppContext, item: dict[str, Any]) -> int:
    """The item's CSR: the one already made for its key (a run stopped before recording it),
    else a new one."""
    made = [c for c in list_csrs(ctx) if c["key_id"] == item["key_id"]]
    if made:
        return int(made[0]["csr_id"])
    return create_org_csr(ctx, str(item["key_id"]), str(item["role"]), str(item["eui"])).csr_id


def _csr_file(ctx: AppContext, iid: str, item: dict[str, Any]) -> bytes:
    """Put the item's CSR in its file (written from the store when missing); a file there must
    be that CSR, for the recorded key: a changed one is refused, never used or replaced."""
    der = get_csr_der(ctx, int(item["csr_id"]))
    path = Path(str(item["path"]))
    if not path.exists():
        write_csr(ctx, der, path, "pem", csr_id=int(item["csr_id"]))
        return der
    try:
        on_disk = x509.load_pem_x509_csr(path.read_bytes())
    except ValueError as exc:
        raise Refusal(f"Re-keying {iid}: {path} is not the CSR this incident recorded (it is "
                      f"not a PEM CSR: {exc}). Move it aside and re-key again to write it "
                      "anew.") from None
    spki = on_disk.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    key = get_key(ctx, str(item["key_id"]))
    if spki != key.public_key_der:
        raise Refusal(f"Re-keying {iid}: {path} was changed; it is a CSR for another key, not "
                      f"the recorded key {key.short_id}. Move it aside and re-key again to "
                      "write the recorded CSR anew.")
    if on_disk.public_bytes(serialization.Encoding.DER) != der:
        raise Refusal(f"Re-keying {iid}: {path} was changed; it is not CSR {item['csr_id']} "
                      "as recorded. Move it aside and re-key again to write it anew.")
    return der


def _revocation_of(ctx: AppContext, iid: str) -> str | None:
    """The revocation request a stopped run filed for this incident, if any."""
    rows = [r for r in revocation_repo(ctx).all(REVOCATION_KIND) if r.incident_id == iid]
    return rows[-1].request_id if rows else None


def rekey(ctx: AppContext, ref: str, *, as_ref: str | None, key_ref: str | None,
          out_dir: Path) -> IncidentView:
    """Method 1 in one step: new keys and lint-clean replacement CSRs for every affected role,
    EUI and usage, and one revocation request for the old certificates (for an SRO to approve).
    The plan is recorded in the incident before any key is made, and each key and CSR as it is
    made: a run stopped part way is resumed by the next one (into the recorded files), which
    makes nothing twice."""
    v = view(ctx, ref)
    conf = v.confirmation or {}
    why = next((p for p in v.problems if p.startswith("SRO confirmation:")), None)
    if not conf and why:
        raise Refusal(f"Rule: re-keying follows the SRO's signed confirmation of the "
                      f"compromise; the confirmation stored with {v.incident_id} does not "
                      f"count ({why.removeprefix('SRO confirmation: ')}). An SRO confirms "
                      "it again.")
    if conf.get("outcome") != "confirmed":
        raise Refusal(f"Rule: re-keying follows the SRO's confirmation of the compromise; "
                      f"{v.incident_id} is {conf.get('outcome') or 'not yet confirmed'}.")
    if v.row.data.get("rekey"):
        raise Refusal(f"{v.incident_id} was already re-keyed.")
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=(OfficerRole.ARO,),
                                   what="re-keying after a compromise")
    who = actor.officer.officer_id
    iid = v.incident_id
    certs = v.row.data["certificates"]
    data = dict(v.row.data)
    plan = data.get("rekey_plan")
    resumed = isinstance(plan, dict)
    if not isinstance(plan, dict):
        items = []
        for c in certs:
            path = out_dir / (f"{iid}-{c['role']}-{_slug(str(c['eui']))}-"
                              f"{c['usage']}.csr.pem")
            check_output(path)  # before any key is made: a CSR burns its key
            items.append({"replaces": c["serial"], "role": c["role"], "eui": c["eui"],
                          "usage": c["usage"], "path": str(path), "key_id": None,
                          "csr_id": None})
        plan = {"by": who, "out_dir": str(out_dir), "items": items}
        data["rekey_plan"] = plan
        _save_step(ctx, iid, data, "rekey-start", who,
                   {"out_dir": str(out_dir), "csrs": len(items)})
    Path(str(plan["out_dir"])).mkdir(parents=True, exist_ok=True)
    made = []
    for item in plan["items"]:
        if not item.get("key_id"):
            claimed = {str(i["key_id"]) for i in plan["items"] if i.get("key_id")}
            item["key_id"] = _key_for(ctx, iid, item, claimed)
            _save_step(ctx, iid, data, "rekey-key", who,
                       {"key_id": item["key_id"], "replaces": item["replaces"]})
        if not item.get("csr_id"):
            item["csr_id"] = _csr_for(ctx, item)
            _save_step(ctx, iid, data, "rekey-csr", who,
                       {"csr_id": item["csr_id"], "key_id": item["key_id"],
                        "path": item["path"]})
        der = _csr_file(ctx, iid, item)
        made.append({"replaces": item["replaces"], "key_id": item["key_id"],
                     "csr_id": item["csr_id"], "path": item["path"], "role": item["role"],
                     "eui": item["eui"], "usage": item["usage"],
                     "lint_ok": lint_der(der, profile_for(ctx), "replacement CSR").ok})
    fault_point.reached("incidents.rekey:made")  # tests: kill here, keys and CSRs made
    rv_id = _revocation_of(ctx, iid)
    if rv_id is None:
        rv_id = revocation.request(
            ctx, [str(c["serial"]) for c in certs], reason="keyCompromise",
            justification=f"Incident {iid}: {v.row.data.get('description') or 'compromise'}"
                          f" (reported by {v.row.data.get('reported_by')})",
            as_ref=who, key_ref=actor.key.key_id, urgency="urgent",
            incident_id=iid).request.request_id
    now = ctx.clock.now().replace(microsecond=0)
    data.pop("rekey_plan", None)
    data["rekey"] = {"by": who, "at": now.isoformat(), "csrs": made, "revocation": rv_id,
                     **({"resumed": True} if resumed else {})}
    entry = _save_step(ctx, iid, data, "rekey", who, {
        "csrs": [{"csr_id": m["csr_id"], "key_id": m["key_id"], "replaces": m["replaces"]}
                 for m in made], "revocation": rv_id, "resumed": resumed})
    return view(ctx, iid, entry)


def close(ctx: AppContext, ref: str, *, note: str = "") -> IncidentView:
    v = view(ctx, ref)
    if v.row.state == "closed":
        raise Refusal(f"{v.incident_id} is already closed.")
    check_can_close(v.checklist, v.incident_id)
    now = ctx.clock.now().replace(microsecond=0)
    with ctx.audit.change():
        entry = ctx.audit.record("incident.close", {"id": v.incident_id, "note": note,
                                                    "checklist": [i.code for i in v.checklist]})
        repo(ctx).save(v.incident_id, "closed", dict(v.row.data, closed_at=now.isoformat(),
                                                     close_note=note), now.isoformat(),
                       EventRow(now.isoformat(), "close", "", {"audit_seq": entry.seq}))
    return view(ctx, v.incident_id, entry)
