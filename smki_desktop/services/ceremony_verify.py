"""After a ceremony: witnesses sign the finished transcript with their own credential, and
`verify_transcript` checks the journal chain, every signature, the text and printable
transcripts, every output file's hash and every CSR (lint, its key is the journal's, and its
subject — role, EUI, CN, usage — is the plan's key entry)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.ceremony import name_slug
from smki_desktop.core.ceremony_transcript import Journal, parse_journal, render_text
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.crypto.cms import SignatureInvalid, verify_detached
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.services.adt import trust_anchors as adt_trust_anchors
from smki_desktop.services.ceremony import JOURNAL, SIGNATURE
from smki_desktop.services.ceremony_check import csr_plan_differences
from smki_desktop.services.ceremony_identity import (
    officer_identity,
    require_named_officer,
    sign_as_officer,
    signer_entry,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import profile_for
from smki_desktop.store.atomic import write_recorded


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str:
    return _sha(path.read_bytes())


def _key_id(cert: x509.Certificate) -> str:
    return _sha(cert.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo))


def witness_signature_path(folder: Path, witness: str) -> Path:
    return folder / f"witness-{name_slug(witness)}.p7s"


@dataclass(frozen=True)
class WitnessSigned:
    witness: str
    signature: Path
    signer: str


def witness_sign(ctx: AppContext, transcript: Path, witness: str,
                 key_ref: str | None = None) -> WitnessSigned:
    """A witness who holds a file-signing credential signs the finished transcript with it
    (a detached CMS signature beside it; never over an existing one), after checking it as
    `verify_transcript` does: a transcript that does not verify is not signed."""
    if transcript.is_dir():
        transcript = transcript / JOURNAL
    data = transcript.read_bytes()
    journal = parse_journal(data, str(transcript))
    begin = journal.first("begin")
    if begin is None or "finish" not in journal.done():
        raise Refusal(f"{transcript}: the ceremony is not finished; witnesses sign a finished "
                      "transcript.")
    plan = begin["data"]["plan"]
    require_same(ctx.env, Environment.parse(str(plan["environment"])),
                 f"The ceremony transcript {plan['ceremony_id']}")
    names = {w.lower(): w for w in plan["witnesses"]}
    if witness.strip().lower() not in names:
        raise InputError(f"Witness {witness!r} is not a witness of ceremony "
                         f"{plan['ceremony_id']} ({', '.join(plan['witnesses'])}).",
                         hint="field.witness")
    name = names[witness.strip().lower()]
    # a witness signs only what verifies: the administrator's signature, by the person the
    # plan names, every output, every CSR (signing a forged transcript would vouch for it)
    rep = verify_transcript(ctx, transcript)
    if not rep.ok or transcript.read_bytes() != data:
        raise Refusal(f"The transcript of ceremony {plan['ceremony_id']} does not verify, so "
                      "the witness does not sign it: " + ("; ".join(rep.problems) or
                                                          "it changed while being checked")
                      + ".")
    identity = officer_identity(ctx, key_ref, name)
    if identity.key_id == begin["data"]["administrator"]["key_id"]:
        raise Refusal("That is the administrator's credential; a witness signs with their own.")
    require_named_officer(identity, name, "witness")
    for other in sorted(transcript.parent.glob("witness-*.p7s")):
        try:
            signer = verify_detached(data, other.read_bytes()).signer_certificate
        except SignatureInvalid:
            continue
        if signer is not None and _key_id(signer) == identity.key_id:
            raise Refusal(f"That credential already signed this transcript as another witness "
                          f"({other.name}); each witness signs with their own.")
    out = witness_signature_path(transcript.parent, name)
    sig = sign_as_officer(ctx, data, identity)
    # recorded before the file is put in place (store/atomic.write_recorded)
    write_recorded(out, sig, lambda p: ctx.audit.record(
        "ceremony.witness_sign", {"ceremony_id": plan["ceremony_id"], "witness": name,
                                  "key_id": identity.key_id, "signature": str(p)},
        {"transcript": data, "signature": sig}))
    return WitnessSigned(name, out, identity.subject)


# -- verify ------------------------------------------------------------------------------------

@dataclass
class VerifyReport:
    transcript: Path
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    signer: str = ""
    ceremony_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "transcript": str(self.transcript), "signer": self.signer,
                "ceremony_id": self.ceremony_id, "problems": self.problems,
                "checked": self.checked}


def verify_transcript(ctx: AppContext, path: Path) -> VerifyReport:
    """Check the journal chain, the administrator's signature, the text transcript, every
    output file's hash, every CSR (lint, its key is the journal's, its subject is the plan's
    key entry), and that the media's csr/ and backup/ folders hold nothing the transcript
    does not name."""
    if path.is_dir():
        path = path / JOURNAL
    rep = VerifyReport(path)
    try:
        return _verify(ctx, path, rep)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # a chain-valid journal with entries not shaped as this application writes them
        rep.problems.append(f"the transcript is not in the form this application writes "
                            f"({type(exc).__name__}: {exc})")
        return rep


def _unexpected_files(folder: Path, named: set[str]) -> list[str]:
    """Files (or links) under csr/ and backup/ that the transcript does not name: what the
    online side would pick up from the media without it being made in the ceremony."""
    out: list[str] = []
    for sub in ("csr", "backup"):
        base = folder / sub
        if base.is_symlink():
            out.append(sub)
            continue
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if p.is_dir() and not p.is_symlink():
                continue
            rel = str(p.relative_to(folder))
            if rel not in named:
                out.append(rel)
    return out


def _verify(ctx: AppContext, path: Path, rep: VerifyReport) -> VerifyReport:
    folder = path.parent
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        journal = parse_journal(data, str(path))
    except InputError as exc:
        rep.problems.append(exc.message)
        return rep
    rep.checked.append(f"journal chain: {len(journal.entries)} entries")
    begin = journal.first("begin")
    if begin is None:
        rep.problems.append("the journal has no ceremony start")
        return rep
    plan = begin["data"]["plan"]
    rep.ceremony_id = str(plan.get("ceremony_id", ""))
    require_same(ctx.env, Environment.parse(str(plan.get("environment"))),
                 f"The ceremony transcript {rep.ceremony_id}")
    done = journal.done()
    if "finish" not in done:
        left = [s["id"] for s in plan["steps"] if s["id"] not in done]
        rep.problems.append("the ceremony did not finish; steps not completed: "
                            + ", ".join(left))
        return rep
    anchors = adt_trust_anchors(ctx)
    admin_entry = _check_admin_signature(ctx, data, folder, plan, begin, anchors, rep)
    _check_witnesses(ctx, data, folder, plan, begin, admin_entry, anchors, rep)
    fin = done["finish"]
    _check_transcripts(journal, folder, fin, rep)
    _check_outputs(folder, fin, rep)
    _check_keys(done, plan, rep)
    _check_csrs(ctx, folder, done, plan, rep)
    named = set(fin["outputs"]) | set(fin.get("custodian_shares", {}))
    for rel in _unexpected_files(folder, named):
        rep.problems.append(f"{rel} is on the media but not in the transcript (not made by "
                            "this ceremony)")
    return rep


def _check_admin_signature(ctx: AppContext, data: bytes, folder: Path, plan: dict[str, Any],
                           begin: dict[str, Any], anchors: list[x509.Certificate],
                           rep: VerifyReport) -> str:
    """The administrator's signature, by the credential named at the start, held by the
    register entry of the person the plan names; returns that entry's register id ('' when
    it is not known)."""
    sig_path = folder / SIGNATURE
    try:
        verified = verify_detached(data, sig_path.read_bytes(), trust_anchors=anchors)
        cert = verified.signer_certificate
        assert cert is not None
        rep.signer = cert.subject.rfc4514_string()
        entry, problem = signer_entry(ctx, cert, str(plan["administrator"]), "administrator")
        if _key_id(cert) != begin["data"]["administrator"]["key_id"]:
            rep.problems.append("the transcript is signed by another key than the "
                                "administrator's credential named at the start")
        elif not verified.trusted and ctx.env is Environment.LIVE:
            # anyone can make a certificate: in Live a signature only counts with its chain
            rep.problems.append("the administrator's certificate chain cannot be checked: this "
                                "Live data folder has no file-signing trust anchor (add the "
                                "DCC's file-signing trust anchor first)")
        elif problem:
            rep.problems.append(problem)
        else:
            rep.checked.append(f"administrator's signature: {rep.signer}, register entry "
                               f"{entry} ({plan['administrator']})"
                               + (" (chain to a trust anchor checked)" if verified.trusted
                                  else " (no trust anchor here: chain not checked)"))
            return entry
    except OSError:
        rep.problems.append(f"the signature file {SIGNATURE} is missing")
    except SignatureInvalid as exc:  # SignerUntrusted too: another environment's credential
        rep.problems.append(f"the administrator's signature does not verify: {exc.message}")
    return ""


def _check_witnesses(ctx: AppContext, data: bytes, folder: Path, plan: dict[str, Any],
                     begin: dict[str, Any], admin_entry: str,
                     anchors: list[x509.Certificate], rep: VerifyReport) -> None:
    """Every witness signature present: made by that witness's own credential, held by the
    register entry of the person the plan names, another person than the administrator and
    the other witnesses."""
    admin_key = begin["data"]["administrator"]["key_id"]
    witness_keys: dict[str, str] = {}
    entries: dict[str, str] = {}
    for w in plan.get("witnesses", []):
        wpath = witness_signature_path(folder, w)
        if not wpath.exists():
            rep.checked.append(f"witness {w}: no electronic signature (signs the printed "
                               "transcript)")
            continue
        try:
            wv = verify_detached(data, wpath.read_bytes(), trust_anchors=anchors)
        except SignatureInvalid as exc:
            rep.problems.append(f"witness {w}'s signature does not verify: {exc.message}")
            continue
        wcert = wv.signer_certificate
        assert wcert is not None
        wkey = _key_id(wcert)
        entry, problem = signer_entry(ctx, wcert, w, "witness")
        if not wv.trusted and ctx.env is Environment.LIVE:
            rep.problems.append(f"witness {w}'s certificate chain cannot be checked (no "
                                "file-signing trust anchor in this Live data folder)")
        elif wkey == admin_key:
            rep.problems.append(f"witness {w}'s signature was made with the "
                                "administrator's credential, not the witness's own")
        elif wkey in witness_keys:
            rep.problems.append(f"witness {w}'s signature was made with the same "
                                f"credential as witness {witness_keys[wkey]}'s")
        elif problem:
            rep.problems.append(problem)
        elif entry == admin_entry:
            rep.problems.append(f"witness {w} signed as register entry {entry}, the "
                                "administrator's: a witness is another person")
        elif entry in entries:
            rep.problems.append(f"witness {w} signed as register entry {entry}, as witness "
                                f"{entries[entry]} did: each witness is another person")
        else:
            witness_keys[wkey] = w
            entries[entry] = w
            rep.checked.append(f"witness {w}: signature by {wcert.subject.rfc4514_string()}, "
                               f"register entry {entry}")


def _check_transcripts(journal: Journal, folder: Path, fin: dict[str, Any],
                       rep: VerifyReport) -> None:
    finish_seq = next(e["seq"] for e in journal.entries
                      if e["step"] == "finish" and e["event"] == "done")
    expected_text = render_text(Journal(journal.entries[:finish_seq - 1])).encode()
    text_path = folder / str(fin["transcript_text"])
    if not text_path.exists():
        rep.problems.append(f"the text transcript {text_path.name} is missing")
    elif text_path.read_bytes() != expected_text or _sha(expected_text) != \
            fin["transcript_text_sha256"]:
        rep.problems.append(f"the text transcript {text_path.name} differs from the journal "
                            "(it was edited)")
    else:
        rep.checked.append(f"text transcript {text_path.name}")
    pdf = fin.get("transcript_pdf")
    if not pdf:  # every finished ceremony writes one (the copy the witnesses sign)
        rep.problems.append("the transcript records no printable transcript (a finished "
                            "ceremony always writes one)")
    else:
        if not (folder / pdf).is_file():
            rep.problems.append(f"the printable transcript {pdf} is missing")
        elif _file_sha(folder / pdf) != fin["transcript_pdf_sha256"]:
            rep.problems.append(f"the printable transcript {pdf} was changed")
        else:
            rep.checked.append(f"printable transcript {pdf}")


def _check_outputs(folder: Path, fin: dict[str, Any], rep: VerifyReport) -> None:
    for rel, sha in sorted(fin["outputs"].items()):
        p = folder / rel
        if not p.is_file():
            rep.problems.append(f"output {rel} is missing")
        elif _file_sha(p) != sha:
            rep.problems.append(f"output {rel} was changed (SHA-256 differs from the "
                                "transcript)")
        else:
            rep.checked.append(f"output {rel}")
    for rel, share in sorted(fin.get("custodian_shares", {}).items()):
        p = folder / rel
        if not p.is_file():
            rep.checked.append(f"share {rel}: with its custodian {share['custodian']} (not on "
                               "this media)")
        elif _file_sha(p) != share["sha256"]:
            rep.problems.append(f"share {rel} was changed (SHA-256 differs from the "
                                "transcript)")
        else:
            rep.checked.append(f"share {rel} (still on this media: hand it to "
                               f"{share['custodian']})")


_STORES = {"token": ("pkcs11", False), "keystore": ("os-keyring", True)}


def _check_keys(done: dict[str, dict[str, Any]], plan: dict[str, Any],
                rep: VerifyReport) -> None:
    """Each key step's key is where the plan said: on the token (non-exportable) or in the
    key store (exportable)."""
    planned = {str(k.get("name")): k for k in plan.get("keys", [])}
    for s, d in sorted(done.items()):
        if not s.startswith("key:"):
            continue
        name = s.split(":", 1)[1]
        entry = planned.get(name)
        if entry is None:
            rep.problems.append(f"key {name} is not a key the plan names")
            continue
        location, exportable = _STORES.get(str(entry.get("store")), ("?", None))
        if d.get("location") != location or d.get("exportable") is not exportable:
            rep.problems.append(
                f"key {name} is {d.get('location')}"
                + (" (exportable)" if d.get("exportable") else " (not exportable)")
                + f"; the plan's store {entry.get('store')!r} means {location}"
                + (" (exportable)" if exportable else " (not exportable)"))
        else:
            rep.checked.append(f"key {name}: {location}, as the plan says")


def _check_csrs(ctx: AppContext, folder: Path, done: dict[str, dict[str, Any]],
                plan: dict[str, Any], rep: VerifyReport) -> None:
    profile = profile_for(ctx)
    planned = {str(k.get("name")): k for k in plan.get("keys", [])}
    for s, d in sorted(done.items()):
        if not s.startswith("csr:"):
            continue
        p = folder / d["file"]
        if not p.is_file():
            continue
        blob = p.read_bytes()
        report = lint_bytes(blob, profile, d["file"])
        if not report.ok:
            rep.problems.append(f"CSR {d['file']} fails lint: "
                                + "; ".join(str(f) for f in report.findings))
        key = done.get("key:" + s.split(":", 1)[1], {})
        try:
            fields = extract_fields(blob, d["file"])
            if fields.key_id != key.get("key_id"):
                rep.problems.append(f"CSR {d['file']} is not for the key the transcript "
                                    "records")
            entry = planned.get(s.split(":", 1)[1])
            if entry is None:
                rep.problems.append(f"CSR {d['file']} is for a key the plan does not name")
            else:
                for what in csr_plan_differences(fields, entry):
                    rep.problems.append(f"CSR {d['file']}: its {what}")
        except InputError as exc:
            rep.problems.append(exc.message)
