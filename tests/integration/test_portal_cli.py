"""The CLI faces of the portal layer (`smki credential|portal|repo|simulator`), all `--json`,
against the embedded simulator started on demand in Test."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from smki_desktop.services import simulator_control
from tests.integration.portal_helpers import org_csr


@pytest.fixture
def stop_sim(ctx):  # type: ignore[no-untyped-def]
    yield
    simulator_control.stop(ctx)


def test_cli_whole_loop(ctx, cli_run, tmp_path: Path, stop_sim) -> None:
    r = cli_run("credential", "request", "--purpose", "web-service", "--organisation",
                "Acme Energy Ltd", "--role", "supplier", "--json")
    assert r.code == 0, r.err
    issued = r.json()
    assert issued["credential"]["purpose"] == "web-service"
    # the simulator was started on demand and is reused
    st = cli_run("simulator", "status", "--json").json()
    assert st["running"] is True
    again = cli_run("simulator", "start", "--json").json()
    assert again["started"] is False and again["pid"] == st["pid"]
    # a file-signing credential goes only to a verified, named officer of the register
    from tests.integration.adt_support import simulator_aro_credential

    aro_key = simulator_aro_credential(cli_run, tmp_path, organisation="Acme Energy Ltd")
    creds = cli_run("credential", "list", "--json").json()["credentials"]
    # the ARO's (from the simulator) and the nominating SRO's, who signed the nomination
    assert sorted(c["purpose"] for c in creds) == ["file-signing", "file-signing",
                                                   "web-service"]
    assert aro_key in [c["key_id"] for c in creds]

    csr = tmp_path / "org.csr"
    import base64

    der = org_csr(ctx, "90-B3-D5-1F-30-01-00-09")
    csr.write_text("-----BEGIN CERTIFICATE REQUEST-----\n"
                   + base64.encodebytes(der).decode()
                   + "-----END CERTIFICATE REQUEST-----\n")
    r = cli_run("portal", "submit", str(csr), "--json")
    assert r.code == 0, r.err
    ref = r.json()["ref"]
    assert r.json()["state"] == "submitted"
    time.sleep(2.2)  # the simulator's default stage is 2 s
    r = cli_run("portal", "poll", "--force", "--json")
    assert r.code == 0, r.err
    assert [c["ref"] for c in r.json()["completed"]] == [ref]
    assert r.json()["imported"][0]["status"] == "accepted"
    status = cli_run("portal", "status", ref[:10], "--json").json()["requests"]
    assert status[0]["state"] == "done"
    found = cli_run("repo", "search", "--eui", "90b3d51f30010009", "--role", "02", "--json")
    assert found.code == 0, found.err
    assert len(found.json()["results"]) == 1
    crl = cli_run("repo", "crl", "--json")
    assert crl.code == 0 and crl.json()["signature_verified"] is True
    bad = cli_run("repo", "search", "--eui", "not-an-eui")
    assert bad.code == 2 and "EUI-64" in bad.err
    both = cli_run("repo", "search", "--eui", "90b3d51f30010009", "--device",
                   "00-DB-12-34-56-00-00-00", "--json")  # an input error, not --eui alone
    assert both.code == 2 and both.json()["kind"] == "InputError"
    assert "Subject EUI and Device EUI" in both.json()["error"]
    assert "--device" in both.json()["error"] and "results" not in both.json()
    assert cli_run("simulator", "stop", "--json").json()["stopped"] is True
    assert cli_run("simulator", "status", "--json").json()["running"] is False


def test_live_without_endpoint_is_refused_clearly(cli_run, live_ctx) -> None:
    r = cli_run("repo", "crl", env="live")
    assert r.code == 1 and "Live" in r.err and "endpoint" in r.err
    r = cli_run("portal", "endpoint", "api-key", env="live", stdin="short\n")
    assert r.code == 2 and "API key" in r.err
    r = cli_run("portal", "endpoint", "api-key", "--json", env="live",
                stdin="dcc-live-api-key-123\n")
    assert r.code == 0 and r.json() == {"stored": True}
    from smki_desktop.services.portal import API_KEY_SECRET

    assert live_ctx.keystore.secrets.get_optional(API_KEY_SECRET) == "dcc-live-api-key-123"
    assert "dcc-live-api-key-123" not in r.out + r.err
    r = cli_run("simulator", "start", env="live")
    assert r.code == 1 and "Test environment only" in r.err


def test_live_credential_request_writes_the_csr(cli_run, data_root: Path) -> None:
    # Live requests nothing without a Party profile
    assert cli_run("party", "set", "--name", "Acme Energy Ltd", "--party-id", "ACME",
                   "--party-type", "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF", env="live").code == 0
    r = cli_run("credential", "request", "--purpose", "web-service", "--organisation",
                "Acme Energy Ltd", "--role", "02", "--system-name", "acme-1", "--json",
                env="live")
    assert r.code == 0, r.err
    path = Path(r.json()["csr_path"])
    assert path.exists() and path.is_relative_to(data_root / "live")
    import subprocess

    out = subprocess.run(["openssl", "req", "-in", str(path), "-noout", "-verify", "-text"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "O=Acme Energy Ltd, OU=02, CN=acme-1" in out.stdout.replace(" = ", "=")
    assert "Public-Key: (2048 bit)" in out.stdout
    assert "sha256WithRSAEncryption" in out.stdout
    assert "Digital Signature" in out.stdout and "critical" in out.stdout


def test_on_demand_simulator_exits_when_idle(ctx, monkeypatch) -> None:
    monkeypatch.setenv("SMKI_SIMULATOR_IDLE_EXIT", "2")
    info = simulator_control.start(ctx)
    try:
        assert simulator_control.running(ctx) is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and simulator_control.running(ctx) is not None:
            time.sleep(0.5)
        assert simulator_control.running(ctx) is None
        assert "idle for 2 s, exiting" in (info.state_dir / "simulator.log").read_text()
    finally:
        if simulator_control.running(ctx) is not None:
            simulator_control.stop(ctx)
