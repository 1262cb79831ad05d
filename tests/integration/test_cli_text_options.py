"""Text typed on the command line: a byte that is not UTF-8 in a text option is refused before
the command runs (naming the option; exit 2, JSON under --json), while a path that exists on
disk may have any bytes in its name; and the Party profile's typed text is one line of plain
text, with whole-value formats."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_cert_import import PKI

RANGE = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"
NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # what Python makes of the bytes in argv: lone surrogates


@pytest.mark.parametrize("option,argv", [
    ("--cn", ("csr", "org", "--key", "abcdef", "--role", "supplier", "--eui",
              "90-B3-D5-1F-30-01-00-00", "--out", "x.csr", "--cn", NOT_UTF8)),
    ("--label", ("key", "generate", "--usage", "signing", "--label", f"bad{NOT_UTF8}")),
    ("--custodian", ("key", "backup", "abcdef", "--out", "sh", "--shares", "2-of-2",
                     "--custodian", f"A{NOT_UTF8}", "--custodian", "B")),
    ("--name", ("party", "set", "--name", f"Org{NOT_UTF8}", "--party-id", "ABCD",
                "--party-type", "gas-supplier", "--eui-range", RANGE)),
])
def test_text_option_with_non_utf8_bytes_is_refused_naming_it(  # type: ignore[no-untyped-def]
        cli_run, option: str, argv: tuple[str, ...]) -> None:
    r = cli_run("--json", *argv)
    assert r.code == 2, r.out + r.err
    doc = r.json()
    assert doc["kind"] == "UsageError"
    assert doc["error"].startswith(f"{option}: holds a byte that is not UTF-8")
    assert "Traceback" not in r.err
    r = cli_run(*argv)  # without --json: the message on stderr, same exit
    assert r.code == 2 and f"{option}: holds a byte that is not UTF-8" in r.err


def test_a_path_on_disk_may_have_any_bytes_in_its_name(  # type: ignore[no-untyped-def]
        cli_run, tmp_path: Path) -> None:
    pem = tmp_path / f"cert{NOT_UTF8}.pem"  # a legitimate Linux file name
    pem.write_bytes((PKI / "organisation" / "90b3d51f30000001-ds.pem").read_bytes())
    r = cli_run("--json", "lint", str(pem))  # a text argument naming a file that exists
    assert r.code == 0, r.out + r.err
    r = cli_run("--json", "cert", "import", "--at", "2024-06-01", str(pem))  # a Path argument
    assert r.code in (0, 1) and r.json()["status"] == "unmatched", r.out + r.err
    # the same name where no such file exists is text, not a path: refused
    r = cli_run("--json", "lint", str(tmp_path / f"missing{NOT_UTF8}.pem"))
    assert r.code == 2 and r.json()["error"].startswith("FILE: holds a byte")


@pytest.mark.parametrize("option,value,says", [
    ("--name", "Evil\nOrg\x07\x1b[31m", "Organisation name: holds the control or format "
                                        "character U+000A"),
    ("--name", "Org\u202e", "Organisation name: holds the control or format character U+202E"),
    ("--signifier", "sig\n", "Signifier 'sig\\n'"),
    ("--party-id", "ABCD\n", "Party ID 'ABCD\\n'"),
])
def test_party_text_is_one_line_of_plain_text(  # type: ignore[no-untyped-def]
        cli_run, option: str, value: str, says: str) -> None:
    argv = {"--name": "Org", "--party-id": "ABCD", "--party-type": "gas-supplier",
            "--eui-range": RANGE, option: value}
    r = cli_run("--json", "party", "set", *[w for kv in argv.items() for w in kv])
    assert r.code == 2, r.out + r.err
    assert r.json()["error"].startswith(says)
    shown = cli_run("--json", "party", "show")
    assert "\x1b" not in shown.out and "Evil" not in shown.out
