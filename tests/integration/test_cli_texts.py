"""The CLI's human-readable texts: an imported certificate in words (not a dict), a batch named
once, the paste text of a Live Organisation CSR."""

from __future__ import annotations

import time
from pathlib import Path

from smki_desktop.services import devices, portal, simulator_control
from tests.integration.portal_helpers import enrolled, org_csr


def test_poll_says_what_was_imported_in_words(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    enrolled(ctx)
    try:
        portal.submit_org_csr(ctx, org_csr(ctx, "90-B3-D5-1F-30-01-00-51"))
        out = ""
        for _ in range(50):  # until the simulator has issued it
            r = cli_run("portal", "poll", "--force")
            assert r.code == 0, r.err
            out += r.out
            if "completed 1" in r.out:
                break
            time.sleep(0.2)
        assert "completed 1" in out, out
        line = next(x for x in out.splitlines() if "imported" in x)
        assert line.strip().startswith("imported certificate (accepted): "), line
        assert "serial" in line, line
        assert "{" not in line and "'imported'" not in line, line
    finally:
        simulator_control.stop(ctx)


def test_devices_status_names_a_batch_once(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = devices.generate_test(ctx, 2, tmp_path / "gen", processes=1)
    r = cli_run("devices", "package", str(gen.out), "--out", str(tmp_path / "zips"))
    assert r.code == 0, r.err
    (batch,) = devices.status(ctx)
    r = cli_run("devices", "status")
    line = next(x for x in r.out.splitlines() if batch.batch_id in x)
    assert line.count(batch.batch_id) == 1, line


def test_live_submit_prints_the_paste_text(live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.identity_helpers import sro_authorises

    csr = tmp_path / "org.csr"
    csr.write_bytes(org_csr(live_ctx, "90-B3-D5-1F-30-01-00-61"))
    sro_authorises(live_ctx, cli_run, tmp_path, csr.read_bytes())  # Live: an SRO first
    r = cli_run("portal", "submit", str(csr), env="live")
    assert r.code == 0, r.err
    assert "Paste this into the SMKI Portal" in r.out
    pem = r.out[r.out.index("-----BEGIN CERTIFICATE REQUEST-----"):]
    assert pem.rstrip().endswith("-----END CERTIFICATE REQUEST-----")
    r = cli_run("portal", "submit", str(csr), "--json", env="live")
    assert r.json()["state"] == "submitted"  # one JSON document, nothing else
