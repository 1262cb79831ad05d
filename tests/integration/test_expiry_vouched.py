"""The expiry watch cannot be silenced by editing the database (threat of services/audit.py:
the data folder is writable, the OS keyring is not usable). A certificate's notAfter comes from
its DER, vouched for by its import record; it is left out as rejected only on a vouched
`cert.reject`; the window is the last vouched `settings.expiry-window` record's. What the log
does not vouch for is listed with a problem line, never dropped."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import cert_rejection, expiry
from smki_desktop.services import certificates as certs
from smki_desktop.services.context import open_context
from tests.integration.test_cert_import import PKI, _issue, load_key_and_csr
from tests.support.raw_store import drop_audit_guards, open_raw

POLICY = "1.2.826.0.1.8641679.1.2.1.4"
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SOON = dt.datetime(2035, 11, 1, tzinfo=dt.UTC)  # the issued certificate ends 2035-12-30


def _imported(ctx) -> certs.ImportResult:  # type: ignore[no-untyped-def]
    pem, root = _issue(ctx, KeyUsage.SIGNING, POLICY, chained=True)
    certs.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    r = certs.import_certificate(ctx, pem, at=AT)
    assert r.status == certs.ACCEPTED and r.cert_id is not None
    ctx.clock = FixedClock(SOON)
    return r


def _serials(rep: expiry.ExpiryReport) -> list[str]:
    return [e.item.serial for e in (*rep.expiring, *rep.expired)]


def _edit(ctx, sql: str, *args: object) -> None:  # type: ignore[no-untyped-def]
    conn = ctx.db.conn()
    conn.execute(sql, args)
    conn.commit()


def test_imported_certificate_is_listed_without_problems(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    rep = expiry.expiry_report(ctx)
    assert _serials(rep) == [f"{r.fields.serial:X}"]
    assert rep.window_days == 90 and rep.problems == ()
    assert rep.expiring[0].not_after == dt.datetime(2035, 12, 30, tzinfo=dt.UTC)
    assert rep.as_dict()["problems"] == []


def test_not_after_column_edit_does_not_move_the_date(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    for value in ("2099-01-01T00:00:00+00:00", None):
        _edit(ctx, "UPDATE certificates SET not_after=? WHERE cert_id=?", value, r.cert_id)
        rep = expiry.expiry_report(ctx)
        assert _serials(rep) == [f"{r.fields.serial:X}"], value
        assert rep.expiring[0].not_after.year == 2035 and rep.expiring[0].days_left == 59
        assert rep.problems == ()  # the DER is the imported one: nothing to report


def test_status_edit_without_reject_record_keeps_the_warning(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    for status in ("rejected", "to-be-rejected", "unmatched"):
        _edit(ctx, "UPDATE certificates SET status=? WHERE cert_id=?", status, r.cert_id)
        assert _serials(expiry.expiry_report(ctx)) == [f"{r.fields.serial:X}"], status


def test_window_setting_without_its_record_is_not_used(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    _edit(ctx, "INSERT INTO settings(name, value) VALUES('expiry.window_days', '1')")
    rep = expiry.expiry_report(ctx)
    assert rep.window_days == 90 and _serials(rep) == [f"{r.fields.serial:X}"]
    assert expiry.window_days(ctx) == 90
    assert len(rep.problems) == 1
    assert "stored expiry window (1 day) has no audit record" in rep.problems[0]
    assert "90 days" in rep.problems[0]


def test_window_set_through_the_app_is_kept_and_an_edit_is_not(ctx, data_root) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    expiry.set_window_days(ctx, 30)
    rep = expiry.expiry_report(ctx)
    assert rep.window_days == 30 and rep.problems == () and _serials(rep) == []
    expiry.set_window_days(ctx, 60)
    assert _serials(expiry.expiry_report(ctx)) == [f"{r.fields.serial:X}"]
    entry = expiry.set_window_days(ctx, 30)
    _edit(ctx, "UPDATE settings SET value='400' WHERE name='expiry.window_days'")
    rep = expiry.expiry_report(ctx)
    assert rep.window_days == 30 and _serials(rep) == []  # the edit widens nothing either
    assert "differs from the one last set" in rep.problems[0]
    # the last record itself altered (its trigger dropped first, as the attacker can): not
    # vouched, so the default and the reason (read by a process that starts after the edit)
    raw = open_raw(data_root)  # the SQLite file, or the team store the folder is linked to
    drop_audit_guards(raw)
    raw.execute("UPDATE audit_log SET details='{\"days\": 1}' WHERE seq=("
                "SELECT MAX(seq) FROM audit_log WHERE action='settings.expiry-window')")
    raw.commit()
    raw.close()
    later = open_context(Environment.TEST, data_root)
    try:
        later.clock = FixedClock(SOON)
        rep = expiry.expiry_report(later)
        assert rep.window_days == 90 and _serials(rep) == [f"{r.fields.serial:X}"]
        assert f"audit record {entry.seq}" in rep.problems[0]
        assert "cannot be proven" in rep.problems[0]
        # a window asked for explicitly is used as given
        assert expiry.expiry_report(later, 10).window_days == 10
    finally:
        later.close()


def test_swapped_der_is_listed_with_a_problem(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    assert r.audit is not None
    old = x509.load_der_x509_certificate(certs.find_certificate(ctx, f"{r.fields.serial:X}").der)
    k = ec.generate_private_key(ec.SECP256R1())
    later = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer)
             .public_key(old.public_key()).serial_number(old.serial_number)
             .not_valid_before(old.not_valid_before_utc)
             .not_valid_after(dt.datetime(2099, 1, 1, tzinfo=dt.UTC)).sign(k, hashes.SHA256()))
    _edit(ctx, "UPDATE certificates SET der=?, status='rejected' WHERE cert_id=?",
          later.public_bytes(serialization.Encoding.DER), r.cert_id)
    rep = expiry.expiry_report(ctx)
    assert rep.problems == (f"The stored certificate {r.fields.serial:X} differs from the one "
                            f"imported (audit record {r.audit.seq}): it is listed here whatever "
                            "its status.",)


def test_certificate_with_no_record_is_listed_with_a_problem(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    # a copy of the row under another serial, written straight into the table: no record
    _edit(ctx, "INSERT INTO certificates(environment,issuer,issuer_key,serial,family,key_id,"
          "status,reasons,warnings,checked_at,der,imported) SELECT environment,'CN=Other',"
          "'other','ABC',family,key_id,'rejected',reasons,warnings,checked_at,der,imported "
          "FROM certificates WHERE cert_id=?", r.cert_id)
    rep = expiry.expiry_report(ctx)
    assert sorted(_serials(rep)) == sorted([f"{r.fields.serial:X}", "ABC"])
    assert len(rep.problems) == 1
    assert rep.problems[0].startswith("The stored certificate ABC has no audit record for it")


def test_deleted_certificate_is_reported(ctx) -> None:  # type: ignore[no-untyped-def]
    r = _imported(ctx)
    assert r.audit is not None
    _edit(ctx, "DELETE FROM certificates WHERE cert_id=?", r.cert_id)
    rep = expiry.expiry_report(ctx)
    assert _serials(rep) == []
    assert rep.problems == (f"The certificate {r.fields.serial:X} imported (audit record "
                            f"{r.audit.seq}) is no longer in the store: its expiry cannot be "
                            "watched.",)


def test_to_be_rejected_then_rejected_through_the_app_is_left_out(ctx) -> None:  # type: ignore[no-untyped-def]
    pem = PKI / "organisation" / "90b3d51f30010000-ds.pem"  # valid to 2025-10-29
    load_key_and_csr(ctx, pem, eui="90-B3-D5-1F-30-0F-FF-FF")
    r = certs.import_certificate(ctx, pem.read_bytes(), at=dt.datetime(2024, 6, 1,
                                                                        tzinfo=dt.UTC))
    assert r.status == certs.TO_BE_REJECTED
    ctx.clock = FixedClock(dt.datetime(2025, 10, 1, tzinfo=dt.UTC))
    rep = expiry.expiry_report(ctx)
    assert _serials(rep) == [] and rep.problems == ()  # its vouched status leaves it out
    # the column moved to accepted: still out (the record's status counts, not the column)
    _edit(ctx, "UPDATE certificates SET status='accepted' WHERE cert_id=?", r.cert_id)
    assert _serials(expiry.expiry_report(ctx)) == []
    _edit(ctx, "UPDATE certificates SET status='to-be-rejected' WHERE cert_id=?", r.cert_id)
    cert_rejection.reject(ctx, f"{r.fields.serial:X}", "EUI is not ours")
    rep = expiry.expiry_report(ctx)
    assert _serials(rep) == [] and rep.problems == ()


def test_rechecked_certificate_is_vouched_for(live_ctx) -> None:  # type: ignore[no-untyped-def]
    pem, root = _issue(live_ctx, KeyUsage.SIGNING, "1.2.826.0.1.99999.1", chained=True)
    first = certs.import_certificate(live_ctx, pem, at=AT)
    assert first.status == certs.UNVERIFIED
    certs.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    again = certs.import_certificate(live_ctx, pem, at=AT)
    assert again.audit is not None and again.audit.action == "cert.recheck"
    live_ctx.clock = FixedClock(SOON)
    rep = expiry.expiry_report(live_ctx)
    assert _serials(rep) == [f"{first.fields.serial:X}"] and rep.problems == ()


def test_cli_lists_the_problems(cli_run, ctx) -> None:  # type: ignore[no-untyped-def]
    _edit(ctx, "INSERT INTO settings(name, value) VALUES('expiry.window_days', '1')")
    res = cli_run("expiry")
    assert res.code == 0, res.err
    assert "Expiring within 90 days" in res.out
    assert "Not vouched for by the audit log:" in res.out
    assert "stored expiry window (1 day) has no audit record" in res.out
