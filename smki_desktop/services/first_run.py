"""The first-run walk to a first accepted Test certificate, as one sequence of service steps.

The welcome flow (gui/first_run.py) sets up the Party profile and the officer, then runs these
steps one by one on the job runner, showing each as it finishes:

  simulator    start the local SMKI simulator (Test only)
  credentials  the web-service and file-signing credentials, issued by the simulator at once;
               the file-signing one names the officer's verified register entry (below)
  key          an Organisation signing key in the OS keyring
  csr          its Organisation CSR, made and linted to the SMKI profile
  submit       the CSR sent to the (simulated) portal over mutual TLS
  certificate  the certificate collected, checked against the CSR and accepted
  sample-adt   a sample ADT file written and signed with the file-signing credential

Each step is idempotent (run again, it finds what an earlier run made), so an interrupted walk
resumes. Everything goes through the same services the pages and `smki` use, with their audit
records.

Identity (issue 11): the simulator, like the DCC, issues a file-signing credential only to an
officer of the register it holds as verified, naming their register id. In this Test-only walk the
officer profile's register entry is made the way the register makes any (nomination, verification
meeting, signed log): a training SRO of the Party ("Walkthrough SRO", nominated by the Party's
director, verified, activated on that record as an SRO's first activation is, and given a Test
file-signing credential of its own) nominates the profile's ARO, whose verification meeting is
recorded as the walkthrough's, and activates it with a change signed by that credential, as an
SRO activates any ARO; the profile is linked to that entry and the credential's key to it. The
officer ends the walk active, able to do in Test what an active ARO does. All of it is Test data,
marked as training.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.officers import Officer, OfficerStatus
from smki_desktop.core.officers import OfficerRole as RegisterRole
from smki_desktop.core.party import OfficerRole, PartyProfile, PartyType
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.services import adt as adt_service
from smki_desktop.services import certificates as cert_service
from smki_desktop.services import (
    credentials,
    nomination,
    officers,
    portal,
    register,
    simulator_control,
)
from smki_desktop.services import csr as csr_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import Credential
from smki_desktop.services.keys import generate_key, list_keys

STEPS: tuple[tuple[str, str], ...] = (
    ("simulator", "Start the Test simulator"),
    ("credentials", "Get your credentials from the simulator"),
    ("key", "Make an Organisation signing key"),
    ("csr", "Make its certificate signing request (CSR)"),
    ("submit", "Submit the CSR to the portal"),
    ("certificate", "Collect the certificate and accept it"),
    ("sample-adt", "Sign a sample ADT file"),
)
KEY_LABEL = "first certificate (walkthrough)"
FILE_SIGNING_NEEDED = (
    "Signing an ADT file needs your file-signing credential, which the DCC (in Test the "
    "simulator) issues only to an officer it has verified and holds in the officer register. "
    "Add yourself to the register first (nominated, verified and activated), link your "
    "profile to that entry, then run this step again; your certificate above is not affected.")
TRAINING_SRO = "Walkthrough SRO"
TRAINING_DIRECTOR = "Walkthrough Director"
TRAINING_VERIFIER = "first-run walkthrough (Test training)"
TRAINING_EVIDENCE = ("photo-id", "photo-id-validated", "second-evidence", "face-match")
CERT_WAIT_S = 60.0


@dataclass
class Walk:
    """What the walk has made so far (filled in step by step; shown by the dialog)."""

    key_id: str = ""
    csr_id: int = 0
    outbox_ref: str = ""
    certificate_serial: str = ""
    certificate_status: str = ""
    sample_adt: Path | None = None
    sample_signature: Path | None = None
    done: list[str] = field(default_factory=list)


def _role_for(party_type: PartyType) -> RemotePartyRole:
    if party_type in (PartyType.ELECTRICITY_DISTRIBUTOR, PartyType.GAS_TRANSPORTER):
        return RemotePartyRole.NETWORK_OPERATOR
    if party_type is PartyType.OTHER_USER:
        return RemotePartyRole.OTHER
    return RemotePartyRole.SUPPLIER


def check_identity(ctx: AppContext) -> None:
    """The walk needs the Test environment, a Party profile and an ARO officer profile."""
    if ctx.env is not Environment.TEST:
        raise Refusal("The first-certificate walkthrough runs in the Test environment only; "
                      f"this is {ctx.env.label}.")
    if ctx.party() is None:
        raise Refusal("Set up your organisation (the Party profile) first.")
    officer = ctx.officer()
    if officer is None or officer.role is not OfficerRole.ARO:
        raise Refusal("Set up your officer profile as an ARO first: only an Authorised "
                      "Responsible Officer requests certificates and signs ADT files.")


def step_simulator(ctx: AppContext, walk: Walk) -> str:
    info = simulator_control.start(ctx)
    return f"Running at {info.portal_url}"


def _email(name: str, party: PartyProfile) -> str:
    local = ".".join(name.lower().split()) or "officer"
    return f"{local}@{party.party_id.lower()}.training.invalid"


def _nominated(ctx: AppContext, form: str, changes: dict[str, Any],
               signer: Credential | None = None) -> Officer:
    """A register entry nominated on `form` (the example values with `changes`), verified by
    the walkthrough's meeting record; an ARO's nomination is signed by its nominating SRO
    (`signer`: their linked credential)."""
    schema = nomination.load_forms()[form]
    values: dict[str, Any] = dict(schema.example_values())
    today = ctx.clock.now().date().isoformat()
    values.update({"environment.environment": ctx.env.value, "nominator.date": today})
    if "screening.date" in values:
        values["screening.date"] = today
    values.update(changes)
    oid = nomination.nominate(
        ctx, schema, values, as_ref=changes.get("nominator.officer_id") if signer else None,
        key_ref=signer.key_id if signer else None).officer.officer_id
    officers.verify_officer(ctx, oid, officers.parse_verification(
        today, TRAINING_VERIFIER, list(TRAINING_EVIDENCE), "passed"))
    return officers.get_officer(ctx, oid)


def _training_sro(ctx: AppContext, party: PartyProfile) -> Officer:
    """The Party's active training SRO that nominates the walkthrough's ARO (made once)."""
    email = _email(TRAINING_SRO, party)
    for o in officers.list_officers(ctx):
        if o.role is RegisterRole.SRO and o.email == email and \
                o.status is OfficerStatus.ACTIVE:
            return o
    sro = _nominated(ctx, "sro", {
        "nominee.name": TRAINING_SRO, "nominee.email": email,
        "nominee.organisation": party.name, "nominee.party_id": party.party_id,
        "nominator.name": TRAINING_DIRECTOR, "nominator.email": _email(TRAINING_DIRECTOR, party)})
    return register.activate(ctx, sro.officer_id).officer


def officer_credential(ctx: AppContext, officer_id: str) -> Credential | None:
    """The newest valid file-signing credential of this environment naming `officer_id`."""
    return credentials.find_credential(ctx, "file-signing", register_id=officer_id)


def _linked_credential(ctx: AppContext, officer: Officer, role: str) -> Credential:
    """The officer's file-signing credential, issued by the simulator if it has none, with its
    key linked to the officer's entry (also after a run interrupted before linking)."""
    cred = officer_credential(ctx, officer.officer_id)
    if cred is None:
        res = credentials.request_credential(ctx, "file-signing", role=role,
                                             officer=officer.officer_id)
        cred = credentials.require_credential(ctx, "file-signing", res.key_id)
    if officers.key_holder(ctx, cred.key_id) is None:
        officers.link_key(ctx, officer.officer_id, cred.key_id)
    return cred


