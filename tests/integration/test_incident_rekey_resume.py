"""Re-keying after a compromise stopped part way (a real `smki incident rekey` killed with
SIGKILL at a fault point, as in test_atomic_actions): the incident records its plan and each
key and CSR as they are made, so the next run resumes (into the recorded files) and makes no
key or CSR twice, files one revocation request, and refuses clearly when a recorded CSR file
was changed since (attack review: test_d_incident::test_rekey_interrupted)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.services import incidents, revocation, simulator_control
from smki_desktop.services.context import AppContext
from tests.integration.identity_helpers import Team, issue_org, make_team, serial_of
from tests.integration.portal_helpers import org_csr
from tests.integration.test_atomic_actions import _killed_at, _records, _server, _settled


@pytest.fixture
def team(ctx, cli_run, tmp_path: Path):  # type: ignore[no-untyped-def]
    t = make_team(ctx, cli_run, tmp_path)
    yield t
    simulator_control.stop(ctx)


def _confirmed(ctx, cli_run, team: Team, eui: str) -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "incident", "open", "--when", "2026-12-03T22:10:00Z",
                "--reported-by", "desk", "--cert", serial_of(issue_org(ctx, eui)))
    assert r.code == 0, r.err
    iid = str(r.json()["id"])
    r = cli_run("incident", "confirm", iid, "--outcome", "confirmed", "--as", team.sro,
                "--key", team.sro_key)
    assert r.code == 0, r.err
    return iid


def _keys(cli_run) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(k["key_id"] for k in cli_run("--json", "key", "list").json()["keys"])


def _requests_of(cli_run, iid: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in cli_run("--json", "revoke", "status").json()["requests"]
            if r["incident"] == iid]


def _kill(ctx: AppContext, data_root: Path, tmp_path: Path, request: pytest.FixtureRequest,
          point: str, *args: str) -> None:
    _killed_at(data_root, tmp_path, point, *args)
    backend = str(request.getfixturevalue("backend"))
    _settled(ctx, backend, _server(request, backend))


def _rekey(cli_run, team: Team, iid: str, out: Path) -> Any:  # type: ignore[no-untyped-def]
    return cli_run("--json", "incident", "rekey", iid, "--out", str(out), "--as", team.aro,
                   "--key", team.aro_key)


def test_killed_after_the_keys_and_csrs_the_next_run_resumes_and_makes_none_again(
        ctx, cli_run, team: Team, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    iid = _confirmed(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-A1")
    out = tmp_path / "repl"
    before = _keys(cli_run)
    _kill(ctx, data_root, tmp_path, request, "incidents.rekey:made", "incident", "rekey", iid,
          "--out", str(out), "--as", team.aro, "--key", team.aro_key)
    made = [k for k in _keys(cli_run) if k not in before]
    [csr_file] = list(out.iterdir())
    assert len(made) == 1 and _requests_of(cli_run, iid) == []
    # the incident knows the key and CSR it made before the kill
    plan = cli_run("--json", "incident", "show", iid).json()["rekey_plan"]
    [item] = plan["items"]
    assert item["key_id"] == made[0] and item["path"] == str(csr_file) and item["csr_id"]
    # again with the same output: resumed, nothing made twice, one revocation request
    r = _rekey(cli_run, team, iid, out)
    assert r.code == 0, r.err
    rk = r.json()["rekey"]
    [c] = rk["csrs"]
    assert c["key_id"] == made[0] and c["path"] == str(csr_file) and c["lint_ok"], rk
    assert rk["resumed"] is True and "rekey_plan" not in r.json()
    assert [k for k in _keys(cli_run) if k not in before] == made
    assert _requests_of(cli_run, iid) == [rk["revocation"]]
    assert list(out.iterdir()) == [csr_file]
    assert _records(ctx, "incident.rekey") == 1 and _records(ctx, "csr.org.create") >= 1
    r = _rekey(cli_run, team, iid, tmp_path / "other")
    assert r.code == 1 and "already re-keyed" in r.err, r.err
    verify = cli_run("audit", "verify", "--json")
    assert verify.code == 0 and verify.json()["ok"], verify.out + verify.err


def test_killed_after_the_revocation_request_the_next_run_files_no_second_one(
        ctx, cli_run, team: Team, data_root: Path, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    iid = _confirmed(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-A2")
    out = tmp_path / "repl"
    before = _keys(cli_run)
    # the request is committed; the incident's last step (inside its transaction) is killed
    _kill(ctx, data_root, tmp_path, request, "audit:incident.rekey", "incident", "rekey", iid,
          "--out", str(out), "--as", team.aro, "--key", team.aro_key)
    [rid] = _requests_of(cli_run, iid)
    made = [k for k in _keys(cli_run) if k not in before]
    # a run naming another folder resumes into the recorded one, and files no new request
    r = _rekey(cli_run, team, iid, tmp_path / "elsewhere")
    assert r.code == 0, r.err
    rk = r.json()["rekey"]
    assert rk["revocation"] == rid and _requests_of(cli_run, iid) == [rid]
    assert [c["key_id"] for c in rk["csrs"]] == made
    assert all(Path(c["path"]).parent == out for c in rk["csrs"])
    assert not (tmp_path / "elsewhere").exists()


def test_a_recorded_csr_file_changed_since_is_refused_and_nothing_more_is_made(
        ctx, cli_run, team: Team, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    iid = _confirmed(ctx, cli_run, team, "90-B3-D5-1F-30-01-00-A3")
    out = tmp_path / "repl"

    def stopped(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt("stopped here")

    monkeypatch.setattr(revocation, "request", stopped)
    with pytest.raises(KeyboardInterrupt):
        incidents.rekey(ctx, iid, as_ref=team.aro, key_ref=team.aro_key, out_dir=out)
    monkeypatch.undo()
    [csr_file] = list(out.iterdir())
    original = csr_file.read_bytes()
    # swapped for a valid CSR of another key
    other = org_csr(ctx, "90-B3-D5-1F-30-01-00-A3")
    csr_file.write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\n"
                         + base64.encodebytes(other)
                         + b"-----END CERTIFICATE REQUEST-----\n")
    keys = _keys(cli_run)
    r = _rekey(cli_run, team, iid, out)
    assert r.code == 1 and f"{csr_file} was changed" in r.err and "another key" in r.err, r.err
    assert _keys(cli_run) == keys and _requests_of(cli_run, iid) == []
    # the recorded one back: the run completes with it
    csr_file.write_bytes(original)
    r = _rekey(cli_run, team, iid, out)
    assert r.code == 0, r.err
    assert _keys(cli_run) == keys and len(_requests_of(cli_run, iid)) == 1
