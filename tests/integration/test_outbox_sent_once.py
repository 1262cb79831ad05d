"""A request is sent to the DCC once: its queueing record is used once. Someone who can write
the store but not sign an audit record (the threat of services/audit.py) puts a request that was
already sent back to `queued` (one UPDATE of portal_outbox); its genuine `portal.submit` record
still matches its reference and payload, but the log also proves it was sent and answered, so
it is refused, not sent again. A send that failed on the way still goes again."""

from __future__ import annotations

from typing import Any

import pytest

from smki_desktop.core.portal_ports import AnswerLost
from smki_desktop.services import outbox_vouched, portal
from tests.integration.test_outbox_vouched import _refusals, _seen_by_dcc, org_csr, sim

__all__ = ["sim"]  # the fixture, imported for the tests below


class _LostOnTheWay:
    """A portal whose every submission fails after it may have left (the answer is lost)."""

    def submit_org_csr(self, ref: str, der: bytes) -> Any:
        raise AnswerLost(f"The connection dropped before the answer to {ref}.")

    def close(self) -> None:
        return None


@pytest.mark.both_backends
def test_a_sent_request_put_back_in_the_queue_is_not_sent_again(  # type: ignore[no-untyped-def]
        ctx, sim) -> None:
    org = portal.submit_org_csr(ctx, org_csr(ctx), source="test", send_now=False).item
    out = {i.ref: i for i in portal.send_pending(ctx)}
    assert out[org.ref].state == "submitted"
    assert len(_seen_by_dcc(sim, org.ref)) == 1
    with ctx.db.transaction() as c:  # the attacker, with the store's password only
        c.execute("UPDATE portal_outbox SET state='queued', attempts=0 WHERE ref=?", (org.ref,))
    after = {i.ref: i for i in portal.send_pending(ctx, force=True)}[org.ref]
    assert len(_seen_by_dcc(sim, org.ref)) == 1
    assert after.state == "failed"
    assert "already sent (audit record" in (after.last_error or "")
    assert "not sent again" in (after.last_error or "")
    (refusal,) = _refusals(ctx, org.ref)
    assert "already sent" in refusal["why"]


@pytest.mark.both_backends
def test_a_request_whose_send_failed_on_the_way_is_sent_again(  # type: ignore[no-untyped-def]
        ctx, sim) -> None:
    org = portal.submit_org_csr(ctx, org_csr(ctx), source="test", send_now=False).item
    (first,) = portal.send_pending(ctx, _LostOnTheWay(), [org.ref])  # type: ignore[arg-type]
    assert first.state == "queued"
    sends = [e for e in ctx.audit.entries(action_prefix=outbox_vouched.SEND_ACTION)
             if e.details.get("ref") == org.ref]
    assert [e.details["results"] for e in sends] == [{org.ref: "queued"}]
    found = outbox_vouched.queue_records(ctx.audit, [portal.outbox(ctx).get(org.ref)])
    assert not isinstance(found[org.ref], str), found[org.ref]
    out = {i.ref: i for i in portal.send_pending(ctx, force=True)}
    assert out[org.ref].state == "submitted"
    assert len(_seen_by_dcc(sim, org.ref)) == 1
    assert _refusals(ctx, org.ref) == []
