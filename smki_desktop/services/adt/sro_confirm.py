"""The SRO's signed confirmation that the User's submitted ADTs (a valid ADT file) should
apply, or who will resubmit them: kept beside the file and in its history. Only an SRO
confirms; the officer register decides, a profile's claimed role can only refuse."""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.adt.confirmation import Confirmation
from smki_desktop.core.adt.manifest import check_smsr
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.officers import OfficerRole as RegisterRole
from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.core.ports import Signer
from smki_desktop.crypto.cms import VerifiedSignature, sign_detached, verify_detached
from smki_desktop.services.adt.anchors import trust_anchors
from smki_desktop.services.adt.common import SIG_SUFFIX, signing_now
from smki_desktop.services.adt.edit import validate_file_hashed
from smki_desktop.services.adt.identity import (
    SigningIdentity,
    open_signer,
    signer_matches,
    signing_identity,
)
from smki_desktop.services.adt.outputs import write_all
from smki_desktop.services.adt.profiles import active_profile
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import profile_officer
from smki_desktop.store.atomic import check_output
from smki_desktop.store.repos import adt as adt_repo


@dataclass(frozen=True)
class ConfirmResult:
    document: Path
    signature: Path
    confirmation: Confirmation
    verified: VerifiedSignature
    audit: AuditEntry
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"document": str(self.document), "signature": str(self.signature),
                **self.confirmation.to_dict(), "audit_seq": self.audit.seq,
                "warnings": list(self.warnings)}


SRO_CONFIRMS = "confirming submitted ADTs"


def _confirming_sro_check(ctx: AppContext, profile_name: str, ident: SigningIdentity
                          ) -> list[str]:
    """The officer register's say on the confirming SRO. Where the register decides (Live;
    Test with a register) `signing_identity` resolved the key to an active SRO's entry that its
    credential names (`resolve_actor`); an entry the local profile links to must be that one.
    A Test without a register confirms as training, with a warning."""
    rule = "Rule: only an active SRO in the officer register confirms submitted ADTs"
    if ident.officer is None:
        return [f"The confirming SRO {profile_name} is not in the {ctx.env.label} officer "
                f"register (it has no entries): the register cannot show that they are an "
                f"active SRO. Link their profile and their key "
                f"{ident.key.short_id} to their register entry."]
    linked = profile_officer(ctx)
    holder = ident.officer
    if linked is not None and linked.officer_id != holder.officer_id:
        raise Refusal(f"{rule}, with their own key; key {ident.key.short_id} is held by "
                      f"{holder.officer_id} ({holder.name}), not by {linked.officer_id} "
                      f"({linked.name}), the SRO the local profile links to.")
    return []


def _sro(ctx: AppContext, decision: str, resubmitter: str) -> OfficerProfile:
    """The local officer, who must claim the SRO role; the decision and resubmitter agree."""
    officer = ctx.officer()
    if officer is None or officer.role is not OfficerRole.SRO:
        who = officer.actor if officer else "No officer profile is set, and"
        raise Refusal(f"{who} is not an SRO: only a Senior Responsible Officer confirms that "
                      "submitted ADTs should apply. Set the officer profile's role to sro.")
    # a profile's claimed role can refuse, never grant: the register decides (checked later:
    # the key's holder and the profile's link must be an active SRO; in Live one of them must
    # be linked)
    if decision.strip().lower() == "resubmit" and not resubmitter.strip():
        raise InputError("Resubmitter: name who will resubmit the ADTs.",
                         hint="field.resubmitter")
    if decision.strip().lower() == "apply" and resubmitter.strip():
        raise InputError(f"Resubmitter: {resubmitter.strip()!r} is named but the decision is "
                         "apply (the submitted ADTs stand, nobody resubmits them). Name a "
                         "resubmitter only when the decision is resubmit.",
                         hint="field.resubmitter")
    return officer


