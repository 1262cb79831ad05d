"""Organisation CSR workflow: pick a key not used before, check the request against the profile
and the party's EUI range, sign on whichever store holds the key (OS keyring or PKCS#11 token),
lint the result, record it (one key per CSR) and audit it; write it in any portal form."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage
from smki_desktop.core.profiles import SmkiProfile
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.csr import OrgCsrRequest, build_org_csr
from smki_desktop.crypto.der import OUTPUT_FORMATS, encode
from smki_desktop.crypto.lint import LintReport, lint_der
from smki_desktop.keystores.os_keyring import resolve_key_ref
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services import crossing
from smki_desktop.services import token as token_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.keys import KeyRecord, generate_key, not_archived, refuse_archived
from smki_desktop.services.published_keys import refuse_published_test_key
from smki_desktop.services.token import signer_for
from smki_desktop.store.atomic import check_output, write_recorded
from smki_desktop.store.repos import csrs as csrs_repo
from smki_desktop.store.repos import keys as keys_repo

SETTING_PKCS11_MODULE = token_service.SETTING_PKCS11_MODULE
SETTING_PKCS11_TOKEN = token_service.SETTING_PKCS11_TOKEN


def profile_for(ctx: AppContext) -> SmkiProfile:
    """This environment's profile (a user's override file under ENV_DIR/profiles/ wins)."""
    return load_profile(ctx.env, override_path(ctx.paths.env_dir, ctx.env))


def pkcs11_store(ctx: AppContext) -> Any:
    """The PKCS#11 key store configured in settings (module path + token label)."""
    return token_service.token_store(ctx)


def key_is_used(ctx: AppContext, key_id: str) -> str | None:
    """Why a key cannot get another CSR (it has a CSR or a certificate), or None."""
    used = keys_repo.csr_or_certificate(ctx.db, key_id)
    if used == "csr":
        return "it already has a CSR (one key per CSR)"
    if used == "certificate":
        return "it already has a certificate"
    return None


def keys_available_for_csr(ctx: AppContext, usage: KeyUsage | None = None) -> list[KeyInfo]:
    """EC P-256 signing / key-agreement keys of this environment with no CSR or certificate,
    not archived."""
    keys = keys_repo.unused_for_csr(ctx.db, ctx.env.value, KeyType.EC_P256,
                                    (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT))
    return not_archived(ctx, [k for k in keys if usage is None or k.usage is usage])


@dataclass(frozen=True)
class CsrCreated:
    csr_id: int
    der: bytes
    key: KeyInfo
    report: LintReport
    audit: AuditEntry


def create_org_csr(ctx: AppContext, key_ref: str, role: RemotePartyRole | str,
                   eui: Eui64 | str, cn: str | None = None, *,
                   token_store: Any = None) -> CsrCreated:
    """Make, lint, record and audit an Organisation CSR for a key that has none yet
    (`token_store`: an already logged-in PKCS#11 store to sign with)."""
    role = role if isinstance(role, RemotePartyRole) else RemotePartyRole.parse(role)
    eui = eui if isinstance(eui, Eui64) else Eui64.parse(eui, "EUI")
    cn = cn.strip() if cn and cn.strip() else None
    info = resolve_key_ref(ctx.db, ctx.env, key_ref)
    refuse_published_test_key(ctx.env, info.key_id, "Organisation CSR")
    refuse_archived(ctx, info, "an Organisation CSR")
    # a key the other environment of this data folder made or holds (restored here from its
    # backup, say) never gets this environment's CSR, in either direction
    crossing.refuse_key_the_other_environment_made(ctx, info.key_id, f"The key {info.label!r}")
    if info.key_type is not KeyType.EC_P256 or info.usage not in (KeyUsage.SIGNING,
                                                                  KeyUsage.KEY_AGREEMENT):
        raise InputError(f"Key {info.short_id}: an Organisation CSR needs an EC P-256 signing "
                         f"or key-agreement key; this is {info.key_type.value} "
                         f"{info.usage.value}.")
    used = key_is_used(ctx, info.key_id)
    if used:
        raise Refusal(f"Key {info.short_id} ({info.label}) cannot be used: {used}. Generate a "
                      "new key for a new CSR.")
    profile = profile_for(ctx)
    party = crossing.require_party(ctx, "Organisation CSR")
    OrgCsrRequest(role, eui, info.usage, cn).check(
        profile, party.party_type.value if party else None)
    if party is not None:
        party.require_own_eui(eui, "EUI")
    with signer_for(ctx, info, token_store) as signer:
        der = build_org_csr(signer, role, eui, cn)
    report = lint_der(der, profile, "new CSR")
    if not report.ok:  # our own builder broke the profile: never hand that out
        raise Refusal("The CSR just built fails the profile: "
                      + "; ".join(str(f) for f in report.findings))
    with ctx.audit.change():
        csr_id = csrs_repo.add_org_csr(ctx.db, ctx.env.value, info.key_id, role.ou, str(eui), cn,
                                       info.usage.value, der, ctx.clock.now().isoformat())
        entry = ctx.audit.record(
            "csr.org.create",
            {"csr_id": csr_id, "key_id": info.key_id, "role": role.ou, "eui": str(eui), "cn": cn,
             "usage": info.usage.value, "location": info.location.value},
            {"csr": der})
    return CsrCreated(csr_id, der, info, report, entry)


