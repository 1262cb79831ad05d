"""Key ceremonies end to end from the CLI (issue 14): two keys on a real SoftHSM2 token and one
in the key store, real processes answering prompts on a file descriptor, CSRs checked by
`openssl req -verify`, the transcript signature by `openssl cms -verify`; tampering with any
output or transcript line fails verification; kill -9 after step N and re-run never makes a
second key nor overwrites an output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services.key_backup import recorded_backups
from tests.integration.ceremony_support import example_file, prepare, run_cli
from tests.support.softhsm import softhsm_token

LABEL_PREFIX = "ceremony test example-supplier-2026 "


@pytest.fixture
def setup(ctx, data_root: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    aro = prepare(ctx, tmp_path)
    path = example_file(tmp_path / "media")
    with softhsm_token(tmp_path, "ceremony"):
        yield path, aro


def _ceremony_keys(ctx) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = ctx.db.conn().execute("SELECT key_id, label FROM keys WHERE label LIKE ?",
                                 (LABEL_PREFIX + "%",)).fetchall()
    return sorted((r["label"], r["key_id"]) for r in rows)


def _token_private_keys(label: str) -> int:
    import pkcs11

    from tests.support.softhsm import MODULE, PIN

    tok = pkcs11.lib(MODULE).get_token(token_label=label)
    with tok.open(user_pin=PIN) as s:
        return len(list(s.get_objects({pkcs11.Attribute.CLASS:
                                       pkcs11.ObjectClass.PRIVATE_KEY})))


def _verify(data_root: Path, transcript: Path, cli_run) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    res = cli_run("--json", "ceremony", "verify", str(transcript))
    return res.code, res.json()


def test_check_prints_the_plan_without_a_token(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepare(ctx, tmp_path)
    path = example_file(tmp_path / "media")
    res = cli_run("ceremony", "check", str(path))
    assert res.code == 0, res.err
    assert "supplier-ds" in res.out and "no backup" in res.out and "Steps:" in res.out
    js = cli_run("--json", "ceremony", "check", str(path)).json()
    assert [k["name"] for k in js["keys"]] == ["supplier-ds", "supplier-ka", "xml-sign"]
    assert js["environment"] == "test" and js["ok"] is True
    assert any("non-exportable" in n for n in js["notes"])
    live = cli_run("ceremony", "check", str(path), env="live")
    assert live.code == 1 and "Test environment" in live.err and "Live environment" in live.err
    outside = example_file(tmp_path / "m2",
                           **{"90-B3-D5-1F-30-01-00-02": "90-B3-D5-1F-30-02-00-02"})
    bad = cli_run("ceremony", "check", str(outside))
    assert bad.code == 2 and "xml-sign" in bad.err and "outside the allocated range" in bad.err
    role = example_file(tmp_path / "m3", **{'role = "xmlSign"': 'role = "networkOperator"'})
    bad = cli_run("ceremony", "check", str(role))
    assert bad.code == 1 and "xml-sign" in bad.err and "networkOperator" in bad.err
    pin = example_file(tmp_path / "m4",
                       **{'label = "ceremony"': 'label = "ceremony"\npin = "1234"'})
    bad = cli_run("ceremony", "check", str(pin))
    assert bad.code == 2 and "token.pin" in bad.err and "never written" in bad.err
    line = pin.read_text().splitlines().index('pin = "1234"') + 1
    assert f"line {line}:" in bad.err


def test_full_ceremony_verifies_and_tampering_fails(ctx, cli_run, data_root: Path,  # type: ignore[no-untyped-def]
                                                    setup, tmp_path: Path) -> None:
    path, _aro = setup
    code, out = run_cli(data_root, path, "--rehearsal")
    assert code == 0, out
    assert "lint clean" in out and not (path.parent / "ceremony-output").exists()
    assert _ceremony_keys(ctx) == []  # a rehearsal keeps nothing
    code, out = run_cli(data_root, path)
    assert code == 0, out
    media = path.parent / "ceremony-output"
    keys = _ceremony_keys(ctx)
    assert [label for label, _ in keys] == [LABEL_PREFIX + n
                                            for n in ("supplier-ds", "supplier-ka", "xml-sign")]
    assert _token_private_keys("ceremony") == 2
    csrs = sorted((media / "csr").glob("*.csr"))
    assert len(csrs) == 3
    for csr in csrs:
        v = subprocess.run(["openssl", "req", "-in", str(csr), "-noout", "-verify"],
                           capture_output=True, text=True)
        assert v.returncode == 0 and "verif" in (v.stdout + v.stderr).lower(), v.stderr
    lint = cli_run("--json", "lint", str(csrs[0]))
    assert lint.code == 0, lint.out
    shares = sorted((media / "backup" / "xml-sign").glob("share-*"))
    assert len(shares) == 5
    # the backup is recorded where its folder is, not under the hidden name it was written to
    ((_label, key_id),) = [k for k in keys if k[0].endswith("xml-sign")]
    assert [b["location"] for b in recorded_backups(ctx, key_id)] == [
        str(media / "backup" / "xml-sign")]
    transcript = media / "transcript.jsonl"
    cms = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                          str(media / "transcript.jsonl.p7s"), "-content", str(transcript),
                          "-noverify", "-out", "/dev/null"], capture_output=True, text=True)
    assert cms.returncode == 0, cms.stderr
    code, rep = _verify(data_root, transcript, cli_run)
    assert code == 0 and rep["ok"], rep
    assert "Ada Aro" in rep["signer"]
    other = cli_run("ceremony", "verify", str(transcript), env="live")
    assert other.code == 1 and "Test environment" in other.err and "Live" in other.err
    audit = cli_run("--json", "audit", "list").out
    for action in ("ceremony.begin", "key.generate", "csr.org.create", "key.backup",
                   "ceremony.finish"):
        assert action in audit, action
    # the transcript holds facts, token identity, public keys, lint and hashes
    entries = [json.loads(x) for x in transcript.read_text().splitlines()]
    done = {e["step"]: e["data"] for e in entries if e["event"] == "done"}
    assert done["facts"]["token"]["label"] == "ceremony"
    assert done["facts"]["software"]["source_sha256"]
    assert "BEGIN PUBLIC KEY" in done["key:supplier-ds"]["public_key_pem"]
    assert done["csr:xml-sign"]["lint_ok"] is True
    text = (media / "transcript.txt").read_text()
    assert "Witness: Wendy Witness" in text and "Signature: ____" in text
    pdf = subprocess.run(["pdftotext", str(media / "transcript.pdf"), "-"],
                         capture_output=True, text=True)
    assert pdf.returncode == 0 and "Witness: Wendy Witness" in pdf.stdout
    assert "TEST ENVIRONMENT" in pdf.stdout
    # a second run does nothing
    code, out = run_cli(data_root, path)
    assert code == 0 and "complete" in out
    assert len(_ceremony_keys(ctx)) == 3

    # tampering: an output file, a transcript line, the text transcript
    def tampered(p: Path, edit) -> dict:  # type: ignore[no-untyped-def, type-arg]
        saved = p.read_bytes()
        p.write_bytes(edit(saved))
        try:
            code, rep = _verify(data_root, transcript, cli_run)
            assert code == 1 and not rep["ok"]
            return rep
        finally:
            p.write_bytes(saved)

    rep = tampered(csrs[1], lambda b: b.replace(b"\n", b"\r\n"))
    assert any("was changed" in p for p in rep["problems"])
    rep = tampered(shares[2], lambda b: b + b"extra\n")
    assert any("was changed" in p for p in rep["problems"])
    # the shares leave the media with their custodians: still verified
    moved = tmp_path / "custodians"
    moved.mkdir()
    for sh in shares:
        sh.rename(moved / sh.name)
    code, rep = _verify(data_root, transcript, cli_run)
    assert code == 0, rep
    assert sum("with its custodian" in c for c in rep["checked"]) == 5
    for sh in shares:
        (moved / sh.name).rename(sh)
    key_file = next((media / "backup" / "xml-sign").glob("*.smkikey"))
    rep = tampered(key_file, lambda b: b.replace(b'"test"', b'"live"'))
    assert any("was changed" in p for p in rep["problems"])
    rep = tampered(transcript, lambda b: b.replace(b"Wendy Witness", b"Wendy Witless", 1))
    assert rep["problems"]
    lines = transcript.read_bytes().splitlines(keepends=True)
    rep = tampered(transcript, lambda b: b"".join(lines[:3] + lines[4:]))
    assert any("chain is broken" in p for p in rep["problems"])
    rep = tampered(media / "transcript.txt", lambda b: b.replace(b"supplier", b"suppl1er", 1))
    assert any("text transcript" in p for p in rep["problems"])
    rep = tampered(media / "transcript.pdf", lambda b: b + b"%\n")
    assert any("printable transcript" in p for p in rep["problems"])
    assert _verify(data_root, transcript, cli_run)[0] == 0


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [1, 3, 4, 6, 9])
def test_kill_after_step_n_then_rerun(ctx, cli_run, data_root: Path, setup,  # type: ignore[no-untyped-def]
                                      kill_after: int) -> None:
    path, _aro = setup
    media = path.parent / "ceremony-output"
    code, out = run_cli(data_root, path, kill_after=kill_after)
    assert code == -9, out
    journal = (media / "transcript.jsonl").read_bytes()
    done = [json.loads(x)["step"] for x in journal.splitlines()
            if json.loads(x)["event"] == "done"]
    assert len(done) == kill_after  # the journal says exactly which steps completed
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in media.rglob("*")
              if p.is_file() and p.name != "transcript.jsonl"}
    keys_before = _ceremony_keys(ctx)
    code, out = run_cli(data_root, path)
    assert code == 0, out
    assert "Resuming" in out
    for p, (ino, data) in before.items():  # nothing overwritten
        assert p.stat().st_ino == ino and p.read_bytes() == data, p
    keys = _ceremony_keys(ctx)
    assert len(keys) == 3
    assert set(keys_before) <= set(keys)  # a completed step's key is kept, not made again
    assert _token_private_keys("ceremony") == 2
    assert _verify(data_root, media / "transcript.jsonl", cli_run)[0] == 0


def test_interrupted_inside_a_step_adopts_what_it_made(ctx, cli_run, data_root: Path,  # type: ignore[no-untyped-def]
                                                       setup) -> None:
    """A crash after the key was made but before `done` was written (the last line is lost):
    the re-run adopts the key made under the ceremony's label instead of making another."""
    path, _aro = setup
    media = path.parent / "ceremony-output"
    code, out = run_cli(data_root, path, kill_after=3)  # facts, rehearsal, key:supplier-ds
    assert code == -9
    j = media / "transcript.jsonl"
    lines = j.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[-1])["event"] == "done"
    j.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])  # the done line torn in half
    keys_before = _ceremony_keys(ctx)
    code, out = run_cli(data_root, path)
    assert code == 0, out
    assert "adopted" in out
    assert set(keys_before) <= set(_ceremony_keys(ctx)) and len(_ceremony_keys(ctx)) == 3
    assert _verify(data_root, j, cli_run)[0] == 0