def _walk_sro(ctx: AppContext, party: PartyProfile) -> Officer | None:
    """The training SRO an earlier run made, if any (without making one)."""
    email = _email(TRAINING_SRO, party)
    return next((o for o in officers.list_officers(ctx)
                 if o.role is RegisterRole.SRO and o.email == email), None)


def _refuse_others_entry(ctx: AppContext, aro: Officer, party: PartyProfile) -> None:
    """The walk verifies and activates only an entry it nominated (through its training SRO):
    an entry an SRO of the Party nominated is theirs to verify and activate, as on any day."""
    if aro.status is OfficerStatus.ACTIVE:
        return
    walk_sro = _walk_sro(ctx, party)
    if walk_sro is not None and aro.nominated_by == walk_sro.officer_id:
        return
    by = "outside the walkthrough"
    if aro.nominated_by:
        nominator = next((o for o in officers.list_officers(ctx)
                          if o.officer_id == aro.nominated_by), None)
        by = f"by {nominator.name} ({nominator.officer_id})" if nominator else \
            f"by {aro.nominated_by}"
    todo = ("verify it (the identity meeting) and activate it"
            if aro.status is OfficerStatus.NOMINATED else "activate it")
    raise Refusal(
        f"Your register entry {aro.officer_id} ({aro.status.value}) was nominated {by}, not by "
        f"this walkthrough, which verifies and activates only the training entries it makes. "
        f"Ask that SRO to {todo}, then run this step again.",
        hint="officer.activate")


