"""A ceremony transcript's signers are the people the plan names (attack review F3): `ceremony
verify` passed a witness signature made by someone who is not that witness, and a whole
transcript rewritten and re-chained with the attacker's key and CSR, re-signed with any
credential that chains to a file-signing anchor here; `witness_sign` signed whatever finished
journal it was given. Each signer is now resolved as at run time: a file-signing credential of
this environment held by the active register entry bearing the plan's name."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ceremony_transcript as ct
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.crypto.der import encode
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_verify
from smki_desktop.services.context import open_context
from smki_desktop.services.csr import create_org_csr
from tests.integration.adt_support import make_aro
from tests.integration.ceremony_support import make_witness, prepare
from tests.integration.test_ceremony_service import CEREMONY, Answers, _fake_net

W = ["Wendy Witness", "Walt Witness"]


def _run(ctx, tmp_path: Path):  # type: ignore[no-untyped-def]
    aro = prepare(ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY.replace('backup = "passphrase"', 'backup = "none"'))
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    run.sys_net = _fake_net(tmp_path / "net", up=False)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    assert ceremony_verify.verify_transcript(ctx, out).ok
    return aro, out


def _sign_with(ctx, key_id: str, cert, data: bytes) -> bytes:  # type: ignore[no-untyped-def]
    with ctx.keystore.signer(key_id) as signer:
        return sign_detached(data, signer, cert, datetime.now(UTC))


def test_a_witness_signature_by_someone_else_is_not_the_witnesss(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro, out = _run(ctx, tmp_path)
    data = (out / "transcript.jsonl").read_bytes()
    wendy = ceremony_verify.witness_signature_path(out, "Wendy Witness")

    # a credential from the same file-signing CA that no register entry holds
    mallory = make_witness(ctx, tmp_path, aro, "Mallory", register=False)
    wendy.write_bytes(_sign_with(ctx, mallory.key.key_id, mallory.certificate, data))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert not rep.ok
    assert any(p.startswith("the witness Wendy Witness signed with credential "
                            f"{mallory.key.key_id[:16]} (CN=Mallory") and
               "which no entry of the Test officer register holds" in p
               for p in rep.problems), rep.problems

    # an officer of the register, but not Wendy
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")
    wendy.write_bytes(_sign_with(ctx, walt.key.key_id, walt.certificate, data))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("the witness Wendy Witness signed with credential" in p and
               "(Walt Witness), not to Wendy Witness" in p for p in rep.problems), rep.problems

    # the administrator (a register entry named Ada Aro) as a witness
    wendy.write_bytes(_sign_with(ctx, aro.key.key_id, aro.certificate, data))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("Wendy Witness's signature was made with the administrator's credential" in p
               for p in rep.problems), rep.problems

    # Wendy's own: verified, naming her register entry
    own = make_witness(ctx, tmp_path, aro, "Wendy Witness")
    wendy.unlink()
    ceremony_verify.witness_sign(ctx, out, "Wendy Witness", own.key.key_id[:12])
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert rep.ok, rep.problems
    assert any(c.startswith("witness Wendy Witness: signature by CN=Wendy Witness") and
               "register entry SRO-" in c for c in rep.checked), rep.checked


def test_a_suspended_witness_signature_does_not_count(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services.officers import list_officers
    from tests.integration.adt_support import officer_signing_key
    from tests.integration.test_officer_cli import make_active_sro

    aro, out = _run(ctx, tmp_path)
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")
    ceremony_verify.witness_sign(ctx, out, "Walt Witness", walt.key.key_id[:12])
    assert ceremony_verify.verify_transcript(ctx, out).ok
    # an SRO suspends Walt (the register's signed log): his signature no longer stands
    sro_id = make_active_sro(cli_run, tmp_path, "Sid Signer")
    sro_key = officer_signing_key(ctx, cli_run, sro_id)
    walt_id = next(o.officer_id for o in list_officers(ctx) if o.name == "Walt Witness")
    r = cli_run("officer", "suspend", walt_id, "--reason", "left", "--as", sro_id, "--key",
                sro_key)
    assert r.code == 0, r.err
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("the witness Walt Witness signed with credential" in p and "flagged" in p
               for p in rep.problems), rep.problems


def _rechain(out: Path, edit) -> bytes:  # type: ignore[no-untyped-def]
    """The journal with `edit(entries)` applied, re-chained (as anyone can: the chain has no
    key), the text transcript rendered again and the printable one dropped."""
    entries: list[dict[str, Any]] = [json.loads(line) for line in
                                     (out / "transcript.jsonl").read_bytes().splitlines()]
    entries = edit(entries)
    prev = ct.GENESIS
    for e in entries:
        e["prev"] = prev
        if e["step"] == "finish" and e["event"] == "done":
            body = ct.Journal(tuple(x for x in entries if x["seq"] < e["seq"]))
            txt = ct.render_text(body).encode()
            (out / e["data"]["transcript_text"]).write_bytes(txt)
            e["data"]["transcript_text_sha256"] = hashlib.sha256(txt).hexdigest()
            if e["data"].get("transcript_pdf"):
                (out / e["data"]["transcript_pdf"]).unlink()
                e["data"]["transcript_pdf"] = None
        e["hash"] = ct.entry_hash(e)
        prev = e["hash"]
    data = b"".join(ct.entry_line(e) for e in entries)
    (out / "transcript.jsonl").write_bytes(data)
    return data


def test_a_rewritten_rechained_transcript_with_the_attackers_key_is_not_verified(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    aro, out = _run(ctx, tmp_path)
    mallory = make_witness(ctx, tmp_path, aro, "Mallory", register=False)
    # the attacker's own ceremony-shaped CSR: their key, the plan's role and EUI
    att = open_context(Environment.TEST, tmp_path / "attacker")
    try:
        make_aro(att, tmp_path / "attpki")
        key = att.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "mine")
        csr = create_org_csr(att, key.key_id, "xmlSign", "90-B3-D5-1F-30-01-00-09").der
    finally:
        att.close()
    pub_pem = serialization.load_der_public_key(key.public_key_der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    csr_rel = "csr/small-one-xml-90B3D51F30010009.csr"
    orig = (out / csr_rel).read_bytes()
    new = encode(csr, "pem") if orig.startswith(b"-----") else csr
    (out / csr_rel).write_bytes(new)

    def edit(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        old_kid = next(e["data"]["key_id"] for e in entries
                       if e["step"] == "key:xml" and e["event"] == "done")
        for e in entries:
            d = e["data"]
            if e["event"] == "begin":
                d["administrator"]["key_id"] = mallory.key.key_id
            if e["step"] == "key:xml" and e["event"] == "done":
                for f in list(d):
                    if "public_key" in f and "pem" in f:
                        d[f] = pub_pem
                    if f == "fingerprint":
                        d[f] = f"SHA-256:{key.key_id}"
        text = json.dumps(entries).replace(hashlib.sha256(orig).hexdigest(),
                                           hashlib.sha256(new).hexdigest())
        return list(json.loads(text.replace(old_kid, key.key_id)))

    data = _rechain(out, edit)
    (out / "transcript.jsonl.p7s").write_bytes(
        _sign_with(ctx, mallory.key.key_id, mallory.certificate, data))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert not rep.ok
    assert any(p.startswith("the administrator Ada Aro signed with credential "
                            f"{mallory.key.key_id[:16]} (CN=Mallory") for p in rep.problems), \
        rep.problems
    assert any("records no printable transcript" in p for p in rep.problems), rep.problems

    # a witness is not made to sign it: witness_sign verifies first
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")
    with pytest.raises(Refusal, match=r"does not verify, so the witness does not sign it: "
                                      r".*the administrator Ada Aro signed with credential"):
        ceremony_verify.witness_sign(ctx, out, "Walt Witness", walt.key.key_id[:12])
    assert not ceremony_verify.witness_signature_path(out, "Walt Witness").exists()


def test_the_administrators_credential_must_be_held_by_the_named_administrator(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    """The journal rewritten to name another officer's credential (a register entry, but not
    Ada Aro's) as the administrator's, and signed with it: not verified, naming whose it is."""
    aro, out = _run(ctx, tmp_path)
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")

    def edit(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[0]["data"]["administrator"]["key_id"] = walt.key.key_id
        return entries

    data = _rechain(out, edit)
    (out / "transcript.jsonl.p7s").write_bytes(
        _sign_with(ctx, walt.key.key_id, walt.certificate, data))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("the administrator Ada Aro signed with credential" in p and
               "(Walt Witness), not to Ada Aro" in p for p in rep.problems), rep.problems


def test_a_witness_does_not_sign_an_edited_transcript(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro, out = _run(ctx, tmp_path)
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")
    csr = next((out / "csr").iterdir())
    csr.write_bytes(csr.read_bytes() + b"\n")
    with pytest.raises(Refusal, match=r"does not verify.*was changed"):
        ceremony_verify.witness_sign(ctx, out, "Walt Witness", walt.key.key_id[:12])
    assert not ceremony_verify.witness_signature_path(out, "Walt Witness").exists()
