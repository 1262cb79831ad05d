"""The air-gapped path under attack (the review's reproductions, turned into regression tests):
a relay sends only what an ARO in active standing of this register signed, and only what passes
the checks made when it was queued; the offline machine takes back only answers the relaying
ARO signed, for a bundle it exported, once; no reference from a bundle names a file outside it;
a bundle's files are read bounded; what the other side wrote never reaches a terminal raw.
Real simulator, real keyring."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.portal_ports import MalformedAnswer
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.portal.offline import (
    Answer,
    BundleEntry,
    read_request_bundle,
    write_answer_bundle,
    write_request_bundle,
)
from smki_desktop.services import identity, portal, portal_offline, simulator_control
from smki_desktop.services.portal_offline_checks import acting_aro
from smki_desktop.services.token import signer_for
from tests.integration.portal_helpers import device_csrs, enrolled, org_csr, submissions


def _ref(kind: str, n: int) -> str:
    return kind + f"{n:030x}"


@pytest.fixture
def aro(ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    """The simulator, and an ARO in active standing whose simulator-issued file-signing
    credential is linked to the entry (the local profile linked to it)."""
    from tests.integration.adt_support import simulator_active_aro

    info = enrolled(ctx)
    (tmp_path / "officers").mkdir()
    simulator_active_aro(ctx, cli_run, tmp_path / "officers", organisation="Acme Energy Ltd")
    yield info
    simulator_control.stop(ctx)


def _sent_refs(info) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["client_ref"] for r in submissions(info)["submissions"]}


def _mallory(ctx, register_id: str = "") -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:  # type: ignore[no-untyped-def]
    """A file-signing credential the DCC's IKI CA (the simulator's) issued to another Party's
    officer, naming `register_id` if given."""
    from smki_desktop.simulator.ca import issue_credential
    from smki_desktop.simulator.state import SimState

    iki = SimState(simulator_control.state_dir(ctx)).hierarchy.iki_ca
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(x509.NameOID.COMMON_NAME, "Mallory"),
             x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Evil Energy Ltd")]
    if register_id:
        attrs.append(x509.NameAttribute(x509.NameOID.SERIAL_NUMBER, register_id))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs)).sign(
        key, hashes.SHA256())
    return key, issue_credential(iki, csr, "file-signing", datetime.now(UTC))


def _as_aro(ctx, folder: Path, entries: list[BundleEntry]) -> Path:  # type: ignore[no-untyped-def]
    """A request bundle signed by this register's active ARO (what export would sign)."""
    actor = acting_aro(ctx, None, None, "test")
    with signer_for(ctx, actor.key) as s:
        return write_request_bundle(folder, ctx.env, entries, s, actor.credential.certificate,
                                    datetime.now(UTC), extra_certs=actor.chain[1:])


