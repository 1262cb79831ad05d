"""Shared set-up for the identity and dual-control tests: the simulator (a real separate process
over mutual TLS), a Party, and officers nominated, verified and activated in the register, each
with their own file-signing key, an IKI credential the simulator issued to that register id, and
the key linked to their entry."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import portal, simulator_control
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import feed_simulator
from smki_desktop.services.revocation import SIGNED_PATH, _parse_answer
from smki_desktop.services.revocation_state import get_view
from tests.integration.adt_support import active_aro, set_profiles
from tests.integration.portal_helpers import enrolled, org_csr
from tests.integration.test_officer_cli import make_active_sro


@dataclass
class Team:
    sim: simulator_control.SimulatorInfo
    sro: str
    sro_key: str
    aro: str
    aro_key: str


def officer_key(ctx: AppContext, cli_run: Any, oid: str) -> str:
    """A new file-signing key, its credential from the simulator naming `oid`, linked."""
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, f"{oid} file signing")
    r = cli_run("credential", "request", "--purpose", "file-signing", "--key", info.key_id,
                "--officer", oid)
    assert r.code == 0, r.err
    r = cli_run("officer", "link-key", oid, info.key_id)
    assert r.code == 0, r.err
    return info.key_id


def make_team(ctx: AppContext, cli_run: Any, tmp_path: Path,
              sim: simulator_control.SimulatorInfo | None = None) -> Team:
    sim = sim or enrolled(ctx)
    set_profiles(ctx)
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    sro_key = officer_key(ctx, cli_run, sro)
    aro = active_aro(cli_run, tmp_path, sro, name="Bob Aro", sro_name="Alice Example",
                     sro_key=sro_key)
    return Team(sim, sro, sro_key, aro, officer_key(ctx, cli_run, aro))


def issue_org(ctx: AppContext, eui: str) -> x509.Certificate:
    ref = portal.submit_org_csr(ctx, org_csr(ctx, eui)).item.ref
    for _ in range(20):
        time.sleep(0.3)
        portal.poll(ctx, force=True)
        if portal.outbox(ctx).get(ref).result:
            break
    return x509.load_der_x509_certificate(portal.outbox(ctx).get(ref).result or b"")


def serial_of(cert: x509.Certificate) -> str:
    return f"{cert.serial_number:X}"


def payload(request: bytes, sigs: list[tuple[str, bytes]]) -> bytes:
    return json.dumps({"request": base64.b64encode(request).decode(),
                       "signatures": [{"kind": k, "signature": base64.b64encode(s).decode()}
                                      for k, s in sigs]}).encode()


def post_to_simulator(ctx: AppContext, body: bytes) -> dict[str, Any]:
    """Send a signed revocation straight to the simulator, past every check of the app."""
    feed_simulator(ctx, simulator_control.start(ctx))
    p = portal.open_portal(ctx)
    try:
        return p.http.request("POST", SIGNED_PATH, body, {"Content-Type": "application/json"},
                              _parse_answer, "signed revocation request")
    finally:
        p.close()


def stored(ctx: AppContext, request_id: str) -> tuple[bytes, dict[str, bytes]]:
    """A stored request's bytes and its signatures by kind."""
    v = get_view(ctx, request_id)
    return v.row.body, {s.kind: s.signature for s in v.signatures}


def revoke_with_dual_control(ctx: AppContext, cli_run: Any, team: Team, serial: str,
                             reason: str = "keyCompromise") -> str:
    """ARO request -> SRO approval -> submission; returns the request id."""
    r = cli_run("--json", "revoke", "request", serial, "--reason", reason, "--justification",
                "laptop stolen on the train", "--as", team.aro, "--key", team.aro_key)
    assert r.code == 0, r.err
    rid = str(r.json()["id"])
    r = cli_run("revoke", "approve", rid, "--as", team.sro, "--key", team.sro_key)
    assert r.code == 0, r.err
    r = cli_run("revoke", "submit", rid)
    assert r.code == 0, r.err
    return rid


def sro_authorises(ctx: AppContext, cli_run: Any, tmp_path: Path, der: bytes) -> str:
    """Where the org-csr rule is on (Live by default): an active SRO of `ctx`'s environment,
    with a signing key, authorises this Organisation CSR. Returns the authorisation id."""
    from smki_desktop.services import org_csr_approval
    from smki_desktop.services.officers import list_officers
    from tests.integration.adt_support import officer_signing_key

    env = ctx.env.value
    have = [o for o in list_officers(ctx) if o.role.value == "sro"
            and o.status.value == "active" and o.name == "Olga Authoriser"]
    if have:
        sro = have[0].officer_id
        key = have[0].credentials[0].key_id
    else:
        sro = make_active_sro(cli_run, tmp_path, "Olga Authoriser", env=env)
        key = officer_signing_key(ctx, None, sro)
    return org_csr_approval.authorise(ctx, der, as_ref=sro, key_ref=key).authorisation_id
