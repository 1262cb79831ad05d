"""The offline adapter: requests written as a signed bundle, relayed by a connected machine
(here the same installation, against the simulator), and the answers read back."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import portal, portal_offline, simulator_control
from tests.integration.portal_helpers import device_csrs, enrolled, org_csr, submissions


@pytest.fixture
def sim(ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    from tests.integration.adt_support import simulator_active_aro

    info = enrolled(ctx)
    # the simulator issues a file-signing credential only to a verified, named officer; an
    # offline bundle is signed (and accepted) only by an ARO in active standing
    (tmp_path / "officers").mkdir()
    simulator_active_aro(ctx, cli_run, tmp_path / "officers", organisation="Acme Energy Ltd")
    yield info
    simulator_control.stop(ctx)


def _only(folder: Path, prefix: str) -> Path:
    found = sorted(p for p in folder.iterdir() if p.name.startswith(prefix))
    return found[-1]


def test_offline_round_trip(ctx, sim, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    org = portal.submit_org_csr(ctx, org_csr(ctx), send_now=False).item
    batch = portal.enqueue_device_batch(ctx, device_csrs(3, 0x00DB123456750000))
    bundle = portal_offline.export_offline(ctx, usb)
    assert {p.name for p in bundle.iterdir()} >= {"manifest.json", "manifest.json.p7s",
                                                  f"{org.ref}.csr", f"{batch.ref}.xml"}
    # the signature verifies with openssl over the exact manifest bytes
    r = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                        str(bundle / "manifest.json.p7s"), "-content",
                        str(bundle / "manifest.json"), "-noverify", "-out", "/dev/null"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    answers = portal_offline.relay_offline(ctx, bundle, usb / "back")
    # relaying the same bundle twice is harmless: same client references
    time.sleep(1.1)
    portal_offline.relay_offline(ctx, bundle, usb / "back2")
    changed = portal_offline.import_offline(ctx, answers)
    assert {i.ref: i.state for i in changed} == {org.ref: "submitted", batch.ref: "submitted"}
    per_ref = [b["client_ref"] for b in submissions(sim)["batches"]]
    assert per_ref.count(batch.ref) == 1
    time.sleep(0.8)
    second = portal_offline.export_offline(ctx, usb / "second")
    back = portal_offline.relay_offline(ctx, second, usb / "back3")
    done = {i.ref: i for i in portal_offline.import_offline(ctx, back)}
    assert done[org.ref].state == "done" and done[batch.ref].state == "done"
    assert done[org.ref].meta["certificate"]["status"] == "accepted"
    assert len(portal.batch_results(ctx, batch.ref)) == 3


def test_tampered_bundle_is_refused(ctx, sim, tmp_path: Path) -> None:
    portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456790000))
    bundle = portal_offline.export_offline(ctx, tmp_path)
    payload = next(p for p in bundle.iterdir() if p.suffix == ".xml")
    payload.write_bytes(payload.read_bytes().replace(b'ID="', b'ID="X', 1))
    with pytest.raises(Refusal, match="changed after signing"):
        portal_offline.relay_offline(ctx, bundle, tmp_path / "out")
    manifest = bundle / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"test"', b'"test" '))
    with pytest.raises(Refusal):
        portal_offline.relay_offline(ctx, bundle, tmp_path / "out")


def test_live_refuses_a_test_bundle(ctx, sim, live_ctx, tmp_path: Path) -> None:
    portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB1234567A0000))
    bundle = portal_offline.export_offline(ctx, tmp_path)
    with pytest.raises(Refusal, match="Test environment"):
        from smki_desktop.portal.offline import read_request_bundle

        read_request_bundle(bundle, live_ctx.env)


def test_relayed_answers_naming_a_csr_we_never_sent_are_refused_whole(ctx, sim,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    """The answers bundle is signed by the relaying ARO, who signs what the DCC answered: a
    batch result in it is still checked against the CSRs we sent before any answer is
    applied (here the relay signs a result naming a CSR we never sent)."""
    import hashlib
    import json

    from smki_desktop.core.portal_ports import MalformedAnswer

    org = portal.submit_org_csr(ctx, org_csr(ctx, "90-B3-D5-1F-30-01-00-77"),
                                send_now=False).item
    batch = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB123456770000))
    first = portal_offline.relay_offline(
        ctx, portal_offline.export_offline(ctx, tmp_path / "a"), tmp_path / "b")
    portal_offline.import_offline(ctx, first)
    time.sleep(0.8)
    back = portal_offline.relay_offline(
        ctx, portal_offline.export_offline(ctx, tmp_path / "c"), tmp_path / "d")
    result = back / f"{batch.ref}.result"
    doc = json.loads(result.read_bytes())
    doc["items"].append({"id": "dNEVERSENT", "status": "CSR_ERROR", "error_code": "CR:X",
                         "error_text": None, "certificate": None})
    result.write_bytes(json.dumps(doc).encode())
    manifest = json.loads((back / "manifest.json").read_bytes())
    for e in manifest["answers"]:
        if e["ref"] == batch.ref:
            e["sha256"] = hashlib.sha256(result.read_bytes()).hexdigest()
    raw = json.dumps(manifest).encode()
    (back / "manifest.json").write_bytes(raw)
    _resign(ctx, back, raw)
    with pytest.raises(MalformedAnswer, match="dNEVERSENT"):
        portal_offline.import_offline(ctx, back)
    ob = portal.outbox(ctx)
    assert ob.get(batch.ref).state == "submitted" and ob.get(batch.ref).result is None
    assert ob.get(org.ref).state == "submitted"  # nothing applied, not even the good answer


def _resign(ctx, folder: Path, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    """Sign an answers manifest again as the relay's ARO (what a relay would have written)."""
    from smki_desktop.services import identity
    from smki_desktop.services.portal_offline_checks import acting_aro

    actor = acting_aro(ctx, None, None, "test")
    (folder / "manifest.json.p7s").write_bytes(identity.sign(ctx, actor, raw, ctx.clock.now()))
