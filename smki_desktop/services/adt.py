"""ADT workflows: validate a file against its profile, sign it (and its manifest) with the ARO's
file-signing credential, verify a signature, write a template, the SRO's signed confirmation,
the delivery package, and the file's history.

Signing rules: the key must be a `file-signing` key of this environment with a valid
file-signing credential (`services.credentials`), never a key that holds (or asked for) an
Organisation Certificate; when the environment has trust anchors the credential must chain to
one (Live always needs them). Every signature is verified at once by the independent code path
of `crypto.cms.verify_detached`. Outputs are written all-or-nothing and never replace a file
unless told to.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import json
import os
import sqlite3
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop import __version__
from smki_desktop.core.adt.confirmation import Confirmation
from smki_desktop.core.adt.manifest import Manifest, check_smsr
from smki_desktop.core.adt.profile import KINDS, Profile
from smki_desktop.core.adt.validate import (
    ValidationReport,
    render_csv,
    template_rows,
    validate,
    validate_stream,
)
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import (
    EnvironmentMismatch,
    InputError,
    NotFound,
    Refusal,
    SmkiError,
)
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyUsage
from smki_desktop.core.party import OfficerRole
from smki_desktop.core.ports import Signer
from smki_desktop.crypto.cms import (
    Digest,
    SignatureInvalid,
    SignerUntrusted,
    VerifiedSignature,
    build_chain,
    hash_file,
    sign_detached,
    verify_detached,
)
from smki_desktop.resources_path import resource
from smki_desktop.services import adt_receipts, crossing
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import part_files, publish, stage, write_atomic

SIG_SUFFIX = ".p7s"
MANIFEST_SUFFIX = ".manifest.json"
MAX_VALIDATE_BYTES = 512 * 1024 * 1024


def _optional_module(name: str) -> Any:
    """A module another part of the application provides, or None while it is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# ---------------------------------------------------------------------------------------------
# profiles


def profile_versions(kind: str) -> list[str]:
    if kind not in KINDS:
        raise InputError(f"Profile kind {kind!r} is not one of {', '.join(KINDS)}.")
    folder = resource("adt", kind)
    versions = [p.stem for p in folder.glob("*.json")]
    return sorted(versions, key=lambda v: (len(v), v))


def load_profile(kind: str = "adt-file", version: str | None = None) -> Profile:
    """A shipped profile; the newest version unless one is named."""
    versions = profile_versions(kind)
    if not versions:
        raise NotFound(f"No {kind} profile is installed under resources/adt/{kind}/.")
    v = version or versions[-1]
    if v not in versions:
        raise NotFound(f"{kind} profile version {v!r} is not installed; have "
                       f"{', '.join(versions)}.")
    path = resource("adt", kind, f"{v}.json")
    prof = Profile.from_json(path.read_bytes(), str(path))
    if prof.kind != kind:
        raise InputError(f"{path}: kind is {prof.kind!r}, expected {kind!r}.")
    return prof


def active_profile(ctx: AppContext, kind: str = "adt-file") -> Profile:
    return load_profile(kind, ctx.setting(f"adt.profile.{kind}"))


def use_profile(ctx: AppContext, kind: str, version: str) -> Written:
    """Make an installed profile version the active one for `kind` (audited)."""
    prof = load_profile(kind, version)
    before = active_profile(ctx, kind).ref
    ctx.set_setting(f"adt.profile.{kind}", prof.version)
    entry = ctx.audit.record("adt.profile.use", {"kind": kind, "profile": prof.ref,
                                                 "previous": before})
    return Written(Path(""), "", entry)


def party_ranges(ctx: AppContext) -> list[EuiRange] | None:
    party = ctx.party()
    return list(party.eui_ranges) if party else None


# ---------------------------------------------------------------------------------------------
# validation and templates


def read_limited(path: Path, limit: int = MAX_VALIDATE_BYTES) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{path}: {size} bytes; files above {limit} bytes are not read.")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None


def validate_bytes(ctx: AppContext, data: bytes, kind: str = "adt-file",
                   profile: Profile | None = None, *, keep_rows: bool = True
                   ) -> ValidationReport:
    return validate(data, profile or active_profile(ctx, kind), party_ranges(ctx),
                    keep_rows=keep_rows)


def open_limited(path: Path, limit: int = MAX_VALIDATE_BYTES) -> BinaryIO:
    """The file opened for reading, after the same size check as `read_limited`."""
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115 - handed to the caller
        size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if size > limit:
        fh.close()
        raise InputError(f"{path}: {size} bytes; files above {limit} bytes are not read.")
    return fh