def officer_entry(ctx: AppContext) -> Officer:
    """The local officer profile's active ARO register entry, made (and the profile linked to
    it) on the first run; in Test only (check_identity). Resumes a run interrupted at any point
    (nominated, verified, not yet activated). An entry of the profile's officer that a real SRO
    nominated is used once active and otherwise left to that SRO (`_refuse_others_entry`)."""
    found = officers.profile_officer(ctx)
    if found is not None and found.role is RegisterRole.ARO and \
            found.status is OfficerStatus.ACTIVE:
        return found
    party, prof = ctx.party(), ctx.officer()
    assert party is not None and prof is not None
    email = prof.email or _email(prof.name, party)
    # the profile's entry, or one an interrupted earlier run nominated (and verified) already
    aro = found if found is not None and found.role is RegisterRole.ARO else next(
        (o for o in officers.list_officers(ctx)
         if o.role is RegisterRole.ARO and o.email == email), None)
    if aro is not None:
        _refuse_others_entry(ctx, aro, party)
        if aro.status not in (OfficerStatus.NOMINATED, OfficerStatus.VERIFIED):
            officers.link_profile(ctx, aro.officer_id)  # active (or stopped): as it stands
            return officers.get_officer(ctx, aro.officer_id)
    sro = _training_sro(ctx, party)
    # the training SRO nominates (signing the record) and activates with its own credential
    sro_cred = _linked_credential(ctx, sro, _role_for(party.party_type).name_text)
    if aro is None:
        aro = _nominated(ctx, "aro", {
            "nominee.name": prof.name, "nominee.email": email,
            "nominee.organisation": party.name, "nominee.party_id": party.party_id,
            "nominator.officer_id": sro.officer_id, "nominator.name": sro.name}, sro_cred)
    elif aro.status is OfficerStatus.NOMINATED:
        officers.verify_officer(ctx, aro.officer_id, officers.parse_verification(
            ctx.clock.now().date().isoformat(), TRAINING_VERIFIER, list(TRAINING_EVIDENCE),
            "passed"))
    officers.link_profile(ctx, aro.officer_id)
    if officers.get_officer(ctx, aro.officer_id).status is OfficerStatus.VERIFIED:
        # the training SRO activates the entry with a change signed by its own credential
        register.activate(ctx, aro.officer_id, as_ref=sro.officer_id, key_ref=sro_cred.key_id)
    return officers.get_officer(ctx, aro.officer_id)


def step_credentials(ctx: AppContext, walk: Walk) -> str:
    party = ctx.party()
    assert party is not None
    role = _role_for(party.party_type).name_text
    made = []
    if credentials.find_credential(ctx, "web-service") is None:
        credentials.request_credential(ctx, "web-service", role=role)
        made.append("web-service")
    entry = officer_entry(ctx)
    if officer_credential(ctx, entry.officer_id) is None:
        made.append(f"file-signing (naming {entry.officer_id})")
    _linked_credential(ctx, entry, role)
    return ("Issued: " + ", ".join(made)) if made else "Already issued"


def step_key(ctx: AppContext, walk: Walk) -> str:
    found = [k for k in list_keys(ctx) if k.label == KEY_LABEL]
    walk.key_id = found[-1].key_id if found else \
        generate_key(ctx, KeyUsage.SIGNING, KEY_LABEL).key.key_id
    return f"Key {walk.key_id[:12]} in the OS keyring"


