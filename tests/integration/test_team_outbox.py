"""Several senders on one outbox (issue 16): ten processes sending the same outbox at once,
against the simulator over mutual TLS, submit each request once. Run on SQLite (one data folder,
ten processes taking turns under its lock) and on a PostgreSQL team store (ten processes racing,
each claim a compare-and-set); the simulator's own submission log is the proof. Each submission
is held a moment at the simulator, so that the senders overlap rather than the first one
sending everything before the others have started."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smki_desktop.core import ws_xml as W
from smki_desktop.services import portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, submissions

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]

SENDERS = 10
BATCHES = 12
HOLD = 0.4  # seconds the simulator holds each batch submission


def test_concurrent_senders_submit_each_request_once(ctx, data_root: Path,  # type: ignore[no-untyped-def]
                                                     backend: str) -> None:
    info = enrolled(ctx)
    try:
        refs = [portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456789100 + i)).ref
                for i in range(BATCHES)]
        before = {s["client_ref"] for s in submissions(info)["submissions"]}
        simulator_control.control(info, "/_control/faults", {
            "kind": "delay", "count": BATCHES * 2, "seconds": HOLD,
            "path": W.BATCH_SUBMIT_PATH})
        env = dict(os.environ)
        procs = [subprocess.Popen(
            [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root),
             "--json", "portal", "send"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env) for _ in range(SENDERS)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err.decode()
        by_sender = [[i["ref"] for i in json.loads(out)["sent"] if i["ref"] in refs]
                     for out, _ in outs]
        # every request was sent by exactly one process
        assert sorted(r for sent in by_sender for r in sent) == sorted(refs), by_sender
        if backend == "postgres":  # no local lock: the senders really raced for the items
            assert sum(1 for sent in by_sender if sent) >= 2, by_sender
        sent = [s for s in submissions(info)["submissions"]
                if s["client_ref"] in refs and s["client_ref"] not in before]
        counts = collections.Counter(s["client_ref"] for s in sent)
        assert counts == {r: 1 for r in refs}, counts
        ob = portal.outbox(ctx)
        for r in refs:
            item = ob.get(r)
            assert item.state == "submitted" and item.attempts == 1, (r, item.state)
    finally:
        simulator_control.stop(ctx)
