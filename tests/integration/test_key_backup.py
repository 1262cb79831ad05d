"""Key backup and restore (issue 14): passphrase file and SLIP-39 shares, through the CLI,
with the real keyring; restores on fresh data folders and across environments."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.support.secret_service import secret_service_env

PASS = "correct horse battery staple"


def _new_key(cli_run, root: Path | None = None, env: str = "test") -> str:  # type: ignore[no-untyped-def]
    res = cli_run("--json", "key", "generate", "--usage", "signing", "--label", "to back up",
                  env=env, root=root)
    assert res.code == 0, res.err
    return str(res.json()["key_id"])


def _fresh(tmp_path: Path, name: str) -> Path:
    p = tmp_path / name
    p.mkdir()
    return p


def test_passphrase_backup_restores_on_fresh_folder_and_not_in_live(cli_run,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    key_id = _new_key(cli_run)
    out = tmp_path / "k.smkikey"
    res = cli_run("key", "backup", key_id[:12], "--out", str(out), stdin=f"{PASS}\n{PASS}\n")
    assert res.code == 0, res.err
    doc = json.loads(out.read_text())
    assert doc["environment"] == "test" and doc["fingerprint"] == f"SHA-256:{key_id}"
    assert "PRIVATE" not in out.read_text()
    # never overwritten
    again = cli_run("key", "backup", key_id[:12], "--out", str(out), stdin=f"{PASS}\n{PASS}\n")
    assert again.code == 1 and "already exists" in again.err

    fresh = _fresh(tmp_path, "fresh")
    # the same user's keyring holds the key: a second folder may not take over its entry
    same = cli_run("key", "restore", str(out), stdin=f"{PASS}\n", root=fresh)
    assert same.code == 1 and "another data folder" in same.err
    with secret_service_env(tmp_path / "other-machine"):  # a fresh keyring: another machine
        _restore_elsewhere(cli_run, out, fresh, key_id)


def _restore_elsewhere(cli_run, out: Path, fresh: Path, key_id: str) -> None:  # type: ignore[no-untyped-def]
    bad = cli_run("key", "restore", str(out), stdin="not the passphrase\n", root=fresh)
    assert bad.code == 1 and "wrong passphrase" in bad.err
    live = cli_run("key", "restore", str(out), stdin=f"{PASS}\n", root=fresh, env="live")
    assert live.code == 1
    assert "Test environment" in live.err and "Live environment" in live.err
    ok = cli_run("--json", "key", "restore", str(out), stdin=f"{PASS}\n", root=fresh)
    assert ok.code == 0, ok.err
    assert ok.json()["key_id"] == key_id
    # the restored key signs: its CSR verifies with openssl-independent lint in the store
    shown = cli_run("--json", "key", "show", key_id[:12], root=fresh)
    assert shown.json()["location"] == "os-keyring"
    audit = cli_run("--json", "audit", "list", root=fresh)
    assert "key.restore" in audit.out
    twice = cli_run("key", "restore", str(out), stdin=f"{PASS}\n", root=fresh)
    assert twice.code == 1 and "already in this environment" in twice.err


def test_shares_three_of_five(cli_run, tmp_path: Path) -> None:
    key_id = _new_key(cli_run)
    out = tmp_path / "shares"
    res = cli_run("--json", "key", "backup", key_id[:12], "--shares", "3-of-5", "--out",
                  str(out))
    assert res.code == 0, res.err
    assert "must now be separated" in res.err
    shares = sorted(out.glob("share-*-of-5.txt"))
    key_file = next(out.glob("*.smkikey"))
    assert len(shares) == 5
    # any 3 restore (each on a fresh data folder with a fresh keyring: another machine)
    for n, combo in enumerate(itertools.combinations(shares, 3)):
        root = _fresh(tmp_path, f"r{n}")
        with secret_service_env(tmp_path / f"kr{n}"):
            ok = cli_run("--json", "key", "restore", "--shares", *map(str, combo),
                         str(key_file), root=root)
        assert ok.code == 0, (combo, ok.err)
        assert ok.json()["key_id"] == key_id
    # 2 do not
    root = _fresh(tmp_path, "two")
    two = cli_run("key", "restore", "--shares", str(shares[0]), str(shares[3]), root=root)
    assert two.code == 1 and "3 are needed" in two.err
    # a wrong share is detected: one word changed
    text = shares[1].read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("mnemonic:"))
    words = line.split()[1:]
    words[5] = "academic" if words[5] != "academic" else "acid"
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(text.replace(line, "mnemonic: " + " ".join(words)))
    bad = cli_run("key", "restore", "--shares", str(shares[0]), str(wrong), str(shares[2]),
                  root=root)
    assert bad.code == 1 and "wrong" in bad.err
    # a share of another backup of the same key is detected too
    other = tmp_path / "other"
    assert cli_run("key", "backup", key_id[:12], "--shares", "3-of-5", "--out",
                   str(other)).code == 0
    mixed = cli_run("key", "restore", "--shares", str(shares[0]), str(shares[1]),
                    str(next(other.glob("share-3-*"))), str(key_file), root=root)
    assert mixed.code == 1 and "belong to different backups" in mixed.err
    live = cli_run("key", "restore", "--shares", *map(str, shares[:3]), root=root, env="live")
    assert live.code == 1 and "Live environment" in live.err and "Test environment" in live.err


def test_token_keys_have_no_backup(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.errors import Refusal
    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
    from smki_desktop.services import key_backup
    from tests.support.softhsm import MODULE, FixedPin, softhsm_token

    with softhsm_token(tmp_path, "bk") as label:
        store = Pkcs11KeyStore(ctx.env, MODULE, label, ctx.db, ctx.clock, FixedPin())
        info = store.generate(KeyType.EC_P256, KeyUsage.SIGNING, "token key")
        with pytest.raises(Refusal, match="non-exportable"):
            key_backup.backup_with_passphrase(ctx, info.key_id, tmp_path / "x.smkikey", PASS)
    assert key_backup.backup_status(ctx) == {}


def test_backup_carries_and_restore_checks_the_certificates(ctx, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            data_root: Path) -> None:
    from tests.integration.adt_support import make_aro

    aro = make_aro(ctx, tmp_path / "pki")  # a file-signing key with its DCC credential
    out = tmp_path / "aro.smkikey"
    res = cli_run("key", "backup", aro.key.key_id[:12], "--out", str(out),
                  stdin=f"{PASS}\n{PASS}\n")
    assert res.code == 0, res.err
    doc = json.loads(out.read_text())
    assert len(doc["certificates"]) == 1 and "BEGIN CERTIFICATE" in doc["certificates"][0]
    # the certificate list is authenticated: swapping it breaks the backup
    forged = dict(doc, certificates=[])
    bad = tmp_path / "forged.smkikey"
    bad.write_text(json.dumps(forged))
    fresh = _fresh(tmp_path, "fresh")
    with secret_service_env(tmp_path / "machine-2"):
        r = cli_run("key", "restore", str(bad), stdin=f"{PASS}\n", root=fresh)
        assert r.code == 1 and "changed" in r.err
        ok = cli_run("--json", "key", "restore", str(out), stdin=f"{PASS}\n", root=fresh)
        assert ok.code == 0, ok.err
        assert ok.json()["certificates_checked"] == 1
        assert ok.json()["usage"] == "file-signing"
    status = cli_run("--json", "audit", "list").out
    assert "key.backup" in status
