"""The nomination workflow: load the form schemas, validate a completed form, apply the
nomination rules against the register, record the nomination, and produce (a) the print-ready
PDF and (b) the machine-readable record, signed (detached CMS) with the filling officer's
file-signing key where they have one; the record's bytes are kept in the store too, in the
register entry's transaction (services/form_record.py checks reprints by them). Also drafts
(save, list, resume, delete) and templates.

Outputs go to `<env_dir>/officers/` (and the PDF also to `--pdf OUT` when asked), written
atomically; a nomination refused by a rule writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.forms import (
    FormSchema,
    Value,
    document_version,
    load_document,
    newest,
)
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.nomination_wizard import NominationWizard
from smki_desktop.core.officers import (
    Officer,
    OfficerRole,
    OfficerStatus,
    check_aro_by_chair,
    check_aro_nomination,
    check_not_duplicate,
    check_sro_nomination,
    organisation_warning,
)
from smki_desktop.core.plain_text import visible
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.keystores.errors import KeyEntryMissing
from smki_desktop.render.pdf import render_nomination
from smki_desktop.services import identity, nomination_fields
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import list_credentials
from smki_desktop.services.credential_vouch import require_vouched
from smki_desktop.services.form_record import check_stored_form
from smki_desktop.services.form_schemas import all_schemas as all_schemas
from smki_desktop.services.officers import (
    find_officer,
    get_officer,
    insert_officer,
    key_holder,
    list_officers,
    next_officer_id,
    profile_officer,
    signing_block,
)
from smki_desktop.store.atomic import write_atomic
from smki_desktop.store.repos import nomination as repo
from smki_desktop.store.repos import officers as officers_repo


@dataclass(frozen=True)
class Nominated:
    officer: Officer
    pdf_path: Path
    extra_pdf: Path | None
    record_path: Path
    signature_path: Path | None
    signed_by: str | None  # key id
    audit: AuditEntry
    warnings: tuple[str, ...] = ()  # e.g. why the record was left unsigned
    signed_by_officer: str | None = None  # an ARO form: the nominating SRO who signed it


def load_forms() -> dict[str, FormSchema]:
    """The newest version of each nomination form."""
    return newest(all_schemas())


def get_form(form: str) -> FormSchema:
    forms = load_forms()
    key = form.strip().lower()
    if key not in forms:
        raise InputError(f"Form: {form!r} is not a nomination form; use "
                         + " or ".join(sorted(forms)) + ".", hint="field.form")
    return forms[key]


def template_text(form: str, fmt: str = "json") -> str:
    doc = get_form(form).template_document()
    if fmt == "json":
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt == "toml":
        return _to_toml(doc)
    raise InputError(f"Format: {fmt!r}; use json or toml.", hint="field.template-format")


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _to_toml(doc: dict[str, Any]) -> str:
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{fk} = {_toml_value(fv)}" for fk, fv in v.items()]
    return "\n".join(lines) + "\n"


def read_input(path: Path, form: str) -> tuple[FormSchema, dict[str, Value]]:
    """A filled JSON or TOML document (the template's shape) -> schema and values."""
    schema = get_form(form)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"Answers file: cannot read {path}: {exc.strerror or exc}",
                         hint="field.from") from exc
    doc = load_document(raw, str(path), toml=str(path).lower().endswith(".toml"))
    if doc.get("form", schema.form) != schema.form:
        raise InputError(f"{path}: this is a {str(doc.get('form'))[:40]!r} form, not "
                         f"{schema.form!r}.")
    if document_version(doc, schema.version, str(path)) != schema.version:
        raise InputError(f"{path}: written for {schema.form}-v{doc.get('version')}; the "
                         f"installed form is {schema.form_id}: start again from the installed "
                         "form.", hint="officer.template")
    return schema, schema.values_from_document(doc)


