"""Against the simulator, a web-service batch is collected on the simulator's time scale (its
`batch_step`), not the DCC's hourly poll allowance: submit, poll while it runs, and a later
poll gets the results without waiting an hour. Real clock, real simulator over mutual TLS."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from smki_desktop.services import portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, submissions


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx, batch_step=0.5)
    yield info
    simulator_control.stop(ctx)


def _wait_until_due(ctx, ref: str) -> None:  # type: ignore[no-untyped-def]
    due = portal.outbox(ctx).get(ref).next_action_at
    assert due is not None
    wait = (due - ctx.clock.now()).total_seconds()
    assert wait < 60, f"the next poll is {wait:.0f} s away: not on the simulator's scale"
    if wait > 0:
        time.sleep(wait + 0.05)


def test_simulator_batch_is_collected_without_waiting_an_hour(ctx, sim, cli_run) -> None:
    assert simulator_control.control(sim, "/_control/config")["batch_step"] == 0.5
    item = portal.enqueue_device_batch(ctx, device_csrs(4, 0x00DB123456760000))
    sent = portal.send_pending(ctx)[0]
    assert sent.state == "submitted"
    # the first poll is due when the simulator should be done (3 stages of 0.5 s), not now
    assert sent.next_action_at is not None
    first_due = sent.next_action_at - sent.updated
    assert timedelta(seconds=1) <= first_due < timedelta(seconds=10)
    # a poll at once finds it still running: the next allowed poll follows the simulator
    report = portal.poll(ctx, force=True)
    assert not report.deferred, report.deferred
    (after,) = report.polled
    if after.state == "submitted":
        assert after.server_status in ("PENDING", "QUEUED", "PROCESSING")
        assert after.next_action_at is not None
        assert after.next_action_at - ctx.clock.now() < timedelta(seconds=10)
        _wait_until_due(ctx, item.ref)
        r = cli_run("portal", "poll", "--force")
        assert r.code == 0, r.err
        assert "one poll an hour" not in r.out, r.out
        assert "completed 1" in r.out, r.out
    done = portal.outbox(ctx).get(item.ref)
    assert done.state == "done"
    assert len(portal.batch_results(ctx, item.ref)) == 4
    polls = [q for q in submissions(sim)["requests"]
             if q["target"].startswith("/1.0/PortalCSRBatch/CSRBatchResult")]
    assert len(polls) == 2
