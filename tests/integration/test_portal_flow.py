"""The app's services against the simulator as a separate process, over HTTPS with mutual TLS:
credential enrolment, Organisation CSR -> certificate imported and accepted, Device batch ->
results matched to CSRs, ad hoc Device CSR, repository search by EUI, revocation and a CRL whose
signature verifies."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.portal_ports import Throttled
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import portal, repository, simulator_control
from smki_desktop.services.credentials import find_credential
from tests.integration.portal_helpers import (
    device_csrs,
    enrolled,
    org_csr,
    seed_devices,
    submissions,
)


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


def test_credential_is_rsa_2048_issued_by_simulator_and_found(ctx, sim) -> None:
    cred = find_credential(ctx, "web-service")
    assert cred is not None
    pub = cred.certificate.public_key()
    assert pub.key_size == 2048  # type: ignore[union-attr]
    subj = {a.oid.dotted_string: a.value for a in cred.certificate.subject}
    assert subj == {"2.5.4.10": "Acme Energy Ltd", "2.5.4.11": "02", "2.5.4.3": "acme-smki-1"}
    ku = cred.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert ctx.keystore.secrets.get_optional(portal.API_KEY_SECRET)


def test_org_csr_to_accepted_certificate(ctx, sim) -> None:
    der = org_csr(ctx)
    result = portal.submit_org_csr(ctx, der, source="test")
    item = portal.outbox(ctx).get(result.item.ref)
    assert item.state == "submitted" and item.server_id
    import time

    time.sleep(0.5)  # simulator's accelerated clock: one 0.2 s stage to issue
    report = portal.poll(ctx, force=True)
    assert [i.ref for i in report.completed] == [item.ref]
    done = portal.outbox(ctx).get(item.ref)
    assert done.state == "done" and done.result
    cert = x509.load_der_x509_certificate(done.result)
    assert cert.subject.public_bytes() == x509.load_der_x509_csr(der).subject.public_bytes()
    assert report.imported[0]["imported"] is True
    assert report.imported[0]["status"] == "accepted", report.imported
    serial_len = len(cert.serial_number.to_bytes((cert.serial_number.bit_length() + 8) // 8,
                                                 "big"))
    assert serial_len == 16
    pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    assert pol.critical


def test_device_batch_submitted_polled_and_matched(ctx, sim) -> None:
    csrs = device_csrs(6)
    bad = ("dBROKEN", b"\x30\x03\x02\x01\x00")
    item = portal.enqueue_device_batch(ctx, [*csrs, bad])
    sent = portal.send_pending(ctx)
    assert sent[0].state == "submitted" and sent[0].server_id
    import time

    time.sleep(0.8)
    report = portal.poll(ctx, force=True)
    assert [i.ref for i in report.completed] == [item.ref]
    results = {r.item_id: r for r in portal.batch_results(ctx, item.ref)}
    assert results["dBROKEN"].status == "CSR_ERROR" and results["dBROKEN"].error_code
    for cid, der in csrs:
        r = results[cid]
        assert r.status == "SUCCESS" and r.certificate_der
        cert = x509.load_der_x509_certificate(r.certificate_der)
        csr = x509.load_der_x509_csr(der)
        assert cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
            csr.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        assert cert.not_valid_after_utc.year == 9999


def test_second_batch_poll_within_the_hour_is_throttled(ctx, sim) -> None:
    from smki_desktop.core.ports import FixedClock

    clock = FixedClock(ctx.clock.now())
    ctx.clock = clock
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456780000))
    portal.send_pending(ctx)
    # the DCC's rules (open_portal scales polls to a simulator's batch speed instead)
    from smki_desktop.portal.ws_client import WsPortal

    p = WsPortal(portal.endpoint(ctx).endpoint, portal.client_tls(ctx),
                 scheduler=portal.scheduler(ctx))
    try:
        p.poll_batch(portal.outbox(ctx).get(item.ref).server_id or "")
        clock.advance(minutes=30)
        with pytest.raises(Throttled) as exc:
            p.poll_batch(portal.outbox(ctx).get(item.ref).server_id or "")
        assert exc.value.retry_at == clock.now() + timedelta(minutes=30)
        # through the service: deferred with the typed reason, next action at the allowed time
        report = portal.poll(ctx, p, force=True)
    finally:
        p.close()
    assert report.deferred and "one poll an hour" in report.deferred[0][1]
    assert portal.outbox(ctx).get(item.ref).next_action_at == clock.now() + timedelta(minutes=30)


def test_adhoc_device_csr_and_repository_search_and_crl(ctx, sim, tmp_path: Path,
                                                        cli_run) -> None:  # type: ignore[no-untyped-def]
    (_cid, der), = device_csrs(1, 0x00DB123456770000)
    # AppM 2.4.1.3 a): ad hoc only for a device that already has a certificate
    first = portal.enqueue_adhoc(ctx, der)
    assert portal.send_pending(ctx)[0].state == "failed"
    assert "UNKNOWN_DEVICE UD:NoCert" in (portal.outbox(ctx).get(first.ref).last_error or "")
    seed_devices(sim, [0x00DB123456770000])
    item = portal.enqueue_adhoc(ctx, der)
    real = ctx.clock
    ctx.clock = FixedClock(real.now() + timedelta(seconds=5))  # past the next ad hoc slot
    try:
        out = portal.send_pending(ctx)
    finally:
        ctx.clock = real
    assert out[0].state == "done", out[0].last_error
    res = portal.batch_results(ctx, item.ref)
    assert res[0].status == "SUCCESS"
    found = repository.search(ctx, device_eui="00-DB-12-34-56-77-00-00")
    assert len(found.entries) == 2 and {e.status for e in found.entries} == {"I"}
    # Organisation certificate: issue, find by subject EUI + role, revoke, CRL lists it
    der_org = org_csr(ctx, "90-B3-D5-1F-30-01-00-05")
    ref = portal.submit_org_csr(ctx, der_org).item.ref
    import time

    time.sleep(0.5)
    portal.poll(ctx, force=True)
    cert = x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")
    hits = repository.search(ctx, subject_eui="90B3D51F30010005", role="supplier").entries
    assert [h.serial for h in hits] == [f"{cert.serial_number:032X}"]
    assert repository.search(ctx, subject_eui="90B3D51F30010005", role="03").entries == []
    # revocation goes through dual control (an ARO's request, an SRO's approval)
    from tests.integration.identity_helpers import make_team, revoke_with_dual_control

    team = make_team(ctx, cli_run, tmp_path, sim)
    revoke_with_dual_control(ctx, cli_run, team, f"{cert.serial_number:X}")
    crl = repository.fetch_crl(ctx)
    assert crl.verified and cert.serial_number in crl.revoked_serials
    # independent check with openssl: the CRL verifies against the simulator's Org CA
    crl_path = tmp_path / "org.crl"
    crl_path.write_bytes(crl.der)
    chain = (sim.state_dir / "ca-chain.pem")
    r = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(crl_path), "-noout",
                        "-CAfile", str(chain)], capture_output=True, text=True)
    assert r.returncode == 0 and "verify OK" in (r.stdout + r.stderr)
    assert submissions(sim)["submissions"]


def test_browser_portal_batch_upload_uses_the_shared_zip_and_report_formats(ctx, sim) -> None:
    from smki_desktop.core import batch_formats as bf

    csrs = device_csrs(4, 0x00DB123456760000)
    zipped = bf.build_batch_zip([(f"{cid}.csr", der) for cid, der in csrs]
                                + [("broken.csr", b"\x30\x03\x02\x01\x00")])
    p = portal.open_portal(ctx)
    try:
        rid = p.upload_batch_zip("upload-ref-1", zipped)
        assert p.upload_batch_zip("upload-ref-1", zipped) == rid  # idempotent re-upload
        report_bytes, response_zip = p.fetch_batch_response(rid)
    finally:
        p.close()
    report = bf.parse_report(report_bytes)
    assert report.request_id == rid
    by_file = {ln.file_name: ln for ln in report.lines}
    assert by_file["broken.csr"].status is bf.ReportStatus.ERROR
    assert all(by_file[f"{cid}.csr"].status is bf.ReportStatus.SUCCESS for cid, _ in csrs)
    certs = {m.stem: m.der for m in bf.read_response_zip(response_zip).members}
    assert sorted(certs) == sorted(cid for cid, _ in csrs)
    uploads = [s for s in submissions(sim)["submissions"] if s["kind"] == "upload"]
    assert [s["outcome"] for s in uploads] == ["new", "replay"]


def test_adt_package_upload_for_issue_6(ctx, sim, live_ctx) -> None:
    # the emulated channel verifies packages (a signed one is accepted in
    # test_simulator_adt_verify.py and test_adt_simulator.py); bytes that are no package are
    # rejected with the DCC-style code
    from smki_desktop.core.errors import Refusal
    from smki_desktop.core.portal_ports import Rejected

    with pytest.raises(Rejected, match="AD:Verify"):
        portal.upload_adt_package(ctx, "adt-2026.zip", b"PK\x03\x04 not a signed package")

    with pytest.raises(Refusal, match="SharePoint"):
        portal.upload_adt_package(live_ctx, "adt.zip", b"x")


def test_typed_errors_rejected_and_authentication(ctx, sim) -> None:
    from smki_desktop.core.portal_ports import AuthenticationFailed
    from smki_desktop.portal.ws_client import WsRepository

    p = portal.open_portal(ctx)
    try:  # AppM Appendix D: an unknown BatchId is a final FORMAT_ERROR FM:AA3
        state = p.poll_batch("999999")
        assert (state.status, state.error_code, state.error_text, state.final) == (
            "FORMAT_ERROR", "FM:AA3", "Unknown BatchId", True)
    finally:
        p.close()
    repo = WsRepository(portal.endpoint(ctx).endpoint, "wrong-key-123", retries=0)
    try:
        with pytest.raises(AuthenticationFailed, match="HTTP 403") as err:
            repo.search(subject_eui="90B3D51F30010000")
        assert "wrong-key-123" not in err.value.message
    finally:
        repo.close()


def test_adhoc_rate_follows_time_of_day_against_the_simulator(ctx, sim) -> None:
    from datetime import UTC, datetime

    from smki_desktop.core.ports import FixedClock

    clock = FixedClock(datetime(2027, 1, 14, 12, 0, tzinfo=UTC))  # noon in London (GMT)
    ctx.clock = clock
    p = portal.open_portal(ctx)
    csrs = device_csrs(4, 0x00DB1234567B0000)
    seed_devices(sim, [0x00DB1234567B0000 + i for i in range(4)])
    try:
        assert p.submit_device_csr("adhoc-1", csrs[0][1]).status == "SUCCESS"
        clock.advance(seconds=0.5)
        with pytest.raises(Throttled) as exc:
            p.submit_device_csr("adhoc-2", csrs[1][1])
        assert exc.value.retry_at == datetime(2027, 1, 14, 12, 0, 0, 800000, tzinfo=UTC)
        clock.advance(seconds=0.3)
        assert p.submit_device_csr("adhoc-2", csrs[1][1]).status == "SUCCESS"
        clock.at = datetime(2027, 1, 14, 21, 0, tzinfo=UTC)  # 21:00 London: 1 per 4 s
        assert p.submit_device_csr("adhoc-3", csrs[2][1]).status == "SUCCESS"
        clock.advance(seconds=3)
        with pytest.raises(Throttled, match="1 per 4 s"):
            p.submit_device_csr("adhoc-4", csrs[3][1])
        clock.advance(seconds=1)
        assert p.submit_device_csr("adhoc-4", csrs[3][1]).status == "SUCCESS"
    finally:
        p.close()


def test_adhoc_is_for_suppliers_only(ctx, sim) -> None:
    from smki_desktop.core.portal_ports import Rejected
    from smki_desktop.services import credentials

    credentials.request_credential(ctx, "web-service", organisation="Grid Ops Ltd", role="03",
                                   system_name="grid-1")
    p = portal.open_portal(ctx)
    try:
        with pytest.raises(Rejected) as exc:
            p.submit_device_csr("adhoc-no", device_csrs(1, 0x00DB1234567C0000)[0][1])
        assert exc.value.dcc_code == "AH:Role"
    finally:
        p.close()


def test_simulator_started_once_when_asked_twice_at_once(ctx, sim) -> None:
    import threading

    simulator_control.stop(ctx)
    got: list[simulator_control.SimulatorInfo] = []
    threads = [threading.Thread(target=lambda: got.append(simulator_control.start(ctx)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i.pid for i in got}) == 1
    assert sum(1 for i in got if i.started) == 1


def test_dcc_batch_waiting_outside_the_window_is_deferred_to_it(ctx, sim) -> None:
    """With a configured (DCC-like) endpoint, polling a QUEUED batch at noon London time is
    deferred with a typed OutsideWindow result to 20:00 London time."""
    from datetime import UTC, datetime

    from smki_desktop.core.portal_ports import OutsideWindow
    from smki_desktop.core.ports import FixedClock

    portal.set_endpoint(ctx, sim.portal_url, sim.repository_url, sim.trust_anchor_pem)
    clock = FixedClock(datetime(2027, 7, 14, 11, 0, tzinfo=UTC))  # 12:00 BST
    ctx.clock = clock
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB1234567D0000))
    sent = portal.send_pending(ctx)[0]
    assert sent.state == "submitted" and sent.server_status == "PENDING"
    assert sent.next_action_at == datetime(2027, 7, 14, 20, 0, tzinfo=UTC)  # 19:00 UTC + 1 h
    report = portal.poll(ctx, force=True)
    assert report.polled == [] and len(report.deferred) == 1
    why = report.deferred[0][1]
    assert "20:00-08:00 Europe/London" in why
    assert portal.outbox(ctx).get(item.ref).next_action_at == \
        datetime(2027, 7, 14, 19, 0, tzinfo=UTC)
    with pytest.raises(OutsideWindow):
        portal._require_processing_window(ctx, portal.outbox(ctx).get(item.ref))
    clock.at = datetime(2027, 7, 14, 19, 30, tzinfo=UTC)  # 20:30 BST: inside the window
    portal._require_processing_window(ctx, portal.outbox(ctx).get(item.ref))