class _HashingReader:
    """A binary stream that hashes (SHA-256) what is read through it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        return data

    def hexdigest(self) -> str:
        while self.read(1 << 20):  # whatever validation did not need to read
            pass
        return self.sha.hexdigest()


def validate_file(ctx: AppContext, path: Path, kind: str = "adt-file",
                  profile: Profile | None = None, *, keep_rows: bool = False
                  ) -> ValidationReport:
    """Validate a file on disk, read once in chunks (memory: the unique keys and the first
    findings of each rule, not the file or its rows unless `keep_rows`)."""
    return validate_file_hashed(ctx, path, kind, profile, keep_rows=keep_rows)[0]


def validate_file_hashed(ctx: AppContext, path: Path, kind: str = "adt-file",
                         profile: Profile | None = None, *, keep_rows: bool = False,
                         on_row: Callable[[int, list[str]], None] | None = None
                         ) -> tuple[ValidationReport, str]:
    """`validate_file` and the SHA-256 of the bytes it read, in the same single pass."""
    prof = profile or active_profile(ctx, kind)
    ranges = party_ranges(ctx)
    with open_limited(path) as fh:
        reader = _HashingReader(fh)
        try:
            report = validate_stream(reader, prof, ranges,  # type: ignore[arg-type]
                                     keep_rows=keep_rows, on_row=on_row)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        sha = reader.hexdigest()
        adt_receipts.record(ctx, report, sha, os.fstat(fh.fileno()).st_size, ranges)
        return report, sha


@dataclass(frozen=True)
class Written:
    path: Path
    sha256: str
    audit: AuditEntry


def template_bytes(ctx: AppContext, kind: str = "adt-file") -> bytes:
    prof = active_profile(ctx, kind)
    party = ctx.party()
    first = party.eui_ranges[0].first if party else None
    return render_csv(prof, template_rows(prof, first))


def write_template(ctx: AppContext, out: Path, *, kind: str = "adt-file",
                   overwrite: bool = False) -> Written:
    data = template_bytes(ctx, kind)
    validate_bytes(ctx, data, kind).raise_if_invalid("Template")
    write_atomic(Path(out), data, overwrite=overwrite)
    digest = hashlib.sha256(data).hexdigest()
    entry = ctx.audit.record("adt.template", {"path": str(out), "kind": kind,
                                              "profile": active_profile(ctx, kind).ref},
                             {"file": digest})
    return Written(Path(out), digest, entry)


def save_edited(ctx: AppContext, out: Path, rows: Sequence[Sequence[str]], *,
                kind: str = "adt-file", overwrite: bool = False) -> Written:
    """The GUI table editor's Save: render the rows in the profile's dialect and write them
    (validation findings do not block saving a draft; signing refuses an invalid file)."""
    data = render_csv(active_profile(ctx, kind), rows)
    write_atomic(Path(out), data, overwrite=overwrite)
    digest = hashlib.sha256(data).hexdigest()
    entry = ctx.audit.record("adt.edit", {"path": str(out), "kind": kind, "rows": len(rows)},
                             {"file": digest})
    return Written(Path(out), digest, entry)


# ---------------------------------------------------------------------------------------------
# trust anchors (per environment)


def _load_certs(blob: bytes) -> list[x509.Certificate]:
    blob = bytes(blob)
    if b"-----BEGIN" in blob:
        return list(x509.load_pem_x509_certificates(blob))
    return [x509.load_der_x509_certificate(blob)]


def _cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _cert_sha(cert: x509.Certificate) -> str:
    return hashlib.sha256(_cert_der(cert)).hexdigest()


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.subject == cert.issuer


def trust_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The environment's trust anchors: the certificate store's (issue 3) and the portal
    endpoint's CA anchor (the simulator's root in Test)."""
    found: list[x509.Certificate] = []
    fn = getattr(_optional_module("smki_desktop.services.certificates"), "trust_anchors", None)
    if fn is not None:
        with contextlib.suppress(sqlite3.Error, ValueError):
            found += list(fn(ctx))
    with contextlib.suppress(sqlite3.Error, ValueError):
        for row in ctx.db.conn().execute(
                "SELECT trust_anchor FROM portal_endpoints WHERE environment=?",
                (ctx.env.value,)):
            found += [c for c in _load_certs(row["trust_anchor"]) if _is_ca(c)]
    unique: dict[bytes, x509.Certificate] = {}
    for cert in found:
        unique.setdefault(_cert_der(cert), cert)
    return list(unique.values())


def ca_pool(ctx: AppContext) -> list[x509.Certificate]:
    """CA certificates that may link a credential to an anchor: the anchors and the CA chain
    the simulator handed out with a credential (Test)."""
    pool = trust_anchors(ctx)
    chain_file = ctx.paths.env_dir / "portal" / "simulator-ca-chain.pem"
    if ctx.env is Environment.TEST and chain_file.is_file():
        with contextlib.suppress(ValueError, OSError):
            pool += [c for c in _load_certs(chain_file.read_bytes()) if c not in pool]
    return pool


def add_trust_anchor(ctx: AppContext, pem_or_der: bytes) -> Written:
    """Add a CA certificate as a trust anchor of this environment (the certificate store's)."""
    cert_service = _optional_module("smki_desktop.services.certificates")
    if cert_service is None:
        raise Refusal("This installation has no certificate store to keep trust anchors in.")
    sha, entry = cert_service.add_trust_anchor(ctx, pem_or_der, source="user")
    if entry is None:
        entry = ctx.audit.record("adt.anchor.add", {"already_present": True}, {"certificate": sha})
    return Written(Path(""), sha, entry)


# ---------------------------------------------------------------------------------------------
# the signer: a file-signing key with its credential, never an Organisation key


@dataclass(frozen=True)
class SigningIdentity:
    key: KeyInfo
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # signer .. anchor (empty when no anchors: Test only)
    warnings: tuple[str, ...] = ()


def _organisation_key_reason(ctx: AppContext, key_id: str) -> str:
    """Why this key belongs to an Organisation Certificate or CSR (issue 3's tables), or ''."""
    c = ctx.db.conn()
    for table, what in (("csr_requests", "an Organisation CSR"),
                        ("certificates", "an Organisation Certificate")):
        try:
            if c.execute(f"SELECT 1 FROM {table} WHERE key_id=? AND family='organisation'",
                         (key_id,)).fetchone():
                return f"it has {what}"
        except sqlite3.OperationalError:  # that component is not installed
            continue
    return ""


