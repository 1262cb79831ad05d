"""Organisation key + CSR (issue 3), per CSR, each figure beside a baseline from the same run:

- in memory: P-256 keygen + our Organisation CSR (DER written directly, signed through the
  `Signer` port that tokens need) vs bare `cryptography` keygen + `CertificateSigningRequestBuilder`
  with the BIT STRING uniqueIdentifier (target: ratio <= 3); and the same plus our full profile
  lint of the result (which re-verifies the signature), shown against the same baseline;
- the whole user action through the service: new key stored in the OS keyring (real
  gnome-keyring on a private D-Bus session), CSR signed with the unwrapped key, recorded in
  SQLite and audited, vs one `openssl req -new -newkey ec` process per CSR (what a user scripts
  today, key left in clear on disk) and vs one keyring set+get pair (the floor the keyring
  sets). Target: < 0.5 s per CSR (an interactive action).

`python -m bench org_csr` (N = 2,000 in memory, 40 full) or `--quick` (500 / 10).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import Figure


def _crypto_baseline(n: int) -> float:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    eui = bytes.fromhex("90B3D51F30010000")
    t = time.perf_counter()
    for _ in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
            x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00" + eui,
                               _type=_ASN1Type.BitString),
        ])
        (x509.CertificateSigningRequestBuilder().subject_name(name)
         .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                      False), critical=True)
         .sign(key, hashes.SHA256()))
    return (time.perf_counter() - t) / n


def _ours_in_memory(n: int, lint: bool = True) -> float:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from smki_desktop.core.environment import Environment
    from smki_desktop.core.eui import Eui64
    from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage, key_id_for_spki
    from smki_desktop.core.roles import RemotePartyRole
    from smki_desktop.crypto.csr import build_org_csr
    from smki_desktop.crypto.lint import lint_der
    from smki_desktop.crypto.memory_signer import MemorySigner
    from smki_desktop.profile_data import load_profile

    profile = load_profile(Environment.TEST)
    eui = Eui64.parse("90B3D51F30010000")
    now = datetime.now(UTC)
    t = time.perf_counter()
    for _ in range(n):
        key = ec.generate_private_key(ec.SECP256R1())
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        info = KeyInfo(key_id_for_spki(spki), "b", KeyType.EC_P256, KeyUsage.SIGNING,
                       Environment.TEST, now, KeyLocation.OS_KEYRING, spki)
        der = build_org_csr(MemorySigner(key, info=info), RemotePartyRole.SUPPLIER, eui)
        if lint and not lint_der(der, profile).ok:
            raise RuntimeError("lint failed on our own CSR")
    return (time.perf_counter() - t) / n


def _openssl_per_csr(n: int, tmp: Path) -> float:
    cnf = tmp / "req.cnf"
    cnf.write_text("[req]\nprompt = no\ndistinguished_name = dn\nreq_extensions = ext\n"
                   "[dn]\nOU = 02\n[ext]\nkeyUsage = critical,digitalSignature\n")
    t = time.perf_counter()
    for i in range(n):
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp / f"{i}.key"),
                        "-out", str(tmp / f"{i}.csr"), "-config", str(cnf)], check=True,
                       capture_output=True)
    return (time.perf_counter() - t) / n


def _full_service(n: int, tmp: Path) -> tuple[float, float]:
    """(seconds per full CSR action, seconds per keyring set+get pair) on a real keyring."""
    import keyring
    import keyring.core

    from tests.support.secret_service import secret_service_env

    with secret_service_env(tmp / "kr"):
        from smki_desktop.core.environment import Environment
        from smki_desktop.core.eui import Eui64
        from smki_desktop.core.keys import KeyUsage
        from smki_desktop.core.roles import RemotePartyRole
        from smki_desktop.services.context import open_context
        from smki_desktop.services.csr import new_key_and_org_csr

        t = time.perf_counter()
        for i in range(n):
            keyring.set_password("smki-bench", f"k{i}", "x" * 64)
            keyring.get_password("smki-bench", f"k{i}")
        pair = (time.perf_counter() - t) / n
        ctx = open_context(Environment.TEST, tmp / "data")
        try:
            eui = Eui64.parse("90B3D51F30010000")
            new_key_and_org_csr(ctx, KeyUsage.SIGNING, RemotePartyRole.SUPPLIER, eui)  # warm
            t = time.perf_counter()
            for i in range(n):
                usage = KeyUsage.SIGNING if i % 2 else KeyUsage.KEY_AGREEMENT
                new_key_and_org_csr(ctx, usage, RemotePartyRole.SUPPLIER, eui)
            full = (time.perf_counter() - t) / n
        finally:
            ctx.close()
    return full, pair


def run(quick: bool = False) -> list[Figure]:
    n_mem, n_full = (500, 10) if quick else (2000, 40)
    base = _crypto_baseline(n_mem)
    build = _ours_in_memory(n_mem, lint=False)
    ours = _ours_in_memory(n_mem)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ossl = _openssl_per_csr(max(5, n_full // 2), tmp)
        full, pair = _full_service(n_full, tmp)
    return [
        Figure("in memory: keygen + Org CSR (Signer path), per CSR", build * 1000, "ms",
               base * 1000, "cryptography keygen + CSR builder", "ratio <= 3",
               build / base <= 3),
        Figure("in memory: the same + full profile lint (signature verified), per CSR",
               ours * 1000, "ms", base * 1000, "cryptography keygen + CSR builder"),
        Figure("full action: key in OS keyring + CSR + SQLite + audit, per CSR", full * 1000,
               "ms", ossl * 1000, "one `openssl req -new -newkey ec` process", "< 500 ms",
               full < 0.5),
        Figure("  the same against the keyring floor", full * 1000, "ms", pair * 1000,
               "one keyring set+get pair"),
    ]


if __name__ == "__main__":
    for f in run(quick=True):
        print(f.line())
