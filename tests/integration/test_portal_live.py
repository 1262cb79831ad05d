"""Live: Organisation CSRs have no web service; the outbox item carries the paste text for the
SMKI Portal's form and completes when the certificate the user picks up is imported. No
network is needed for that loop (and no endpoint is configured here)."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.services import portal
from smki_desktop.simulator import ca as CA
from tests.integration.portal_helpers import org_csr


def test_live_org_csr_goes_by_hand_and_completes_on_import(live_ctx, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.identity_helpers import sro_authorises

    der = org_csr(live_ctx, "90-B3-D5-1F-30-01-00-31")
    sro_authorises(live_ctx, cli_run, tmp_path, der)  # Live: an SRO authorises it first
    res = portal.submit_org_csr(live_ctx, der, source="org.csr")
    item = res.item
    assert item.state == "submitted" and item.server_status == "PASTE_IN_PORTAL"
    assert item.meta["channel"] == "browser-portal"
    assert item.meta["paste_text"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    assert "SMKI Portal" in item.next_action
    rep = portal.poll(live_ctx, force=True)  # no endpoint in Live: still fine, no network
    assert rep.completed == [] and portal.outbox(live_ctx).get(item.ref).state == "submitted"
    # the DCC issues; the user imports what they picked up (issue 3's acceptance check)
    h = CA.Hierarchy.generate(datetime.now(UTC), label="Q")
    live_policy = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.1")  # not the Test marker
    cert = CA.issue_organisation(h.org_ca, x509.load_der_x509_csr(der), datetime.now(UTC),
                                 live_policy)
    from smki_desktop.services.certificates import import_certificate

    import_certificate(live_ctx, cert.public_bytes(serialization.Encoding.PEM))
    rep = portal.poll(live_ctx, force=True)
    assert [i.ref for i in rep.completed] == [item.ref]
    done = portal.outbox(live_ctx).get(item.ref)
    assert done.state == "done" and done.meta["certificate"]["imported"] is True
    st = cli_run("portal", "status", item.ref, "--json", env="live").json()["requests"][0]
    assert st["state"] == "done"
