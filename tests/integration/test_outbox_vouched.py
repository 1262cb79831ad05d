"""A request in the portal outbox is sent only when a record of the audit log the workstation can
prove queued it, as it is now: someone who can write the store (a team store's database password,
a workstation's data folder) but not sign a record cannot have this workstation send a request of
theirs to the DCC under its mutual-TLS credential. A forged row of each kind, and a legitimately
queued row whose payload was swapped, is refused before any connection (the simulator sees
nothing), marked failed naming the cause, with a record of the refusal; what SMKI Desktop queued
is still sent; a Live Organisation CSR (browser portal) never goes over the web service; requests
queued on a workstation keep going after it moves into a team store. The real service against
the simulator process, on SQLite and on a PostgreSQL team store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from smki_desktop.core import ws_xml as W
from smki_desktop.services import outbox_vouched, portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, org_csr, submissions
from tests.support.postgres import PostgresServer, team_after_move


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


def _attackers_csr() -> bytes:
    """An Organisation-shaped CSR for a key only the attacker holds."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Evil")])
    return (x509.CertificateSigningRequestBuilder().subject_name(subject)
            .sign(key, hashes.SHA256()).public_bytes(Encoding.DER))


def _forged_payload(kind: str, ref: str) -> bytes:
    if kind == "org-csr":
        return _attackers_csr()
    if kind == "device-adhoc":
        return device_csrs(1, 0x00DB1234567E0000)[0][1]
    if kind == "device-batch":
        return W.SubmitCSRBatch(ref, tuple(device_csrs(2, 0x00DB1234567E1000))).build()
    return b"0123456789ABCDEF"  # a revocation: the serial


def _insert(ctx: Any, ref: str, kind: str, payload: bytes) -> None:
    """What the attacker does: one row put in the store by SQL, no audit record."""
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO portal_outbox(ref, environment, kind, payload, meta, state, "
                  "attempts, created, updated) VALUES (?,?,?,?,'{}','queued',0,"
                  "'2026-01-01T00:00:00+00:00','2026-01-01T00:00:00+00:00')",
                  (ref, ctx.env.value, kind, payload))


def _seen_by_dcc(info: simulator_control.SimulatorInfo, ref: str) -> list[dict[str, Any]]:
    return [s for s in submissions(info)["submissions"] if s["client_ref"] == ref]


def _refusals(ctx: Any, ref: str) -> list[dict[str, Any]]:
    return [e.details for e in ctx.audit.entries(action_prefix="portal.refuse_send")
            if e.details.get("ref") == ref]


@pytest.mark.both_backends
@pytest.mark.parametrize("kind", ["org-csr", "device-adhoc", "device-batch", "revocation"])
def test_a_forged_row_is_not_sent(ctx, sim, kind: str) -> None:  # type: ignore[no-untyped-def]
    ref = {"org-csr": "O", "device-adhoc": "A", "device-batch": "B",
           "revocation": "R"}[kind] + "EVIL" + "0" * 26
    _insert(ctx, ref, kind, _forged_payload(kind, ref))
    out = portal.send_pending(ctx)
    item = portal.outbox(ctx).get(ref)
    assert [i.ref for i in out] == [ref] and item.state == "failed"
    assert "not queued through SMKI Desktop: no audit record vouches for it" in (
        item.last_error or "")
    assert _seen_by_dcc(sim, ref) == []
    assert len(_refusals(ctx, ref)) == 1
    assert portal.send_pending(ctx, force=True) == []  # refused for good, not retried


