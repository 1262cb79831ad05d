"""The ceremony service without a token (issue 14): a key-store key backed up under a
passphrase inside a ceremony; a network interface that is up is a warning the team must
acknowledge; a step is never performed without every witness."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_verify, key_backup
from tests.integration.adt_support import make_sro
from tests.integration.ceremony_support import PASS, make_witness, prepare

CEREMONY = """
format = "smki-ceremony/1"
ceremony_id = "small-one"
environment = "test"
purpose = "One key-store key with a passphrase backup"
output_dir = "out"

[roles]
administrator = "Ada Aro"
witnesses = ["Wendy Witness", "Walt Witness"]

[[keys]]
name = "xml"
role = "xmlSign"
usage = "signing"
eui = "90-B3-D5-1F-30-01-00-09"
store = "keystore"
backup = "passphrase"
"""


class Answers:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        self.asked.append(prompt)
        return PASS


def _fake_net(root: Path, up: bool) -> Path:
    """A /sys/class/net-shaped folder (the machine's own interfaces cannot be switched)."""
    for name, state, flags in (("lo", "unknown", "0x9"),
                               ("eth0", "up" if up else "down", "0x1003" if up else "0x1002")):
        d = root / name
        d.mkdir(parents=True)
        (d / "operstate").write_text(state + "\n")
        (d / "flags").write_text(flags + "\n")
    return root


def test_passphrase_backup_network_warning_and_witnesses(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = prepare(ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY)
    answers = Answers()
    run = ceremony_service.CeremonyRun(ctx, path, answers)
    run.sys_net = _fake_net(tmp_path / "net", up=True)
    steps = run.remaining()
    assert [s.step_id for s in steps] == ["facts", "rehearsal", "key:xml", "csr:xml",
                                          "backup:xml", "finish"]
    with pytest.raises(Refusal, match="in progress"):  # one run at a time
        ceremony_service.CeremonyRun(ctx, path, answers)
    facts = steps[0]
    warnings = run.warnings_for(facts)
    assert len(warnings) == 1 and "eth0" in warnings[0] and "lo" not in warnings[0]
    with pytest.raises(Refusal, match="Walt Witness"):
        ceremony_service.confirm_and_perform(run, facts, ["Wendy Witness"], warnings)
    with pytest.raises(Refusal, match="Not acknowledged by the team"):
        ceremony_service.confirm_and_perform(run, facts, ["Wendy Witness", "Walt Witness"])
    res = ceremony_service.confirm_and_perform(run, facts, ["Wendy Witness", "Walt Witness"],
                                               warnings)
    assert res.data["network_interfaces_up"] == ["eth0"] and res.data["warnings"] == warnings
    with pytest.raises(Refusal, match="never done twice"):
        ceremony_service.confirm_and_perform(run, facts, ["Wendy Witness", "Walt Witness"],
                                             warnings)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, ["Wendy Witness", "Walt Witness"])
    run.close()
    assert run.complete
    assert answers.asked == ["Backup passphrase for key xml"]
    backup = tmp_path / "media" / "out" / "backup" / "xml.smkikey"
    key_id = run.journal.done()["key:xml"]["key_id"]
    assert key_backup.backup_status(ctx)[key_id] == "passphrase"
    rep = ceremony_verify.verify_transcript(ctx, tmp_path / "media" / "out")
    assert rep.ok, rep.problems
    assert any("xml.smkikey" in c for c in rep.checked)
    assert any("chain to a trust anchor checked" in c for c in rep.checked)
    doc = key_backup.read_key_file(backup)
    assert doc["key_id"] == key_id and doc["environment"] == "test"

    # a witness with their own credential signs too; a bad witness signature fails verify
    out = tmp_path / "media" / "out"
    with pytest.raises(InputError, match="not a witness"):
        ceremony_verify.witness_sign(ctx, out, "Mallory")
    with pytest.raises(Refusal, match="administrator's credential"):
        ceremony_verify.witness_sign(ctx, out, "Walt Witness")  # Ada's: the newest here
    # a credential from the same CA that no register entry holds is not Walt's
    sro = make_sro(ctx, tmp_path / "sro", aro, set_profile=False)
    with pytest.raises(Refusal, match="linked to no entry of the officer register"):
        ceremony_verify.witness_sign(ctx, out, "walt witness", sro.key.key_id[:12])
    walt = make_witness(ctx, tmp_path, aro, "Walt Witness")
    signed = ceremony_verify.witness_sign(ctx, out, "walt witness", walt.key.key_id[:12])
    assert signed.witness == "Walt Witness" and "Walt Witness" in signed.signer
    cms = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                          str(signed.signature), "-content", str(out / "transcript.jsonl"),
                          "-noverify", "-out", "/dev/null"], capture_output=True, text=True)
    assert cms.returncode == 0, cms.stderr
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert rep.ok and any("witness Walt Witness: signature by" in c for c in rep.checked)
    assert any("Wendy Witness: no electronic signature" in c for c in rep.checked)
    sig = signed.signature.read_bytes()
    signed.signature.write_bytes(sig[:-8] + bytes(8))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("Walt Witness's signature does not verify" in p for p in rep.problems)


def test_no_interface_up_no_warning(tmp_path: Path) -> None:
    assert ceremony_service.network_interfaces_up(_fake_net(tmp_path, up=False)) == []


