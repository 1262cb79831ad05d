"""What `adt verify` says when only part of a signing set is wrong: an edited manifest is named
as the file changed after signing (not the data file), its environment is believed only once
its signature holds, a completed signing whose manifest is not beside the file is not called
interrupted, and a signature file that is not CMS at all is named without the parser's
internals."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.integration.adt_support import make_aro


def _signed(ctx, cli_run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id[:10], "--smsr", "SMSR-7")
    assert r.code == 0, r.err
    assert cli_run("adt", "verify", str(f)).code == 0
    return f


def _manifest(f: Path) -> Path:
    return f.with_name(f.name + ".manifest.json")


def test_an_edited_manifest_is_named_not_the_data_file(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = _signed(ctx, cli_run, tmp_path)
    m = _manifest(f)
    text = m.read_text()
    edited = re.sub(r'("signed_at": "\d{4})-', r'\g<1>9-', text, count=1)
    edited = edited.replace('"signed_at": "20269-', '"signed_at": "2025-')
    assert edited != text
    m.write_text(edited)
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 1, r.err
    error = r.json()["error"]
    assert f"The manifest {m} was changed after signing" in error
    assert "data file adt.csv was not the cause" in error
    assert "digest does not match" not in error


def test_a_test_manifest_edited_to_live_is_not_called_a_live_signature(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    f = _signed(ctx, cli_run, tmp_path)
    m = _manifest(f)
    m.write_text(m.read_text().replace('"environment": "test"', '"environment": "live"'))
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 1, r.err
    error = r.json()["error"]
    assert "was changed after signing" in error and str(m) in error
    assert "Live environment" not in error and r.json()["kind"] == "SignatureInvalid"


def test_a_completed_signing_without_its_manifest_is_not_called_interrupted(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    f = _signed(ctx, cli_run, tmp_path)
    elsewhere = tmp_path / "copied"
    elsewhere.mkdir()
    for p in (f, f.with_name(f.name + ".p7s")):
        shutil.copy(p, elsewhere / p.name)
    r = cli_run("adt", "verify", str(elsewhere / f.name))
    assert r.code == 1
    assert f"{elsewhere / 'adt.csv.manifest.json'} is missing" in r.err
    assert "interrupted" not in r.err and "Sign the file again" not in r.err
    assert "adt.csv.manifest.json.p7s" in r.err  # what to put back, both named
    # a temporary file of a killed signing left beside it: that is an interrupted signing
    (elsewhere / ".adt.csv.manifest.json.x1y2.part").write_bytes(b"{")
    r = cli_run("adt", "verify", str(elsewhere / f.name))
    assert r.code == 1 and "interrupted" in r.err


def test_a_signature_file_that_is_not_cms(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = _signed(ctx, cli_run, tmp_path)
    sig = f.with_name(f.name + ".p7s")
    msig = _manifest(f).with_name(_manifest(f).name + ".p7s")
    good = msig.read_bytes()
    msig.write_bytes(b"\x30\x84\x7f\xff\xff\xff" + b"garbage" * 10)
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 1
    assert r.json()["error"].startswith(f"{msig} is not a CMS signature file")
    assert "requested" not in r.err and "ValueError" not in r.err
    msig.write_bytes(good)
    for garbage in (b"\x30\x84\x7f\xff\xff\xff" + b"x" * 40, b"not a signature\n", b"\x30"):
        sig.write_bytes(garbage)
        shutil.copy(sig, tmp_path / "other.p7s")
        r = cli_run("adt", "verify", str(f), str(tmp_path / "other.p7s"),
                    "--json")
        assert r.code == 1, r.err
        error = r.json()["error"]
        assert error.startswith(f"{tmp_path / 'other.p7s'} is not a CMS signature file"), error
        assert "requested" not in error and "Error" not in error


def test_a_signature_changed_without_breaking_it_still_needs_its_manifest(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    """Attack review A8: a signature made here, given an unsigned attribute (or another
    certificate), still verifies but hashes differently; copied without its manifest it was
    taken for a file signed elsewhere (a warning, exit 0). The file's own hash is recorded too,
    and it cannot change."""
    from asn1crypto import cms

    f = _signed(ctx, cli_run, tmp_path)
    elsewhere = tmp_path / "copied"
    elsewhere.mkdir()
    shutil.copy(f, elsewhere / f.name)
    info = cms.ContentInfo.load(f.with_name(f.name + ".p7s").read_bytes())
    si = info["content"]["signer_infos"][0]
    si["unsigned_attrs"] = cms.CMSAttributes([cms.CMSAttribute(
        {"type": "content_type", "values": ["data"]})])
    (elsewhere / (f.name + ".p7s")).write_bytes(info.dump(force=True))
    r = cli_run("adt", "verify", str(elsewhere / f.name))
    assert r.code == 1, r.out
    assert f"{elsewhere / 'adt.csv.manifest.json'} is missing" in r.err
    assert re.search(r"signed here \(audit record \d+\)", r.err)
