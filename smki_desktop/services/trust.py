"""The trust anchors of each environment: the CA certificates a chain must reach for a
certificate, a signed file, a CRL or a credential to be trusted. In Test the simulator's root
(added by the portal layer) plus the user's imports; in Live only the user's imports.

Used by certificates (acceptance check), ADT (signatures), repository and revocation (CRLs),
credentials and the portal; it imports none of them."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.crypto.certs import load_certificate, name_text, names_equal
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext, EnvPaths
from smki_desktop.store.repos import trust as repo


def trust_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """This environment's trust anchors: in Test the simulator's root (added by the portal
    layer) plus user imports; in Live only user imports."""
    return [x509.load_der_x509_certificate(der) for der in repo.anchor_ders(ctx.db,
                                                                            ctx.env.value)]


def list_trust_anchors(ctx: AppContext) -> list[dict[str, str]]:
    """fingerprint, subject, source, added of each anchor, oldest first."""
    return [r.as_dict() for r in repo.list_anchors(ctx.db, ctx.env.value)]


def other_environment_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The other environment's trust anchors, read from its own database (read-only; none if
    that environment was never opened here)."""
    other = crossing.other(ctx.env)
    path = EnvPaths.for_env(ctx.paths.root, other).db_path
    out = []
    for der in repo.other_environment_anchor_ders(path, other.value):
        try:
            out.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    return out


def add_trust_anchor(ctx: AppContext, pem_or_der: bytes, *, source: str = "user"
                     ) -> tuple[str, AuditEntry | None]:
    """Add a CA certificate as a trust anchor of this environment (idempotent).
    Returns (SHA-256 fingerprint hex, audit entry or None when already present)."""
    cert = load_certificate(pem_or_der, "trust anchor")
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = bc.ca
    except x509.ExtensionNotFound:
        is_ca = names_equal(cert.subject, cert.issuer)  # a v1/self-issued root
    if not is_ca:
        raise InputError("Trust anchor: this certificate is not a CA certificate.")
    fp = cert.fingerprint(hashes.SHA256()).hex()
    der = cert.public_bytes(serialization.Encoding.DER)
    if ctx.env is Environment.LIVE and source == "simulator":
        raise InputError("Trust anchor: the simulator's root is never trusted in Live.")
    # whichever face adds it (cert anchor add, adt anchor add, Settings), checked here
    crossing.refuse_foreign_certificate(ctx, cert, f"Trust anchor {name_text(cert.subject)}")
    with ctx.audit.change():
        if not repo.add_anchor(ctx.db, ctx.env.value, fp, name_text(cert.subject), source, der,
                               ctx.clock.now().isoformat()):
            return fp, None
        entry = ctx.audit.record("cert.anchor.add", {"fingerprint": fp, "source": source,
                                                     "subject": name_text(cert.subject)},
                                 {"certificate": der})
    return fp, entry