def signing_identity(ctx: AppContext, key_ref: str, *, at: datetime | None = None,
                     as_ref: str | None = None) -> SigningIdentity:
    """Check that `key_ref` may sign files here and return it with its credential (with
    `as_ref`, that the key is linked to that officer's register entry: `--as`)."""
    from smki_desktop.services.credentials import find_credential
    from smki_desktop.services.keys import get_key
    from smki_desktop.services.officers import signing_block

    info = get_key(ctx, key_ref)  # refuses a key of the other environment, naming both
    require_same(ctx.env, info.environment, f"Key {info.short_id}")
    blocked = signing_block(ctx, info)  # its officer was suspended or revoked
    if blocked:
        raise Refusal(blocked)
    if info.usage is not KeyUsage.FILE_SIGNING:
        raise Refusal(
            f"Key {info.short_id} ({info.label}) is a {info.usage.value} key: files are signed "
            "only with the ARO's file-signing credential, never with an Organisation "
            "Certificate's key (those are for GBCS messages to devices)."
        )
    reason = _organisation_key_reason(ctx, info.key_id)
    if reason:
        raise Refusal(f"Key {info.short_id} cannot sign files: {reason}. Use the ARO's "
                      "file-signing credential.")
    cred = find_credential(ctx, "file-signing", info.key_id)
    if cred is None:
        raise Refusal(
            f"Key {info.short_id} has no valid file-signing credential in the {ctx.env.label} "
            "environment. Request a file-signing credential first.",
            hint="credential.request.file-signing")
    require_same(ctx.env, cred.environment, "The file-signing credential")
    anchors = trust_anchors(ctx)
    now = at or ctx.clock.now()
    warnings: list[str] = []
    chain: tuple[x509.Certificate, ...] = ()
    if anchors:
        try:
            chain = build_chain(cred.certificate, ca_pool(ctx), anchors, now)
        except SignerUntrusted as exc:
            raise EnvironmentMismatch(
                f"The file-signing certificate of key {info.short_id} was not issued under a "
                f"{ctx.env.label} trust anchor: {exc.message} A {_other(ctx.env).label} "
                f"credential never signs {ctx.env.label} files."
            ) from None
    elif ctx.env is Environment.LIVE:
        raise Refusal("The Live environment has no file-signing trust anchor, so the "
                      "credential cannot be shown to be a Live one. Add the DCC's anchor "
                      "first.", hint="trust-anchor.add")
    else:
        warnings.append("No Test trust anchor is set up: the certificate chain was not checked.")
    # identity from the register: the credential's key is linked to an officer's entry
    from smki_desktop.services.officers import get_officer, key_holder

    holder = key_holder(ctx, info.key_id)
    if as_ref:
        named = get_officer(ctx, as_ref)
        if holder is None or holder.officer_id != named.officer_id:
            held = f"linked to {holder.officer_id}" if holder else "linked to no register entry"
            raise Refusal(f"Rule: an officer signs only through a key linked to their own "
                          f"register entry; key {info.short_id} is {held}, not to "
                          f"{named.officer_id}.")
    if holder is None:
        if ctx.env is Environment.LIVE:
            raise Refusal(
                f"Rule: in Live a file is signed only with a file-signing credential linked to "
                f"an officer register entry; key {info.short_id} is linked to none.",
                hint="officer.link-key")
        warnings.append(f"Training (Test): key {info.short_id} is linked to no officer register "
                        "entry; in Live this signature would be refused.")
    return SigningIdentity(info, cred.certificate, chain, tuple(warnings))


def _other(env: Environment) -> Environment:
    return Environment.LIVE if env is Environment.TEST else Environment.TEST


@contextlib.contextmanager
def open_signer(ctx: AppContext, info: KeyInfo) -> Iterator[Signer]:
    """Unlock the key once for an operation, from whichever store holds it."""
    if info.location is KeyLocation.OS_KEYRING:
        with ctx.keystore.signer(info.key_id) as s:
            yield s
        return
    csr_service = _optional_module("smki_desktop.services.csr")  # issue 3: token keys
    opener = getattr(csr_service, "signer_for", None)
    if opener is None:
        raise Refusal(f"Key {info.short_id} is on a PKCS#11 token, and this installation has "
                      "no token support.")
    with opener(ctx, info) as s:
        yield s


# ---------------------------------------------------------------------------------------------
# signing


@dataclass(frozen=True)
class SignResult:
    file: Path
    signature: Path
    manifest: Path
    manifest_signature: Path
    sha256: str
    size: int
    verified: VerifiedSignature
    manifest_data: Manifest
    audit: AuditEntry
    validation: ValidationReport | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file), "sha256": self.sha256, "size": self.size,
            "signature": str(self.signature), "manifest": str(self.manifest),
            "manifest_signature": str(self.manifest_signature),
            "environment": self.manifest_data.environment.value,
            "signed_at": self.manifest_data.to_dict()["signed_at"],
            "signer": self.manifest_data.to_dict()["signer"],
            "smsr_reference": self.manifest_data.smsr_reference,
            "verified": True, "chain_checked": self.verified.trusted,
            "audit_seq": self.audit.seq, "warnings": list(self.warnings),
        }


def default_paths(path: Path, sig: Path | None = None) -> tuple[Path, Path, Path]:
    path = Path(path)
    sig = Path(sig) if sig else path.with_name(path.name + SIG_SUFFIX)
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    return sig, manifest, manifest.with_name(manifest.name + SIG_SUFFIX)