def test_qr_of_a_csr(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A CSR as a QR code: a PNG file (never over an existing one) or on the terminal; what
    is not an Organisation CSR is refused."""
    from tests.integration.adt_support import set_profiles

    set_profiles(ctx)
    key = cli_run("--json", "key", "generate", "--usage", "signing", "--label", "qr").json()
    made = cli_run("csr", "org", "--key", key["key_id"][:12], "--role", "supplier", "--eui",
                   "90-B3-D5-1F-30-01-00-05", "--out", str(tmp_path / "a.csr"))
    assert made.code == 0, made.err
    png = tmp_path / "a.png"
    res = cli_run("--json", "ceremony", "qr", str(tmp_path / "a.csr"), "--out", str(png))
    assert res.code == 0, res.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = cli_run("ceremony", "qr", str(tmp_path / "a.csr"), "--out", str(png))
    assert again.code == 1 and "already exists" in again.err
    term = cli_run("ceremony", "qr", str(tmp_path / "a.csr"))
    assert term.code == 0 and "█" in term.out
    bad = tmp_path / "not.csr"
    bad.write_text("hello")
    assert cli_run("ceremony", "qr", str(bad)).code == 2


def test_an_output_in_the_way_stops_the_run_before_any_key(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepare(ctx, tmp_path)
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY)
    in_the_way = tmp_path / "media" / "out" / "csr" / "small-one-xml-90B3D51F30010009.csr"
    in_the_way.parent.mkdir(parents=True)
    in_the_way.write_bytes(b"someone else's file\n")
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    run.sys_net = _fake_net(tmp_path / "net", up=False)
    w = ["Wendy Witness", "Walt Witness"]
    facts, rehearsal = run.remaining()[:2]
    ceremony_service.confirm_and_perform(run, facts, w)
    with pytest.raises(Refusal, match="never overwritten"):
        ceremony_service.confirm_and_perform(run, rehearsal, w)
    assert in_the_way.read_bytes() == b"someone else's file\n"
    assert ctx.db.conn().execute("SELECT COUNT(*) FROM keys WHERE label LIKE 'ceremony %'"
                                 ).fetchone()[0] == 0
    assert "rehearsal" not in run.journal.done()
    run.close()


def test_a_suspended_administrator_cannot_run_a_ceremony(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.adt_support import active_aro, officer_signing_key
    from tests.integration.test_officer_cli import make_active_sro

    aro = prepare(ctx, tmp_path, register=False)  # Ada Aro an ARO, activated by an SRO
    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    # issue 11: an ARO's standing changes only with an active SRO's signature
    sro_key = officer_signing_key(ctx, cli_run, sro_id)
    aro_id = active_aro(cli_run, tmp_path, sro_id, sro_key=sro_key)
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY)
    r = cli_run("officer", "suspend", aro_id, "--reason", "sick leave", "--as", sro_id,
                "--key", sro_key)
    assert r.code == 0, r.err
    with pytest.raises(Refusal, match=rf"officer-suspended.*{aro_id} \(Ada Aro, ARO\)"):
        ceremony_service.CeremonyRun(ctx, path, Answers())
    checked = cli_run("ceremony", "check", str(path))
    assert checked.code == 0 and "The run will refuse to start" in checked.err
    assert not (tmp_path / "media" / "out").exists()
    r = cli_run("officer", "activate", aro_id, "--as", sro_id, "--key", sro_key)
    assert r.code == 0, r.err
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    begin = run.journal.first("begin")
    assert begin is not None and begin["data"]["administrator"]["register_entry"] == \
        f"{aro_id} (Ada Aro)"
    run.close()


def test_an_administrator_credential_naming_its_officer_passes_every_identity_rule(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    """The administrator's register-linked credential that names their register id is checked
    as every issue-11 signed act is: one that does not chain to this environment's anchor is
    refused before the run starts; one that chains is used, under the register entry."""
    from datetime import UTC, datetime

    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.crypto.demo_pki import issue, make_root
    from smki_desktop.services.credentials import record_credential
    from tests.integration.adt_support import active_aro, officer_signing_key
    from tests.integration.test_officer_cli import make_active_sro

    prepare(ctx, tmp_path, register=False)  # Ada Aro an ARO, activated by an SRO
    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    sro_key = officer_signing_key(ctx, cli_run, sro_id)
    aro_id = active_aro(cli_run, tmp_path, sro_id, sro_key=sro_key)
    # a credential naming ARO's register id, from a CA that is no trust anchor here
    now = datetime.now(UTC)
    root_key, root_cert = make_root(ctx.env, now, cn="Not an anchor")
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "stray")
    cert = issue(root_key, root_cert, info.public_key_der, ctx.env, now, cn=aro_id,
                 register_id=aro_id)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    assert cli_run("officer", "link-key", aro_id, info.key_id).code == 0
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir()
    path.write_text(CEREMONY)
    with pytest.raises(Refusal, match="chains to the Test IKI trust anchor"):
        ceremony_service.CeremonyRun(ctx, path, Answers())
    assert not (tmp_path / "media" / "out").exists()
    # a credential for the same entry that chains (named in the file): the run starts
    good = officer_signing_key(ctx, None, aro_id)
    named = path.parent / "named.toml"
    named.write_text(CEREMONY.replace('administrator = "Ada Aro"',
                                      f'administrator = "Ada Aro"\nadministrator_key = "{good}"'))
    run = ceremony_service.CeremonyRun(ctx, named, Answers())
    begin = run.journal.first("begin")
    assert begin is not None and begin["data"]["administrator"]["key_id"] == good
    assert begin["data"]["administrator"]["register_entry"] == f"{aro_id} (Ada Aro)"
    run.close()
