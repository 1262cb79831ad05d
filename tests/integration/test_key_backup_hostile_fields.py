"""Key backup files with hostile fields (attack review F6): a nonce cut short, certificates that
are not certificates, an unknown usage, a public key that is not one each ended in a traceback
("a defect of SMKI Desktop"); labels reading as a ceremony key's ('Ceremony …', or with a
Cyrillic 'с') passed the ceremony-label rule. Each is now an input error naming the field, or
the ceremony-label refusal, and nothing is restored."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.keys import KeyType, KeyUsage, key_id_for_spki
from smki_desktop.services import key_backup

PASS = "correct horse battery staple"


def _sealed(path: Path, plaintext: bytes | None = None, **over: object) -> Path:
    """A backup someone else made and sealed as this application does (they know the
    passphrase), with header fields of their choice: authenticated, yet hostile."""
    k = ec.generate_private_key(ec.SECP256R1())
    spki = k.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(spki)
    salt = os.urandom(16)
    header = {"format": key_backup.KEY_FORMAT, "environment": "test", "key_id": kid,
              "fingerprint": f"SHA-256:{kid}", "label": "someone's key", "usage": "signing",
              "key_type": "ec-p256",
              "public_key_pem": k.public_key().public_bytes(
                  serialization.Encoding.PEM,
                  serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
              "certificates": [],
              "protection": {"kind": "passphrase", "kdf": "scrypt", "n": 2 ** 14, "r": 8,
                             "p": 1, "salt": base64.b64encode(salt).decode()}}
    header.update(over)
    der = plaintext if plaintext is not None else k.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    path.write_bytes(key_backup._seal(header, key_backup._scrypt(PASS, salt, 2 ** 14, 8, 1),
                                      der))
    return path


def _own_edited(ctx, tmp_path: Path, **fields: object) -> Path:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "victim")
    own = tmp_path / "own.smkikey"
    key_backup.backup_with_passphrase(ctx, info.key_id, own, PASS)
    doc = json.loads(own.read_bytes())
    doc.update(fields)
    out = tmp_path / "edited.smkikey"
    out.write_text(json.dumps(doc))
    return out


@pytest.mark.parametrize(("fields", "named"), [
    ({"nonce": base64.b64encode(b"abcd").decode()}, "field nonce"),
    ({"nonce": 5}, "field nonce"),
    ({"ciphertext": "%%%"}, "field ciphertext"),
    ({"certificates": [5]}, "field certificates[0]"),
    ({"certificates": "x"}, "field certificates"),
    ({"key_id": "../../etc"}, "field key_id"),
    ({"usage": ["signing"]}, "field usage"),
])
def test_a_damaged_own_backup_names_the_field(ctx, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              fields: dict[str, object], named: str) -> None:
    bad = _own_edited(ctx, tmp_path, **fields)
    r = cli_run("key", "restore", str(bad), stdin=PASS + "\n")
    assert r.code == 2, r.err
    assert "Traceback" not in r.err and "defect" not in r.err
    assert named in r.err and "edited.smkikey" in r.err


@pytest.mark.parametrize(("over", "named"), [
    ({"certificates": ["not a cert"]}, "field certificates[0] is not a PEM certificate"),
    ({"usage": "bogus"}, "field usage 'bogus' is not a key usage"),
    ({"public_key_pem": "junk"}, "field public_key_pem is not a PEM public key"),
])
def test_a_well_sealed_backup_with_hostile_fields_is_an_input_error(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path, over: dict[str, object], named: str) -> None:
    bad = _sealed(tmp_path / "theirs.smkikey", **over)
    r = cli_run("key", "restore", str(bad), stdin=PASS + "\n")
    assert r.code == 2, r.err
    assert "Traceback" not in r.err and named in r.err


def test_a_sealed_content_that_is_no_key_is_an_input_error(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = _sealed(tmp_path / "theirs.smkikey", plaintext=b"not a private key")
    r = cli_run("key", "restore", str(bad), stdin=PASS + "\n")
    assert r.code == 2 and "Traceback" not in r.err
    assert "not a private key" in r.err


@pytest.mark.parametrize("label", [
    "\u0441eremony test small-one xml",  # a Cyrillic es
    "Ceremony test small-one xml",
    "CEREMONY test small-one xml",
    "\uff43eremony test small-one xml",  # a full-width c
    " ceremony\u00a0test small-one xml",
    "c\u0435r\u0435m\u043eny test small-one xml",  # Cyrillic e, e, o
])
def test_a_label_that_reads_as_a_ceremony_keys_is_refused(ctx, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          label: str) -> None:
    bad = _sealed(tmp_path / "theirs.smkikey", label=label)
    r = cli_run("--json", "key", "restore", str(bad), stdin=PASS + "\n")
    assert r.code == 1, r.out + r.err
    assert "is a ceremony key's label" in r.err and "Nothing was restored" in r.err
    keys = cli_run("--json", "key", "list").json()
    assert not any(k.get("label") == label for k in
                   (keys if isinstance(keys, list) else keys.get("keys", [])))


def test_a_label_that_reads_as_the_other_environments_ceremony_names_both(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    bad = _sealed(tmp_path / "theirs.smkikey", label="\u0421eremony Live x y")
    r = cli_run("key", "restore", str(bad), stdin=PASS + "\n")
    assert r.code != 0 and "Live" in r.err and "Test" in r.err


def test_an_ordinary_label_is_restored(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = _sealed(tmp_path / "theirs.smkikey", label="ceremonial archive key")
    r = cli_run("key", "restore", str(ok), stdin=PASS + "\n")
    assert r.code == 0, r.err