def _write_all(items: Sequence[tuple[Path, bytes]], overwrite: bool) -> None:
    """Write every output or none: refuse up front if one exists, roll back on failure."""
    if not overwrite:
        for p, _ in items:
            if p.exists():
                raise Refusal(f"{p} already exists; choose another name or allow replacing it. "
                              "Nothing was written.")
    done: list[Path] = []
    try:
        for p, data in items:
            write_atomic(p, data, overwrite=overwrite)
            done.append(p)
    except BaseException:
        for p in done:
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def _signer_matches(signer: Signer, ident: SigningIdentity) -> None:
    if signer.key.key_id != ident.key.key_id:
        raise InputError(f"The signer holds key {signer.key.key_id[:16]}, not "
                         f"{ident.key.short_id}.")


def sign_file(ctx: AppContext, path: Path, key_ref: str, *, smsr: str | None = None,
              out: Path | None = None, kind: str = "adt-file", overwrite: bool = False,
              signer: AbstractContextManager[Signer] | None = None,
              user_ids: Sequence[str] = (), as_ref: str | None = None) -> SignResult:
    """Validate `path` (ADT or Action file), sign its exact bytes and its manifest, verify both
    at once, write `<file>.p7s`, `<file>.manifest.json` and `<file>.manifest.json.p7s`."""
    path = Path(path)
    smsr_ref = check_smsr(smsr)
    officer = ctx.officer()
    if officer is None or officer.role is not OfficerRole.ARO:
        who = officer.actor if officer else "No officer profile is set, and the user"
        raise Refusal(f"{who} is not an ARO: only an Authorised Responsible Officer signs ADT "
                      "and Action files. Set the officer profile (role aro) first.")
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    validation: ValidationReport | None = None
    checked: adt_receipts.Checked | None = None
    if kind in ("adt-file", "quarantine-action"):  # rows validated now, or a receipt used
        checked = adt_receipts.checked_file(ctx, path, active_profile(ctx, kind),
                                            party_ranges(ctx),
                                            lambda: validate_file_hashed(ctx, path, kind))
        validation = checked.report
        validation.raise_if_invalid(str(path))
    ident = signing_identity(ctx, key_ref, as_ref=as_ref)
    sig_path, manifest_path, manifest_sig_path = default_paths(path, out)
    outputs = (sig_path, manifest_path, manifest_sig_path)
    # what a killed signing of this target left: its temporary files, and published outputs of
    # a set it did not complete (they are replaced without --overwrite)
    for p in outputs:
        for part in part_files(p):
            with contextlib.suppress(OSError):
                part.unlink()
    leftovers = interrupted_leftovers(ctx, outputs)
    if not overwrite:
        for p in outputs:
            if p.exists() and p not in leftovers:
                raise Refusal(f"{p} already exists; choose another name or allow replacing it. "
                              "Nothing was written.")
    now = signing_now(ctx)  # the manifest's signed_at is the CMS signingTime
    anchors = trust_anchors(ctx)
    extra = [c for c in ident.chain[1:]]
    cm = signer if signer is not None else open_signer(ctx, ident.key)
    with cm as s:
        _signer_matches(s, ident)
        # the exact bytes validated (or covered by the receipt) are the ones signed: their
        # digest from that single pass is signed and verified at once, the file not re-read
        digest = Digest(bytes.fromhex(checked.sha256) if checked else
                        hash_file(str(path)))
        sig = sign_detached(digest, s, ident.certificate, now, extra)
        verified = verify_detached(digest, sig, trust_anchors=anchors, at=now)
        sha = verified.digest.hex()
        size = path.stat().st_size
        party = ctx.party()
        manifest = Manifest(
            kind=kind, environment=ctx.env, file_name=path.name, file_size=size,
            file_sha256=sha, signature_name=sig_path.name,
            signature_sha256=hashlib.sha256(sig).hexdigest(), signed_at=now,
            signer_key_id=ident.key.key_id,
            signer_certificate_sha256=_cert_sha(ident.certificate),
            signer_subject=ident.certificate.subject.rfc4514_string(),
            signer_issuer=ident.certificate.issuer.rfc4514_string(),
            signer_serial=f"{ident.certificate.serial_number:X}",
            profile=validation.profile.ref if validation else "",
            smsr_reference=smsr_ref, party_id=party.party_id if party else "",
            officer=officer.actor, software=f"SMKI Desktop {__version__}",
            subject_file_sha256="",
        )
        manifest_bytes = manifest.to_bytes()
        manifest_sig = sign_detached(manifest_bytes, s, ident.certificate, now, extra)
    verify_detached(manifest_bytes, manifest_sig, trust_anchors=anchors, at=now)
    # All-or-nothing as the user sees it: every output is staged in a hidden temporary file,
    # the audit record (with every hash) and the database row are written, and only then are
    # the outputs published, the manifest signature (the one completing the set, which
    # `verify_file` requires) last. A kill before that leaves no set; between the renames, a
    # set without its manifest signature, which verify refuses and the next signing replaces.
    staged: list[tuple[Path, Path]] = []
    try:
        for p, data in ((sig_path, sig), (manifest_path, manifest_bytes),
                        (manifest_sig_path, manifest_sig)):
            staged.append((p, stage(p, data)))
        entry = _record_signing(ctx, path, kind, ident, size, smsr_ref, manifest,
                                          verified, user_ids, sha, sig, manifest_bytes,
                                          manifest_sig, now, sig_path, manifest_path, checked)
        _publish_set(staged, overwrite, leftovers)
    finally:
        for _p, tmp in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
    return SignResult(path, sig_path, manifest_path, manifest_sig_path, sha, size, verified,
                      manifest, entry, validation, ident.warnings)


