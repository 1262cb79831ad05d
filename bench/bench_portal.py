"""Portal layer (issue 4), each figure beside a baseline measured in the same run:

- XML: build + parse (with the size cap, defusedxml and the schema check) of one
  `SubmitCSRBatch` of N Device CSRs vs bare `xml.etree` parse of the same bytes;
- hostile input: time to refuse an entity-expansion document and a 100 MB body (target < 2 s);
- end to end over HTTPS with mutual TLS: one batch of N CSRs submitted through the outbox to
  the simulator process, then polled to COMPLETED (all certificates issued and returned), vs
  the simulator's own in-process issuance of the same CSRs (the floor: the CA work itself).

`python -m bench portal` (N = 5,000) or `--quick` (N = 1,000).
"""

from __future__ import annotations

import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from bench.common import Figure


def _csrs(n: int) -> list[tuple[str, bytes]]:
    from smki_desktop.crypto.device_csr import generate_one

    return [(f"d{i}", generate_one((0x00DB200000000000 + i).to_bytes(8, "big"),
                                   "signing", keep_key=False)[2]) for i in range(n)]


def _xml(csrs: list[tuple[str, bytes]]) -> list[Figure]:
    from smki_desktop.core import ws_xml as W

    t = time.perf_counter()
    data = W.SubmitCSRBatch("bench", tuple(csrs)).build()
    W.SubmitCSRBatch.parse(data)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    ET.fromstring(data)
    bare = time.perf_counter() - t
    lol = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
           + b"".join(b'<!ENTITY a%d "%s">' % (i, b"&a;" * 10 if i == 0 else
                                              (b"&a%d;" % (i - 1)) * 10) for i in range(9))
           + b"]><ErrorResponse><ErrorCode>&a8;</ErrorCode></ErrorResponse>")
    t = time.perf_counter()
    try:
        W.ErrorResponse.parse(lol)
    except W.XmlMessageError:
        pass
    laughs = time.perf_counter() - t
    big = b"<CSRBatchResult>" + b" " * (100 * 1024 * 1024) + b"</CSRBatchResult>"
    t = time.perf_counter()
    try:
        W.CSRBatchResult.parse(big)
    except W.XmlMessageError:
        pass
    huge = time.perf_counter() - t
    return [
        Figure(f"SubmitCSRBatch build+parse, {len(csrs):,} CSRs ({len(data) / 1e6:.1f} MB)",
               ours, "s", bare, "bare ElementTree parse"),
        Figure("refuse entity expansion", laughs * 1000, "ms", target="< 2000 ms",
               ok=laughs < 2),
        Figure("refuse a 100 MB body", huge * 1000, "ms", target="< 2000 ms", ok=huge < 2),
    ]


def _end_to_end(csrs: list[tuple[str, bytes]], tmp: Path) -> list[Figure]:
    from tests.support.secret_service import secret_service_env

    with secret_service_env(tmp / "kr"):
        from datetime import UTC, datetime

        from smki_desktop.core.environment import Environment
        from smki_desktop.core.ports import FixedClock
        from smki_desktop.services import credentials, portal, simulator_control
        from smki_desktop.services.context import open_context
        from smki_desktop.simulator import dcc
        from smki_desktop.simulator.state import SimState

        # the app's clock is injected so that the DCC's rule "poll a batch at most hourly"
        # can be honoured without waiting an hour: each unanswered poll moves it on an hour
        clock = FixedClock(datetime.now(UTC))
        ctx = open_context(Environment.TEST, tmp / "data", clock=clock)
        try:
            simulator_control.start(ctx, batch_step=0.05)
            credentials.request_credential(ctx, "web-service", organisation="Bench Ltd",
                                           role="02", system_name="bench")
            t = time.perf_counter()
            item = portal.enqueue_device_batch(ctx, csrs)
            sent = portal.send_pending(ctx)
            submit = time.perf_counter() - t
            assert sent[0].state == "submitted", sent[0].last_error
            # issuance runs in the simulator's background worker: poll until it is done
            t = time.perf_counter()
            deadline = t + 600
            while True:
                time.sleep(0.2)
                rep = portal.poll(ctx)
                if rep.completed or time.perf_counter() > deadline:
                    break
                clock.advance(hours=1)
            poll = time.perf_counter() - t
            assert rep.completed, f"batch not completed in 600 s: {rep.deferred}"
            got = portal.batch_results(ctx, item.ref)
            assert sum(1 for r in got if r.status == "SUCCESS") == len(csrs)
        finally:
            simulator_control.stop(ctx)
            ctx.close()
        # floor: the same issuance in-process, no TLS, no XML over the wire
        st = SimState(tmp / "floor")
        t = time.perf_counter()
        with dcc.Tx(st):  # one transaction, as the server does for a batch
            for _cid, der in csrs:
                dcc._issue_device(st, der, "o", datetime.now(UTC), st.hierarchy)
        floor = time.perf_counter() - t
    n = len(csrs)
    return [
        Figure(f"batch of {n:,}: store + submit over mTLS", submit, "s"),
        Figure(f"batch of {n:,}: poll, issue and return all certificates", poll, "s"),
        Figure(f"batch of {n:,}: end to end per CSR", (submit + poll) / n * 1000, "ms",
               floor / n * 1000, "in-process issuance only"),
    ]


def run(quick: bool = False) -> list[Figure]:
    n = 1_000 if quick else 5_000
    csrs = _csrs(n)
    figures = _xml(_csrs(50_000) if not quick else csrs)
    with tempfile.TemporaryDirectory() as d:
        figures += _end_to_end(csrs, Path(d))
    return figures