@pytest.mark.both_backends
def test_a_swapped_payload_is_not_sent(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    queued = portal.submit_org_csr(ctx, org_csr(ctx), source="test", send_now=False).item
    assert queued.state == "queued"
    with ctx.db.transaction() as c:  # the attacker's CSR in place of the one queued
        c.execute("UPDATE portal_outbox SET payload=? WHERE ref=?", (_attackers_csr(),
                                                                      queued.ref))
    portal.send_pending(ctx)
    item = portal.outbox(ctx).get(queued.ref)
    assert item.state == "failed" and "changed after it was queued" in (item.last_error or "")
    assert _seen_by_dcc(sim, queued.ref) == [] and len(_refusals(ctx, queued.ref)) == 1


@pytest.mark.both_backends
def test_a_swapped_batch_is_not_sent(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    queued = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB1234567E2000))
    swapped = W.SubmitCSRBatch(queued.ref, tuple(device_csrs(3, 0x00DB1234567E3000))).build()
    with ctx.db.transaction() as c:
        c.execute("UPDATE portal_outbox SET payload=? WHERE ref=?", (swapped, queued.ref))
    portal.send_pending(ctx)
    item = portal.outbox(ctx).get(queued.ref)
    assert item.state == "failed" and "changed after it was queued" in (item.last_error or "")
    assert _seen_by_dcc(sim, queued.ref) == []


@pytest.mark.both_backends
def test_what_smki_desktop_queued_is_still_sent(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    org = portal.submit_org_csr(ctx, org_csr(ctx), source="test", send_now=False).item
    batch = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB1234567E4000))
    adhoc = portal.enqueue_adhoc(ctx, device_csrs(1, 0x00DB1234567E5000)[0][1])
    assert {org.state, batch.state, adhoc.state} == {"queued"}
    out = {i.ref: i for i in portal.send_pending(ctx)}
    assert out[org.ref].state == "submitted" and out[batch.ref].state == "submitted"
    # the simulator answers the ad hoc request itself (a device with no certificate yet)
    assert "UD:NoCert" in (out[adhoc.ref].last_error or "")
    for ref, kind in ((org.ref, "org"), (batch.ref, "batch"), (adhoc.ref, "adhoc")):
        assert [s["kind"] for s in _seen_by_dcc(sim, ref)] == [kind]
        assert _refusals(ctx, ref) == []
    # polling a submitted request is not a send: it still works
    portal.poll(ctx, force=True, send=False)
    assert portal.outbox(ctx).get(org.ref).state in ("submitted", "done")


@pytest.mark.both_backends
def test_a_live_browser_portal_request_never_goes_over_the_web_service(  # type: ignore[no-untyped-def]
        live_ctx, cli_run, tmp_path: Path) -> None:
    from tests.integration.identity_helpers import sro_authorises

    der = org_csr(live_ctx, "90-B3-D5-1F-30-01-00-32")
    sro_authorises(live_ctx, cli_run, tmp_path, der)
    item = portal.submit_org_csr(live_ctx, der, source="org.csr").item
    assert item.meta["channel"] == "browser-portal" and item.state == "submitted"
    with live_ctx.db.transaction() as c:  # put back in the queue, record and all as queued
        c.execute("UPDATE portal_outbox SET state='queued', server_status=NULL WHERE ref=?",
                  (item.ref,))
    out = portal.send_pending(live_ctx)  # no endpoint in Live: refused before any connection
    after = portal.outbox(live_ctx).get(item.ref)
    assert [i.ref for i in out] == [item.ref] and after.state == "failed"
    assert "browser form" in (after.last_error or "") and _refusals(live_ctx, item.ref)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # starts as a workstation's own
def test_queued_requests_keep_going_after_a_move_into_a_team_store(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    """The move copies the outbox but not the local log that vouches for its requests: it
    records the waiting ones again in the team's log (a forged one it does not)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context

    local = open_context(Environment.TEST, data_root)
    try:
        queued = portal.enqueue_device_batch(local, device_csrs(2, 0x00DB1234567E6000))
        forged = "BEVIL" + "1" * 27
        _insert(local, forged, "device-batch", _forged_payload("device-batch", forged))
    finally:
        local.close()
    with team_after_move(cli_run, postgres_server, data_root) as team:
        ob = portal.outbox(team)
        found = outbox_vouched.queue_records(team.audit, [ob.get(queued.ref),
                                                          ob.get(forged)])
        assert not isinstance(found[queued.ref], str), found[queued.ref]
        assert found[forged] == outbox_vouched.NOT_QUEUED
