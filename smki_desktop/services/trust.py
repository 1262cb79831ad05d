"""The trust anchors of each environment: the CA certificates a chain must reach for a
certificate, a signed file, a CRL or a credential to be trusted. In Test the simulator's root
(added by the portal layer) plus the user's imports; in Live only the user's imports.

Used by certificates (acceptance check), ADT (signatures), repository and revocation (CRLs),
credentials and the portal; it imports none of them.

An anchor vouches for an officer's signature only when the audit log holds a verified record of
its addition (`officer_anchors`): the log is signed with a key in the OS keyring, so someone who
can write the database but not use the keyring cannot make a CA of their own count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.crypto.certs import load_certificate, name_text, names_equal
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext, EnvPaths
from smki_desktop.store.repos import trust as repo

if TYPE_CHECKING:
    from smki_desktop.services.audit import AuditLog


def trust_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """This environment's trust anchors: in Test the simulator's root (added by the portal
    layer) plus user imports; in Live only user imports."""
    return [x509.load_der_x509_certificate(der) for der in repo.anchor_ders(ctx.db,
                                                                            ctx.env.value)]


# The audit records that bring an anchor in: its addition (any face, the simulator's set-up)
# and the move of a workstation's database into a team store (which lists the anchors copied).
ANCHOR_ACTIONS = ("cert.anchor.add", "team.migrate_from_local")


def vouched_fingerprints(ctx: AppContext) -> set[str]:
    """The SHA-256 fingerprints of the anchors a verified audit record says were added through
    SMKI Desktop (`AuditLog.vouched`: signed with the writer key the OS keyring holds)."""
    return fingerprints_vouched_by(ctx.audit)


def fingerprints_vouched_by(log: AuditLog) -> set[str]:
    """`vouched_fingerprints` of one audit log (a workstation's own, when it moves into a team
    store, says which of its anchors were added through SMKI Desktop)."""
    return _fingerprints(log.vouched(ANCHOR_ACTIONS))


def _fingerprints(entries: list[AuditEntry]) -> set[str]:
    out: set[str] = set()
    for e in entries:
        if e.action == "cert.anchor.add":
            out.add(str(e.details.get("fingerprint", "")).lower())
        else:
            out.update(str(f).lower() for f in e.details.get("trust_anchors") or ())
    return out


def _sorted_by_vouching(ctx: AppContext
                        ) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """This environment's trust anchors: those an audited addition vouches for, and the others.
    When the audit log was cut (`AuditLog.vouched_or_cut`) and an anchor is among the others,
    `LogCut` naming it and the cut: that anchor's record may be one of those cut off, and
    quietly trusting fewer anchors would hide the tampering from the officer. An anchor added
    again after the cut is vouched for by that record."""
    from smki_desktop.services.vouched import LogCut

    found, cut = ctx.audit.vouched_or_cut(ANCHOR_ACTIONS)
    vouched = _fingerprints(found)
    yes: list[x509.Certificate] = []
    no: list[x509.Certificate] = []
    for c in trust_anchors(ctx):
        (yes if c.fingerprint(hashes.SHA256()).hex() in vouched else no).append(c)
    if cut is not None and no:
        c = no[0]
        raise LogCut(f"Trust anchor {name_text(c.subject)} (SHA-256 "
                     f"{c.fingerprint(hashes.SHA256()).hex()[:16]}) cannot be matched to a "
                     f"trusted record of its addition: {cut}.")
    return yes, no


def officer_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The anchors an officer's credential may chain to: this environment's trust anchors that
    came in through SMKI Desktop (an audited addition). A row put in the table by someone who
    can write the database, with a CA of their own making, is not among them: otherwise they
    could issue themselves a credential naming any SRO. Refused (`LogCut`) when the log was
    cut and an anchor's addition is no longer proven (`_sorted_by_vouching`)."""
    return _sorted_by_vouching(ctx)[0]


def unvouched_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """This environment's trust anchors with no audited addition (see `officer_anchors`)."""
    return _sorted_by_vouching(ctx)[1]


def unvouched_note(cert: x509.Certificate) -> str:
    """Why a signature under `cert` is not trusted, naming the anchor."""
    return (f"it is signed under a trust anchor that was not added through SMKI Desktop "
            f"({name_text(cert.subject)}, SHA-256 {cert.fingerprint(hashes.SHA256()).hex()[:16]}"
            "): the audit log holds no record of its addition, so it vouches for no officer. "
            "If you trust this CA, add its certificate again as a trust anchor.")


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
    # present but with no audited addition (put in the table directly): adding it again is
    # what vouches for it
    again = repo.has_anchor(ctx.db, fp) and fp not in vouched_fingerprints(ctx)
    with ctx.audit.change():
        if not repo.add_anchor(ctx.db, ctx.env.value, fp, name_text(cert.subject), source, der,
                               ctx.clock.now().isoformat()) and not again:
            return fp, None
        entry = ctx.audit.record("cert.anchor.add", {"fingerprint": fp, "source": source,
                                                     "subject": name_text(cert.subject),
                                                     **({"vouched_again": True} if again
                                                        else {})},
                                 {"certificate": der})
    return fp, entry
