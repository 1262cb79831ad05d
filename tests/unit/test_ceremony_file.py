"""The ceremony file's strict parsing and the transcript journal's chain (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.ceremony import parse_ceremony, parse_shares_spec
from smki_desktop.core.ceremony_transcript import (
    Journal,
    entry_line,
    make_entry,
    parse_journal,
    render_text,
)
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.resources_path import resource

EXAMPLE = resource("ceremony", "example.toml").read_text()


def _with(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new, 1)


def _line(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_example_parses_into_the_plan() -> None:
    plan = parse_ceremony(EXAMPLE, "example.toml", base_dir=Path("/media/usb"))
    assert plan.environment is Environment.TEST
    assert plan.output_dir == Path("/media/usb/ceremony-output")
    assert [k.name for k in plan.keys] == ["supplier-ds", "supplier-ka", "xml-sign"]
    assert [k.store for k in plan.keys] == ["token", "token", "keystore"]
    assert all(str(k.eui).startswith("90-B3-D5-1F-30-") for k in plan.keys)
    assert (plan.share_threshold, plan.share_count) == (3, 5)
    ids = [s.step_id for s in plan.steps()]
    assert ids == ["facts", "rehearsal", "key:supplier-ds", "csr:supplier-ds", "key:supplier-ka",
                   "csr:supplier-ka", "key:xml-sign", "csr:xml-sign", "backup:xml-sign",
                   "finish"]
    assert [s.step_id for s in plan.steps(rehearsal=True)] == ["facts", "rehearsal"]
    notes = plan.plan_notes()
    assert sum("no backup" in n for n in notes) == 2


@pytest.mark.parametrize(("old", "new", "words", "needle"), [
    ('purpose = "', 'colour = "blue"\npurpose = "', ["colour: unknown key"], "colour ="),
    ('label = "ceremony"', 'label = "ceremony"\npin = "1234"', ["token.pin", "never written"],
     "pin ="),
    ('witnesses = ["Wendy Witness"]', 'witnesses = []', ["roles.witnesses", "at least 1"],
     "witnesses ="),
    ('environment = "test"', 'environment = "staging"', ["environment", "'staging'"],
     "environment ="),
    ('store = "keystore"', 'store = "cloud"', ["keys[3].store", "'cloud'"], 'store = "cloud"'),
    ('usage = "key-agreement"', 'usage = "client-auth"', ["keys[2].usage"], None),
    ('backup = "none"', 'backup = "passphrase"', ["keys[1].backup", "non-exportable"], None),
    ('shares = 5', 'shares = 6', ["roles.custodians", "6 shares need 6"], "custodians ="),
    ('threshold = 3', 'threshold = 7', ["backup.threshold", "7-of-5"], "threshold ="),
    ('name = "supplier-ka"', 'name = "supplier-ds"', ["keys[2].name", "used by two keys"], None),
    ('eui = "90-B3-D5-1F-30-01-00-02"', 'eui = "90-B3-D5-1F-30-01-00"',
     ["keys[3].eui", "xml-sign", "not an EUI-64"], 'eui = "90-B3-D5-1F-30-01-00"'),
    ('role = "xmlSign"', 'role = "wizard"', ["keys[3].role", "not a Remote Party Role"],
     'role = "wizard"'),
    ('administrator = "Ada Aro"', 'administrator = "Wendy Witness"', ["cannot also be a witness"],
     None),
    ('format = "smki-ceremony/1"', 'format = "smki-ceremony/9"', ["format"], "format ="),
])
def test_bad_files_are_refused_naming_key_and_line(old: str, new: str, words: list[str],
                                                   needle: str | None) -> None:
    text = _with(old, new)
    with pytest.raises(InputError) as exc:
        parse_ceremony(text, "c.toml")
    for w in words:
        assert w in exc.value.message, exc.value.message
    if needle:
        assert f"c.toml, line {_line(text, needle)}:" in exc.value.message


def test_not_toml_is_refused() -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        parse_ceremony("purpose = ", "c.toml")


def test_shares_spec() -> None:
    assert parse_shares_spec("3-of-5") == (3, 5)
    assert parse_shares_spec("2 of 3") == (2, 3)
    for bad in ("5-of-3", "3/5", "0-of-2", "1-of-3", "3-of-17"):
        with pytest.raises(InputError):
            parse_shares_spec(bad)


def _journal(n: int) -> bytes:
    prev = "0" * 64
    out = b""
    for i in range(1, n + 1):
        e = make_entry(i, prev, f"s{i}", "done", "2026-01-01T00:00:00+00:00", {"i": i})
        prev = e["hash"]
        out += entry_line(e)
    return out


def test_journal_chain_detects_edits_and_torn_tail() -> None:
    data = _journal(4)
    j = parse_journal(data)
    assert len(j.entries) == 4 and set(j.done()) == {"s1", "s2", "s3", "s4"}
    lines = data.splitlines(keepends=True)
    with pytest.raises(InputError, match="line 2"):
        parse_journal(lines[0] + lines[1].replace(b'"i":2', b'"i":7') + b"".join(lines[2:]))
    with pytest.raises(InputError, match="chain is broken"):
        parse_journal(lines[0] + b"".join(lines[2:]))
    with pytest.raises(InputError, match="canonical"):
        parse_journal(lines[0].replace(b",", b", ", 1) + b"".join(lines[1:]))
    torn = data + lines[0][:10]
    with pytest.raises(InputError, match="incomplete"):
        parse_journal(torn)
    assert parse_journal(torn, allow_torn_tail=True).torn_tail


def test_text_transcript_has_places_for_witnesses() -> None:
    begin = make_entry(1, "0" * 64, "begin", "begin", "t", {
        "plan": {"ceremony_id": "c1", "environment": "test", "witnesses": ["W One", "W Two"],
                 "administrator": "Ada"}, "ceremony_file_sha256": "ab"})
    text = render_text(Journal((begin,)))
    assert text.count("Signature: ____") == 2 and "Witness: W Two" in text
    assert "TEST" in text


# -- hostile or careless files (review of issue 14) ----------------------------------------------

@pytest.mark.parametrize(("text", "words"), [
    (EXAMPLE + "\nx = " + "[" * 3000 + "]" * 3000 + "\n", ["nested too deeply"]),
    ("a = " + "{b=" * 3000 + "1" + "}" * 3000 + "\n" + EXAMPLE, ["nested too deeply"]),
    (_with("threshold = 3", "threshold = " + "9" * 5000), ["not a usable TOML value"]),
])
def test_hostile_toml_is_a_clear_input_error(text: str, words: list[str]) -> None:
    """Deep nesting and huge integers used to escape as RecursionError/ValueError tracebacks."""
    with pytest.raises(InputError) as exc:
        parse_ceremony(text, "evil.toml")
    assert "evil.toml" in exc.value.message
    for w in words:
        assert w in exc.value.message


@pytest.mark.parametrize(("old", "new", "field"), [
    # a newline in a name forges lines (a fake signature) in the printed transcript
    ('witnesses = ["Wendy Witness"]',
     'witnesses = ["Wendy Witness\\nSignature: W. Witness (signed)   Date: today"]',
     "roles.witnesses"),
    ('administrator = "Ada Aro"', 'administrator = "Ada\\rAro"', "roles.administrator"),
    ('purpose = "', 'purpose = "\\u0000', "purpose"),
    ('administrator = "Ada Aro"', 'administrator = "Ada \\u202eorA"', "roles.administrator"),
    ('custodians = ["Cara One"', 'custodians = ["Cara\\u2028One"', "roles.custodians"),
    ('name = "supplier-ds"\nrole = "supplier"', 'name = "supplier-ds"\nrole = "supplier"\n'
     'cn = "x\\ny"', "keys[1].cn"),
])
def test_control_and_format_characters_are_refused(old: str, new: str, field: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_ceremony(_with(old, new), "c.toml")
    assert field in exc.value.message and "control or format character" in exc.value.message


@pytest.mark.parametrize(("new", "said"), [
    ('custodians = ["Cara One", "Cal Two", "", ', "name 3 of 6 is empty"),
    ('custodians = ["Cara One", "Cal Two", "cara  one", ', "the name 'cara  one' is given twice"),
    ('custodians = ["Cara One", "Cal Two", "Cara-One", ',
     "'Cara One' and 'Cara-One' differ only in spaces or punctuation"),
    ('custodians = ["Cara One", "Cal Two", "--", ', "'--' needs letters or digits"),
])
def test_a_bad_custodian_list_names_the_entry(new: str, said: str) -> None:
    """'roles.custodians: must be a list of names' for a list with one empty name, and a
    repeated name refused without saying which."""
    old = 'custodians = ["Cara One", "Cal Two", '
    text = _with(old, new)
    with pytest.raises(InputError) as exc:
        parse_ceremony(text, "c.toml")
    assert "roles.custodians" in exc.value.message and said in exc.value.message, \
        exc.value.message


def test_a_one_share_threshold_is_refused_as_the_cli_does() -> None:
    with pytest.raises(InputError, match=r"backup\.threshold.*plain copy"):
        parse_ceremony(_with("threshold = 3", "threshold = 1"), "c.toml")


@pytest.mark.parametrize("line", ["# token PIN: 1234", "# user pin = 87654321",
                                  'purpose = "keys; the password is Hunter2"',
                                  "#passphrase:'horse42battery'"])
def test_a_secret_in_a_comment_or_text_is_refused(line: str) -> None:
    """The whole ceremony file is copied into the transcript: a PIN in a comment was
    published with it."""
    text = _with('purpose = "', line + '\npurpose = "') if line.startswith("#") else \
        EXAMPLE.replace(next(ln for ln in EXAMPLE.splitlines() if ln.startswith("purpose")),
                        line, 1)
    with pytest.raises(InputError) as exc:
        parse_ceremony(text, "c.toml")
    assert f"line {_line(text, line)}:" in exc.value.message
    assert "looks like a PIN or passphrase" in exc.value.message


def test_words_about_secrets_without_one_are_fine() -> None:
    text = _with('purpose = "', '# PINs are asked at the token; the backup passphrase too\n'
                 'purpose = "')
    parse_ceremony(text, "c.toml")


@pytest.mark.parametrize("witnesses", ['["Ann Lee", "Ann-Lee"]', '["Ann Lee", "ann  lee"]',
                                       '["Wendy", "---"]'])
def test_witness_names_that_share_a_signature_file_are_refused(witnesses: str) -> None:
    """'Ann Lee' and 'Ann-Lee' both signed into witness-ann-lee.p7s."""
    with pytest.raises(InputError, match="roles.witnesses"):
        parse_ceremony(_with('witnesses = ["Wendy Witness"]', f"witnesses = {witnesses}"),
                       "c.toml")
