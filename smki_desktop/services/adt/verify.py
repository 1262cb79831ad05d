"""Verifying a signed file: the detached signature over its exact bytes, the signed manifest
beside it (environment first, then that it names this file, signature and signer), the
signer's chain to this environment's trust anchors added through SMKI Desktop (checked at the
current time unless this installation recorded making the signature), and the signer an active
ARO of this register (`signer_check`); a signature of the other environment is named as such,
and an interrupted signing set is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from smki_desktop.core.adt.manifest import Manifest
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal, SmkiError
from smki_desktop.crypto.cms import (
    ContentChanged,
    Digest,
    NotSignedData,
    SignatureInvalid,
    SignerUntrusted,
    VerifiedSignature,
    verify_detached,
)
from smki_desktop.services import crossing
from smki_desktop.services.adt.anchors import other_env_anchors, trust_anchors
from smki_desktop.services.adt.common import (
    SIG_SUFFIX,
    cert_der,
    cert_sha,
    default_paths,
    one_reading,
    other_env,
    read_limited,
)
from smki_desktop.services.adt.outputs import signing_record_of
from smki_desktop.services.adt.signer_check import (
    check_signer,
    register_standings,
    verify_now,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.digest_prefetch import file_digest
from smki_desktop.store.atomic import part_files


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
                    ) -> tuple[Manifest, VerifiedSignature]:
    """The manifest and its signature. The manifest's own signature is checked before any of
    its fields is believed: an edited manifest is named as the file changed after signing (not
    the data file), and its environment is trusted only once its bytes are the signed ones."""
    raw = read_limited(manifest_path, 1 << 20)
    manifest = Manifest.from_bytes(raw, str(manifest_path))
    msig_path = _manifest_sig_path(manifest_path)
    if not msig_path.exists():
        raise SignatureInvalid(
            f"{msig_path} is missing: the manifest is not signed, so the signing set of "
            f"{manifest.file_name} is incomplete (a signing may have been interrupted). "
            "Sign the file again.")
    msig = read_limited(msig_path, 1 << 20)
    try:
        # the chain at the current time: the signed_at it claims counts only when this
        # installation's audit log records making the signature (`signer_check.verify_now`)
        mv = verify_now(ctx, raw, msig, anchors, manifest.signed_at,
                        f"the manifest {manifest_path.name}")
    except NotSignedData:
        raise _not_a_signature_file(msig_path) from None
    except ContentChanged:
        raise SignatureInvalid(
            f"The manifest {manifest_path} was changed after signing: its bytes are not the "
            f"ones its signature {msig_path.name} covers, so none of what it says (environment, "
            "file, signer, Service Request reference) can be believed. The data file "
            f"{manifest.file_name} was not the cause; restore the manifest as signed, or sign "
            "the file again.") from None
    except SignerUntrusted:
        # intact but not of this environment's chain: a manifest of the other environment is
        # named as such (its bytes are the signed ones, so its environment is what was signed)
        _refuse_other_environment(ctx, manifest)
        raise
    _refuse_other_environment(ctx, manifest)
    return manifest, mv


def _refuse_other_environment(ctx: AppContext, manifest: Manifest) -> None:
    if manifest.environment is not ctx.env:
        raise EnvironmentMismatch(
            f"{manifest.file_name} was signed in the {manifest.environment.label} environment "
            f"(its signed manifest says so); this is the {ctx.env.label} environment. "
            f"{manifest.environment.label} signatures are never accepted in "
            f"{ctx.env.label}.")


def _not_a_signature_file(path: Path) -> SignatureInvalid:
    return SignatureInvalid(f"{path} is not a CMS signature file (a detached DER CMS "
                            "SignedData is expected): it is damaged, or another file.")


def _manifest_sig_path(manifest_path: Path) -> Path:
    return manifest_path.with_name(manifest_path.name + SIG_SUFFIX)


def _verifies_under(path: Path, sig: bytes, anchors: list[x509.Certificate]) -> bool:
    """Whether the signature over `path` is intact and chains to one of `anchors`."""
    if not anchors:
        return False
    try:
        with open(path, "rb", buffering=0) as fh:
            return bool(verify_detached(fh, sig, trust_anchors=anchors).trusted)
    except (SmkiError, ValueError, OSError):
        return False


def _refuse_marked_signer(ctx: AppContext, path: Path, sig: bytes) -> None:
    """EnvironmentMismatch when an intact signature over `path` carries a certificate of the
    other environment (checked without a chain: it can only refuse, never accept)."""
    try:
        with open(path, "rb", buffering=0) as fh:
            verified = verify_detached(fh, sig)
    except (SmkiError, ValueError, OSError):
        return
    _refuse_foreign_signer(ctx, verified, path.name)


def _refuse_foreign_signer(ctx: AppContext, verified: VerifiedSignature, what: str) -> None:
    seen: set[bytes] = set()
    for cert in (verified.signer_certificate, *verified.chain, *verified.certificates):
        if cert is None or cert_der(cert) in seen:
            continue
        seen.add(cert_der(cert))
        crossing.refuse_foreign_certificate(
            ctx, cert, f"The signature over {what}: certificate {cert.subject.rfc4514_string()}")


def _refuse_without_anchors(ctx: AppContext, path: Path, sig: bytes,
                            manifest: Manifest | None, warnings: list[str]) -> None:
    """No anchors: Live refuses (naming a Test signature as such), Test warns."""
    if ctx.env is Environment.LIVE:
        other = other_env(ctx.env)
        if manifest is None and _verifies_under(path, sig, other_env_anchors(ctx)):
            raise EnvironmentMismatch(
                f"The signature over {path.name} verifies against the {other.label} "
                f"environment's trust anchor: it is a {other.label} signature, never "
                f"accepted in the {ctx.env.label} environment. (The {ctx.env.label} "
                "environment has no file-signing trust anchor yet: add the DCC's anchor.)",
                hint="trust-anchor.add")
        # a Test credential (the marker policy, a Test CA) is named as such, not merely
        # "no anchor": the crossing is what the user needs to hear
        _refuse_marked_signer(ctx, path, sig)
        raise Refusal("The Live environment has no file-signing trust anchor: a signature "
                      "cannot be shown to be a Live one. Add the DCC's anchor first.")
    warnings.append("No Test trust anchor is set up: the signer's chain was not checked.")


def _refuse_incomplete_set(ctx: AppContext, path: Path, sig: bytes, file_sha: str,
                           manifest_path: Path) -> None:
    """Refuse a file without its manifest when a signing here recorded the file or its
    signature: no temporary file of an interrupted signing is left, so the signing completed
    here and its manifest was moved or deleted since (or the file and signature were copied
    alone). The file's hash counts as well as the signature's: a signature can be given an
    unsigned attribute or another certificate and still verify (attack review A8)."""
    seq = signing_record_of(ctx, hashlib.sha256(sig).hexdigest(), file_sha)
    if seq is not None:
        raise SignatureInvalid(
            f"{manifest_path} is missing: the manifest of {path.name} is not beside it. This "
            f"file was signed here (audit record {seq}), with a manifest, so the signing set is "
            "incomplete where it is now: put the manifest and its signature "
            f"({_manifest_sig_path(manifest_path).name}) back beside the file.")


def _check_binding(manifest: Manifest, verified: VerifiedSignature,
                   manifest_sig: VerifiedSignature, path: Path, sig_path: Path,
                   sig: bytes) -> None:
    """The manifest names this file, this signature and this signer."""
    sha = verified.digest.hex()
    if manifest.file_sha256 != sha:
        raise SignatureInvalid(f"The manifest names a file with SHA-256 "
                               f"{manifest.file_sha256}; {path.name} has {sha}.")
    if manifest.signature_sha256 != hashlib.sha256(sig).hexdigest():
        raise SignatureInvalid("The manifest names another signature file than "
                               f"{sig_path.name}.")
    cert = verified.signer_certificate
    if cert is not None and cert_sha(cert) != manifest.signer_certificate_sha256:
        raise SignatureInvalid("The manifest names another signer than the signature.")
    if manifest_sig.signer_certificate is not None and cert is not None and \
            cert_sha(manifest_sig.signer_certificate) != cert_sha(cert):
        raise SignatureInvalid("The manifest was signed by another signer than the file.")


@one_reading
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
    file_sha: str | None = None
    if manifest_path.exists():
        manifest, manifest_sig = _check_manifest(ctx, manifest_path, anchors)
    elif part_files(manifest_path) or part_files(_manifest_sig_path(manifest_path)):
        raise SignatureInvalid(
            f"{manifest_path} is missing: the signing set of {path.name} (signature, manifest, "
            "manifest signature) is incomplete; its signing was interrupted. Sign the file "
            "again.")
    else:
        file_sha = file_digest(path)[0]
        _refuse_incomplete_set(ctx, path, sig, file_sha, manifest_path)
        if require_manifest:
            raise InputError(f"{manifest_path}: no manifest beside the file.")
        warnings.append("No manifest beside the file: the environment and Service Request "
                        "reference binding were not checked.")
    if not anchors:
        _refuse_without_anchors(ctx, path, sig, manifest, warnings)
    # the register's replay needs not the file: made while `smki` may still be hashing it
    standings = register_standings(ctx)
    digest = Digest(bytes.fromhex(file_sha or file_digest(path)[0]))  # one streamed pass
    try:
        verified = verify_now(ctx, digest, sig, anchors,
                              manifest.signed_at if manifest else None, path.name)
    except NotSignedData:
        raise _not_a_signature_file(sig_path) from None
    except SignerUntrusted as exc:
        raise EnvironmentMismatch(
            f"The signature over {path.name} is intact but its signer does not chain to a "
            f"{ctx.env.label} trust anchor: it was not made with a {ctx.env.label} credential "
            f"(a {other_env(ctx.env).label} signature is never accepted in {ctx.env.label}). "
            f"{exc.message}") from None
    # the signer and every certificate it brings are checked against both environments,
    # whatever the anchors (a Test signature never verifies in Live, manifest or not)
    _refuse_foreign_signer(ctx, verified, path.name)
    if manifest is not None and manifest_sig is not None:
        _refuse_foreign_signer(ctx, manifest_sig, "its manifest")
        _check_binding(manifest, verified, manifest_sig, path, sig_path, sig)
    # whose signature it is: an active ARO of this register (or one proven to have signed it
    # here while active), credential not revoked, a file-signing one, its key linked to them
    check_signer(ctx, verified, sig, path.name, warnings, standings)
    return VerifyResult(path, verified.digest.hex(), verified, manifest, tuple(warnings))
