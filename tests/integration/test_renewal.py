"""Renewal refuses what is not one of our accepted Organisation Certificates: a certificate of a
key that is not ours (unmatched), one that failed the acceptance check (to be rejected,
rejected), and a revoked one (pointed to compromise recovery) - no key, CSR, renewal link or
audit record is made. Our accepted one is renewed.

Real parts: the Test context (SQLite on disk, the keyring), an Organisation CSR made by the CSR
service, a little CA made with `cryptography` (tests/integration/test_cert_import.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.cli.hints import cli_hint
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.hints import gui_hint
from smki_desktop.services import cert_rejection, renewal
from smki_desktop.services import certificates as certs
from smki_desktop.services import keys as key_service
from smki_desktop.services.context import AppContext
from tests.integration.test_cert_import import _issue, _resigned

POLICY = "1.2.826.0.1.8641679.1.2.1.4"
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _ours(ctx: AppContext) -> certs.ImportResult:
    pem, root = _issue(ctx, KeyUsage.SIGNING, POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    return certs.import_certificate(ctx, pem, at=AT)


def _counts(ctx: AppContext) -> tuple[int, int, int, int]:
    c = ctx.db.conn()
    return (len(key_service.list_keys(ctx)),
            c.execute("SELECT COUNT(*) FROM csr_requests").fetchone()[0],
            c.execute("SELECT COUNT(*) FROM renewals").fetchone()[0],
            len(ctx.audit.entries(action_prefix="cert.renew")))


def _refused(ctx: AppContext, serial: str) -> Refusal:
    before = _counts(ctx)
    with pytest.raises(Refusal) as err:
        renewal.plan(ctx, serial)
    with pytest.raises(Refusal):
        renewal.renew(ctx, serial)
    assert _counts(ctx) == before  # nothing made
    return err.value


def test_our_accepted_certificate_is_renewed(ctx: AppContext) -> None:
    r = _ours(ctx)
    assert r.status == certs.ACCEPTED, r.message
    done = renewal.renew(ctx, f"{r.fields.serial:X}")
    assert done.audit.action == "cert.renew" and done.csr.csr_id


def test_a_certificate_that_is_not_ours_is_not_renewed(ctx: AppContext) -> None:
    pem, _root = _issue(ctx, KeyUsage.SIGNING, POLICY, chained=True)
    c = x509.load_pem_x509_certificate(pem)
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    b = (x509.CertificateBuilder().subject_name(c.subject).issuer_name(c.issuer)
         .public_key(stranger).serial_number(0x63).not_valid_before(c.not_valid_before_utc)
         .not_valid_after(c.not_valid_after_utc))
    for ext in c.extensions:
        if not isinstance(ext.value, x509.SubjectKeyIdentifier):
            b = b.add_extension(ext.value, ext.critical)
    other = b.sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    r = certs.import_certificate(ctx, other.public_bytes(serialization.Encoding.PEM), at=AT)
    assert r.status == certs.UNMATCHED
    err = _refused(ctx, "63")
    assert str(err) == ("Certificate 63 is unmatched (no key or CSR here has its public key: it "
                        "is not ours): only our accepted Organisation Certificates are renewed.")


def test_a_certificate_that_failed_the_check_is_not_renewed(ctx: AppContext) -> None:
    pem, root = _issue(ctx, KeyUsage.SIGNING, POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    r = certs.import_certificate(ctx, _resigned(pem), at=AT)  # not signed by the anchor
    assert r.status == certs.TO_BE_REJECTED, r.message
    serial = f"{r.fields.serial:X}"
    err = _refused(ctx, serial)
    assert "is to-be-rejected (it failed the acceptance check)" in str(err)
    assert "only our accepted Organisation Certificates are renewed" in str(err)
    cert_rejection.reject(ctx, serial, "the role is wrong")
    assert certs.find_certificate(ctx, serial).status == cert_rejection.REJECTED
    assert "is rejected (it failed the acceptance check)" in str(_refused(ctx, serial))


def test_a_revoked_certificate_is_pointed_to_compromise_recovery(ctx: AppContext) -> None:
    r = _ours(ctx)
    serial = f"{r.fields.serial:X}"
    ctx.db.conn().execute("UPDATE certificates SET status='revoked' WHERE cert_id=?",
                          (r.cert_id,))  # as a verified CRL listing it leaves it
    ctx.db.conn().commit()
    err = _refused(ctx, serial)
    assert f"Certificate {serial} is revoked: it is not renewed" in str(err)
    assert "compromise recovery" in str(err) and "re-key" in str(err)
    assert err.hint == "incident.rekey"
    assert "incident rekey" in cli_hint(err.hint) and "Incidents" in gui_hint(err.hint)
