"""Key backup rules found by review 2: custodians are distinct people named in plain text; a
share folder that cannot be made is refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup


def _key(cli_run, label: str = "k") -> str:  # type: ignore[no-untyped-def]
    r = cli_run("--json", "key", "generate", "--usage", "signing", "--label", label)
    assert r.code == 0, r.err
    return str(r.json()["key_id"])


# -- 1. custodians ------------------------------------------------------------------------------

@pytest.mark.parametrize(("names", "said"), [
    (["Alice", "Alice", "Bob"], "'Alice' is given twice"),
    (["Alice", " alice  ", "Bob"], "'alice' is given twice"),  # case and spacing ignored
    (["Ann Lee", "Ann-Lee", "Bob"], "'Ann Lee' and 'Ann-Lee' differ only in spaces"),
    (["", "Bob", "Cy"], "name is empty"),
    (["  ", "Bob", "Cy"], "name is empty"),
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
    assert "Custodian" in r.err and said in r.err, r.err
    assert "--custodian" in r.err  # the face's hint names the option
    assert not out.exists()
    assert "key.backup" not in cli_run("--json", "audit", "list").out


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
