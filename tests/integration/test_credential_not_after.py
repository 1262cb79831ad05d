"""A portal or file-signing credential's validity is the credential certificate's own, never the
`not_after` column beside it: someone who can write the store but not sign (the threat of
services/audit.py) must not extend an expired or expiring credential with an SQL UPDATE, so that
it is offered as valid, or silence its expiry warning. Nor shorten it, so that the key behind a
live credential can be deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.services import key_lifecycle
from smki_desktop.services.credential_store import find_credential, list_credentials
from smki_desktop.services.credentials import record_credential
from smki_desktop.services.expiry import expiry_report
from tests.support.raw_store import open_raw

FAR = "2099-01-01T00:00:00+00:00"


def _credential(ctx, days: int, now: datetime):  # type: ignore[no-untyped-def]
    root_key, root = make_root(ctx.env, now)
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "ARO file signing")
    cert = issue(root_key, root, info.public_key_der, ctx.env, now, days=days)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    return info, cert


def _set_not_after(data_root, value: str) -> None:  # type: ignore[no-untyped-def]
    raw = open_raw(data_root)
    raw.execute("UPDATE portal_credentials SET not_after=?", (value,))
    raw.commit()
    raw.close()


def test_an_expired_credential_edited_in_the_store_stays_expired(ctx, data_root) -> None:  # type: ignore[no-untyped-def]
    now = ctx.clock.now()
    info, cert = _credential(ctx, 1, now - timedelta(days=30))  # expired 29 days ago
    assert find_credential(ctx, "file-signing") is None
    _set_not_after(data_root, FAR)
    assert find_credential(ctx, "file-signing") is None
    (listed,) = list_credentials(ctx, "file-signing")
    assert listed.not_after == cert.not_valid_after_utc and not listed.valid_at(now)
    report = expiry_report(ctx)
    assert [e.item.key_id for e in report.expired] == [info.key_id]
    assert report.expired[0].not_after == cert.not_valid_after_utc


def test_an_expiring_credential_edited_in_the_store_still_warns(ctx, data_root) -> None:  # type: ignore[no-untyped-def]
    now = ctx.clock.now()
    info, cert = _credential(ctx, 10, now)
    _set_not_after(data_root, FAR)
    report = expiry_report(ctx)
    assert [e.item.key_id for e in report.expiring] == [info.key_id]
    assert report.expiring[0].not_after == cert.not_valid_after_utc
    assert report.expiring[0].days_left in (9, 10)


def test_a_shortened_credential_still_keeps_its_key(ctx, data_root) -> None:  # type: ignore[no-untyped-def]
    """The key behind a credential that is still valid is not deleted, whatever the column."""
    now = ctx.clock.now()
    info, _cert = _credential(ctx, 300, now)
    _set_not_after(data_root, (now - timedelta(days=1)).astimezone(UTC).isoformat())
    assert find_credential(ctx, "file-signing") is not None
    live = key_lifecycle.key_object(ctx, info.key_id).live
    assert [c.kind for c in live] == ["credential"]
