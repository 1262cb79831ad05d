"""A hostile or careless ceremony (issue 14 review): links in the output folder that point
elsewhere, a backup output already in the way, a witness signature swapped for the
administrator's or repeated for a second witness, and no secret in anything the run leaves."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_verify
from tests.integration.adt_support import make_sro
from tests.integration.ceremony_support import (
    PASS,
    in_process_cli,
    make_witness,
    prepare,
    register_officer,
)
from tests.integration.test_ceremony_service import CEREMONY, Answers, _fake_net
from tests.integration.test_full_disk import tiny_disk  # noqa: F401  (the fixture)

W = ["Wendy Witness", "Walt Witness"]


def _file(tmp_path: Path, text: str = CEREMONY) -> Path:
    path = tmp_path / "media" / "c.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def _run(ctx, path: Path, tmp_path: Path) -> ceremony_service.CeremonyRun:  # type: ignore[no-untyped-def]
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    net = tmp_path / "net"
    run.sys_net = net if net.exists() else _fake_net(net, up=False)
    return run


def _ceremony_keys(ctx) -> int:  # type: ignore[no-untyped-def]
    return int(ctx.db.conn().execute(
        "SELECT COUNT(*) FROM keys WHERE label LIKE 'ceremony %'").fetchone()[0])


@pytest.mark.parametrize("link", ["backup", "csr", "transcript.jsonl"])
def test_a_link_in_the_output_folder_is_refused(ctx, tmp_path: Path, link: str) -> None:  # type: ignore[no-untyped-def]
    """`out/backup -> elsewhere` used to send the key backup (or the share words) off the
    media; `out/transcript.jsonl -> elsewhere` sent the journal there."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    out = tmp_path / "media" / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "j.jsonl" if link == "transcript.jsonl" else elsewhere
    (out / link).symlink_to(target)
    with pytest.raises(Refusal, match="symbolic link"):
        _run(ctx, path, tmp_path)
    assert list(elsewhere.iterdir()) == []

    # made while the run is open (before the backup step): refused at the next step
    (out / link).unlink()
    run = _run(ctx, path, tmp_path)
    steps = run.remaining()
    for step in steps[:4]:  # facts, rehearsal, key, csr
        ceremony_service.confirm_and_perform(run, step, W)
    (out / "backup").symlink_to(elsewhere)
    with pytest.raises(Refusal, match="symbolic link"):
        ceremony_service.confirm_and_perform(run, steps[4], W)
    assert list(elsewhere.iterdir()) == []
    assert "backup:xml" not in run.journal.done()
    run.close()


def test_a_foreign_backup_file_is_never_recorded_as_the_keys_backup(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file already at backup/xml.smkikey was taken as this key's backup (hashed into the
    transcript) while the key itself was never backed up."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    planted = tmp_path / "media" / "out" / "backup" / "xml.smkikey"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b'{"format": "smki-key-backup/1"}\n')
    run = _run(ctx, path, tmp_path)
    facts, rehearsal = run.remaining()[:2]
    ceremony_service.confirm_and_perform(run, facts, W)
    with pytest.raises(Refusal, match="backup output .* already exists"):
        ceremony_service.confirm_and_perform(run, rehearsal, W)
    assert _ceremony_keys(ctx) == 0  # stopped before any real key
    run.close()

    # planted after the key was made (between steps): the backup step refuses it too
    planted.unlink()
    run = _run(ctx, path, tmp_path)
    steps = run.remaining()
    for step in steps[:3]:  # rehearsal, key, csr
        ceremony_service.confirm_and_perform(run, step, W)
    planted.write_bytes(b"not mine\n")
    with pytest.raises(Refusal, match="not this ceremony's backup of xml"):
        ceremony_service.confirm_and_perform(run, steps[3], W)
    assert planted.read_bytes() == b"not mine\n"
    run.close()


