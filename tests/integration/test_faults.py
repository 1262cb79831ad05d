"""Injected faults at the simulator: for each, the client retries or reports as it should, and
the outbox keeps the request until a confirmed reply. Ends with kill -9 of both client and
server mid-batch: after restarting both, the server holds exactly one submission per client
reference and no request is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from smki_desktop.core.portal_ports import AnswerLost, ProtocolFault, Unreachable
from smki_desktop.services import portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, seed_devices, submissions


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


def fault(sim, kind: str, count: int = 1, seconds: float = 0.0,  # type: ignore[no-untyped-def]
          path: str = "/") -> None:
    simulator_control.control(sim, "/_control/faults", {"kind": kind, "count": count,
                                                        "seconds": seconds, "path": path})


def _batch_rows(sim, ref: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [b for b in submissions(sim)["batches"] if b["client_ref"] == ref]


@pytest.mark.parametrize("kind", ["5xx", "malformed"])
def test_transient_fault_is_retried_transparently(ctx, sim, kind: str) -> None:
    fault(sim, kind, 1, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    item = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB123456700000))
    out = portal.send_pending(ctx)
    assert out[0].state == "submitted", out[0].last_error
    assert len(_batch_rows(sim, item.ref)) == 1


def _batch_requests(sim) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for r in submissions(sim)["requests"]
               if r["target"].startswith("/1.0/PortalCSRBatch/SubmitCSRBatch"))


def test_a_dropped_connection_is_left_to_the_outbox_not_sent_again_at_once(ctx, sim) -> None:  # type: ignore[no-untyped-def]
    """The server read the batch and dropped the connection: it may have taken it, so the
    send is not repeated within the command; the outbox sends it again later (same client
    reference)."""
    fault(sim, "drop", 1, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    item = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB123456700000))
    out = portal.send_pending(ctx)
    assert out[0].state == "queued"
    assert "no answer was received" in (out[0].last_error or "")
    assert _batch_requests(sim) == 1
    out = portal.send_pending(ctx, force=True)
    assert out[0].state == "submitted", out[0].last_error
    assert len(_batch_rows(sim, item.ref)) == 1 and _batch_requests(sim) == 2


@pytest.mark.parametrize("kind,error,match", [
    ("5xx", Unreachable, "HTTP 503"),
    ("drop", AnswerLost, "no answer was received"),
    ("malformed", ProtocolFault, "not a valid message"),
])
def test_persistent_fault_is_reported_and_item_kept(ctx, sim, kind, error, match) -> None:
    # one more than the client's 2 retries (a dropped connection is not retried at once)
    fault(sim, kind, 1 if kind == "drop" else 3, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456710000))
    out = portal.send_pending(ctx)
    after = out[0]
    assert after.state == "queued"
    assert after.last_error and match in after.last_error
    assert after.next_action_at and after.next_action_at > ctx.clock.now()
    # the retry time and the error, each said separately
    assert f"retry at {after.next_action_at:%Y-%m-%d %H:%M:%S} UTC; last attempt: " \
        f"{after.last_error})" in after.next_action
    p = portal.open_portal(ctx, retries=0)
    try:
        fault(sim, kind, 1, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
        with pytest.raises(error, match=match):
            p.submit_device_batch(item.ref, [("dX", b"\x30\x00")])
    finally:
        p.close()
    # the fault is gone: the next send (forced past the retry time) goes through, once
    out = portal.send_pending(ctx, force=True)
    assert out[0].state == "submitted"
    assert len(_batch_rows(sim, item.ref)) == 1


def test_delay_beyond_timeout_is_unreachable_then_retry_succeeds(ctx, sim) -> None:
    fault(sim, "delay", 1, seconds=1.5, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    p = portal.open_portal(ctx, timeout=0.5, retries=0)
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456720000))
    try:
        out = portal.send_pending(ctx, p)
    finally:
        p.close()
    assert out[0].state == "queued"
    assert out[0].last_error and "in time" in out[0].last_error
    time.sleep(1.5)  # the delayed request was processed by the server after our timeout
    out = portal.send_pending(ctx, force=True)
    assert out[0].state == "submitted"
    rows = _batch_rows(sim, item.ref)
    assert len(rows) == 1
    subs = [s for s in submissions(sim)["submissions"] if s["client_ref"] == item.ref]
    assert [s["outcome"] for s in subs] == ["new", "replay"]


def test_reply_lost_after_commit_is_resent_without_duplicate(ctx, sim) -> None:
    fault(sim, "drop-after", 3, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    item = portal.enqueue_device_batch(ctx, device_csrs(3, 0x00DB123456730000))
    out = portal.send_pending(ctx)
    assert out[0].state == "queued"  # never confirmed: kept
    for _ in range(2):  # one attempt a send: the DCC may have taken it (it had)
        out = portal.send_pending(ctx, force=True)
        assert out[0].state == "queued"
    out = portal.send_pending(ctx, force=True)
    assert out[0].state == "submitted"
    rows = _batch_rows(sim, item.ref)
    assert len(rows) == 1 and str(rows[0]["batch_id"]) == out[0].server_id
    outcomes = Counter(s["outcome"] for s in submissions(sim)["submissions"]
                       if s["client_ref"] == item.ref)
    assert outcomes == {"new": 1, "replay": 3}


def _adhoc_requests(sim) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    return [r for r in submissions(sim)["requests"]
            if r["target"].startswith("/1.0/PortalCSR/DeviceCertificateSigningRequest")]


def test_adhoc_after_lost_reply_returns_the_same_certificate(ctx, sim, data_root) -> None:
    """A lost reply is re-sent by the outbox, each attempt admitted by the rate rules (the
    adapter makes no retries of its own): on an injected clock, an attempt before the next
    slot sends nothing, and the server sees exactly one request per admitted attempt."""
    from datetime import UTC, datetime

    from smki_desktop.core.environment import Environment
    from smki_desktop.core.ports import FixedClock
    from smki_desktop.services.context import open_context

    clock = FixedClock(datetime.now(UTC))
    c = open_context(Environment.TEST, data_root, clock=clock)
    try:
        fault(sim, "drop-after", 3, path="/1.0/PortalCSR/DeviceCertificateSigningRequest")
        (_cid, der), = device_csrs(1, 0x00DB123456740000)
        seed_devices(sim, [0x00DB123456740000])
        item = portal.enqueue_adhoc(c, der)
        assert portal.send_pending(c)[0].state == "queued"
        assert len(_adhoc_requests(sim)) == 1  # no in-adapter retries 0.3 s / 0.6 s later
        admitted = 1
        for _ in range(6):
            # the same instant on the injected clock: the scheduler sends nothing
            held = portal.send_pending(c, force=True)[0]
            assert held.state == "queued" and "limited to 1 per" in (held.last_error or "")
            assert len(_adhoc_requests(sim)) == admitted
            clock.advance(seconds=4.1)  # past the slot by day (0.8 s) and at night (4 s)
            after = portal.send_pending(c, force=True)[0]
            admitted += 1
            assert len(_adhoc_requests(sim)) == admitted
            if after.state != "queued":
                break
        assert after.state == "done", after.last_error
        assert admitted == 4  # three lost replies, then the answer
        outcomes = [s["outcome"] for s in submissions(sim)["submissions"]
                    if s["client_ref"] == item.ref]
        assert outcomes == ["new", "replay", "replay", "replay"]
        from smki_desktop.services.repository import search

        # its installation's certificate and exactly one more: the replays issued nothing
        assert len(search(c, device_eui="00DB123456740000").entries) == 2
    finally:
        c.close()


def test_failed_batch_poll_is_one_request_and_deferred(ctx, sim) -> None:
    """A 5xx on a batch poll is not retried inside the call (that would be more polls of the
    batch in a second): the poll is deferred and the server saw one request."""
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456750000))
    sent = portal.send_pending(ctx)[0]
    assert sent.state == "submitted"
    fault(sim, "5xx", 3, path="/1.0/PortalCSRBatch/CSRBatchResult")
    report = portal.poll(ctx, force=True)
    assert [i.ref for i, _why in report.deferred] == [item.ref]
    polls = [r for r in submissions(sim)["requests"]
             if r["target"].startswith("/1.0/PortalCSRBatch/CSRBatchResult")]
    assert [p["fault"] for p in polls] == ["5xx"]
    assert portal.outbox(ctx).get(item.ref).next_action_at > ctx.clock.now()


@pytest.mark.slow
def test_kill_9_client_and_server_mid_batch_then_restart(ctx, sim, data_root: Path) -> None:
    n_batches, per_batch = 24, 20
    refs = [portal.enqueue_device_batch(ctx, device_csrs(per_batch, 0x00DB120000000000
                                                         + i * 0x1000)).ref
            for i in range(n_batches)]
    # slow the server's answers (after it has committed) so that the kill lands mid-run,
    # most likely while a processed batch's answer is still on its way
    fault(sim, "delay-after", 1000, seconds=0.25, path="/1.0/PortalCSRBatch/SubmitCSRBatch")
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root), "portal",
           "send", "--json"]
    client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(submissions(sim)["batches"]) >= n_batches // 3:
            break
        time.sleep(0.05)
    os.kill(client.pid, signal.SIGKILL)
    os.kill(sim.pid, signal.SIGKILL)
    client.wait(10)
    # a signal is delivered asynchronously: wait until the killed server is really gone
    gone_by = time.monotonic() + 10
    while simulator_control._alive(sim.pid) and time.monotonic() < gone_by:
        time.sleep(0.05)
    states = Counter(portal.outbox(ctx).get(r).state for r in refs)
    assert states["queued"] > 0, "the kill came too late to interrupt the run"
    # restart both: the simulator from its state folder, the client's send loop
    info = simulator_control.start(ctx)
    assert info.started and info.pid != sim.pid
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    got = submissions(info)
    per_ref = Counter(b["client_ref"] for b in got["batches"])
    assert set(per_ref) == set(refs)  # nothing lost
    assert all(v == 1 for v in per_ref.values())  # exactly one submission per reference
    assert all(b["csr_count"] == per_batch for b in got["batches"])
    assert all(portal.outbox(ctx).get(r).state == "submitted" for r in refs)
    time.sleep(0.8)
    report = portal.poll(ctx, force=True)
    assert len(report.completed) == n_batches
    assert sum(len(portal.batch_results(ctx, r)) for r in refs) == n_batches * per_batch
    print(f"kill -9 run: {states['queued']} of {n_batches} batches unconfirmed at the kill; "
          f"replays at the server: "
          f"{sum(1 for s in got['submissions'] if s['outcome'] == 'replay')}")


def test_portal_poll_exits_2_on_a_malformed_answer(ctx, sim, cli_run) -> None:  # type: ignore[no-untyped-def]
    """An answer to a poll that is not a valid message is bad input from the other side: the
    request stays submitted, `smki portal poll` says why and exits 2."""
    item = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456720000))
    assert portal.send_pending(ctx)[0].state == "submitted"
    fault(sim, "malformed", 1, path="/1.0/PortalCSRBatch/CSRBatchResult")
    res = cli_run("portal", "poll", "--force")
    assert res.code == 2, (res.out, res.err)
    assert "not a valid message" in res.err
    assert portal.outbox(ctx).get(item.ref).state == "submitted"
