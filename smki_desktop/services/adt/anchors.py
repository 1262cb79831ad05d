"""The file-signing trust anchors of an environment: the certificate store's and the portal
endpoint's CA anchor (the simulator's root in Test); the CA pool that links a credential to
them; and, read only, the other environment's anchors to name a foreign signature."""

from __future__ import annotations

import contextlib
from pathlib import Path

from cryptography import x509

from smki_desktop.core.environment import Environment
from smki_desktop.services.adt.common import Written, cert_der, is_ca, load_certs, other_env
from smki_desktop.services.context import AppContext
from smki_desktop.services.endpoint_record import vouched_anchor
from smki_desktop.services.trust import add_trust_anchor as store_add_anchor
from smki_desktop.services.trust import officer_anchors
from smki_desktop.store.repos import adt as adt_repo


def trust_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The environment's trust anchors: the certificate store's (issue 3) added through SMKI
    Desktop (`services.trust.officer_anchors`: an audit record vouches for the addition; a row
    put in `trust_anchors` by SQL, with a CA of someone's own, vouches for no file signer) and
    the portal endpoint's CA anchor (the simulator's root in Test) when an audit record vouches
    for it."""
    found: list[x509.Certificate] = []
    with contextlib.suppress(ValueError):
        found += list(officer_anchors(ctx))
    # the endpoint's anchor only when an audit record vouches for it: a row rewritten by
    # someone who can write the store but not sign a record must not add a CA of theirs
    blob = vouched_anchor(ctx)
    if blob is not None:
        with contextlib.suppress(ValueError):
            found += [c for c in load_certs(blob) if is_ca(c)]
    unique: dict[bytes, x509.Certificate] = {}
    for cert in found:
        unique.setdefault(cert_der(cert), cert)
    return list(unique.values())


def ca_pool(ctx: AppContext) -> list[x509.Certificate]:
    """CA certificates that may link a credential to an anchor: the anchors and the CA chain
    the simulator handed out with a credential (Test)."""
    pool = trust_anchors(ctx)
    chain_file = ctx.paths.env_dir / "portal" / "simulator-ca-chain.pem"
    if ctx.env is Environment.TEST and chain_file.is_file():
        with contextlib.suppress(ValueError, OSError):
            pool += [c for c in load_certs(chain_file.read_bytes()) if c not in pool]
    return pool


def add_trust_anchor(ctx: AppContext, pem_or_der: bytes) -> Written:
    """Add a CA certificate as a trust anchor of this environment (the certificate store's)."""
    sha, entry = store_add_anchor(ctx, pem_or_der, source="user")
    if entry is None:
        entry = ctx.audit.record("adt.anchor.add", {"already_present": True}, {"certificate": sha})
    return Written(Path(""), sha, entry)


def other_env_anchors(ctx: AppContext) -> list[x509.Certificate]:
    """The other environment's trust anchors, read (read-only) from its database: only to say
    which environment a signature belongs to, never to accept it here."""
    other = other_env(ctx.env)
    db = ctx.paths.root / other.value / ctx.paths.db_path.name
    found: list[x509.Certificate] = []
    for blob, ca_only in adt_repo.anchor_blobs_elsewhere(db, other.value):
        with contextlib.suppress(ValueError):
            found += [c for c in load_certs(blob) if not ca_only or is_ca(c)]
    return found