def values_digest(schema: FormSchema, values: dict[str, Value]) -> str:
    canon = json.dumps({"form": schema.form_id, "values": values}, sort_keys=True,
                       ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _s(values: dict[str, Value], key: str) -> str:
    v = values.get(key, "")
    return v.strip() if isinstance(v, str) else ""


def check_nomination(ctx: AppContext, schema: FormSchema, values: dict[str, Value]
                     ) -> tuple[Officer, bool]:
    """Validate fields and rules; return the officer record to be (not yet) stored."""
    errs = schema.validate(values)
    if errs:
        raise InputError("The form is incomplete or wrong: " + "; ".join(str(e) for e in errs))
    role = OfficerRole(schema.role)
    _check_dates_and_party(ctx, values)
    declared = _s(values, "environment.environment")
    existing = list_officers(ctx)
    email = _s(values, "nominee.email")
    self_nom = False
    nominated_by: str | None = None
    capacity = ""
    if role is OfficerRole.SRO:
        capacity = _s(values, "nominator.capacity")
        check_sro_nomination(ctx.env, declared, capacity)
    elif _s(values, "nominator.capacity") in ("pma-chair", "panel-chair"):
        # the SMKI PMA's and the Panel's AROs are nominated by their Chair, not an SRO
        capacity = _s(values, "nominator.capacity")
        check_aro_by_chair(ctx.env, declared, capacity)
    else:
        ref = _s(values, "nominator.officer_id")
        if not ref:
            raise InputError("nominator.officer_id (Register ID of nominating SRO): required "
                             "when an SRO nominates; choose the active SRO.")
        capacity = "sro"
        nominator = find_officer(ctx, ref) or _other_environment_officer(ctx, ref)
        self_nom = check_aro_nomination(
            ctx.env, declared, nominee_name=_s(values, "nominee.name"), nominee_email=email,
            nominee_org=_s(values, "nominee.organisation"),
            nominee_party=_s(values, "nominee.party_id"), nominator=nominator, nominator_ref=ref,
            self_nomination_declared=bool(values.get("nominator.self_nomination")))
        assert nominator is not None
        if not nomination_fields.same_name(nominator.name, _s(values, "nominator.name")):
            raise Refusal(f"nominator.name: {_s(values, 'nominator.name')!r} does not match the "
                          f"register entry {nominator.officer_id} ({nominator.name}).")
        nominated_by = nominator.officer_id
    check_not_duplicate(existing, role, email)
    officer = Officer(
        officer_id="", role=role, environment=ctx.env, status=OfficerStatus.NOMINATED,
        name=_s(values, "nominee.name"), email=email,
        organisation=_s(values, "nominee.organisation"), party_id=_s(values, "nominee.party_id"),
        job_title=_s(values, "nominee.job_title"), nominated_by=nominated_by,
        nominator_name=_s(values, "nominator.name"), nominator_capacity=capacity,
        self_nominated=self_nom, nominated_on=_s(values, "nominator.date"),
        screening_date=_s(values, "screening.date"),
        screening_ref=_s(values, "screening.reference"), form_id=schema.form_id)
    return officer, self_nom


def _check_dates_and_party(ctx: AppContext, values: dict[str, Value]) -> None:
    """Dates that have not happened yet (by the injected clock) and a nominee's Party ID that
    is not this installation's Party are refused (the checks are `nomination_fields`', which
    the wizard also applies page by page)."""
    today = ctx.clock.now().date()
    for key in nomination_fields.PAST_DATES:
        why = nomination_fields.date_problem(key, _s(values, key), today)
        if why:
            raise InputError(f"{key}: {why}")
    # Live records no nomination without a Party profile to compare the nominee's Party with.
    why = nomination_fields.party_problem(ctx, _s(values, "nominee.party_id"))
    if why:
        raise Refusal(f"nominee.party_id: {why}")


def _other_environment_officer(ctx: AppContext, ref: str) -> Officer | None:
    """Peek (read-only) at the other environment's register so that a refusal can say that
    the nominating SRO belongs to the other environment. Nothing is taken from it."""
    other = Environment.LIVE if ctx.env is Environment.TEST else Environment.TEST
    path = ctx.paths.root / other.value / ctx.paths.db_path.name
    if not ref:  # no database there (nor a team store linked) reads as no entry
        return None
    r = repo.other_environment_officer(path, ref)
    if r is None:
        return None
    return Officer(officer_id=r.officer_id, role=OfficerRole(r.role), environment=other,
                   status=OfficerStatus(r.status), name=r.name, email=r.email,
                   organisation=r.organisation, party_id=r.party_id)


def _sign_record(ctx: AppContext, data: bytes) -> tuple[bytes | None, str | None, str]:
    """Sign with the filling officer's file-signing key where they have one: a valid
    file-signing credential (certificate included) of a key linked to their register entry,
    else such a key without a credential (named by key identifier); only when they hold no key
    at all, a file-signing credential whose key no officer holds. Never a key flagged
    `officer-suspended`/`officer-revoked`, nor another officer's key. Returns the signature,
    the key id and, when the record is left unsigned, why."""
    filler = profile_officer(ctx)
    held = [c.key_id for c in filler.credentials] if filler else []
    held_ok = [c.key_id for c in filler.credentials if not c.flagged] if filler else []
    skipped: list[str] = []

    def refusal(key_id: str) -> str:
        info = repo.key_of_environment(ctx.db, ctx.env.value, key_id)
        if info is None:
            return f"key {key_id[:16]} is not in this environment's key store"
        if info.usage is not KeyUsage.FILE_SIGNING:
            return f"key {info.short_id} is not a file-signing key"
        block = signing_block(ctx, info)
        if block:
            return block
        holder = key_holder(ctx, key_id)
        if holder is not None and (filler is None or holder.officer_id != filler.officer_id):
            return f"key {info.short_id} is held by {holder.officer_id}, not the filling officer"
        if key_id in held and key_id not in held_ok:
            return f"key {info.short_id} is flagged in the officer register"
        return ""

    now = ctx.clock.now()
    creds = [c for c in list_credentials(ctx, "file-signing") if c.valid_at(now)]
    # (key id, certificate or None), best first
    candidates: list[tuple[str, Any]] = [(c.key_id, c.certificate) for c in creds
                                         if c.key_id in held]
    candidates += [(kid, None) for kid in held]
    if not held:
        candidates += [(c.key_id, c.certificate) for c in creds]
    chosen: tuple[str, Any] | None = None
    for kid, cert in candidates:
        why = refusal(kid)
        if why:
            if why not in skipped:
                skipped.append(why)
            continue
        chosen = (kid, cert)
        break
    if chosen is None:
        if skipped:
            return None, None, "Record not signed: " + " ".join(
                w if w.endswith(".") else w + "." for w in skipped)
        return None, None, ("Record not signed: the filling officer has no file-signing key "
                            "here.")
    key_id, cert = chosen
    for c in creds:  # the credential signed with: the certificate its import recorded
        if cert is not None and c.certificate == cert:
            require_vouched(ctx, c)
    with ctx.keystore.signer(key_id) as signer:
        sig = sign_detached(data, signer, cert, ctx.clock.now())
    return sig, key_id, ""


def nominating_sro_actor(ctx: AppContext, officer: Officer, as_ref: str | None,
                         key_ref: str | None) -> identity.Actor | None:
    """An ARO nominated by an SRO: the nomination is the SRO's act, so its record is signed by
    that SRO (the form's nominating SRO) through a key linked to their entry; `as_ref`, where
    given, must name them (refused otherwise, naming both), and `key_ref` may be left out
    where they hold one usable key here. None for the forms no register officer signs (an
    SRO's, nominated by a Director or Company Secretary; an ARO nominated by a Chair)."""
    sro_id = officer.nominated_by
    if officer.role is not OfficerRole.ARO or not sro_id:
        if as_ref:
            raise InputError(f"Signer: an {officer.role.label} nomination by "
                             f"{officer.nominator_name or 'its nominator'} is signed on the "
                             "paper form, not by an officer of the register; name no signer.",
                             hint="field.signer")
        return None
    sro = get_officer(ctx, sro_id)
    if as_ref:
        signer = get_officer(ctx, as_ref)
        if signer.officer_id != sro.officer_id:
            raise Refusal(
                f"Rule: an ARO is nominated by the SRO named on the form, who signs its "
                f"record; the form names {sro.officer_id} ({sro.name}) as nominating SRO and "
                f"the signer is {signer.officer_id} ({signer.name}). Sign as "
                f"{sro.officer_id}, or name the signer as the nominating SRO.",
                hint="field.signer")
    if not key_ref:
        keys = identity.usable_keys(ctx, sro)
        if not keys:
            raise Refusal(
                f"Rule: an ARO's nomination is signed by the nominating SRO, {sro.officer_id} "
                f"({sro.name}); they hold no usable file-signing key on this workstation. "
                "Save the form as a draft for them to complete and sign, or link their key "
                "first.", hint="nomination.signer")
        if len(keys) > 1:
            raise InputError(f"Key: {sro.officer_id} has {len(keys)} usable keys; name the "
                             "one to sign the nomination with.", hint="field.key")
        key_ref = keys[0]
    return identity.resolve_actor(ctx, sro.officer_id, key_ref, roles=(OfficerRole.SRO,),
                                  what="an ARO nomination")


def _sro_signature(ctx: AppContext, actor: identity.Actor, record: bytes) -> bytes:
    """The nominating SRO's signature over the record (inside the caller's change: a refusal
    here records nothing). Their key linked in a team store may be held in another
    workstation's keyring: then the SRO nominates from there."""
    try:
        return identity.sign(ctx, actor, record, ctx.clock.now())
    except KeyEntryMissing:
        o = actor.officer
        raise Refusal(
            f"Rule: an ARO's nomination is signed by the nominating SRO, {o.officer_id} "
            f"({o.name}); their key {actor.key.short_id} is not in this workstation's keyring "
            "(it is held elsewhere). Save the form as a draft for them to complete and sign "
            "where their key is.", hint="nomination.signer") from None


def nominate(ctx: AppContext, schema: FormSchema, values: dict[str, Value], *,
             pdf_out: Path | None = None, overwrite: bool = False,
             draft_id: str | None = None, as_ref: str | None = None,
             key_ref: str | None = None) -> Nominated:
    """Record a nomination. An ARO nominated by an SRO is that SRO's act: its record is signed
    with their linked key (`nominating_sro_actor`), and the record says who prepared the form
    at this workstation (`filled_by`) and which officer signed it (`signed_by_officer`)."""
    officer, self_nom = check_nomination(ctx, schema, values)
    actor = nominating_sro_actor(ctx, officer, as_ref, key_ref)
    party = ctx.party()
    org_note = organisation_warning(
        officer.organisation, find_officer(ctx, officer.nominated_by) if officer.nominated_by
        else None, party.name if party else "", officer.party_id)
    if pdf_out is not None and Path(pdf_out).exists() and not overwrite:
        raise Refusal(f"{pdf_out} already exists; choose another name or allow replacing it.")
    digest = values_digest(schema, values)
    now = ctx.clock.now().isoformat()
    out_dir = ctx.paths.feature_dir("officers")
    filler = ctx.officer()
    # the register entry, its record's signature and the officer.nominate record: one
    # transaction (the signing key is this workstation's, no network or prompt)
    with ctx.audit.change():
        with officers_repo.writing(ctx.db) as w:
            oid = next_officer_id(w, officer.role)
            officer = _with_id(officer, oid)
            record = {
                "type": "smki-officer-nomination", "form": schema.form_id,
                "environment": ctx.env.value, "officer_id": oid, "role": officer.role.value,
                "self_nomination": self_nom, "values": values, "values_sha256": digest,
                "nominated_by": officer.nominated_by, "recorded_at": now,
                "filled_by": filler.to_dict() if filler else None,
            }
            if actor is not None:  # only then: the records of other forms stay as they were
                record["signed_by_officer"] = actor.officer.officer_id
            record_bytes = json.dumps(record, sort_keys=True, indent=2,
                                      ensure_ascii=False).encode("utf-8") + b"\n"
            insert_officer(w, officer, values, hashlib.sha256(record_bytes).hexdigest(), now)
            # the record's bytes in the store too: a colleague's workstation on a team store
            # (or this one after a restore without the officers folder) checks reprints by it
            w.add_record(oid, ctx.env.value, record_bytes, now)
            if draft_id:
                w.delete_draft(draft_id)
            # render and write inside the transaction: a failure leaves no register entry
            pdf = render_nomination(schema, values, env=ctx.env, officer_id=oid,
                                    values_sha256=digest, self_nominated=self_nom)
            base = f"{oid}-{schema.form_id}"
            pdf_path = write_atomic(out_dir / f"{base}.pdf", pdf, overwrite=True)
            record_path = write_atomic(out_dir / f"{base}.json", record_bytes, overwrite=True)
            extra = write_atomic(Path(pdf_out), pdf, overwrite=overwrite) if pdf_out else None
        sig: bytes | None
        key_id: str | None
        if actor is not None:
            sig, key_id, unsigned = (_sro_signature(ctx, actor, record_bytes),
                                     actor.key.key_id, "")
        else:
            sig, key_id, unsigned = _sign_record(ctx, record_bytes)
        sig_path = write_atomic(out_dir / f"{base}.json.p7s", sig, overwrite=True) if sig else None
        artifacts: dict[str, bytes | str] = {"pdf": pdf, "record": record_bytes}
        if sig:
            artifacts["signature"] = sig
        entry = ctx.audit.record("officer.nominate", {
            "officer_id": oid, "role": officer.role.value, "form": schema.form_id,
            "name": officer.name, "email": officer.email, "nominated_by": officer.nominated_by,
            "self_nomination": self_nom, "signed_by": key_id, "unsigned_reason": unsigned,
            "signed_by_officer": actor.officer.officer_id if actor else None,
            "prepared_by": filler.register_id or filler.name if filler else None,
            "pdf": str(extra or pdf_path)}, artifacts)
    return Nominated(officer, pdf_path, extra, record_path, sig_path, key_id, entry,
                     tuple(w for w in (unsigned, org_note) if w),
                     actor.officer.officer_id if actor is not None else None)


def _with_id(o: Officer, oid: str) -> Officer:
    return replace(o, officer_id=oid)


def render_existing(ctx: AppContext, ref: str) -> bytes:
    """Re-render an officer's form from the register (e.g. after the verification meeting).
    The stored values are printed only when they are the ones recorded at the nomination and
    the verification meeting (services/form_record.py); otherwise the refusal, naming the
    fields that differ, is audited (`officer.pdf.refused`) and nothing is rendered."""
    o = get_officer(ctx, ref)
    schemas = {s.form_id: s for s in all_schemas()}
    if o.form_id not in schemas:
        raise NotFound(f"Form {o.form_id} of {o.officer_id} is not installed.")
    schema = schemas[o.form_id]
    checked = check_stored_form(ctx, o.officer_id, o.form_id, schema, o.self_nominated)
    if checked.problem is not None:
        ctx.audit.record("officer.pdf.refused", {"officer": o.officer_id,
                                                 "nomination_audit_seq": checked.audit_seq,
                                                 "reason": checked.problem})
        raise Refusal(checked.problem[0].upper() + checked.problem[1:] + ".")
    vals = checked.values
    return render_nomination(schema, vals, env=ctx.env, officer_id=o.officer_id,
                             values_sha256=values_digest(schema, vals),
                             self_nominated=o.self_nominated)


# -- drafts -------------------------------------------------------------------------------
def save_draft(ctx: AppContext, wiz: NominationWizard) -> str:
    draft = wiz.to_draft()
    did = wiz.draft_id or uuid.uuid4().hex[:12]
    with ctx.audit.change():
        repo.save_draft(ctx.db, did, ctx.env.value, draft["form"], draft["version"],
                        json.dumps(draft), ctx.clock.now().isoformat())
        wiz.draft_id = did
        ctx.audit.record("officer.draft.save", {"draft_id": did, "form": draft["form"]})
    return did


def list_drafts(ctx: AppContext) -> list[dict[str, Any]]:
    out = []
    for r in repo.list_drafts(ctx.db, ctx.env.value):
        data = json.loads(r.data)
        name = visible(str(data.get("values", {}).get("nominee.name", "")))
        out.append({"draft_id": r.draft_id, "form": r.form, "version": r.version,
                    "nominee": name, "updated": r.updated})
    return out


def resume_draft(ctx: AppContext, draft_id: str) -> NominationWizard:
    row = repo.get_draft(ctx.db, ctx.env.value, draft_id)
    if row is None:
        raise NotFound(f"No nomination draft {draft_id!r} in the {ctx.env.label} environment.")
    return NominationWizard.from_draft(load_forms(), json.loads(row.data), draft_id)


def delete_draft(ctx: AppContext, draft_id: str) -> None:
    with ctx.audit.change():
        repo.remove_draft(ctx.db, draft_id)
        ctx.audit.record("officer.draft.delete", {"draft_id": draft_id})


def wizard_defaults(ctx: AppContext) -> dict[str, Value]:
    """Prefill from the Party profile and the linked register entry."""
    out: dict[str, Value] = {"environment.environment": ctx.env.value}
    party = ctx.party()
    if party:
        out["nominee.organisation"] = party.name
        out["nominee.party_id"] = party.party_id
    me = profile_officer(ctx)
    if me and me.role is OfficerRole.SRO and me.status is OfficerStatus.ACTIVE:
        out["nominator.officer_id"] = me.officer_id
        out["nominator.name"] = me.name
    out["nominator.date"] = ctx.clock.now().date().isoformat()
    return out
