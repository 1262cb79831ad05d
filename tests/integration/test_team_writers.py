"""Writers of the shared audit log are endorsed (issue 16): the workstation that first writes
a team log (the one that runs `smki team init`) is its first writer; every other writer counts
only once an endorsed writer has endorsed it in a record it signs (`smki team endorse`). Someone
with only SQL access to the store can register a key, sign a registration with it and append
rows that chain correctly, but cannot endorse it: every workstation's verify reports that
writer and its rows."""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

import pytest

from tests.integration.test_team_workstations import (  # noqa: F401 - fixtures used by name
    Workstation,
    _sql,
    team_db,
    two_workstations,
)
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.slow


def _ok(r: subprocess.CompletedProcess[str]) -> Any:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _installation(ws: Workstation) -> str:
    return str(_ok(ws.smki("--json", "team", "status"))["installation_id"])


def test_a_new_workstation_counts_once_an_endorsed_one_endorses_it(
        two_workstations: list[Workstation],  # noqa: F811 - the fixture
) -> None:
    ws1, ws2 = two_workstations
    assert ws1.writer(2).wait(timeout=120) == 0  # the first writer: team init's workstation
    assert ws2.writer(2).wait(timeout=120) == 0
    for ws in (ws1, ws2):  # ws2 is registered but nobody vouched for it yet
        got = ws.verify()
        assert got["code"] == 1 and any(
            "not endorsed" in p and _installation(ws2) in p for p in got["problems"]), got
    # an unendorsed workstation cannot endorse (not itself, not another)
    r = ws2.smki("team", "endorse", _installation(ws2))
    assert r.returncode == 1 and "not endorsed" in r.stderr, r.stderr
    r = ws1.smki("team", "endorse", "0" * 32)
    assert r.returncode == 1 and "No writer" in r.stderr, r.stderr
    got = _ok(ws1.smki("--json", "team", "endorse", _installation(ws2)))
    assert got["installation_id"] == _installation(ws2) and len(got["writer"]) == 64
    for ws in (ws1, ws2):
        got = ws.verify()
        assert got["code"] == 0 and got["ok"], (ws.name, got["problems"])
    # endorsing twice changes nothing and says so
    r = ws1.smki("team", "endorse", _installation(ws2))
    assert r.returncode == 1 and "already endorsed" in r.stderr, r.stderr


def test_a_writer_registered_by_sql_with_a_self_signed_registration_is_reported(
        two_workstations: list[Workstation],  # noqa: F811 - the fixture
        postgres_server: PostgresServer, team_db: str,  # noqa: F811 - the fixture
) -> None:
    """The attack the endorsement closes: a key pair made outside any workstation, its public
    half put in `audit_writers`, a registration record signed by it (proof of possession) and a
    record after it, both chained correctly at the log's tail."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from smki_desktop.core.audit import entry_hash, signing_payload
    from smki_desktop.services.audit import REGISTER_ACTION, writer_id_of

    ws1, ws2 = two_workstations
    for ws in (ws1, ws2):
        assert ws.writer(2).wait(timeout=120) == 0
    _ok(ws1.smki("--json", "team", "endorse", _installation(ws2)))
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    wid = writer_id_of(pub)
    seq, prev = _sql(postgres_server, team_db,
                     "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    ts = "2026-01-02T00:00:00.000000+00:00"
    rows = []
    for action, details in (
            (REGISTER_ACTION, {"writer": wid, "public_key": base64.b64encode(pub).decode(),
                               "installation_id": "intruder", "environment": "test"}),
            ("party.update", {"n": 1})):
        seq += 1
        text = json.dumps(details, sort_keys=True)
        h = entry_hash(prev, seq, ts, "test", "intruder", action, text, "{}")
        sig = base64.b64encode(key.sign(signing_payload(h, wid))).decode()
        rows.append(
            "INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
            f"prev_hash,hash,writer,sig) VALUES ({seq}, '{ts}', 'test', 'intruder', "
            f"'{action}', '{text}', '{{}}', '{prev}', '{h}', '{wid}', '{sig}')")
        prev = h
    _sql(postgres_server, team_db,
         f"INSERT INTO audit_writers VALUES ('{wid}', '\\x{pub.hex()}', 'intruder', 'test', "
         f"'{ts}')", *rows)
    for ws in (ws1, ws2):
        got = ws.verify()
        assert got["code"] == 1, (ws.name, got)
        assert any("not endorsed" in p and wid[:16] in p and "intruder" in p
                   for p in got["problems"]), (ws.name, got["problems"])