def test_witness_signatures_must_be_the_witnesses_own(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = prepare(ctx, tmp_path)
    path = _file(tmp_path)
    run = _run(ctx, path, tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    assert ceremony_verify.verify_transcript(ctx, out).ok

    # the administrator's own signature copied in as a witness's
    walt = ceremony_verify.witness_signature_path(out, "Walt Witness")
    shutil.copy(out / "transcript.jsonl.p7s", walt)
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert not rep.ok
    assert any("Walt Witness's signature was made with the administrator's" in p
               for p in rep.problems), rep.problems
    walt.unlink()

    # one person signing for both witnesses
    walt_cred = make_witness(ctx, tmp_path, aro, "Walt Witness")
    ceremony_verify.witness_sign(ctx, out, "Walt Witness", walt_cred.key.key_id[:12])
    with pytest.raises(Refusal, match=r"belongs to register entry .* \(Walt Witness\)"):
        ceremony_verify.witness_sign(ctx, out, "Wendy Witness", walt_cred.key.key_id[:12])
    shutil.copy(walt, ceremony_verify.witness_signature_path(out, "Wendy Witness"))
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("the witness Wendy Witness signed with credential" in p and
               "(Walt Witness), not to Wendy Witness" in p for p in rep.problems), rep.problems


def test_no_secret_in_what_the_run_leaves(ctx, data_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The backup passphrase is in no output, transcript, audit record, log or data file."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    run = _run(ctx, path, tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    needle = PASS.encode()
    for root in (tmp_path / "media", data_root):
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                assert needle not in p.read_bytes(), p
    leftovers = [p for p in (tmp_path / "media").rglob("*") if p.name.endswith(".part")]
    assert leftovers == []


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


@pytest.mark.parametrize("tiny_disk", ["1m"], indirect=True)
def test_a_full_media_never_leaves_a_broken_journal(ctx, tiny_disk: Path,  # type: ignore[no-untyped-def]  # noqa: F811
                                                    tmp_path: Path) -> None:
    """The media fills up mid-ceremony: each failing step is refused naming the journal, the
    journal is left whole (a half-written line used to stay, and the next line landed after
    it: the transcript could then neither resume nor verify); with space freed the same run
    goes on, no second key, and the transcript verifies."""
    from smki_desktop.core.ceremony_transcript import parse_journal
    from smki_desktop.store.atomic import OutputError

    prepare(ctx, tmp_path)
    media = tiny_disk / "media"
    media.mkdir()
    path = media / "c.toml"
    path.write_text(CEREMONY)
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    run.sys_net = _fake_net(tmp_path / "net", up=False)
    journal = media / "out" / "transcript.jsonl"
    failures = 0
    while run.remaining():
        step = run.remaining()[0]
        filler = _fill(tiny_disk)
        try:
            ceremony_service.confirm_and_perform(run, step, W)
        except OutputError as exc:
            failures += 1
            assert "No space left" in exc.message
            parse_journal(journal.read_bytes(), "journal")  # whole lines only, chain intact
        finally:
            filler.unlink()
        if step in run.remaining():
            ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    assert failures >= 2
    assert _ceremony_keys(ctx) == 1
    rep = ceremony_verify.verify_transcript(ctx, media / "out")
    assert rep.ok, rep.problems


def test_a_csr_planted_on_the_media_fails_verification(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A rogue CSR (or backup) added to csr/ next to the ceremony's own was not noticed: the
    online side would submit it with the others."""
    prepare(ctx, tmp_path)
    run = _run(ctx, _file(tmp_path), tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    assert ceremony_verify.verify_transcript(ctx, out).ok
    own = next((out / "csr").glob("*.csr"))
    rogue = out / "csr" / "small-one-evil-90B3D51F30010009.csr"
    shutil.copy(own, rogue)
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert any("csr/small-one-evil" in p and "not in the transcript" in p
               for p in rep.problems), rep.problems
    rogue.unlink()
    (out / "backup" / "extra.smkikey").write_text("{}")
    assert not ceremony_verify.verify_transcript(ctx, out).ok


def test_a_chain_valid_but_odd_journal_is_not_verified_without_a_traceback(ctx,  # type: ignore[no-untyped-def]
                                                                          tmp_path: Path) -> None:
    from smki_desktop.core.ceremony_transcript import GENESIS, entry_line, make_entry

    begin = make_entry(1, GENESIS, "begin", "begin", "2026-01-01T00:00:00+00:00",
                       {"plan": {"environment": "test", "ceremony_id": "odd", "steps": []}})
    fin = make_entry(2, begin["hash"], "finish", "done", "2026-01-01T00:00:01+00:00",
                     {"outputs": "not a table"})
    j = tmp_path / "transcript.jsonl"
    j.write_bytes(entry_line(begin) + entry_line(fin))
    rep = ceremony_verify.verify_transcript(ctx, j)
    assert not rep.ok and any("not in the form" in p for p in rep.problems), rep.problems


SHARES_CEREMONY = CEREMONY.replace('backup = "passphrase"', 'backup = "shares"').replace(
    'witnesses = ["Wendy Witness", "Walt Witness"]',
    'witnesses = ["Wendy Witness", "Walt Witness"]\ncustodians = ["Cara", "Cal", "Cy"]'
).replace("[[keys]]", "[backup]\nthreshold = 2\nshares = 3\n\n[[keys]]")


def _run_killing_inside(data_root: Path, path: Path, step_no: int | None,
                        delay: float) -> tuple[int, str]:
    """`smki ceremony run` in a real process; SIGKILL `delay` seconds after the last witness
    acknowledged step `step_no` (so while that step is being performed)."""
    import re
    import subprocess
    import sys
    import time

    r, w = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root), "ceremony",
         "run", str(path), "--answers-fd", str(r)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(r,), text=True, bufsize=1)
    os.close(r)
    out: list[str] = []
    current = 0
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            out.append(line)
            m = re.match(r"Step (\d+)/", line)
            if m:
                current = int(m.group(1))
            if line.rstrip().endswith("type 'yes'"):
                os.write(w, b"yes\n")
                if current == step_no and line.startswith(f"Witness {W[-1]}"):
                    time.sleep(delay)
                    proc.kill()
                    break
        proc.wait(timeout=120)
    finally:
        os.close(w)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(out)


@pytest.mark.slow
@pytest.mark.parametrize(("step_no", "delay"), [(3, 0.0), (3, 0.15), (4, 0.05), (5, 0.0),
                                                (5, 0.1), (6, 0.0), (6, 0.3)])
def test_kill_inside_a_step_then_rerun(ctx, cli_run, data_root: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       step_no: int, delay: float) -> None:
    """kill -9 while a step is being performed (key made, CSR written, shares being written,
    transcript being signed): the re-run finishes with one key, one share set, no temporary
    file left, and a transcript that verifies."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path, SHARES_CEREMONY)
    code, out = _run_killing_inside(data_root, path, step_no, delay)
    # -9: killed inside the step. 0: on a fast machine the last step (signing the transcript)
    # can finish before a delayed kill lands; the re-run below must then change nothing.
    assert code == -9 or (code == 0 and step_no == 6), out
    code, out = _run_killing_inside(data_root, path, None, 0)
    assert code == 0, out
    assert _ceremony_keys(ctx) == 1
    media = tmp_path / "media" / "out"
    assert len(list((media / "backup" / "xml").glob("share-*"))) == 3
    left = [p.name for p in media.rglob("*") if p.name.endswith(".part") or ".partial-" in
            p.name]
    assert left == []
    rep = cli_run("--json", "ceremony", "verify", str(media))
    assert rep.code == 0, rep.out + rep.err


def test_the_credential_must_be_the_named_administrators(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The file names Ada Aro as administrator; the newest credential on the machine is held
    by another register entry: the transcript would say 'Administrator: Ada Aro' over someone
    else's signature."""
    from tests.integration.test_officer_cli import make_active_sro

    aro = prepare(ctx, tmp_path, register=False)  # Ada's key is linked to Sam's entry
    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    linked = cli_run("officer", "link-key", sro_id, aro.key.key_id)
    assert linked.code == 0, linked.err
    path = _file(tmp_path)
    with pytest.raises(Refusal, match=r"'Ada Aro' in the ceremony file.*Sam Sro"):
        ceremony_service.CeremonyRun(ctx, path, Answers())
    checked = cli_run("ceremony", "check", str(path))
    assert checked.code == 0 and "The run will refuse to start" in checked.err
    assert not (tmp_path / "media" / "out").exists()
    named = _file(tmp_path, CEREMONY.replace('administrator = "Ada Aro"',
                                             'administrator = "sam  SRO"'))
    run = _run(ctx, named, tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    text = (tmp_path / "media" / "out" / "transcript.txt").read_text()
    assert "with the credential of CN=Ada Aro" in text and f"register entry {sro_id}" in text


def test_the_administrators_signature_swapped_for_another_officers(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A valid signature over the very same journal, by another officer's credential (same
    trust anchor), put in place of the administrator's: not verified."""
    from smki_desktop.services.ceremony_identity import officer_identity, sign_as_officer

    aro = prepare(ctx, tmp_path)
    run = _run(ctx, _file(tmp_path), tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    sro = make_sro(ctx, tmp_path / "sro", aro, set_profile=False)
    other = sign_as_officer(ctx, (out / "transcript.jsonl").read_bytes(),
                            officer_identity(ctx, sro.key.key_id))
    (out / "transcript.jsonl.p7s").write_bytes(other)
    rep = ceremony_verify.verify_transcript(ctx, out)
    assert not rep.ok
    assert any("signed by another key than the administrator's" in p for p in rep.problems)


def test_in_live_a_signature_without_a_checkable_chain_is_not_verified(live_ctx,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    """Anyone can make a self-signed 'Ada Aro' certificate and re-sign an edited journal: in
    Live, a transcript whose signer chain cannot be checked used to verify all the same."""
    from cryptography.hazmat.primitives import serialization

    from smki_desktop.services import adt as adt_service
    from tests.integration.adt_support import make_aro

    aro = make_aro(live_ctx, tmp_path / "pki", anchor=False)
    register_officer(live_ctx, tmp_path, "Ada Aro", aro.key.key_id)
    path = _file(tmp_path, CEREMONY.replace('environment = "test"', 'environment = "live"'))
    run = _run(live_ctx, path, tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    out = tmp_path / "media" / "out"
    rep = ceremony_verify.verify_transcript(live_ctx, out)
    assert not rep.ok and any("no file-signing trust anchor" in p for p in rep.problems)
    adt_service.add_trust_anchor(live_ctx, aro.root.public_bytes(serialization.Encoding.PEM))
    rep = ceremony_verify.verify_transcript(live_ctx, out)
    assert rep.ok, rep.problems


def test_a_device_given_as_a_ceremony_file_or_csr_is_not_read_whole(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    res = cli_run("ceremony", "check", "/dev/zero")
    assert res.code == 2 and "larger than" in res.err
    res = cli_run("ceremony", "qr", "/dev/zero")  # a device is not read at all
    assert res.code == 2 and "/dev/zero: not a regular file" in res.err


def test_a_link_deeper_in_backup_is_refused_and_unrelated_ones_are_not(ctx,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    out = tmp_path / "media" / "out"
    (out / "backup").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "backup" / "xml.smkikey").symlink_to(elsewhere / "k")
    with pytest.raises(Refusal, match=r"backup/xml\.smkikey is a symbolic link"):
        _run(ctx, path, tmp_path)
    (out / "backup" / "xml.smkikey").unlink()
    (out / "photos").symlink_to(elsewhere)  # not something the run writes into
    run = _run(ctx, path, tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    assert list(elsewhere.iterdir()) == []
    assert ceremony_verify.verify_transcript(ctx, out).ok


def test_a_run_with_its_input_closed_stops_cleanly(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`smki ceremony run FILE < /dev/null` (a script, no terminal): an EOFError traceback;
    now a refusal that says nothing was done in the step and the run resumes."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    res = cli_run("ceremony", "run", str(path), stdin="")
    assert res.code == 1, res.err
    assert "Traceback" not in res.err and "no answer" in res.err
    res = cli_run("ceremony", "run", str(path), stdin="yes\nyes\n")  # facts, then input ends
    assert res.code == 1 and "no answer" in res.err
    assert "Resuming" in res.out


def test_a_printable_transcript_already_there_is_not_taken_for_this_ones(ctx,  # type: ignore[no-untyped-def]
                                                                        tmp_path: Path) -> None:
    """A transcript.pdf planted on the media was hashed into the transcript as the printable
    copy the witnesses sign."""
    prepare(ctx, tmp_path)
    out = tmp_path / "media" / "out"
    out.mkdir(parents=True)
    planted = out / "transcript.pdf"
    planted.write_bytes(b"%PDF-1.4 a different ceremony\n")
    run = _run(ctx, _file(tmp_path), tmp_path)
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    fin = run.journal.done()["finish"]
    assert fin["transcript_pdf"] == "transcript-2.pdf" and fin["transcript_text"] == \
        "transcript-2.txt"
    assert planted.read_bytes() == b"%PDF-1.4 a different ceremony\n"
    assert ceremony_verify.verify_transcript(ctx, out).ok


def test_a_signature_file_already_there_is_not_taken_for_the_administrators(ctx,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path) -> None:
    """A transcript.jsonl.p7s on the media made the run say 'already there' and report the
    ceremony complete without the administrator ever signing."""
    prepare(ctx, tmp_path)
    out = tmp_path / "media" / "out"
    out.mkdir(parents=True)
    planted = out / "transcript.jsonl.p7s"
    planted.write_bytes(b"not a signature")
    run = _run(ctx, _file(tmp_path), tmp_path)
    facts, rehearsal = run.remaining()[:2]
    ceremony_service.confirm_and_perform(run, facts, W)
    with pytest.raises(Refusal, match="transcript signature .* already exists"):
        ceremony_service.confirm_and_perform(run, rehearsal, W)
    assert _ceremony_keys(ctx) == 0
    # planted later, just before the finish: the finish refuses instead of adopting it
    planted.unlink()
    steps = run.remaining()
    for step in steps[:-1]:
        ceremony_service.confirm_and_perform(run, step, W)
    planted.write_bytes(b"not a signature")
    with pytest.raises(Refusal, match="is in the way"):
        ceremony_service.confirm_and_perform(run, steps[-1], W)
    assert not run.complete and run.remaining()[-1].step_id == "finish"
    planted.unlink()
    ceremony_service.confirm_and_perform(run, run.remaining()[-1], W)
    assert run.complete
    run.close()
    assert ceremony_verify.verify_transcript(ctx, out).ok


def test_a_resume_with_another_administrators_credential_is_refused(ctx,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    """Resumed where the newest credential is someone else's, the run went on and signed with
    it: the transcript then failed verification at the other end."""
    aro = prepare(ctx, tmp_path)
    path = _file(tmp_path)
    run = _run(ctx, path, tmp_path)
    ceremony_service.confirm_and_perform(run, run.remaining()[0], W)
    run.close()
    # a year on, Ada's register entry holds a renewed credential; the one the run began
    # with has expired (the register names the person, the journal the credential)
    from datetime import UTC, datetime, timedelta

    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.core.ports import FixedClock
    from smki_desktop.crypto.demo_pki import issue
    from smki_desktop.services.context import open_context
    from smki_desktop.services.credentials import record_credential

    later = datetime.now(UTC) + timedelta(days=400)
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "Ada renewed")
    record_credential(ctx, issue(aro.root_key, aro.root, info.public_key_der, ctx.env, later,
                                 cn="Ada Aro"), "file-signing", info.key_id, source="test")
    assert in_process_cli(ctx)("officer", "link-key", "SRO-0001", info.key_id).code == 0
    then = open_context(ctx.env, ctx.paths.root, clock=FixedClock(later))
    try:
        with pytest.raises(Refusal, match=rf"began with the administrator's credential "
                                          rf"{aro.key.key_id[:16]}.*{info.key_id[:16]}"):
            ceremony_service.CeremonyRun(then, path, Answers())
    finally:
        then.close()


def _refused_not_as_changed(ctx, path: Path) -> str:  # type: ignore[no-untyped-def]
    """The refusal of a run of `path`, which must not blame an edit of the ceremony file."""
    with pytest.raises(Refusal) as refused:
        ceremony_service.CeremonyRun(ctx, path, Answers())
    assert "changed since" not in refused.value.message
    return refused.value.message


def test_another_ceremonys_journal_on_the_media_is_named_as_such(ctx, live_ctx,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    """Media reused from a Test ceremony (or holding another ceremony's run) was refused with
    "The ceremony file changed since this run started": the team would look for an edit in a
    file no one had edited. The refusal now names the journal's own ceremony and environment,
    and the journal is left as it was."""
    prepare(ctx, tmp_path / "t")
    prepare(live_ctx, tmp_path / "l")
    path = _file(tmp_path)
    run = _run(ctx, path, tmp_path)  # a Test run leaves its journal in media/out
    ceremony_service.confirm_and_perform(run, run.remaining()[0], W)
    run.close()
    journal = tmp_path / "media" / "out" / "transcript.jsonl"
    before = journal.read_bytes()

    live = tmp_path / "media" / "live.toml"
    live.write_text(CEREMONY.replace('environment = "test"', 'environment = "live"'))
    text = _refused_not_as_changed(live_ctx, live)
    assert "Test environment" in text and "Live environment" in text and str(journal) in text

    other = tmp_path / "media" / "other.toml"
    other.write_text(CEREMONY.replace('"small-one"', '"other-one"'))
    text = _refused_not_as_changed(ctx, other)
    assert "small-one" in text and "other-one" in text and str(journal) in text
    assert journal.read_bytes() == before


def test_a_refused_start_does_not_keep_the_output_folder_locked(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A run refused while opening its journal (here: the file was edited since the run began)
    kept the folder's lock until the process ended, so in the GUI every later Start, even
    with the file put back, said "Another run of this ceremony is in progress"."""
    prepare(ctx, tmp_path)
    path = _file(tmp_path)
    run = _run(ctx, path, tmp_path)
    ceremony_service.confirm_and_perform(run, run.remaining()[0], W)
    run.close()
    path.write_text(CEREMONY.replace("One key-store key", "One edited key-store key"))
    with pytest.raises(Refusal, match="changed since"):
        ceremony_service.CeremonyRun(ctx, path, Answers())
    path.write_text(CEREMONY)  # put back as it was reviewed
    again = ceremony_service.CeremonyRun(ctx, path, Answers())
    assert again.resumed and "facts" in again.journal.done()
    again.close()
