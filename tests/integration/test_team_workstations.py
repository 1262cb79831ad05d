"""Two workstations on one team store (issue 16), each a data folder with its OWN gnome-keyring
session, running as separate processes against a real PostgreSQL server: both write the shared
audit log at once and each verifies all of it; a row changed in the store is seen from both;
a writer added by someone with access to the store is refused."""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.core.team_url import parse_team_url
from smki_desktop.keystores.errors import KeyEntryMissing
from smki_desktop.store import team_link
from smki_desktop.store.repos import team as team_repo
from tests.support.postgres import PostgresServer
from tests.support.secret_service import SecretServiceSession, unlocked_session

pytestmark = pytest.mark.slow

# A workstation's own process writing `n` records through the app's audit service.
_WRITER = """
import sys
from pathlib import Path
from smki_desktop.core.environment import Environment
from smki_desktop.services.context import open_context
ctx = open_context(Environment.TEST, Path(sys.argv[1]))
try:
    for i in range(int(sys.argv[2])):
        ctx.audit.record("test.concurrent", {"n": i, "workstation": sys.argv[3]})
finally:
    ctx.close()
"""


@dataclass
class Workstation:
    name: str
    root: Path
    keyring: SecretServiceSession

    def smki(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "smki_desktop.cli", "--env", "test", "--data-dir",
             str(self.root), *args], env=self.keyring.env, capture_output=True, text=True,
            timeout=timeout)

    def writer(self, n: int) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", _WRITER, str(self.root), str(n),
                                 self.name], env=self.keyring.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def verify(self) -> dict[str, Any]:
        r = self.smki("audit", "verify", "--json")
        assert r.stdout, r.stderr
        data: dict[str, Any] = json.loads(r.stdout)
        data["code"] = r.returncode
        return data


def link(root: Path, server: PostgresServer, dbname: str, *, initialise: bool) -> None:
    """Link `root`'s Test environment to the team store `dbname`, with its own installation id,
    as `smki team connect` does (`team init` too for the first one, without its record)."""
    env_dir = root / "test"
    env_dir.mkdir(parents=True, exist_ok=True)
    lk = team_link.TeamLink(parse_team_url(server.socket_url(dbname))[0].text(),
                            secrets.token_hex(16), "2026-01-01T00:00:00+00:00")
    team_link.save(env_dir, lk)
    store = team_link.open_store(lk, None, env_dir)
    try:
        if initialise:
            team_repo.initialise(store, "test", "", lk.installation_id, lk.connected_at)
    finally:
        store.close()


def installation(ws: Workstation) -> str:
    lk = team_link.load(ws.root / "test")
    assert lk is not None
    return lk.installation_id


def endorse_all(workstations: list[Workstation]) -> None:
    """What the officers do when workstations join: the log's first writer (whichever wrote
    first) endorses the others (`smki team endorse`)."""
    for a in workstations:
        results = [a.smki("team", "endorse", installation(b)) for b in workstations
                   if b is not a]
        if all(r.returncode == 0 or "already endorsed" in r.stderr for r in results):
            return
        assert all("not endorsed itself" in r.stderr for r in results), \
            [r.stderr for r in results]
    pytest.fail("no workstation is endorsed")