def _csr_for_key(ctx: AppContext, key_id: str) -> tuple[int, bytes] | None:
    for row in csr_service.list_csrs(ctx):
        if row["key_id"] == key_id:
            return int(row["csr_id"]), csr_service.get_csr_der(ctx, int(row["csr_id"]))
    return None


def step_csr(ctx: AppContext, walk: Walk) -> str:
    found = _csr_for_key(ctx, walk.key_id)
    if found is None:
        party = ctx.party()
        assert party is not None
        made = csr_service.create_org_csr(ctx, walk.key_id, _role_for(party.party_type),
                                          party.eui_ranges[0].first)
        found = (made.csr_id, made.der)
    walk.csr_id = found[0]
    return f"CSR {walk.csr_id} made and linted to the SMKI profile"


def step_submit(ctx: AppContext, walk: Walk) -> str:
    found = _csr_for_key(ctx, walk.key_id)
    if found is None:
        raise Refusal("There is no CSR to submit yet.")
    for item in portal.status(ctx):
        if item.kind == "org-csr" and item.payload == found[1]:
            walk.outbox_ref = item.ref
            return f"Already submitted ({item.ref})"
    result = portal.submit_org_csr(ctx, found[1], source="first-run")
    walk.outbox_ref = result.item.ref
    return f"Submitted ({walk.outbox_ref})"


def step_certificate(ctx: AppContext, walk: Walk, *, wait_s: float = CERT_WAIT_S) -> str:
    deadline = time.monotonic() + wait_s
    while True:
        item = portal.outbox(ctx).get(walk.outbox_ref)
        if item.state == "done" and item.result:
            break
        if item.state in ("failed", "rejected"):
            raise Refusal(f"The portal did not issue the certificate: {portal.describe(item)}")
        if time.monotonic() > deadline:
            raise Refusal(f"No certificate within {wait_s:.0f} s: {portal.describe(item)}. "
                          "Run this step again to keep waiting.")
        portal.poll(ctx, force=True)
        time.sleep(0.3)
    cert = x509.load_der_x509_certificate(item.result)
    walk.certificate_serial = f"{cert.serial_number:X}"
    rec = cert_service.find_certificate(ctx, walk.certificate_serial)
    walk.certificate_status = rec.status
    if rec.status != "accepted":
        raise Refusal(f"The certificate {walk.certificate_serial} was imported but is "
                      f"{rec.status}, not accepted: {'; '.join(rec.reasons)}")
    return f"Certificate {walk.certificate_serial} accepted"


def step_sample_adt(ctx: AppContext, walk: Walk) -> str:
    folder = ctx.paths.env_dir / "first-run"
    folder.mkdir(parents=True, exist_ok=True)
    sample = folder / "sample-adt.csv"
    adt_service.write_template(ctx, sample, overwrite=True)
    entry = officers.profile_officer(ctx)
    cred = officer_credential(ctx, entry.officer_id) if entry is not None else None
    if cred is None:
        raise Refusal(FILE_SIGNING_NEEDED)
    res = adt_service.sign_file(ctx, sample, cred.key_id, smsr="FIRST-RUN-1", overwrite=True)
    walk.sample_adt, walk.sample_signature = sample, Path(res.signature)
    return f"Signed {sample.name} ({res.signature.name})"


_RUNNERS: dict[str, Callable[[AppContext, Walk], str]] = {
    "simulator": step_simulator,
    "credentials": step_credentials,
    "key": step_key,
    "csr": step_csr,
    "submit": step_submit,
    "certificate": step_certificate,
    "sample-adt": step_sample_adt,
}


def run_step(ctx: AppContext, name: str, walk: Walk) -> str:
    """Run one step (in order; the GUI runs each in a job) and record it in `walk`."""
    check_identity(ctx)
    result = _RUNNERS[name](ctx, walk)
    if name not in walk.done:
        walk.done.append(name)
    ctx.audit.record("first_run.step", {"step": name, "result": result})
    return result


def run_all(ctx: AppContext, walk: Walk | None = None,
            on_step: Callable[[str, str], Any] | None = None) -> Walk:
    """The whole walk in one call (for tests and a future `smki` face)."""
    walk = walk or Walk()
    for name, _title in STEPS:
        result = run_step(ctx, name, walk)
        if on_step is not None:
            on_step(name, result)
    return walk
