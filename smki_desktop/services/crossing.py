"""Test/Live crossings: every artifact that enters an environment (trust anchor, certificate,
CSR, signed file, bundle, request) is checked against BOTH environments, and one that belongs
to the other is refused with a message naming both. Also the Live rule that nothing is made
without a Party profile, and the roles a Party type may hold.

Marks of an environment on a certificate: the SMKI Desktop simulator's marker policy or one of
the DCC's published Test policies (always Test, whatever a profile override lists), or a policy
OID of one environment's profile that the other's does not list (a certificate issued under the
other environment's CA is refused at import by its issuer, in services/certificates.py). On a
CSR or key: the key (SHA-256 of its SPKI) being held by the other environment's database and
not by this one's; for a key found on a token both environments use, also one the other
environment's audit log records making, whatever this one holds.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.core.party import PartyProfile
from smki_desktop.core.profiles import DCC_TEST_POLICY_OIDS, SmkiProfile
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.certs import load_certificate
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.services.context import AppContext, EnvPaths
from smki_desktop.store.repos import crossing as repo

SIMULATOR_MARKER_POLICY = "1.3.6.1.4.1.55555.1.99.1"
_FAMILIES = ("organisation", "device")


def other(env: Environment) -> Environment:
    return Environment.LIVE if env is Environment.TEST else Environment.TEST


def _profile(root: EnvPaths, env: Environment) -> SmkiProfile:
    return load_profile(env, override_path(EnvPaths.for_env(root.root, env).env_dir, env))


def _policies(cert: x509.Certificate) -> set[str]:
    try:
        pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except (x509.ExtensionNotFound, ValueError):
        return set()
    return {p.policy_identifier.dotted_string for p in pol}


def certificate_marks(paths: EnvPaths, cert: x509.Certificate
                      ) -> tuple[Environment, str] | None:
    """Which environment a certificate's own marks tie it to (and why), or None. Needs only
    the data root (for the profiles' overrides): the CLI's lint calls it without a context."""
    pols = _policies(cert)
    if SIMULATOR_MARKER_POLICY in pols:
        return Environment.TEST, "carries the SMKI Desktop simulator's marker policy"
    dcc_test = sorted(pols & DCC_TEST_POLICY_OIDS)
    if dcc_test:
        return Environment.TEST, f"carries the DCC's Test certificate policy {dcc_test[0]}"
    for env in (Environment.TEST, Environment.LIVE):
        mine = set().union(*(_profile(paths, env).policy_oids(f) for f in _FAMILIES))
        theirs = set().union(*(_profile(paths, other(env)).policy_oids(f) for f in _FAMILIES))
        found = sorted(p for p in pols if p in mine and p not in theirs)
        if found:
            return env, f"carries the {env.label} certificate policy {found[0]}"
    return None


def certificate_environment_problem(env: Environment, root: Path, data: bytes) -> str | None:
    """For `smki lint` (no context opened): why a certificate (PEM/DER) belongs to the other
    environment, or None."""
    try:
        cert = load_certificate(data, "certificate")
    except (InputError, ValueError):
        return None
    marks = certificate_marks(EnvPaths.for_env(root, env), cert)
    if marks is None or marks[0] is env:
        return None
    return (f"this certificate {marks[1]}: it belongs to the {marks[0].label} environment; "
            f"this is the {env.label} environment.")


def refuse_foreign_certificate(ctx: AppContext, cert: x509.Certificate, what: str) -> None:
    """EnvironmentMismatch when `cert` belongs to the other environment, naming both."""
    marks = certificate_marks(ctx.paths, cert)
    if marks is not None and marks[0] is not ctx.env:
        env, why = marks
        raise EnvironmentMismatch(
            f"{what} {why}: it belongs to the {env.label} environment; this is the "
            f"{ctx.env.label} environment. {env.label} artifacts are never accepted in "
            f"{ctx.env.label}.")


def refuse_foreign_csr(ctx: AppContext, csr_der: bytes, what: str) -> str:
    """EnvironmentMismatch when the CSR's key is held only by the other environment; returns
    the key id."""
    try:
        csr = x509.load_der_x509_csr(csr_der)
    except ValueError as exc:
        raise InputError(f"{what}: not a PKCS#10 certificate request ({exc}).") from None
    spki = csr.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = key_id_for_spki(spki)
    refuse_key_of_other_environment(ctx, key_id, what)
    return key_id


def refuse_key_of_other_environment(ctx: AppContext, key_id: str, what: str) -> None:
    """EnvironmentMismatch when `key_id` is held (as a key or a CSR) by the other
    environment's database and not by this one's."""
    if repo.holds_key_here(ctx.db.conn(), key_id):
        return
    them = other(ctx.env)
    if repo.holds_key(EnvPaths.for_env(ctx.paths.root, them).db_path, key_id):
        raise EnvironmentMismatch(
            f"{what} is for key {key_id[:16]}, which is held by the {them.label} environment "
            f"and not by this one: it belongs to the {them.label} environment; this is the "
            f"{ctx.env.label} environment. {them.label} artifacts are never used in "
            f"{ctx.env.label}.")


def refuse_key_the_other_environment_made(ctx: AppContext, key_id: str, what: str) -> None:
    """EnvironmentMismatch when the other environment's database holds `key_id` (a key or a
    CSR) or its audit log records making it, whatever this one holds: for a key found on a
    token both environments may use (a ceremony resuming after an interruption)."""
    them = other(ctx.env)
    path = EnvPaths.for_env(ctx.paths.root, them).db_path
    if repo.holds_key(path, key_id) or repo.made_key(path, key_id):
        raise EnvironmentMismatch(
            f"{what} ({key_id[:16]}) was made or is held by the {them.label} environment: it "
            f"belongs to the {them.label} environment; this is the {ctx.env.label} "
            f"environment. A {them.label} key is never used in {ctx.env.label}.")


def refuse_foreign_device_csr(ctx: AppContext, csr_der: bytes, what: str) -> None:
    """EnvironmentMismatch when the other environment packaged or submitted this Device CSR
    (its database holds the key as a Device CSR, this one's does not), as a batch's
    validation rejects it."""
    try:
        csr = x509.load_der_x509_csr(csr_der)
    except ValueError as exc:
        raise InputError(f"{what}: not a PKCS#10 certificate request ({exc}).") from None
    key_id = key_id_for_spki(csr.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    if foreign_device_keys(ctx, {key_id}):
        them = other(ctx.env)
        raise EnvironmentMismatch(
            f"{what}: this CSR's key was packaged or submitted in the {them.label} "
            f"environment: it belongs to the {them.label} environment; this is the "
            f"{ctx.env.label} environment. {them.label} device CSRs are never used in "
            f"{ctx.env.label}.")


def foreign_device_keys(ctx: AppContext, key_ids: set[str]) -> set[str]:
    """Of these device CSR keys, those the other environment's database holds as Device CSRs
    and this one's does not: Device CSRs of the other environment (a batch unzipped, or
    re-packed without its zip comment, or read from a CSV)."""
    mine = repo.device_keys_here(ctx.db.conn(), key_ids)
    them = EnvPaths.for_env(ctx.paths.root, other(ctx.env)).db_path
    return repo.device_keys(them, key_ids - mine)


def require_party(ctx: AppContext, what: str) -> PartyProfile | None:
    """In Live, refuse to make anything without a Party profile whose type the profile knows.
    In Test a missing profile is allowed (training, the simulator's demonstrations and the
    DCC's fixture tests make CSRs without one); a profile, when set, still applies."""
    party = ctx.party()
    if ctx.env is not Environment.LIVE:
        return party
    if party is None:
        raise Refusal(
            f"{what}: the Live environment makes nothing without a Party profile "
            "(organisation, Party ID, Party type, EUI-64 range): set it first.",
            hint="party.set")
    prof = _profile(ctx.paths, ctx.env)
    try:
        prof.party_type(party.party_type.value)
    except InputError:
        raise Refusal(f"{what}: the Live profile has no rules for Party type "
                      f"{party.party_type.label}; nothing is made for it.") from None
    return party


def roles_offered(ctx: AppContext) -> list[RemotePartyRole]:
    """The roles to offer for an Organisation CSR: those the Party's type may hold. In Live
    with no Party profile: none. In Test with none: every role of the profile."""
    party = ctx.party()
    prof = _profile(ctx.paths, ctx.env)
    if party is None:
        return [] if ctx.env is Environment.LIVE else prof.allowed_roles(None)
    try:
        return sorted(prof.party_type(party.party_type.value).roles, key=lambda r: r.value)
    except InputError:
        return [] if ctx.env is Environment.LIVE else prof.allowed_roles(None)