@pytest.fixture
def team_db(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database()
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def two_workstations(tmp_path: Path, postgres_server: PostgresServer,
                     team_db: str) -> Iterator[list[Workstation]]:
    made: list[Workstation] = []
    try:
        for i, name in enumerate(("ws1", "ws2")):
            root = tmp_path / name / "data"
            link(root, postgres_server, team_db, initialise=i == 0)
            made.append(Workstation(name, root, unlocked_session(tmp_path / name / "keyring")))
        yield made
    finally:
        for ws in made:
            ws.keyring.stop()


def _sql(server: PostgresServer, dbname: str, *statements: str) -> list[tuple[Any, ...]]:
    """What an attacker with the store's owner rights can do, outside the app."""
    out: list[tuple[Any, ...]] = []
    with server.admin(dbname) as c:
        for s in statements:
            cur = c.execute(s)  # type: ignore[arg-type]
            if cur.description:
                out = list(cur.fetchall())
        c.commit()
    return out


def test_two_workstations_write_one_log_concurrently_and_both_verify_it(
        two_workstations: list[Workstation], postgres_server: PostgresServer,
        team_db: str) -> None:
    procs = [ws.writer(50) for ws in two_workstations]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err

    rows = _sql(postgres_server, team_db,
                "SELECT seq, action, writer, details FROM audit_log ORDER BY seq")
    # one linear chain: 100 records and one signed registration per workstation
    assert [r[0] for r in rows] == list(range(1, 103))
    regs = [r for r in rows if r[1] == "audit.writer.register"]
    assert len(regs) == 2 and len({r[2] for r in regs}) == 2
    for ws in two_workstations:
        mine = [json.loads(r[3])["n"] for r in rows
                if r[1] == "test.concurrent" and json.loads(r[3])["workstation"] == ws.name]
        assert mine == list(range(50)), f"{ws.name}'s records lost, doubled or reordered"
    # each registration precedes its writer's first record, and the writers interleaved
    for reg in regs:
        first = min(r[0] for r in rows if r[2] == reg[2])
        assert first == reg[0]
    writers_in_order = [r[2] for r in rows]
    switches = sum(1 for a, b in itertools.pairwise(writers_in_order) if a != b)
    assert switches >= 2, "the two workstations did not write at the same time"
    # no private key in the store: the registry holds 32-byte public keys only
    keys = _sql(postgres_server, team_db, "SELECT writer_id, public_key FROM audit_writers")
    assert len(keys) == 2 and all(len(bytes(k[1])) == 32 for k in keys)

    endorse_all(two_workstations)  # the second writer, vouched for by the first
    for ws in two_workstations:
        got = ws.verify()
        assert got["code"] == 0 and got["ok"], (ws.name, got["problems"])
        assert got["rows"] == 103
        assert sum("(this workstation)" in n for n in got["notes"]) == 1
        assert sum(n.startswith("Writer ") for n in got["notes"]) == 2

    # a third workstation that joined but wrote nothing checks the chain and both writers
    base = two_workstations[0].root.parent.parent
    ws3 = Workstation("ws3", base / "ws3" / "data", unlocked_session(base / "ws3" / "keyring"))
    try:
        link(ws3.root, postgres_server, team_db, initialise=False)
        got = ws3.verify()
        assert got["code"] == 0 and got["ok"], got["problems"]
        assert any("has written nothing" in n for n in got["notes"])
        assert sum(n.startswith("Writer ") for n in got["notes"]) == 2
    finally:
        ws3.keyring.stop()

    # an attacker with the store's rights changes one row of ws1's: both workstations see it
    victim = next(r[0] for r in rows if r[1] == "test.concurrent"
                  and json.loads(r[3])["workstation"] == "ws1")
    _sql(postgres_server, team_db, "ALTER TABLE audit_log DISABLE TRIGGER USER",
         f"UPDATE audit_log SET actor = 'someone else' WHERE seq = {victim}")
    for ws in two_workstations:
        got = ws.verify()
        assert got["code"] == 1 and not got["ok"]
        assert any(f"Row {victim} " in p and "edited" in p for p in got["problems"]), \
            (ws.name, got["problems"])


def test_each_workstation_detects_its_own_last_rows_deleted(
        two_workstations: list[Workstation], postgres_server: PostgresServer,
        team_db: str) -> None:
    ws1, ws2 = two_workstations
    for ws in (ws1, ws2):
        p = ws.writer(3)
        assert p.wait(timeout=120) == 0
    # ws2 wrote last: cutting its rows off leaves a valid chain, but ws2's keyring head is gone
    last_ws1 = _sql(postgres_server, team_db,
                    "SELECT max(seq) FROM audit_log WHERE action = 'test.concurrent' "
                    "AND details LIKE '%\"ws1\"%'")[0][0]
    _sql(postgres_server, team_db, "ALTER TABLE audit_log DISABLE TRIGGER USER",
         f"DELETE FROM audit_log WHERE seq > {last_ws1}")
    got = ws2.verify()
    assert got["code"] == 1 and any("were deleted" in p for p in got["problems"]), got
    # ws1's own records are intact: from ws1 the shortened chain still verifies, and it says
    # which writers it holds (ws2 with its one registration left), so ws2's report stands alone
    got1 = ws1.verify()
    assert got1["ok"], got1["problems"]


def test_a_writer_added_in_the_store_without_a_signed_registration_is_refused(
        two_workstations: list[Workstation], postgres_server: PostgresServer,
        team_db: str) -> None:
    """An attacker with store access registers a key in `audit_writers` and appends a row
    signed by it, chained correctly, but with no registration record: both refuse it. With a
    (self-signed) registration record it is reported as a writer no endorsed writer vouched
    for (tests/integration/test_team_writers.py)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from smki_desktop.core.audit import entry_hash, signing_payload
    from smki_desktop.services.audit import writer_id_of

    ws1, ws2 = two_workstations
    for ws in (ws1, ws2):
        assert ws.writer(2).wait(timeout=120) == 0
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    wid = writer_id_of(pub)
    seq, prev = _sql(postgres_server, team_db,
                     "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    ts, details = "2026-01-02T00:00:00.000000+00:00", json.dumps({"n": 1})
    h = entry_hash(prev, seq + 1, ts, "test", "intruder", "party.update", details, "{}")
    sig = base64.b64encode(key.sign(signing_payload(h, wid))).decode()
    _sql(postgres_server, team_db,
         f"INSERT INTO audit_writers VALUES ('{wid}', '\\x{pub.hex()}', 'x', 'test', '{ts}')",
         "INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,prev_hash,"
         f"hash,writer,sig) VALUES ({seq + 1}, '{ts}', 'test', 'intruder', 'party.update', "
         f"'{details}', '{{}}', '{prev}', '{h}', '{wid}', '{sig}')")
    for ws in (ws1, ws2):
        got = ws.verify()
        assert got["code"] == 1
        assert any(f"Row {seq + 1} " in p and "not a registered writer" in p
                   for p in got["problems"]), (ws.name, got["problems"])


def _join(root: Path, first: Path, tmp_path: Path, name: str) -> Workstation:
    """A second workstation joining the team store `first` is linked to (its own installation
    id, its own keyring), sharing its Test simulator as two desks share one DCC Boxed."""
    env_dir = root / "test"
    env_dir.mkdir(parents=True)
    theirs = team_link.load(first / "test")
    assert theirs is not None
    team_link.save(env_dir, team_link.TeamLink(theirs.url, secrets.token_hex(16),
                                               "2026-01-01T00:00:00+00:00"))
    (env_dir / "simulator").symlink_to(first / "test" / "simulator")
    return Workstation(name, root, unlocked_session(tmp_path / f"{name}-keyring"))


def _ok(r: subprocess.CompletedProcess[str]) -> Any:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.lstrip().startswith(("{", "[")) else r.stdout


def _officer_key_on(ws: Workstation, oid: str) -> str:
    """On `ws`: a file-signing key in its own keyring, the simulator's credential naming `oid`
    for it, and the key linked to `oid`'s entry in the shared register."""
    key = _ok(ws.smki("--json", "key", "generate", "--usage", "file-signing", "--label",
                      f"{oid} file signing"))["key_id"]
    _ok(ws.smki("credential", "request", "--purpose", "file-signing", "--key", key,
                "--officer", oid))
    _ok(ws.smki("officer", "link-key", oid, key))
    return str(key)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_aro_on_one_workstation_sro_on_another_revoke_and_two_sros_count_once(
        ctx, cli_run, data_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Workstation 1 (this process, its keyring) holds the ARO's key, workstation 2 (its own
    processes and keyring) the SRO's: the ARO requests, the SRO approves from 2, 1 submits, the
    simulator revokes. Then a second SRO on 1 and the first on 2 approve one request at once:
    one approval counts, the other is refused. Both workstations verify the shared log."""
    from smki_desktop.services import simulator_control
    from tests.integration.adt_support import set_profiles
    from tests.integration.identity_helpers import issue_org, officer_key, serial_of
    from tests.integration.portal_helpers import enrolled
    from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate

    enrolled(ctx)
    ws2 = _join(tmp_path / "ws2" / "data", data_root, tmp_path, "ws2")
    try:
        set_profiles(ctx)
        sro = make_active_sro(cli_run, tmp_path, "Alice Example")
        sro_key = _officer_key_on(ws2, sro)
        # workstation 2 has written (its key, its credential): the officers endorse it, so
        # that what it recorded (the credential's import) counts on workstation 1 too
        ws1 = Workstation("ws1", data_root, ws2.keyring)
        ws1.keyring = type(ws2.keyring)(data_root, dict(os.environ))
        endorse_all([ws1, ws2])
        # the SRO's private key is in workstation 2's keyring only: 1 cannot sign with it
        with pytest.raises(KeyEntryMissing), ctx.keystore.signer(sro_key):
            pass
        # workstation 1 cannot sign the ARO's nomination for the SRO (refused, nothing
        # recorded); the SRO nominates from workstation 2, where their key is
        res = nominate(cli_run, tmp_path, "aro", "Bob Aro", nominator__officer_id=sro,
                       nominator__name="Alice Example", sro_key=sro_key)
        assert res.code == 1 and "not in this workstation's keyring" in res.err, res.err
        assert sro in res.err and "Alice Example" in res.err
        form = sorted(tmp_path.glob("aro-Bob-Aro-*.json"))[-1]
        aro = _ok(ws2.smki("--json", "officer", "nominate", "--form", "aro", "--from",
                           str(form), "--as", sro, "--key", sro_key))["officer"]["officer_id"]
        assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                       "--evidence", EVIDENCE).code == 0
        _ok(ws2.smki("officer", "activate", aro, "--as", sro, "--key", sro_key))
        aro_key = officer_key(ctx, cli_run, aro)

        cert = issue_org(ctx, "90-B3-D5-1F-30-01-00-91")
        r = cli_run("--json", "revoke", "request", serial_of(cert), "--reason",
                    "keyCompromise", "--justification", "laptop stolen", "--as", aro,
                    "--key", aro_key)
        assert r.code == 0, r.err
        rid = str(r.json()["id"])
        # workstation 2 sees the request in the shared store and approves it there
        assert _ok(ws2.smki("--json", "revoke", "status", rid))["state"] == "waiting"
        _ok(ws2.smki("revoke", "approve", rid, "--as", sro, "--key", sro_key))
        assert cli_run("--json", "revoke", "status", rid).json()["state"] == "approved"
        r = cli_run("revoke", "submit", rid)
        assert r.code == 0, r.err
        r = cli_run("--json", "portal", "poll")
        assert r.code == 0 and rid in r.json()["revoked"], (r.err, r.out)
        assert _ok(ws2.smki("--json", "revoke", "status", rid))["state"] == "revoked"

        # two SROs, one on each workstation, approve the same request at the same moment
        sro2 = make_active_sro(cli_run, tmp_path, "Carol Second")
        sro2_key = officer_key(ctx, cli_run, sro2)
        cert2 = issue_org(ctx, "90-B3-D5-1F-30-01-00-92")
        r = cli_run("--json", "revoke", "request", serial_of(cert2), "--reason",
                    "keyCompromise", "--justification", "second laptop", "--as", aro,
                    "--key", aro_key)
        assert r.code == 0, r.err
        rid2 = str(r.json()["id"])
        racers = [subprocess.Popen(
            [sys.executable, "-m", "smki_desktop.cli", "--env", "test", "--data-dir",
             str(ws.root), "revoke", "approve", rid2, "--as", who, "--key", key],
            env=ws.keyring.env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for ws, who, key in ((ws1, sro2, sro2_key), (ws2, sro, sro_key))]
        results = [(p.wait(timeout=120), p.communicate()[1]) for p in racers]
        codes = sorted(c for c, _ in results)
        assert codes == [0, 1], results
        refused = next(err for c, err in results if c == 1)
        # both usually read the request while it waited (then the store's write lock decides:
        # "decided meanwhile"); a racer that starts late is refused by the state check instead
        assert ("was decided meanwhile" in refused and "not recorded" in refused) or \
            "only a waiting request" in refused, refused
        status = cli_run("--json", "revoke", "status", rid2).json()
        assert status["state"] == "approved" and len(status["approved_by"]) == 1, status
        approvals = [e for e in ctx.audit.entries(action_prefix="revoke.approve")
                     if e.details.get("id") == rid2]
        assert len(approvals) == 1

        # the shared log: written by both (ws2 vouched for by ws1), verified from both
        for ws in (ws1, ws2):
            got = ws.verify()
            assert got["ok"], (ws.name, got["problems"])
    finally:
        simulator_control.stop(ctx)
        ws2.keyring.stop()
