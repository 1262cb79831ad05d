"""A forged certificate imported first must not block the genuine one (issuer + serial are the
certificate's identity): a certificate that verifies under a trust anchor supersedes a recorded
one with its issuer and serial that does not; the superseded record is kept, marked, and
audited; the reverse (a forged one after the genuine one) stays refused."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.crypto.certs import name_text
from smki_desktop.services import certificates as certs
from smki_desktop.services import devices
from smki_desktop.services.expiry import expiry_report
from tests.integration import test_cert_import_devices as device_import
from tests.integration.test_cert_import import _issue, _resigned

pytestmark = pytest.mark.both_backends  # SQLite and a PostgreSQL team store
device_batch = device_import.device_batch  # the fixture: a packaged test device, its CA

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
TEST_POLICY = "1.2.826.0.1.8641679.1.2.1.4"


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _superseded(ctx):  # type: ignore[no-untyped-def]
    from smki_desktop.services import cert_supersede  # (not on main: the reproduction runs there)

    return cert_supersede.superseded_certificates(ctx)


def _statuses(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.status for c in certs.list_certificates(ctx)]


def test_genuine_certificate_supersedes_a_forged_one_imported_first(ctx) -> None:  # type: ignore[no-untyped-def]
    """The file handed to the officer first is a forgery (the genuine issuer and serial,
    another key's signature): to be rejected. The genuine one, from the DCC, then verifies
    under the anchor: it is accepted, and the forged record is kept as superseded."""
    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    forged = _resigned(pem)
    first = certs.import_certificate(ctx, forged, at=AT)
    assert first.status == certs.TO_BE_REJECTED and "may be forged" in first.message

    genuine = certs.import_certificate(ctx, pem, at=AT)

    assert genuine.status == certs.ACCEPTED, genuine.message
    assert genuine.cert_id != first.cert_id and not genuine.duplicate
    assert genuine.superseded is not None and genuine.superseded.cert_id == first.cert_id
    text = genuine.message
    assert "supersedes" in text and f"record {first.cert_id}" in text
    assert "does not verify under this environment's trust anchors" in text
    # the store holds the genuine one under the issuer and serial ...
    listed = certs.list_certificates(ctx)
    assert [(c.cert_id, c.status) for c in listed] == [(genuine.cert_id, certs.ACCEPTED)]
    assert listed[0].der == _der(pem)
    # ... and the forged record, kept, marked superseded, naming what replaced it
    kept = _superseded(ctx)
    assert len(kept) == 1
    old = kept[0]
    assert (old.cert_id, old.der, old.status) == (first.cert_id, _der(forged),
                                                  certs.TO_BE_REJECTED)
    assert old.superseded_by == genuine.cert_id and old.superseded_at
    assert "does not verify" in old.reason
    # both steps audited: the supersession (the forged DER its artifact) then the import
    sup, imp = ctx.audit.entries(2)[1], ctx.audit.entries(2)[0]
    assert sup.action == "cert.supersede" and imp.action == "cert.import"
    assert sup.details["cert_id"] == first.cert_id
    assert sup.details["superseded_by"] == genuine.cert_id
    assert sup.details["status"] == "superseded"
    assert imp.details["supersedes"] == first.cert_id
    # the same genuine bytes again: a no-op
    again = certs.import_certificate(ctx, pem, at=AT)
    assert again.duplicate and again.cert_id == genuine.cert_id
    # the forgery again: refused now (the recorded one verifies, it does not)
    with pytest.raises(Refusal, match="it may be forged"):
        certs.import_certificate(ctx, forged, at=AT)


def test_forged_one_accepted_in_test_without_anchor_is_superseded_once_anchor_added(ctx) -> None:  # type: ignore[no-untyped-def]
    """In Test with no anchor a forgery is accepted with a warning (nothing to check it
    with); once the officer adds the DCC's anchor, the genuine certificate supersedes it, and
    the expiry watch follows the genuine one, without a line about the one that left."""
    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    forged = _resigned(pem)
    first = certs.import_certificate(ctx, forged, at=AT)
    assert first.status == certs.ACCEPTED
    # no anchor: neither can be checked, so the second is refused as before
    with pytest.raises(Refusal, match="it may be forged") as err:
        certs.import_certificate(ctx, pem, at=AT)
    assert "verifies under a trust anchor" in str(err.value)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    genuine = certs.import_certificate(ctx, pem, at=AT)
    assert genuine.status == certs.ACCEPTED and genuine.superseded is not None
    assert _statuses(ctx) == [certs.ACCEPTED]
    report = expiry_report(ctx, days=3650)
    assert [e.item.cert_id for e in report.expiring] == [genuine.cert_id]
    assert report.problems == ()


def test_live_unverified_forgery_is_superseded(live_ctx) -> None:  # type: ignore[no-untyped-def]
    pem, root = _issue(live_ctx, KeyUsage.SIGNING, "1.2.826.0.1.99999.1", chained=True)
    first = certs.import_certificate(live_ctx, _resigned(pem), at=AT)
    assert first.status == certs.UNVERIFIED
    certs.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    genuine = certs.import_certificate(live_ctx, pem, at=AT)
    assert genuine.status == certs.ACCEPTED and genuine.superseded is not None
    assert [r.cert_id for r in _superseded(live_ctx)] == \
        [first.cert_id]


def test_a_forgery_never_supersedes_the_genuine_one(ctx) -> None:  # type: ignore[no-untyped-def]
    """The reverse: the genuine one first; a forgery after it is refused and audited, the
    recorded one untouched, nothing superseded."""
    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    first = certs.import_certificate(ctx, pem, at=AT)
    with pytest.raises(Refusal, match="it may be forged"):
        certs.import_certificate(ctx, _resigned(pem), at=AT)
    assert ctx.audit.entries(1)[0].action == "cert.import-refused"
    assert [(c.cert_id, c.status) for c in certs.list_certificates(ctx)] == \
        [(first.cert_id, certs.ACCEPTED)]
    assert _superseded(ctx) == []


def test_revoked_status_of_the_superseded_record_carries_over(ctx) -> None:  # type: ignore[no-untyped-def]
    """A verified CRL lists issuer + serial: if it marked the recorded (forged) one revoked,
    the genuine certificate with that issuer and serial is revoked too."""
    from smki_desktop.store.repos.certificates import CertificateStatusRepo

    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    first = certs.import_certificate(ctx, _resigned(pem), at=AT)
    CertificateStatusRepo(ctx.db, ctx.env.value).mark_revoked([first.cert_id])  # as a CRL does
    genuine = certs.import_certificate(ctx, pem, at=AT)
    assert genuine.status == certs.REVOKED
    assert any("revoked" in w for w in genuine.warnings)
    assert _statuses(ctx) == [certs.REVOKED]


def test_superseded_certificates_listed_apart_with_their_audit_record(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    """`smki cert list --superseded` (and the service both faces call) names each superseded
    certificate: issuer, serial, subject, when, why, the record that replaced it and the
    number of its `cert.supersede` audit record; never among the live certificates (its own
    JSON key, status `superseded`). Empty: exit 0."""
    from smki_desktop.services import cert_supersede

    empty = cli_run("cert", "list", "--superseded", "--json")
    assert empty.code == 0, empty.err
    assert empty.json() == {"environment": "test", "superseded": []}
    none = cli_run("cert", "list", "--superseded")
    assert none.code == 0 and "No superseded certificates in the Test" in none.out

    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    forged = _resigned(pem)
    first = certs.import_certificate(ctx, forged, at=AT)
    genuine = certs.import_certificate(ctx, pem, at=AT)
    sup = ctx.audit.entries(action_prefix="cert.supersede")[0]

    (item,) = cert_supersede.list_superseded(ctx)
    assert (item.cert_id, item.superseded_by, item.audit_record) == \
        (first.cert_id, genuine.cert_id, sup.seq)
    assert item.status == "superseded" and item.previous_status == certs.TO_BE_REJECTED
    assert item.subject == name_text(x509.load_pem_x509_certificate(forged).subject) != ""
    assert len(item.sha256) == 64
    live = certs.list_certificates(ctx)[0]
    assert (item.serial, item.issuer) == (live.serial, live.issuer)

    r = cli_run("cert", "list", "--superseded", "--json")
    assert r.code == 0, r.err
    doc = r.json()
    assert set(doc) == {"environment", "superseded"}
    (row,) = doc["superseded"]
    assert row["cert_id"] == first.cert_id and row["serial"] == live.serial
    assert row["issuer"] == live.issuer and row["status"] == "superseded"
    assert row["previous_status"] == certs.TO_BE_REJECTED
    assert row["superseded_by"] == genuine.cert_id and row["audit_record"] == sup.seq
    assert row["superseded_at"] and "does not verify" in row["reason"]
    assert row["subject"] == item.subject and len(row["sha256"]) == 64
    assert set(certs.list_certificates(ctx)[0].to_json()) - {
        "family", "role", "eui", "cn", "device_eui", "usage", "warnings", "not_before",
        "not_after"} <= set(row)  # the live listing's keys it can carry, named alike
    text = cli_run("cert", "list", "--superseded")
    assert text.code == 0 and "NOT in use" in text.out
    assert f"audit record {sup.seq}" in text.out and live.serial in text.out
    # what replaced it in an officer's words, not the store's record number
    assert f"replaced by: {item.replaced_by_words()}" in text.out
    assert f"serial {live.serial}" in item.replaced_by_words()
    assert "replaced by record" not in text.out
    # the live listing is unchanged: the genuine one only
    listed = cli_run("cert", "list", "--json").json()["certificates"]
    assert [c["cert_id"] for c in listed] == [genuine.cert_id]
    bad = cli_run("cert", "list", "--superseded", "--status", "accepted")
    assert bad.code == 2 and "--status" in bad.err


def test_superseded_certificate_without_a_proven_record_says_so(ctx, data_root) -> None:  # type: ignore[no-untyped-def]
    """A superseded certificate whose `cert.supersede` record the log does not prove (here
    its details altered, as someone with write access to the store could) lists with no
    audit record number: the number shown is one the log vouches for."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services import cert_supersede
    from smki_desktop.services.context import open_context
    from tests.support.raw_store import drop_audit_guards, open_raw

    pem, root = _issue(ctx, KeyUsage.SIGNING, TEST_POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    first = certs.import_certificate(ctx, _resigned(pem), at=AT)
    genuine = certs.import_certificate(ctx, pem, at=AT)
    sup = ctx.audit.entries(action_prefix="cert.supersede")[0]
    raw = open_raw(data_root)
    drop_audit_guards(raw)
    raw.execute("UPDATE audit_log SET details=? WHERE seq=?",
                (f'{{"cert_id": {first.cert_id}, "superseded_by": {genuine.cert_id}, '
                 '"reason": "altered"}', sup.seq))
    raw.commit()
    raw.close()
    later = open_context(Environment.TEST, data_root)
    try:
        (item,) = cert_supersede.list_superseded(later)
        assert item.cert_id == first.cert_id and item.audit_record is None
    finally:
        later.close()


def test_device_row_refiled_after_a_supersession_points_to_the_genuine_certificate(  # type: ignore[no-untyped-def]
        ctx, device_batch) -> None:
    """A forged Device certificate imported first is filed on its Device CSR row (mismatch,
    the forgery's bytes); the genuine one then supersedes it and refiles the row: issued, the
    genuine certificate's bytes, serial and issuer, the forgery nowhere on it."""
    _issue_device, _row = device_import._issue, device_import._row
    h, ((ds_key, ds_csr), _ka) = device_batch
    genuine = _issue_device(h, ds_csr)
    pem = genuine.public_bytes(serialization.Encoding.PEM)
    forged = _resigned(pem)
    first = certs.import_certificate(ctx, forged)
    assert first.status == certs.TO_BE_REJECTED
    assert first.device_status == "mismatch"
    assert bytes(_row(ctx, ds_key)["certificate"]) == _der(forged)

    second = certs.import_certificate(ctx, pem)

    assert second.status == certs.ACCEPTED, second.message
    assert second.superseded is not None and second.superseded.cert_id == first.cert_id
    assert second.device_status == "issued"
    assert not any("already has certificate" in w for w in second.warnings)
    row = _row(ctx, ds_key)
    assert row["status"] == "issued"
    assert bytes(row["certificate"]) == _der(pem) != _der(forged)
    assert row["cert_serial"] == format(genuine.serial_number, "x")
    assert row["detail"] == devices.STATUS_WORDS["issued"]
    imp = ctx.audit.entries(action_prefix="cert.import")[0]
    assert imp.details["supersedes"] == first.cert_id
    assert imp.details["device_csr"]["filed_as"] == "issued"