def _publish_set(staged: Sequence[tuple[Path, Path]], overwrite: bool,
                 leftovers: set[Path]) -> None:
    """Rename the staged outputs into place, the last one (which completes the set) last. An
    old set being replaced loses its completing file first, so a kill never shows a mix."""
    last = staged[-1][0]
    if overwrite or last in leftovers:
        with contextlib.suppress(FileNotFoundError):
            last.unlink()
    done: list[Path] = []
    try:
        for p, tmp in staged:
            publish(tmp, p, overwrite=overwrite or p in leftovers)
            done.append(p)
    except BaseException:
        for p in done:
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def _signed_output_hashes(ctx: AppContext) -> set[str]:
    """The SHA-256 of every signature and manifest this environment's signings recorded in the
    audit log (recorded before the outputs are published)."""
    found: set[str] = set()
    for action in ("adt.sign", "quarantine.sign"):
        for e in ctx.audit.entries(action_prefix=action):
            for k in ("signature", "manifest", "manifest_signature"):
                if k in e.artifacts:
                    found.add(e.artifacts[k])
    return found


def _sha_of(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def interrupted_leftovers(ctx: AppContext, outputs: Sequence[Path]) -> set[Path]:
    """The outputs of a signing that was killed while publishing them: the completing file
    (the manifest signature) is absent and each present output is one the audit log recorded
    for a signing. Empty when the set is complete, absent, or holds a file not made here."""
    *first, last = outputs
    present = [p for p in first if p.is_file()]
    if last.exists() or not present:
        return set()
    known = _signed_output_hashes(ctx)
    if all(_sha_of(p) in known for p in present):
        return set(present)
    return set()


def _record_signing(ctx: AppContext, path: Path, kind: str, ident: SigningIdentity, size: int,
                    smsr_ref: str, manifest: Manifest, verified: VerifiedSignature,
                    user_ids: Sequence[str], sha: str, sig: bytes, manifest_bytes: bytes,
                    manifest_sig: bytes, now: datetime, sig_path: Path, manifest_path: Path,
                    checked: adt_receipts.Checked | None = None) -> AuditEntry:
    """The `adt.sign` (or `quarantine.sign`) audit record, with every output's hash, and the
    signed-files row; written before the outputs are published."""
    entry = ctx.audit.record(
        "adt.sign" if kind == "adt-file" else "quarantine.sign",
        {"path": str(path), "kind": kind, "key_id": ident.key.key_id, "size": size,
         "smsr_reference": smsr_ref, "profile": manifest.profile,
         "signer_serial": manifest.signer_serial, "signer_issuer": manifest.signer_issuer,
         "chain_checked": verified.trusted, "user_ids": list(user_ids),
         **({"validation": checked.how,
             "validation_receipt": checked.receipt.id if checked.receipt else None}
            if checked else {})},
        {"file": sha, "signature": sig, "manifest": manifest_bytes,
         "manifest_signature": manifest_sig},
    )
    with ctx.db.transaction() as c:
        c.execute(
            "INSERT INTO adt_files(environment, kind, name, path, sha256, size, profile, "
            "smsr_reference, key_id, signer_subject, signer_issuer, signer_serial, signed_at, "
            "signature_path, signature_sha256, manifest_path, manifest_sha256, audit_seq) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (ctx.env.value, kind, path.name, str(path.resolve()), sha, size, manifest.profile,
             smsr_ref, ident.key.key_id, manifest.signer_subject, manifest.signer_issuer,
             manifest.signer_serial, now.isoformat(), str(sig_path.resolve()),
             manifest.signature_sha256, str(manifest_path.resolve()),
             hashlib.sha256(manifest_bytes).hexdigest(), entry.seq))
    return entry


# ---------------------------------------------------------------------------------------------
# verification


@dataclass(frozen=True)
class VerifyResult:
    file: Path
    sha256: str
    verified: VerifiedSignature
    manifest: Manifest | None
    warnings: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        cert = self.verified.signer_certificate
        return {
            "file": str(self.file), "sha256": self.sha256, "valid": True,
            "chain_checked": self.verified.trusted,
            "signing_time": self.verified.signing_time.isoformat()
            if self.verified.signing_time else None,
            "signer_subject": cert.subject.rfc4514_string() if cert else None,
            "signer_issuer": cert.issuer.rfc4514_string() if cert else None,
            "environment": self.manifest.environment.value if self.manifest else None,
            "smsr_reference": self.manifest.smsr_reference if self.manifest else None,
            "manifest": self.manifest is not None, "warnings": list(self.warnings),
        }


def _check_manifest(ctx: AppContext, manifest_path: Path, anchors: list[x509.Certificate]
                    ) -> tuple[Manifest, VerifiedSignature | None, list[str]]:
    warnings: list[str] = []
    raw = read_limited(manifest_path, 1 << 20)
    manifest = Manifest.from_bytes(raw, str(manifest_path))
    # environment first: a Test file offered to Live is named as such, whatever else is wrong
    if manifest.environment is not ctx.env:
        raise EnvironmentMismatch(
            f"{manifest.file_name} was signed in the {manifest.environment.label} environment "
            f"(its manifest says so); this is the {ctx.env.label} environment. "
            f"{manifest.environment.label} signatures are never accepted in "
            f"{ctx.env.label}.")
    msig_path = manifest_path.with_name(manifest_path.name + SIG_SUFFIX)
    if not msig_path.exists():
        raise SignatureInvalid(
            f"{msig_path} is missing: the manifest is not signed, so the signing set of "
            f"{manifest.file_name} is incomplete (a signing may have been interrupted). "
            "Sign the file again.")
    mv = verify_detached(raw, read_limited(msig_path, 1 << 20), trust_anchors=anchors,
                         at=manifest.signed_at)
    return manifest, mv, warnings


