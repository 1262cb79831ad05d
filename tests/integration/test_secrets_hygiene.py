"""Secret hygiene: after whole workflows run as real `smki` processes (keys in the OS keyring
and on a PKCS#11 token with a PIN, an Organisation CSR, an ADT file signed, test devices made,
the audit verified), with TMPDIR pointed at a folder of the test's own, no private key
material, wrapping secret or PIN is found in the data folder (database, WAL, key files), the
temporary folder, the outputs, or anything the commands printed."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyLocation
from smki_desktop.services.context import open_context
from tests.integration.adt_support import make_aro
from tests.support.postgres import linked_store_contents
from tests.support.softhsm import MODULE, softhsm_token

PIN = "730519-PIN-8842"  # distinctive, so that a match is never chance
CLEAR_PEM = (b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN EC PRIVATE KEY-----",
             b"-----BEGIN RSA PRIVATE KEY-----", b"-----BEGIN OPENSSH PRIVATE KEY-----")


def _forms(secret: bytes) -> dict[str, bytes]:
    """The ways a secret could leak: raw, hex (both cases), Base64."""
    return {"raw": secret, "hex": secret.hex().encode(), "HEX": secret.hex().upper().encode(),
            "base64": base64.b64encode(secret).rstrip(b"=")}


def _scan(places: dict[str, bytes], secrets: dict[str, bytes]) -> list[tuple[str, str]]:
    found = [(name, where) for where, data in places.items()
             for name, secret in secrets.items() if secret in data]
    found += [(marker.decode(), where) for where, data in places.items()
              for marker in CLEAR_PEM if marker in data]
    return found


def _key_secrets(ctx, key_id: str) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    out: dict[str, bytes] = {}
    with ctx.keystore.signer(key_id) as s:
        priv = s.private_key
        if isinstance(priv, ec.EllipticCurvePrivateKey):
            scalar = priv.private_numbers().private_value.to_bytes(32, "big")
        else:
            assert isinstance(priv, rsa.RSAPrivateKey)
            scalar = priv.private_numbers().d.to_bytes(256, "big")
        pkcs8 = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    wrap = ctx.keystore.secrets.get(f"key:{key_id}").encode()
    for name, value in (("private scalar", scalar), ("clear PKCS#8", pkcs8),
                        ("wrapping secret", wrap)):
        for form, b in _forms(value).items():
            out[f"{key_id[:8]} {name} ({form})"] = b
    return out


@pytest.mark.slow
def test_no_secret_anywhere_after_full_workflows(data_root: Path, tmp_path: Path) -> None:
    tmpdir, out = tmp_path / "tmpdir", tmp_path / "out"
    tmpdir.mkdir()
    out.mkdir()
    printed: list[str] = []
    (tmp_path / "hsm").mkdir()
    with softhsm_token(tmp_path / "hsm", "hygiene", pin=PIN) as label:
        env = {**os.environ, "TMPDIR": str(tmpdir)}

        def smki(*args: str, stdin: str | None = None) -> str:
            r = subprocess.run([sys.executable, "-m", "smki_desktop.cli", "--data-dir",
                                str(data_root), *args], capture_output=True, text=True,
                               env=env, input=stdin, timeout=300)
            printed.extend([r.stdout, r.stderr])
            assert r.returncode == 0, (args, r.stderr)
            return r.stdout

        smki("party", "set", "--name", "Example Energy", "--party-id", "EXEN", "--party-type",
             "import-supplier", "--eui-range",
             "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
        smki("profile", "set", "--name", "Ada Aro", "--role", "aro", "--email", "ada@x.example")
        org = json.loads(smki("key", "generate", "--usage", "signing", "--label", "org",
                              "--json"))["key_id"]
        smki("csr", "org", "--key", org, "--role", "supplier", "--eui",
             "90-B3-D5-1F-30-01-00-00", "--out", str(out / "org.csr"))
        smki("key", "generate", "--usage", "client-auth", "--label", "ws", "--json")
        smki("token", "use", "--module", MODULE, "--token", label)
        tok = json.loads(smki("token", "keygen", "--usage", "signing", "--label", "tok",
                              "--json", stdin=PIN + "\n"))["key_id"]
        smki("csr", "org", "--key", tok, "--role", "supplier", "--eui",
             "90-B3-D5-1F-30-01-00-01", "--out", str(out / "tok.csr"), stdin=PIN + "\n")
        ctx = open_context(Environment.TEST, data_root)
        try:
            aro = make_aro(ctx, tmp_path / "pki")
            smki("adt", "template", "--out", str(out / "adt.csv"))
            smki("adt", "sign", str(out / "adt.csv"), "--key", aro.key.key_id, "--smsr",
                 "SMSR-1")
            smki("devices", "generate-test", "--count", "20", "--out", str(out / "dev"),
                 "--discard-keys")
            smki("audit", "verify")
            secrets: dict[str, bytes] = {"token PIN": PIN.encode()}
            keyring_keys = [k for k in ctx.keystore.list_keys()
                            if k.location is KeyLocation.OS_KEYRING]
            assert len(keyring_keys) >= 3
            for k in keyring_keys:
                secrets.update(_key_secrets(ctx, k.key_id))
        finally:
            ctx.close()

    places: dict[str, bytes] = {}
    for folder in (data_root, tmpdir, out):
        for p in folder.rglob("*"):
            if p.is_file():
                places[str(p)] = p.read_bytes()
    for i, text in enumerate(printed):
        places[f"printed output #{i}"] = text.encode()
    places.update(linked_store_contents(data_root))  # a team store is not a file in the folder
    assert any(p.endswith(".sqlite3") or p.startswith("team store") for p in places)
    assert any(".pem" in p for p in places)
    # the scan itself finds what it looks for (a canary that is not in the scanned places)
    canary = {"canary": b"x" + next(v for k, v in secrets.items() if "scalar (hex)" in k)
              + b"\n-----BEGIN PRIVATE KEY-----\n"}
    assert len(_scan(canary, secrets)) == 2
    found = _scan(places, secrets)
    assert found == [], found
    print(f"secret hygiene: {len(secrets)} secret forms of {len(keyring_keys)} keyring keys + "
          f"the PIN searched in {len(places)} files/outputs "
          f"({sum(len(d) for d in places.values()):,} bytes): 0 found")