def _user_ids(ctx: AppContext, path: Path) -> tuple[list[str], str]:
    """The distinct User IDs of a valid ADT file (what the SRO vouches for) and its SHA-256;
    an invalid file is refused."""
    names = active_profile(ctx, "adt-file").column_names
    idx = names.index("User ID") if "User ID" in names else -1
    seen: set[str] = set()  # the distinct User IDs (a handful), not the rows

    def collect(_line: int, fields: list[str]) -> None:
        if 0 <= idx < len(fields):
            seen.add(fields[idx].strip().upper())

    report, sha = validate_file_hashed(ctx, path, "adt-file", on_row=collect)
    report.raise_if_invalid(f"{path} (not confirmed)")
    return sorted(seen), sha


def confirm(ctx: AppContext, path: Path, key_ref: str, *, decision: str = "apply",
            resubmitter: str = "", note: str = "", smsr: str | None = None,
            out_dir: Path | None = None, signer: AbstractContextManager[Signer] | None = None,
            as_ref: str | None = None) -> ConfirmResult:
    """The SRO's signed confirmation that the User's submitted ADTs (the file at `path`) should
    apply, or who will resubmit them. Kept beside the file and in its history."""
    path = Path(path)
    officer = _sro(ctx, decision, resubmitter)
    user_ids, sha = _user_ids(ctx, path)
    # refuses a suspended/revoked officer's key, and (--as) a key of another officer
    ident = signing_identity(ctx, key_ref, as_ref=as_ref, roles=(RegisterRole.SRO,),
                             what=SRO_CONFIRMS)
    warnings = list(ident.warnings) + _confirming_sro_check(ctx, officer.actor, ident)
    party = ctx.party()
    now = signing_now(ctx)
    conf = Confirmation(
        environment=ctx.env, adt_file_name=path.name, adt_file_sha256=sha,
        decision=decision.strip().lower(), confirmed_at=now, sro_name=officer.name,
        sro_email=officer.email, user_ids=tuple(user_ids), resubmitter=resubmitter.strip(),
        smsr_reference=check_smsr(smsr), party_id=party.party_id if party else "", note=note)
    doc = conf.to_bytes()
    folder = Path(out_dir) if out_dir else path.parent
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    doc_path = folder / f"{path.name}.confirmation-{stamp}.json"
    sig_path = doc_path.with_name(doc_path.name + SIG_SUFFIX)
    for p in (doc_path, sig_path):  # before the key is used: a signature is never lost
        check_output(p)
    cm = signer if signer is not None else open_signer(ctx, ident.key)
    with cm as s:
        signer_matches(s, ident)
        sig = sign_detached(doc, s, ident.certificate, now, list(ident.chain[1:]))
    verified = verify_detached(doc, sig, trust_anchors=trust_anchors(ctx), at=now)
    write_all([(doc_path, doc), (sig_path, sig)], overwrite=False)
    # the record and the confirmation's row: one transaction (the signed pair is written
    # first: a kill before the commit leaves a confirmation unrecorded, which is made again)
    with ctx.audit.change():
        entry = ctx.audit.record(
            "adt.confirm",
            {"adt_file": path.name, "decision": conf.decision, "resubmitter": conf.resubmitter,
             "user_ids": user_ids, "key_id": ident.key.key_id, "document": str(doc_path),
             "warnings": warnings},
            {"adt_file": sha, "confirmation": doc, "signature": sig})
        adt_repo.add_confirmation(ctx.db, adt_repo.ConfirmationRow(
            environment=ctx.env.value, adt_sha256=sha, decision=conf.decision,
            resubmitter=conf.resubmitter, sro=officer.actor, confirmed_at=now.isoformat(),
            document_path=str(doc_path.resolve()),
            document_sha256=hashlib.sha256(doc).hexdigest(),
            signature_path=str(sig_path.resolve()),
            signature_sha256=hashlib.sha256(sig).hexdigest(),
            key_id=ident.key.key_id, audit_seq=entry.seq))
    return ConfirmResult(doc_path, sig_path, conf, verified, entry, tuple(warnings))