def _other_env_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The other environment's trust anchors, read (read-only) from its database: only to say
    which environment a signature belongs to, never to accept it here."""
    other = _other(ctx.env)
    db = ctx.paths.root / other.value / ctx.paths.db_path.name
    if not db.is_file():
        return []
    found: list[x509.Certificate] = []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        for sql, ca_only in (("SELECT der AS blob FROM trust_anchors WHERE environment=?", False),
                             ("SELECT trust_anchor AS blob FROM portal_endpoints "
                              "WHERE environment=?", True)):
            with contextlib.suppress(sqlite3.Error, ValueError):
                for (blob,) in con.execute(sql, (other.value,)):
                    found += [c for c in _load_certs(blob) if not ca_only or _is_ca(c)]
    finally:
        con.close()
    return found


def _verifies_under(path: Path, sig: bytes, anchors: list[x509.Certificate]) -> bool:
    """Whether the signature over `path` is intact and chains to one of `anchors`."""
    if not anchors:
        return False
    try:
        with open(path, "rb", buffering=0) as fh:
            return bool(verify_detached(fh, sig, trust_anchors=anchors).trusted)
    except (SmkiError, ValueError, OSError):
        return False


def _refuse_foreign_signer(ctx: AppContext, verified: VerifiedSignature, what: str) -> None:
    seen: set[bytes] = set()
    for cert in (verified.signer_certificate, *verified.chain, *verified.certificates):
        if cert is None or _cert_der(cert) in seen:
            continue
        seen.add(_cert_der(cert))
        crossing.refuse_foreign_certificate(
            ctx, cert, f"The signature over {what}: certificate {cert.subject.rfc4514_string()}")


def verify_file(ctx: AppContext, path: Path, sig_path: Path | None = None, *,
                manifest_path: Path | None = None, require_manifest: bool = False
                ) -> VerifyResult:
    """Verify a detached signature over the exact bytes of `path`, the signed manifest beside
    it (when present), and the signer's chain to this environment's trust anchors."""
    path = Path(path)
    sig_path, default_manifest, _ = default_paths(path, sig_path)
    manifest_path = Path(manifest_path) if manifest_path else default_manifest
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    sig = read_limited(sig_path, 16 << 20)
    anchors = trust_anchors(ctx)
    warnings: list[str] = []
    manifest: Manifest | None = None
    manifest_sig: VerifiedSignature | None = None
    if manifest_path.exists():
        manifest, manifest_sig, w = _check_manifest(ctx, manifest_path, anchors)
        warnings += w
    elif part_files(manifest_path) or \
            hashlib.sha256(sig).hexdigest() in _signed_output_hashes(ctx):
        raise SignatureInvalid(
            f"{manifest_path} is missing: the signing set of {path.name} (signature, manifest, "
            "manifest signature) is incomplete; its signing was interrupted. Sign the file "
            "again.")
    elif require_manifest:
        raise InputError(f"{manifest_path}: no manifest beside the file.")
    else:
        warnings.append("No manifest beside the file: the environment and Service Request "
                        "reference binding were not checked.")
    if not anchors:
        if ctx.env is Environment.LIVE:
            other = _other(ctx.env)
            if manifest is None and _verifies_under(path, sig, _other_env_anchors(ctx)):
                raise EnvironmentMismatch(
                    f"The signature over {path.name} verifies against the {other.label} "
                    f"environment's trust anchor: it is a {other.label} signature, never "
                    f"accepted in the {ctx.env.label} environment. (The {ctx.env.label} "
                    "environment has no file-signing trust anchor yet: add the DCC's anchor.)",
                    hint="trust-anchor.add")
            raise Refusal("The Live environment has no file-signing trust anchor: a signature "
                          "cannot be shown to be a Live one. Add the DCC's anchor first.")
        warnings.append("No Test trust anchor is set up: the signer's chain was not checked.")
    digest = Digest(bytes.fromhex(adt_receipts.file_digest(path)[0]))  # one streamed pass
    try:
        verified = verify_detached(digest, sig, trust_anchors=anchors,
                                   at=manifest.signed_at if manifest else None)
    except SignerUntrusted as exc:
        raise EnvironmentMismatch(
            f"The signature over {path.name} is intact but its signer does not chain to a "
            f"{ctx.env.label} trust anchor: it was not made with a {ctx.env.label} credential "
            f"(a {_other(ctx.env).label} signature is never accepted in {ctx.env.label}). "
            f"{exc.message}") from None
    # the signer and every certificate it brings are checked against both environments,
    # whatever the anchors (a Test signature never verifies in Live, manifest or not)
    _refuse_foreign_signer(ctx, verified, path.name)
    if manifest_sig is not None:
        _refuse_foreign_signer(ctx, manifest_sig, "its manifest")
    sha = verified.digest.hex()
    if manifest is not None:
        if manifest.file_sha256 != sha:
            raise SignatureInvalid(f"The manifest names a file with SHA-256 "
                                   f"{manifest.file_sha256}; {path.name} has {sha}.")
        if manifest.signature_sha256 != hashlib.sha256(sig).hexdigest():
            raise SignatureInvalid("The manifest names another signature file than "
                                   f"{sig_path.name}.")
        cert = verified.signer_certificate
        if cert is not None and _cert_sha(cert) != manifest.signer_certificate_sha256:
            raise SignatureInvalid("The manifest names another signer than the signature.")
        if manifest_sig is not None and manifest_sig.signer_certificate is not None and \
                cert is not None and _cert_sha(manifest_sig.signer_certificate) != _cert_sha(cert):
            raise SignatureInvalid("The manifest was signed by another signer than the file.")
    return VerifyResult(path, sha, verified, manifest, tuple(warnings))


# ---------------------------------------------------------------------------------------------
# SRO confirmation


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


def _confirming_sro_check(ctx: AppContext, profile_name: str, key: KeyInfo) -> list[str]:
    """The officer register's say on the confirming SRO: an entry linked to the local profile
    or holding the signing key must be an active SRO (and the same one); refuse otherwise,
    naming the rule. Returns a warning when the register knows neither."""
    from smki_desktop.core.officers import OfficerRole as RegisterRole
    from smki_desktop.core.officers import OfficerStatus
    from smki_desktop.services.officers import key_holder, profile_officer

    rule = "Rule: only an active SRO in the officer register confirms submitted ADTs"
    linked = profile_officer(ctx)
    holder = key_holder(ctx, key.key_id)
    for what, o in (("the local officer profile links to", linked),
                    (f"key {key.short_id} is held by", holder)):
        if o is None:
            continue
        if o.role is not RegisterRole.SRO or o.status is not OfficerStatus.ACTIVE:
            raise Refusal(f"{rule}; {what} {o.officer_id} ({o.name}): {o.role.label}, "
                          f"{o.status.value}.")
    if linked is not None and holder is not None and linked.officer_id != holder.officer_id:
        raise Refusal(f"{rule}, with their own key; key {key.short_id} is held by "
                      f"{holder.officer_id} ({holder.name}), not by {linked.officer_id} "
                      f"({linked.name}), the SRO the local profile links to.")
    if linked is None and holder is None:
        if ctx.env is Environment.LIVE:
            raise Refusal(f"{rule}: in Live the confirming key must be linked to the SRO's "
                          f"register entry; key {key.short_id} is linked to none.",
                          hint="officer.link-key")
        return [f"The confirming SRO {profile_name} is not in the {ctx.env.label} officer "
                f"register (neither the local profile nor key {key.short_id} is linked to an "
                "entry): the register cannot show that they are an active SRO. Link their "
                "profile and their key to their register entry."]
    return []


def signing_now(ctx: AppContext) -> datetime:
    """The signing time, in whole seconds: the CMS signingTime (UTCTime) has no fraction, and
    the manifest's `signed_at` and a confirmation's `confirmed_at` equal it exactly."""
    return ctx.clock.now().replace(microsecond=0)


def confirm(ctx: AppContext, path: Path, key_ref: str, *, decision: str = "apply",
            resubmitter: str = "", note: str = "", smsr: str | None = None,
            out_dir: Path | None = None, signer: AbstractContextManager[Signer] | None = None,
            as_ref: str | None = None) -> ConfirmResult:
    """The SRO's signed confirmation that the User's submitted ADTs (the file at `path`) should
    apply, or who will resubmit them. Kept beside the file and in its history."""
    path = Path(path)
    officer = ctx.officer()
    if officer is None or officer.role is not OfficerRole.SRO:
        who = officer.actor if officer else "No officer profile is set, and"
        raise Refusal(f"{who} is not an SRO: only a Senior Responsible Officer confirms that "
                      "submitted ADTs should apply. Set the officer profile's role to sro.")
    # a profile's claimed role can refuse, never grant: the register decides (checked below:
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
    names = active_profile(ctx, "adt-file").column_names
    idx = names.index("User ID") if "User ID" in names else -1
    seen: set[str] = set()  # the distinct User IDs (a handful), not the rows

    def collect(_line: int, fields: list[str]) -> None:
        if 0 <= idx < len(fields):
            seen.add(fields[idx].strip().upper())

    report, sha = validate_file_hashed(ctx, path, "adt-file", on_row=collect)
    # only a valid ADT file is confirmed: its User IDs are what the SRO vouches for
    report.raise_if_invalid(f"{path} (not confirmed)")
    user_ids: list[str] = sorted(seen)
    # refuses a suspended/revoked officer's key, and (--as) a key of another officer
    ident = signing_identity(ctx, key_ref, as_ref=as_ref)
    warnings = list(ident.warnings) + _confirming_sro_check(ctx, officer.actor, ident.key)
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
    cm = signer if signer is not None else open_signer(ctx, ident.key)
    with cm as s:
        _signer_matches(s, ident)
        sig = sign_detached(doc, s, ident.certificate, now, list(ident.chain[1:]))
    verified = verify_detached(doc, sig, trust_anchors=trust_anchors(ctx), at=now)
    _write_all([(doc_path, doc), (sig_path, sig)], overwrite=False)
    entry = ctx.audit.record(
        "adt.confirm",
        {"adt_file": path.name, "decision": conf.decision, "resubmitter": conf.resubmitter,
         "user_ids": user_ids, "key_id": ident.key.key_id, "document": str(doc_path),
         "warnings": warnings},
        {"adt_file": sha, "confirmation": doc, "signature": sig})
    with ctx.db.transaction() as c:
        c.execute(
            "INSERT INTO adt_confirmations(environment, adt_sha256, decision, resubmitter, sro, "
            "confirmed_at, document_path, document_sha256, signature_path, signature_sha256, "
            "key_id, audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (ctx.env.value, sha, conf.decision, conf.resubmitter, officer.actor,
             now.isoformat(), str(doc_path.resolve()), hashlib.sha256(doc).hexdigest(),
             str(sig_path.resolve()), hashlib.sha256(sig).hexdigest(), ident.key.key_id,
             entry.seq))
    return ConfirmResult(doc_path, sig_path, conf, verified, entry, tuple(warnings))


# ---------------------------------------------------------------------------------------------
# delivery


@dataclass(frozen=True)
class DeliveryResult:
    package: Path
    sha256: str
    members: dict[str, str]  # name -> sha256
    sent_to: str
    remote_ref: str
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"package": str(self.package), "sha256": self.sha256, "members": self.members,
                "sent_to": self.sent_to, "remote_ref": self.remote_ref,
                "audit_seq": self.audit.seq}


def _package_bytes(members: list[tuple[str, Path]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, p in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    return buf.getvalue()


def deliver(ctx: AppContext, path: Path, *, out: Path | None = None, send: bool = False,
            overwrite: bool = False, signature: Path | None = None) -> DeliveryResult:
    """Verify the file, its signature and manifest again, then write one zip package (file,
    signature, manifest, manifest signature) for the DCC's secure upload and audit it."""
    path = Path(path)
    result = verify_file(ctx, path, signature, require_manifest=True)
    sig_path, manifest_path, manifest_sig_path = default_paths(path, signature)
    members = [(path.name, path), (sig_path.name, sig_path), (manifest_path.name, manifest_path),
               (manifest_sig_path.name, manifest_sig_path)]
    digests = {name: hash_file(str(p)).hex() for name, p in members}
    package = Path(out) if out else path.with_name(path.name + ".delivery.zip")
    data = _package_bytes(members)
    write_atomic(package, data, overwrite=overwrite)
    pkg_sha = hashlib.sha256(data).hexdigest()
    assert result.manifest is not None
    entry = ctx.audit.record(
        "adt.deliver",
        {"file": path.name, "package": str(package), "kind": result.manifest.kind,
         "smsr_reference": result.manifest.smsr_reference},
        {"package": pkg_sha, **{f"member:{n}": d for n, d in digests.items()}})
    with ctx.db.transaction() as c:
        cur = c.execute("INSERT INTO adt_deliveries(environment, file_sha256, package_path, "
                        "package_sha256, created, audit_seq) VALUES (?,?,?,?,?,?)",
                        (ctx.env.value, result.sha256, str(package.resolve()), pkg_sha,
                         ctx.clock.now().isoformat(), entry.seq))
        delivery_id = cur.lastrowid
    sent_to, remote_ref = "", ""
    if send:
        # the package is written and recorded first: a failed send leaves it for the upload
        sent_to, remote_ref = _send(ctx, package, data)
        entry = ctx.audit.record("adt.send", {"file": path.name, "package": str(package),
                                              "sent_to": sent_to, "remote_ref": remote_ref},
                                 {"package": pkg_sha})
        with ctx.db.transaction() as c:
            c.execute("UPDATE adt_deliveries SET sent_to=?, remote_ref=? WHERE id=?",
                      (sent_to, remote_ref, delivery_id))
    return DeliveryResult(package, pkg_sha, digests, sent_to, remote_ref, entry)


