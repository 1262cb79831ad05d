"""The rules of the offline path (services/portal_offline.py) beyond the bundle format: who may
sign a request or answers bundle, what a relay may send, and which answers this installation
takes back.

Both bundles are signed by an ARO of this environment's officer register in active standing,
through a file-signing credential that chains to a trust anchor added through SMKI Desktop,
names the officer's register id, is not revoked, and whose key the register links to that
officer (`services/identity.verify`): where the register or the anchors cannot show this (no
anchor at all, a credential of another Party, a web-service credential, a suspended officer)
the bundle is refused and nothing in it is used. The relay makes again, for each request, the
checks made when it was queued and sent (`services/portal.payload_problem`). The offline
machine takes answers only for a request bundle it exported (its `portal.offline.export`
record names the manifest's SHA-256 and the references), each answers bundle once (its
`portal.offline.import` record names the answers' SHA-256)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from smki_desktop.core.errors import EnvironmentMismatch, Refusal
from smki_desktop.core.identity import Signatory, check_may_act
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.core.officers import OfficerRole
from smki_desktop.portal.offline import BundleEntry
from smki_desktop.services import identity
from smki_desktop.services.context import AppContext
from smki_desktop.services.portal import org_channel, payload_problem

EXPORT_ACTION = "portal.offline.export"
RELAY_ACTION = "portal.offline.relay"
IMPORT_ACTION = "portal.offline.import"
ROLES = (OfficerRole.ARO,)
_TLS = {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}


def acting_aro(ctx: AppContext, as_ref: str | None, key_ref: str | None,
               what: str) -> identity.Actor:
    """The ARO (in active standing) who signs a bundle here, through a linked key with a valid
    file-signing credential (the profile's linked entry and its one key when not named)."""
    return identity.resolve_actor(ctx, as_ref, key_ref, roles=ROLES, what=what)


@dataclass(frozen=True)
class BundleSigner:
    """The officer behind a bundle's verified signature."""

    officer_id: str
    name: str
    subject: str
    credential_serial: str

    def record(self) -> dict[str, Any]:
        return {"officer_id": self.officer_id, "name": self.name, "subject": self.subject,
                "credential_serial": self.credential_serial}


def file_signing_problem(cert: x509.Certificate) -> str:
    """Why `cert` is not a file-signing credential (keyUsage digitalSignature and
    nonRepudiation, as the credentials SMKI Desktop requests; no TLS purpose), or ''."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "it has no keyUsage, so it is not one"
    if not (ku.digital_signature and ku.content_commitment):
        return "its keyUsage lacks digitalSignature or nonRepudiation (a web-service credential?)"
    try:
        eku = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return ""
    if eku & _TLS:
        return "it is a TLS (web-service) credential"
    return ""


def _key_id(cert: x509.Certificate) -> str:
    return key_id_for_spki(cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def bundle_signer(ctx: AppContext, raw: bytes, signature: bytes, what: str) -> BundleSigner:
    """Who signed a bundle's manifest `raw`: an ARO in active standing of this environment's
    register, through a file-signing credential (see the module); refused otherwise, naming
    the cause."""
    try:
        v = identity.verify(ctx, raw, signature, what=what)
        problem = file_signing_problem(v.certificate)
        if problem:
            raise Refusal(f"Rule: {what} is signed with a file-signing credential; the "
                          f"credential of {v.officer.officer_id} that signed it is not one: "
                          f"{problem}.")
        kid = _key_id(v.certificate)
        held = next((c for c in v.officer.credentials if c.key_id == kid), None)
        if held is not None and held.flagged:
            raise Refusal(f"Rule: {what} is signed through a key its officer may use; key "
                          f"{kid[:16]} of {v.officer.officer_id} is flagged ({held.flagged}).")
        check_may_act(Signatory.of(v.officer), ctx.env, ROLES, what)
    except EnvironmentMismatch as exc:
        raise EnvironmentMismatch(f"{what} is refused; nothing in it was used. {exc.message}",
                                  hint=exc.hint) from None
    except Refusal as exc:
        raise Refusal(f"{what} is refused; nothing in it was used. {exc.message}",
                      hint=exc.hint) from None
    return BundleSigner(v.officer.officer_id, v.officer.name,
                        v.certificate.subject.rfc4514_string(),
                        f"{v.certificate.serial_number:X}")


def relay_problem(ctx: AppContext, e: BundleEntry) -> str | None:
    """Why the relay does not send bundle entry `e`, or None: the checks made when the request
    was queued and exported, made again here with this Party's profile and rules."""
    if e.kind == "poll":
        if e.request_kind not in ("org-csr", "device-batch"):
            return (f"Request {e.ref}: only an Organisation CSR or a Device CSR batch is "
                    f"asked for its results, not a {e.request_kind} request")
        if not e.server_id:
            return f"Request {e.ref}: it has no DCC id to ask for its results"
        return None
    if e.request_kind != e.kind:
        return f"Request {e.ref}: it is a {e.kind} request listed as {e.request_kind}"
    return payload_problem(ctx, e.ref, e.kind, e.payload, {org_channel(ctx)})


def exported_refs(ctx: AppContext, folder: Path, request_sha256: str) -> set[str]:
    """The references of the request bundle (manifest SHA-256 `request_sha256`) this
    installation exported, from the audit records of the export the log can vouch for;
    refused when there is none."""
    records = ctx.audit.vouched_naming((EXPORT_ACTION,), "manifest_sha256", [request_sha256])
    if not records:
        raise Refusal(f"{folder}: these answers are for the request bundle with SHA-256 "
                      f"{request_sha256[:16]}…, which this installation did not export (no "
                      "audit record of its export; a bundle exported by an earlier version "
                      "has none: export again). Nothing was changed.")
    refs: set[str] = set()
    for r in records:
        listed = r.details.get("refs")
        if isinstance(listed, list):
            refs.update(str(x) for x in listed)
    return refs


def refuse_second_import(ctx: AppContext, folder: Path, answers_sha256: str) -> None:
    records = ctx.audit.vouched_naming((IMPORT_ACTION,), "answers_sha256", [answers_sha256])
    if records:
        raise Refusal(f"{folder}: these answers were already imported (audit record "
                      f"{records[0].seq}); an answers bundle is imported once. Nothing was "
                      "changed.")


def refuse_unbound(folder: Path, refs: Iterable[str], relayed: Iterable[str],
                   exported: set[str]) -> None:
    """Every answer is for a reference the relay says it relayed from a bundle exported
    here."""
    relayed_set = set(relayed)
    for ref in refs:
        if ref not in relayed_set:
            why = "the relay does not list it among the requests it relayed"
        elif ref not in exported:
            why = "it was not in the request bundle this installation exported"
        else:
            continue
        raise Refusal(f"{folder}: the answer for request {ref} is refused: {why}. Nothing was "
                      "changed.")
