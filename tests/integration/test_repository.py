"""Repository service against the simulator: search by subject EUI + role, by device EUI, by
serial; revocation shows as status R and in a newer CRL; missing API key and unverifiable CRL
give clear messages."""

from __future__ import annotations

import time

import pytest
from cryptography import x509

from smki_desktop.core.errors import InputError, NotFound
from smki_desktop.services import portal, portal_endpoint, repository, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, org_csr


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


def _issue_org(ctx, eui: str) -> x509.Certificate:  # type: ignore[no-untyped-def]
    ref = portal.submit_org_csr(ctx, org_csr(ctx, eui)).item.ref
    time.sleep(0.3)
    portal.poll(ctx, force=True)
    return x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")


def test_search_revoke_and_crl_number(ctx, sim, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = _issue_org(ctx, "90-B3-D5-1F-30-01-00-51")
    b = _issue_org(ctx, "90-B3-D5-1F-30-01-00-52")
    by_serial = repository.search(ctx, serial=f"{a.serial_number:X}").entries
    assert len(by_serial) == 1 and by_serial[0].subject_eui == "90B3D51F30010051"
    assert by_serial[0].role == "02" and by_serial[0].usage == "DS"
    assert repository.search(ctx, subject_eui="90B3D51F30010052",
                             role="networkOperator").entries == []
    first = repository.fetch_crl(ctx)
    assert first.revoked_serials == []
    from tests.integration.identity_helpers import make_team, revoke_with_dual_control

    team = make_team(ctx, cli_run, tmp_path, sim)
    revoke_with_dual_control(ctx, cli_run, team, f"{b.serial_number:X}", "superseded")
    hit = repository.search(ctx, subject_eui="90b3d51f30010052").entries
    assert [h.status for h in hit] == ["R"]
    second = repository.fetch_crl(ctx)
    assert second.revoked_serials == [b.serial_number]
    crl = x509.load_der_x509_crl(second.der)
    n1 = x509.load_der_x509_crl(first.der).extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > n1


def test_device_search_and_input_errors(ctx, sim) -> None:
    item = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB1234567E0000))
    portal.send_pending(ctx)
    time.sleep(0.8)
    portal.poll(ctx, force=True)
    assert portal.outbox(ctx).get(item.ref).state == "done"
    got = repository.search(ctx, device_eui="00-DB-12-34-56-7E-00-01").entries
    assert len(got) == 1 and got[0].device_eui == "00DB1234567E0001"
    with pytest.raises(InputError, match="subject EUI") as err:
        repository.search(ctx)
    assert err.value.hint == "field.repository-search"
    with pytest.raises(InputError, match="hexadecimal"):
        repository.search(ctx, serial="xyz")
    # two criteria: refused naming both, not one of them silently dropped
    with pytest.raises(InputError, match="^Subject EUI and Device EUI: ") as err:
        repository.search(ctx, subject_eui="90-B3-D5-1F-30-01-00-00",
                          device_eui="00-DB-12-34-56-7E-00-01")
    assert err.value.hint == "field.repository-search"
    with pytest.raises(InputError, match="^Device EUI and Serial: "):
        repository.search(ctx, device_eui="00-DB-12-34-56-7E-00-01", serial="01")
    # a role narrows a subject EUI search only: with a device EUI it was silently ignored
    with pytest.raises(InputError, match="^Role: .*given with a device EUI") as err:
        repository.search(ctx, role="02", device_eui="00-DB-12-34-56-7E-00-01")
    assert err.value.hint == "field.repository-search"
    with pytest.raises(InputError, match="^Role: .*given with nothing else"):
        repository.search(ctx, role="02")


def test_missing_api_key_and_unverifiable_crl(ctx, sim, monkeypatch) -> None:
    ctx.keystore.secrets.delete(portal.API_KEY_SECRET)
    with pytest.raises(NotFound, match="API key"):
        repository.search(ctx, subject_eui="90B3D51F30010000")
    enrolled(ctx)  # a new enrolment brings a new key
    # without the simulator's CAs among the Test anchors, the CRL cannot be verified
    ctx.db.conn().execute("DELETE FROM trust_anchors")
    monkeypatch.setattr(portal_endpoint, "_trust_simulator", lambda ctx, d: None)
    with pytest.raises(NotFound, match="does not verify against any trust anchor"):
        repository.fetch_crl(ctx)


def test_expired_certificates_show_as_expired(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    cert = _issue_org(ctx, "90-B3-D5-1F-30-01-00-53")
    assert [e.status for e in repository.search(ctx, subject_eui="90B3D51F30010053").entries] \
        == ["I"]
    years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days // 365 + 2
    simulator_control.control(sim, "/_control/config", {"clock_offset": years * 366 * 86400})
    try:  # the simulator's clock is past the certificate's notAfter: status E, as the DCC has
        got = repository.search(ctx, serial=f"{cert.serial_number:X}").entries
        assert [(e.status, e.serial) for e in got] == [("E", f"{cert.serial_number:032X}")]
    finally:
        simulator_control.control(sim, "/_control/config", {"clock_offset": 0})


def test_the_simulator_request_log_never_holds_the_api_key(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.portal_helpers import submissions

    key = ctx.keystore.secrets.get_optional(portal.API_KEY_SECRET)
    assert key
    assert repository.search(ctx, device_eui="00-DB-12-34-56-7F-00-09").entries == []
    targets = [r["target"] for r in submissions(sim)["requests"]
               if r["target"].startswith("/services/")]
    assert targets and all("apikey=***" in t for t in targets)
    assert not any(key in t for t in targets)