def _rewrite(ctx, folder: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Change a bundle's manifest and sign it again as this register's active ARO."""
    doc = json.loads((folder / "manifest.json").read_bytes())
    change(doc)
    raw = json.dumps(doc).encode()
    (folder / "manifest.json").write_bytes(raw)
    actor = acting_aro(ctx, None, None, "test")
    (folder / "manifest.json.p7s").write_bytes(identity.sign(ctx, actor, raw, ctx.clock.now()))


# -- finding 1: who may have the relay send ----------------------------------------------------

def test_relay_refuses_a_bundle_signed_by_another_partys_officer(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ref = _ref("O", 1)
    csr = org_csr(ctx, "90-B3-D5-1F-30-01-00-99")
    for register_id in ("", "ARO-0001"):  # naming no one; naming our ARO with its own key
        key, cert = _mallory(ctx, register_id)
        b = write_request_bundle(tmp_path / f"usb{register_id}", Environment.TEST,
                                 [BundleEntry(ref, "org-csr", "org-csr", None, csr)],
                                 MemorySigner(key), cert, datetime.now(UTC))
        with pytest.raises(Refusal, match="nothing in it was used") as err:
            portal_offline.relay_offline(ctx, b, tmp_path / f"back{register_id}")
        assert ("names none" in err.value.message if not register_id
                else "not linked" in err.value.message), err.value.message
    assert ref not in _sent_refs(aro)
    assert not list((tmp_path).glob("back*/smki-answers-*"))


def test_relay_refuses_a_bundle_signed_by_an_sro(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.officers import OfficerRole
    from smki_desktop.services import officers

    sro = next(o for o in officers.list_officers(ctx) if o.role is OfficerRole.SRO
               and o.credentials)
    actor = identity.resolve_actor(ctx, sro.officer_id, sro.credentials[0].key_id,
                                   roles=(OfficerRole.SRO,), what="test")
    ref = _ref("R", 2)
    with signer_for(ctx, actor.key) as s:
        b = write_request_bundle(tmp_path / "usb", Environment.TEST,
                                 [BundleEntry(ref, "revocation", "revocation", None, b"7A0B")],
                                 s, actor.credential.certificate, datetime.now(UTC),
                                 extra_certs=actor.chain[1:])
    with pytest.raises(Refusal, match="done by an ARO"):
        portal_offline.relay_offline(ctx, b, tmp_path / "back")
    assert ref not in _sent_refs(aro)


def test_live_relay_with_no_anchor_refuses_a_self_signed_bundle(live_ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Anybody")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(k.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now.replace(year=now.year + 1)).sign(k, hashes.SHA256()))
    b = write_request_bundle(tmp_path, Environment.LIVE,
                             [BundleEntry(_ref("R", 3), "revocation", "revocation", None,
                                          b"0123ABCD")],
                             MemorySigner(k, environment=Environment.LIVE), cert, now)
    with pytest.raises(Refusal, match="no trust anchor"):
        portal_offline.relay_offline(live_ctx, b, tmp_path / "back")
    with pytest.raises(Refusal, match="no trust anchor"):
        read_request_bundle(b, Environment.LIVE, trust_anchors=[])


def test_relay_makes_the_export_checks_again(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Signed by our own ARO, but not what export would have let out: each such request is
    answered 'failed' with the reason, and never sent."""
    bad_serial, adhoc_poll = _ref("R", 4), _ref("A", 5)
    b = _as_aro(ctx, tmp_path / "usb", [
        BundleEntry(bad_serial, "revocation", "revocation", None, b"not-hex; DROP"),
        BundleEntry(adhoc_poll, "poll", "device-adhoc", "1", b"")])
    out = portal_offline.relay_offline(ctx, b, tmp_path / "back")
    doc = json.loads((out / "manifest.json").read_bytes())
    got = {a["ref"]: a for a in doc["answers"]}
    assert got[bad_serial]["state"] == "failed"
    assert "not sent by the relay" in got[bad_serial]["error"]
    assert "hexadecimal" in got[bad_serial]["error"]
    assert got[adhoc_poll]["state"] == "failed"
    assert not {bad_serial, adhoc_poll} & _sent_refs(aro)
    rec = ctx.audit.entries(action_prefix="portal.offline.relay")[0]
    assert rec.details["signer"]["officer_id"] == "ARO-0001"
    assert set(rec.details["refused"]) == {bad_serial, adhoc_poll}


# -- finding 2: the answers bundle ---------------------------------------------------------------

def _queue_revocation(ctx) -> Any:  # type: ignore[no-untyped-def]
    """What a revocation queued on a machine with no connection looks like."""
    with ctx.audit.change():
        rev = portal.outbox(ctx).add("revocation", b"7A0B1C2D3E4F", {"reason": "compromise"})
        ctx.audit.record("portal.revoke", {"ref": rev.ref, "serial": "7A0B1C2D3E4F",
                                           "reason": "compromise"}, {})
    return rev


def test_forged_answers_are_refused(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch = portal.enqueue_device_batch(ctx, device_csrs(2, 0x00DB123456750000))
    answers = portal_offline.relay_offline(
        ctx, portal_offline.export_offline(ctx, tmp_path / "a"), tmp_path / "b")
    rev = _queue_revocation(ctx)  # queued after the export: never exported, never relayed
    ob = portal.outbox(ctx)
    forged = [Answer(rev.ref, "done", None, "COMPLETED", None, None),
              Answer(batch.ref, "done", "B-1", "COMPLETED", None, None)]
    # 1. unsigned (anyone with the stick)
    unsigned = write_answer_bundle(tmp_path / "f1", Environment.TEST, forged, datetime.now(UTC),
                                   request_sha256="0" * 64, refs=[rev.ref, batch.ref])
    with pytest.raises(Refusal, match="not signed"):
        portal_offline.import_offline(ctx, unsigned)
    # 2. signed by our ARO, but for a request bundle this installation never exported
    _rewrite(ctx, unsigned, lambda d: None)
    with pytest.raises(Refusal, match="did not export"):
        portal_offline.import_offline(ctx, unsigned)
    # 3. the real answers with an answer added for a request that was not in the bundle
    def add_rev(d: dict[str, Any], listed: bool) -> None:
        d["answers"].append({"ref": rev.ref, "state": "done", "server_id": None,
                             "server_status": "COMPLETED", "error": None})
        if listed:
            d["request"]["refs"].append(rev.ref)
    for listed, why in ((False, "does not list it"), (True, "was not in the request bundle")):
        copy = tmp_path / f"c{listed}"
        _copy(answers, copy)
        _rewrite(ctx, copy, lambda d, listed=listed: add_rev(d, listed))
        with pytest.raises(Refusal, match=why):
            portal_offline.import_offline(ctx, copy)
    assert ob.get(rev.ref).state == "queued" and ob.get(batch.ref).state == "queued"
    # 4. a device batch 'done' with no result
    copy = tmp_path / "d"
    _copy(answers, copy)
    _rewrite(ctx, copy, lambda d: d["answers"][0].update(state="done", server_status="COMPLETED"))
    with pytest.raises(MalformedAnswer, match="carries no result"):
        portal_offline.import_offline(ctx, copy)
    assert ob.get(batch.ref).state == "queued" and ob.get(batch.ref).result is None
    # the real answers are taken, once
    assert [i.ref for i in portal_offline.import_offline(ctx, answers)] == [batch.ref]
    with pytest.raises(Refusal, match="already imported"):
        portal_offline.import_offline(ctx, answers)


def _copy(src: Path, dst: Path) -> None:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())


def test_answer_text_reaches_no_terminal_raw(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    org = portal.submit_org_csr(ctx, org_csr(ctx), send_now=False).item
    answers = portal_offline.relay_offline(
        ctx, portal_offline.export_offline(ctx, tmp_path / "a"), tmp_path / "b")
    _rewrite(ctx, answers, lambda d: d["answers"][0].update(
        server_id="999\x1b[2J\x1b[31mLOOK\nfake line", server_status="PENDING\x1b[0m\u202e"))
    (item,) = portal_offline.import_offline(ctx, answers)
    assert item.ref == org.ref
    shown = portal.describe(item)
    assert not any(ch in shown for ch in "\x1b\n\u202e"), repr(shown)
    assert "[U+001B]" in (item.server_id or "") and "[U+000A]" in (item.server_id or "")


# -- finding 3: references that name files ------------------------------------------------------

def test_a_reference_cannot_lead_outside_the_answers_folder(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (_, csr), = device_csrs(1, 0x00DB123456AA0000)
    target = tmp_path / "victim-home"
    target.mkdir()
    b = _as_aro(ctx, tmp_path / "usb-in", [BundleEntry(_ref("A", 6), "device-adhoc",
                                                       "device-adhoc", None, csr)])
    _rewrite(ctx, b, lambda d: d["requests"][0].update(ref="../../../victim-home/planted"))
    with pytest.raises(InputError, match="not an outbox client reference"):
        portal_offline.relay_offline(ctx, b, tmp_path / "usb" / "answers")
    assert list(target.iterdir()) == []
    assert _ref("A", 6) not in _sent_refs(aro)
    # nor a file name other than the one its reference gives
    b2 = _as_aro(ctx, tmp_path / "usb2", [BundleEntry(_ref("A", 7), "device-adhoc",
                                                      "device-adhoc", None, csr)])
    _rewrite(ctx, b2, lambda d: d["requests"][0].update(file="../usb-in/manifest.json"))
    with pytest.raises(InputError, match="must be named"):
        portal_offline.relay_offline(ctx, b2, tmp_path / "back2")


# -- finding 4: bounded, non-blocking reads -----------------------------------------------------

@pytest.mark.timeout(60)
def test_hostile_files_in_a_bundle_are_refused_without_blocking(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456BB0000))
    answers = portal_offline.relay_offline(
        ctx, portal_offline.export_offline(ctx, tmp_path / "a"), tmp_path / "b")
    manifest = answers / "manifest.json"
    good = manifest.read_bytes()
    started = time.monotonic()
    for kind in ("fifo", "zero", "link"):
        manifest.unlink()
        if kind == "fifo":
            os.mkfifo(manifest)
        elif kind == "zero":
            manifest.symlink_to("/dev/zero")
        else:
            (tmp_path / "elsewhere.json").write_bytes(good)
            manifest.symlink_to(tmp_path / "elsewhere.json")
        with pytest.raises(InputError, match="regular file|symbolic link"):
            portal_offline.import_offline(ctx, answers)
    assert time.monotonic() - started < 20
    # too large: refused from its size, not read whole
    manifest.unlink()
    with open(manifest, "wb") as f:
        f.truncate((16 << 20) + 1)
    with pytest.raises(InputError, match="larger than 16 MiB"):
        portal_offline.import_offline(ctx, answers)


def test_an_exported_bundle_records_what_it_binds(ctx, aro, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch = portal.enqueue_device_batch(ctx, device_csrs(1, 0x00DB123456CC0000))
    b = portal_offline.export_offline(ctx, tmp_path)
    rec = ctx.audit.entries(action_prefix="portal.offline.export")[0]
    assert rec.details["refs"] == [batch.ref]
    assert rec.details["manifest_sha256"] == hashlib.sha256(
        (b / "manifest.json").read_bytes()).hexdigest()
    assert rec.details["signed_by"] == "ARO-0001"
