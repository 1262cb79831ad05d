"""Several senders on one outbox (issue 16): processes sending the same outbox at once, against
the simulator over mutual TLS, submit each request once. Run on SQLite (one data folder, several
processes) and on a PostgreSQL team store; the simulator's own submission log is the proof."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smki_desktop.services import portal, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, submissions

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]

SENDERS = 4
BATCHES = 6


def test_concurrent_senders_submit_each_request_once(ctx, data_root: Path,  # type: ignore[no-untyped-def]
                                                     backend: str) -> None:
    info = enrolled(ctx)
    try:
        refs = [portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456789100 + i)).ref
                for i in range(BATCHES)]
        before = {s["client_ref"] for s in submissions(info)["submissions"]}
        env = dict(os.environ)
        procs = [subprocess.Popen(
            [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root),
             "--json", "portal", "send"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env) for _ in range(SENDERS)]
        outs = [p.communicate(timeout=300) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err.decode()
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