def test_live_refuses_answers_from_a_descriptor(live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = example_file(tmp_path / "m", **{'environment = "test"': 'environment = "live"'})
    r, w = os.pipe()
    try:
        res = cli_run("ceremony", "run", str(path), "--answers-fd", str(r), env="live")
    finally:
        os.close(r)
        os.close(w)
    assert res.code == 1 and "Live environment refuses answers" in res.err


def test_no_confirmation_stops_cleanly(ctx, data_root: Path, setup) -> None:  # type: ignore[no-untyped-def]
    path, _aro = setup
    checked = ceremony_service.check_ceremony(ctx, path)
    assert checked.plan.keys[0].store == "token"
    r, w = os.pipe()
    os.write(w, b"no\n")
    os.close(w)
    import sys

    proc = subprocess.run([sys.executable, "-m", "smki_desktop.cli", "--data-dir",
                           str(data_root), "ceremony", "run", str(path), "--answers-fd",
                           str(r)], pass_fds=(r,), capture_output=True, text=True)
    os.close(r)
    assert proc.returncode == 1 and "not confirmed" in proc.stderr
    assert _ceremony_keys(ctx) == []


def test_token_key_made_but_not_recorded_is_adopted(ctx, cli_run, data_root: Path,  # type: ignore[no-untyped-def]
                                                    setup) -> None:
    """A crash after the token made the key pair but before the database recorded it (and
    before the journal said `done`): the re-run finds the pair by the ceremony's label on the
    token and uses it, so the token ends with exactly one key per token step."""
    from smki_desktop.core.ceremony_transcript import entry_line, make_entry
    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
    from tests.support.softhsm import MODULE, FixedPin

    path, _aro = setup
    media = path.parent / "ceremony-output"
    code, _out = run_cli(data_root, path, kill_after=2)  # facts, rehearsal
    assert code == -9
    store = Pkcs11KeyStore(ctx.env, MODULE, "ceremony", ctx.db, ctx.clock, FixedPin())
    made = store.generate(KeyType.EC_P256, KeyUsage.SIGNING, LABEL_PREFIX + "supplier-ds")
    with ctx.db.transaction() as c:  # the record the crash prevented
        c.execute("DELETE FROM keys WHERE key_id=?", (made.key_id,))
    j = media / "transcript.jsonl"
    last = json.loads(j.read_bytes().splitlines()[-1])
    at = ctx.clock.now().isoformat()  # the step started before the token made the key
    ack = make_entry(last["seq"] + 1, last["hash"], "key:supplier-ds", "ack", at,
                     {"administrator": "Ada Aro", "witnesses": ["Wendy Witness"],
                      "warnings_acknowledged": []})
    started = make_entry(last["seq"] + 2, ack["hash"], "key:supplier-ds", "started", at,
                         {"resuming": False})
    with open(j, "ab") as fh:
        fh.write(entry_line(ack) + entry_line(started))
    code, out = run_cli(data_root, path)
    assert code == 0, out
    assert "adopted" in out
    done = {json.loads(x)["step"]: json.loads(x)["data"] for x in j.read_bytes().splitlines()
            if json.loads(x)["event"] == "done"}
    assert done["key:supplier-ds"]["key_id"] == made.key_id
    assert done["key:supplier-ds"]["adopted_after_interruption"] is True
    # the record the crash prevented is written at adoption, naming the ceremony
    [rec] = [e for e in ctx.audit.entries(action_prefix="key.generate")
             if e.details.get("key_id") == made.key_id]
    assert rec.details["ceremony"] == "example-supplier-2026"
    assert rec.details["recorded_after_interruption"] is True
    assert _token_private_keys("ceremony") == 2
    assert _verify(data_root, j, cli_run)[0] == 0