def write_csr(ctx: AppContext, der: bytes, path: Path, fmt: str = "pem", *, crlf: bool = False,
              overwrite: bool = False, csr_id: int | None = None) -> AuditEntry:
    """Write a CSR atomically in a portal form; never replaces a file unless told to."""
    data = encode(der, fmt, crlf=crlf)
    details: dict[str, Any] = {"path": str(path), "format": fmt, "crlf": crlf}
    if csr_id is not None:
        details["csr_id"] = csr_id
    # recorded before the file is put in place (store/atomic.write_recorded)
    return write_recorded(path, data, lambda p: ctx.audit.record(
        "csr.org.export", details, {"csr": der}), overwrite=overwrite)[1]


def export_csr(ctx: AppContext, csr_id: int, path: Path, fmt: str = "pem", *,
               crlf: bool = False, overwrite: bool = False) -> AuditEntry:
    """Write a CSR made earlier (kept in the database) again, e.g. when its first file was
    lost or went to the wrong place."""
    check_output(path, overwrite=overwrite)
    return write_csr(ctx, get_csr_der(ctx, csr_id), path, fmt, crlf=crlf,
                     overwrite=overwrite, csr_id=csr_id)


def list_csrs(ctx: AppContext) -> list[dict[str, Any]]:
    return [{"csr_id": r.csr_id, "key_id": r.key_id, "role": r.role, "eui": r.eui,
             "cn": r.cn, "usage": r.usage, "created": r.created,
             "certificate": r.cert_status} for r in csrs_repo.summaries(ctx.db, ctx.env.value)]


def get_csr_der(ctx: AppContext, csr_id: int) -> bytes:
    found = csrs_repo.der_and_environment(ctx.db, csr_id)
    if found is None or found[1] != ctx.env.value:
        raise NotFound(f"No CSR {csr_id} in the {ctx.env.label} environment.")
    return found[0]


def check_org_request(ctx: AppContext, role: RemotePartyRole, eui: Eui64, usage: KeyUsage,
                      cn: str | None) -> None:
    """Everything that can be checked before a key is made (so nothing is half-done)."""
    party = crossing.require_party(ctx, "Organisation key and CSR")
    OrgCsrRequest(role, eui, usage, cn).check(profile_for(ctx),
                                              party.party_type.value if party else None)
    if party is not None:
        party.require_own_eui(eui, "EUI")


def new_key_and_org_csr(ctx: AppContext, usage: KeyUsage, role: RemotePartyRole, eui: Eui64,
                        cn: str | None = None, *, location: KeyLocation = KeyLocation.OS_KEYRING,
                        label: str | None = None) -> CsrCreated:
    """The wizard's action: check the request, make a new P-256 key (OS keyring or token),
    then its Organisation CSR."""
    cn = cn.strip() if cn and cn.strip() else None
    check_org_request(ctx, role, eui, usage, cn)
    label = label or f"{role.name_text} {usage.value} {eui.hex}"
    if location is KeyLocation.PKCS11:
        store = pkcs11_store(ctx)
        with store.logged_in():  # one PIN for the key and its CSR
            info = store.generate(KeyType.EC_P256, usage, label, recorded=KeyRecord(ctx))
            return create_org_csr(ctx, info.key_id, role, eui, cn, token_store=store)
    info = generate_key(ctx, usage, label, KeyType.EC_P256).key
    return create_org_csr(ctx, info.key_id, role, eui, cn)


def discard_org_csr(ctx: AppContext, csr_id: int, *, token_store: Any = None) -> AuditEntry:
    """Undo a key + CSR just made that never left the application (the wizard's Cancel): the
    CSR row and its key are deleted, and the discard is audited."""
    key_id = csrs_repo.discard(ctx.db, csr_id, ctx.env.value)
    if key_id is None:
        raise Refusal(f"CSR {csr_id} cannot be discarded: it is not in the {ctx.env.label} "
                      "environment or a certificate was already issued for it.")
    info = resolve_key_ref(ctx.db, ctx.env, key_id)
    if info.location is KeyLocation.PKCS11:
        (token_store if token_store is not None else pkcs11_store(ctx)).delete(info.key_id)
    else:
        ctx.keystore.delete(info.key_id)
    return ctx.audit.record("csr.org.discard", {"csr_id": csr_id, "key_id": info.key_id,
                                                "location": info.location.value,
                                                "reason": "cancelled before it was saved"})


# -- for the faces: the output forms and the one CLI step "make it and write it" -------------
#: the portal forms a CSR can be written in (the CLI's --format, the wizard's choice)
CSR_FORMATS: tuple[str, ...] = tuple(OUTPUT_FORMATS)


def csr_text(der: bytes, fmt: str, *, crlf: bool = False) -> bytes:
    """A CSR in one of `CSR_FORMATS` (what is saved, copied to the clipboard or shown)."""
    return encode(der, fmt, crlf=crlf)


@dataclass(frozen=True)
class CsrFileWritten:
    made: CsrCreated
    path: Path
    audit: AuditEntry  # the export record (the creation's is `made.audit`)


def create_org_csr_file(ctx: AppContext, key_ref: str, role: RemotePartyRole | str,
                        eui: Eui64 | str, cn: str | None, out: Path, fmt: str = "pem", *,
                        crlf: bool = False, overwrite: bool = False) -> CsrFileWritten:
    """Make an Organisation CSR for a key and write it to `out`. The output is checked before
    the key is used: a CSR recorded but not written would burn the key (one key per CSR)."""
    out = Path(out)
    check_output(out, overwrite=overwrite)
    made = create_org_csr(ctx, key_ref, role, eui, cn)
    entry = write_csr(ctx, made.der, out, fmt, crlf=crlf, overwrite=overwrite,
                      csr_id=made.csr_id)
    return CsrFileWritten(made, out, entry)
