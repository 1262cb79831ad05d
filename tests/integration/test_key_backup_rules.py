"""Key backup rules found by review 2: custodians are distinct people named in plain text; a
share folder that cannot be made is refused before any work; shares of two backups of one key
are named as such; a deleted key's recorded backups are said, and a restore of a deleted key
says so; a restore takes one key file and regular files only."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup
from tests.support.secret_service import secret_service_env

PASS = "correct horse battery staple"


def _key(cli_run, label: str = "k") -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "key", "generate", "--usage", "signing", "--label", label)
    assert r.code == 0, r.err
    return str(r.json()["key_id"])


# -- 1. custodians ------------------------------------------------------------------------------

@pytest.mark.parametrize(("names", "said"), [
    (["Alice", "Alice", "Bob"], "'Alice' is given twice"),
    (["Alice", " alice  ", "Bob"], "'alice' is given twice"),  # case and spacing ignored
    (["Ann Lee", "Ann-Lee", "Bob"], "'Ann Lee' and 'Ann-Lee' differ only in spaces"),
    (["", "Bob", "Cy"], "name 1 of 3 is empty"),
    (["Al", "  ", "Cy"], "name 2 of 3 is empty"),
    (["-/-", "Bob", "Cy"], "needs letters or digits"),
    (["A\udcff", "Bob", "Cy"], "not UTF-8"),
    (["Eve\u202e", "Bob", "Cy"], "U+202E"),
    (["Cara\nkey_id: 00", "Bob", "Cy"], "U+000A"),
])
def test_custodians_are_distinct_people_in_plain_text(cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      names: list[str], said: str) -> None:
    """`--custodian Alice --custodian Alice --custodian Bob` gave Alice two shares of a 2-of-3
    backup: she alone could rebuild the key. Refused before anything is written."""
    key_id = _key(cli_run)
    out = tmp_path / "s"
    args = [f"--custodian={n}" for n in names]
    r = cli_run("--json", "key", "backup", key_id[:12], "--out", str(out), "--shares", "2-of-3",
                *args)
    assert r.code == 2, r.err
    # (bytes that are not UTF-8 are refused by the command line itself, naming the option)
    assert ("Custodian" in r.err or "--custodian:" in r.err) and said in r.err, r.err
    assert "--custodian" in r.err  # the face's hint names the option
    assert not out.exists()
    assert "key.backup" not in cli_run("--json", "audit", "list").out


@pytest.mark.parametrize("names", [
    ["Alice", "alice"], ["Ann Lee", "Ann-Lee"], ["", "Bob"], ["-/-", "Bob"], ["A\u2028B", "C"],
    ["Ann", "Bob"], ["Zoë O'Brien", "Zoe O Brien"],
])
def test_custodians_and_ceremony_names_are_one_rule(names: list[str]) -> None:
    """A key backup's custodians meet the ceremony file's rule for names, not a copy of it:
    the same lists refused, with the same finding."""
    from smki_desktop.core.ceremony import names_problem

    problem = names_problem(names, "custodian")
    if problem is None:
        assert key_backup.check_custodians(names) == [n.strip() for n in names]
        return
    with pytest.raises(InputError) as exc:
        key_backup.check_custodians(names)
    assert exc.value.message.startswith(f"Custodians: {problem[:-1]}"), exc.value.message


def test_the_service_refuses_a_custodian_that_is_not_utf8(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Whatever face calls it (the CLI refuses such bytes before the service sees them)."""
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "names")
    with pytest.raises(InputError, match="Custodian.*not UTF-8"):
        key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "s", 2, 2, ["A\udcff", "Bo"])
    assert not (tmp_path / "s").exists()


def test_custodian_names_are_written_stripped(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "names")
    res = key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "s", 2, 2,
                                        ["  Ann Lee ", "Bo"])
    assert key_backup.read_share_file(res.share_files[0])["custodian"] == "Ann Lee"
    assert res.audit.details["custodians"] == ["Ann Lee", "Bo"]


# -- 4. the share folder ----------------------------------------------------------------------

def test_a_share_folder_under_a_file_is_refused_up_front(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A raw 'Not a directory' OSError before; now the passphrase backup's refusal."""
    key_id = _key(cli_run)
    plain = tmp_path / "plain"
    plain.write_text("hi\n")
    r = cli_run("--json", "key", "backup", key_id[:12], "--out", str(plain / "sh"),
                "--shares", "2-of-3")
    assert r.code == 1, r.err
    assert f"Cannot write {plain / 'sh'}: {plain} is not a folder. Nothing was done." in r.err
    assert "Errno" not in r.err and "unexpected" not in r.err
    assert "key.backup" not in cli_run("--json", "audit", "list").out


# -- 3. shares of two backups ------------------------------------------------------------------

def test_share_one_of_two_backups_is_named_another_backup_not_the_same_share(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "twice backed")
    a = key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "a", 2, 3)
    b = key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "b", 2, 3)
    a1, b1 = a.share_files[0], b.share_files[0]
    assert a1.name == b1.name == "share-1-of-3.txt"
    with pytest.raises(Refusal) as exc:
        key_backup.restore_with_shares(ctx, [a1, b1])
    msg = exc.value.message
    assert "different backups" in msg and "same share" not in msg
    assert str(a1) in msg and str(b1) in msg  # the same file name: the folders are shown
    # b's shares with a's key file: the key file is the odd one out
    with pytest.raises(Refusal, match="another backup of this key than") as exc2:
        key_backup.restore_with_shares(ctx, [b1, b.share_files[1], a.files[0]])
    assert a.files[0].name in exc2.value.message
    # one share given twice from two folders (a copy): the same share, folders shown
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / a1.name).write_bytes(a1.read_bytes())
    with pytest.raises(InputError, match=r"same share \(number 1\)") as exc3:
        key_backup.restore_with_shares(ctx, [a1, copy / a1.name])
    assert str(copy / a1.name) in exc3.value.message


