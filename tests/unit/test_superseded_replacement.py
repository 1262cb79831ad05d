"""What replaced a superseded certificate, in an officer's terms: the replacing certificate's
role and serial (and subject), or "no replacement recorded" - never only the internal record
number it had ("replaced by record 2" meant nothing to an officer). `smki cert list
--superseded --json` keeps every key it had and adds `replaced_by`."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.keys import KeyUsage
from smki_desktop.services import cert_supersede
from smki_desktop.services import certificates as certs
from tests.integration.test_cert_import import _issue, _resigned

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TEST_POLICY = "1.2.826.0.1.8641679.1.2.1.4"


def test_replacement_words_name_role_serial_and_subject() -> None:
    rep = cert_supersede.Replacement(5, "4F07", "OU=02,CN=X", "02", "accepted")
    assert rep.short() == "supplier (02), serial 4F07"
    assert rep.words() == "supplier (02), serial 4F07, subject OU=02,CN=X"
    odd = cert_supersede.Replacement(6, "4F08", "CN=Y", "ZZ", "superseded")
    assert odd.short() == "ZZ, serial 4F08, now superseded"
    none = cert_supersede.Replacement(7, "4F09", "", None, "accepted")
    assert none.words() == "serial 4F09"


@pytest.mark.both_backends
def test_superseded_listing_names_the_replacement_and_keeps_its_json_keys(  # type: ignore[no-untyped-def]
        ctx, cli_run) -> None:
    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    certs.import_certificate(ctx, _resigned(pem), at=AT)
    genuine = certs.import_certificate(ctx, pem, at=AT)
    live = certs.list_certificates(ctx)[0]

    (item,) = cert_supersede.list_superseded(ctx)
    assert item.replaced_by is not None and item.replaced_by.cert_id == genuine.cert_id
    assert item.replaced_by_words().startswith(f"supplier (02), serial {live.serial}, subject ")
    assert "record" not in item.replaced_by_words()

    r = cli_run("cert", "list", "--superseded", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert set(doc) == {"environment", "superseded"}
    (row,) = doc["superseded"]
    # the contract's keys stay, named and valued as before; `replaced_by` is added
    assert {"cert_id", "serial", "issuer", "subject", "key_id", "status", "previous_status",
            "reasons", "superseded_by", "superseded_at", "audit_record", "reason",
            "sha256"} <= set(row)
    assert row["superseded_by"] == genuine.cert_id
    assert row["replaced_by"] == {"cert_id": genuine.cert_id, "serial": live.serial,
                                  "subject": item.replaced_by.subject, "role": "02",
                                  "status": certs.ACCEPTED}


def test_a_replacement_no_longer_held_is_said_so() -> None:
    item = cert_supersede.SupersededCertificate(
        cert_id=1, serial="0A1B", issuer="CN=X", subject="CN=Y", key_id="",
        previous_status="to-be-rejected", reasons=[], superseded_by=3,
        superseded_at="2026-12-07T05:00:00", audit_record=8, reason="did not verify",
        sha256="ab" * 32)
    assert item.replaced_by_words() == "no replacement recorded"
    assert item.to_json()["replaced_by"] is None
