"""End to end against the simulator (a separate process, HTTPS with mutual TLS): generated test
device CSRs → validated → one batched web-service submission through the outbox → polled →
results filed: every certificate matched to its CSR by public key and checked (all by the fast
device check, a sample also by issue 3's full lint). A fast 500-CSR variant and the 50,000 one
(slow)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from smki_desktop.crypto.lint import lint_der
from smki_desktop.profile_data import load_profile
from smki_desktop.services import devices, portal, simulator_control
from tests.integration.portal_helpers import enrolled


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx, batch_step=0.2)
    yield info
    simulator_control.stop(ctx)


class _ShiftClock:
    def __init__(self) -> None:
        self.shift = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift


def _end_to_end(ctx, tmp_path: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    gen = devices.generate_test(ctx, n, tmp_path / "gen", discard_keys=True)
    assert gen.keys_file is None and sorted(p.name for p in (tmp_path / "gen").iterdir()) == [
        "test-devices.zip"]
    t1 = time.perf_counter()
    sub = devices.submit(ctx, gen.out)  # validates first: nothing invalid is ever queued
    assert len(sub.validation.accepted) == n and not sub.validation.rejected
    assert not sub.send_error
    t2 = t1 + sub.validation.seconds
    assert portal.outbox(ctx).get(sub.outbox_ref).state == "submitted"
    assert {r.status for r in devices.csr_rows(ctx, sub.batch_id)} == {"pending"}
    t3 = time.perf_counter()
    # the DCC allows one batch poll an hour: the app's clock moves on an hour between polls
    clock = _ShiftClock()
    ctx.clock = clock
    p = portal.open_portal(ctx, timeout=600)
    try:
        for _ in range(60):
            time.sleep(0.7)
            report = portal.poll(ctx, p, force=True)
            if report.completed:
                break
            clock.shift += timedelta(minutes=61)
    finally:
        p.close()
    assert [i.ref for i in report.completed] == [sub.outbox_ref]
    t4 = time.perf_counter()
    (res,) = devices.collect(ctx)
    t5 = time.perf_counter()
    assert res.batch_ids == [sub.batch_id]
    assert res.counts == {"issued": n}, (res.counts, res.problems[:5])
    assert not res.unmatched and not res.problems and not res.findings
    rows = devices.csr_rows(ctx, sub.batch_id)
    assert len(rows) == n and {r.status for r in rows} == {"issued"}
    assert all(r.cert_serial for r in rows)
    # an independent look: issue 3's full lint on a sample, matched by key to the CSR
    prof = load_profile(ctx.env)
    sample = random.Random(5).sample(rows, min(50, n))
    c = ctx.db.conn()
    for r in sample:
        cert_der, csr_der = c.execute("SELECT certificate, csr FROM device_csrs WHERE key_id=?",
                                      (r.key_id,)).fetchone()
        rep = lint_der(bytes(cert_der), prof, r.file_name)
        assert rep.ok, rep.findings
        cert = x509.load_der_x509_certificate(bytes(cert_der))
        csr = x509.load_der_x509_csr(bytes(csr_der))
        assert cert.public_key() == csr.public_key()
    assert devices.collect(ctx) == []  # filed once
    st = next(b for b in devices.status(ctx) if b.batch_id == sub.batch_id)
    assert st.state == "completed" and st.counts == {"issued": n} and not st.warning
    actions = [e.action for e in ctx.audit.entries(action_prefix="devices.")]
    for a in ("devices.generate-test", "devices.submit", "devices.results"):
        assert a in actions
    print(f"\n{n:,} CSRs: generate {t1 - t0:.1f} s, validate {t2 - t1:.1f} s, submit "
          f"{t3 - t2:.1f} s, simulator issue + poll {t4 - t3:.1f} s, match + check "
          f"{t5 - t4:.1f} s")


def test_end_to_end_500(ctx, sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _end_to_end(ctx, tmp_path, 500)


@pytest.mark.slow
def test_end_to_end_50000(ctx, sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _end_to_end(ctx, tmp_path, 50_000)


def test_cli_submit_poll_status(ctx, sim, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = cli_run("devices", "generate-test", "--count", "10", "--out", str(tmp_path / "g"),
                  "--discard-keys", "--format", "csv")
    assert gen.code == 0, gen.err
    src = tmp_path / "g" / "test-devices.csv"
    assert src.read_text().startswith("device_eui,usage,csr\n")
    sub = cli_run("devices", "submit", str(src), "--json")
    assert sub.code == 0, sub.err
    ref = sub.json()["outbox_ref"]
    time.sleep(0.8)
    poll = cli_run("portal", "poll", "--force", "--json")
    assert poll.code == 0, poll.err
    assert ref in [i["ref"] for i in poll.json()["completed"]]
    st = cli_run("devices", "status")
    assert st.code == 0, st.err
    assert "Results filed" in st.err and "issued 10" in st.out
    rows = cli_run("devices", "rows", "--json").json()["rows"]
    assert len(rows) == 10 and {r["status"] for r in rows} == {"issued"}
    assert cli_run("devices", "collect").out.startswith("No finished web-service batch")