# -- 6. one key file; regular files only -------------------------------------------------------

def test_two_key_files_are_named_as_too_many(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "two files")
    a = key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "a", 2, 3)
    b = key_backup.backup_with_shares(ctx, info.key_id, tmp_path / "b", 2, 3)
    with pytest.raises(InputError) as exc:
        key_backup.restore_with_shares(ctx, [*a.share_files[:2], a.files[0], b.files[0]])
    msg = exc.value.message
    assert "2 encrypted key files" in msg and "only" in msg and "too" not in msg
    assert str(a.files[0]) in msg and str(b.files[0]) in msg


def test_a_fifo_is_refused_not_waited_on(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`key restore FIFO` blocked forever in open(): no writer ever comes."""
    fifo = tmp_path / "backup.smkikey"
    os.mkfifo(fifo)
    share = tmp_path / "share-1-of-2.txt"
    os.mkfifo(share)
    results: list[BaseException | None] = []

    def run() -> None:
        for call in (lambda: key_backup.restore_with_passphrase(ctx, fifo, PASS),
                     lambda: key_backup.restore_with_shares(ctx, [share])):
            try:
                call()
                results.append(None)
            except BaseException as exc:
                results.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader so that the test run can go on
        for p in (fifo, share):
            with open(os.open(p, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                pass
        t.join(5)
        pytest.fail("the restore blocked on a FIFO")
    assert len(results) == 2
    for exc, p in zip(results, (fifo, share), strict=True):
        assert isinstance(exc, InputError), exc
        assert str(p) in exc.message and "not a regular file" in exc.message


# -- 5. delete and restore ---------------------------------------------------------------------

def test_delete_names_the_recorded_backups_and_restore_says_the_key_was_deleted(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, tmp_path: Path) -> None:
    key_id = _key(cli_run, "to delete")
    pfile = tmp_path / "p.smkikey"
    sdir = tmp_path / "sh"
    assert cli_run("key", "backup", key_id[:12], "--out", str(pfile),
                   stdin=f"{PASS}\n{PASS}\n").code == 0
    assert cli_run("key", "backup", key_id[:12], "--out", str(sdir), "--shares",
                   "2-of-3").code == 0
    deleted = cli_run("--json", "key", "delete", key_id[:12], "--reason", "test")
    assert deleted.code == 0, deleted.err
    doc = deleted.json()
    assert [b["location"] for b in doc["backups"]] == [str(pfile), str(sdir)]
    assert [b["kind"] for b in doc["backups"]] == ["passphrase", "2-of-3 shares"]
    assert "2 recorded backups" in doc["warning"] and "2 recorded backups" in deleted.err
    # restored from its shares: allowed (an accidental delete), and said
    with secret_service_env(tmp_path / "kr"):
        restored = cli_run("--json", "key", "restore", "--shares",
                           str(sdir / "share-1-of-3.txt"), str(sdir / "share-2-of-3.txt"))
        assert restored.code == 0, restored.err
        warning = restored.json()["warning"]
        assert "was deleted in this environment" in warning and "test" in warning
        assert warning in restored.err
        again = cli_run("key", "delete", key_id[:12], "--reason", "on purpose")
        assert again.code == 0, again.err
        # the restore's own record is no backup made: the two backups are still the two
        assert "2 recorded backups" in again.out and str(pfile) in again.out
        text = cli_run("key", "restore", str(pfile), stdin=f"{PASS}\n")
        assert text.code == 0, text.err
        assert "was deleted in this environment" in text.out
        assert "on purpose" in text.out  # the latest deletion is the one named


def test_a_key_never_deleted_restores_not_called_deleted_and_a_delete_without_backups_is_quiet(  # type: ignore[no-untyped-def]
        cli_run, tmp_path: Path) -> None:
    key_id = _key(cli_run, "plain")
    out = tmp_path / "p.smkikey"
    assert cli_run("key", "backup", key_id[:12], "--out", str(out),
                   stdin=f"{PASS}\n{PASS}\n").code == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with secret_service_env(tmp_path / "kr"):
        r = cli_run("--json", "key", "restore", str(out), stdin=f"{PASS}\n", root=fresh)
        assert r.code == 0, r.err
        # not "deleted"; but the fresh folder has no record of the key, and says so
        [w] = r.json()["warnings"]
        assert "deleted" not in w and "has no record of key" in w
        assert r.json()["warning"] == w and w in r.err
    other = _key(cli_run, "never backed up")
    d = cli_run("--json", "key", "delete", other[:12], "--reason", "unused")
    assert d.code == 0 and d.json()["backups"] == [] and d.err == ""
    assert json.loads(d.out)["warning"] == ""
