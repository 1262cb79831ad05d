"""Key delete believes the audit log, not edited rows (security review, f_delete_dbflip.sh and
f_token.sh): a credential row moved to another key let the key whose live credential still
exists be deleted; a token key's row edited to say "os-keyring" was "deleted" (a key.delete
recorded) while the private key stayed on the token. On SQLite and on a PostgreSQL store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage, key_id_for_spki
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.services.credential_store import record_credential
from smki_desktop.services.key_lifecycle import delete_key
from smki_desktop.services.keys import KeyRecord, generate_key
from smki_desktop.store.repos import keys as keys_repo
from tests.support.raw_store import raw_sql

BOTH = pytest.mark.both_backends


def _deletions(ctx) -> list[object]:  # type: ignore[no-untyped-def]
    return [e for e in ctx.audit.entries() if e.action == "key.delete"]


@BOTH
def test_a_credential_row_moved_off_the_key_does_not_let_it_be_deleted(ctx) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    root_key, root = make_root(ctx.env, now - timedelta(days=1))
    info = generate_key(ctx, KeyUsage.FILE_SIGNING, "ARO file signing").key
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, cn="Ada Aro", days=365)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    serial = f"{cert.serial_number:X}"
    with pytest.raises(Refusal):
        delete_key(ctx, info.key_id, "attempt 1")
    # someone who can write the store repoints the credential's row
    raw_sql(ctx.paths.root, "UPDATE portal_credentials SET key_id=? WHERE key_id=?",
            ("00" + info.key_id[2:], info.key_id), ctx.env.value)
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, info.key_id, "attempt 2")
    assert serial in caught.value.message and "live certificate" in caught.value.message
    assert ctx.keystore.get(info.key_id) and not _deletions(ctx)
    # its certificate swapped too (the row's notAfter unknowable): still counted in use
    raw_sql(ctx.paths.root, "UPDATE portal_credentials SET certificate=? WHERE serial=?",
            (b"\x30\x00", serial), ctx.env.value)
    with pytest.raises(Refusal):
        delete_key(ctx, info.key_id, "attempt 3")


def _token_key(ctx) -> KeyInfo:  # type: ignore[no-untyped-def]
    """A key row and its key.generate record as the token store writes them (the private key
    stays on the token; no keyring entry, no key file)."""
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(pub)
    info = KeyInfo(key_id=kid, label="token DS", key_type=KeyType.EC_P256,
                   usage=KeyUsage.SIGNING, environment=ctx.env, created=ctx.clock.now(),
                   location=KeyLocation.PKCS11, public_key_der=pub,
                   location_ref=f"smki|0001|{kid[:8]}")
    with KeyRecord(ctx)(info):
        keys_repo.add(ctx.db, info)
    return info


@BOTH
def test_a_token_key_row_edited_to_the_keyring_is_not_deleted(ctx) -> None:  # type: ignore[no-untyped-def]
    info = _token_key(ctx)
    raw_sql(ctx.paths.root, "UPDATE keys SET location=?, location_ref=? WHERE key_id=?",
            ("os-keyring", f"{info.key_id}.p8.pem", info.key_id), ctx.env.value)
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, info.key_id, "tidy up")
    said = caught.value.message
    assert "made in pkcs11" in said and "Nothing was deleted" in said, said
    assert keys_repo.exists(ctx.db, info.key_id) and not _deletions(ctx)


@BOTH
def test_a_keyring_row_without_record_or_keyring_entry_is_not_deleted(ctx) -> None:  # type: ignore[no-untyped-def]
    """A row put in the store (no record of making it) saying the key is in the keyring."""
    pub = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(pub)
    raw_sql(ctx.paths.root,
            "INSERT INTO keys(key_id, label, key_type, usage, environment, created, location, "
            "location_ref, public_key, flags) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (kid, "planted", "ec-p256", "signing", ctx.env.value, ctx.clock.now().isoformat(),
             "os-keyring", f"{kid}.p8.pem", pub, ""), ctx.env.value)
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, kid, "tidy up")
    assert "keyring holds no key for it" in caught.value.message
    assert not _deletions(ctx)


@BOTH
def test_a_recorded_keyring_key_still_deletes(ctx) -> None:  # type: ignore[no-untyped-def]
    info = generate_key(ctx, KeyUsage.SIGNING, "plain").key
    delete_key(ctx, info.key_id, "no longer needed")
    assert not keys_repo.exists(ctx.db, info.key_id) and len(_deletions(ctx)) == 1
