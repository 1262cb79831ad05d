"""Hostile text in a nomination: control, format and bidirectional characters are refused by
name (a line break only in a multiline field), a value for a field signed on paper is refused,
and entries stored before that rule never reach a terminal raw (`officer show`/`list`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.services import nomination as nom
from tests.integration.test_officer_cli import nominate, write_form


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("nominee__name", "Alice\u202eelpmaxE", "U+202E"),
    ("nominee__name", "Alice Example\x00", "U+0000"),
    ("nominee__job_title", "Head of PKI\x07\x1b[2J", "U+0007"),
    ("nominee__organisation", "Example Energy\u200b Ltd", "U+200B"),
    ("nominee__address", "1 High St\n\x1b]0;owned\x07", "U+001B"),
    ("nominator__name", "Dana\u2028Director", "U+2028"),
    ("nominee__job_title", "Head\x1f", "U+001F"),  # str.strip() would have dropped it
])
def test_control_and_format_characters_refused_naming_the_field(
        cli_run, tmp_path: Path, key: str, value: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    res = nominate(cli_run, tmp_path, "sro", "Alice Example", **{key: value})
    field = key.replace("__", ".")
    assert res.code == 2, res.out
    assert field in res.err and shown in res.err, res.err
    assert cli_run("--json", "officer", "list").json()["officers"] == []


def test_line_breaks_only_in_a_multiline_field(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = nominate(cli_run, tmp_path, "sro", "Alice Example",
                  nominee__address="1 High Street\nAnytown\nAB1 2CD")
    assert ok.code == 0, ok.err
    bad = nominate(cli_run, tmp_path, "aro", "Bob Aro", nominee__job_title="Head\nof PKI",
                   nominator__officer_id="SRO-0001", nominator__name="Dana Director")
    assert bad.code == 2 and "nominee.job_title" in bad.err and "U+000A" in bad.err, bad.err


@pytest.mark.parametrize("key", ["nominator__signature", "declarations__nominee_signature"])
def test_a_value_for_a_field_signed_on_paper_is_refused(cli_run, tmp_path: Path,
                                                        key: str) -> None:  # type: ignore[no-untyped-def]
    for value in ("Alice Example (signed electronically)", "X" * 900_000):
        res = nominate(cli_run, tmp_path, "sro", "Alice Example", **{key: value})
        assert res.code == 2, res.out
        assert key.replace("__", ".") in res.err and "signed by hand" in res.err, res.err[:300]
    assert cli_run("--json", "officer", "list").json()["officers"] == []


def test_print_blank_value_refused_by_the_service_and_the_schema(tmp_path: Path) -> None:
    schema = nom.get_form("sro")
    values = schema.example_values()
    values["declarations.nominee_signature"] = "Alice Example"
    errs = [str(e) for e in schema.validate(values)]
    assert any(e.startswith("declarations.nominee_signature") for e in errs), errs
    doc = schema.template_document()
    doc["nominator"]["signature"] = "Dana"
    p = tmp_path / "in.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"nominator\.signature"):
        nom.read_input(p, "sro")


def test_rows_stored_before_the_rule_are_shown_with_characters_named(
        ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    res = nominate(cli_run, tmp_path, "sro", "Alice Example")
    assert res.code == 0, res.err
    # as an entry stored by an earlier version could hold (U+001F, not NUL: a PostgreSQL text
    # column takes no NUL at all)
    with ctx.db.transaction() as c:
        c.execute("UPDATE officers SET name=?, job_title=? WHERE officer_id='SRO-0001'",
                  ("Alice\u202eelpmaxE\x1f", 'Head\x07\x1b[2J'))
    listed = cli_run("officer", "list")
    shown = cli_run("officer", "show", "SRO-0001")
    assert listed.code == 0 and shown.code == 0, listed.err + shown.err
    for out in (listed.out, shown.out):
        assert not any(ch in out for ch in "\x1f\x07\x1b\u202e"), repr(out)
    assert "Alice[U+202E]elpmaxE[U+001F]" in listed.out
    assert "Head[U+0007][U+001B][2J" in shown.out
    assert "Alice[U+202E]elpmaxE" in cli_run("--json", "officer", "show", "SRO-0001").out


def test_verification_text_is_plain(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert nominate(cli_run, tmp_path, "sro", "Alice Example").code == 0
    res = cli_run("officer", "verify", "SRO-0001", "--date", "2026-11-21", "--verifier",
                  "Vera\x1b[2J", "--evidence", "photo-id,photo-id-validated,second-evidence,"
                  "face-match")
    assert res.code == 2 and "Verifier" in res.err and "U+001B" in res.err, res.err


def test_a_formula_like_value_is_kept(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The forms are never exported to a spreadsheet: a leading '=' or '-' is plain text."""
    path = write_form(cli_run, tmp_path, "sro", "Alice Example",
                      nominee__job_title="-Head of PKI (=acting)")
    res = cli_run("--json", "officer", "nominate", "--form", "sro", "--from", str(path))
    assert res.code == 0, res.err
    assert res.json()["officer"]["job_title"] == "-Head of PKI (=acting)"