def _send(ctx: AppContext, package: Path, data: bytes) -> tuple[str, str]:
    """Hand the package to the portal layer's ADT upload, when it offers one."""
    fn = getattr(_optional_module("smki_desktop.services.portal"), "upload_adt_package", None)
    if fn is None:
        raise Refusal("This installation has no endpoint to send ADT packages to; the package "
                      f"was written to {package} for the DCC's secure upload.")
    try:
        sent = fn(ctx, package.name, data)
    except SmkiError as exc:
        exc.message = f"{exc.message} The package was written to {package}."
        exc.args = (exc.message,)
        raise
    return str(sent[0]), str(sent[1])


# ---------------------------------------------------------------------------------------------
# history


def history(ctx: AppContext, path_or_sha: str) -> list[dict[str, Any]]:
    """Signing, confirmation and delivery events for a file (by path or SHA-256)."""
    sha = path_or_sha.lower()
    if not (len(sha) == 64 and all(ch in "0123456789abcdef" for ch in sha)):
        sha = hash_file(path_or_sha).hex()
    c = ctx.db.conn()
    events: list[dict[str, Any]] = []
    for r in c.execute("SELECT * FROM adt_files WHERE environment=? AND sha256=?",
                       (ctx.env.value, sha)):
        events.append({"at": r["signed_at"], "event": "signed", "kind": r["kind"],
                       "signer": r["signer_subject"], "smsr_reference": r["smsr_reference"],
                       "signature": r["signature_path"], "audit_seq": r["audit_seq"]})
    for r in c.execute("SELECT * FROM adt_confirmations WHERE environment=? AND adt_sha256=?",
                       (ctx.env.value, sha)):
        events.append({"at": r["confirmed_at"], "event": f"sro-{r['decision']}",
                       "sro": r["sro"], "resubmitter": r["resubmitter"],
                       "document": r["document_path"], "audit_seq": r["audit_seq"]})
    for r in c.execute("SELECT * FROM adt_deliveries WHERE environment=? AND file_sha256=?",
                       (ctx.env.value, sha)):
        events.append({"at": r["created"], "event": "delivered", "package": r["package_path"],
                       "sent_to": r["sent_to"], "audit_seq": r["audit_seq"]})
    return sorted(events, key=lambda e: (e["at"], e["audit_seq"] or 0))


def signed_files(ctx: AppContext, kind: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM adt_files WHERE environment=?"
    params: list[Any] = [ctx.env.value]
    if kind:
        sql += " AND kind=?"
        params.append(kind)
    return [dict(r) for r in ctx.db.conn().execute(sql + " ORDER BY id DESC", params)]


def as_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
